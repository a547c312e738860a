"""Audio I/O and signal helpers built on soundfile, soxr and pyloudnorm."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .errors import AudioInputError
from .files import atomic_write_bytes
from .schema import AudioRef
from .waveform import Waveform

SILENCE_PEAK = 1e-4


def read_audio(path: str | Path) -> Waveform:
    """Read any soundfile-supported file; clear errors for missing/empty/corrupt input."""
    import soundfile as sf

    from .audio_stream import probe_audio, unreadable

    source = probe_audio(path)
    try:
        data, rate = sf.read(str(source.path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise unreadable(source.path, exc) from None
    if data.shape[0] == 0:
        raise AudioInputError(f"audio file has no samples: {source.path}")
    return Waveform(data.T.copy(), int(rate))


def write_audio(path: str | Path, audio: Waveform, *, base: str | Path | None = None) -> AudioRef:
    """Write 16-bit PCM WAV atomically and return its reference (its path relative to ``base`` when given)."""
    import soundfile as sf

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # Quantise here (faster than libsndfile's float path) so the samples a later
    # read returns are known without reading: int16 / 32768.
    pcm = np.round(np.clip(audio.samples.T, -1.0, 32767 / 32768) * 32768).astype(np.int16)
    # Encoded in memory and written by plain file I/O: a full disk is an OSError (ENOSPC)
    # naming the file, not an opaque libsndfile error.
    buf = io.BytesIO()
    sf.write(buf, pcm, audio.sample_rate, subtype="PCM_16", format="WAV")
    data = buf.getvalue()
    atomic_write_bytes(p, data)
    ref = AudioRef(
        path=os.path.relpath(p, base) if base is not None else str(p),
        sample_rate=audio.sample_rate,
        channels=audio.channels,
        duration_s=round(audio.duration_s, 6),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    _remember(ref.sha256, Waveform((pcm.T / np.float32(32768)).astype(np.float32), audio.sample_rate))
    return ref


def load_ref(ref: AudioRef, base: str | Path | None = None) -> Waveform:
    """The referenced audio (resolved against the run folder ``base``); recently written files come
    from memory (same samples, keyed by hash)."""
    with _RECENT_LOCK:
        cached = _RECENT.get(ref.sha256)
    if cached is not None:
        return cached
    return read_audio(ref.resolve(base) if base is not None else ref.path)


# The last few files written, by content hash: the next graph node reads what the
# previous one wrote, and a hash names exactly the samples on disk.
_RECENT: OrderedDict[str, Waveform] = OrderedDict()
_RECENT_LOCK = threading.Lock()
_RECENT_SIZE = 4


def _remember(sha256: str, audio: Waveform) -> None:
    with _RECENT_LOCK:
        _RECENT[sha256] = audio
        _RECENT.move_to_end(sha256)
        while len(_RECENT) > _RECENT_SIZE:
            _RECENT.popitem(last=False)


def resample(audio: Waveform, rate: int) -> Waveform:
    if audio.sample_rate == rate:
        return audio
    import soxr

    out = soxr.resample(audio.samples.T, audio.sample_rate, rate, quality="HQ")
    return Waveform(np.asarray(out, dtype=np.float32).reshape(-1, audio.channels).T, rate)


def fit_length(samples: np.ndarray, frames: int) -> np.ndarray:
    """``samples`` ([..., n]) cut or zero-padded to exactly ``frames`` along the last axis."""
    if samples.shape[-1] >= frames:
        return samples[..., :frames]
    pad = [(0, 0)] * (samples.ndim - 1) + [(0, frames - samples.shape[-1])]
    return np.pad(samples, pad)


def to_mono(audio: Waveform) -> Waveform:
    return audio if audio.channels == 1 else Waveform(audio.mono()[None, :], audio.sample_rate)


def check_signal(audio: Waveform) -> str:
    """'' for usable audio, else why not (NaN/inf, silence, no samples)."""
    if audio.frames == 0:
        return "no samples"
    if not np.all(np.isfinite(audio.samples)):
        return "contains NaN or infinite samples"
    if float(np.max(np.abs(audio.samples))) < SILENCE_PEAK:
        return "is silent"
    return ""


def loudness_lufs(audio: Waveform) -> float | None:
    """Integrated loudness (ITU-R BS.1770) of any channel count, or None for clips too short/quiet to gate."""
    from .loudness import LoudnessMeter

    meter = LoudnessMeter(audio.sample_rate, audio.channels)
    block = 10 * audio.sample_rate  # the meter filters in float64: 10 s at a time keeps that small
    for start in range(0, audio.frames, block):
        meter.add(audio.samples[:, start : start + block].T)
    return meter.integrated()


def front_pair(channels: int) -> tuple[int, int] | None:
    """The (left, right) channels that stereo balance compares, or None when there are none.

    Channels 0 and 1 are front left and front right in the WAVE_FORMAT_EXTENSIBLE /
    SMPTE order libsndfile reads (and in every standard layout up to 7.1); a file with
    more than 8 channels names no layout, so it has no left/right to compare.
    """
    return (0, 1) if 2 <= channels <= 8 else None


def stereo_balance(samples: np.ndarray) -> float:
    """(R - L) / (R + L) energy of the front pair, in [-1, 1]; 0 for mono, silence or no known layout."""
    pair = front_pair(samples.shape[0]) if samples.ndim == 2 else None
    if pair is None:
        return 0.0
    left = float(np.sum(samples[pair[0]].astype(np.float64) ** 2))
    right = float(np.sum(samples[pair[1]].astype(np.float64) ** 2))
    return balance_of(left, right)


def balance_of(left_energy: float, right_energy: float) -> float:
    total = left_energy + right_energy
    return 0.0 if total <= 1e-12 else (right_energy - left_energy) / total
