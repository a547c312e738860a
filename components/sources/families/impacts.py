"""Impacts: struck, dropped, broken and snapped objects, as modal and noise-burst models.

A struck object rings at its modes (frequency ratios and damping set by the material and
shape) after a short contact burst whose length sets how hard or soft the blow sounds.
Breaking things are many such events scattered in time with falling energy. Each recipe
was tuned against YAMNet in a 4 s clip (the event 0.5-3.5 s, seeds 0-3), as the coverage
benchmark renders it; its docstring says what YAMNet hears.
"""

from __future__ import annotations

import numpy as np
from ualm_agent.components.generators.dsp import (
    _filter,
    _frames,
    _hit_times,
    _place,
    _room,
    _t,
)

from . import Recipe, family_recipe

RECIPES: dict[str, Recipe] = {}
recipe = family_recipe(RECIPES)

# Material presets: mode ratios (relative to the lowest mode), each mode's decay as a
# multiple of the base decay, and the contact burst's length. Ratios are the textbook
# ones for a free bar (metal), a thin plate (glass, ceramic) and a damped beam (wood).
MATERIALS: dict[str, tuple[tuple[float, ...], tuple[float, ...], float]] = {
    "wood": ((1.0, 2.57, 4.1, 5.6), (1.0, 0.6, 0.4, 0.3), 0.0015),
    "metal": ((1.0, 2.76, 5.40, 8.93), (1.0, 0.8, 0.6, 0.45), 0.0004),
    "glass": ((1.0, 2.32, 3.87, 5.1), (1.0, 0.75, 0.55, 0.4), 0.0003),
    "ceramic": ((1.0, 1.98, 3.3, 4.6), (1.0, 0.6, 0.4, 0.3), 0.0005),
    "plastic": ((1.0, 1.9, 3.1), (1.0, 0.5, 0.3), 0.0012),
}


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (float(np.max(np.abs(x))) + 1e-9)


def modal(m: int, sr: int, rng: np.random.Generator, f0: float, decay_s: float, material: str,
          contact: float = 1.0) -> np.ndarray:
    """One strike of ``m`` frames: the material's modes over ``f0``, each detuned a little
    (no two objects alike), plus the contact noise burst that excites them."""
    ratios, decays, burst_s = MATERIALS[material]
    t = _t(m, sr)
    x = np.zeros(m)
    for k, (r, q) in enumerate(zip(ratios, decays)):
        f = f0 * r * rng.uniform(0.97, 1.03)
        if f >= sr * 0.45:
            continue
        x += rng.uniform(0.5, 1.0) / (1 + 0.5 * k) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) \
            * np.exp(-t / (decay_s * q))
    burst = rng.standard_normal(m) * np.exp(-t / (burst_s * contact))
    return _unit(x) + 0.6 * _unit(burst)


def scatter(n: int, sr: int, rng: np.random.Generator, rate_hz: float, make, start_s: float = 0.0,
            span_s: float | None = None) -> np.ndarray:
    """Events from ``make(i)`` at Poisson times (``rate_hz``) over ``span_s`` from ``start_s``."""
    out = np.zeros(n)
    span = n / sr - start_s if span_s is None else span_s
    count = max(1, int(rng.poisson(rate_hz * span)))
    times = np.sort(rng.uniform(start_s, start_s + span, count))
    for i, at in enumerate(times):
        _place(out, make(i), int(at * sr))
    return out


def _repeat(d: float, sr: int, rng: np.random.Generator, period_s: float, single: bool, make,
            jitter: float = 0.2) -> np.ndarray:
    out = np.zeros(_frames(d, sr))
    for i, at in enumerate(_hit_times(d, period_s, single, rng, jitter)):
        _place(out, make(i), int(at * sr))
    return out


# --- single objects struck -------------------------------------------------


@recipe("impact_wood_block")
def wood_block(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Hard wood struck with a stick: ~700-1100 Hz beam modes dying in ~40 ms, a hit every ~0.5 s."""
    f0 = float(rng.uniform(650, 1100))
    m = int(0.25 * sr)
    return _repeat(d, sr, rng, float(rng.uniform(0.4, 0.6)), single,
                   lambda _: modal(m, sr, rng, f0 * rng.uniform(0.98, 1.02), 0.045, "wood"))


@recipe("impact_thud")
def thud(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A heavy soft object landing: a 60-110 Hz body and a dull low-passed contact, about once a second.

    YAMNet hears "Knock"/"Thunk"/"Door" on seeds 0-3, so it serves "Thunk" and a door's "Slam"."""
    m = int(0.4 * sr)
    t = _t(m, sr)

    def hit(_: int) -> np.ndarray:
        f = rng.uniform(60, 110)
        body = np.sin(2 * np.pi * f * t * (1 + 0.3 * np.exp(-t / 0.02))) * np.exp(-t / 0.07)
        contact = _filter(rng.standard_normal(m), sr, "lowpass", 900, order=2) * np.exp(-t / 0.02)
        return _unit(body) + 0.5 * _unit(contact)

    return _room(_repeat(d, sr, rng, float(rng.uniform(0.8, 1.1)), single, hit), sr, rng, 0.05, 0.2)


@recipe("impact_bang")
def bang(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A loud sudden bang: a saturated broadband blast over a low body, in a room; a couple per clip."""
    m = int(0.8 * sr)
    t = _t(m, sr)

    def hit(_: int) -> np.ndarray:
        blast = rng.standard_normal(m) * np.exp(-t / 0.03) + 2 * _filter(rng.standard_normal(m), sr, "lowpass", 400) * np.exp(-t / 0.12)
        return np.tanh(3 * _unit(blast))

    return _room(_repeat(d, sr, rng, float(rng.uniform(1.2, 1.6)), single, hit), sr, rng, 0.12, 0.4)


@recipe("impact_metal_clang")
def metal_clang(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A metal bar or pipe struck: free-bar modes over 250-600 Hz ringing ~0.6 s."""
    f0 = float(rng.uniform(250, 600))
    m = int(1.2 * sr)
    return _repeat(d, sr, rng, float(rng.uniform(1.0, 1.4)), single,
                   lambda _: modal(m, sr, rng, f0, 0.6, "metal"))


@recipe("impact_ping")
def ping(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A small high metal ping: one nearly pure 2-4 kHz mode ringing ~0.3 s."""
    m = int(0.8 * sr)
    t = _t(m, sr)

    def hit(_: int) -> np.ndarray:
        f = rng.uniform(2000, 4000)
        return np.sin(2 * np.pi * f * t) * np.exp(-t / 0.25) + 0.2 * np.sin(2 * np.pi * 2.76 * f * t) * np.exp(-t / 0.08)

    return _repeat(d, sr, rng, float(rng.uniform(0.9, 1.3)), single, hit)


@recipe("impact_glass_clink")
def glass_clink(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Glasses touched together: glass plate modes at 2-4 kHz, ~0.2 s ring, pairs of clinks."""
    m = int(0.6 * sr)
    return _repeat(d, sr, rng, float(rng.uniform(0.6, 0.9)), single,
                   lambda _: modal(m, sr, rng, rng.uniform(2000, 3500), 0.2, "glass"))


@recipe("impact_boing")
def boing(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A spring plucked: a twangy tone whose pitch wobbles and glides, rich in harmonics."""
    m = int(0.9 * sr)
    t = _t(m, sr)

    def hit(_: int) -> np.ndarray:
        f0 = rng.uniform(90, 180)
        f = f0 * (1 + 0.5 * np.exp(-t / 0.15)) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(5, 9) * t))
        ph = 2 * np.pi * np.cumsum(f) / sr
        x = sum(np.sin(k * ph) / k for k in range(1, 8))
        return x * np.exp(-t / 0.3)

    return _repeat(d, sr, rng, 1.1, single, hit)


@recipe("impact_bounce")
def bounce(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A ball bouncing to rest: hits whose gaps and strength shrink geometrically (restitution 0.7-0.85)."""
    n = _frames(d, sr)
    out = np.zeros(n)
    f = float(rng.uniform(150, 400))
    e = float(rng.uniform(0.7, 0.85))
    gap, amp, at = float(rng.uniform(0.45, 0.6)), 1.0, 0.0
    m = int(0.15 * sr)
    while at < d - 0.02 and amp > 0.02:
        _place(out, amp * modal(m, sr, rng, f, 0.03, "plastic", contact=2.0), int(at * sr))
        at += gap
        gap *= e
        amp *= e
        if gap < 0.02:
            break
    return out


@recipe("impact_basketball")
def basketball(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A basketball dribbled: a hollow ~110-150 Hz boom with a slap on top, every ~0.55 s, in a gym."""
    m = int(0.3 * sr)
    t = _t(m, sr)

    def hit(_: int) -> np.ndarray:
        f = rng.uniform(110, 150)
        boom = np.sin(2 * np.pi * f * t) * np.exp(-t / 0.06)
        slap = _filter(rng.standard_normal(m), sr, "bandpass", (500, 4000), order=2) * np.exp(-t / 0.006)
        return _unit(boom) + 0.6 * _unit(slap)

    return _room(_repeat(d, sr, rng, float(rng.uniform(0.5, 0.6)), single, hit, 0.05), sr, rng, 0.25, 0.5)


# --- snaps, cracks and breaking ---------------------------------------------


def _crack_burst(m: int, sr: int, rng: np.random.Generator, decay_s: float, lo: float) -> np.ndarray:
    t = _t(m, sr)
    return _filter(rng.standard_normal(m), sr, "highpass", lo, order=2) * np.exp(-t / decay_s)


@recipe("impact_crack")
def crack(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A branch or board cracking: a sharp broadband crack, then a few splintering ticks."""
    m = int(0.6 * sr)

    def hit(_: int) -> np.ndarray:
        x = _crack_burst(m, sr, rng, 0.01, 300)
        x += scatter(m, sr, rng, 25, lambda _: _crack_burst(int(0.02 * sr), sr, rng, 0.003, 1500) * rng.uniform(0.1, 0.5),
                     0.01, 0.25)
        return _room(x, sr, rng, 0.04, 0.2)

    return _repeat(d, sr, rng, float(rng.uniform(1.0, 1.4)), single, hit)


@recipe("impact_splinter")
def splinter(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Wood splintering: a dense run of small cracks with wooden ring, thinning out over ~1 s."""
    n = _frames(d, sr)
    span = min(d, 1.2) if single else d
    m = int(0.06 * sr)
    out = scatter(n, sr, rng, 40, lambda _: modal(m, sr, rng, rng.uniform(500, 2500), 0.012, "wood") * rng.uniform(0.2, 1),
                  0, span)
    return out * np.exp(-_t(n, sr) / (span * 0.6))


@recipe("impact_shatter")
def shatter(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Glass breaking: a crash, then dozens of bright glass shards (2.5-6 kHz modes) falling over ~1 s.

    YAMNet hears "Glass", "Chink, clink" and "Shatter" on seeds 0-3."""
    n = _frames(d, sr)
    m = int(0.3 * sr)
    out = np.zeros(n)

    def one(at: float) -> None:
        t = _t(n, sr)
        crash = _filter(rng.standard_normal(n), sr, "highpass", 1000, order=2) * np.exp(-t / 0.05)
        tinkle = scatter(n, sr, rng, 45, lambda _: modal(m, sr, rng, rng.uniform(2500, 6000), 0.06, "glass") * rng.uniform(0.1, 0.7),
                         0.01, 1.2)
        x = (0.8 * _unit(crash) + _unit(tinkle)) * np.exp(-t / 0.6)
        _place(out, x, int(at * sr))

    for at in _hit_times(d, 2.0, single, rng, 0.1):
        one(at)
    return out


@recipe("impact_smash")
def smash(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Something heavy crashing down and breaking: a low thump under a wide crash and debris."""
    n = _frames(d, sr)
    t = _t(n, sr)
    body = _filter(rng.standard_normal(n), sr, "lowpass", 300) * np.exp(-t / 0.15)
    crash = rng.standard_normal(n) * np.exp(-t / 0.12)
    debris = scatter(n, sr, rng, 30, lambda _: modal(int(0.1 * sr), sr, rng, rng.uniform(400, 3000), 0.03,
                                                     str(rng.choice(["wood", "metal", "ceramic"]))) * rng.uniform(0.1, 0.6),
                     0.02, 1.0)
    x = _unit(body) + _unit(crash) + 0.7 * _unit(debris) * np.exp(-t / 0.7)
    return _room(np.tanh(2 * x), sr, rng, 0.1, 0.4)


@recipe("impact_snap")
def snap(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A twig or stick snapped: one short bright click with a woody ring, every ~0.8 s."""
    m = int(0.1 * sr)
    return _repeat(d, sr, rng, 0.8, single,
                   lambda _: _crack_burst(m, sr, rng, 0.004, 800) + 0.3 * modal(m, sr, rng, rng.uniform(1200, 2000), 0.01, "wood"))


@recipe("impact_slap")
def slap(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A flat hand on skin: a 0.5-4 kHz noise burst (~10 ms) with a soft flesh body."""
    m = int(0.12 * sr)
    t = _t(m, sr)

    def hit(_: int) -> np.ndarray:
        burst = _filter(rng.standard_normal(m), sr, "bandpass", (400, 4000), order=2) * np.exp(-t / 0.01)
        body = np.sin(2 * np.pi * rng.uniform(150, 250) * t) * np.exp(-t / 0.02)
        return _unit(burst) + 0.3 * body

    return _room(_repeat(d, sr, rng, float(rng.uniform(0.7, 1.0)), single, hit), sr, rng, 0.05, 0.2)


@recipe("impact_whip")
def whip(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A whip crack: a rising whoosh of the lash (~0.2 s) ending in a sonic crack."""
    m = int(0.5 * sr)
    t = _t(m, sr)

    def hit(_: int) -> np.ndarray:
        sweep = 0.25
        swish = _filter(rng.standard_normal(m), sr, "bandpass", (800, 5000), order=2) * np.clip(t / sweep, 0, 1) ** 3 * (t < sweep)
        c = int(sweep * sr)
        crack_ = np.zeros(m)
        crack_[c:] = rng.standard_normal(m - c) * np.exp(-(t[c:] - sweep) / 0.006)
        return 0.4 * _unit(swish) + _unit(crack_)

    return _room(_repeat(d, sr, rng, 1.3, single, hit), sr, rng, 0.08, 0.3)


@recipe("impact_crumple")
def crumple(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Paper or a plastic wrapper crumpled: dense, uneven crackles at 1-8 kHz in squeezes."""
    n = _frames(d, sr)
    grains = (rng.random(n) < 0.02) * rng.standard_normal(n) * rng.random(n) ** 2
    x = _filter(grains, sr, "bandpass", (1000, 7500), order=2)
    squeeze = np.clip(np.sin(2 * np.pi * rng.uniform(0.8, 1.3) * _t(n, sr) + rng.uniform(0, 6)), 0, 1) ** 0.5
    return x * (0.2 + squeeze)


@recipe("impact_crush")
def crush(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A can or box being crushed: crackles and low buckling pops under slow pressure."""
    n = _frames(d, sr)
    grains = (rng.random(n) < 0.01) * rng.standard_normal(n)
    x = _filter(grains, sr, "bandpass", (300, 5000), order=2)
    pops = scatter(n, sr, rng, 4, lambda _: modal(int(0.1 * sr), sr, rng, rng.uniform(200, 600), 0.02, "metal"))
    return _unit(x) + 0.5 * _unit(pops)


# --- sets of small objects ---------------------------------------------------


@recipe("impact_dishes")
def dishes(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Plates, cups and pans handled at a sink: ceramic and metal strikes at uneven times."""
    n = _frames(d, sr)

    def hit(_: int) -> np.ndarray:
        mat = str(rng.choice(["ceramic", "ceramic", "metal", "glass"]))
        f = rng.uniform(800, 2500) if mat != "metal" else rng.uniform(300, 900)
        return modal(int(0.5 * sr), sr, rng, f, 0.12 if mat != "ceramic" else 0.06, mat) * rng.uniform(0.3, 1)

    return scatter(n, sr, rng, 5, hit)


@recipe("impact_cutlery")
def cutlery(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Knives and forks clinking: thin metal (3-6 kHz modes, ~80 ms) in quick clusters."""
    n = _frames(d, sr)
    return scatter(n, sr, rng, 8, lambda _: modal(int(0.3 * sr), sr, rng, rng.uniform(2500, 5000), 0.08, "metal")
                   * rng.uniform(0.3, 1))


@recipe("impact_jingle")
def jingle(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Keys or coins shaken: many tiny metal strikes (4-7 kHz) in shakes twice a second."""
    n = _frames(d, sr)
    shakes = np.clip(np.sin(2 * np.pi * rng.uniform(1.8, 2.5) * _t(n, sr)), 0, 1)
    x = scatter(n, sr, rng, 40, lambda _: modal(int(0.2 * sr), sr, rng, rng.uniform(3500, 7000), 0.05, "metal") * rng.uniform(0.2, 1))
    return x * (0.1 + shakes)


@recipe("impact_coin_drop")
def coin_drop(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A coin dropped on a table: a ringing metal disc bouncing, then spinning down faster and faster."""
    n = _frames(d, sr)
    out = np.zeros(n)
    f = float(rng.uniform(3000, 5500))
    gap, amp, at = 0.2, 1.0, 0.0
    while at < min(d, 2.5) - 0.02 and gap > 0.008:
        _place(out, amp * modal(int(0.5 * sr), sr, rng, f, 0.25, "metal"), int(at * sr))
        at += gap
        gap *= 0.82
        amp *= 0.9
    return out


@recipe("impact_clatter")
def clatter(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Hard objects knocking together in a jumble: wood and plastic knocks, 15 a second, uneven."""
    n = _frames(d, sr)
    return scatter(n, sr, rng, 15, lambda _: modal(int(0.1 * sr), sr, rng, rng.uniform(500, 2500), 0.02,
                                                   str(rng.choice(["wood", "plastic"]))) * rng.uniform(0.2, 1))


@recipe("impact_rattle")
def rattle(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Loose parts rattling in a box shaken back and forth: bursts of fast small knocks."""
    n = _frames(d, sr)
    rate = float(rng.uniform(3, 5))
    shake = np.abs(np.sin(np.pi * rate * _t(n, sr))) ** 4
    x = scatter(n, sr, rng, 120, lambda _: modal(int(0.04 * sr), sr, rng, rng.uniform(1500, 4000), 0.006, "plastic"))
    return x * shake


# --- furniture and fittings --------------------------------------------------


@recipe("impact_drawer")
def drawer(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A drawer pulled out and pushed shut: a wooden slide rumble, then a knock as it closes."""
    n = _frames(d, sr)
    out = np.zeros(n)
    slide_s = min(0.6, d * 0.5)
    m = int(slide_s * sr)
    grains = (rng.random(m) < 0.05) * rng.standard_normal(m)
    slide = _filter(grains + 0.3 * rng.standard_normal(m), sr, "bandpass", (150, 2000), order=2) * np.sin(np.pi * np.arange(m) / m)
    _place(out, 0.5 * _unit(slide), 0)
    _place(out, modal(int(0.3 * sr), sr, rng, rng.uniform(180, 320), 0.05, "wood"), m)
    if not single and d > 2.0:
        _place(out, 0.5 * _unit(slide), int(1.5 * sr))
        _place(out, modal(int(0.3 * sr), sr, rng, rng.uniform(180, 320), 0.05, "wood"), int(1.5 * sr) + m)
    return _room(out, sr, rng, 0.05, 0.2)


@recipe("impact_cupboard")
def cupboard(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A cupboard door: a short hinge creak, then a hollow wooden clap as it shuts."""
    n = _frames(d, sr)
    out = np.zeros(n)
    c = int(0.3 * sr)
    rate = 60 + 40 * rng.random()
    pulses = np.exp(-((np.cumsum(rate * (1 + 0.3 * rng.standard_normal(c))) / sr % 1.0) * 12))
    creak = _filter(pulses, sr, "bandpass", (400, 3000), order=2) * np.sin(np.pi * np.arange(c) / c)
    _place(out, 0.4 * _unit(creak), 0)
    _place(out, modal(int(0.4 * sr), sr, rng, rng.uniform(150, 260), 0.07, "wood"), c)
    return _room(out, sr, rng, 0.06, 0.3)


@recipe("impact_door_slam")
def door_slam(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A door slammed: a heavy 80-130 Hz panel boom and latch rattle in a room."""
    m = int(0.8 * sr)
    t = _t(m, sr)

    def hit(_: int) -> np.ndarray:
        boom = modal(m, sr, rng, rng.uniform(80, 130), 0.12, "wood", contact=3)
        latch = modal(m, sr, rng, rng.uniform(1500, 2500), 0.03, "metal") * np.exp(-t / 0.05)
        return np.tanh(2 * (_unit(boom) + 0.3 * latch))

    return _room(_repeat(d, sr, rng, 2.0, single, hit), sr, rng, 0.15, 0.5)


@recipe("impact_sliding_door")
def sliding_door(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A sliding door rolling on its track (~1 s of low rumble and wheel ticks), then a thump at the stop."""
    n = _frames(d, sr)
    out = np.zeros(n)
    roll_s = min(1.2, d * 0.6)
    m = int(roll_s * sr)
    rumble = _filter(rng.standard_normal(m), sr, "bandpass", (80, 700), order=2)
    ticks = scatter(m, sr, rng, 20, lambda _: modal(int(0.03 * sr), sr, rng, rng.uniform(800, 1600), 0.005, "metal"))
    shape = np.sin(np.pi * np.arange(m) / m) ** 0.5
    _place(out, (_unit(rumble) + 0.3 * _unit(ticks)) * shape, 0)
    _place(out, 0.8 * modal(int(0.4 * sr), sr, rng, rng.uniform(90, 150), 0.08, "wood"), m)
    return _room(out, sr, rng, 0.08, 0.3)


@recipe("impact_zipper")
def zipper(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A zip pulled: a rapid train of tooth clicks (150-400 a second) in one or two strokes."""
    n = _frames(d, sr)
    out = np.zeros(n)
    strokes = [0.0] if single else [0.0, float(rng.uniform(1.0, 1.5))]
    for s in strokes:
        length = float(rng.uniform(0.4, 0.8))
        m = int(length * sr)
        u = np.arange(m) / m
        rate = rng.uniform(150, 250) * (1 + 0.8 * np.sin(np.pi * u))
        phase = np.cumsum(rate) / sr
        clicks = np.diff(np.floor(phase), prepend=0.0) * rng.uniform(0.5, 1, m)
        x = _filter(clicks + 0.05 * rng.standard_normal(m), sr, "bandpass", (1500, 7000), order=2)
        _place(out, x * np.sin(np.pi * u) ** 0.3, int(s * sr))
    return out


@recipe("impact_ratchet")
def ratchet(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A ratchet wrench: strokes of sharp pawl clicks (~20 a second) on a small metal body."""
    n = _frames(d, sr)
    out = np.zeros(n)
    f = float(rng.uniform(2000, 3500))
    at = 0.0
    while at < d - 0.1:
        stroke = float(rng.uniform(0.3, 0.5))
        rate = float(rng.uniform(15, 25))
        for k in range(int(stroke * rate)):
            _place(out, modal(int(0.03 * sr), sr, rng, f, 0.006, "metal"), int((at + k / rate) * sr))
        if single:
            break
        at += stroke + float(rng.uniform(0.15, 0.3))
    return out


@recipe("impact_chop")
def chop(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A knife chopping on a board: a short wooden knock with a crisp cut, ~3 a second."""
    m = int(0.1 * sr)
    return _repeat(d, sr, rng, float(rng.uniform(0.28, 0.4)), single,
                   lambda _: modal(m, sr, rng, rng.uniform(300, 500), 0.02, "wood", contact=0.5)
                   + 0.3 * _crack_burst(m, sr, rng, 0.003, 2000), 0.1)


# Only the classes YAMNet heard on most of seeds 0-3; the other recipes are kept for plans
# that name them through a related label, and as starting points for tuning.
LABELS: dict[str, str] = {
    "Thunk": "impact_thud",
    # A slammed door is heard as a heavy thud in a room ("Door"/"Knock").
    "Slam": "impact_thud",
    "Shatter": "impact_shatter",
    "Glass": "impact_shatter",
    # Glass pieces clinking as they fall: a lone two-glass clink was heard as "Ding" alone.
    "Chink, clink": "impact_shatter",
    "Ping": "impact_ping",
}

# Classes these recipes model that YAMNet does not (yet) name: honest attempts, ranked
# below any confirmed sound but above another class's (the dsp source's LIKENESS_QUALITY).
LIKENESSES: dict[str, str] = {
    "Basketball bounce": "impact_basketball",
    "Boing": "impact_boing",
    "Bouncing": "impact_bounce",
    "Chopping (food)": "impact_chop",
    "Clatter": "impact_clatter",
    "Coin (dropping)": "impact_coin_drop",
    "Crack": "impact_crack",
    "Crumpling, crinkling": "impact_crumple",
    "Crushing": "impact_crush",
    "Cupboard open or close": "impact_cupboard",
    "Cutlery, silverware": "impact_cutlery",
    "Dishes, pots, and pans": "impact_dishes",
    "Drawer open or close": "impact_drawer",
    "Keys jangling": "impact_jingle",
    "Slap, smack": "impact_slap",
    "Sliding door": "impact_sliding_door",
    "Smash, crash": "impact_smash",
    "Splinter": "impact_splinter",
    "Whip": "impact_whip",
    "Wood block": "impact_wood_block",
    "Zipper (clothing)": "impact_zipper",
}
