"""Levels of a streamed clip, kept on the listener's 10 ms envelope grid.

A file too long to hold is measured block by block: per envelope step, the
mean square of the mono downmix and of the front left/right pair. That is the
clip's envelope exactly as ``events.energy_envelope_db`` computes it on the
whole signal, and enough to give each heard event its RMS level and balance
(``measure.heard_event`` measures those on the samples themselves; here a
step an event's edge cuts counts in proportion to the part inside, and event
edges mostly lie on the grid already). Memory: a few floats per 10 ms, about
20 MB an hour whatever the rate or channel count.
"""

from __future__ import annotations

import numpy as np

from ualm_agent.audio import balance_of, front_pair
from ualm_agent.schema import HeardEvent

from . import events as ev
from . import measure


class LevelGrid:
    """Feed ``add`` with blocks whose lengths are multiples of ``step`` (the last may be shorter), then ``close``."""

    def __init__(self, sample_rate: int, channels: int, step_s: float) -> None:
        self.sample_rate = sample_rate
        self.step = ev.envelope_step(sample_rate, step_s)
        self.pair = front_pair(channels)
        self.frames = 0
        self._parts: dict[str, list[np.ndarray]] = {"mono": [], "left": [], "right": []}
        self._count = np.zeros(0)
        self._energy: dict[str, np.ndarray] = {}
        self._cumulative: dict[str, np.ndarray] = {}
        self.envelope = np.full(1, -120.0)

    def add(self, block: np.ndarray, mono: np.ndarray) -> None:
        self._parts["mono"].append(ev.step_mean_squares(mono, self.step))
        if self.pair is not None:
            self._parts["left"].append(ev.step_mean_squares(block[:, self.pair[0]], self.step))
            self._parts["right"].append(ev.step_mean_squares(block[:, self.pair[1]], self.step))
        self.frames += len(mono)

    def close(self) -> None:
        """Join the blocks' steps; from here on, energies (sums of squares) up to any sample."""
        steps = -(-self.frames // self.step)
        self._count = np.full(steps, float(self.step))
        if steps:
            self._count[-1] = self.frames - (steps - 1) * self.step
        squares = {key: np.concatenate(parts) for key, parts in self._parts.items() if parts}
        self.envelope = np.full(1, -120.0) if self.frames < self.step else ev.level_db(squares["mono"])
        self._energy = {key: values * self._count for key, values in squares.items()}
        self._cumulative = {key: np.concatenate([[0.0], np.cumsum(e)]) for key, e in self._energy.items()}
        self._parts = {}

    def _upto(self, key: str, frame: int) -> float:
        """Energy of samples [0, frame); a step cut in two counts in proportion to the part taken."""
        frame = min(max(frame, 0), self.frames)
        k = min(frame // self.step, len(self._count) - 1)
        taken = (frame - k * self.step) / self._count[k]
        return float(self._cumulative[key][k] + taken * self._energy[key][k])

    def _between(self, key: str, a: int, b: int) -> float:
        return self._upto(key, b) - self._upto(key, a)

    def heard_event(self, label: str, start: float, end: float, confidence: float) -> HeardEvent:
        """The event with the RMS level and balance of its stretch, as ``measure.heard_event`` gives them."""
        a = min(int(start * self.sample_rate), self.frames - 1)
        b = min(max(a + 1, int(end * self.sample_rate)), self.frames)
        rms = float(np.sqrt(max(0.0, self._between("mono", a, b)) / (b - a)))
        return measure.measured_event(label, start, end, confidence, rms, self._balance(a, b))

    def _balance(self, a: int, b: int) -> float:
        if self.pair is None:
            return 0.0
        return balance_of(self._between("left", a, b), self._between("right", a, b))

    def balance(self) -> float:
        """The whole clip's front-pair balance."""
        return self._balance(0, self.frames)
