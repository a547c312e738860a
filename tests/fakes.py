"""Builders for fake component sets (the backends live in tests/plugin/ualm_test_fakes.py)."""

from __future__ import annotations

from ualm_test_fakes import (  # noqa: F401  (re-exported for tests)
    EchoCaptioner,
    NoteReviser,
    ScriptedCritic,
    ScriptedPlanner,
    ToneGenerator,
    ToneListener,
    tone_hz,
)

from ualm_agent.builders import Components
from ualm_agent.components.vaes.resample import IdentityVae


def fake_components(**overrides) -> Components:
    parts = dict(
        planner=ScriptedPlanner(),
        generator=ToneGenerator(),
        vae=IdentityVae(),
        listener=ToneListener(),
        captioner=EchoCaptioner(),
        critic=ScriptedCritic(scores=[0.5]),
        reviser=NoteReviser(),
    )
    parts.update(overrides)
    return Components(**parts)
