"""Audio files read in blocks, for files too long to hold in memory.

``probe_audio`` checks a file the way ``read_audio`` does (same one-line
errors) and says how big it is decoded; ``read_blocks`` yields it in
[frames, channels] float32 blocks; ``MonoResampler`` turns mono blocks into a
model's rate with soxr's streaming resampler, which gives exactly the samples
a one-shot ``soxr.resample`` of the whole signal gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AudioInputError

# Listeners that stream take files decoded larger than this in blocks (2.9 min of
# 48 kHz stereo, 8.7 min of 16 kHz mono); smaller ones are read whole, as the
# graph's own clips are (up to 60 s of 48 kHz stereo, 22 MiB).
STREAM_ABOVE_BYTES = 32 * 2**20
# Listeners that cannot stream read the whole file; past this they refuse it.
WHOLE_FILE_LIMIT_BYTES = 512 * 2**20


@dataclass(frozen=True)
class AudioFileInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    @property
    def decoded_bytes(self) -> int:
        """Size of the whole file as float32 samples."""
        return self.frames * self.channels * 4


def probe_audio(path: str | Path) -> AudioFileInfo:
    """Rate, channels and length of a readable, non-empty audio file; AudioInputError otherwise."""
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise AudioInputError(f"audio file not found: {p}")
    if p.is_dir():
        raise AudioInputError(f"expected an audio file, got a folder: {p}")
    if not p.is_file():  # a pipe or a device: no length to read, nor a way back to re-read it
        raise AudioInputError(f"{p} is not a regular file (a pipe or a device); save the audio to a file and give its path")
    if p.stat().st_size == 0:
        raise AudioInputError(f"audio file is empty: {p}")
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise unreadable(p, exc) from None
    if info.frames <= 0:
        raise AudioInputError(f"audio file has no samples: {p}")
    return AudioFileInfo(p, int(info.samplerate), int(info.channels), int(info.frames))


def unreadable(path: Path, exc: Exception) -> AudioInputError:
    return AudioInputError(f"cannot read {path} as audio ({short_reason(exc)}); use WAV, FLAC or OGG")


def short_reason(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__


def read_blocks(source: AudioFileInfo, block_frames: int) -> Iterator[np.ndarray]:
    """The file's samples as [frames, channels] float32 blocks of ``block_frames`` (the last may be shorter)."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(source.path)) as f:
            while True:
                block = f.read(block_frames, dtype="float32", always_2d=True)
                if not len(block):
                    return
                yield block
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise unreadable(source.path, exc) from None


def downmix(block: np.ndarray) -> np.ndarray:
    """Mono of a [frames, channels] block: the channel mean, summed in the order
    ``Waveform.mono`` sums, so a streamed file gives the samples a whole read gives."""
    mono = block[:, 0].copy()
    for c in range(1, block.shape[1]):
        mono += block[:, c]
    if block.shape[1] > 1:
        mono /= np.float32(block.shape[1])
    return mono


class MonoResampler:
    """Mono blocks at ``in_rate`` to ``out_rate`` (soxr HQ), carrying the filter state across blocks."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self._same = in_rate == out_rate
        if not self._same:
            import soxr

            self._stream = soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="HQ")

    def push(self, mono: np.ndarray, *, last: bool = False) -> np.ndarray:
        if self._same:
            return mono
        return self._stream.resample_chunk(np.ascontiguousarray(mono, dtype=np.float32), last=last)

    def finish(self) -> np.ndarray:
        return self.push(np.zeros(0, dtype=np.float32), last=True)
