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


@runtime_checkable
class KnowsRenderable(Protocol):
    """Optional generator capability: which labels it can render."""

    def can_render(self, label: str) -> bool: ...

    def renderable_labels(self) -> Sequence[str]: ...


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
}
