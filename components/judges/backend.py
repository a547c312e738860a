"""Backends ``qwen2-audio``, ``qwen2.5-omni`` and ``audio-flamingo3``: one audio-language model as
listener, captioner and critic.

One instance serves every role it is configured for (the builder shares it; the weights
are shared further, per folder, device and dtype). The roles:

- listener: yes/no questions about each hint label, or, knowing the plan
  (``listen_for``), about each planned event's presence, time, repeats, order and
  loudness; P(yes) comes from the next-token logits (``scoring``) and the answers become
  the Observation (``hearing``). With ``ask_times`` the model is also asked when a sound
  it heard off its planned time happens, and a "start-end" answer places it. Without
  hints or plan, the model's own caption is what it is asked about (no caption that
  parses: nothing heard, with a note in ``notes``).
- captioner: the model's JSON caption of the clip (``captions``), retried with the parse
  error as feedback up to ``max_retries`` times, then a ModelOutputError.
- critic: issues from the plan's yes/no answers, the model's JSON critique on top where it
  parses, and 0-1 ratings of quality, alignment and aesthetics, each the P(yes) of one
  rating question (a probability needs no number parsing and cannot fall outside 0-1).
  The critic gets no audio from the loop, so the judge remembers the last clips it
  listened to or captioned by their observation; for an observation it never made (another
  listener, a round without audio) it judges from the observation alone, without ratings.

The question scores of the last ``listen``/``listen_for`` stay in ``last_answers``;
``score_questions`` scores any questions (the evaluator's ``judge_score`` uses it).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field
from ualm_agent.components.listeners import measure

from ualm_agent.audio import resample, to_mono
from ualm_agent.devices import TorchSettings, resolve
from ualm_agent.errors import ConfigError
from ualm_agent.registry import register
from ualm_agent.schema import Critique, Issue, Observation, RichCaption
from ualm_agent.structured import ModelOutputError, generate_validated
from ualm_agent.waveform import Waveform

from . import captions, hearing, verdicts
from .models import AUDIO_FLAMINGO3, QWEN2_AUDIO, QWEN25_OMNI, Family, load
from .questions import (
    Answer,
    Question,
    hint_questions,
    plan_questions,
    rating_questions,
    times_question,
)

log = logging.getLogger(__name__)

INSTALL = "pip install -U transformers (the judges need its audio-language model classes)"
ROLES = ("listener", "captioner", "critic")
# Clips remembered for the critic, and question scores kept per clip.
REMEMBERED_CLIPS = 8
REMEMBERED_SCORES = 4096
REMEMBERED_NOTES = 20
TIMES_TOKENS = 24


class JudgeSettings(TorchSettings):
    model: str = Field(default="", description="hub id or local folder of the model")
    batch_size: int = Field(default=8, ge=1, le=256, description="yes/no questions per forward pass")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0, description="P(yes) from which a sound counts as heard")
    accept_at: float = Field(default=0.7, ge=0.0, le=1.0, description="every rating must reach this to accept")
    max_retries: int = Field(default=2, ge=0, le=10, description="new tries after a caption or critique that does not parse")
    max_new_tokens: int = Field(default=256, ge=8, le=4096, description="cap on a written answer")
    ask_times: bool = Field(default=False, description="ask when a sound heard off its planned time happens")


class Qwen2AudioSettings(JudgeSettings):
    kind: Literal["qwen2-audio"] = "qwen2-audio"
    model: str = Field(default=QWEN2_AUDIO.default_model, description="hub id or local folder of the model")


class Qwen25OmniSettings(JudgeSettings):
    kind: Literal["qwen2.5-omni"] = "qwen2.5-omni"
    model: str = Field(default=QWEN25_OMNI.default_model, description="hub id or local folder (only the thinker is loaded)")


class AudioFlamingo3Settings(JudgeSettings):
    kind: Literal["audio-flamingo3"] = "audio-flamingo3"
    model: str = Field(default=AUDIO_FLAMINGO3.default_model, description="hub id or local folder of the model")


class JudgeRoles:
    """An audio-language model as listener, captioner and critic (the family is the subclass's)."""

    family: Family

    def __init__(
        self,
        *,
        model: str = "",
        batch_size: int = 8,
        threshold: float = 0.5,
        accept_at: float = 0.7,
        max_retries: int = 2,
        max_new_tokens: int = 256,
        ask_times: bool = False,
        device: str = "auto",
        dtype: str = "auto",
    ) -> None:
        if batch_size < 1 or max_retries < 0 or max_new_tokens < 1:
            raise ConfigError(f"{self.family.name}: batch_size and max_new_tokens must be 1 or more, max_retries 0 or more")
        if not (0.0 <= threshold <= 1.0 and 0.0 <= accept_at <= 1.0):
            raise ConfigError(f"{self.family.name}: threshold and accept_at must be between 0 and 1")
        self.name = self.family.name
        self.model_name = model or self.family.default_model
        self.batch_size = int(batch_size)
        self.threshold = float(threshold)
        self.accept_at = float(accept_at)
        self.max_retries = int(max_retries)
        self.max_new_tokens = int(max_new_tokens)
        self.ask_times = bool(ask_times)
        self.device, self.dtype = resolve(device, dtype)
        self.judge = load(self.family, self.model_name, self.device, self.dtype)
        # The answers of the last listen / listen_for, for whoever wants to see them.
        self.last_answers: list[Answer] = []
        # What the judge changed or could not do on the last clip (a clip cut to its window).
        self.notes: list[str] = []
        self._clips: OrderedDict[str, Waveform] = OrderedDict()
        self._scores: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    # ---- scoring ---------------------------------------------------------------------------------

    def score_questions(self, audio: Waveform, questions: Sequence[str]) -> list[float]:
        """P(yes) of each yes/no question about ``audio``, from the answer token's logits."""
        samples, _ = self._heard(audio)
        return self._scored(samples, list(questions))

    def answers_for(self, audio: Waveform, plan: RichCaption) -> list[Answer]:
        """Every question the plan raises (``questions.plan_questions``) with its P(yes)."""
        return self._answered(audio, plan_questions(plan))

    def ratings(self, audio: Waveform, plan: RichCaption) -> dict[str, float]:
        """0-1 ratings of quality, alignment with the plan and aesthetics: each the P(yes) of its question."""
        return {a.question.aspect: a.p_yes for a in self._answered(audio, rating_questions(plan))}

    def ask(self, audio: Waveform, request: str, *, prefix: str = "", max_new_tokens: int | None = None) -> str:
        """The model's greedy written answer about ``audio``; ``prefix`` starts it and is part of it."""
        samples, _ = self._heard(audio)
        return self.judge.generate(samples, request, prefix=prefix, max_new_tokens=max_new_tokens or self.max_new_tokens)

    # ---- listener --------------------------------------------------------------------------------

    def listen(self, audio: Waveform, *, hints: Sequence[str] = ()) -> Observation:
        measure.check_listenable(audio)
        labels = list(dict.fromkeys(h.strip() for h in hints if h.strip()))
        if not labels:
            return self._listen_blind(audio)
        samples, heard_s = self._heard(audio)
        answers = self._answered(audio, hint_questions(labels))
        stated = {}
        if self.ask_times:
            present = [a.question.event for a in answers if a.yes(self.threshold)]
            stated = self._stated_spans(samples, heard_s, {i: (labels[i], "") for i in present})
        events = hearing.label_events(labels, answers, heard_s=heard_s, threshold=self.threshold, stated=stated)
        return self._observed(audio, events, answers)

    def _listen_blind(self, audio: Waveform) -> Observation:
        """Nothing to look for: the model's own caption says what to ask about; no caption, nothing heard."""
        try:
            caption = self.describe(audio)
        except ModelOutputError as exc:
            self._note(f"{self.name} heard nothing it could name: {exc}")
            return self._observed(audio, [], [])
        return self.listen_for(audio, caption)

    def listen_for(self, audio: Waveform, plan: RichCaption) -> Observation:
        """What the model hears of ``audio`` asked about every planned event (see the module doc)."""
        measure.check_listenable(audio)
        samples, heard_s = self._heard(audio)
        answers = self._answered(audio, plan_questions(plan))
        stated = {}
        if self.ask_times:
            off_time = [a.question.event for a in answers if a.question.kind == "timing" and not a.yes(self.threshold)]
            present = {a.question.event for a in answers if a.question.kind == "presence" and a.yes(self.threshold)}
            named = {i: (plan.layout[i].label, plan.layout[i].phrase) for i in off_time if i in present}
            stated = self._stated_spans(samples, heard_s, named)
        events = hearing.plan_events(plan, answers, heard_s=heard_s, threshold=self.threshold, stated=stated)
        return self._observed(audio, events, answers)

    # ---- captioner -------------------------------------------------------------------------------

    def describe(self, audio: Waveform) -> RichCaption:
        """The model's own caption of ``audio`` (JSON, parsed and snapped to AudioSet labels)."""
        samples, heard_s = self._heard(audio)
        duration = min(600.0, audio.duration_s)

        def produce(feedback: str | None) -> str:
            return self.judge.generate(samples, captions.caption_request(duration, feedback),
                                       prefix=captions.answer_start("captioner"), max_new_tokens=self.max_new_tokens)

        caption = generate_validated(produce, lambda text: captions.parse_caption(text, duration), retries=self.max_retries,
                                     what="captioner caption", model=f"{self.name} {self.model_name}")
        if heard_s < audio.duration_s:
            caption = caption.model_copy(update={"assumptions": [*caption.assumptions, self._cut_note(audio, heard_s)]})
        return caption

    def caption(self, observation: Observation, *, audio: Waveform | None = None) -> RichCaption:
        if audio is None:
            raise ConfigError(f"captioner {self.name} describes the audio itself; it needs the clip, not only what was heard")
        self._remember(observation, audio)
        return self.describe(audio)

    # ---- critic ----------------------------------------------------------------------------------

    def critique(
        self, plan: RichCaption, heard: RichCaption, observation: Observation, *, unrendered: Sequence[str] = ()
    ) -> Critique:
        audio = self._recall(observation)
        if audio is None:
            # Not a clip this judge heard (another listener's, or a round without audio).
            return verdicts.verdict(plan, verdicts.observed_issues(plan, observation, unrendered), {}, self.accept_at)
        issues = verdicts.answer_issues(plan, self.answers_for(audio, plan), self.threshold, unrendered)
        model_issues, instructions = self._written_critique(audio, plan, heard, observation, unrendered)
        return verdicts.verdict(
            plan, verdicts.merge_issues(issues, model_issues), self.ratings(audio, plan), self.accept_at, instructions
        )

    def _written_critique(
        self, audio: Waveform, plan: RichCaption, heard: RichCaption, observation: Observation, unrendered: Sequence[str]
    ) -> tuple[list[Issue], list[str]]:
        """The model's JSON critique; nothing when it never parses (the answers' issues stand on their own)."""
        samples, _ = self._heard(audio)
        sounds = list(dict.fromkeys([ev.label for ev in heard.layout] + [e.label for e in observation.events]))

        def produce(feedback: str | None) -> str:
            return self.judge.generate(samples, captions.critic_request(plan, heard, observation, unrendered, feedback),
                                       prefix=captions.answer_start("critic"), max_new_tokens=self.max_new_tokens)

        try:
            written = generate_validated(produce, lambda text: captions.parse_critique(text, plan, sounds),
                                         retries=self.max_retries, what="critic critique", model=f"{self.name} {self.model_name}")
        except ModelOutputError as exc:
            log.info("%s", exc)
            return [], []
        return written.issues, written.instructions

    # ---- plumbing --------------------------------------------------------------------------------

    def _heard(self, audio: Waveform) -> tuple[np.ndarray, float]:
        """Mono samples at the model's rate, cut to its window; and the seconds heard."""
        mono = resample(to_mono(audio), self.judge.sample_rate)
        samples = mono.samples[0]
        limit = round(self.judge.max_audio_s * self.judge.sample_rate)
        if samples.shape[0] > limit:
            samples = samples[:limit]
            self._note(self._cut_note(audio, self.judge.max_audio_s))
        return np.ascontiguousarray(samples, dtype=np.float32), samples.shape[0] / self.judge.sample_rate

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes = [*self.notes[-(REMEMBERED_NOTES - 1):], note]
            log.warning("%s", note)

    def _cut_note(self, audio: Waveform, heard_s: float) -> str:
        return f"{self.name} heard only the first {heard_s:g} s of the {audio.duration_s:.1f} s clip"

    def _answered(self, audio: Waveform, questions: list[Question]) -> list[Answer]:
        scores = self.score_questions(audio, [q.text for q in questions])
        return [Answer(q, p) for q, p in zip(questions, scores)]

    def _scored(self, samples: np.ndarray, questions: list[str]) -> list[float]:
        """Scores from the per-clip memory where asked before, the rest in batches of ``batch_size``."""
        clip = hashlib.sha1(samples.tobytes()).hexdigest()
        with self._lock:
            known = {q: self._scores[(clip, q)] for q in questions if (clip, q) in self._scores}
        new = [q for q in dict.fromkeys(questions) if q not in known]
        if new:
            known.update(zip(new, self.judge.yes_scores(samples, new, self.batch_size)))
            with self._lock:
                for q in new:
                    self._scores[(clip, q)] = known[q]
                while len(self._scores) > REMEMBERED_SCORES:
                    self._scores.popitem(last=False)
        return [known[q] for q in questions]

    def _stated_spans(
        self, samples: np.ndarray, heard_s: float, sounds: dict[int, tuple[str, str]]
    ) -> dict[int, tuple[float, float]]:
        """index -> the span the model states when asked when (label, phrase) happens; only spans it stated."""
        spans = {}
        for i, (label, phrase) in sounds.items():
            answer = self.judge.generate(samples, times_question(label, phrase), max_new_tokens=TIMES_TOKENS)
            span = hearing.stated_span(answer, heard_s)
            if span is not None:
                spans[i] = span
        return spans

    def _observed(self, audio: Waveform, events, answers: list[Answer]) -> Observation:
        observation = measure.observation(audio, events, [], self.name)
        with self._lock:
            self.last_answers = answers
        self._remember(observation, audio)
        return observation

    def _remember(self, observation: Observation, audio: Waveform) -> None:
        key = observation.model_dump_json()
        with self._lock:
            self._clips[key] = audio
            self._clips.move_to_end(key)
            while len(self._clips) > REMEMBERED_CLIPS:
                self._clips.popitem(last=False)

    def _recall(self, observation: Observation) -> Waveform | None:
        """The clip this judge heard as ``observation``; also when the loop merged more into it (Whisper's
        words for a plan with words to say): the latest clip whose heard events all remain in it."""
        with self._lock:
            exact = self._clips.get(observation.model_dump_json())
            if exact is not None:
                return exact
            for key in reversed(self._clips):
                heard = Observation.model_validate_json(key)
                if heard.duration_s == observation.duration_s and all(e in observation.events for e in heard.events):
                    return self._clips[key]
        return None


def _registration(family: Family) -> dict:
    return {
        "roles": ROLES, "requires": ("torch", "transformers"), "install": INSTALL,
        "description": f"{family.title} as listener (yes/no answers), captioner and critic",
    }


@register("qwen2-audio", config=Qwen2AudioSettings, **_registration(QWEN2_AUDIO))
class Qwen2AudioJudge(JudgeRoles):
    """Qwen2-Audio-7B-Instruct as listener (yes/no logits), captioner and critic."""

    family = QWEN2_AUDIO


@register("qwen2.5-omni", config=Qwen25OmniSettings, **_registration(QWEN25_OMNI))
class Qwen25OmniJudge(JudgeRoles):
    """Qwen2.5-Omni's thinker as listener (yes/no logits), captioner and critic."""

    family = QWEN25_OMNI


@register("audio-flamingo3", config=AudioFlamingo3Settings, **_registration(AUDIO_FLAMINGO3))
class AudioFlamingo3Judge(JudgeRoles):
    """Audio Flamingo 3 as listener (yes/no logits), captioner and critic."""

    family = AUDIO_FLAMINGO3
