"""Listener ``yamnet``: AudioSet events from the quantised YAMNet ONNX model.

Audio is mixed to mono and resampled to 16 kHz for the model; loudness and
stereo balance are measured on the original input. Patch scores (one every
0.48 s) become events through per-class hysteresis, and each event is then
trimmed (and split at pauses) to where the signal actually sounds, so onsets
and repeat counts are finer than the model's hop.

Trimming gates on the clip's background level, which only means something when
the clip has a quiet part apart from the sound. A class the model hears over
most of the clip's quiet part (rain, an engine, a piano filling the clip) is a
texture: its background is itself, so its spans are kept as the model timed
them (short score dips bridged) and split only where the signal falls well
below the texture's own soft level. An event the model is confident about is
never dropped because trimming found nothing loud enough in it.

``listen_file`` hears a file of any length in blocks (see ``streaming``): the
model's scores, the 10 ms envelope and the loudness are gathered block by
block, then events are made exactly as ``listen`` makes them, over the whole
clip at once, so a sound crossing a block edge is one event.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import Field

import numpy as np

from ualm_agent.audio import resample, to_mono
from ualm_agent.audio_stream import AudioFileInfo, probe_audio
from ualm_agent.labels import audioset_names, exact_audioset_name
from ualm_agent.modelpacks import YAMNET
from ualm_agent.registry import BackendConfig, register
from ualm_agent.schema import HeardEvent, Observation
from ualm_agent.waveform import Waveform

from . import events as ev
from . import logmel, measure
from .streaming import Progress, stream_file

# Broad parents that say little once a more specific class covers the same time.
GENERIC_LABELS: tuple[str, ...] = (
    "Music",
    "Musical instrument",
    "Sound effect",
    "Animal",
    "Domestic animals, pets",
    "Livestock, farm animals, working animals",
    "Wild animals",
    "Vehicle",
    "Motor vehicle (road)",
    "Mechanisms",
    "Alarm",
    "Noise",
    "Environmental noise",
    "Inside, small room",
    "Inside, large room or hall",
    "Outside, urban or manmade",
    "Outside, rural or natural",
    "Speech synthesizer",
    "Narration, monologue",
    "Conversation",
)
MODEL_RATE = logmel.SAMPLE_RATE
ENVELOPE_STEP_S = 0.01


class YamnetSettings(BackendConfig):
    kind: Literal["yamnet"] = "yamnet"
    # Class probabilities: each threshold is in [0, 1].
    threshold: float = Field(default=0.2, ge=0.0, le=1.0)
    release_threshold: float = Field(default=0.1, ge=0.0, le=1.0)
    hint_threshold: float = Field(default=0.1, ge=0.0, le=1.0)
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    # Patches every 0.24 s (half YAMNet's own hop): short sounds near a patch
    # edge get a second look, and onsets are placed twice as finely.
    patch_hop_frames: int = Field(default=24, ge=4, le=96)
    fill_gap_s: float = Field(default=0.48, ge=0.0)
    min_duration_s: float = Field(default=0.05, ge=0.0)
    refine_with_energy: bool = True
    split_gap_s: float = Field(default=0.2, ge=0.0)
    region_below_peak_db: float = 25.0
    silence_floor_db: float = -70.0
    above_background_db: float = 6.0
    # A class is a texture when its spans hold this share of the clip's quiet
    # part, that quiet part is audible (not a pause) and the class sounds
    # within ``texture_contrast_db`` of it (no deep dips to count as pauses).
    texture_quiet_share: float = Field(default=0.6, gt=0.0, le=1.0)
    texture_floor_db: float = -50.0
    texture_contrast_db: float = 10.0
    texture_bridge_s: float = 2.0
    suppress_generic: bool = True
    generic_labels: tuple[str, ...] = GENERIC_LABELS
    generic_cover: float = 0.5
    # Stretches of a dropped generic event this long with no specific event
    # over them are kept: the model still heard something there.
    generic_keep_uncovered_s: float = 1.0
    ignore_labels: tuple[str, ...] = ("Silence",)
    log_offset: float = logmel.DEFAULT_LOG_OFFSET
    threads: int = 2
    model_path: str | None = None


def _model_check() -> str:
    return YAMNET.missing_reason()


@register(
    "yamnet",
    roles=("listener",),
    config=YamnetSettings,
    requires=("onnxruntime", "onnx", "soxr"),
    install="pip install onnxruntime onnx soxr && " + YAMNET.install,
    check=_model_check,
)
class YamnetListener:
    """AudioSet sound events with onsets, loudness and stereo balance (YAMNet, ONNX)."""

    name = "yamnet"

    def __init__(self, **settings: object) -> None:
        self.settings = YamnetSettings(**settings)
        self._model = None
        self._lock = threading.Lock()

    # -- model -------------------------------------------------------------
    def _get_model(self):
        with self._lock:
            if self._model is None:
                from .yamnet_model import YamnetModel

                path = Path(self.settings.model_path) if self.settings.model_path else YAMNET.locate()
                self._model = YamnetModel(path, threads=min(2, max(1, self.settings.threads)))
            return self._model

    def frame_probabilities(self, audio: Waveform, hop_frames: int = logmel.PATCH_HOP) -> np.ndarray:
        """Sigmoid class probabilities per 0.96 s patch: [patches, 521].

        Patch ``i`` starts at ``i * hop_frames * 10 ms``; the default hop is
        YAMNet's own 0.48 s, i.e. the model's raw frame scores.
        """
        mono16k = resample(to_mono(audio), MODEL_RATE).samples[0]
        scorer = self._scorer(hop_frames)
        # A minute at a time: a clip of up to a minute is one piece, as it always was;
        # a longer one never holds its whole spectrogram.
        piece = 60 * MODEL_RATE
        scored = [scorer.push(mono16k[i : i + piece]) for i in range(0, len(mono16k), piece)]
        return np.concatenate([*scored, scorer.finish()])

    def _scorer(self, hop_frames: int) -> PatchScorer:
        return PatchScorer(self._get_model(), logmel.PatchStream(self.settings.log_offset, hop_frames))

    # -- listening ---------------------------------------------------------
    def listen(self, audio: Waveform, *, hints: Sequence[str] = ()) -> Observation:
        measure.check_listenable(audio)
        probs = self.frame_probabilities(audio, self.settings.patch_hop_frames)
        envelope = ev.energy_envelope_db(audio.mono(), audio.sample_rate, ENVELOPE_STEP_S)

        def heard_event(label: str, start: float, end: float, confidence: float) -> HeardEvent:
            return measure.heard_event(label, start, end, confidence, audio)

        heard = self._heard(np.arange(probs.shape[1]), probs, envelope, audio.duration_s, hints, heard_event)
        return measure.observation(audio, heard, measure.speech_segments(heard), self.name)

    def listen_file(
        self, source: AudioFileInfo | str | Path, *, hints: Sequence[str] = (), progress: Progress | None = None
    ) -> Observation:
        """What ``listen`` hears in the file, read in blocks: any length in bounded memory, any channel count."""
        s = self.settings
        source = source if isinstance(source, AudioFileInfo) else probe_audio(source)
        # Under every start and keep threshold (hinted or not), so nothing frame_spans reads is lost.
        scores = ev.SparseScores(min(s.threshold, s.release_threshold, s.hint_threshold), len(audioset_names()))
        scorer = self._scorer(s.patch_hop_frames)
        signal = stream_file(
            source, MODEL_RATE, lambda x: scores.add(scorer.push(x)), step_s=ENVELOPE_STEP_S, progress=progress
        )
        scores.add(scorer.finish())
        start_thr, _ = self._thresholds(len(audioset_names()), hints)
        classes, probs = scores.active(start_thr)
        levels = signal.levels
        heard = self._heard(classes, probs, levels.envelope, signal.duration_s, hints, levels.heard_event)
        speech = measure.speech_segments(heard)
        return measure.measured_observation(
            heard, speech, self.name, signal.loudness_lufs, levels.balance(), signal.duration_s
        )

    def _heard(
        self,
        classes: np.ndarray,
        probs: np.ndarray,
        envelope: np.ndarray,
        duration: float,
        hints: Sequence[str],
        heard_event: Callable[[str, float, float, float], HeardEvent],
    ) -> list[HeardEvent]:
        """Events from the scores of ``classes`` (columns of ``probs``) and the clip's 10 ms envelope."""
        s = self.settings
        names = audioset_names()
        start_thr, keep_thr = self._thresholds(len(names), hints)
        hop_s = self._hop_s
        fill_gap = int(round(s.fill_gap_s / hop_s))
        spans = ev.frame_spans(
            probs, start_thr[classes], keep_thr[classes], hop_s, logmel.PATCH_S, duration, fill_gap
        )
        spans = [replace(span, label_index=int(classes[span.label_index])) for span in spans]
        background = ev.background_level_db(envelope)
        textures = self._texture_classes(spans, envelope, background, duration)
        # The model's score for a texture dips now and then, or while another
        # sound holds its attention; that is no pause (real ones are found in
        # the signal below).
        spans = ev.bridge_spans(spans, textures, s.texture_bridge_s)
        ignored = set(s.ignore_labels)
        heard: list[HeardEvent] = []
        for span in spans:
            label = names[span.label_index]
            if label in ignored or span.confidence < s.min_confidence:
                continue
            texture = span.label_index in textures
            parts = self._sounding_parts(span, envelope, background, duration, texture=texture)
            parts = [(a, b) for a, b in parts if b - a >= s.min_duration_s]
            if not parts and span.confidence >= s.threshold and self._audible(span, envelope):
                # Confident but nothing stood out from the clip's level: trust the model's timing.
                parts = [(span.start_s, span.end_s)]
            for start, end in parts:
                heard.append(heard_event(label, start, end, span.confidence))
        if s.suppress_generic:
            # A label the plan asks for is never suppressed: the critic looks for it.
            hinted = {exact_audioset_name(h) for h in hints}
            heard = _drop_covered_generics(
                heard, set(s.generic_labels) - hinted, s.generic_cover, s.generic_keep_uncovered_s
            )
        return heard

    @property
    def _hop_s(self) -> float:
        return self.settings.patch_hop_frames * logmel.FRAME_HOP_S

    def _thresholds(self, n_classes: int, hints: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        s = self.settings
        start = np.full(n_classes, s.threshold, dtype=np.float32)
        keep = np.full(n_classes, min(s.release_threshold, s.threshold), dtype=np.float32)
        index = {name: i for i, name in enumerate(audioset_names())}
        for hint in hints:
            name = exact_audioset_name(hint)
            if name is not None:
                i = index[name]
                start[i] = min(start[i], s.hint_threshold)
                keep[i] = min(keep[i], s.hint_threshold)
        return start, keep

    @property
    def _margin_s(self) -> float:
        # Half a hop beyond the centre-timed span: the patch windows reach that far.
        return max(self._hop_s, logmel.PATCH_HOP_S) / 2

    def _texture_classes(
        self, spans: list[ev.Span], envelope: np.ndarray, background: float, duration: float
    ) -> set[int]:
        """Classes heard over most of the clip's audible quiet part: their background is themselves."""
        s = self.settings
        if background < s.texture_floor_db:
            return set()  # the clip has real pauses: trimming against them is meaningful
        quiet = ev.quiet_frames(envelope, background, s.above_background_db)
        by_class: dict[int, list[tuple[float, float]]] = {}
        for span in spans:
            if span.confidence >= s.threshold:
                by_class.setdefault(span.label_index, []).append(
                    (max(0.0, span.start_s - self._margin_s), min(duration, span.end_s + self._margin_s))
                )
        return {
            c
            for c, intervals in by_class.items()
            if ev.covered_share(quiet, intervals, ENVELOPE_STEP_S) >= s.texture_quiet_share
            and ev.median_level_db(envelope, intervals, ENVELOPE_STEP_S) - background <= s.texture_contrast_db
        }

    def _audible(self, span: ev.Span, envelope: np.ndarray) -> bool:
        a = max(0, int(span.start_s / ENVELOPE_STEP_S))
        b = max(a + 1, int(np.ceil(span.end_s / ENVELOPE_STEP_S)))
        part = envelope[a:b]
        return part.size > 0 and float(part.max()) >= self.settings.silence_floor_db

    def _sounding_parts(
        self, span: ev.Span, envelope: np.ndarray, background: float, duration: float, *, texture: bool = False
    ) -> list[tuple[float, float]]:
        s = self.settings
        if not s.refine_with_energy:
            return [(span.start_s, span.end_s)]
        if texture:
            # Only a fall well below the texture's own soft level is a pause. A
            # span within one patch window of a clip edge reaches it: patches
            # padded past the clip's end score a texture lower.
            start = span.start_s - self._margin_s
            end = span.end_s + self._margin_s
            start = 0.0 if start < logmel.PATCH_S else start
            end = duration if duration - end < logmel.PATCH_S else min(duration, end)
            gate = max(s.silence_floor_db, background - s.texture_contrast_db)
            return ev.sound_regions(envelope, start, end, ENVELOPE_STEP_S, np.inf, gate, s.split_gap_s)
        margin = self._margin_s
        regions = ev.sound_regions(
            envelope,
            max(0.0, span.start_s - margin),
            min(duration, span.end_s + margin),
            ENVELOPE_STEP_S,
            s.region_below_peak_db,
            s.silence_floor_db,
            s.split_gap_s,
            background,
            s.above_background_db,
        )
        return regions


class PatchScorer:
    """Class probabilities of a 16 kHz signal fed in pieces, patch by patch (see ``logmel.PatchStream``)."""

    def __init__(self, model, patches: logmel.PatchStream) -> None:
        self._model = model
        self._patches = patches

    def push(self, mono16k: np.ndarray) -> np.ndarray:
        return self._probabilities(self._patches.push(mono16k))

    def finish(self) -> np.ndarray:
        return self._probabilities(self._patches.finish())

    def _probabilities(self, patches: np.ndarray) -> np.ndarray:
        logits = self._model.logits(patches)
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))


def _drop_covered_generics(
    events: list[HeardEvent], generic: set[str], cover: float, keep_uncovered_s: float = float("inf")
) -> list[HeardEvent]:
    """Drop a generic event when specific events cover at least ``cover`` of its
    span, keeping any stretch of it at least ``keep_uncovered_s`` long that no
    specific event covers."""
    specific = _Overlaps([e for e in events if e.label not in generic])
    kept = []
    for e in events:
        if e.label not in generic:
            kept.append(e)
            continue
        near = specific.overlapping(e)
        if _covered_fraction(e, near) >= cover:
            for a, b in _uncovered_stretches(e, near):
                if b - a >= keep_uncovered_s:
                    kept.append(e.model_copy(update={"start_s": round(a, 3), "end_s": round(b, 3)}))
            continue
        kept.append(e)
    return kept


class _Overlaps:
    """Events sorted by start, for finding those that overlap a span without
    comparing every pair (an hour-long file is heard as thousands of events)."""

    def __init__(self, events: list[HeardEvent]) -> None:
        self._events = sorted(events, key=lambda e: e.start_s)
        self._starts = [e.start_s for e in self._events]
        self._reach = list(itertools.accumulate((e.end_s for e in self._events), max))

    def overlapping(self, span: HeardEvent) -> list[HeardEvent]:
        # Events from the first whose reach passes the span's start to the last starting before its end.
        first = bisect.bisect_right(self._reach, span.start_s)
        last = bisect.bisect_left(self._starts, span.end_s)
        return [e for e in self._events[first:last] if e.end_s > span.start_s]


def _uncovered_stretches(event: HeardEvent, others: list[HeardEvent]) -> list[tuple[float, float]]:
    stretches, reach = [], event.start_s
    for a, b in sorted((o.start_s, o.end_s) for o in others if o.end_s > event.start_s and o.start_s < event.end_s):
        if a > reach:
            stretches.append((reach, min(a, event.end_s)))
        reach = max(reach, b)
    if reach < event.end_s:
        stretches.append((reach, event.end_s))
    return stretches


def _covered_fraction(event: HeardEvent, others: list[HeardEvent]) -> float:
    length = event.end_s - event.start_s
    if length <= 0:
        return 1.0
    pieces = sorted((max(o.start_s, event.start_s), min(o.end_s, event.end_s)) for o in others)
    covered, reach = 0.0, event.start_s
    for a, b in pieces:
        if b <= a:
            continue
        a = max(a, reach)
        if b > a:
            covered += b - a
            reach = b
    return covered / length
