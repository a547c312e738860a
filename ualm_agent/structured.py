"""Turn model-written text into the typed data, with validation and bounded retries.

Language-model roles (the unified UALM model, chat LLMs) write text; the graph
needs a RichCaption or a Critique. :func:`generate_validated` asks the model,
parses, and on a parse or validation error asks again with the error as
feedback, up to ``retries`` more times, then fails with a message that shows
what the model wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import TypeVar

from pydantic import ValidationError

from .errors import UalmAgentError, validation_summary
from .schema import Critique, RichCaption

T = TypeVar("T")


class ModelOutputError(UalmAgentError):
    """A model kept writing text that does not parse into the expected type."""


def generate_validated(
    produce: Callable[[str | None], str],
    parse: Callable[[str], T],
    *,
    retries: int = 2,
    what: str = "output",
    model: str = "model",
) -> T:
    """``produce(feedback)`` returns text; ``parse(text)`` returns the value or raises.

    ``feedback`` is None on the first try, then a one-line description of what
    was wrong with the previous answer, for prompts that can use it.
    """
    feedback: str | None = None
    text = ""
    for _ in range(retries + 1):
        text = produce(feedback)
        try:
            return parse(text)
        except (ValueError, ValidationError) as exc:
            feedback = _one_line(exc)
    snippet = " ".join(text.split())[:160]
    raise ModelOutputError(
        f"{model} did not produce a valid {what} in {retries + 1} tries (last error: {feedback}); it wrote: {snippet!r}"
    )


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return validation_summary(exc)[:300]
    return " ".join(str(exc).split())[:300]


def scan_json(text: str, start: int = 0) -> Iterator[tuple[int, str, bool]]:
    """(index, character, inside a string) from ``start`` on; quotes and escapes as JSON reads them."""
    in_string = escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                yield i, ch, True
                continue
            yield i, ch, True
        elif ch == '"':
            in_string = True
            yield i, ch, True
        else:
            yield i, ch, False


def object_end(text: str, start: int) -> int | None:
    """The index of the "}" closing the object that opens at ``start``, or None if it never closes."""
    depth = 0
    for i, ch, quoted in scan_json(text, start):
        if quoted:
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def extract_json(text: str) -> dict:
    """The first balanced JSON object in ``text`` (models wrap it in prose or code fences)."""
    start = text.find("{")
    while start != -1:
        end = object_end(text, start)
        if end is None:
            break
        try:
            value = json.loads(text[start : end + 1])
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    raise ValueError("no JSON object found in the text")


def parse_rich_caption(text: str, *, duration_s: float | None = None) -> RichCaption:
    """A RichCaption from JSON or from the caption's text form (``RichCaption.to_text``)."""
    if "{" in text:
        try:
            data = extract_json(text)
        except ValueError:
            data = None
        if data is not None:
            if duration_s is not None and "duration_s" not in data:
                data["duration_s"] = duration_s
            return RichCaption.model_validate(data)
    if "Layout:" not in text and "Keywords:" not in text:
        raise ValueError("expected a rich caption: a JSON object or 'Keywords:' / 'Layout:' / 'Description:' lines")
    caption = RichCaption.from_text(text)
    if duration_s is not None and not re.search(r"^\s*Duration:", text, flags=re.M):
        caption = caption.model_copy(update={"duration_s": duration_s})
    if not caption.layout and not caption.keywords:
        raise ValueError("the rich caption has neither keywords nor layout events")
    return caption


def parse_critique(text: str) -> Critique:
    """A Critique from JSON or from its text form (``Critique.to_text``)."""
    try:
        data = extract_json(text)
    except ValueError:
        return Critique.from_text(text)
    return Critique.model_validate(data)
