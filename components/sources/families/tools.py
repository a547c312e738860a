"""Tools, household machines and small mechanisms.

Motors are a rotation rate with harmonics (the whine) plus load noise that follows the work
being done; mechanisms are trains of small modal clicks (pawls, gears, shutters, keys) timed
by what drives them. Each recipe was tuned against YAMNet in a 4 s clip (the event
0.5-3.5 s, seeds 0-3).
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
from .impacts import _repeat, _unit, modal, scatter

RECIPES: dict[str, Recipe] = {}
recipe = family_recipe(RECIPES)


def _motor(n: int, sr: int, rng: np.random.Generator, f0: np.ndarray | float, harmonics: int, tilt: float,
           rough: float) -> np.ndarray:
    """A motor's whine: ``harmonics`` partials of the rotation rate ``f0`` (amplitude falling as
    k**-tilt), each with a little phase jitter, times (1 + rough * noise) for brush and load noise."""
    f = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,)) * (1 + 0.003 * np.cumsum(rng.standard_normal(n)) / np.sqrt(n))
    phase = 2 * np.pi * np.cumsum(f) / sr
    x = np.zeros(n)
    for k in range(1, harmonics + 1):
        x += k ** -tilt * np.sin(k * phase + rng.uniform(0, 6.3))
    return x * (1 + rough * _filter(rng.standard_normal(n), sr, "lowpass", 2000, order=1))


def _ramp(n: int, sr: int, up_s: float, down_s: float) -> np.ndarray:
    t = _t(n, sr)
    return np.clip(t / up_s, 0, 1) * np.clip((n / sr - t) / down_s, 0, 1)


@recipe("tool_power_saw")
def power_saw(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A circular saw: a high motor whine (~90-110 Hz rotation, many harmonics) that sags and
    screams as the blade bites, with cutting noise during the cut."""
    n = _frames(d, sr)
    t = _t(n, sr)
    cut = np.clip((t - 0.4) / 0.1, 0, 1) * np.clip((d - 0.3 - t) / 0.1, 0, 1)
    f = rng.uniform(90, 110) * (1 - 0.15 * cut)
    whine = _motor(n, sr, rng, f, 30, 0.7, 0.3)
    chips = _filter(rng.standard_normal(n), sr, "bandpass", (1500, 7000), order=2) * cut
    return (_unit(whine) + 0.6 * _unit(chips)) * _ramp(n, sr, 0.2, 0.2)


@recipe("tool_sewing_machine")
def sewing_machine(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A sewing machine: needle-bar clatter (~12 stitches a second) over a small motor whine."""
    n = _frames(d, sr)
    rate = float(rng.uniform(10, 14))
    out = np.zeros(n)
    for k in range(int(d * rate)):
        _place(out, modal(int(0.04 * sr), sr, rng, rng.uniform(1500, 2200), 0.006, "metal"), int(k / rate * sr))
        _place(out, 0.5 * modal(int(0.04 * sr), sr, rng, rng.uniform(300, 500), 0.01, "plastic"), int((k + 0.5) / rate * sr))
    whine = _motor(n, sr, rng, rate * 4, 10, 1.0, 0.2)
    return _unit(out) + 0.3 * _unit(whine)


@recipe("tool_lawn_mower")
def lawn_mower(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A petrol lawn mower: a small single-cylinder engine (~45-55 firings a second) with
    blade whoosh and grass hiss."""
    n = _frames(d, sr)
    rate = rng.uniform(45, 55)
    phase = np.cumsum(np.full(n, rate) * (1 + 0.02 * rng.standard_normal(n))) / sr
    pulses = np.exp(-(phase % 1.0) * 6) * (1 + 0.5 * rng.standard_normal(n))
    body = _filter(pulses, sr, "lowpass", 1500, order=2)
    hiss = _filter(rng.standard_normal(n), sr, "bandpass", (1000, 5000), order=2)
    return (_unit(body) + 0.25 * _unit(hiss)) * _ramp(n, sr, 0.2, 0.2)


@recipe("tool_blender")
def blender(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A kitchen blender: a loud universal-motor whine (~300-400 Hz) that drops under load as
    the contents churn, with chopping noise."""
    n = _frames(d, sr)
    t = _t(n, sr)
    load = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1.5, 3) * t) ** 2
    f = rng.uniform(300, 400) * (1 - 0.1 * load)
    whine = _motor(n, sr, rng, f, 20, 0.8, 0.5)
    churn = _filter(rng.standard_normal(n), sr, "bandpass", (200, 3000), order=2) * load
    return (_unit(whine) + 0.5 * _unit(churn)) * _ramp(n, sr, 0.15, 0.15)


@recipe("tool_microwave")
def microwave(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A microwave oven running: transformer hum (100/120 Hz and harmonics) and fan noise, ending in three beeps."""
    n = _frames(d, sr)
    mains = float(rng.choice([50.0, 60.0]))
    hum = _motor(n, sr, rng, 2 * mains, 12, 0.8, 0.1)
    fan = _filter(_pink(n, rng), sr, "bandpass", (200, 3000), order=2)
    out = (_unit(hum) * 0.5 + _unit(fan) * 0.5)
    run = max(0.2, d - 1.0)
    out[int(run * sr):] = 0
    m = int(0.15 * sr)
    beep = np.sin(2 * np.pi * rng.choice([1800.0, 2000.0, 2400.0]) * _t(m, sr))
    for k in range(3):
        _place(out, beep, int((run + 0.1 + 0.3 * k) * sr))
    return out


@recipe("tool_printer")
def printer(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """An inkjet printer: the head's stepper motor whining across (passes ~0.6 s), paper feed clicks between."""
    n = _frames(d, sr)
    out = np.zeros(n)
    at = 0.0
    while at < d - 0.2:
        length = float(rng.uniform(0.5, 0.7))
        m = int(length * sr)
        step = _motor(m, sr, rng, rng.uniform(400, 700), 8, 0.5, 0.4) * np.sin(np.pi * np.arange(m) / m) ** 0.3
        _place(out, _unit(step), int(at * sr))
        _place(out, modal(int(0.05 * sr), sr, rng, rng.uniform(800, 1500), 0.01, "plastic"), int((at + length + 0.05) * sr))
        at += length + float(rng.uniform(0.15, 0.3))
    return out


@recipe("tool_cash_register")
def cash_register(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A till: a few key clacks, the drawer's bell ring, and the drawer sliding out with a clunk."""
    n = _frames(d, sr)
    out = np.zeros(n)
    at = 0.0
    for _ in range(int(rng.integers(3, 6))):
        _place(out, modal(int(0.06 * sr), sr, rng, rng.uniform(900, 1600), 0.012, "plastic"), int(at * sr))
        at += float(rng.uniform(0.12, 0.2))
    at += 0.1
    m = int(1.0 * sr)
    f = rng.uniform(2500, 3200)
    bell = modal(m, sr, rng, f, 0.4, "metal")
    _place(out, bell, int(at * sr))
    slide = _filter(rng.standard_normal(int(0.25 * sr)), sr, "bandpass", (200, 2000), order=2) * 0.3
    _place(out, slide, int((at + 0.05) * sr))
    _place(out, modal(int(0.2 * sr), sr, rng, rng.uniform(150, 250), 0.04, "metal"), int((at + 0.3) * sr))
    return _room(out, sr, rng, 0.05, 0.2)


@recipe("tool_camera")
def camera(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A camera shot: the shutter's sharp broadband slap, then a quarter second of small
    winder and mirror ticks; a shot every 1-1.4 s. YAMNet hears "Camera" and
    "Single-lens reflex camera" on seeds 0-3 (a bare click pair was heard as a mouse)."""
    m = int(0.6 * sr)

    def shot(_: int) -> np.ndarray:
        x = _filter(rng.standard_normal(m), sr, "highpass", 300, order=2) * np.exp(-_t(m, sr) / 0.01)
        x += scatter(m, sr, rng, 25, lambda _: _filter(rng.standard_normal(int(0.02 * sr)), sr, "highpass", 1500, order=2)
                     * np.exp(-_t(int(0.02 * sr), sr) / 0.003) * rng.uniform(0.1, 0.5), 0.01, 0.25)
        return _room(x, sr, rng, 0.04, 0.2)

    return _repeat(d, sr, rng, float(rng.uniform(1.0, 1.4)), single, shot)


@recipe("tool_clockwork")
def clockwork(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A clockwork escapement or pawl: one crisp click (a 4 ms high-passed burst) on a small
    1.2-2 kHz ring every 0.8 s. YAMNet hears "Tick"/"Clock", and "Mechanisms" on only
    some seeds, so no class is filed for it yet."""
    m = int(0.1 * sr)
    t = _t(m, sr)
    return _repeat(d, sr, rng, 0.8, single,
                   lambda _: _filter(rng.standard_normal(m), sr, "highpass", 800, order=2) * np.exp(-t / 0.004)
                   + 0.3 * modal(m, sr, rng, rng.uniform(1200, 2000), 0.01, "wood"))


@recipe("tool_typewriter")
def typewriter(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A manual typewriter: hard typebar strikes on the platen (~6 a second, uneven) with a carriage bell."""
    n = _frames(d, sr)
    out = np.zeros(n)
    at = 0.0
    while at < d - 0.05:
        hit = modal(int(0.08 * sr), sr, rng, rng.uniform(700, 1100), 0.015, "metal", contact=3) \
            + modal(int(0.08 * sr), sr, rng, rng.uniform(200, 300), 0.02, "wood")
        _place(out, hit * rng.uniform(0.6, 1), int(at * sr))
        at += float(rng.uniform(0.1, 0.25))
    if not single and d > 2:
        _place(out, 0.5 * modal(int(0.6 * sr), sr, rng, 3000, 0.3, "metal"), int((d - 0.7) * sr))
    return out


@recipe("tool_keyboard")
def keyboard(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A computer keyboard: plastic key clicks and bottoming-out thocks, ~8 a second in bursts."""
    n = _frames(d, sr)
    out = np.zeros(n)
    at = 0.0
    while at < d - 0.03:
        k = modal(int(0.04 * sr), sr, rng, rng.uniform(2000, 3500), 0.004, "plastic") \
            + 0.6 * modal(int(0.04 * sr), sr, rng, rng.uniform(400, 700), 0.008, "plastic")
        _place(out, k * rng.uniform(0.5, 1), int(at * sr))
        at += float(rng.uniform(0.07, 0.16)) if rng.random() > 0.1 else float(rng.uniform(0.3, 0.5))
    return out


@recipe("tool_electric_toothbrush")
def electric_toothbrush(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A sonic toothbrush: a ~250 Hz buzz rich in harmonics, its load changing as it moves in the mouth."""
    n = _frames(d, sr)
    f = rng.uniform(230, 270)
    buzz = _motor(n, sr, rng, f, 15, 0.6, 0.2)
    load = 0.7 + 0.3 * np.sin(2 * np.pi * rng.uniform(1, 2) * _t(n, sr)) ** 2
    return _unit(buzz) * load * _ramp(n, sr, 0.05, 0.05)


@recipe("tool_scissors")
def scissors(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Scissors cutting paper: each snip a short metallic slide ending in a click, ~2 a second."""
    m = int(0.2 * sr)

    def snip(_: int) -> np.ndarray:
        u = np.arange(m) / m
        slide = _filter(rng.standard_normal(m), sr, "bandpass", (2500, 7500), order=2) * u ** 2 * (u < 0.8)
        x = 0.5 * _unit(slide)
        _place(x, modal(int(0.04 * sr), sr, rng, rng.uniform(2500, 4000), 0.006, "metal"), int(0.8 * m))
        return x

    return _repeat(d, sr, rng, float(rng.uniform(0.4, 0.6)), single, snip)


@recipe("tool_gears")
def gears(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """Gears and a clockwork train turning: regular tooth clicks (~25 a second) with a slower escapement tick."""
    n = _frames(d, sr)
    out = np.zeros(n)
    rate = float(rng.uniform(20, 30))
    for k in range(int(d * rate)):
        _place(out, modal(int(0.02 * sr), sr, rng, rng.uniform(2500, 3500), 0.003, "metal") * rng.uniform(0.3, 0.6),
               int(k / rate * sr))
    tick_rate = rate / 6
    for k in range(int(d * tick_rate)):
        _place(out, modal(int(0.04 * sr), sr, rng, rng.uniform(1200, 1600), 0.008, "metal"), int(k / tick_rate * sr))
    return out


@recipe("tool_ratchet")
def ratchet(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A socket wrench ratcheting: pawl snaps (~25 a second) in strokes of ~0.4 s."""
    n = _frames(d, sr)
    out = np.zeros(n)
    at = 0.0
    while at < d - 0.1:
        rate = float(rng.uniform(20, 30))
        for k in range(int(rng.uniform(0.3, 0.5) * rate)):
            c = _filter(rng.standard_normal(int(0.02 * sr)), sr, "highpass", 1500, order=2) * np.exp(-_t(int(0.02 * sr), sr) / 0.002)
            _place(out, c, int((at + k / rate) * sr))
        if single:
            break
        at += float(rng.uniform(0.6, 0.8))
    return out


@recipe("tool_light_switch")
def light_switch(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A wall switch flicked: a crisp plastic snap with a tiny spring ring, on and off."""
    m = int(0.08 * sr)
    return _repeat(d, sr, rng, float(rng.uniform(0.9, 1.3)), single,
                   lambda _: modal(m, sr, rng, rng.uniform(1800, 3000), 0.006, "plastic", contact=0.5))


@recipe("tool_air_conditioning")
def air_conditioning(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """An air conditioner: fan airflow (pink noise, 100-3000 Hz) over a compressor hum."""
    n = _frames(d, sr)
    air = _filter(_pink(n, rng), sr, "bandpass", (100, 3000), order=2)
    hum = _motor(n, sr, rng, float(rng.choice([50.0, 60.0])), 6, 1.0, 0.0)
    return _unit(air) + 0.2 * _unit(hum)


@recipe("tool_pulleys")
def pulleys(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A rope over a pulley: a squeaking sheave (stick-slip ~400-800 Hz, wavering) and rope rub, hauled in pulls."""
    n = _frames(d, sr)
    t = _t(n, sr)
    f = rng.uniform(400, 800) * (1 + 0.1 * np.sin(2 * np.pi * 0.8 * t))
    phase = np.cumsum(f * (1 + 0.05 * rng.standard_normal(n))) / sr
    squeak = _filter(np.exp(-(phase % 1.0) * 8), sr, "highpass", 200, order=2)
    rub = _filter(rng.standard_normal(n), sr, "bandpass", (300, 3000), order=2)
    pulls = np.clip(np.sin(2 * np.pi * rng.uniform(0.6, 0.9) * t), 0, 1)
    return (_unit(squeak) + 0.5 * _unit(rub)) * pulls


@recipe("tool_whir")
def whir(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A small fan or spinning rotor whirring: a soft blade-rate hum (~150-250 Hz) over airy noise."""
    n = _frames(d, sr)
    hum = _motor(n, sr, rng, rng.uniform(150, 250), 5, 1.5, 0.3)
    air = _filter(rng.standard_normal(n), sr, "bandpass", (300, 3000), order=2)
    return (_unit(hum) + 0.5 * _unit(air)) * _ramp(n, sr, 0.3, 0.3)


@recipe("tool_vibration")
def vibration(d: float, sr: int, rng: np.random.Generator, single: bool) -> np.ndarray:
    """A phone or appliance vibrating on a table: a rattling ~150-200 Hz buzz in pulses."""
    n = _frames(d, sr)
    buzz = _motor(n, sr, rng, rng.uniform(150, 200), 20, 0.4, 0.8)
    gate = (np.sin(2 * np.pi * rng.uniform(0.8, 1.2) * _t(n, sr)) > -0.2).astype(float)
    gate = np.convolve(gate, np.ones(int(0.01 * sr)) / int(0.01 * sr), mode="same")
    return _unit(buzz) * gate


# Only the classes YAMNet heard on most of seeds 0-3; the other recipes are kept for plans
# that name them through a related label, and as starting points for tuning.
LABELS: dict[str, str] = {
    "Camera": "tool_camera",
    "Single-lens reflex camera": "tool_camera",
}

# Classes these recipes model that YAMNet does not (yet) name: honest attempts, ranked
# below any confirmed sound but above another class's (the dsp source's LIKENESS_QUALITY).
LIKENESSES: dict[str, str] = {
    "Cash register": "tool_cash_register",
    "Gears": "tool_gears",
    "Microwave oven": "tool_microwave",
    "Printer": "tool_printer",
    "Pulleys": "tool_pulleys",
    "Ratchet, pawl": "tool_ratchet",
    "Scissors": "tool_scissors",
    "Sewing machine": "tool_sewing_machine",
    "Vibration": "tool_vibration",
    "Whir": "tool_whir",
}
