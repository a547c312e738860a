"""The judge critic's issues, score and verdict.

Issues come first from the yes/no answers, so the critique is useful even when the
model's own JSON critique is poor or missing; messages and severities follow the rules
critic's conventions:

- a planned event not rendered by the generator: ``missing`` (1.0), "could not be rendered";
- presence no: ``missing`` (1.0); timing no: ``timing`` (0.8, heard only outside its span);
- order no: ``order`` on the later event (0.9); exact count no: ``count`` (how far the
  heard count, 1 or "more than once" = 2, is from the planned one);
- loudness no: ``loudness`` on the event planned louder (0.5).

Issues of the model's JSON critique are added where they say something the answers did
not (another kind, or another event). The score is the mean of the 0-1 ratings (the
share of planned events heard when there are none), times 0.8 per severe issue; the
verdict is accept when every rating reaches ``accept_at`` and no issue is severe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ualm_agent.components.critics.matching import labels_in
from ualm_agent.components.llm.outputs import SEVERE

from ualm_agent.schema import Critique, Issue, LayoutEvent, Observation, RichCaption

from .hearing import answers_by_key, heard_count
from .questions import Answer, seconds

SEVERE_PENALTY = 0.8


def span_text(ev: LayoutEvent) -> str:
    return f"{seconds(ev.start_s)}-{seconds(ev.end_s)} s"


def unrendered_event(ev: LayoutEvent, unrendered: Sequence[str]) -> bool:
    return labels_in(unrendered, ev.label) or bool(ev.phrase and labels_in(unrendered, ev.phrase))


def missing_issue(i: int, ev: LayoutEvent, *, rendered: bool = True, why: str = "") -> Issue:
    if not rendered:
        return Issue(
            kind="missing", label=ev.label, expected=f"{ev.label} at {span_text(ev)}", observed="not rendered",
            message=f"{ev.label} could not be rendered by the generator, so it was not heard.", event_index=i, severity=1.0,
        )
    return Issue(
        kind="missing", label=ev.label, expected=f"{ev.label} at {span_text(ev)}", observed="not heard",
        message=f"{ev.label} was planned at {span_text(ev)} but not heard{why}.", event_index=i, severity=1.0,
    )


def answer_issues(plan: RichCaption, answers: Sequence[Answer], threshold: float, unrendered: Sequence[str] = ()) -> list[Issue]:
    """Issues the yes/no answers show (see the module doc), in plan order."""
    by = answers_by_key(answers)
    layout = plan.layout
    issues: list[Issue] = []
    heard: set[int] = set()
    for i, ev in enumerate(layout):
        presence = by.get(("presence", i, None))
        if unrendered_event(ev, unrendered):
            issues.append(missing_issue(i, ev, rendered=False))
            continue
        if presence is not None and not presence.yes(threshold):
            issues.append(missing_issue(i, ev, why=f" (P(yes) {presence.p_yes:.2f})"))
            continue
        heard.add(i)
        timing = by.get(("timing", i, None))
        if timing is not None and not timing.yes(threshold):
            issues.append(Issue(
                kind="timing", label=ev.label, expected=span_text(ev), observed="not at its planned time",
                message=f"{ev.label} was heard, but not between {seconds(ev.start_s)} and {seconds(ev.end_s)} s.",
                event_index=i, severity=0.8,
            ))
        exact = by.get(("count", i, None))
        if exact is not None and not exact.yes(threshold):
            times = heard_count(i, ev, by, threshold)
            observed = "more than once" if times > 1 else "once"
            issues.append(Issue(
                kind="count", label=ev.label, expected=f"{ev.count}x", observed=observed,
                message=f"{ev.label} was planned {ev.count} times but heard {observed}.",
                event_index=i, severity=round(abs(ev.count - times) / ev.count, 3),
            ))
    for a in answers:
        q = a.question
        if q.kind not in ("order", "loudness") or a.yes(threshold) or not {q.event, q.other} <= heard:
            continue
        first, then = layout[q.event], layout[q.other]
        if q.kind == "order":
            issues.append(Issue(
                kind="order", label=then.label, expected=f"{first.label} before {then.label}", observed="not in that order",
                message=f"{first.label} was not heard before {then.label}; {first.label} should come first.",
                event_index=q.other, severity=0.9,
            ))
        else:
            issues.append(Issue(
                kind="loudness", label=first.label, expected=f"louder than {then.label}", observed="not louder",
                message=f"{first.label} was planned {first.level} but not heard louder than {then.label}.",
                event_index=q.event, severity=0.5,
            ))
    return issues


def observed_issues(plan: RichCaption, observation: Observation, unrendered: Sequence[str] = ()) -> list[Issue]:
    """Without answers of its own (another listener heard the clip): a planned event no heard label names is missing."""
    heard = [e.label for e in observation.events]
    issues = []
    for i, ev in enumerate(plan.layout):
        if unrendered_event(ev, unrendered):
            issues.append(missing_issue(i, ev, rendered=False))
        elif not labels_in(heard, ev.label):
            issues.append(missing_issue(i, ev))
    return issues


def merge_issues(own: Sequence[Issue], model: Sequence[Issue]) -> list[Issue]:
    """``own`` plus the model's issues about another (kind, event) pair."""
    seen = {(i.kind, i.event_index if i.event_index is not None else i.label) for i in own}
    extra = [i for i in model if (i.kind, i.event_index if i.event_index is not None else i.label) not in seen]
    return [*own, *extra]


def verdict(
    plan: RichCaption, issues: Sequence[Issue], ratings: Mapping[str, float], accept_at: float, instructions: Sequence[str] = ()
) -> Critique:
    """Score, verdict and the critique (see the module doc)."""
    severe = sum(issue.severity >= SEVERE for issue in issues)
    if ratings:
        base = sum(ratings.values()) / len(ratings)
    else:
        missing = {i.event_index for i in issues if i.kind == "missing"}
        base = 1.0 - len(missing) / len(plan.layout) if plan.layout else 1.0
    score = round(min(1.0, max(0.0, base * SEVERE_PENALTY**severe)), 4)
    accept = severe == 0 and all(value >= accept_at for value in ratings.values())
    return Critique(
        score=score, issues=list(issues), verdict="accept" if accept else "revise",
        instructions=list(dict.fromkeys([*instructions, *(fix_for(i) for i in issues)])),
        ratings={k: round(v, 4) for k, v in ratings.items()},
    )


def fix_for(issue: Issue) -> str:
    """A one-line instruction for the reviser, by kind."""
    fixes = {
        "missing": f"Make {issue.label} clearly audible.",
        "timing": f"Place {issue.label} at its planned time.",
        "order": f"Keep {issue.label} after the sound planned before it.",
        "count": f"Repeat {issue.label} {issue.expected.rstrip('x')} times." if issue.expected else f"Fix the count of {issue.label}.",
        "loudness": f"Make {issue.label} louder than the sounds around it.",
    }
    return fixes.get(issue.kind, issue.message)
