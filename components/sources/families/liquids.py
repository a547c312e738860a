"""Liquids: bubbles, drops, pours, splashes and hisses.

Water is heard mostly through its bubbles: a bubble born in water rings at its Minnaert
frequency (about 3.3 kHz over its radius in mm), rising in pitch as it nears the surface,
and dies in a few cycles. Streams, pours and boiling are populations of such bubbles over
a bed of turbulence noise; sprays and steam are turbulence alone. Each recipe was tuned
against YAMNet in a 4 s clip (the event 0.5-3.5 s, seeds 0-3).
"""

from __future__ import annotations

import numpy as np
from ualm_agent.components.generators.dsp import (
    _filter,
    _frames,
    _pink,
    _place,
    _room,
    _t,
)

from . import Recipe, family_recipe
from .impacts import _repeat, _unit

RECIPES: dict[str, Recipe] = {}
recipe = family_recipe(RECIPES)


def bubble(sr: int, rng: np.random.Generator, radius_mm: float, rise: float = 3.0, length_s: float = 0.06) -> np.ndarray:
    """One bubble: a damped sine at the Minnaert frequency whose pitch rises as it surfaces."""
    m = max(8, int(length_s * sr))
    t = _t(m, sr)
    f0 = 3300.0 / max(radius_mm, 0.3)
    decay = 0.0025 * radius_mm + 0.004  # larger bubbles ring longer
    f = f0 * (1 + rise * t / length_s)
    return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / decay) * np.clip(t / 0.0005, 0, 1)


def bubbles(n: int, sr: int, rng: np.random.Generator, rate_hz: float, radius: tuple[float, float],
            rise: float = 3.0, env: np.ndarray | None = None) -> np.ndarray:
    """A population of bubbles at Poisson times with log-uniform radii; ``env`` thins them over time."""
    out = np.zeros(n)
    count = max(1, int(rng.poisson(rate_hz * n / sr)))
    lo, hi = np.log(radius[0]), np.log(radius[1])
    for at in rng.integers(0, n, count):
        if env is not None and rng.random() > env[at]:
            continue
        r = float(np.exp(rng.uniform(lo, hi)))
        _place(out, bubble(sr, rng, r, rise) * rng.uniform(0.3, 1.0) * r ** 0.5, int(at))
    return out


def _turbulence(n: int, sr: int, rng: np.random.Generator, band: tuple[float, float], wobble_hz: float = 3.0) -> np.ndarray:
    x = _filter(rng.standard_normal(n), sr, "bandpass", band, order=2)
    lfo = 0.7 + 0.3 * _unit(_filter(rng.standard_normal(n), sr, "lowpass", wobble_hz, order=1))
    return _unit(x) * lfo


def _rising_cavity(x: np.ndarray, sr: int, f_track: np.ndarray, r: float) -> np.ndarray:
    """``x`` through a two-pole resonance that follows ``f_track`` (the air column above the
    liquid shortening as a vessel fills), updated every 20 ms."""
    from scipy.signal import lfilter

    out = np.zeros(len(x))
    block = int(0.02 * sr)
    for i in range(0, len(x), block):
        f = f_track[i]
        out[i:i + block] = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], x[i:i + block])
    return out


@recipe("liquid_plop")
def plop(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A pebble or drop into water: one large bubble (4-7 mm, a fast upward chirp), a plop every ~0.7 s.

    YAMNet hears "Plop" on seeds 0-3."""
    return _repeat(d, sr, rng, float(rng.uniform(0.6, 0.8)), single,
                   lambda _: bubble(sr, rng, rng.uniform(3.5, 6.5), rise=6.0, length_s=0.08), 0.3)


@recipe("liquid_drip")
def drip(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A tap dripping into a filled basin: small bubbles (2-3.5 mm) at a steady ~1.5 drops a second, in a room."""
    out = _repeat(d, sr, rng, float(rng.uniform(0.55, 0.75)), single,
                  lambda _: bubble(sr, rng, rng.uniform(2, 3.5), rise=4.0, length_s=0.05), 0.05)
    return _room(out, sr, rng, 0.06, 0.3)


@recipe("liquid_stream")
def stream(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Running water (a tap, a brook): turbulence at 300-5000 Hz under ~150 bubbles a second.

    YAMNet hears "Water"/"Stream" on seeds 0-3."""
    n = _frames(d, sr)
    bed = _turbulence(n, sr, rng, (300, 5000))
    b = bubbles(n, sr, rng, 150, (0.8, 4.0))
    return 0.6 * bed + _unit(b)


@recipe("liquid_tap")
def tap(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A faucet running into a sink: a steady jet hiss (800-6000 Hz) with splashing bubbles, turned on and off."""
    n = _frames(d, sr)
    jet = _turbulence(n, sr, rng, (800, 6000), 6.0)
    b = bubbles(n, sr, rng, 250, (0.6, 2.5), rise=2.0)
    env = np.clip(_t(n, sr) / 0.1, 0, 1) * np.clip((d - _t(n, sr)) / 0.1, 0, 1)
    return (_unit(jet) + 0.8 * _unit(b)) * env


@recipe("liquid_pour")
def pour(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Liquid poured into a glass: bubbles and a splash hiss under a resonance that rises as it fills."""
    n = _frames(d, sr)
    b = bubbles(n, sr, rng, 200, (0.8, 3.0))
    x = b + 0.3 * _unit(_filter(rng.standard_normal(n), sr, "bandpass", (500, 6000), order=2))
    f_lo, f_hi = rng.uniform(250, 450), rng.uniform(1200, 1800)
    out = _rising_cavity(x, sr, f_lo + (f_hi - f_lo) * np.arange(n) / n, 0.99)
    return _unit(out) + 0.5 * _unit(x)


@recipe("liquid_splash")
def splash(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Something dropped into water: a broadband impact splash, then falling droplets and bubbles for ~1 s."""
    n = _frames(d, sr)
    out = np.zeros(n)

    def one(at: float) -> None:
        m = min(n, int(1.5 * sr))
        t = _t(m, sr)
        hit = _filter(rng.standard_normal(m), sr, "bandpass", (200, 6000), order=2) * np.exp(-t / 0.12)
        env = np.exp(-t / 0.5)
        b = bubbles(m, sr, rng, 120, (0.5, 5.0), env=env)
        _place(out, _unit(hit) + 0.8 * _unit(b) * env, int(at * sr))

    for at in ([0.0] if single else [0.0, float(rng.uniform(1.4, 1.8))]):
        one(at)
    return out


@recipe("liquid_slosh")
def slosh(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Water sloshing in a container: low swells (~1.2 a second) of wet noise and big bubbles."""
    n = _frames(d, sr)
    rate = float(rng.uniform(1.0, 1.5))
    env = np.abs(np.sin(np.pi * rate * _t(n, sr) + rng.uniform(0, 3))) ** 2
    wash = _filter(rng.standard_normal(n), sr, "bandpass", (150, 2500), order=2)
    b = bubbles(n, sr, rng, 60, (2.0, 8.0), env=env)
    return (_unit(wash) + _unit(b)) * env


@recipe("liquid_spray")
def spray(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """An aerosol or spray bottle: bright turbulent hiss (2-8 kHz) in bursts of 0.3-0.8 s.

    YAMNet hears "Spray" (with "Static"/"White noise") on seeds 0-3."""
    n = _frames(d, sr)
    out = np.zeros(n)
    at = 0.0
    while at < d - 0.1:
        length = float(rng.uniform(0.3, 0.8))
        m = int(length * sr)
        u = np.arange(m) / m
        x = _filter(rng.standard_normal(m), sr, "bandpass", (2000, 7800), order=2)
        _place(out, x * np.clip(u / 0.05, 0, 1) * np.clip((1 - u) / 0.1, 0, 1), int(at * sr))
        if single:
            break
        at += length + float(rng.uniform(0.3, 0.6))
    return out


@recipe("liquid_steam")
def steam(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Steam escaping (a kettle, a valve): a steady high hiss with a faint whistle and flutter.

    YAMNet hears "Spray"/"Hiss"/"Liquid"/"Steam" on seeds 0-3."""
    n = _frames(d, sr)
    hiss = _filter(rng.standard_normal(n), sr, "highpass", 2500, order=2)
    whistle = _filter(rng.standard_normal(n), sr, "bandpass", (1900, 2050), order=2)
    flutter = 0.8 + 0.2 * _unit(_filter(rng.standard_normal(n), sr, "lowpass", 8, order=1))
    return (_unit(hiss) + 0.3 * _unit(whistle)) * flutter * np.clip(_t(n, sr) / 0.3, 0, 1)


@recipe("liquid_boiling")
def boiling(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A pot at a rolling boil: dense low bubbles (3-9 mm) bursting at the top, over a soft roar."""
    n = _frames(d, sr)
    b = bubbles(n, sr, rng, 80, (3.0, 9.0), rise=1.5)
    roar = _filter(_pink(n, rng), sr, "lowpass", 800, order=2)
    return _unit(b) + 0.3 * _unit(roar)


@recipe("liquid_gurgle")
def gurgle(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Water gurgling down a drain: irregular clumps of large bubbles, a glug every ~0.2 s."""
    n = _frames(d, sr)
    out = np.zeros(n)
    at = 0.0
    while at < d - 0.1:
        m = int(0.15 * sr)
        clump = bubbles(m, sr, rng, 60, (3.0, 8.0), rise=2.0)
        _place(out, clump, int(at * sr))
        at += float(rng.uniform(0.12, 0.3))
    return out


@recipe("liquid_squish")
def squish(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Wet mud or a soaked sponge squeezed: a low wet smack with sucking bubbles, ~1 a second."""
    m = int(0.35 * sr)
    t = _t(m, sr)

    def one(_: int) -> np.ndarray:
        smack = _filter(rng.standard_normal(m), sr, "bandpass", (150, 1500), order=2) * np.sin(np.pi * np.clip(t / 0.25, 0, 1))
        b = bubbles(m, sr, rng, 80, (1.5, 5.0), rise=1.0)
        return _unit(smack) + 0.6 * _unit(b)

    return _repeat(d, sr, rng, float(rng.uniform(0.8, 1.1)), single, one)


@recipe("liquid_toilet_flush")
def toilet_flush(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A toilet flushed: a roaring rush of water (a big swell, then a swirl draining off) with gurgles,
    and the cistern refilling."""
    n = _frames(d, sr)
    t = _t(n, sr)
    length = min(d, 2.8)
    swell = np.clip(t / 0.15, 0, 1) * np.exp(-np.maximum(t - 0.4, 0) / (length * 0.4))
    rush = _filter(_pink(n, rng), sr, "bandpass", (100, 4000), order=2)
    b = bubbles(n, sr, rng, 120, (2.0, 8.0), rise=2.0, env=swell)
    refill = _filter(rng.standard_normal(n), sr, "bandpass", (1500, 4000), order=2) * np.clip((t - length * 0.7) / 0.3, 0, 1) * 0.2
    return (_unit(rush) + 0.7 * _unit(b)) * swell + _unit(refill) * 0.3


@recipe("liquid_fill")
def fill(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A bottle filled from a tap: a jet into water whose cavity resonance rises steadily in pitch."""
    n = _frames(d, sr)
    jet = _turbulence(n, sr, rng, (300, 6000), 5.0) + _unit(bubbles(n, sr, rng, 200, (1.0, 3.0)))
    f_lo, f_hi = rng.uniform(150, 300), rng.uniform(1000, 1600)
    out = _rising_cavity(jet, sr, f_lo * (f_hi / f_lo) ** (np.arange(n) / n), 0.995)
    return _unit(out) + 0.3 * _unit(jet)


@recipe("liquid_bathtub")
def bathtub(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A bath filling: a heavy tap jet plunging into deep water (low roar, big bubbles) in a tiled room."""
    n = _frames(d, sr)
    jet = _turbulence(n, sr, rng, (150, 3500), 4.0)
    b = bubbles(n, sr, rng, 200, (2.0, 7.0), rise=2.0)
    return _room(_unit(jet) + _unit(b), sr, rng, 0.15, 0.5)


@recipe("liquid_trickle")
def trickle(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A thin trickle: a quiet stream of small high bubbles (0.5-1.5 mm) with a faint hiss."""
    n = _frames(d, sr)
    b = bubbles(n, sr, rng, 60, (0.6, 1.8), rise=2.0)
    hiss = _filter(rng.standard_normal(n), sr, "bandpass", (2000, 6000), order=2)
    return _unit(b) + 0.1 * _unit(hiss)


@recipe("liquid_waves")
def waves(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Waves on a shore: a slow surge of broadband noise (~0.25 Hz) breaking and draining back."""
    n = _frames(d, sr)
    t = _t(n, sr)
    period = float(rng.uniform(3.5, 5.0))
    phase = ((t + rng.uniform(0, period)) % period) / period
    env = np.where(phase < 0.3, (phase / 0.3) ** 2, np.exp(-(phase - 0.3) / 0.25))
    surf = _filter(_pink(n, rng), sr, "bandpass", (100, 6000), order=2)
    return _unit(surf) * (0.2 + env)


@recipe("liquid_stir")
def stir(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A spoon stirring a cup: the spoon ticking on the rim each turn (~3 a second) over a soft swirl."""
    n = _frames(d, sr)
    from .impacts import modal

    ticks = _repeat(d, sr, rng, float(rng.uniform(0.28, 0.38)), single,
                    lambda _: modal(int(0.3 * sr), sr, rng, rng.uniform(1800, 2800), 0.08, "ceramic") * rng.uniform(0.4, 1), 0.1)
    swirl = _filter(rng.standard_normal(n), sr, "bandpass", (300, 2000), order=2) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * _t(n, sr)))
    return _unit(ticks) + 0.15 * _unit(swirl)


# Only the classes YAMNet heard on most of seeds 0-3; the other recipes are kept for plans
# that name them through a related label, and as starting points for tuning.
LABELS: dict[str, str] = {
    "Plop": "liquid_plop",
    "Stream": "liquid_stream",
    "Spray": "liquid_spray",
    "Steam": "liquid_steam",
    "Hiss": "liquid_steam",
    # Liquid in general, as a spray of it: heard as "Spray" and "Liquid" on every seed.
    "Liquid": "liquid_spray",
}

# Classes these recipes model that YAMNet does not (yet) name: honest attempts, ranked
# below any confirmed sound but above another class's (the dsp source's LIKENESS_QUALITY).
LIKENESSES: dict[str, str] = {
    "Boiling": "liquid_boiling",
    "Slosh": "liquid_slosh",
    "Splash, splatter": "liquid_splash",
    "Squish": "liquid_squish",
    "Stir": "liquid_stir",
    "Waves, surf": "liquid_waves",
}
