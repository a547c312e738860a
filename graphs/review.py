"""The user's review of a round (``--interactive``): what the graph shows, and how an answer is read."""

from __future__ import annotations

from typing import Any

from ualm_agent.components.critics.user_words import issues_from_words
from ualm_agent.errors import UsageError
from ualm_agent.schema import Critique, Review, RichCaption, Round

ACCEPT = frozenset({"accept", "a", "ok", "good", "keep"})
STOP = frozenset({"stop", "s", "quit", "q", "enough"})
CONTINUE = frozenset({"", "continue", "c", "next"})
HOW = ('answer "accept", "stop", "continue" (the critic decides), or say what is wrong in your own words, '
       'e.g. {"action": "revise", "text": "the dog should bark twice"}')


def review_payload(cur: Round, workdir: str | None, *, rounds_left: int) -> dict[str, Any]:
    """What the user is shown: the round's audio file, what was heard and the critic's issues."""
    critique = cur.critique
    return {
        "kind": "review",
        "round": cur.index,
        "audio": str(cur.audio_out.resolve(workdir or ".")) if cur.audio_out is not None else "",
        "heard": [e.model_dump() for e in cur.observation.events] if cur.observation else [],
        "heard_summary": cur.observation.summary() if cur.observation else "nothing",
        "caption": cur.heard.to_text() if cur.heard is not None else "",
        "score": critique.score if critique is not None else None,
        "verdict": critique.verdict if critique is not None else None,
        "issues": [{"kind": i.kind, "label": i.label, "message": i.message} for i in critique.issues] if critique else [],
        "takes": max(1, len(cur.candidates)),
        "rounds_left": rounds_left,
    }


def read_review(answer: Any, plan: RichCaption, planner: Any) -> Review:
    """The user's answer as a ``Review``; words about what is wrong become typed issues."""
    action, text = _action_and_text(answer)
    if action in ("accept", "stop", "continue"):
        return Review(action=action, text=text)
    issues = issues_from_words(text, plan, planner)
    if not issues:
        return Review(action="continue")
    return Review(action="revise", text=text, issues=issues)


def _action_and_text(answer: Any) -> tuple[str, str]:
    if answer is None:
        return "continue", ""
    if isinstance(answer, Review):
        return answer.action, answer.text
    if isinstance(answer, dict):
        action = str(answer.get("action", "revise" if answer.get("text") else "continue")).strip().lower()
        text = str(answer.get("text", "") or "")
        if action not in ("accept", "stop", "continue", "revise"):
            raise UsageError(f"review action {action!r} is not one of accept, stop, continue, revise; {HOW}")
        return action, text
    if isinstance(answer, str):
        word = answer.strip().lower()
        for action, words in (("accept", ACCEPT), ("stop", STOP), ("continue", CONTINUE)):
            if word in words:
                return action, ""
        return "revise", answer.strip()
    raise UsageError(f"a review answer must be text or a mapping, got {type(answer).__name__}; {HOW}")


def with_user_issues(critique: Critique | None, review: Review) -> Critique:
    """The round's critique with the user's issues first and their words as an instruction; always "revise"."""
    issues = [*review.issues, *(critique.issues if critique is not None else [])]
    instructions = [f"User: {review.text}", *(critique.instructions if critique is not None else [])]
    score = critique.score if critique is not None else 0.0
    ratings = critique.ratings if critique is not None else {}
    return Critique(score=score, verdict="revise", issues=issues, instructions=instructions, ratings=ratings)
