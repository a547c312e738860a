"""Integrated loudness (ITU-R BS.1770-4) of any channel count, fed block by block.

pyloudnorm measures whole arrays of at most five channels. This meter takes
its K-weighting stages from pyloudnorm (same coefficients, run with scipy's
``lfilter`` carrying the filter state across blocks) and does the rest itself:
the mean square of every 100 ms step per channel, 400 ms gating blocks of four
steps (75 % overlap), then the absolute (-70 LUFS) and relative (-10 LU) gates.
Memory is one small row per 100 ms, whatever the length. On whole arrays that
pyloudnorm accepts the figures agree with its ``integrated_loudness`` (tested).
"""

from __future__ import annotations

import numpy as np

GATE_BLOCK_S = 0.4
STEPS_PER_BLOCK = 4  # 75 % overlap: a block every 100 ms
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0

# BS.1770-4 channel weights by position: front and centre 1.0, surrounds at
# 60-120 degrees 1.41, back channels 1.0, LFE left out. Channels are taken in
# the WAVE_FORMAT_EXTENSIBLE / SMPTE order that libsndfile reads and writes
# (FL FR FC LFE BL BR SL SR), the layouts each count usually means.
_SURROUND = 1.41
_WEIGHTS: dict[int, tuple[float, ...]] = {
    1: (1.0,),
    2: (1.0, 1.0),
    3: (1.0, 1.0, 1.0),  # L R C
    4: (1.0, 1.0, _SURROUND, _SURROUND),  # quad: L R Ls Rs
    5: (1.0, 1.0, 1.0, _SURROUND, _SURROUND),  # L R C Ls Rs (pyloudnorm's order)
    6: (1.0, 1.0, 1.0, 0.0, _SURROUND, _SURROUND),  # 5.1
    7: (1.0, 1.0, 1.0, 0.0, 1.0, _SURROUND, _SURROUND),  # 6.1: back centre
    8: (1.0, 1.0, 1.0, 0.0, 1.0, 1.0, _SURROUND, _SURROUND),  # 7.1: back pair, side pair
}


def channel_weights(channels: int) -> np.ndarray | None:
    """Per-channel BS.1770 weights, or None when the count names no speaker
    layout (more than 8 channels): such a file is measured as its mono downmix."""
    weights = _WEIGHTS.get(channels)
    return None if weights is None else np.array(weights)


class LoudnessMeter:
    """Feed ``add`` with [frames, channels] blocks in order, then read ``integrated()``."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        from pyloudnorm.iirfilter import IIRfilter

        self.sample_rate = sample_rate
        self._weights = channel_weights(channels)
        width = 1 if self._weights is None else channels
        # BS.1770's K-weighting as pyloudnorm's meter builds it (a high shelf, then a high pass), so the
        # figures match its own; built from the public filter class, run block by block with scipy.
        self._stages = [
            IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf"),
            IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass"),
        ]
        self._states = [np.zeros((max(len(st.a), len(st.b)) - 1, width)) for st in self._stages]
        self._frames = 0
        self._step_sums: list[np.ndarray] = []  # per 100 ms step: the sum of squares per channel
        self._open = np.zeros(width)  # the step being filled

    def add(self, block: np.ndarray) -> None:
        from scipy.signal import lfilter

        x = np.asarray(block, dtype=np.float64)
        if self._weights is None:
            x = x.mean(axis=1, keepdims=True)
        for i, stage in enumerate(self._stages):
            x, self._states[i] = lfilter(stage.b, stage.a, x, axis=0, zi=self._states[i])
            x *= stage.passband_gain
        self._add_squares(x * x)

    def _step_start(self, step: int) -> int:
        # The same sample bounds pyloudnorm gives its gating blocks.
        return int(GATE_BLOCK_S * (step / STEPS_PER_BLOCK) * self.sample_rate)

    def _add_squares(self, squares: np.ndarray) -> None:
        start, end = self._frames, self._frames + len(squares)
        bounds = [0]
        step = len(self._step_sums) + 1
        while self._step_start(step) < end:
            bounds.append(self._step_start(step) - start)
            step += 1
        bounds.append(len(squares))
        for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
            if i > 0:  # a step boundary: the open step is complete
                self._step_sums.append(self._open)
                self._open = np.zeros_like(self._open)
            self._open = self._open + squares[a:b].sum(axis=0)
        self._frames = end

    def integrated(self) -> float | None:
        """Gated loudness in LUFS; None when under one gating block or nothing passes the gates."""
        rate = self.sample_rate
        duration = self._frames / rate
        if duration < GATE_BLOCK_S:
            return None
        blocks = int(np.round((duration - GATE_BLOCK_S) / (GATE_BLOCK_S / STEPS_PER_BLOCK))) + 1
        # The last block may reach past the end (pyloudnorm rounds the count): it sums what is there.
        steps = np.zeros((blocks + STEPS_PER_BLOCK - 1, len(self._open)))
        measured = np.array([*self._step_sums, self._open])[: len(steps)]
        steps[: len(measured)] = measured
        # Mean square per gating block and channel (pyloudnorm's z), then its loudness.
        z = sum(steps[k : k + blocks] for k in range(STEPS_PER_BLOCK)) / (GATE_BLOCK_S * rate)
        weights = np.ones(z.shape[1]) if self._weights is None else self._weights
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10.0 * np.log10(z @ weights)
        passed = block_lufs >= ABSOLUTE_GATE_LUFS
        if not passed.any():
            return None
        relative = -0.691 + 10.0 * np.log10(z[passed].mean(axis=0) @ weights) + RELATIVE_GATE_LU
        passed = (block_lufs > relative) & (block_lufs > ABSOLUTE_GATE_LUFS)
        if not passed.any():
            return None
        value = -0.691 + 10.0 * np.log10(z[passed].mean(axis=0) @ weights)
        return float(value) if np.isfinite(value) else None
