"""The evaluator: grades a clip against an item with its own listener, not the agent's.

A run should not be graded only by the judge it optimised against, so the
evaluator builds its listener from its own settings (default: YAMNet with its
own defaults) and says in every result which listener graded. With a ``clap``
entry it also scores the clip against the prompt with CLAP.

A listener that hears with a plan (``ListensForPlan``, e.g. an audio-language judge) is
given the item's expected events as one. A judge (a listener with ``score_questions``)
also gives ``judge_score``: the mean P(yes) of the yes/no questions those expected events
raise (presence, timing, counts, order, loudness); with other listeners it is None.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ualm_agent.config import AgentConfig, ComponentSpec
from ualm_agent.schema import LayoutEvent, Observation, RichCaption
from ualm_agent.waveform import Waveform

from . import metrics
from .items import EvalItem

RESULT_KEYS = (*metrics.METRIC_KEYS, "clap_score", "judge_score", "graded_by")
# An expected event known only by its onsets lasts this long after the last one.
ONSET_EVENT_S = 1.0


class EvaluatorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    listener: dict[str, Any] = Field(default_factory=lambda: {"kind": "yamnet"}, description="listener that grades")
    clap: dict[str, Any] | None = Field(default=None, description="clap listener entry for the CLAP score, e.g. {kind = 'clap'}")
    # Off: the listener hears the clip blind, as a detector would, rather than being told what to look for.
    hints: bool = Field(default=False, description="pass the expected labels to the listener as hints")
    match_threshold: float = Field(default=0.55, ge=0.0, le=1.0)
    use_minilm: bool = Field(default=True, description="MiniLM similarity for labels the family table does not know")
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0, description="heard events below this are ignored")
    merge_gap_s: float = Field(default=metrics.MERGE_GAP_S, ge=0.0)
    segment_s: float = Field(default=metrics.SEGMENT_S, gt=0.0)
    order_overlap_share: float = Field(default=metrics.ORDER_OVERLAP_SHARE, gt=0.0, le=1.0)

    @field_validator("listener", "clap")
    @classmethod
    def _has_kind(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not isinstance(value.get("kind"), str):
            raise ValueError("a component entry needs a 'kind' (the backend name)")
        return value

    @field_validator("clap")
    @classmethod
    def _clap_kind(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value["kind"] != "clap":
            raise ValueError(f"the clap entry's kind must be 'clap', got {value['kind']!r}")
        return value

    def check(self) -> None:
        """Check each entry against its backend's settings (ConfigError), so a typo fails before any work."""
        self.listener_config().resolved("listener")
        clap = self.clap_config()
        if clap is not None:
            clap.resolved("listener")

    def listener_config(self) -> AgentConfig:
        return AgentConfig(listener=ComponentSpec(**self.listener))

    def clap_config(self) -> AgentConfig | None:
        return None if self.clap is None else AgentConfig(listener=ComponentSpec(**self.clap))


class Evaluator:
    """``evaluate(item, audio)`` -> the metrics of docs/metrics.md, ``clap_score``, ``judge_score`` and ``graded_by``."""

    def __init__(self, config: EvaluatorConfig | None = None, *, matcher: metrics.Matcher | None = None) -> None:
        self.config = config or EvaluatorConfig()
        self.config.check()
        self._matcher = matcher
        self._listener = None
        self._clap = None

    @property
    def matcher(self) -> metrics.Matcher:
        if self._matcher is None:
            from ualm_agent.components.critics.matching import shared_matcher

            self._matcher = shared_matcher(self.config.match_threshold, self.config.use_minilm)
        return self._matcher

    @property
    def listener(self):
        # Through the builder, so a worker process loads each listener once for all items.
        if self._listener is None:
            from ualm_agent.builders import build_component

            self._listener = build_component("listener", self.config.listener_config())
        return self._listener

    @property
    def clap(self):
        config = self.config.clap_config()
        if config is not None and self._clap is None:
            from ualm_agent.builders import build_component

            self._clap = build_component("listener", config)
        return self._clap

    @property
    def graded_by(self) -> str:
        return str(getattr(self.listener, "name", "") or self.config.listener["kind"])

    def listen(self, item: EvalItem, audio: Waveform) -> Observation:
        from ualm_agent.roles import ListensForPlan

        if not (self.config.hints and item.expected):
            # Blind, as the evaluator's default: a judge given the expected events would place each one it
            # confirms at its expected time, so the timing metrics would grade the answer key.
            return self.listener.listen(audio, hints=[])
        plan = expected_plan(item, audio.duration_s)
        if plan is not None and isinstance(self.listener, ListensForPlan):
            return self.listener.listen_for(audio, plan)
        return self.listener.listen(audio, hints=[e.match_label for e in item.expected.events])

    def evaluate(self, item: EvalItem, audio: Waveform) -> dict[str, float | str | None]:
        result = self.score_observation(item, self.listen(item, audio), clip_s=audio.duration_s)
        result["clap_score"] = self.clap_score(item, audio)
        result["judge_score"] = self.judge_score(item, audio)
        return result

    def score_observation(
        self, item: EvalItem, observation: Observation, *, clip_s: float | None = None
    ) -> dict[str, float | str | None]:
        """The expectation metrics of what a listener heard (no CLAP score: that needs the audio)."""
        c = self.config
        values: dict[str, float | str | None] = dict(
            metrics.item_metrics(
                item.expected,
                observation.events,
                self.matcher,
                clip_s=observation.duration_s if clip_s is None else clip_s,
                min_confidence=c.min_confidence,
                merge_gap_s=c.merge_gap_s,
                segment_s=c.segment_s,
                overlap_share=c.order_overlap_share,
            )
        )
        values["clap_score"] = None
        values["judge_score"] = None
        values["graded_by"] = observation.listener or self.graded_by
        return values

    def clap_score(self, item: EvalItem, audio: Waveform) -> float | None:
        clap = self.clap
        return None if clap is None else float(clap.score(audio, item.prompt))

    def judge_score(self, item: EvalItem, audio: Waveform) -> float | None:
        """Mean P(yes) of the questions the item's expected events raise, when the listener is a judge."""
        score = getattr(self.listener, "score_questions", None)
        plan = expected_plan(item, audio.duration_s)
        if score is None or plan is None:
            return None
        from ualm_agent.components.judges.questions import plan_questions

        scores = score(audio, [q.text for q in plan_questions(plan)])
        return float(sum(scores) / len(scores)) if scores else None


def expected_plan(item: EvalItem, clip_s: float) -> RichCaption | None:
    """The item's expected events as a plan: AudioSet labels, spans and counts where the item fixes them."""
    if item.expected is None or not item.expected.events or clip_s <= 0:
        return None
    layout = []
    for e in item.expected.events:
        start, end = _expected_span(e, clip_s)
        count = min(100, e.count or len(e.spans) or len(e.onsets) or 1)
        extras = {k: v for k, v in (("position", e.position), ("level", e.level)) if v is not None}
        phrase = e.label if e.label != e.match_label else ""
        layout.append(LayoutEvent(label=e.match_label, phrase=phrase, start_s=start, end_s=end, count=count, **extras))
    return RichCaption(layout=layout, description=item.prompt, duration_s=min(600.0, clip_s))


def _expected_span(e, clip_s: float) -> tuple[float, float]:
    """From its first span or onset to its last one's end, inside the clip; the whole clip when untimed."""
    if e.spans:
        start, end = e.spans[0][0], e.spans[-1][1]
    elif e.onsets:
        start, end = e.onsets[0], e.onsets[-1] + (e.duration_s or ONSET_EVENT_S)
    else:
        start, end = 0.0, clip_s
    start = min(start, clip_s * 0.999)
    return round(start, 3), round(max(min(end, clip_s), start + 0.001), 3)
