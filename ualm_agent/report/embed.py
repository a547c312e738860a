"""Files inside the page: data URIs for pictures and a small FLAC of each round."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np

from ..schema import AudioRef

# The page plays and draws audio at this rate: enough for every label the listener knows,
# and a third of the bytes of the 48 kHz round file.
PAGE_RATE = 16000
# Channels differing by less than this (peak, linear) are played as one: the page stays half the size.
STEREO_TOLERANCE = 1e-3


def data_uri(payload: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def locate(ref: AudioRef | None, run_dir: Path, fallback: str) -> Path | None:
    """The round's audio file inside ``run_dir``: where the summary says, else by its usual name.

    Only files inside the folder being rendered count (links resolved), so a copied folder's page
    never embeds the original's audio, nor a summary's path any file elsewhere.
    """
    candidates = [ref.resolve(run_dir)] if ref is not None else []
    candidates.append(run_dir / fallback)
    root = run_dir.resolve()
    for path in candidates:
        if path.is_file() and path.resolve().is_relative_to(root):
            return path
    return None


AUDIO_MIME = "audio/flac"


def page_audio(path: Path) -> tuple[np.ndarray, bytes, int]:
    """(mono samples for the spectrogram, 16-bit FLAC bytes for the player, channels in that FLAC).

    FLAC is lossless, plays in every current browser, and is a third to a half the size of WAV.
    """
    import soundfile as sf

    from ..audio import read_audio, resample

    audio = resample(read_audio(path), PAGE_RATE)
    samples = audio.samples
    if audio.channels > 2 or (audio.channels == 2 and np.max(np.abs(samples[0] - samples[1])) < STEREO_TOLERANCE):
        samples = samples.mean(axis=0, keepdims=True)
    buf = io.BytesIO()
    sf.write(buf, np.clip(samples.T, -1.0, 1.0), PAGE_RATE, format="FLAC", subtype="PCM_16")
    return audio.mono(), buf.getvalue(), int(samples.shape[0])
