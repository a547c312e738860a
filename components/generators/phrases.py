"""Musical material: short phrases, chords and rhythms that make an instrument recognisable.

Each pattern returns the notes for one occurrence of ``duration_s`` seconds.
``single`` marks one counted repeat: percussive patterns then play one stroke so
the repeats stay countable. The random generator picks the variation (melody,
tempo, chord voicing), so a different seed or round sounds different.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .soundfont import Note

Pattern = Callable[[float, tuple[int, ...], np.random.Generator, bool], list[Note]]
PATTERNS: dict[str, Pattern] = {}

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_PROGRESSIONS = (((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)), ((0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7)))


def pattern(name: str) -> Callable[[Pattern], Pattern]:
    def deco(fn: Pattern) -> Pattern:
        PATTERNS[name] = fn
        return fn

    return deco


def _steps(d: float, step_s: float) -> Iterator[tuple[int, float]]:
    """Index and onset of each step of ``step_s`` that starts before the end of ``d`` seconds.

    Onsets accumulate step by step (not ``i * step_s``), the timing the patterns were tuned with.
    """
    t, i = 0.0, 0
    while t < d - 0.05:
        yield i, t
        t += step_s
        i += 1


def _scale_key(base: int, degree: int) -> int:
    octave, step = divmod(degree, len(_MAJOR))
    return base + 12 * octave + _MAJOR[step]


@pattern("melody")
def melody(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """A looping tune: a random walk on the major scale with a simple rhythm."""
    base = int(rng.choice(keys))
    beat = float(rng.choice([0.25, 0.3, 0.35]))
    rhythms = ([2, 1, 1, 2, 2], [1, 1, 2, 1, 1, 2], [2, 2, 1, 1, 2])
    rhythm = rhythms[int(rng.integers(len(rhythms)))]
    degree = int(rng.integers(0, 5))
    phrase: list[tuple[int, float]] = []
    for beats in list(rhythm) * 2:
        phrase.append((degree, beats * beat))
        degree = int(np.clip(degree + rng.choice([-2, -1, 1, 2, 3]), -2, 9))
    notes, t, i = [], 0.0, 0
    while t < d - 0.05:
        deg, length = phrase[i % len(phrase)]
        notes.append(Note(t, length * 0.9, _scale_key(base, deg), int(rng.integers(85, 110))))
        t += length
        i += 1
    return notes


@pattern("legato")
def legato(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """Long bowed notes moving by scale steps, one at a time (violins, string sections)."""
    base = int(rng.choice(keys))
    length = float(rng.choice([0.7, 0.8, 0.9]))
    return [Note(t, length, base + int(rng.choice([0, 2, 4, 5, 7, 9, 12])), 100) for _, t in _steps(d, length)]


@pattern("fanfare")
def fanfare(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """A brass call: triad arpeggio with a dotted rhythm and a held top note."""
    base = int(rng.choice(keys))
    beat = float(rng.choice([0.2, 0.25]))
    call = [(0, 1.5), (4, 0.5), (7, 1), (12, 3), (7, 1), (12, 4)]
    if rng.random() < 0.5:
        call = [(7, 1), (7, 0.5), (7, 0.5), (12, 2), (4, 1), (7, 3)]
    notes, t, i = [], 0.0, 0
    while t < d - 0.05:
        step, beats = call[i % len(call)]
        notes.append(Note(t, beats * beat * 0.92, base + step, 110))
        t += beats * beat
        i += 1
        if i % len(call) == 0:
            t += beat * 2
    return notes


@pattern("chords")
def chords(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """Sustained chords changing every 1-2 s (organs, strings, choirs)."""
    base = int(rng.choice(keys))
    length = float(rng.choice([1.0, 1.5, 2.0]))
    prog = _PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))]
    notes: list[Note] = []
    for i, t in _steps(d, length):
        for step in prog[i % len(prog)]:
            notes.append(Note(t, length * 0.97, base + step, 95))
        notes.append(Note(t, length * 0.97, base - 12 + prog[i % len(prog)][0], 90))
    return notes


@pattern("arpeggio")
def arpeggio(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """Broken chords, as a guitar or harp plays them."""
    base = int(rng.choice(keys))
    step_s = float(rng.choice([0.15, 0.18, 0.22]))
    prog = _PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))]
    notes: list[Note] = []
    for i, t in _steps(d, step_s):
        chord = prog[(i // 8) % len(prog)]
        tones = [chord[0] - 12, chord[0], chord[1], chord[2], chord[0] + 12, chord[2], chord[1], chord[0]]
        notes.append(Note(t, step_s * 3, base + tones[i % 8], int(rng.integers(80, 105))))
    return notes


@pattern("strum")
def strum(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    base = int(rng.choice(keys))
    period = float(rng.choice([0.4, 0.5, 0.6]))
    prog = _PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))]
    notes: list[Note] = []
    for i, t in _steps(d, period):
        chord = prog[(i // 4) % len(prog)]
        for j, step in enumerate((chord[0] - 12, chord[0], chord[1], chord[2], chord[0] + 12)):
            notes.append(Note(t + 0.015 * j, period * 1.5, base + step, 100))
    return notes


@pattern("hold")
def hold(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """One sustained note, re-struck every few seconds (looped sound effects)."""
    key = int(rng.choice(keys))
    return [Note(t, min(3.0, d - t), key, 110) for _, t in _steps(d, 3.0)]


@pattern("strikes")
def strikes(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """Single strokes (bells, gongs, shots) about once a second."""
    period = float(rng.choice([0.9, 1.1, 1.3]))
    notes: list[Note] = []
    for _, t in _steps(d, period):
        notes.append(Note(t, min(period, 2.0), int(rng.choice(keys)), 115))
        if single:
            break
    return notes


@pattern("ding_dong")
def ding_dong(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    base = int(rng.choice(keys))
    notes: list[Note] = []
    for _, t in _steps(d, 2.2):
        notes += [Note(t, 0.6, base + 4, 110), Note(t + 0.55, 1.2, base, 110)]
        if single:
            break
    return notes


@pattern("sparkle")
def sparkle(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """Random high notes at irregular times (wind chimes)."""
    base = int(rng.choice(keys))
    notes, t = [], 0.0
    while t < d - 0.05:
        notes.append(Note(t, 1.0, base + int(rng.choice([0, 2, 4, 7, 9, 12, 14])), int(rng.integers(70, 110))))
        t += float(rng.uniform(0.08, 0.35))
    return notes


@pattern("rapid")
def rapid(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """Fast repeats (machine gun, firecrackers, a drum roll)."""
    period = float(rng.choice([0.08, 0.1, 0.12]))
    length = min(d, 0.8) if single else d
    burst = float(rng.uniform(0.8, 1.5))
    notes, t = [], 0.0
    while t < length - 0.03:
        notes.append(Note(t, period, int(rng.choice(keys)), int(rng.integers(95, 125))))
        t += period
        if not single and (t % (burst + 0.5)) > burst:
            t += 0.5
    return notes


@pattern("beat")
def beat(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """A drum-kit groove: kick, snare on the back beat, eighth-note hi-hats, a crash to start."""
    step = 60.0 / float(rng.choice([100, 110, 120, 130])) / 2  # eighth notes
    grooves = ((0, 4), (0, 3, 4), (0, 4, 6), (0, 2, 5))
    kicks = grooves[int(rng.integers(len(grooves)))]
    notes, i = [Note(0.0, 1.0, 49, 110)], 0
    while i * step < d - 0.05:
        t, pos = i * step, i % 8
        notes.append(Note(t, step, 42, 80 + 20 * (pos % 2 == 0)))
        if pos in kicks:
            notes.append(Note(t, step, 36, 120))
        if pos in (2, 6):
            notes.append(Note(t, step, 38, 115))
        if single:
            break
        i += 1
    return notes


@pattern("drum_hits")
def drum_hits(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    """One drum or cymbal struck in a steady rhythm."""
    period = float(rng.choice([0.25, 0.3, 0.5])) if len(keys) > 1 else float(rng.choice([0.4, 0.5, 0.6]))
    notes: list[Note] = []
    for i, t in _steps(d, period):
        notes.append(Note(t, period, keys[i % len(keys)], int(rng.integers(100, 125))))
        if single:
            break
    return notes


@pattern("eighths")
def eighths(d: float, keys: tuple[int, ...], rng: np.random.Generator, single: bool) -> list[Note]:
    step = float(rng.choice([0.2, 0.23, 0.25]))
    notes: list[Note] = []
    for i, t in _steps(d, step):
        notes.append(Note(t, step, keys[i % len(keys)], 90 + 25 * (i % 2 == 0)))
        if single:
            break
    return notes
