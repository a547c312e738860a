"""Text templates: report sections and dialogue questions (and, later, LLM prompts)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
