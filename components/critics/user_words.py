"""The user as critic: their plain words about a round, as typed issues a reviser can act on.

The words are read by the run's own planner (the parser that reads prompts), so "the dog should
bark three times" names the dog's bark and a count, "brass before the drums" an order, and "the
rain is too loud" a level. Each sound the words name is matched to the planned event it means:

- a count that differs from the plan's → ``count`` (expected: the user's count);
- "too loud" / "too quiet" (and the like) → ``loudness`` (expected: "softer" / "louder");
- "can't hear X", "X is missing" → ``missing`` for that event;
- two planned sounds named in another order than planned → ``order``;
- a sound the plan lacks → ``missing`` with no event index (expected: the span the words give),
  which asks the reviser to add it.

Every such issue has ``cause="user"``. Words that name no sound, or none of the above, become one
``quality`` issue holding the words, so nothing the user said is dropped: an LLM reviser reads it
from the critique's instructions.
"""

from __future__ import annotations

import re
from typing import Any

from ualm_agent.errors import UalmAgentError
from ualm_agent.schema import Issue, LayoutEvent, RichCaption

from ..llm.outputs import planned_matches

_SOFTER = re.compile(r"\b(?:too (?:loud|strong|much|prominent|harsh)|loudest|drowns?|drowning|overpower\w*|"
                     r"quieter|softer|turn (?:it |\w+ )?down|lower)\b")
_LOUDER = re.compile(r"\b(?:too (?:quiet|soft|faint|weak|low|distant)|barely|hardly|louder|turn (?:it |\w+ )?up|"
                     r"raise|stronger|more prominent)\b")
_UNHEARD = re.compile(r"\b(?:can ?not hear|can'?t hear|cannot hear|don'?t hear|do not hear|no|missing|lacks?|"
                      r"where is|never hear)\b")
_COUNTED = re.compile(r"\b(?:once|twice|thrice|\d+ times|(?:one|two|three|four|five|six|seven|eight|nine|ten)"
                      r" times|times)\b")


def issues_from_words(text: str, plan: RichCaption, planner: Any) -> list[Issue]:
    """Typed issues for the user's words about a round of ``plan`` (see the module doc)."""
    words = " ".join(text.split())
    if not words:
        return []
    said = f'The user says: "{words}"'
    try:
        remark = planner.plan(words, duration_s=plan.duration_s)
    except (UalmAgentError, ValueError):  # words that name no sound ("it sounds muddy")
        remark = RichCaption(duration_s=plan.duration_s)
    lowered = words.lower()
    issues: list[Issue] = []
    named: list[tuple[LayoutEvent, int]] = []
    for ev in remark.layout:
        if ev.label.strip().lower() == "silence":
            continue
        idx = planned_index(ev, plan)
        if idx is None:
            issues.append(Issue(
                kind="missing", label=ev.label, expected=f"{ev.start_s:.2f}-{ev.end_s:.2f} s", cause="user",
                message=f"{said}; it asks for {ev.phrase or ev.label}, which the plan lacks.",
            ))
            continue
        named.append((ev, idx))
        issues += _about_event(ev, idx, plan, lowered, said)
    issues += _order(named, plan, said)
    if not issues:
        issues.append(Issue(kind="quality", message=f"{said}.", cause="user", severity=0.8))
    return issues


def planned_index(ev: LayoutEvent, plan: RichCaption) -> int | None:
    """The planned event the user's words mean, matched as an LLM critic's issue label is (``planned_matches``)."""
    matches = planned_matches(ev.label, plan)
    return matches[0] if matches else None


def _about_event(ev: LayoutEvent, idx: int, plan: RichCaption, lowered: str, said: str) -> list[Issue]:
    planned = plan.layout[idx]
    issues: list[Issue] = []
    if ev.count != planned.count and _COUNTED.search(lowered):
        issues.append(Issue(
            kind="count", label=planned.label, event_index=idx, expected=str(ev.count), observed=str(planned.count),
            cause="user", message=f"{said}; {planned.label} should sound {ev.count} time(s), not {planned.count}.",
        ))
    if _SOFTER.search(lowered) and not _LOUDER.search(lowered):
        issues.append(Issue(kind="loudness", label=planned.label, event_index=idx, expected="softer", cause="user",
                            message=f"{said}; {planned.label} should be softer."))
    elif _LOUDER.search(lowered) and not _SOFTER.search(lowered):
        issues.append(Issue(kind="loudness", label=planned.label, event_index=idx, expected="louder", cause="user",
                            message=f"{said}; {planned.label} should be louder."))
    elif _UNHEARD.search(lowered):
        issues.append(Issue(kind="missing", label=planned.label, event_index=idx, cause="user",
                            message=f"{said}; {planned.label} is not heard."))
    return issues


def _order(named: list[tuple[LayoutEvent, int]], plan: RichCaption, said: str) -> list[Issue]:
    """An order issue when the words put two planned sounds one after the other, the other way round."""
    if len(named) < 2:
        return []
    by_words = sorted(named, key=lambda pair: pair[0].start_s)
    first, second = by_words[0], by_words[-1]
    if first[0].end_s > second[0].start_s or first[1] == second[1]:
        return []  # the words give no sequence
    a, b = plan.layout[first[1]], plan.layout[second[1]]
    if a.start_s < b.start_s:
        return []  # already planned in that order
    return [Issue(
        kind="order", label=b.label, event_index=second[1], expected=f"{a.label} before {b.label}", cause="user",
        message=f"{said}; {a.label} should come before {b.label}.",
    )]
