"""What a judge heard, as the typed Observation, from its yes/no answers.

Nothing is placed where the answers do not put it:

- a planned event is heard when its presence answer is yes (P(yes) >= threshold), with
  that P(yes) as its confidence and the planned label;
- it sounds over its planned span when the timing answer is yes (or it fills the clip),
  else over the span the model stated when asked "when" (``ask_times``), else over the
  whole clip heard;
- a repeated event is heard as many times as planned when "exactly n times" is yes, twice
  when only "more than once" is, else once; the repeats are spread over its span as the
  plan spreads them;
- ``loudness_db`` is set only for events the loudness questions are about, on a relative
  scale (0 dB the loudest planned level): where every answer about an event confirms the
  planned contrast it keeps its planned level, otherwise it is heard at the normal level.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ualm_agent.schema import HeardEvent, LayoutEvent, RichCaption

from .questions import Answer

# Relative levels (dB below the loudest planned level) for the loudness answers; the template
# captioner calls an event soft 10 dB below the loudest and loud 5 dB above the median.
LEVEL_DB = {"loud": 0.0, "normal": -6.0, "soft": -18.0, "distant": -18.0}
MIN_SPAN_S = 0.01
Span = tuple[float, float]
# "1.5-3.0", "1.5 s to 3 s", "from 2 to 4 seconds", "between 2 and 4".
_STATED = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s|sec|seconds)?\s*(?:-|–|to|and)\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def answers_by_key(answers: Sequence[Answer]) -> dict[tuple[str, int | None, int | None], Answer]:
    return {(a.question.kind, a.question.event, a.question.other): a for a in answers}


def plan_events(
    plan: RichCaption, answers: Sequence[Answer], *, heard_s: float, threshold: float,
    stated: Mapping[int, Span] | None = None,
) -> list[HeardEvent]:
    """The planned events the answers say were heard (see the module doc)."""
    by = answers_by_key(answers)
    levels = relative_levels(plan, answers, threshold)
    events: list[HeardEvent] = []
    for i, ev in enumerate(plan.layout):
        presence = by.get(("presence", i, None))
        if presence is None or not presence.yes(threshold):
            continue
        span = heard_span(i, ev, by, threshold, heard_s, stated or {})
        times = heard_count(i, ev, by, threshold)
        spread = LayoutEvent(label=ev.label, start_s=span[0], end_s=span[1], count=times).occurrences()
        for start, end in spread:
            events.append(HeardEvent(
                label=ev.label, start_s=round(start, 3), end_s=round(max(end, start + MIN_SPAN_S), 3),
                confidence=round(presence.p_yes, 4), loudness_db=levels.get(i),
            ))
    return events


def label_events(
    labels: Sequence[str], answers: Sequence[Answer], *, heard_s: float, threshold: float,
    stated: Mapping[int, Span] | None = None,
) -> list[HeardEvent]:
    """One event per label whose presence answer is yes: over the stated span, else the whole clip heard."""
    by = answers_by_key(answers)
    events = []
    for i, label in enumerate(labels):
        presence = by.get(("presence", i, None))
        if presence is None or not presence.yes(threshold):
            continue
        start, end = clamp((stated or {}).get(i, (0.0, heard_s)), heard_s)
        events.append(HeardEvent(label=label, start_s=round(start, 3), end_s=round(end, 3), confidence=round(presence.p_yes, 4)))
    return events


def heard_span(i: int, ev: LayoutEvent, by, threshold: float, heard_s: float, stated: Mapping[int, Span]) -> Span:
    timing = by.get(("timing", i, None))
    if timing is None or timing.yes(threshold):
        return clamp((ev.start_s, ev.end_s), heard_s)
    return clamp(stated.get(i, (0.0, heard_s)), heard_s)


def heard_count(i: int, ev: LayoutEvent, by, threshold: float) -> int:
    if ev.count == 1:
        return 1
    exact, more = by.get(("count", i, None)), by.get(("more_than_once", i, None))
    if exact is not None and exact.yes(threshold):
        return ev.count
    return 2 if more is not None and more.yes(threshold) else 1


def relative_levels(plan: RichCaption, answers: Sequence[Answer], threshold: float) -> dict[int, float]:
    """Plan index -> relative dB, for the events loudness questions asked about."""
    confirmed: dict[int, bool] = {}
    for a in answers:
        q = a.question
        if q.kind != "loudness" or q.event is None or q.other is None:
            continue
        for i in (q.event, q.other):
            confirmed[i] = confirmed.get(i, True) and a.yes(threshold)
    return {i: LEVEL_DB[plan.layout[i].level] if ok else LEVEL_DB["normal"] for i, ok in confirmed.items()}


def clamp(span: Span, heard_s: float) -> Span:
    """``span`` inside [0, heard_s], at least MIN_SPAN_S long."""
    end_limit = max(heard_s, MIN_SPAN_S)
    start = min(max(0.0, span[0]), end_limit - MIN_SPAN_S)
    end = min(max(span[1], start + MIN_SPAN_S), end_limit)
    return start, end


def stated_span(text: str, heard_s: float) -> Span | None:
    """The first "start-end" seconds the model wrote, if it is a span inside the clip heard."""
    m = _STATED.search(text)
    if m is None:
        return None
    start, end = float(m.group(1)), float(m.group(2))
    if end <= start or start >= heard_s:
        return None
    return clamp((start, end), heard_s)
