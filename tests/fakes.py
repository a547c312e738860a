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
from ualm_agent.roles import GenerationResult
from ualm_agent.schema import RichCaption


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


class PartialToneGenerator(ToneGenerator):
    """The tone world with a repertoire: labels outside ``renderable`` are reported unrendered and stay silent."""

    def __init__(self, *, renderable=("Bark", "Siren", "Church bell"), **settings) -> None:
        super().__init__(**settings)
        self.renderable = list(renderable)

    def can_render(self, label: str) -> bool:
        return label in self.renderable

    def renderable_labels(self) -> list[str]:
        return list(self.renderable)

    def generate(self, request):
        from dataclasses import replace

        layout = request.caption.layout
        kept = [ev for ev in layout if self.can_render(ev.label)]
        unrendered = tuple(dict.fromkeys(ev.label for ev in layout if not self.can_render(ev.label)))
        caption = request.caption.model_copy(update={"layout": kept})
        audio = super().generate(replace(request, caption=caption)).audio
        return GenerationResult(audio=audio, unrendered=unrendered)


class EmptyPlanner:
    """A planner that finds no event at all, as a model-backed planner may."""

    def plan(self, prompt, *, duration_s=None, answers=None) -> RichCaption:
        return RichCaption(keywords=[], layout=[], description=prompt, duration_s=duration_s or 4.0)
