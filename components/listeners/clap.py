"""Listener ``clap``: zero-shot detection of the plan's own labels with CLAP.

CLAP embeds audio and text in one space. The clip is cut into overlapping
windows (``window_s`` every ``hop_s``); each window is compared with a text
prompt per candidate label: the plan's labels (the listener's ``hints``), any
``labels`` from the settings, and a few generic ``negatives`` (silence, noise,
speech, music) so that "none of these" can win a window. Per-window scores
(a softmax over all prompts, or a calibrated cosine) go through the same
hysteresis as YAMNet's patch scores, and each event is trimmed to where the
signal sounds. With no hints and no ``labels`` the 521 AudioSet names are the
vocabulary. Negatives never become events unless the plan names them.

:meth:`ClapListener.score` gives the CLAP text-audio score (cosine similarity
of the clip's and the text's embeddings) used to evaluate generated clips.

Two implementations share this logic: ``transformers.ClapModel`` (any hub id
or folder, default ``laion/clap-htsat-unfused``), and LAION ``.pt``
checkpoints through the optional ``laion-clap`` package (``checkpoint`` set).
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from ualm_agent.audio import resample, to_mono
from ualm_agent.devices import TorchSettings
from ualm_agent.errors import ConfigError, ModelUnavailableError, first_line
from ualm_agent.registry import register
from ualm_agent.schema import HeardEvent, Observation
from ualm_agent.waveform import Waveform

from . import events as ev
from . import measure

LAION_INSTALL = (
    "pip install 'ualm-agent[laion]' (laion-clap with torchvision and pillow; it pins numpy<2, "
    "and fetches its tokenizers and roberta-base from the Hugging Face hub when loaded)"
)
ENVELOPE_STEP_S = 0.01
# The empty tokenizer an offline, uncached RobertaTokenizer load returns has 5 tokens.
MIN_TOKENIZER_SIZE = 100


class ClapSettings(TorchSettings):
    kind: Literal["clap"] = "clap"
    # "auto": the LAION package when a .pt checkpoint is given, transformers otherwise.
    implementation: Literal["auto", "transformers", "laion"] = "auto"
    model: str = "laion/clap-htsat-unfused"
    checkpoint: str | None = Field(default=None, description="LAION .pt checkpoint (implementation laion)")
    enable_fusion: bool = False
    amodel: str = Field(default="HTSAT-tiny", description="LAION audio tower, e.g. HTSAT-tiny, HTSAT-base")
    window_s: float = Field(default=2.0, gt=0.0, description="window length; capped at the model's input length")
    hop_s: float = Field(default=1.0, gt=0.0)
    prompt: str = Field(default="This is a sound of {}.", description="text prompt; {} is the label")
    negatives: tuple[str, ...] = ("Silence", "Noise", "Speech", "Music")
    labels: tuple[str, ...] = Field(default=(), description="labels listened for besides the plan's")
    scoring: Literal["softmax", "similarity"] = "softmax"
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    release_threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    # With the whole AudioSet vocabulary a softmax spreads thin: lower thresholds.
    open_threshold: float = Field(default=0.15, ge=0.0, le=1.0)
    open_release_threshold: float = Field(default=0.08, ge=0.0, le=1.0)
    # "similarity" scoring maps cosine similarity linearly from floor (0) to ceiling (1).
    similarity_floor: float = 0.0
    similarity_ceiling: float = 0.5
    fill_gap_s: float = Field(default=1.0, ge=0.0)
    min_duration_s: float = Field(default=0.05, ge=0.0)
    refine_with_energy: bool = True
    split_gap_s: float = 0.2
    region_below_peak_db: float = 25.0
    silence_floor_db: float = -70.0
    above_background_db: float = 6.0
    batch_size: int = Field(default=8, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> "ClapSettings":
        if self.implementation == "laion" and not self.checkpoint:
            raise ValueError("implementation 'laion' needs checkpoint = a LAION CLAP .pt file")
        if self.implementation == "transformers" and self.checkpoint:
            raise ValueError("checkpoint is a LAION .pt file; use implementation 'laion' (or 'auto') with it")
        if self.similarity_ceiling <= self.similarity_floor:
            raise ValueError("similarity_ceiling must be above similarity_floor")
        return self

    @property
    def uses_laion(self) -> bool:
        return self.implementation == "laion" or (self.implementation == "auto" and bool(self.checkpoint))


@register(
    "clap",
    roles=("listener",),
    config=ClapSettings,
    requires=("torch", "transformers", "soxr"),
    install="pip install torch transformers soxr (LAION .pt checkpoints also need laion-clap)",
)
class ClapListener:
    """Zero-shot timed events for the plan's own labels, and a text-audio score (CLAP)."""

    name = "clap"

    def __init__(self, **settings: object) -> None:
        try:
            self.settings = ClapSettings(**settings)
        except ValueError as exc:
            raise ConfigError(f"listener clap: {exc}") from None
        # Found now, so a missing model fails before any work starts; loaded on first use.
        self._source = _laion_checkpoint(self.settings) if self.settings.uses_laion else _model_folder(self.settings)
        self._model: _HfClap | _LaionClap | None = None
        self._texts: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    # -- model -------------------------------------------------------------
    def _get_model(self) -> "_HfClap | _LaionClap":
        with self._lock:
            if self._model is None:
                s = self.settings
                self._model = _LaionClap(s, self._source) if s.uses_laion else _HfClap(s, self._source)
            return self._model

    def text_embeddings(self, texts: Sequence[str]) -> np.ndarray:
        """Unit text embeddings [len(texts), D], cached per text."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._texts]
        if missing:
            model = self._get_model()
            for start in range(0, len(missing), 64):
                chunk = missing[start : start + 64]
                for text, vector in zip(chunk, _unit(model.embed_text(chunk))):
                    self._texts[text] = vector
        return np.stack([self._texts[t] for t in texts])

    def audio_embeddings(self, pieces: Sequence[np.ndarray]) -> np.ndarray:
        """Unit embeddings [len(pieces), D] of mono pieces at the model's rate."""
        model = self._get_model()
        out = []
        for start in range(0, len(pieces), self.settings.batch_size):
            out.append(_unit(model.embed_audio(list(pieces[start : start + self.settings.batch_size]))))
        return np.concatenate(out, axis=0)

    # -- scoring -----------------------------------------------------------
    def score(self, audio: Waveform, text: str) -> float:
        """CLAP score: cosine similarity of the clip's embedding and ``text``'s.

        A clip longer than the model's input is embedded in consecutive pieces
        whose embeddings are averaged, so the score is deterministic.
        """
        measure.check_listenable(audio)
        model = self._get_model()
        mono = resample(to_mono(audio), model.sample_rate).samples[0]
        step = model.max_samples
        pieces = [mono[i : i + step] for i in range(0, max(1, len(mono)), step)]
        # A tail much shorter than a piece says little and would be repeat-padded: fold it in.
        if len(pieces) > 1 and len(pieces[-1]) < step // 4:
            pieces = pieces[:-1]
        clip = _unit(self.audio_embeddings(pieces).mean(axis=0, keepdims=True))[0]
        return float(np.clip(clip @ self.text_embeddings([text])[0], -1.0, 1.0))

    def window_scores(self, audio: Waveform, labels: Sequence[str]) -> tuple[np.ndarray, float, float]:
        """Per-window scores [windows, len(labels)] in [0, 1], the hop and the window length in seconds."""
        s = self.settings
        model = self._get_model()
        mono = resample(to_mono(audio), model.sample_rate).samples[0]
        rate = model.sample_rate
        window = min(int(round(s.window_s * rate)), model.max_samples)
        hop = max(1, min(int(round(s.hop_s * rate)), window))
        count = 1 if len(mono) <= window else 1 + int(np.ceil((len(mono) - window) / hop))
        pieces = [mono[i * hop : i * hop + window] for i in range(count)]
        cosine = self.audio_embeddings(pieces) @ self.text_embeddings([s.prompt.format(x) for x in labels]).T
        if s.scoring == "softmax":
            logits = model.logit_scale * cosine
            logits -= logits.max(axis=1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(axis=1, keepdims=True)
        else:
            probs = np.clip((cosine - s.similarity_floor) / (s.similarity_ceiling - s.similarity_floor), 0.0, 1.0)
        return probs.astype(np.float32), hop / rate, window / rate

    # -- listening ---------------------------------------------------------
    def vocabulary(self, hints: Sequence[str]) -> tuple[list[str], list[str]]:
        """(candidate labels, negatives): the plan's labels and ``labels``, else AudioSet's names."""
        s = self.settings
        candidates = list(dict.fromkeys(x.strip() for x in (*hints, *s.labels) if x.strip()))
        if not candidates:
            from ualm_agent.labels import audioset_names

            candidates = list(audioset_names())
        # A negative the plan names, even within a longer label ("Male speech, man speaking",
        # "White noise"), would split that label's score: leave it out.
        words = {w for c in candidates for w in re.findall(r"[a-z]+", c.lower())}
        negatives = [
            n for n in dict.fromkeys(s.negatives) if not set(re.findall(r"[a-z]+", n.lower())) <= words
        ]
        return candidates, negatives

    def listen(self, audio: Waveform, *, hints: Sequence[str] = ()) -> Observation:
        measure.check_listenable(audio)
        s = self.settings
        candidates, negatives = self.vocabulary(hints)
        probs, hop_s, window_s = self.window_scores(audio, candidates + negatives)
        probs = probs[:, : len(candidates)]
        open_vocabulary = not hints and not s.labels
        start = s.open_threshold if open_vocabulary and s.scoring == "softmax" else s.threshold
        keep = s.open_release_threshold if open_vocabulary and s.scoring == "softmax" else s.release_threshold
        n = len(candidates)
        duration = audio.duration_s
        spans = ev.frame_spans(
            probs,
            np.full(n, start, dtype=np.float32),
            np.full(n, min(start, keep), dtype=np.float32),
            hop_s,
            window_s,
            duration,
            int(round(s.fill_gap_s / hop_s)),
        )
        envelope = ev.energy_envelope_db(audio.mono(), audio.sample_rate, ENVELOPE_STEP_S)
        background = ev.background_level_db(envelope)
        heard: list[HeardEvent] = []
        for span in spans:
            for a, b in self._sounding_parts(span, envelope, background, duration, hop_s):
                if b - a >= s.min_duration_s:
                    heard.append(measure.heard_event(candidates[span.label_index], a, b, span.confidence, audio))
        return measure.observation(audio, heard, measure.speech_segments(heard), self.name)

    def _sounding_parts(
        self, span: ev.Span, envelope: np.ndarray, background: float, duration: float, hop_s: float
    ) -> list[tuple[float, float]]:
        s = self.settings
        if not s.refine_with_energy:
            return [(span.start_s, span.end_s)]
        margin = hop_s / 2
        parts = ev.sound_regions(
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
        # A confident window with nothing standing out from the clip's level: trust its timing.
        return parts or ([(span.start_s, span.end_s)] if span.confidence >= s.threshold else [])


# -- the two implementations ----------------------------------------------------
class _HfClap:
    """``transformers.ClapModel`` + ``ClapProcessor`` from a hub id or a folder."""

    def __init__(self, settings: ClapSettings, folder: Path) -> None:
        import torch
        from transformers import ClapModel, ClapProcessor

        from ualm_agent.devices import resolve

        self.device, self.dtype = resolve(settings.device, settings.dtype)
        try:
            self.processor = ClapProcessor.from_pretrained(folder)
            self.model = ClapModel.from_pretrained(folder, dtype=self.dtype).to(self.device).eval()
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(
                f"listener clap: cannot load a CLAP model from {folder} ({first_line(exc)})"
            ) from None
        if len(self.processor.tokenizer) < MIN_TOKENIZER_SIZE:
            raise ModelUnavailableError(
                f"listener clap: the tokenizer in {folder} is empty ({len(self.processor.tokenizer)} tokens);"
                f" supply the complete model folder for {settings.model!r}"
            )
        fe = self.processor.feature_extractor
        self.sample_rate = int(fe.sampling_rate)
        self.max_samples = int(fe.nb_max_samples)
        # Non-fusion models take one crop; "fusion" only suits models trained with it.
        self.truncation = "fusion" if self.model.config.audio_config.enable_fusion else "rand_trunc"
        self.logit_scale = float(self.model.logit_scale_a.detach().exp().float().cpu())
        self._torch = torch

    def embed_audio(self, pieces: list[np.ndarray]) -> np.ndarray:
        torch = self._torch
        features = self.processor.feature_extractor(
            pieces, sampling_rate=self.sample_rate, truncation=self.truncation, return_tensors="pt"
        )
        inputs = {
            k: (v.to(self.device, self.dtype) if v.is_floating_point() else v.to(self.device))
            for k, v in features.items()
        }
        with torch.inference_mode():
            out = self.model.get_audio_features(**inputs)
        return _pooled(out)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        tokens = self.processor.tokenizer(texts, padding=True, truncation=True, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            out = self.model.get_text_features(**tokens)
        return _pooled(out)


class _LaionClap:
    """A LAION ``.pt`` checkpoint through the ``laion-clap`` package (an optional extra)."""

    sample_rate = 48000
    max_samples = 480000  # the package's 10 s input

    def __init__(self, settings: ClapSettings, path: Path) -> None:
        from ualm_agent.devices import resolve_device

        try:
            import laion_clap
        except ImportError as exc:
            raise ModelUnavailableError(
                f"listener clap: LAION checkpoints need the laion-clap package ({first_line(exc)}): {LAION_INSTALL}"
            ) from None
        device = resolve_device(settings.device)
        self.module = laion_clap.CLAP_Module(enable_fusion=settings.enable_fusion, amodel=settings.amodel, device=str(device))
        try:
            self.module.load_ckpt(str(path), verbose=False)
        except (RuntimeError, KeyError) as exc:
            raise ModelUnavailableError(
                f"listener clap: {path} does not fit amodel={settings.amodel!r}, enable_fusion={settings.enable_fusion}"
                f" ({first_line(exc)})"
            ) from None
        scale_a, _ = self.module.model.get_logit_scale()
        self.logit_scale = float(scale_a.detach().float().cpu())

    def embed_audio(self, pieces: list[np.ndarray]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.module.get_audio_embedding_from_data(x=[p.astype(np.float32) for p in pieces], use_tensor=False)
        return np.asarray(out, dtype=np.float32)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.module.get_text_embedding(list(texts), use_tensor=False)
        return np.asarray(out, dtype=np.float32)


def _model_folder(settings: ClapSettings) -> Path:
    from ualm_agent.model_sources import local_model_dir

    return local_model_dir(settings.model, what="listener clap", must_contain=("config.json",))


def _laion_checkpoint(settings: ClapSettings) -> Path:
    path = Path(settings.checkpoint or "").expanduser()
    if not path.is_file():
        raise ModelUnavailableError(f"listener clap: checkpoint {path} not found; set checkpoint to a LAION CLAP .pt file")
    if not _importable("laion_clap"):
        raise ModelUnavailableError(f"listener clap: LAION checkpoints need the laion-clap package: {LAION_INSTALL}")
    return path


def _importable(name: str) -> bool:
    if name in sys.modules:
        return sys.modules[name] is not None
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _pooled(out) -> np.ndarray:
    # transformers 5 returns an output whose pooler_output is the projected embedding; 4.x a tensor.
    tensor = getattr(out, "pooler_output", out)
    return tensor.detach().float().cpu().numpy()


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)

