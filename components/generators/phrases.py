"""Musical material: short phrases, chords and rhythms that make an instrument recognisable.

Each pattern returns the notes for one occurrence of ``duration_s`` seconds.
``single`` marks one counted repeat: percussive patterns then play one stroke so
the repeats stay countable. The random generator picks the variation (melody,
tempo, chord voicing), so a different seed or round sounds different.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .soundfont import Note

Pattern = Callable[[float, tuple[int, ...], np.random.Generator, bool], list[Note]]
PATTERNS: dict[str, Pattern] = {}

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
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


def _scale_key(base: int, degree: int, scale: tuple[int, ...] = _MAJOR) -> int:
    octave, step = divmod(degree, len(scale))
    return base + 12 * octave + scale[step]


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


# --- Bands: genres as several instruments playing one groove --------------------------------------
#
# A band is written on a grid of sixteenth notes, one bar = 16 steps, as drum-machine rows:
# drums "X" accent, "x" hit, "o" ghost; bass and chords "x" (or a chord tone, below) starts a
# note, "-" holds it, "." rests. The lead plays the recipe's own program, so a recipe's
# programs pick the lead and the rest of the band stays the genre's.

_HARMONY = {
    "major": ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)),
    "minor": ((0, 3, 7), (8, 12, 15), (3, 7, 10), (10, 14, 17)),
    "blues": ((0, 4, 7, 10), (5, 9, 12, 15), (0, 4, 7, 10), (7, 11, 14, 17)),
    "jazz": ((2, 5, 9, 12), (7, 11, 14, 17), (0, 4, 7, 11), (9, 12, 16, 19)),
    "vamp": ((0, 3, 7, 10), (0, 3, 7, 10), (5, 9, 12, 15), (5, 9, 12, 15)),
    "dark": ((0, 3, 7), (1, 5, 8), (0, 3, 7), (6, 10, 13)),
}
_VELOCITY = {"X": 122, "x": 100, "o": 60}
# Bass-line letters: root, fifth, octave, third, seventh of the chord sounding.
_BASS_TONE = {"x": 0, "r": 0, "f": 7, "o": 12, "t": None, "s": 10}


@dataclass(frozen=True)
class Band:
    bpm: tuple[int, ...]
    drums: dict[int, str] = field(default_factory=dict)
    # (program, row) pairs; "p" chords play the top three tones, "5" power chords root+fifth+octave.
    bass: tuple[int, str] | None = None
    comp: tuple[int, str, str] | None = None
    # The lead's rhythm row, on the recipe's program; "" for no lead.
    lead: str = "x-x-x.x-x---x.x."
    harmony: str = "major"
    # Sixteenths per chord.
    chord_steps: int = 16
    # How late the off-beat eighths fall, as a fraction of a sixteenth (0.67: a triplet swing).
    swing: float = 0.0
    # Semitones above the recipe's key where the chords sit, and the bass below.
    comp_octave: int = 12
    bass_octave: int = -12
    lead_octave: int = 12
    crash: bool = True


def _rows(row: str, length: int) -> Iterator[tuple[int, str, int]]:
    """(step, symbol, held steps) of each onset in a bar-long row looped over ``length`` steps."""
    n = len(row)
    for step in range(length):
        sym = row[step % n]
        if sym in "-.":
            continue
        held = 1
        while step + held < length and row[(step + held) % n] == "-":
            held += 1
        yield step, sym, held


def play_band(band: Band, d: float, keys: tuple[int, ...], rng: np.random.Generator) -> list[Note]:
    root = int(rng.choice(keys))
    sixteenth = 60.0 / float(rng.choice(band.bpm)) / 4
    steps = int(np.ceil(d / sixteenth))
    chords = _HARMONY[band.harmony]
    turn = int(rng.integers(2)) * 2  # start on the first or third chord of the cycle

    def at(step: int) -> float:
        late = band.swing * sixteenth if step % 4 == 2 else 0.0
        return step * sixteenth + late

    def chord(step: int) -> tuple[int, ...]:
        return chords[(step // band.chord_steps + turn) % len(chords)]

    notes: list[Note] = []
    if band.crash and band.drums:
        notes.append(Note(0.0, 1.0, 49, 105, drums=True))
    for key, row in band.drums.items():
        for step, sym, _ in _rows(row, steps):
            notes.append(Note(at(step), sixteenth, key, _VELOCITY.get(sym, 100) - int(rng.integers(0, 8)), drums=True))
    if band.bass:
        program, row = band.bass
        for step, sym, held in _rows(row, steps):
            c = chord(step)
            tone = c[1] - c[0] if _BASS_TONE.get(sym, 0) is None else _BASS_TONE.get(sym, 0)
            notes.append(Note(at(step), held * sixteenth * 0.9, root + band.bass_octave + c[0] % 12 + tone, 105,
                              program=program))
    if band.comp:
        program, row, voicing = band.comp
        for step, sym, held in _rows(row, steps):
            c = chord(step)
            tones = (c[0], c[0] + 7, c[0] + 12) if voicing == "5" else c[-3:] if voicing == "p" else c
            for j, tone in enumerate(tones):
                notes.append(Note(at(step) + 0.008 * j, held * sixteenth * 0.95, root + band.comp_octave + tone,
                                  _VELOCITY.get(sym, 90) - 10, program=program))
    if band.lead:
        scale = _MAJOR if band.harmony in ("major", "jazz", "blues") else _MINOR
        degree = int(rng.integers(2, 6))
        for step, _, held in _rows(band.lead, steps):
            degree = int(np.clip(degree + rng.choice([-2, -1, 1, 1, 2]), 0, 9))
            notes.append(Note(at(step), held * sixteenth * 0.9, _scale_key(root + band.lead_octave, degree, scale),
                              int(rng.integers(100, 118))))
    return notes


def band(name: str, spec: Band) -> None:
    """File a band as a pattern (``name``), so a recipe names it like any other pattern."""
    PATTERNS[name] = lambda d, keys, rng, single: play_band(spec, d, keys, rng)


_ROCK_KIT = {36: "X.....x.X.x.....", 38: "....X.......X...", 42: "x.x.x.x.x.x.x.x."}
_FOUR_ON_THE_FLOOR = {36: "X...X...X...X...", 39: "....x.......x...", 46: "..x...x...x...x.", 42: "x...x...x...x..."}
_DRIVING_KIT = {36: "x.x.x.x.x.x.x.x.", 38: "....X.......X...", 49: "X.......X......."}
# Strings racing in sixteenths under brass stabs: YAMNet names this soul, swing or ska by its
# tempo and the stab's instrument, where a plain rock or jazz combo is heard only as "Music".
_STRING_OSTINATO = (48, "xxxxxxxxxxxxxxxx")
_STABS = "x-..x-..x-..x-.."

band("techno", Band((128, 134), _FOUR_ON_THE_FLOOR, (38, "..x...x...x...x."), (81, "x..x..x...x..x..", "p"),
                    lead="", harmony="minor", comp_octave=0))
band("rock_solo", Band((112, 124), _ROCK_KIT, (34, "x.x.x.x.x.x.x.x."), (30, "x-x-x-x-x-x-x-x-", "5"), comp_octave=-12))
band("drive_165", Band((165,), _DRIVING_KIT, _STRING_OSTINATO, (61, _STABS, "t"), harmony="minor", lead="x-x-x-x-x-x-x-x-"))
band("drive_185", Band((185,), _DRIVING_KIT, _STRING_OSTINATO, (61, _STABS, "t"), harmony="minor", lead="x-x-x-x-x-x-x-x-"))
band("drive_trumpets", Band((165, 185), _DRIVING_KIT, _STRING_OSTINATO, (56, _STABS, "t"), harmony="minor",
                            lead="x-x-x-x-x-x-x-x-"))
band("march", Band((110,), _DRIVING_KIT, (34, "x.x.x.x.x.x.x.x."), (61, _STABS, "t"), harmony="minor", lead="x-x-x-x-x-x-x-x-"))
band("anthem", Band((110, 140, 165, 185), _ROCK_KIT, (33, "x.x.x.x.x.x.x.x."), (61, _STABS, "t"), lead="x-x-x-x-x-x-x-x-"))
band("lament", Band((60, 70), {}, (42, "x---------------"), (48, "x---------------", "t"), harmony="minor", lead="x-----x-x-------"))
band("oompah", Band((110, 130), {}, (58, "x.......x......."), (70, "....x.......x...", "t"), lead="x.x.x...x.x.x..."))
