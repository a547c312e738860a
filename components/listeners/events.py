"""Turn per-patch class probabilities into timed events.

Patch ``i`` covers ``[i*hop, i*hop + window]``; its score is placed at the
patch centre and stands for the ``hop``-long stretch around it, so an event
running over patches ``a..b`` spans ``[centre(a) - hop/2, centre(b) + hop/2]``.
That keeps onsets within half a hop instead of a whole window early.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class SparseScores:
    """Patch probabilities kept only where they reach ``floor``, for files too long
    to hold every class of every patch (521 floats per patch).

    With ``floor`` at or below every keep threshold, ``active`` gives
    ``frame_spans`` the same spans as the dense scores: a value under the floor
    can neither start nor hold a run, nor be a run's maximum.
    """

    def __init__(self, floor: float, classes: int) -> None:
        self.floor = floor
        self.classes = classes
        self.patches = 0
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._values: list[np.ndarray] = []

    def add(self, probs: np.ndarray) -> None:
        rows, cols = np.nonzero(probs >= self.floor)
        self._rows.append((rows + self.patches).astype(np.int32))
        self._cols.append(cols.astype(np.int16))
        self._values.append(probs[rows, cols].astype(np.float32))
        self.patches += len(probs)

    def active(self, start_thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(classes that start a run somewhere, their dense scores [patches, len(classes)], 0 under the floor)."""
        rows = np.concatenate([np.zeros(0, np.int32), *self._rows])
        cols = np.concatenate([np.zeros(0, np.int16), *self._cols])
        values = np.concatenate([np.zeros(0, np.float32), *self._values])
        starting = values >= start_thresholds[cols]
        classes = np.unique(cols[starting]).astype(np.int64)
        position = np.full(self.classes, -1)
        position[classes] = np.arange(len(classes))
        dense = np.zeros((self.patches, len(classes)), dtype=np.float32)
        keep = position[cols] >= 0
        dense[rows[keep], position[cols[keep]]] = values[keep]
        return classes, dense


@dataclass(frozen=True)
class Span:
    label_index: int
    start_s: float
    end_s: float
    confidence: float


def class_runs(
    active_start: np.ndarray, active_keep: np.ndarray, fill_gap: int = 1
) -> list[tuple[int, int]]:
    """Hysteresis runs over one class's patches as inclusive (first, last) indices.

    A run starts where ``active_start`` holds and goes on while ``active_keep``
    holds; runs of the same class separated by at most ``fill_gap`` patches merge.
    """
    runs: list[tuple[int, int]] = []
    n = len(active_start)
    i = 0
    while i < n:
        if not active_start[i]:
            i += 1
            continue
        first = i
        while first > 0 and active_keep[first - 1] and not _in_runs(runs, first - 1):
            first -= 1
        last = i
        while last + 1 < n and active_keep[last + 1]:
            last += 1
        if runs and first - runs[-1][1] - 1 <= fill_gap:
            runs[-1] = (runs[-1][0], last)
        else:
            runs.append((first, last))
        i = last + 1
    return runs


def _in_runs(runs: list[tuple[int, int]], index: int) -> bool:
    return bool(runs) and runs[-1][1] >= index


def frame_spans(
    probs: np.ndarray,
    start_thresholds: np.ndarray,
    keep_thresholds: np.ndarray,
    hop_s: float,
    window_s: float,
    duration_s: float,
    fill_gap: int = 1,
) -> list[Span]:
    """Events for every class from probabilities [patches, classes]."""
    spans: list[Span] = []
    if probs.size == 0:
        return spans
    starts = probs >= start_thresholds[None, :]
    keeps = probs >= keep_thresholds[None, :]
    for c in np.flatnonzero(starts.any(axis=0)):
        for first, last in class_runs(starts[:, c], keeps[:, c], fill_gap):
            centre_first = first * hop_s + window_s / 2
            centre_last = last * hop_s + window_s / 2
            start = max(0.0, centre_first - hop_s / 2)
            end = min(duration_s, centre_last + hop_s / 2)
            # A clip shorter than one window: the patch holds all of it.
            if end <= start:
                start, end = 0.0, duration_s
            spans.append(Span(int(c), start, end, float(probs[first : last + 1, c].max())))
    return spans


def bridge_spans(spans: list[Span], classes: set[int], max_gap_s: float) -> list[Span]:
    """Join spans of each class in ``classes`` separated by at most ``max_gap_s``;
    other spans pass through unchanged."""
    out = [sp for sp in spans if sp.label_index not in classes]
    for c in sorted(classes):
        joined: list[Span] = []
        for sp in sorted((sp for sp in spans if sp.label_index == c), key=lambda sp: sp.start_s):
            if joined and sp.start_s - joined[-1].end_s <= max_gap_s:
                last = joined[-1]
                joined[-1] = Span(c, last.start_s, max(last.end_s, sp.end_s), max(last.confidence, sp.confidence))
            else:
                joined.append(sp)
        out.extend(joined)
    return out


def energy_envelope_db(mono: np.ndarray, rate: int, step_s: float = 0.01) -> np.ndarray:
    """Short-term RMS level in dBFS every ``step_s`` seconds."""
    step = envelope_step(rate, step_s)
    if len(mono) < step:
        return np.full(1, -120.0)
    return level_db(step_mean_squares(mono, step))


def envelope_step(rate: int, step_s: float = 0.01) -> int:
    """Samples per envelope step."""
    return max(1, int(round(rate * step_s)))


def step_mean_squares(mono: np.ndarray, step: int) -> np.ndarray:
    """Mean square of every ``step`` samples, a shorter last step included. Blocks
    cut at multiples of ``step`` give, joined, exactly what the whole signal gives."""
    usable = (len(mono) // step) * step
    blocks = mono[:usable].astype(np.float64).reshape(-1, step)
    squares = np.mean(blocks**2, axis=1)
    if len(mono) > usable:
        squares = np.append(squares, np.mean(mono[usable:].astype(np.float64) ** 2))
    return squares


def level_db(mean_square: np.ndarray | float) -> np.ndarray:
    """RMS level in dBFS (floored at -120 dB) of mean squares."""
    return 20.0 * np.log10(np.maximum(np.sqrt(mean_square), 1e-6))


def sound_regions(
    envelope_db: np.ndarray,
    start_s: float,
    end_s: float,
    step_s: float,
    below_peak_db: float,
    floor_db: float,
    min_gap_s: float,
    background_db: float | None = None,
    above_background_db: float = 6.0,
) -> list[tuple[float, float]]:
    """Where the signal sounds inside [start_s, end_s]: stretches within
    ``below_peak_db`` of the span's peak, above ``floor_db`` and at least
    ``above_background_db`` over the clip's background level, with gaps shorter
    than ``min_gap_s`` closed. Empty when the span is silent; the whole span
    when nothing in it stands out from the background (a steady texture)."""
    a = max(0, int(np.floor(start_s / step_s)))
    b = min(len(envelope_db), int(np.ceil(end_s / step_s)))
    if b <= a:
        return []
    level = envelope_db[a:b]
    peak = float(level.max())
    if peak < floor_db:
        return []
    gate = max(peak - below_peak_db, floor_db)
    if background_db is not None:
        if peak < background_db + above_background_db:
            return [(start_s, end_s)]
        gate = max(gate, background_db + above_background_db)
    loud = level >= gate
    idx = np.flatnonzero(loud)
    regions: list[tuple[int, int]] = []
    gap = int(round(min_gap_s / step_s))
    for i in idx:
        if regions and i - regions[-1][1] - 1 < gap:
            regions[-1] = (regions[-1][0], i)
        else:
            regions.append((int(i), int(i)))
    return [
        (max(start_s, (a + r0) * step_s), min(end_s, (a + r1 + 1) * step_s)) for r0, r1 in regions
    ]


def background_level_db(envelope_db: np.ndarray, percentile: float = 10.0) -> float:
    """The clip's background (noise floor) level: a low percentile of its envelope."""
    return float(np.percentile(envelope_db, percentile))


def quiet_frames(envelope_db: np.ndarray, background_db: float, above_background_db: float) -> np.ndarray:
    """Envelope steps no louder than the background gate: the clip's quiet part.

    When one sound fills the clip these are the sound's own softer moments."""
    return envelope_db < background_db + above_background_db


def _interval_mask(length: int, intervals: list[tuple[float, float]], step_s: float) -> np.ndarray:
    inside = np.zeros(length, dtype=bool)
    for start_s, end_s in intervals:
        a = max(0, int(np.floor(start_s / step_s)))
        b = min(length, int(np.ceil(end_s / step_s)))
        inside[a:b] = True
    return inside


def median_level_db(envelope_db: np.ndarray, intervals: list[tuple[float, float]], step_s: float) -> float:
    """Median envelope level inside the union of ``intervals`` (-inf when empty)."""
    inside = envelope_db[_interval_mask(len(envelope_db), intervals, step_s)]
    return float(np.median(inside)) if inside.size else float("-inf")


def covered_share(mask: np.ndarray, intervals: list[tuple[float, float]], step_s: float) -> float:
    """Share of the True steps of ``mask`` that lie inside the union of ``intervals``."""
    total = int(mask.sum())
    if total == 0:
        return 0.0
    inside = _interval_mask(len(mask), intervals, step_s)
    return float((mask & inside).sum()) / total
