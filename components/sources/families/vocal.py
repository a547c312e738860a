"""Human vocal and body sounds: laughs, coughs, breaths, shouts, crowds, digestion.

A voice here is a glottal pulse train (or breath noise, for unvoiced sounds)
through a few vowel formants; each recipe shapes its pitch, vowel, breathiness
and timing after the sound it models. Every recipe draws its speaker (pitch,
vocal tract size) and its timing from ``rng``, so takes differ. Recipes were
tuned by listening with YAMNet through the coverage benchmark (seeds 0-3); the
classes in ``LABELS`` are the ones it names (or names the parent of) on most seeds.
"""

from __future__ import annotations

import numpy as np

from ...generators.dsp import _filter, _frames, _pink, _room, _t
from . import family_recipe

RECIPES: dict = {}
recipe = family_recipe(RECIPES)

# Vowel formants (Hz) of an adult male tract; a smaller speaker scales them up.
VOWELS: dict[str, tuple[float, float, float]] = {
    "a": (730.0, 1090.0, 2440.0),
    "ae": (660.0, 1720.0, 2410.0),
    "uh": (640.0, 1190.0, 2390.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (300.0, 870.0, 2240.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (270.0, 2290.0, 3010.0),
    "m": (250.0, 1000.0, 2200.0),  # a closed mouth: hums and nasal murmurs
}


# --- building blocks -------------------------------------------------------


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` cut or zero-padded to exactly ``n`` samples."""
    out = np.zeros(n)
    m = min(n, len(x))
    out[:m] = x[:m]
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.max(np.abs(x)) + 1e-9)


def _add(out: np.ndarray, x: np.ndarray, at_s: float, sr: int, gain: float = 1.0) -> None:
    at = int(max(at_s, 0.0) * sr)
    if at >= len(out):
        return
    end = min(len(out), at + len(x))
    out[at:end] += gain * x[: end - at]


def _glottal(f0: np.ndarray, sr: int, rng: np.random.Generator, jitter: float = 0.01,
             open_q: float = 0.6) -> np.ndarray:
    """A glottal flow derivative: Rosenberg-like pulses at the pitch track ``f0``.

    ``jitter`` is random period-to-period pitch wobble (rough voices, animals);
    ``open_q`` the open share of each period (lower: brighter, pressed voice).
    """
    wobble = 1 + jitter * _filter(rng.standard_normal(len(f0)), sr, "lowpass", 60, order=1) * 8
    p = (np.cumsum(f0 * wobble) / sr) % 1.0
    rise = 0.65 * open_q
    flow = np.where(p < rise, 0.5 * (1 - np.cos(np.pi * p / rise)),
                    np.where(p < open_q, np.cos(0.5 * np.pi * (p - rise) / (open_q - rise)), 0.0))
    return np.diff(flow, prepend=0.0) * sr / np.maximum(f0, 1.0) / 4


def _resonate(src: np.ndarray, sr: int, formants: list[tuple[float, float]]) -> np.ndarray:
    """``src`` through parallel two-pole resonators (centre Hz, bandwidth Hz), higher ones weaker."""
    from scipy.signal import lfilter

    out = np.zeros(len(src))
    for k, (f, bw) in enumerate(formants):
        f = min(f, sr * 0.45)
        r = np.exp(-np.pi * bw / sr)
        out += lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], src) * 0.7**k
    return out


def _tract(vowel: str, size: float, widen: float = 1.0) -> list[tuple[float, float]]:
    """Formants of ``vowel`` for a tract ``size`` times an adult male's (smaller: higher)."""
    f1, f2, f3 = VOWELS[vowel]
    return [(f1 / size, 90 * widen), (f2 / size, 120 * widen), (f3 / size, 170 * widen), (3500 / size, 250 * widen)]


def _syllable(length_s: float, sr: int, rng: np.random.Generator, f0: tuple[float, float], vowel: str,
              size: float = 1.0, breath: float = 0.05, jitter: float = 0.01, attack_s: float = 0.02,
              release_s: float = 0.05, aspirate_s: float = 0.0, open_q: float = 0.6) -> np.ndarray:
    """One voiced syllable: pitch gliding ``f0[0]`` -> ``f0[1]``, an optional /h/ before it."""
    m = max(1, int(length_s * sr))
    u = np.linspace(0, 1, m)
    track = f0[0] * (f0[1] / f0[0]) ** u
    src = _glottal(track, sr, rng, jitter, open_q)
    src = src / (np.std(src) + 1e-9) + breath * rng.standard_normal(m)
    v = _resonate(src, sr, _tract(vowel, size))
    t = _t(m, sr)
    env = np.clip(t / max(attack_s, 1e-3), 0, 1) * np.clip((length_s - t) / max(release_s, 1e-3), 0, 1)
    v = _unit(v) * env
    if aspirate_s > 0:
        # A breathy /h/ onset: noise through the same vowel before voicing starts.
        a = int(aspirate_s * sr)
        h = _unit(_resonate(rng.standard_normal(a), sr, _tract(vowel, size, 2.0))) * np.linspace(0, 1, a) ** 0.5
        v = np.concatenate([0.5 * h, v])
    return v


def _breath_noise(length_s: float, sr: int, rng: np.random.Generator, vowel: str, size: float,
                  band: tuple[float, float] = (300.0, 6000.0), shape: float = 1.0) -> np.ndarray:
    """An unvoiced breath through a vowel-shaped tract, swelling and fading (``shape`` > 1: more peaked)."""
    m = max(1, int(length_s * sr))
    x = _resonate(rng.standard_normal(m), sr, _tract(vowel, size, 2.5))
    x = x + 0.3 * np.std(x) * rng.standard_normal(m)
    x = _filter(x, sr, "bandpass", band, order=2)
    return _unit(x) * np.sin(np.pi * np.linspace(0, 1, m)) ** shape


def _repeat(d: float, sr: int, rng: np.random.Generator, single: bool, make, gap_s: tuple[float, float],
            lead_s: float = 0.0) -> np.ndarray:
    """Occurrences of ``make()`` one after another, ``gap_s`` apart, until ``d`` is filled (once if ``single``)."""
    n = _frames(d, sr)
    out = np.zeros(n)
    at = lead_s
    while True:
        x = make()
        _add(out, x, at, sr)
        at += len(x) / sr + float(rng.uniform(*gap_s))
        if single or at > d - 0.15:
            break
    return out


def _speaker(rng: np.random.Generator, kind: str = "adult") -> tuple[float, float]:
    """A speaker's (base pitch Hz, tract size): a man, woman or child."""
    if kind == "child":
        return float(rng.uniform(260, 340)), float(rng.uniform(0.68, 0.76))
    if kind == "low":
        return float(rng.uniform(95, 125)), float(rng.uniform(1.0, 1.08))
    if rng.random() < 0.5:
        return float(rng.uniform(100, 140)), float(rng.uniform(0.96, 1.05))
    return float(rng.uniform(190, 240)), float(rng.uniform(0.82, 0.9))


# --- laughter ----------------------------------------------------------------


def _laugh(d: float, sr: int, rng: np.random.Generator, single: bool, kind: str, height: float, rate: float,
           vowel: str, voiced: float, aspirate: float) -> np.ndarray:
    """Bouts of "ha-ha-ha" at ``rate`` syllables a second, pitch falling over each bout.

    Each syllable is a long breathy /h/ (``aspirate`` of the period) and a short, very
    breathy voiced vowel (``voiced`` of the period). Searched against YAMNet: clearer,
    longer vowels are heard as "Speech"; short voicing drowned in breath is "Laughter".
    """
    f0, size = _speaker(rng, kind)
    f0 *= height

    def one_bout() -> np.ndarray:
        count = int(rng.integers(4, 9))
        period = 1.0 / (rate * float(rng.uniform(0.9, 1.1)))
        x = np.zeros(int((count * period + 0.3) * sr))
        for k in range(count):
            top = f0 * (1.3 - 0.3 * k / count) * float(rng.uniform(0.95, 1.05))
            syl = _syllable(period * voiced, sr, rng, (top, top * 0.75), vowel, size, 1.5, 0.01, 0.01, 0.03,
                            aspirate_s=period * aspirate)
            _add(x, syl, k * period, sr, float(rng.uniform(0.7, 1.0)))
        return x

    return _fit(_repeat(d, sr, rng, single, one_bout, (0.3, 0.7)), _frames(d, sr))


@recipe("laughter")
def laughter(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """An adult laughing "ha-ha-ha", about seven breathy syllables a second."""
    return _laugh(d, sr, rng, single, "adult", 1.3, 7.0, "ae", 0.25, 0.6)


@recipe("baby_laughter")
def baby_laughter(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A baby's laugh: the same breathy bouts, an open "ah-ha" from a child's small tract and high voice,
    a little slower than an adult's (6 a second; with "e" at 7 it was heard on only half the seeds at 1 s)."""
    return _laugh(d, sr, rng, single, "child", 1.0, 6.0, "a", 0.3, 0.5)


@recipe("giggle")
def giggle(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A high, quick "hee-hee-hee"."""
    return _laugh(d, sr, rng, single, "adult", 1.6, 7.0, "e", 0.3, 0.5)


@recipe("belly_laugh")
def belly_laugh(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A deep, slower "ha-ha-ha" from a low voice."""
    return _laugh(d, sr, rng, single, "low", 1.2, 5.0, "ae", 0.25, 0.5)


@recipe("chuckle")
def chuckle(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A soft, lower "huh-huh-huh" on a closed "uh", 6 a second. The breathy /h/ and the voicing fill
    most of each period: with shorter ones (gaps between syllables) a 1 s chuckle is heard as speech."""
    return _laugh(d, sr, rng, single, "adult", 1.4, 6.0, "uh", 0.35, 0.55)


@recipe("snicker")
def snicker(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A snicker: a half-suppressed chuckle, the same closed "huh-huh" pitched higher (a sly, tight laugh)."""
    return _laugh(d, sr, rng, single, "adult", 1.6, 6.0, "uh", 0.35, 0.55)


# --- respiration -------------------------------------------------------------


@recipe("cough")
def cough(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A cough: a short explosive noisy burst (glottis bursting open) with a forced, pressed "ae".

    Short (0.12-0.2 s), bright (0.7-7 kHz) and hard-clipped; the voiced part is forced up
    to at least 190 Hz, as a cough's is: a low, longer one is heard as a fart or a door.
    Non-single coughs come in fits of two or three.
    """
    f0, size = _speaker(rng)
    f0 = max(f0, 190.0)

    def one() -> np.ndarray:
        length = float(rng.uniform(0.12, 0.2))
        m = int(length * sr)
        t = _t(m, sr)
        burst = _breath_noise(length, sr, rng, "ae", size, (700, 7000), 0.3) * np.exp(-t / 0.025)
        voiced = _syllable(length, sr, rng, (f0 * 1.3, f0), "ae", size, 0.8, 0.08, 0.01, 0.04, open_q=0.4)
        return np.tanh(12 * _unit(_unit(burst) + 0.3 * voiced * np.exp(-t / (length / 2))))

    def fit_of() -> np.ndarray:
        count = 1 if single else int(rng.integers(2, 4))
        x = np.zeros(int(count * 0.5 * sr) + int(0.4 * sr))
        for k in range(count):
            _add(x, one(), k * float(rng.uniform(0.2, 0.28)), sr, 1.0 - 0.15 * k)
        return x

    return _fit(_room(_repeat(d, sr, rng, single, fit_of, (0.5, 1.0)), sr, rng, 0.05, 0.15), _frames(d, sr))


@recipe("throat_clearing")
def throat_clearing(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """"Ahem": a rough, low, closed-mouth "uh-HM" with a rattling (fry) voice."""
    f0, size = _speaker(rng, "low")

    def one() -> np.ndarray:
        a = _syllable(0.18, sr, rng, (f0 * 0.8, f0 * 0.7), "uh", size, 0.6, 0.15, 0.01, 0.04, open_q=0.4)
        b = _syllable(0.3, sr, rng, (f0 * 1.1, f0 * 0.8), "m", size, 0.5, 0.12, 0.01, 0.1, open_q=0.4)
        return np.concatenate([a, np.zeros(int(0.05 * sr)), b])

    return _fit(_repeat(d, sr, rng, single, one, (0.6, 1.2)), _frames(d, sr))


@recipe("sneeze")
def sneeze(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """"Ah-ah-CHOO": a quiet breathy inhale, a catch, then an explosive hissing "choo".

    The inhale is mostly breath and faint (-26 dB): a louder one is heard as a sigh or groan,
    above all when a single sneeze is alone. The "choo" is a short, hard-clipped hiss
    (3-7.8 kHz) with some voice in it: with too little, one sneeze alone is heard as a whoosh.
    """
    f0, size = _speaker(rng)

    def one() -> np.ndarray:
        length = float(rng.uniform(0.3, 0.5))
        inhale = _breath_noise(length, sr, rng, "a", size, (500, 5000), 1.0) + 0.3 * _syllable(
            length, sr, rng, (f0 * 1.2, f0 * 1.6), "a", size, 1.0, 0.02, 0.2, 0.03)
        m = int(float(rng.uniform(0.25, 0.35)) * sr)
        t = _t(m, sr)
        hiss = _filter(rng.standard_normal(m), sr, "bandpass", (3000, 7800), order=2)
        # _fit: the syllable's own rounding can give one sample fewer than m.
        voice = _fit(_syllable(m / sr, sr, rng, (f0 * 1.6, f0), "u", size, 1.0, 0.03, 0.005, 0.1), m)
        choo = np.tanh(8 * _unit(_unit(hiss) + 0.5 * voice) * np.exp(-t / 0.08))
        return np.concatenate([0.05 * _unit(inhale), np.zeros(int(0.1 * sr)), choo])

    return _fit(_room(_repeat(d, sr, rng, single, one, (0.8, 1.5)), sr, rng, 0.05, 0.15), _frames(d, sr))


def _breaths(d: float, sr: int, rng: np.random.Generator, single: bool, cycle_s: float, voice: float,
             vowel: str, band: tuple[float, float]) -> np.ndarray:
    """Breathing in and out every ``cycle_s``: the outbreath louder, lower and a little voiced."""
    f0, size = _speaker(rng)

    def one() -> np.ndarray:
        c = cycle_s * float(rng.uniform(0.9, 1.1))
        inhale = _breath_noise(c * 0.4, sr, rng, "i", size, (band[0] * 1.5, band[1]), 1.5)
        exhale = _breath_noise(c * 0.5, sr, rng, vowel, size, band, 1.0)
        if voice:
            exhale += voice * _syllable(c * 0.5, sr, rng, (f0, f0 * 0.8), vowel, size, 1.0, 0.03, c * 0.1, c * 0.2)
        return np.concatenate([0.6 * inhale, np.zeros(int(c * 0.05 * sr)), _unit(exhale)])

    return _fit(_repeat(d, sr, rng, single, one, (0.0, cycle_s * 0.1)), _frames(d, sr))


@recipe("breathing")
def breathing(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Heavy breathing into a microphone: slow in-out noise through the open mouth."""
    return _breaths(d, sr, rng, single, float(rng.uniform(1.3, 1.8)), 0.0, "a", (200.0, 5000.0))


@recipe("pant")
def pant(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Panting: quick shallow breaths, about three in-out cycles a second, a little voiced."""
    return _breaths(d, sr, rng, single, float(rng.uniform(0.3, 0.42)), 0.15, "ae", (300.0, 6000.0))


@recipe("gasp")
def gasp(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A gasp: a sudden sharp inbreath with a voiced catch rising in pitch."""
    f0, size = _speaker(rng)

    def one() -> np.ndarray:
        length = float(rng.uniform(0.25, 0.4))
        m = int(length * sr)
        t = _t(m, sr)
        air = _breath_noise(length, sr, rng, "ae", size * 0.9, (500, 7000), 0.3)
        catch = _syllable(length, sr, rng, (f0 * 1.3, f0 * 2.0), "ae", size, 1.2, 0.03, 0.01, 0.05)
        return _unit(air + 0.5 * catch) * np.clip(t / 0.02, 0, 1) * np.exp(-t / (length * 0.6))

    return _fit(_repeat(d, sr, rng, single, one, (0.8, 1.4)), _frames(d, sr))


@recipe("sigh")
def sigh(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A sigh: a quick inbreath, then a long breathy "haaah" falling in pitch and fading."""
    f0, size = _speaker(rng)

    def one() -> np.ndarray:
        inhale = _breath_noise(float(rng.uniform(0.3, 0.5)), sr, rng, "i", size, (500, 6000), 1.5)
        length = float(rng.uniform(0.8, 1.3))
        voiced = _syllable(length, sr, rng, (f0 * 1.3, f0 * 0.75), "a", size, 2.5, 0.02, 0.05, length * 0.6,
                           aspirate_s=0.12)
        return np.concatenate([0.5 * inhale, np.zeros(int(0.1 * sr)), voiced])

    return _fit(_repeat(d, sr, rng, single, one, (0.5, 1.0)), _frames(d, sr))


@recipe("snoring")
def snoring(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Snoring: a rattling inbreath (the soft palate flapping 30-60 times a second) and a soft outbreath."""
    _, size = _speaker(rng, "low")
    flap = float(rng.uniform(30, 60))

    def one() -> np.ndarray:
        length = float(rng.uniform(1.0, 1.4))
        m = int(length * sr)
        u = np.linspace(0, 1, m)
        src = _glottal(flap * (1 + 0.2 * u), sr, rng, 0.08, 0.5)
        src = src / (np.std(src) + 1e-9) + 0.7 * rng.standard_normal(m)
        rattle = _resonate(src, sr, _tract("uh", size, 1.5))
        rattle = _unit(_filter(rattle, sr, "lowpass", 2500, order=2)) * np.sin(np.pi * u) ** 0.8
        exhale = 0.25 * _breath_noise(length * 0.8, sr, rng, "u", size, (200, 3000))
        return np.concatenate([rattle, np.zeros(int(0.2 * sr)), exhale])

    return _fit(_repeat(d, sr, rng, single, one, (0.2, 0.5)), _frames(d, sr))


@recipe("wheeze")
def wheeze(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A wheeze: laboured breathing with a thin whistle (a narrowed airway) riding on it."""
    f_whistle = float(rng.uniform(500, 900))

    def one() -> np.ndarray:
        length = float(rng.uniform(0.9, 1.3))
        m = int(length * sr)
        u = np.linspace(0, 1, m)
        air = _breath_noise(length, sr, rng, "uh", 1.0, (300, 5000))
        whistle = np.sin(2 * np.pi * np.cumsum(f_whistle * (1 + 0.1 * u) * (1 + 0.01 * rng.standard_normal(m))) / sr)
        return _unit(air + 0.35 * whistle * np.sin(np.pi * u))

    return _fit(_repeat(d, sr, rng, single, one, (0.1, 0.3)), _frames(d, sr))


@recipe("sniff")
def sniff(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Sniffing: two or three short sharp inbreaths through the nose (narrow high noise)."""
    def one() -> np.ndarray:
        count = 1 if single else int(rng.integers(2, 4))
        x = np.zeros(int((count * 0.22 + 0.2) * sr))
        for k in range(count):
            length = float(rng.uniform(0.1, 0.18))
            m = int(length * sr)
            t = _t(m, sr)
            s = _filter(rng.standard_normal(m), sr, "bandpass", (1500, 6000), order=2)
            s = _resonate(s, sr, [(float(rng.uniform(2000, 3000)), 400.0), (4500.0, 800.0)])
            _add(x, _unit(s) * np.clip(t / 0.015, 0, 1) * np.exp(-t / (length * 0.4)), k * 0.2, sr)
        return x

    return _fit(_repeat(d, sr, rng, single, one, (0.6, 1.0)), _frames(d, sr))


# --- voice: shouts, cries, moans, whispers -----------------------------------


@recipe("shout")
def shout(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A shout ("hey!"): a loud, pressed, high-pitched vowel with a sharp onset, slightly saturated."""
    f0, size = _speaker(rng)

    def one() -> np.ndarray:
        length = float(rng.uniform(0.45, 0.8))
        vowel = str(rng.choice(["a", "e", "o"]))
        top = f0 * 1.9
        v = _syllable(length, sr, rng, (top, top * 0.8), vowel, size, 0.1, 0.02, 0.03, 0.12, open_q=0.4,
                      aspirate_s=0.05)
        return np.tanh(2.0 * v)

    return _fit(_room(_repeat(d, sr, rng, single, one, (0.4, 0.9)), sr, rng, 0.08, 0.25), _frames(d, sr))


@recipe("scream")
def scream(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A scream: a very high (~900-1200 Hz), rough, loud "aaah" lasting a second or more."""
    _, size = _speaker(rng)
    size *= 0.9

    def one() -> np.ndarray:
        length = float(rng.uniform(1.0, 1.6))
        m = int(length * sr)
        u = np.linspace(0, 1, m)
        f0 = float(rng.uniform(850, 1150)) * (1 + 0.1 * np.sin(np.pi * u)) * (1 + 0.015 * np.sin(2 * np.pi * 7 * _t(m, sr)))
        src = _glottal(f0, sr, rng, 0.04, 0.4)
        src = src / (np.std(src) + 1e-9) + 0.3 * rng.standard_normal(m)
        v = _unit(_resonate(src, sr, _tract("ae", size, 1.5)))
        env = np.clip(u * length / 0.05, 0, 1) * np.clip((1 - u) * length / 0.2, 0, 1)
        return np.tanh(2.5 * v * env)

    return _fit(_room(_repeat(d, sr, rng, single, one, (0.4, 0.8)), sr, rng, 0.08, 0.2), _frames(d, sr))


@recipe("groan")
def groan(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A groan: a low, long, closed "uhhh" whose pitch sags, breathy and a little rough."""
    f0, size = _speaker(rng, "low")

    def one() -> np.ndarray:
        length = float(rng.uniform(0.8, 1.3))
        return _syllable(length, sr, rng, (f0 * 1.1, f0 * 0.75), str(rng.choice(["uh", "o"])), size, 0.5, 0.05,
                         0.1, length * 0.4)

    return _fit(_repeat(d, sr, rng, single, one, (0.4, 0.8)), _frames(d, sr))


@recipe("grunt")
def grunt(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A grunt: a short, low, pressed "uh!" with an abrupt (glottal) start and stop."""
    f0, size = _speaker(rng, "low")

    def one() -> np.ndarray:
        length = float(rng.uniform(0.15, 0.28))
        return _syllable(length, sr, rng, (f0 * 1.2, f0 * 0.9), "uh", size, 0.4, 0.08, 0.005, 0.04, open_q=0.35)

    return _fit(_repeat(d, sr, rng, single, one, (0.5, 0.9)), _frames(d, sr))


@recipe("wail")
def wail(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A wail or moan of grief: a long "oooh" whose pitch rises then slowly falls, with a wavering vibrato."""
    f0, size = _speaker(rng)

    def one() -> np.ndarray:
        length = float(rng.uniform(1.3, 2.0))
        m = int(length * sr)
        u = np.linspace(0, 1, m)
        track = f0 * 1.4 * (1 + 0.3 * np.sin(np.pi * u ** 0.6)) * (1 + 0.03 * np.sin(2 * np.pi * 5.5 * _t(m, sr)))
        src = _glottal(track, sr, rng, 0.02, 0.6)
        v = _unit(_resonate(src / (np.std(src) + 1e-9) + 0.3 * rng.standard_normal(m), sr, _tract("o", size)))
        return v * np.sin(np.pi * u) ** 0.7

    return _fit(_repeat(d, sr, rng, single, one, (0.3, 0.6)), _frames(d, sr))


@recipe("whisper")
def whisper(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Whispered speech: syllables of breath noise (no voicing) through changing vowels, with hissed consonants."""
    n = _frames(d, sr)
    out = np.zeros(n)
    _, size = _speaker(rng)
    at = 0.0
    while at < d - 0.1:
        length = float(rng.uniform(0.12, 0.24))
        vowel = str(rng.choice(["a", "e", "i", "o", "u", "uh"]))
        if rng.random() < 0.6:
            c = int(0.06 * sr)
            s = _filter(rng.standard_normal(c), sr, "highpass", float(rng.choice([3000, 4500])), order=2)
            _add(out, 0.6 * _unit(s) * np.hanning(c), at, sr)
            at += 0.05
        _add(out, _breath_noise(length, sr, rng, vowel, size, (400, 7000), 0.7), at, sr)
        at += length + float(rng.uniform(0.0, 0.05))
        if rng.random() < 0.25:
            at += float(rng.uniform(0.1, 0.3))
        if single and at > 0.8:
            break
    return out


@recipe("yodel")
def yodel(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Yodeling: a voice flipping between chest and falsetto (up an octave or a sixth) on "yo-de-lay-ee"."""
    f0, size = _speaker(rng)
    n = _frames(d, sr)
    out = np.zeros(n)
    at = 0.0
    k = 0
    while at < d - 0.1:
        length = float(rng.uniform(0.16, 0.26))
        high = k % 2 == 1
        pitch = f0 * 1.3 * (float(rng.choice([1.68, 2.0])) if high else 1.0)
        vowel = "i" if high else str(rng.choice(["o", "a"]))
        syl = _syllable(length + 0.04, sr, rng, (pitch, pitch), vowel, size, 0.05, 0.005, 0.015, 0.02)
        _add(out, syl * (0.8 if high else 1.0), at, sr)
        at += length
        k += 1
    return out


# --- digestion ---------------------------------------------------------------


@recipe("burp")
def burp(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A burp: a very low, rough, fluttering "orrp" (the oesophagus vibrating at ~60-100 Hz)."""
    _, size = _speaker(rng, "low")

    def one() -> np.ndarray:
        length = float(rng.uniform(0.4, 0.8))
        m = int(length * sr)
        u = np.linspace(0, 1, m)
        f0 = float(rng.uniform(60, 100)) * (1 + 0.3 * np.sin(np.pi * u))
        src = _glottal(f0, sr, rng, 0.25, 0.35)
        v = _unit(_resonate(src / (np.std(src) + 1e-9) + 0.6 * rng.standard_normal(m), sr, _tract("o", size, 1.3)))
        flutter = 1 + 0.5 * _filter(rng.standard_normal(m), sr, "lowpass", 30, order=1) * 5
        env = np.clip(u * length / 0.02, 0, 1) * np.clip((1 - u) * length / 0.1, 0, 1)
        return np.tanh(2 * v * flutter * env)

    return _fit(_repeat(d, sr, rng, single, one, (0.6, 1.2)), _frames(d, sr))


@recipe("hiccup")
def hiccup(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A hiccup: a sudden, very short inbreath cut off by the glottis ("hic"), with a click."""
    f0, size = _speaker(rng)

    def one() -> np.ndarray:
        length = float(rng.uniform(0.07, 0.11))
        m = int(length * sr)
        t = _t(m, sr)
        v = _syllable(length, sr, rng, (f0 * 1.8, f0 * 2.2), "i", size, 0.8, 0.02, 0.005, 0.005)
        click = _filter(rng.standard_normal(int(0.01 * sr)), sr, "highpass", 1500, order=2)
        return np.concatenate([_unit(v) * np.clip(t / 0.01, 0, 1), _unit(click) * np.exp(-_t(len(click), sr) / 0.002)])

    return _fit(_repeat(d, sr, rng, single, one, (0.8, 1.4)), _frames(d, sr))


@recipe("fart")
def fart(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A fart: a flapping buzz (~90-160 Hz), its pitch wandering and breaking up, through a low resonance.

    Short (0.3-0.6 s) and mostly tonal: longer, lower, noisier ones are heard as an engine.
    """
    def one() -> np.ndarray:
        length = float(rng.uniform(0.3, 0.6))
        m = int(length * sr)
        u = np.linspace(0, 1, m)
        f0 = float(rng.uniform(90, 160)) * (1 + 0.3 * _filter(rng.standard_normal(m), sr, "lowpass", 6, order=1) * 6)
        src = _glottal(np.maximum(f0, 30), sr, rng, 0.15, 0.3)
        x = _resonate(src / (np.std(src) + 1e-9) + 0.2 * rng.standard_normal(m), sr,
                      [(float(rng.uniform(250, 500)), 150.0), (900.0, 300.0)])
        env = np.clip(u * length / 0.02, 0, 1) * (1 - u) ** 0.5
        return np.tanh(3 * _unit(x) * env)

    return _fit(_repeat(d, sr, rng, single, one, (0.5, 1.0)), _frames(d, sr))


@recipe("gargle")
def gargle(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Gargling: a voiced "ahhh" broken up by bubbling (random 15-30 Hz amplitude and pitch flutter)."""
    f0, size = _speaker(rng)

    def one() -> np.ndarray:
        length = float(rng.uniform(1.2, 1.8))
        m = int(length * sr)
        v = _syllable(length, sr, rng, (f0, f0 * 0.95), "a", size, 0.3, 0.05, 0.05, 0.1)
        bubbles = np.clip(_filter(rng.standard_normal(m), sr, "bandpass", (12, 35), order=1) * 4, 0, 1.5)
        noise = _filter(rng.standard_normal(m), sr, "bandpass", (300, 3000), order=2)
        return _unit(v * bubbles + 0.3 * _unit(noise) * bubbles)

    return _fit(_repeat(d, sr, rng, single, one, (0.3, 0.6)), _frames(d, sr))


@recipe("stomach_rumble")
def stomach_rumble(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A stomach rumble: low gurgles, a muffled tone sliding between 80 and 300 Hz through liquid bubbles."""
    def one() -> np.ndarray:
        length = float(rng.uniform(0.8, 1.5))
        m = int(length * sr)
        u = np.linspace(0, 1, m)
        glide = float(rng.uniform(80, 140)) * (1 + float(rng.uniform(0.5, 1.2)) * np.sin(np.pi * u * rng.uniform(1, 2)) ** 2)
        src = _glottal(glide, sr, rng, 0.1, 0.5)
        tone = _filter(src / (np.std(src) + 1e-9) + 0.5 * rng.standard_normal(m), sr, "lowpass", 600, order=2)
        bubbles = np.clip(_filter(rng.standard_normal(m), sr, "bandpass", (5, 20), order=1) * 4, 0, 1.5)
        return _unit(tone * bubbles) * np.sin(np.pi * u) ** 0.5

    return _fit(_repeat(d, sr, rng, single, one, (0.2, 0.6)), _frames(d, sr))


@recipe("chewing")
def chewing(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Chewing with the mouth open: a crunch of crackles every ~0.6 s with a wet squelch between."""
    def one() -> np.ndarray:
        length = float(rng.uniform(0.25, 0.4))
        m = int(length * sr)
        t = _t(m, sr)
        grains = (rng.random(m) < 0.03) * rng.standard_normal(m) * rng.random(m) ** 2
        crunch = _filter(grains, sr, "bandpass", (800, 7000), order=2)
        wet = _filter(rng.standard_normal(m), sr, "bandpass", (200, 1200), order=2)
        env = np.clip(t / 0.02, 0, 1) * np.exp(-t / (length * 0.5))
        return _unit(_unit(crunch) + 0.3 * _unit(wet)) * env

    return _fit(_repeat(d, sr, rng, single, one, (0.2, 0.35)), _frames(d, sr))


# --- groups --------------------------------------------------------------------


def _talker(d: float, sr: int, rng: np.random.Generator, kind: str = "adult", lift: float = 1.0) -> np.ndarray:
    """One voice talking: voiced syllables with consonant noise, ~4-5 a second, phrases and pauses."""
    n = _frames(d, sr)
    out = np.zeros(n)
    f0, size = _speaker(rng, kind)
    f0 *= lift
    at = float(rng.uniform(0, 0.4))
    while at < d - 0.1:
        words = int(rng.integers(3, 9))
        for k in range(words):
            length = float(rng.uniform(0.12, 0.24))
            pitch = f0 * (1.15 - 0.3 * k / words) * float(rng.uniform(0.9, 1.1))
            if rng.random() < 0.5:
                c = int(0.04 * sr)
                s = _filter(rng.standard_normal(c), sr, "highpass", float(rng.choice([2500, 4000])), order=2)
                _add(out, 0.2 * _unit(s) * np.hanning(c), at, sr)
                at += 0.035
            vowel = str(rng.choice(list(VOWELS)))
            _add(out, _syllable(length, sr, rng, (pitch, pitch * 0.92), vowel, size, 0.05, 0.01, 0.02, 0.04), at, sr)
            at += length + 0.02
        at += float(rng.uniform(0.15, 0.6))
    return out


def _crowd(d: float, sr: int, rng: np.random.Generator, voices: int, kind: str = "adult", lift: float = 1.0,
           room: float = 0.3) -> np.ndarray:
    n = _frames(d, sr)
    mix = np.zeros(n)
    for _ in range(voices):
        x = _talker(d, sr, rng, kind, lift)
        mix += x * float(rng.uniform(0.3, 1.0)) / (np.std(x) + 1e-9)
    return _room(mix, sr, rng, 0.15, room)


@recipe("hubbub")
def hubbub(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Speech babble: a dozen voices talking over each other in a reverberant room, no one voice clear."""
    return _crowd(d, sr, rng, int(rng.integers(10, 15)), room=0.5)


@recipe("chatter")
def chatter(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Chatter: four or five people talking at once, nearer and clearer than a babble."""
    return _crowd(d, sr, rng, int(rng.integers(4, 6)), room=0.2)


@recipe("children_playing")
def children_playing(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Children playing: several children's voices talking and calling out, with squeals now and then."""
    n = _frames(d, sr)
    x = _crowd(d, sr, rng, int(rng.integers(4, 7)), "child", 1.1, room=0.15)
    x /= np.std(x) + 1e-9
    for _ in range(int(rng.integers(2, 4))):
        f0, size = _speaker(rng, "child")
        length = float(rng.uniform(0.3, 0.6))
        call = _syllable(length, sr, rng, (f0 * 1.8, f0 * 1.4), str(rng.choice(["a", "i", "e"])), size, 0.1,
                         0.02, 0.02, 0.1, open_q=0.45)
        _add(x, call, float(rng.uniform(0, max(d - length, 0.01))), sr, 3.0)
    return _fit(x, n)


@recipe("children_shouting")
def children_shouting(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Children shouting: many high, loud, pressed calls overlapping over a children's babble."""
    n = _frames(d, sr)
    x = 0.3 * _unit(_crowd(d, sr, rng, 4, "child", 1.2, room=0.15))
    at = 0.0
    while at < d - 0.2:
        f0, size = _speaker(rng, "child")
        length = float(rng.uniform(0.35, 0.7))
        call = _syllable(length, sr, rng, (f0 * 1.6, f0 * 1.3), str(rng.choice(["a", "e", "o"])), size, 0.1,
                         0.02, 0.02, 0.1, open_q=0.4)
        _add(x, np.tanh(2 * call), at, sr, float(rng.uniform(0.6, 1.0)))
        at += float(rng.uniform(0.15, 0.45))
    return _fit(x, n)


@recipe("cheering")
def cheering(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A crowd cheering: many sustained "wooo"/"yeah" shouts overlapping over a roar of voices and claps."""
    n = _frames(d, sr)
    roar = _filter(_pink(n, rng), sr, "bandpass", (300, 4000), order=2)
    x = 0.5 * roar / (np.std(roar) + 1e-9)
    for _ in range(int(rng.integers(14, 20))):
        f0, size = _speaker(rng)
        length = float(rng.uniform(0.5, 1.5))
        top = f0 * float(rng.uniform(1.5, 2.2))
        call = _syllable(length, sr, rng, (top, top * float(rng.uniform(0.7, 1.1))), str(rng.choice(["u", "e", "a"])),
                         size, 0.2, 0.03, 0.1, 0.3)
        _add(x, call, float(rng.uniform(-0.3, d - 0.2)), sr, float(rng.uniform(0.4, 1.0)))
    return _fit(_room(x, sr, rng, 0.2, 0.5), n)


@recipe("chant")
def chant(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A crowd chanting in unison: the same two-beat phrase on one or two pitches, repeated, many voices."""
    n = _frames(d, sr)
    beat = float(rng.uniform(0.3, 0.4))
    pattern = [str(v) for v in rng.choice(["a", "e", "o", "i"], 4)]
    pitches = rng.choice([1.0, 1.0, 1.12, 0.89], 4)
    out = np.zeros(n)
    for _ in range(8):
        f0, size = _speaker(rng)
        lag = float(rng.uniform(0, 0.03))
        for k in range(int(d / beat) + 1):
            if k % 5 == 4:  # a rest closes each phrase
                continue
            p = f0 * 1.2 * float(pitches[k % 4])
            syl = _syllable(beat * 0.85, sr, rng, (p, p), pattern[k % 4], size, 0.1, 0.01, 0.03, 0.06)
            _add(out, syl, k * beat + lag, sr)
    return _room(out, sr, rng, 0.2, 0.4)


# AudioSet class -> recipe. Only classes the listener names (or names a direct parent
# of) on most seeds are filed, tuned with benchmarks/coverage.py over seeds 0-3 (and
# 0-5 where that was close). The other recipes (breaths, shouts, crowds, the rest of
# digestion) are not yet heard as their class and wait for further tuning.
LABELS: dict[str, str] = {
    "Laughter": "laughter",
    "Baby laughter": "baby_laughter",
    "Giggle": "giggle",
    "Belly laugh": "belly_laugh",
    "Chuckle, chortle": "chuckle",
    "Snicker": "snicker",
    "Sigh": "sigh",
    "Screaming": "scream",
    "Chant": "chant",
    "Fart": "fart",
    "Sneeze": "sneeze",
    "Cough": "cough",
}

# Classes these recipes model but the listener does not (yet) name: rendered as honest
# attempts (the dsp source's LIKENESS_QUALITY) rather than as another class's sound.
LIKENESSES: dict[str, str] = {
    "Breathing": "breathing",
    "Burping, eructation": "burp",
    "Chatter": "chatter",
    "Cheering": "cheering",
    "Chewing, mastication": "chewing",
    "Children playing": "children_playing",
    "Children shouting": "children_shouting",
    # Murmured voices of many people: the bulk of a crowd's sound.
    "Crowd": "hubbub",
    "Gargling": "gargle",
    "Gasp": "gasp",
    "Groan": "groan",
    "Grunt": "grunt",
    "Hiccup": "hiccup",
    "Hubbub, speech noise, speech babble": "hubbub",
    "Pant": "pant",
    "Shout": "shout",
    "Yell": "shout",
    "Sniff": "sniff",
    "Snoring": "snoring",
    "Stomach rumble": "stomach_rumble",
    "Throat clearing": "throat_clearing",
    "Wail, moan": "wail",
    "Wheeze": "wheeze",
    "Whispering": "whisper",
    "Yodeling": "yodel",
}
