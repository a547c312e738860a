"""Levels of a streamed clip, kept on the listener's 10 ms envelope grid.

A file too long to hold is measured block by block: per envelope step, the
mean square of the mono downmix and of the front left/right pair. That is the
clip's envelope exactly as ``events.energy_envelope_db`` computes it on the
whole signal, and enough to give each heard event its RMS level and balance
(``measure.heard_event`` measures those on the samples themselves; here an
event's edges fall on the nearest step edge, and event edges already lie on
the grid or on the clip's end). Memory: three floats per 10 ms, about 9 MB an
hour whatever the rate or channel count.
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
        self.envelope = np.full(1, -120.0)

    def add(self, block: np.ndarray, mono: np.ndarray) -> None:
        self._parts["mono"].append(ev.step_mean_squares(mono, self.step))
        if self.pair is not None:
            self._parts["left"].append(ev.step_mean_squares(block[:, self.pair[0]], self.step))
            self._parts["right"].append(ev.step_mean_squares(block[:, self.pair[1]], self.step))
        self.frames += len(mono)

    def close(self) -> None:
        """Join the blocks' steps into energies (mean square x samples) per step."""
        steps = -(-self.frames // self.step)
        self._count = np.full(steps, float(self.step))
        if steps:
            self._count[-1] = self.frames - (steps - 1) * self.step
        squares = {key: np.concatenate(parts) for key, parts in self._parts.items() if parts}
        self.envelope = np.full(1, -120.0) if self.frames < self.step else ev.level_db(squares["mono"])
        self._energy = {key: values * self._count for key, values in squares.items()}
        self._parts = {}

    def _step_at(self, frame: int) -> int:
        """The step edge nearest ``frame`` (the clip's end for a frame at or past it)."""
        steps = len(self._count)
        return steps if frame >= self.frames else min(steps, int(round(frame / self.step)))

    def _sum(self, key: str, a: int, b: int) -> float:
        return float(self._energy[key][a:b].sum())

    def heard_event(self, label: str, start: float, end: float, confidence: float) -> HeardEvent:
        """The event with the RMS level and balance of its stretch, as ``measure.heard_event`` gives them."""
        a = self._step_at(int(start * self.sample_rate))
        b = max(a + 1, self._step_at(int(end * self.sample_rate)))
        samples = float(self._count[a:b].sum())
        rms = float(np.sqrt(self._sum("mono", a, b) / samples)) if samples else 0.0
        return measure.measured_event(label, start, end, confidence, rms, self._balance(a, b))

    def _balance(self, a: int, b: int) -> float:
        return 0.0 if self.pair is None else balance_of(self._sum("left", a, b), self._sum("right", a, b))

    def balance(self) -> float:
        """The whole clip's front-pair balance."""
        return self._balance(0, len(self._count))
