"""One ``typing.Protocol`` per role. The graph knows only these.

A backend object may implement several protocols at once (the unified UALM
model is planner, generator, captioner and critic); the builder then shares
one instance across those roles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from .schema import Critique, Observation, RichCaption
from .waveform import Waveform

if TYPE_CHECKING:
    from .audio_stream import AudioFileInfo

ROLES: tuple[str, ...] = ("planner", "generator", "codec", "vae", "listener", "captioner", "critic", "reviser")
# Roles of parts a backend is built from rather than graph nodes: the composer mixes sound sources.
PART_ROLES: tuple[str, ...] = ("source",)


@dataclass(frozen=True)
class GenerationRequest:
    """What a generator gets: the structured caption and its text form.

    Text-conditioned models use ``text``; structure-aware ones use ``caption``.
    """

    caption: RichCaption
    text: str
    duration_s: float
    seed: int
    round_index: int = 0


@dataclass(frozen=True)
class GenerationResult:
    audio: Waveform
    # Plan labels the generator could not render; the critic sees them as missing.
    unrendered: tuple[str, ...] = field(default_factory=tuple)
    # What the generator changed or could not honour (e.g. a length trimmed to the request), in plain words.
    notes: tuple[str, ...] = field(default_factory=tuple)


@runtime_checkable
class Planner(Protocol):
    def plan(
        self, prompt: str, *, duration_s: float | None = None, answers: Mapping[str, str] | None = None
    ) -> RichCaption: ...


@runtime_checkable
class Generator(Protocol):
    def generate(self, request: GenerationRequest) -> GenerationResult: ...


@runtime_checkable
class Codec(Protocol):
    sample_rate: int
    frame_rate: float

    def encode(self, audio: Waveform) -> np.ndarray: ...

    def decode(self, codes: np.ndarray) -> Waveform: ...


@runtime_checkable
class Vae(Protocol):
    def process(self, audio: Waveform, caption: RichCaption) -> Waveform: ...


@runtime_checkable
class Listener(Protocol):
    def listen(self, audio: Waveform, *, hints: Sequence[str] = ()) -> Observation: ...


@runtime_checkable
class Captioner(Protocol):
    def caption(self, observation: Observation, *, audio: Waveform | None = None) -> RichCaption: ...


@runtime_checkable
class Critic(Protocol):
    def critique(
        self,
        plan: RichCaption,
        heard: RichCaption,
        observation: Observation,
        *,
        unrendered: Sequence[str] = (),
    ) -> Critique: ...


@runtime_checkable
class Reviser(Protocol):
    def revise(
        self, plan: RichCaption, critique: Critique, *, renderable: Sequence[str] | None = None
    ) -> RichCaption: ...


@dataclass(frozen=True)
class SoundRequest:
    """One occurrence for a sound source to render: ``duration_s`` of ``label`` at ``sample_rate``."""

    label: str
    duration_s: float
    sample_rate: int
    # Entropy for this occurrence's render (numpy SeedSequence entropy).
    seed: tuple[int, ...] = (0,)
    # Which of the match's takes to render, 0 <= take < SourceMatch.takes.
    take: int = 0
    # One of several counted repeats: make one hit (or one short group), not a repeating pattern.
    single: bool = False
    # The user's words for it (a speech event's quoted words live here).
    phrase: str = ""


@dataclass(frozen=True)
class SourceMatch:
    """A source's answer to "can you render this label, and how well?"."""

    # The source's own name for what it will render (a recipe, a file label, a voice).
    sound: str
    # 0..1, higher is better: 1 a recording of this very class, about 0.5 a synthesised
    # likeness, lower a related class standing in. The mixer renders the best match.
    quality: float
    # How many distinct takes (recordings, variants) the source has of it.
    takes: int = 1
    # True when the sound is another class's, standing in for the label asked for.
    stand_in: bool = False


@runtime_checkable
class SoundSource(Protocol):
    """Renders single sound events for the composer's timeline mixer."""

    name: str

    def find(self, label: str, phrase: str = "") -> SourceMatch | None: ...

    def labels(self) -> Sequence[str]: ...

    # Mono float samples at request.sample_rate; None when this take cannot be rendered
    # (a broken file): the mixer then tries the next take or source.
    def render(self, match: SourceMatch, request: SoundRequest) -> np.ndarray | None: ...


@runtime_checkable
class KnowsRenderable(Protocol):
    """Optional generator capability: which labels it can render."""

    def can_render(self, label: str) -> bool: ...

    def renderable_labels(self) -> Sequence[str]: ...


@runtime_checkable
class ListensForPlan(Protocol):
    """Optional listener capability: hear a clip knowing the whole plan, not only its labels.

    A judge that answers questions ("is there a dog barking between 0 and 3 s?") needs the
    planned times, counts and levels; the loop and the evaluator call this when a listener has it.
    """

    def listen_for(self, audio: Waveform, plan: RichCaption) -> Observation: ...


# Called with the seconds of audio heard so far.
Progress = Callable[[float], None]


@runtime_checkable
class StreamingListener(Protocol):
    """Optional listener capability: hear an audio file in blocks, in memory bounded whatever its length."""

    def listen_file(self, source: "AudioFileInfo", *, hints: Sequence[str] = (),
                    progress: Progress | None = None) -> Observation: ...


PROTOCOLS: dict[str, type] = {
    "planner": Planner,
    "generator": Generator,
    "codec": Codec,
    "vae": Vae,
    "listener": Listener,
    "captioner": Captioner,
    "critic": Critic,
    "reviser": Reviser,
    "source": SoundSource,
}
