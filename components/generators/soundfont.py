"""Render timed MIDI notes from a General MIDI soundfont with tinysoundfont."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

import numpy as np

DRUM_CHANNEL = 9
DRUM_BANK = 128
# Rendered and dropped after a reset: tinysoundfont's reset only starts a quick release,
# and the voices must be silent (and free) before the next render so it matches a fresh synth.
_FLUSH_FRAMES = 4096


@dataclass(frozen=True)
class Note:
    start_s: float
    duration_s: float
    key: int
    velocity: int = 100
    # The GM program that plays this note (None: the render's own program), or the drum kit:
    # a band's notes name their instruments and play together in one render.
    program: int | None = None
    drums: bool = False


class _LoadedFont:
    """A parsed soundfont reused across renders: FluidR3 takes ~1.5 s to parse, TimGM6mb ~0.1 s."""

    def __init__(self, path: str, sample_rate: int) -> None:
        import tinysoundfont

        self.synth = tinysoundfont.Synth(samplerate=sample_rate)
        self.sfid = self.synth.sfload(path)
        self.lock = threading.Lock()

    def reset(self) -> None:
        self.synth.notes_off()
        self.synth._get_soundfont(self.sfid).reset()
        self.synth.generate(_FLUSH_FRAMES)


@cache
def _loaded(path: str, sample_rate: int) -> _LoadedFont:
    return _LoadedFont(path, sample_rate)


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

    The parsed font is kept, and every voice is stopped and flushed before each render, so
    renders stay independent of each other: the same notes always give the same samples.
    """
    font = _loaded(soundfont, sample_rate)
    with font.lock:
        font.reset()
        return _render(font, notes, duration_s, program, drums, sample_rate)


def _render(font: _LoadedFont, notes: list[Note], duration_s: float, program: int, drums: bool,
            sample_rate: int) -> np.ndarray:
    synth = font.synth
    channels = _channels(notes, program, drums)
    for (prog, is_drums), chan in channels.items():
        synth.program_select(chan, font.sfid, DRUM_BANK if is_drums else 0, prog, is_drums)

    total = max(1, int(round(duration_s * sample_rate)))
    events: list[tuple[int, int, int, int, int]] = []  # (frame, 0=off/1=on, channel, key, velocity)
    for note in notes:
        on = int(round(note.start_s * sample_rate))
        if on >= total:
            continue
        off = min(total, on + max(1, int(round(note.duration_s * sample_rate))))
        chan = channels[_voice(note, program, drums)]
        events.append((on, 1, chan, note.key, note.velocity))
        events.append((off, 0, chan, note.key, 0))
    events.sort()

    out = np.zeros(total, dtype=np.float32)
    pos = 0
    for frame, is_on, chan, key, velocity in events:
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


def _voice(note: Note, program: int, drums: bool) -> tuple[int, bool]:
    """(program, is drum kit) of the instrument playing ``note``; a band's drums use the standard kit."""
    if note.drums:
        return (program if drums else 0, True)
    return (program, drums) if note.program is None else (note.program, False)


def _channels(notes: list[Note], program: int, drums: bool) -> dict[tuple[int, bool], int]:
    """A MIDI channel per instrument: the drum kit on channel 10, the render's own program on
    channel 1 (as a one-instrument render always had), the band's other programs on the rest."""
    free = [c for c in range(16) if c not in (0, DRUM_CHANNEL)]
    channels: dict[tuple[int, bool], int] = {}
    for voice in dict.fromkeys([(program, drums)] + [_voice(n, program, drums) for n in notes]):
        if voice[1]:
            channels[voice] = DRUM_CHANNEL
        else:
            channels[voice] = 0 if voice == (program, drums) else free.pop(0)
    return channels


def _generate(synth, frames: int) -> np.ndarray:
    stereo = np.frombuffer(synth.generate(frames), dtype=np.float32).reshape(-1, 2)
    return stereo.mean(axis=1)
