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
