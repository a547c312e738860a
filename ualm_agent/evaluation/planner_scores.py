"""How well a planner's plans (no audio) meet AudioTime-format expectations.

Reads a folder of AudioTime caption files (``<task>_caption.json``) with
:func:`~ualm_agent.evaluation.items.import_audiotime`, plans each caption and
scores the plan itself, in five measures:

- **event recall**: share of expected events some planned event matches;
- **order right**: over captions with two or more expected events at different
  times, share whose matched planned events start in the expected order;
- **timestamps**: over timestamp-style events, share whose every expected span
  has a planned event starting and ending within 0.5 s of it;
- **durations**: over duration-style events, share whose planned length is
  within 0.5 s or 10 % of the expected one, whichever is larger;
- **counts**: over frequency-style events, share whose planned count equals
  the number of expected onsets;
- **segment F1** (``segment_f1``): over ordering items, the mean 1-s segment F1
  between the planned occurrences serving each expected event and its expected
  spans (the evaluator's :func:`~ualm_agent.evaluation.metrics.segment_f1`), so
  a plan that keeps the order but stretches or shifts its events scores lower.

Label rule: a planned event matches an expected one when both spell the same
AudioSet name, or when the critic's family table (:mod:`ualm_agent.components.critics.matching`)
puts them in one family ("Bark" and "Dog", "Cough" and "Throat clearing"); no
MiniLM, so the score is deterministic. Each planned event serves one expected
event: the one whose name it spells if any, else a family match, preferring an
expected event not yet served, then the one written first. An expected event
served by several planned events ("a bell rings at 1 s and again at 5 s")
counts their repeats together, and its length is the time they cover together.

Order: two expected events are "at different times" when the earlier-starting
one overlaps the later by less than half the shorter one (AudioTime's rule,
:func:`~ualm_agent.evaluation.metrics.pair_in_order`); each such pair must start
strictly in that order in the plan. Onsets alone (frequency items) stand for
zero-length occurrences; duration items state no times and have no order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ualm_agent.components.critics.matching import canonical, families_of
from ualm_agent.labels import name_key
from ualm_agent.schema import LayoutEvent, RichCaption

from ..errors import UalmAgentError
from .items import AUDIOTIME_TASKS, EvalItem, ExpectedEvent, import_audiotime
from .metrics import pair_in_order, segment_f1, whole_span

MEASURES = ("event_recall", "order_right", "timestamps", "durations", "counts")
# A mean over items rather than a share of verdicts, so it is summarised apart from MEASURES.
SEGMENT_MEASURE = "segment_f1"
SEGMENT_TASKS = ("ordering",)
# AudioTime clips are 10 s long: captions are planned at that length.
CLIP_S = 10.0
TIME_TOLERANCE_S = 0.5
DURATION_TOLERANCE_S = 0.5
DURATION_TOLERANCE_SHARE = 0.10

Interval = tuple[float, float]


def load_folder(folder: str | Path, task: str | None = None) -> list[EvalItem]:
    """The items of every ``<task>_caption.json`` in ``folder`` (only ``task``'s file when given), tasks in AudioTime's order."""
    folder = Path(folder)
    tasks = [task] if task else list(AUDIOTIME_TASKS)
    items: list[EvalItem] = []
    for name in tasks:
        path = folder / f"{name}_caption.json"
        if path.exists() or task:
            items.extend(import_audiotime(path, name))
    return items


def task_of(item: EvalItem) -> str:
    return next(t for t in item.tags if t in AUDIOTIME_TASKS)


def expected_name(event: ExpectedEvent) -> str:
    return event.audioset or event.label


def same_name(expected: str, planned: str) -> bool:
    return name_key(canonical(expected)) == name_key(canonical(planned))


def same_sound(expected: str, planned: str) -> bool:
    """The module's label rule: the same AudioSet name, or one family of the critic's table."""
    return same_name(expected, planned) or bool(families_of(expected) & families_of(planned))


def assign(expected: Sequence[ExpectedEvent], layout: Sequence[LayoutEvent]) -> list[list[LayoutEvent]]:
    """For each expected event, the planned events that serve it (see the module's label rule)."""
    served: list[list[LayoutEvent]] = [[] for _ in expected]
    names = [expected_name(e) for e in expected]
    for planned in sorted(layout, key=lambda ev: ev.start_s):
        for rule in (same_name, same_sound):
            fits = [i for i, name in enumerate(names) if rule(name, planned.label)]
            if fits:
                best = min(fits, key=lambda i: (bool(served[i]), i))
                served[best].append(planned)
                break
    return served


def planned_intervals(events: Iterable[LayoutEvent]) -> list[Interval]:
    """Where each planned occurrence sounds: an event's span, or each repeat's within it."""
    return sorted(iv for ev in events for iv in ev.occurrences())


def _covered(events: Sequence[LayoutEvent]) -> float:
    """Seconds the events' spans cover together."""
    total, end = 0.0, float("-inf")
    for a, b in sorted((ev.start_s, ev.end_s) for ev in events):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def _expected_extent(event: ExpectedEvent) -> Interval | None:
    if event.spans:
        return whole_span(event.spans)
    if event.onsets:
        return min(event.onsets), max(event.onsets)
    return None


def _spans_met(spans: Sequence[Interval], planned: Sequence[Interval]) -> bool:
    """Whether every expected span has its own planned interval within the time tolerance at both ends."""
    free = list(planned)
    for a, b in sorted(spans):
        near = [iv for iv in free if abs(iv[0] - a) <= TIME_TOLERANCE_S and abs(iv[1] - b) <= TIME_TOLERANCE_S]
        if not near:
            return False
        free.remove(min(near, key=lambda iv: abs(iv[0] - a) + abs(iv[1] - b)))
    return True


def _duration_met(expected_s: float, planned_s: float) -> bool:
    return abs(planned_s - expected_s) <= max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_SHARE * expected_s)


def order_pairs(expected: Sequence[ExpectedEvent]) -> list[tuple[int, int]]:
    """Pairs (earlier, later) of expected events at different times (AudioTime's overlap rule)."""
    extents = [_expected_extent(e) for e in expected]
    pairs = []
    for i, a in enumerate(extents):
        for j, b in enumerate(extents):
            if i != j and a is not None and b is not None and pair_in_order(a, b):
                pairs.append((i, j))
    return pairs


@dataclass
class ItemResult:
    """One item's verdicts per measure (a measure that does not apply has none) and its plan."""

    item: EvalItem
    plan: RichCaption | None
    verdicts: dict[str, list[bool]] = field(default_factory=lambda: {m: [] for m in MEASURES})
    error: str = ""
    segment_f1: float | None = None  # ordering items only

    @property
    def missed(self) -> list[str]:
        return [m for m, v in self.verdicts.items() if not all(v)]


def score_item(item: EvalItem, plan: RichCaption) -> ItemResult:
    result = ItemResult(item, plan)
    expected = item.expected.events
    served = assign(expected, plan.layout)
    v = result.verdicts
    v["event_recall"] = [bool(s) for s in served]
    pairs = order_pairs(expected)
    if pairs:
        starts = [min((ev.start_s for ev in s), default=None) for s in served]
        v["order_right"] = [
            all(starts[i] is not None and starts[j] is not None and starts[i] < starts[j] for i, j in pairs)
        ]
    task = task_of(item)
    for event, events in zip(expected, served):
        if task == "timestamp":
            v["timestamps"].append(bool(events) and _spans_met(event.spans, planned_intervals(events)))
        elif task == "duration" and event.duration_s is not None:
            v["durations"].append(bool(events) and _duration_met(event.duration_s, _covered(events)))
        elif task == "frequency" and event.count is not None:
            v["counts"].append(sum(ev.count for ev in events) == event.count)
    if task in SEGMENT_TASKS:
        timed = [(e, s) for e, s in zip(expected, served) if e.spans]
        result.segment_f1 = segment_f1([e.spans for e, _ in timed], [planned_intervals(s) for _, s in timed], CLIP_S)
    return result


def plan_items(planner, items: Sequence[EvalItem]) -> list[ItemResult]:
    """Plan every caption at AudioTime's clip length and score it; a refused caption misses everything."""
    prompts = [item.prompt for item in items]
    try:
        plans: list[RichCaption | None | Exception] = list(planner.plan_many(prompts, duration_s=CLIP_S))
    except UalmAgentError:  # one refusal fails the batch: plan one by one to keep the others
        plans = []
        for prompt in prompts:
            try:
                plans.append(planner.plan(prompt, duration_s=CLIP_S))
            except UalmAgentError as exc:  # a caption the planner refuses (no sound event) misses everything
                plans.append(exc)
    results = []
    for item, plan in zip(items, plans):
        if isinstance(plan, RichCaption):
            results.append(score_item(item, plan))
        else:
            result = ItemResult(item, None, error=str(plan))
            result.verdicts["event_recall"] = [False] * len(item.expected.events)
            if task_of(item) in SEGMENT_TASKS and any(e.spans for e in item.expected.events):
                result.segment_f1 = 0.0  # no plan: no segment is right
            results.append(result)
    return results


def summarise(results: Sequence[ItemResult]) -> dict[str, dict[str, float | int | None]]:
    """Per measure: how many verdicts were right, of how many, and the share (None where none apply)."""
    out: dict[str, dict[str, float | int | None]] = {}
    for measure in MEASURES:
        verdicts = [v for r in results for v in r.verdicts[measure]]
        right = sum(verdicts)
        out[measure] = {"right": right, "total": len(verdicts), "share": right / len(verdicts) if verdicts else None}
    scores = [r.segment_f1 for r in results if r.segment_f1 is not None]
    out[SEGMENT_MEASURE] = {"items": len(scores), "mean": sum(scores) / len(scores) if scores else None}
    return out


def describe_plan(plan: RichCaption | None) -> str:
    """A plan in one line: label, span and count of each event."""
    if plan is None:
        return "(no plan)"
    parts = []
    for ev in plan.layout:
        count = f" x{ev.count}" if ev.count > 1 else ""
        parts.append(f"{ev.label} {ev.start_s:g}-{ev.end_s:g}{count}")
    return "; ".join(parts)
