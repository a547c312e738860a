"""Fake backends for tests, registered as a third-party plugin would be.

The "tone world": each label is a sine at its own frequency. The fake generator
renders a plan as tones, and the fake listener finds those tones again, so the
real captioner, critic and reviser can be tested on exact, fast audio.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from ualm_agent.registry import BackendConfig, register
from ualm_agent.roles import GenerationRequest, GenerationResult
from ualm_agent.schema import Critique, HeardEvent, Issue, LayoutEvent, Observation, RichCaption
from ualm_agent.waveform import Waveform

RATE = 16000


def tone_hz(label: str) -> float:
    return 400.0 + (zlib.crc32(label.encode()) % 30) * 100.0


class ToneGeneratorSettings(BackendConfig):
    kind: Literal["tone"] = "tone"
    swap_first: bool = False
    silent_rounds: list[int] = []
    nan_rounds: list[int] = []
    delay_s: float = 0.0
    log_file: str | None = None


@register("tone", roles=("generator",), config=ToneGeneratorSettings)
class ToneGenerator:
    """Sine tones per label; optionally swaps the first two events on round 0."""

    def __init__(self, *, swap_first=False, silent_rounds=(), nan_rounds=(), delay_s=0.0, log_file=None) -> None:
        self.swap_first = swap_first
        self.silent_rounds = set(silent_rounds)
        self.nan_rounds = set(nan_rounds)
        self.delay_s = delay_s
        self.log_file = log_file

    def generate(self, request: GenerationRequest) -> GenerationResult:
        if self.log_file:
            with open(self.log_file, "a") as f:
                f.write(json.dumps({"round": request.round_index, "seed": request.seed}) + "\n")
        if self.delay_s:
            time.sleep(self.delay_s)
        layout = list(request.caption.layout)
        if self.swap_first and request.round_index == 0 and len(layout) >= 2:
            a, b = layout[0], layout[1]
            layout[0] = a.model_copy(update={"start_s": b.start_s, "end_s": b.end_s})
            layout[1] = b.model_copy(update={"start_s": a.start_s, "end_s": a.end_s})
        n = int(round(request.duration_s * RATE))
        out = np.zeros(n, np.float32)
        rng = np.random.default_rng(request.seed)
        for ev in layout:
            for start, end in ev.occurrences():
                i0, i1 = int(start * RATE), min(n, int(end * RATE))
                t = np.arange(i1 - i0) / RATE
                out[i0:i1] += 0.3 * np.sin(2 * np.pi * tone_hz(ev.label) * t + rng.uniform(0, 6.28))
        if request.round_index in self.silent_rounds:
            out[:] = 0.0
        if request.round_index in self.nan_rounds:
            out[:] = np.nan
        return GenerationResult(audio=Waveform(out, RATE))


class ToneListenerSettings(BackendConfig):
    kind: Literal["tone"] = "tone"


@register("tone", roles=("listener",), config=ToneListenerSettings)
class ToneListener:
    """Finds the hinted labels' tones in 0.1 s frames."""

    def listen(self, audio: Waveform, *, hints: Sequence[str] = ()) -> Observation:
        mono = audio.mono()
        rate = audio.sample_rate
        hop = rate // 10
        frames = [mono[i : i + hop] for i in range(0, len(mono) - hop + 1, hop)]
        events = []
        for label in dict.fromkeys(hints):
            f = tone_hz(label)
            active = []
            for fr in frames:
                t = np.arange(len(fr)) / rate
                mag = abs(np.dot(fr, np.exp(-2j * np.pi * f * t))) / len(fr)
                active.append(mag > 0.05)
            start = None
            for k, on in enumerate([*active, False]):
                if on and start is None:
                    start = k
                elif not on and start is not None:
                    events.append(HeardEvent(label=label, start_s=start / 10, end_s=k / 10, confidence=0.9))
                    start = None
        events.sort(key=lambda e: e.start_s)
        return Observation(events=events, duration_s=len(mono) / rate, listener="tone")


class ScriptedPlannerSettings(BackendConfig):
    kind: Literal["scripted"] = "scripted"
    labels: list[str] = ["Trumpet", "Drum kit"]


@register("scripted", roles=("planner",), config=ScriptedPlannerSettings)
class ScriptedPlanner:
    """Plans the given labels one after another; asks about order when told to."""

    def __init__(self, *, labels: Sequence[str] = ("Trumpet", "Drum kit")) -> None:
        self.labels = list(labels)

    def plan(self, prompt: str, *, duration_s: float | None = None, answers: Mapping[str, str] | None = None) -> RichCaption:
        from ualm_agent.schema import Question

        duration = duration_s or 4.0
        answers = dict(answers or {})
        together = answers.get("order") == "all together"
        slot = duration / len(self.labels)
        layout = [
            LayoutEvent(label=lab, phrase=lab.lower(), start_s=0.0 if together else i * slot + 0.1,
                        end_s=duration - 0.1 if together else (i + 1) * slot - 0.1)
            for i, lab in enumerate(self.labels)
        ]
        questions = [] if "order" in answers else [
            Question(key="order", text="Should the sounds play in sequence or all together?",
                     choices=["in sequence", "all together"], default="in sequence")
        ]
        return RichCaption(keywords=[lab.lower() for lab in self.labels], layout=layout, description=prompt,
                           duration_s=duration, questions=questions,
                           assumptions=[] if answers else ["Assumed the sounds play in sequence."])


class ScriptedCriticSettings(BackendConfig):
    kind: Literal["scripted"] = "scripted"
    scores: list[float] = [0.5]
    accept_at: float = 1.1


@register("scripted", roles=("critic",), config=ScriptedCriticSettings)
class ScriptedCritic:
    """Returns the scripted score for each successive critique."""

    def __init__(self, *, scores: Sequence[float] = (0.5,), accept_at: float = 1.1) -> None:
        self.scores = list(scores)
        self.accept_at = accept_at
        self.calls = 0

    def critique(self, plan, heard, observation, *, unrendered=()) -> Critique:
        score = self.scores[min(self.calls, len(self.scores) - 1)]
        self.calls += 1
        verdict = "accept" if score >= self.accept_at else "revise"
        issues = [] if verdict == "accept" else [Issue(kind="quality", message=f"scripted score {score}")]
        return Critique(score=score, issues=issues, verdict=verdict, instructions=[])


class EchoCaptionerSettings(BackendConfig):
    kind: Literal["echo"] = "echo"


@register("echo", roles=("captioner",), config=EchoCaptionerSettings)
class EchoCaptioner:
    """Heard events become layout events one to one."""

    def caption(self, observation: Observation, *, audio=None) -> RichCaption:
        layout = [LayoutEvent(label=e.label, start_s=e.start_s, end_s=max(e.end_s, e.start_s + 0.01)) for e in observation.events]
        return RichCaption(keywords=[e.label for e in observation.events], layout=layout,
                           duration_s=max(observation.duration_s, 0.1))


class NoteReviserSettings(BackendConfig):
    kind: Literal["note"] = "note"


@register("note", roles=("reviser",), config=NoteReviserSettings)
class NoteReviser:
    """Keeps the plan and notes the revision, so rounds differ only by seed."""

    def revise(self, plan: RichCaption, critique: Critique, *, renderable=None) -> RichCaption:
        return plan.model_copy(update={"assumptions": [*plan.assumptions, f"revised after score {critique.score}"]})


class NeedsMissingSettings(BackendConfig):
    kind: Literal["needs-missing"] = "needs-missing"


@register(
    "needs-missing",
    roles=("listener",),
    config=NeedsMissingSettings,
    requires=("ualm_agent_no_such_module",),
    install="pip install ualm-agent-no-such-package",
)
class NeedsMissing:
    """A backend whose optional dependency is not installed."""

    def listen(self, audio, *, hints=()):
        raise AssertionError("never built")


class ToneSourceSettings(BackendConfig):
    kind: Literal["tones"] = "tones"
    sample_rate: int = 16000
    # The labels this source renders, each as its own tone.
    repertoire: list[str] = ["Bark", "Siren"]
    quality: float = 0.7
    takes: int = 3
    # Labels whose every take fails to render (a broken file, say).
    broken: list[str] = []


@register("tones", roles=("source",), config=ToneSourceSettings)
class ToneSource:
    """A sound source of the tone world: take k of a label is its tone raised by k * 50 Hz."""

    name = "tones"

    def __init__(self, sample_rate: int = 16000, repertoire=("Bark", "Siren"), quality: float = 0.7, takes: int = 3,
                 broken=()) -> None:
        self.sample_rate = sample_rate
        self.repertoire, self.quality, self.takes, self.broken = list(repertoire), quality, takes, list(broken)
        self.rendered: list[tuple[str, int]] = []

    def labels(self):
        return list(self.repertoire)

    def find(self, label, phrase=""):
        from ualm_agent.roles import SourceMatch

        return SourceMatch(label, self.quality, takes=self.takes) if label in self.repertoire else None

    def render(self, match, request):
        self.rendered.append((match.sound, request.take))
        if match.sound in self.broken:
            return None
        t = np.arange(int(round(request.duration_s * request.sample_rate))) / request.sample_rate
        return 0.5 * np.sin(2 * np.pi * (tone_hz(match.sound) + 50.0 * request.take) * t)
