"""Text the toolkit shows or sends: dialogue questions (and, for model-backed roles, prompts)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def dialogue() -> dict[str, dict[str, Any]]:
    """Question texts and choices by key, from dialogue.toml."""
    return tomllib.loads(load("dialogue.toml"))
