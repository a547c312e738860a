"""Chat messages for the llm roles: few-shot prompts from prompts/llm.toml and the inputs as short text.

Every role's prompt is a system message, worked examples as user/assistant
turns, then the request. Plans, observations and critiques are written as a
few compact lines (a small model reads them faster and copies times better
than nested JSON); the reviser sees the plan as the JSON it must write back.
The planner's request also lists the prompt's parts, cut at punctuation and
order words, so a small model plans every sound instead of only the first.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from ualm_agent import prompts
from ualm_agent.schema import Critique, HeardEvent, LayoutEvent, Observation, RichCaption

ROLE_PROMPTS = ("planner", "captioner", "critic", "reviser")
# Heard pieces of one label closer than this are one sound in the prompt.
MERGE_GAP_S = 0.5
MAX_HEARD_LINES = 12


@cache
def llm_prompts() -> dict[str, Any]:
    return tomllib.loads(prompts.load("llm.toml"))


def messages(role: str, request: str, feedback: str | None = None) -> list[dict[str, str]]:
    """System, worked examples, then ``request`` (with the last answer's error when retrying)."""
    table = llm_prompts()
    spec = table[role]
    out = [{"role": "system", "content": spec["system"]}]
    for example in spec.get("examples", []):
        out.append({"role": "user", "content": example["user"]})
        out.append({"role": "assistant", "content": example["assistant"]})
    if feedback:
        request = f"{request}\n\n{table['retry'].format(feedback=feedback)}"
    out.append({"role": "user", "content": request})
    return out


def answer_start(role: str) -> str:
    """How the answer begins (written by the backend, part of the parsed answer)."""
    return llm_prompts()[role].get("start", "{")


# ---- requests ------------------------------------------------------------------------------


_PARTS = re.compile(r"[,;]|\.(?=\s|$)|\b(?:and then|then|after|afterwards|followed by|before|while|as)\b", re.IGNORECASE)


def request_parts(prompt: str) -> list[str]:
    """The request cut at punctuation and order words, in the user's words ("a dog barks", "a car passes")."""
    parts = []
    for piece in _PARTS.split(prompt):
        words = re.sub(r"^(?:and|or)\s+|\s+(?:and|or)$", "", " ".join(piece.split()), flags=re.IGNORECASE)
        if words:
            parts.append(words)
    return parts or [" ".join(prompt.split())]


def planner_request(prompt: str, duration_s: float, answers: Mapping[str, str] | None = None) -> str:
    lines = [f"Clip: {duration_s:g} s", f"Request: {' '.join(prompt.split())}", "Sounds: " + " | ".join(request_parts(prompt))]
    if answers:
        lines.append("Answers: " + "; ".join(f"{k}: {v}" for k, v in answers.items()))
    return "\n".join(lines)


def captioner_request(observation: Observation, duration_s: float) -> str:
    return "\n".join([f"Clip: {duration_s:g} s", "Heard:", *heard_lines(observation)])


def critic_request(plan: RichCaption, heard: RichCaption, observation: Observation, unrendered: Sequence[str] = ()) -> str:
    lines = ["Planned:", *(f"{i}. {event_line(ev, phrase=True)}" for i, ev in enumerate(plan.layout, start=1))]
    lines.append("Heard:")
    lines.extend(f"- {event_line(ev)}" for ev in heard.layout)
    spoken = [s for s in observation.speech if s.text.strip()]
    lines.extend(f"- Speech {s.start_s:.1f}-{s.end_s:.1f} s, words: '{s.text.strip()}'" for s in spoken)
    if len(lines) == len(plan.layout) + 2:
        lines.append("- nothing")
    if unrendered:
        lines.append("Not rendered by the generator: " + ", ".join(unrendered))
    return "\n".join(lines)


def reviser_request(plan: RichCaption, critique: Critique, allowed: Sequence[str] | None) -> str:
    lines = [f"Plan ({plan.duration_s:g} s): {plan_json(plan)}", "Issues:"]
    lines.extend(f"- {i.kind} {i.label}: {i.message}" if i.label else f"- {i.kind}: {i.message}" for i in critique.issues)
    if not critique.issues:
        lines.append("- none")
    if critique.instructions:
        lines.append("Instructions: " + " ".join(critique.instructions))
    if allowed is not None:
        lines.append("Labels allowed: " + ", ".join(allowed))
    return "\n".join(lines)


# ---- pieces --------------------------------------------------------------------------------


def event_line(ev: LayoutEvent, *, phrase: bool = False) -> str:
    """``Bark (a dog barks) 0.0-1.5 s, 3x, left, loud``: defaults left out."""
    name = ev.label + (f" ({ev.phrase})" if phrase and ev.phrase and ev.phrase != ev.label else "")
    extras = [f"{ev.count}x"] if ev.count > 1 else []
    extras += [v for v, default in ((ev.position, "center"), (ev.level, "normal")) if v != default]
    return f"{name} {ev.start_s:.1f}-{ev.end_s:.1f} s" + "".join(f", {x}" for x in extras)


def plan_json(plan: RichCaption) -> str:
    """The plan's layout as the JSON the reviser writes back (fields at their defaults left out)."""
    layout = [ev.model_dump(exclude_defaults=True, include={"label", "phrase", "start_s", "end_s", "count", "position", "level"})
              for ev in plan.layout]
    for item, ev in zip(layout, plan.layout):
        # Times are always shown, even a start at 0.
        item["start_s"], item["end_s"] = round(ev.start_s, 2), round(ev.end_s, 2)
        if item.get("phrase") == ev.label:
            item.pop("phrase")
    ordered = [{k: item[k] for k in ("label", "phrase", "start_s", "end_s", "count", "position", "level") if k in item}
               for item in layout]
    return json.dumps({"layout": ordered}, ensure_ascii=False)


def heard_lines(observation: Observation) -> list[str]:
    """One line per heard sound, then the words spoken."""
    lines = []
    for e, pieces in heard_sounds(observation):
        extras = [f"{pieces} pieces"] if pieces > 1 else []
        if e.balance is not None and abs(e.balance) >= 0.3:
            extras.append("left" if e.balance < 0 else "right")
        lines.append(f"- {e.label} {e.start_s:.1f}-{e.end_s:.1f} s" + "".join(f", {x}" for x in extras))
    for s in observation.speech:
        if s.text.strip():
            lines.append(f"- Speech {s.start_s:.1f}-{s.end_s:.1f} s, words: '{s.text.strip()}'")
    return lines or ["- nothing"]


def heard_sounds(observation: Observation) -> list[tuple[HeardEvent, int]]:
    """Heard sounds with their piece counts: pieces of a label that nearly touch are merged, the most confident kept."""
    merged: list[tuple[HeardEvent, int]] = []
    last_of: dict[str, int] = {}
    for e in sorted(observation.events, key=lambda e: (e.start_s, e.label)):
        i = last_of.get(e.label)
        if i is not None and e.start_s - merged[i][0].end_s <= MERGE_GAP_S:
            first, pieces = merged[i]
            merged[i] = (first.model_copy(update={"end_s": max(first.end_s, e.end_s),
                                                  "confidence": max(first.confidence, e.confidence)}), pieces + 1)
            continue
        last_of[e.label] = len(merged)
        merged.append((e, 1))
    if len(merged) > MAX_HEARD_LINES:
        keep = sorted(sorted(range(len(merged)), key=lambda i: -merged[i][0].confidence)[:MAX_HEARD_LINES])
        merged = [merged[i] for i in keep]
    return merged
