"""Objective metrics of one clip against an item's expectations (definitions: docs/metrics.md).

Pure functions over plain data: expected events, the events a listener heard,
and a label matcher (anything with ``similarity(expected, heard) -> [0, 1]`` and
``threshold``; the critic's :class:`LabelMatcher` by default). Every function
returns None where the metric does not apply, never a made-up number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ualm_agent.components.critics.matching import canonical, is_generic
from ualm_agent.schema import HeardEvent

from .items import Expected, ExpectedEvent

Interval = tuple[float, float]

# AudioTime scores timestamps with sed_eval's segment-based F1 at 1 s resolution.
SEGMENT_S = 1.0
# Heard pieces of one sound closer than this are one occurrence (a listener
# reports a bark as "Dog", "Bark" and "Bow-wow", overlapping or touching).
MERGE_GAP_S = 0.1
# AudioTime: a pair is out of order when the first overlaps the second by this
# share of the shorter one or more.
ORDER_OVERLAP_SHARE = 0.5
# Stereo balance beyond which a sound is heard on one side (the template captioner's setting).
SIDE_BALANCE = 0.3
LEVEL_RANK = {"soft": 0, "distant": 0, "normal": 1, "loud": 2}

METRIC_KEYS = (
    "event_precision",
    "event_recall",
    "event_f1",
    "ordering_error",
    "segment_f1",
    "duration_l1",
    "frequency_l1",
    "position_accuracy",
    "level_accuracy",
)


class Matcher(Protocol):
    threshold: float

    def similarity(self, planned: str, heard: str) -> float: ...


@dataclass(frozen=True)
class EventScores:
    precision: float | None
    recall: float | None
    f1: float | None
    # expected event index -> the heard label matched to it one-to-one
    matched: dict[int, str]
    # distinct heard labels that count for precision, and those matching an expected event
    heard_labels: tuple[str, ...]
    true_labels: tuple[str, ...]


def audible(heard: Sequence[HeardEvent], min_confidence: float = 0.0) -> list[HeardEvent]:
    return [e for e in heard if e.confidence >= min_confidence and e.end_s > e.start_s]


def one_to_one(expected: Sequence[str], heard: Sequence[str], matcher: Matcher) -> dict[int, int]:
    """A maximum one-to-one matching of expected to heard labels (edges: similarity >= threshold).

    Among matchings of the largest size, the one with the highest total similarity.
    """
    if not expected or not heard:
        return {}
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    sim = np.array([[matcher.similarity(e, h) for h in heard] for e in expected], dtype=float)
    edge = sim >= matcher.threshold
    # Each edge weighs 1 + similarity (1..2): one more match always outweighs any similarity gain.
    weight = np.where(edge, 1.0 + sim, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return {int(r): int(c) for r, c in zip(rows, cols) if edge[r, c]}


def event_scores(expected: Sequence[ExpectedEvent], heard: Sequence[HeardEvent], matcher: Matcher) -> EventScores:
    """Event recall, precision and F1 (docs/metrics.md, "Event metrics")."""
    labels = list(dict.fromkeys(canonical(e.label) for e in heard))
    names = [e.match_label for e in expected]
    pairs = one_to_one(names, labels, matcher)
    matched = {i: labels[j] for i, j in pairs.items()}
    true = [h for h in labels if any(matcher.similarity(n, h) >= matcher.threshold for n in names)]
    # A heard scene or category class ("Music", "Inside, small room") is no event, unless the item expects it.
    counted = [h for h in labels if h in true or not is_generic(h)]
    if not expected:
        return EventScores(None, None, None, {}, tuple(counted), tuple(true))
    recall = len(matched) / len(expected)
    precision = len(true) / len(counted) if counted else None
    if recall == 0.0 or not precision:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return EventScores(precision, recall, f1, matched, tuple(counted), tuple(true))


def assign(expected: Sequence[ExpectedEvent], heard: Sequence[HeardEvent], matcher: Matcher) -> list[list[HeardEvent]]:
    """The heard pieces of each expected event: each piece goes to the expected event(s) it matches best."""
    groups: list[list[HeardEvent]] = [[] for _ in expected]
    names = [e.match_label for e in expected]
    for piece in heard:
        sims = [matcher.similarity(n, piece.label) for n in names]
        best = max(sims, default=0.0)
        if best < matcher.threshold:
            continue
        for i, s in enumerate(sims):
            if s == best:
                groups[i].append(piece)
    # A look-alike heard at the very time another expected event is heard by its own name (a
    # "Cowbell" during the barks, when a church bell comes later) belongs to that sound, not here.
    exact = [[p for p in group if matcher.similarity(names[i], p.label) >= EXACT] for i, group in enumerate(groups)]
    for i, group in enumerate(groups):
        groups[i] = [
            p for p in group
            if matcher.similarity(names[i], p.label) >= EXACT
            or not any(_overlap(p, q) for j, pieces in enumerate(exact) if j != i for q in pieces)
        ]
    return groups


EXACT = 0.999


def _overlap(a: HeardEvent, b: HeardEvent) -> bool:
    return a.start_s < b.end_s and b.start_s < a.end_s


def merge_intervals(intervals: Sequence[Interval], gap_s: float = MERGE_GAP_S) -> list[Interval]:
    """Union of intervals, joining those less than ``gap_s`` apart (touching ones always)."""
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start - merged[-1][1] <= gap_s:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def occurrences(pieces: Sequence[HeardEvent], gap_s: float = MERGE_GAP_S) -> list[Interval]:
    return merge_intervals([(p.start_s, p.end_s) for p in pieces], gap_s)


def whole_span(intervals: Sequence[Interval]) -> Interval | None:
    """First start to last end, as AudioTime takes an event's extent."""
    if not intervals:
        return None
    return min(a for a, _ in intervals), max(b for _, b in intervals)


def pair_in_order(first: Interval | None, second: Interval | None, overlap_share: float = ORDER_OVERLAP_SHARE) -> bool:
    """AudioTime's rule: both heard, the first starts earlier, and overlaps the second by under ``overlap_share`` of the shorter."""
    if first is None or second is None:
        return False
    if not first[0] < second[0]:
        return False
    shorter = min(first[1] - first[0], second[1] - second[0])
    return first[1] - second[0] < overlap_share * shorter


def ordering_error(
    order: Sequence[int], heard: Sequence[Sequence[Interval]], overlap_share: float = ORDER_OVERLAP_SHARE
) -> float | None:
    """Share of consecutive pairs of ``order`` (event indices) not heard in that order; None under two events."""
    if len(order) < 2:
        return None
    pairs = list(zip(order, order[1:]))
    wrong = sum(not pair_in_order(whole_span(heard[a]), whole_span(heard[b]), overlap_share) for a, b in pairs)
    return wrong / len(pairs)


def _segments(intervals: Sequence[Interval], n: int, resolution: float) -> list[bool]:
    # sed_eval's event roll: an interval marks every segment it touches, floor(onset) to ceil(offset).
    active = [False] * n
    for start, end in intervals:
        first = int(math.floor(start / resolution + 1e-9))
        last = int(math.ceil(end / resolution - 1e-9))
        for k in range(max(0, first), min(n, last)):
            active[k] = True
    return active


@dataclass(frozen=True)
class SegmentCounts:
    tp: int
    fp: int
    fn: int

    @property
    def f1(self) -> float | None:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None


def segment_counts(
    reference: Sequence[Sequence[Interval]],
    system: Sequence[Sequence[Interval]],
    clip_s: float,
    resolution: float = SEGMENT_S,
) -> SegmentCounts:
    """Segment-based true/false positives and misses, summed over classes (one class per expected event)."""
    ends = [b for spans in (*reference, *system) for _, b in spans]
    n = int(math.ceil(max([clip_s, *ends]) / resolution - 1e-9))
    tp = fp = fn = 0
    for ref, sys in zip(reference, system, strict=True):
        r, s = _segments(ref, n, resolution), _segments(sys, n, resolution)
        tp += sum(a and b for a, b in zip(r, s))
        fp += sum(b and not a for a, b in zip(r, s))
        fn += sum(a and not b for a, b in zip(r, s))
    return SegmentCounts(tp, fp, fn)


def segment_f1(
    reference: Sequence[Sequence[Interval]],
    system: Sequence[Sequence[Interval]],
    clip_s: float,
    resolution: float = SEGMENT_S,
) -> float | None:
    """Segment-based F1 (micro over classes); None when no class has expected spans."""
    if not any(reference):
        return None
    return segment_counts(reference, system, clip_s, resolution).f1


def duration_l1(expected_s: Sequence[float | None], heard: Sequence[Sequence[Interval]]) -> float | None:
    """Mean |heard extent − expected duration| over events with a duration; an unheard event counts its full duration."""
    errors = []
    for want, intervals in zip(expected_s, heard, strict=True):
        if want is None:
            continue
        span = whole_span(intervals)
        errors.append(abs((span[1] - span[0] if span else 0.0) - want))
    return sum(errors) / len(errors) if errors else None


def frequency_l1(expected_counts: Sequence[int | None], heard: Sequence[Sequence[Interval]]) -> float | None:
    """Mean |heard occurrences − expected count| over events with a count."""
    errors = [abs(len(intervals) - want) for want, intervals in zip(expected_counts, heard, strict=True) if want is not None]
    return sum(errors) / len(errors) if errors else None


def side_of(balance: float, threshold: float = SIDE_BALANCE) -> str:
    return "left" if balance < -threshold else "right" if balance > threshold else "center"


def position_accuracy(
    positions: Sequence[str | None], pieces: Sequence[Sequence[HeardEvent]], threshold: float = SIDE_BALANCE
) -> float | None:
    """Share of events with an expected position heard on that side (mean balance of their pieces); unheard = wrong."""
    verdicts = []
    for want, group in zip(positions, pieces, strict=True):
        if want is None:
            continue
        balances = [p.balance for p in group if p.balance is not None]
        verdicts.append(bool(balances) and side_of(sum(balances) / len(balances), threshold) == want)
    return sum(verdicts) / len(verdicts) if verdicts else None


def level_accuracy(levels: Sequence[str | None], pieces: Sequence[Sequence[HeardEvent]]) -> float | None:
    """Share of event pairs with different expected levels whose heard loudness (loudest piece) is ordered the same way.

    Levels are relative, so only contrasts are scored: "a quiet piano, then a loud drum" asks for
    the drum to be louder than the piano. An unheard event makes its pairs wrong. None without a contrast.
    """
    loudness = [max((p.loudness_db for p in group if p.loudness_db is not None), default=None) for group in pieces]
    verdicts = []
    for i, a in enumerate(levels):
        for j in range(i + 1, len(levels)):
            b = levels[j]
            if a is None or b is None or LEVEL_RANK[a] == LEVEL_RANK[b]:
                continue
            hi, lo = (i, j) if LEVEL_RANK[a] > LEVEL_RANK[b] else (j, i)
            verdicts.append(loudness[hi] is not None and loudness[lo] is not None and loudness[hi] > loudness[lo])
    return sum(verdicts) / len(verdicts) if verdicts else None


def item_metrics(
    expected: Expected | None,
    heard: Sequence[HeardEvent],
    matcher: Matcher,
    *,
    clip_s: float,
    min_confidence: float = 0.0,
    merge_gap_s: float = MERGE_GAP_S,
    segment_s: float = SEGMENT_S,
    overlap_share: float = ORDER_OVERLAP_SHARE,
) -> dict[str, float | None]:
    """All expectation metrics of one clip (``METRIC_KEYS``); None where the item fixes nothing to measure."""
    if expected is None or not expected.events:
        return dict.fromkeys(METRIC_KEYS)
    events = expected.events
    pieces = audible(heard, min_confidence)
    scores = event_scores(events, pieces, matcher)
    groups = assign(events, pieces, matcher)
    per_event = [occurrences(group, merge_gap_s) for group in groups]
    order = [expected.index_of(label) for label in expected.order]
    return {
        "event_precision": scores.precision,
        "event_recall": scores.recall,
        "event_f1": scores.f1,
        "ordering_error": ordering_error(order, per_event, overlap_share),
        # Only events with expected spans are classes here, as AudioTime asks only for those.
        "segment_f1": segment_f1(
            [e.spans for e in events if e.spans], [h for e, h in zip(events, per_event) if e.spans], clip_s, segment_s
        ),
        "duration_l1": duration_l1([e.duration_s for e in events], per_event),
        "frequency_l1": frequency_l1([e.count for e in events], per_event),
        "position_accuracy": position_accuracy([e.position for e in events], groups),
        "level_accuracy": level_accuracy([e.level for e in events], groups),
    }
