"""Fitting a recorded clip to the length an event asks for."""

from __future__ import annotations

import zlib

import numpy as np

from ualm_agent.roles import SoundRequest

# Silence between repeats when a short impulsive recording (a bark, a knock) is looped to fill a
# long event: longer than the listener's 0.2 s split point, so the repeats stay countable.
LOOP_GAP_S = 0.25
# A sustained recording (rain, an engine) is looped with overlapping copies instead, so the
# listener hears one continuous sound; the crossfade is capped at a quarter of the recording.
LOOP_CROSSFADE_S = 0.1
# Sustained: at least this share of its 20 ms frames lies within SUSTAINED_SPREAD_DB of the median
# frame level. A burst decays through that band in a few frames; a bark with silence around it
# has most frames far from its median.
SUSTAINED_FRAME_S = 0.02
SUSTAINED_SPREAD_DB = 20.0
SUSTAINED_SHARE = 0.8

# A recording quieter than this at its peak, or shorter, plays as nothing: the mixer would take its
# silence for a failed round, so the sources hand such a file over like a broken one.
SILENT_PEAK = 1e-4
SHORTEST_S = 0.01

# A counted repeat plays one sound of a recording that holds several (a dog's barks, a
# duck's quacks): its loudest, a run of 10 ms frames within a floor of the peak that gaps
# of at least HIT_GAP_S bound; bursts shorter than HIT_MIN_S (clicks) are no sound. The
# deepest floor whose loudest burst is at most HIT_MAX_S long is used: a deep one keeps a
# bark's tail (YAMNet then names 18 of 18 counted barks, against 6 of 18 cut at 20 dB),
# a shallower one still parts quacks or croaks that never fall 30 dB between them.
HIT_FLOORS_DB = (30.0, 20.0, 12.0)
HIT_MAX_S = 2.0
HIT_GAP_S = 0.06
HIT_MIN_S = 0.03
HIT_FADE_S = 0.01


def unusable(clip: np.ndarray, sr: int) -> str | None:
    """Why ``clip`` cannot stand for a sound (silent, too short), or None when it can."""
    if clip.size < SHORTEST_S * sr:
        return f"it is too short ({1000 * clip.size / sr:.0f} ms)"
    if float(np.max(np.abs(clip))) < SILENT_PEAK:
        return "it is silent"
    return None


def loudest_hit(clip: np.ndarray, sr: int) -> np.ndarray:
    """The loudest single sound in ``clip``, from its start to a short fade after its end.

    A clip too short to frame, or with no sound in it, comes back unchanged."""
    hop = max(1, round(0.01 * sr))
    frames = clip.size // hop
    if frames < 2:
        return clip
    env = np.sqrt(np.mean(np.square(clip[: frames * hop].astype(np.float64)).reshape(frames, hop), axis=1))
    if not env.max() > 0:
        return clip  # silence (or NaN): no frame is loud, and there is no burst to pick
    for floor in HIT_FLOORS_DB:
        loud = np.flatnonzero(env > env.max() * 10 ** (-floor / 20))
        # Split the loud frames where they leave a gap of HIT_GAP_S or more.
        bursts = np.split(loud, np.flatnonzero(np.diff(loud) > round(HIT_GAP_S / 0.01)) + 1)
        bursts = [b for b in bursts if (b[-1] - b[0] + 1) * 0.01 >= HIT_MIN_S] or bursts
        hit = max(bursts, key=lambda b: float(env[b].max()))
        if (hit[-1] - hit[0] + 1) * 0.01 <= HIT_MAX_S:
            break
    fade = round(HIT_FADE_S * sr)
    start, end = hit[0] * hop, min(clip.size, (hit[-1] + 1) * hop + fade)
    out = np.array(clip[start:end], dtype=np.float64)
    tail = min(fade, out.size)
    out[out.size - tail :] *= np.linspace(1.0, 0.0, tail)
    return out


def fit(sample: np.ndarray, n: int, sr: int, single: bool) -> np.ndarray:
    """``sample`` trimmed to ``n`` frames, or looped when shorter: seamlessly when sustained, with
    a short gap between copies when impulsive.

    A counted repeat (``single``) is played once: looping it would add occurrences."""
    out = np.zeros(n)
    if sample.size == 0 or n <= 0:
        return out
    if single or sample.size >= n:
        m = min(n, sample.size)
        out[:m] = sample[:m]
        return out
    if is_sustained(sample, sr):
        return _crossfade_loop(_trim_quiet_edges(sample, sr), n, sr)
    gap = int(LOOP_GAP_S * sr)
    for at in range(0, n, sample.size + gap):
        m = min(n - at, sample.size)
        out[at : at + m] = sample[:m]
    return out


def _frame_db(sample: np.ndarray, sr: int) -> np.ndarray:
    hop = max(1, round(SUSTAINED_FRAME_S * sr))
    frames = max(1, sample.size // hop)
    x = np.resize(np.asarray(sample, dtype=np.float64), frames * hop).reshape(frames, hop)
    return 10 * np.log10(np.mean(x**2, axis=1) + 1e-12)


def is_sustained(sample: np.ndarray, sr: int) -> bool:
    """Whether a recording holds its level (rain, a fan) rather than striking and dying away."""
    db = _frame_db(sample, sr)
    if db.size < 3:
        return False  # too short to hold a level: treat as a hit
    return float(np.mean(np.abs(db - np.median(db)) <= SUSTAINED_SPREAD_DB)) >= SUSTAINED_SHARE


def _trim_quiet_edges(sample: np.ndarray, sr: int) -> np.ndarray:
    """Drops leading and trailing frames far below the median level (a fade or silence in the
    recording would otherwise come back at every join)."""
    db = _frame_db(sample, sr)
    loud = np.flatnonzero(db >= np.median(db) - SUSTAINED_SPREAD_DB)
    hop = max(1, round(SUSTAINED_FRAME_S * sr))
    return sample[loud[0] * hop : min(sample.size, (loud[-1] + 1) * hop)]


def _crossfade_loop(sample: np.ndarray, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    xf = max(1, min(round(LOOP_CROSSFADE_S * sr), sample.size // 4))
    # Equal-power ramps: the copies are unrelated stretches of noise-like sound, so their powers add.
    ramp = np.sin(0.5 * np.pi * (np.arange(xf) + 0.5) / xf)
    body = np.asarray(sample, dtype=np.float64).copy()
    body[:xf] *= ramp
    body[-xf:] *= ramp[::-1]
    step = max(1, sample.size - xf)
    for at in range(0, n, step):
        m = min(n - at, sample.size)
        piece = body[:m].copy()
        if at == 0:
            piece[: min(m, xf)] = sample[: min(m, xf)]  # the first copy starts as recorded
        out[at : at + m] += piece
    return out


def take_rng(request: SoundRequest) -> np.random.Generator:
    """The random stream of one take: the seed's own for take 0, a fresh draw for each later take."""
    return np.random.default_rng(list(request.seed) + ([request.take] if request.take else []))


def take_index(request: SoundRequest, count: int) -> int:
    """Which of ``count`` recordings a take plays: the seed picks the first, later takes step on."""
    return (zlib.crc32(repr(tuple(request.seed)).encode("ascii")) + request.take) % max(1, count)
