"""Graph state: small, typed and JSON-friendly. Audio stays on disk (AudioRef)."""

from __future__ import annotations

from typing import TypedDict

from ualm_agent.schema import RichCaption, Round, RunResult


class ReflectionState(TypedDict, total=False):
    # Input
    prompt: str
    duration_s: float
    seed: int
    # Dialogue answers (question key -> answer)
    answers: dict[str, str]
    # Working plan and the round being built
    plan: RichCaption
    prompt_text: str
    round_index: int
    current: Round
    # Finished rounds, in order. Replaced whole (no reducer) so an embedding parent
    # graph that shares the key never sees duplicated entries.
    rounds: list[Round]
    route: str
    # Output
    result: RunResult


class ReflectionInput(TypedDict, total=False):
    prompt: str
    duration_s: float
    seed: int
    answers: dict[str, str]


class ReflectionOutput(TypedDict, total=False):
    prompt: str
    rounds: list[Round]
    result: RunResult
