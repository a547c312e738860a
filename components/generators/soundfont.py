"""Render timed MIDI notes from a General MIDI soundfont with tinysoundfont."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

DRUM_CHANNEL = 9
DRUM_BANK = 128


@dataclass(frozen=True)
class Note:
    start_s: float
    duration_s: float
    key: int
    velocity: int = 100


@cache
def _soundfont_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def render_notes(
    soundfont: str,
    notes: list[Note],
    duration_s: float,
    *,
    program: int = 0,
    drums: bool = False,
    sample_rate: int = 16000,
) -> np.ndarray:
    """Mono float32 of ``duration_s`` with ``notes`` played on one GM program (or the drum kit).

    A fresh synthesiser per call keeps renders independent of each other, so the
    same notes always give the same samples (loading the 6 MB font takes ~30 ms).
    """
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=sample_rate)
    sfid = synth.sfload(_soundfont_bytes(soundfont))
    chan = DRUM_CHANNEL if drums else 0
    synth.program_select(chan, sfid, DRUM_BANK if drums else 0, program, drums)

    total = max(1, int(round(duration_s * sample_rate)))
    events: list[tuple[int, int, int, int]] = []  # (frame, 0=off/1=on, key, velocity)
    for note in notes:
        on = int(round(note.start_s * sample_rate))
        if on >= total:
            continue
        off = min(total, on + max(1, int(round(note.duration_s * sample_rate))))
        events.append((on, 1, note.key, note.velocity))
        events.append((off, 0, note.key, 0))
    events.sort()

    out = np.zeros(total, dtype=np.float32)
    pos = 0
    for frame, is_on, key, velocity in events:
        if frame > pos:
            out[pos:frame] = _generate(synth, frame - pos)
            pos = frame
        if is_on:
            synth.noteon(chan, key, velocity)
        else:
            synth.noteoff(chan, key)
    if pos < total:
        out[pos:total] = _generate(synth, total - pos)
    return out


def _generate(synth, frames: int) -> np.ndarray:
    stereo = np.frombuffer(synth.generate(frames), dtype=np.float32).reshape(-1, 2)
    return stereo.mean(axis=1)
