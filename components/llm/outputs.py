"""Parse what the chat model wrote into the typed data, making it usable without inventing content.

What is done to the model's JSON (and nothing more):

- fields the schema does not know are dropped; ``position`` / ``level`` / ``kind`` /
  ``verdict`` words are lower-cased; a ``position``, ``level`` or ``count`` that is
  not one of the schema's values is left out (the default applies);
- labels are snapped to AudioSet names by the rules planner's lexical step (the
  exact AudioSet spelling up to case, plural and articles, then its word table),
  never by embedding similarity; the model's own words stay in ``phrase``;
- a closing brace that skips an open list closes the list first (``}}`` for
  ``}]}``, a slip small models make); no other syntax is repaired;
- times are clamped into the clip (a start below 0 becomes 0, an end past the
  clip becomes its end); the clip keeps the duration the caller gave;
- the planner keeps ``count``, ``position`` and ``level`` only where the request
  speaks of repeats, sides or loudness at all, and the captioner only where the
  heard sounds show them (a count up to the pieces heard); small models copy
  them from the worked examples;
- events are sorted by start time; keywords, when the model gives none, are the
  events' phrases;
- for the critic, an issue's label is matched to the planned event it names
  (``event_index``): the same name, or words all found in exactly one planned
  event's label and phrase ("Car" for "Car passing by"); an issue about a sound
  that was not planned (or, for "extra", not heard) is an error, since small
  models copy labels from the examples; and a verdict of "accept" alongside a
  severe issue becomes "revise" (the one consistency rule: an accepted clip has
  no severe fault).

The reviser must keep every planned sound (a revision changes how a sound is
planned, it does not drop it) and the captioner every sound heard.

Anything else that is wrong (no layout, an event starting after the clip ends or
ending before it starts, an unknown kind, a label the generator cannot render)
raises ValueError, which the caller turns into a retry with that message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from ualm_agent.labels import exact_audioset_name, name_key
from ualm_agent.schema import LEVELS, POSITIONS, Critique, Issue, LayoutEvent, RichCaption
from ualm_agent.structured import extract_json, scan_json

# Issues at least this severe mean the clip is not acceptable (the rules critic's default).
SEVERE = 0.75
_EVENT_FIELDS = ("label", "phrase", "start_s", "end_s", "count", "position", "level")
_ISSUE_FIELDS = tuple(Issue.model_fields)
_CHOICES = {"position": POSITIONS, "level": LEVELS}


@cache
def _labeller():
    from ualm_agent.components.planners.labelling import Labeller

    return Labeller(use_minilm=False)


def snap_label(label: str) -> str:
    """The AudioSet name ``label`` spells or the planner's word table gives it, else ``label`` as written."""
    from ualm_agent.components.planners.lexicon import contexts_in

    text = " ".join(label.split())
    exact = exact_audioset_name(text)
    if exact:
        return exact
    lowered = text.lower()
    found = _labeller().lexical(lowered, contexts_in(lowered))
    return found.label if found is not None else text


def planned_matches(label: str, plan: RichCaption) -> list[int]:
    """Indices of the planned events a label names: those of the same name (as written or snapped to
    AudioSet), else the one event whose label and phrase hold every word of it ("Car" for the planned
    "Car passing by", "a car passes"); empty when none, or several, do."""
    keys = (name_key(label), name_key(snap_label(label)))
    matches = [j for j, ev in enumerate(plan.layout) if name_key(ev.label) in keys]
    if not matches:
        words = set(name_key(label).split())
        matches = [j for j, ev in enumerate(plan.layout) if words <= set(name_key(f"{ev.label} {ev.phrase}").split())]
        matches = matches if len(matches) == 1 else []
    return matches


def load_json(text: str) -> dict:
    """The first JSON object in ``text``; where a closing brace comes while a list is still open,
    the list is closed first (small models write ``}}`` for ``}]}``). Nothing else is repaired."""
    candidate = close_lists(text)
    if candidate is not None:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
    return extract_json(text)


def close_lists(text: str) -> str | None:
    """``text`` from its first "{" up to where that object closes, with "]" put in where a "}" skips an open list."""
    start = text.find("{")
    if start < 0:
        return None
    out: list[str] = []
    stack: list[str] = []
    for _, ch, quoted in scan_json(text, start):
        if not quoted and ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif not quoted and ch in "}]":
            if ch == "}":
                while stack and stack[-1] == "]":
                    out.append(stack.pop())
            if not stack or stack[-1] != ch:
                return None
            stack.pop()
            out.append(ch)
            if not stack:
                return "".join(out)
            continue
        out.append(ch)
    return None


def caption_from(
    text: str,
    *,
    duration_s: float,
    allowed: Sequence[str] | None = None,
    keep: RichCaption | None = None,
) -> RichCaption:
    """A RichCaption from the model's JSON; ``allowed`` limits labels, ``keep`` fills what a reviser left out."""
    data = load_json(text)
    raw = data.get("layout")
    if not isinstance(raw, list):
        raise ValueError('the answer needs a "layout" list of sound events')
    events = [_event(item, i, duration_s, allowed, keep) for i, item in enumerate(raw)]
    order = sorted(range(len(events)), key=lambda i: (events[i].start_s, i))
    layout = [events[i] for i in order]
    keywords = _strings(data.get("keywords"))
    if not keywords:
        keywords = list(keep.keywords) if keep is not None else list(dict.fromkeys(e.phrase or e.label for e in layout))
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        description = keep.description if keep is not None else ""
    return RichCaption(
        keywords=keywords,
        layout=layout,
        description=" ".join(description.split()),
        duration_s=duration_s,
        assumptions=list(keep.assumptions) if keep is not None else [],
    )


def _event(
    item: Any, i: int, duration_s: float, allowed: Sequence[str] | None, keep: RichCaption | None
) -> LayoutEvent:
    if not isinstance(item, dict):
        raise ValueError(f"layout[{i}] is not an object with label, start_s and end_s")
    fields = {k: item[k] for k in _EVENT_FIELDS if k in item and item[k] is not None}
    label = str(fields.get("label", "")).strip()
    if not label:
        raise ValueError(f"layout[{i}] has no label")
    for key, valid in _CHOICES.items():
        value = str(fields.get(key, "")).strip().lower()
        if value in valid:
            fields[key] = value
        else:
            fields.pop(key, None)  # a word that is no position/level ("level": "dog"): left at its default
    count = fields.get("count")
    if not (isinstance(count, int) and 1 <= count <= 100):
        fields.pop("count", None)
    try:
        start, end = float(fields["start_s"]), float(fields["end_s"])
    except KeyError:
        raise ValueError(f"layout[{i}] ({label}) needs start_s and end_s in seconds") from None
    except (TypeError, ValueError):
        raise ValueError(f"layout[{i}] ({label}): start_s and end_s must be numbers") from None
    if start >= duration_s:
        raise ValueError(f"{label} starts at {start:g} s, after the {duration_s:g} s clip ends")
    start, end = max(0.0, start), min(end, duration_s)
    if end <= start:
        raise ValueError(f"{label} ends at {end:g} s, before it starts at {start:g} s")
    snapped = snap_label(label)
    if allowed is not None:
        snapped = _allowed(snapped, label, allowed)
    phrase = str(fields.get("phrase") or "").strip()
    if not phrase and keep is not None:
        phrase = _kept_phrase(label, snapped, keep)
    if not phrase and snapped != label:
        phrase = label  # the model's own words for the sound
    fields.update(label=snapped, phrase=phrase, start_s=round(start, 3), end_s=round(end, 3))
    return LayoutEvent.model_validate(fields)


def _allowed(snapped: str, written: str, allowed: Sequence[str]) -> str:
    keys = {name_key(a): a for a in allowed}
    for candidate in (snapped, written):
        if name_key(candidate) in keys:
            return keys[name_key(candidate)]
    raise ValueError(f"{written} cannot be rendered; use one of the labels allowed")


def _kept_phrase(written: str, snapped: str, keep: RichCaption) -> str:
    """A reviser keeps an event's phrase: the planned event with the same label."""
    for ev in keep.layout:
        if name_key(ev.label) in (name_key(written), name_key(snapped)):
            return ev.phrase
    return ""


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(" ".join(str(v).split()) for v in value if isinstance(v, (str, int, float)) and str(v).strip()))


def critique_from(text: str, *, plan: RichCaption, heard: Sequence[str] = ()) -> Critique:
    """A Critique from the model's JSON, issues tied to the planned events they name."""
    data = load_json(text)
    verdict = str(data.get("verdict", "")).strip().lower()
    if verdict not in ("accept", "revise"):
        raise ValueError('"verdict" must be "accept" or "revise"')
    raw = data.get("issues") or []
    if not isinstance(raw, list):
        raise ValueError('"issues" must be a list')
    issues = [_issue(item, i, plan, heard) for i, item in enumerate(raw)]
    if verdict == "accept" and any(issue.severity >= SEVERE for issue in issues):
        verdict = "revise"
    return Critique.model_validate(
        {"verdict": verdict, "score": data.get("score"), "issues": issues, "instructions": _strings(data.get("instructions"))}
    )


def _issue(item: Any, i: int, plan: RichCaption, heard: Sequence[str]) -> Issue:
    if not isinstance(item, dict):
        raise ValueError(f"issues[{i}] is not an object with kind, label and message")
    fields = {k: item[k] for k in _ISSUE_FIELDS if k in item and item[k] is not None}
    if isinstance(fields.get("kind"), str):
        fields["kind"] = fields["kind"].strip().lower()
    for key in ("label", "expected", "observed", "message"):
        if key in fields:
            fields[key] = str(fields[key]).strip()
    label = fields.get("label", "")
    if label:
        matches = planned_matches(label, plan)
        if matches:
            fields["label"] = plan.layout[matches[0]].label
            if len(matches) == 1 and fields.get("event_index") is None:
                fields["event_index"] = matches[0]
    kind = fields.get("kind")
    planned = [ev.label for ev in plan.layout]
    if kind == "extra":
        if label and heard and not any(name_key(h) in (name_key(label), name_key(snap_label(label))) for h in heard):
            raise ValueError(f"issues[{i}]: the extra sound {label!r} was not heard; heard: {', '.join(heard)}")
    elif kind != "quality" and label and fields.get("label") not in planned:
        raise ValueError(f"issues[{i}]: {label!r} is not a planned sound; planned: {', '.join(planned)}")
    index = fields.get("event_index")
    if index is not None and not (isinstance(index, int) and 0 <= index < len(plan.layout)):
        fields.pop("event_index")
    return Issue.model_validate(fields)


_COUNT_WORDS = re.compile(
    r"\d|\b(?:twice|thrice|times|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|few|couple|"
    r"multiple|many|repeat\w*|again|series)\b"
)
_LEVEL_WORDS = re.compile(
    r"\b(?:loud\w*|soft\w*|quiet\w*|faint\w*|gentl\w*|distant|distance|far|whisper\w*|boom\w*|blar\w*|"
    r"muffled|deafening|barely)\b"
)


def only_asked(plan: RichCaption, request: str, *, pieces: dict[str, int] | None = None) -> RichCaption:
    """Reset the count, side and level of events to their defaults where the request never speaks of them.

    ``pieces`` (the captioner's heard sounds): a count is kept only up to the pieces heard of that label.
    """
    words = request.lower()
    has_count = bool(_COUNT_WORDS.search(words))
    has_level = bool(_LEVEL_WORDS.search(words))
    sides = {side for side in ("left", "right") if re.search(rf"\b{side}\b", words)}
    layout = []
    for ev in plan.layout:
        update: dict[str, Any] = {}
        if pieces is not None:
            most = pieces.get(name_key(ev.label), 1)
            if ev.count > most:
                update["count"] = most
        elif ev.count > 1 and not has_count:
            update["count"] = 1
        if ev.position != "center" and ev.position not in sides:
            update["position"] = "center"
        if ev.level != "normal" and not has_level:
            update["level"] = "normal"
        layout.append(ev.model_copy(update=update) if update else ev)
    return plan.model_copy(update={"layout": layout})


def require_labels(caption: RichCaption, labels: Sequence[str], *, what: str) -> RichCaption:
    """ValueError naming the first of ``labels`` the caption lost (same name, or same name once snapped)."""
    have = {name_key(ev.label) for ev in caption.layout} | {name_key(snap_label(ev.phrase)) for ev in caption.layout if ev.phrase}
    for label in labels:
        if name_key(label) not in have and name_key(snap_label(label)) not in have:
            raise ValueError(f"{label} is missing; {what}")
    return caption
