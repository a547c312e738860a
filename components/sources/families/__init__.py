"""DSP sound families: one module per family of physical or signal models.

Each family module defines ``RECIPES`` (recipe name -> ``recipe(duration_s, sr,
rng, single) -> mono float array``, as in :mod:`ualm_agent.components.generators.dsp`)
``LABELS`` (AudioSet class name -> recipe name) for the classes it renders as
their own sound (the listener confirms them), and ``LIKENESSES`` (the same shape)
for classes a recipe models that the listener does not yet name. The ``dsp``
source merges them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

import numpy as np

Recipe = Callable[[float, int, np.random.Generator, bool], np.ndarray]

FAMILIES: tuple[str, ...] = ("vocal", "animals", "impacts", "friction", "liquids", "tools")


def _modules() -> list:
    found = []
    for name in FAMILIES:
        try:
            found.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return found


@cache
def recipes() -> dict[str, Recipe]:
    merged: dict[str, Recipe] = {}
    for module in _modules():
        merged.update(module.RECIPES)
    return merged


@cache
def labels() -> dict[str, str]:
    """AudioSet class name -> recipe name, over every family."""
    merged: dict[str, str] = {}
    for module in _modules():
        merged.update(module.LABELS)
    return merged


@cache
def likenesses() -> dict[str, str]:
    """AudioSet class name -> recipe name for unconfirmed attempts, over every family."""
    merged: dict[str, str] = {}
    for module in _modules():
        merged.update(getattr(module, "LIKENESSES", {}))
    return merged


def family_recipe(table: dict[str, Recipe]) -> Callable[[str], Callable[[Recipe], Recipe]]:
    """A decorator that files a family's recipes in its own ``RECIPES`` table."""

    def register(name: str) -> Callable[[Recipe], Recipe]:
        def deco(fn: Recipe) -> Recipe:
            table[name] = fn
            return fn

        return deco

    return register
