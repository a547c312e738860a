"""Fitting a recorded clip to the length an event asks for."""

from __future__ import annotations

import zlib

import numpy as np

from ualm_agent.roles import SoundRequest

# Silence between repeats when a short recording is looped to fill a long event.
LOOP_GAP_S = 0.25


def fit(sample: np.ndarray, n: int, sr: int, single: bool) -> np.ndarray:
    """``sample`` trimmed to ``n`` frames, or repeated with a short gap when shorter.

    A counted repeat (``single``) is played once: looping it would add occurrences."""
    out = np.zeros(n)
    if sample.size == 0 or n <= 0:
        return out
    if single or sample.size >= n:
        m = min(n, sample.size)
        out[:m] = sample[:m]
        return out
    gap = int(LOOP_GAP_S * sr)
    for at in range(0, n, sample.size + gap):
        m = min(n - at, sample.size)
        out[at : at + m] = sample[:m]
    return out


def take_rng(request: SoundRequest) -> np.random.Generator:
    """The random stream of one take: the seed's own for take 0, a fresh draw for each later take."""
    return np.random.default_rng(list(request.seed) + ([request.take] if request.take else []))


def take_index(request: SoundRequest, count: int) -> int:
    """Which of ``count`` recordings a take plays: the seed picks the first, later takes step on."""
    return (zlib.crc32(repr(tuple(request.seed)).encode("ascii")) + request.take) % max(1, count)
