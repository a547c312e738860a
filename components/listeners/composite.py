"""Listener ``composite``: several listeners heard as one.

Each member is a listener spec (``{kind = "yamnet"}``, ``{kind = "whisper",
model = "base.en"}``) built through the same builder and instance cache as
every other component, so a member that also serves another role is one
instance. The merged observation holds:

- the union of the members' events, where two members reporting the same
  label over overlapping time become one event (their joint span, the higher
  confidence);
- the speech of the members that transcribe it (segments with text), else the
  text-less speech spans of the first member that has any;
- loudness, balance and duration from the first member that measured them.

``listen_for_plan`` is how a round is heard: the configured listener, with
Whisper merged in when the plan has words to say and the listener transcribes none.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError, field_validator

from ualm_agent.errors import ConfigError, ModelUnavailableError, validation_summary
from ualm_agent.registry import BackendConfig, register
from ualm_agent.schema import HeardEvent, Observation, RichCaption
from ualm_agent.waveform import Waveform

from . import measure

if TYPE_CHECKING:
    from ualm_agent.config import AgentConfig


class CompositeSettings(BackendConfig):
    kind: Literal["composite"] = "composite"
    # By default: YAMNet for the sounds and Whisper for the words, both offline.
    members: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"kind": "yamnet"}, {"kind": "whisper"}],
        min_length=1,
        description='listener specs, e.g. [{kind="yamnet"}, {kind="whisper"}]',
    )
    # Passed on to members that take them (the CLI's --device/--dtype fill these in).
    device: str | None = None
    dtype: str | None = None

    @field_validator("members")
    @classmethod
    def _members(cls, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, spec in enumerate(members):
            kind = spec.get("kind")
            if not isinstance(kind, str) or not kind:
                raise ValueError(f"member {i} needs a kind, e.g. {{kind = \"yamnet\"}}")
            if kind == "composite":
                raise ValueError("a composite listener cannot contain another composite; list all members in one")
        return members


@register("composite", roles=("listener",), config=CompositeSettings)
class CompositeListener:
    """Several listeners merged into one observation (e.g. yamnet sounds + whisper words)."""

    def __init__(self, **settings: object) -> None:
        try:
            self.settings = CompositeSettings(**settings)
        except ValueError as exc:
            message = validation_summary(exc) if isinstance(exc, ValidationError) else str(exc)
            raise ConfigError(f"listener composite: {message}") from None
        self._configs = [self._member_config(spec) for spec in self.settings.members]
        self.name = "composite(" + "+".join(spec["kind"] for spec in self.settings.members) + ")"
        self._members: list[Any] | None = None
        self._lock = threading.Lock()

    def _member_config(self, spec: dict[str, Any]):
        """The member as a one-listener AgentConfig, checked now so a bad member fails before any work."""
        from ualm_agent.config import AgentConfig, ComponentSpec

        s = self.settings
        config = AgentConfig(listener=ComponentSpec(**spec), device=s.device, dtype=s.dtype)
        config.resolved("listener")
        return config

    @property
    def members(self) -> list[Any]:
        # Built on first use: the builder holds its lock while it constructs this listener.
        with self._lock:
            if self._members is None:
                from ualm_agent.builders import build_component

                self._members = [build_component("listener", config) for config in self._configs]
            return self._members

    def listen(self, audio: Waveform, *, hints: Sequence[str] = ()) -> Observation:
        measure.check_listenable(audio)
        heard = [member.listen(audio, hints=hints) for member in self.members]
        return merge(heard, self.name)


def listen_for_plan(listener: Any, audio: Waveform, plan: RichCaption, config: AgentConfig) -> Observation:
    """What ``listener`` hears of a round, the plan's labels as hints; when the plan has words to say
    and the listener transcribes none, Whisper's words are merged in (``loop.hear_words``), so the
    critic can check them. A plan without words is spared the transcriber. A listener that hears
    with the whole plan (``ListensForPlan``, e.g. a judge asking about times and counts) gets it."""
    from ualm_agent.roles import ListensForPlan

    hints = tuple(plan.labels())
    if isinstance(listener, ListensForPlan):
        observation = listener.listen_for(audio, plan)
    else:
        observation = listener.listen(audio, hints=hints)
    if observation.transcribed or not config.loop.hear_words or not words_planned(plan):
        return observation
    from ualm_agent.builders import build_component
    from ualm_agent.config import AgentConfig, ComponentSpec

    words_config = AgentConfig(listener=ComponentSpec(kind="whisper"), device=config.device, dtype=config.dtype)
    try:
        words = build_component("listener", words_config)
    except (ModelUnavailableError, ConfigError):
        return observation  # no Whisper installed: words go unchecked, as with any listener that cannot transcribe
    return merge([observation, words.listen(audio, hints=hints)], f"{observation.listener}+{words.name}")


def words_planned(plan: RichCaption) -> bool:
    """Whether a speech event of the plan names words to be said (those the critic checks)."""
    from ..critics.words import words_to_say

    return any(words_to_say(ev.label, ev.phrase) for ev in plan.layout)


def merge(observations: Sequence[Observation], name: str) -> Observation:
    """One observation from several listeners' (see the module doc)."""
    events = _merge_events([e for o in observations for e in o.events])
    texted = [seg for o in observations for seg in o.speech if seg.text.strip()]
    if texted:
        speech = sorted(texted, key=lambda seg: (seg.start_s, seg.end_s))
    else:
        speech = next((list(o.speech) for o in observations if o.speech), [])
    measured = next((o for o in observations if o.loudness_lufs is not None), None)
    timed = next((o for o in observations if o.duration_s > 0), observations[0] if observations else Observation())
    return Observation(
        events=events,
        speech=speech,
        loudness_lufs=measured.loudness_lufs if measured else None,
        balance=(measured or timed).balance,
        duration_s=timed.duration_s,
        listener=name,
        transcribed=any(o.transcribed for o in observations),
    )


def _merge_events(events: list[HeardEvent]) -> list[HeardEvent]:
    merged: list[HeardEvent] = []
    for e in sorted(events, key=lambda e: (e.label, e.start_s, e.end_s)):
        last = merged[-1] if merged else None
        if last is not None and last.label == e.label and e.start_s < last.end_s:
            # The more confident report keeps its level and balance.
            best = e if e.confidence > last.confidence else last
            merged[-1] = best.model_copy(
                update={"start_s": min(last.start_s, e.start_s), "end_s": max(last.end_s, e.end_s)}
            )
        else:
            merged.append(e)
    return sorted(merged, key=lambda e: (e.start_s, -e.confidence, e.label))
