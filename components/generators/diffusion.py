"""Generators and sources ``stable-audio`` and ``audioldm2``: text-to-audio diffusion through diffusers.

- ``stable-audio``: Stable Audio Open (``StableAudioPipeline``), 44.1 kHz stereo, up
  to about 47 s per clip.
- ``audioldm2``: AudioLDM 2 (``AudioLDM2Pipeline``), 16 kHz mono, trained on 10.24 s clips.

Each backend is both a whole-clip generator and a sound source of the composer's
timeline mixer (``sources = [{kind = "stable-audio"}]``): as a source it renders one
event at a time from its words, and the mixer places, levels and pans it, so the
plan's timing holds, which a whole-clip text prompt cannot promise.

A seed gives the same audio every time: the latent noise is drawn from a
``torch.Generator`` seeded from the request. A source renders all its takes of one
event in a single pipeline call (``num_waveforms_per_prompt``) and keeps the batch,
so a revision asking for the next take costs nothing. Weights load once per process
and are shared by every instance on the same folder, device and dtype.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, ValidationError

from ualm_agent.devices import TorchSettings, resolve
from ualm_agent.audio import fit_length
from ualm_agent.errors import ConfigError, ModelUnavailableError, UsageError, first_line, validation_summary
from ualm_agent.registry import register
from ualm_agent.roles import GenerationRequest, GenerationResult, SoundRequest, SourceMatch
from ualm_agent.waveform import Waveform

if TYPE_CHECKING:
    import torch

DEFAULT_STABLE_AUDIO = "stabilityai/stable-audio-open-1.0"
DEFAULT_AUDIOLDM2 = "cvssp/audioldm2"
_DEFAULTS = {"stable-audio": DEFAULT_STABLE_AUDIO, "audioldm2": DEFAULT_AUDIOLDM2}
INSTALL = "pip install 'ualm-agent[diffusers]'"
MAX_TAKES = 8
# A tokenizer this small is what transformers builds when its files are missing, not a real vocabulary.
MIN_VOCAB = 16
# Rendered batches kept per instance, oldest dropped first, within this many bytes.
BATCH_CACHE_BYTES = 256 * 2**20
# Counted repeats are placed one by one by the mixer, so each render must hold one occurrence. The
# captions these models learned from (AudioCaps, Freesound) say it in these words.
SINGLE_HIT = ", once, a single short sound"


class DiffusionSettings(TorchSettings):
    """Settings both diffusion backends share; each subclass sets the model card's defaults."""

    model: str
    # Denoising steps (num_inference_steps): more is slower and usually cleaner.
    steps: int = Field(ge=1, le=1000)
    # Classifier-free guidance (guidance_scale): 1 is none, higher follows the text more closely.
    guidance: float = Field(ge=1.0, le=50.0)
    negative_prompt: str = "Low quality."
    # Added to each request's seed, to draw another take of the same plan and round.
    seed: int = Field(default=0, ge=0, lt=2**64)
    # As a source: variants rendered per event in one batch (num_waveforms_per_prompt).
    takes: int = Field(default=1, ge=1, le=MAX_TAKES)
    # As a source: the match quality the mixer ranks by (0.9 outranks synthesis, 0.5, and speech, 0.8).
    quality: float = Field(default=0.9, ge=0.0, le=1.0)


class StableAudioSettings(DiffusionSettings):
    kind: Literal["stable-audio"] = "stable-audio"
    # stabilityai/stable-audio-open-1.0 or a local folder holding a StableAudioPipeline.
    model: str = DEFAULT_STABLE_AUDIO
    # The pipeline's defaults, as the model card's stable-audio-tools example uses them (100 steps, CFG 7).
    steps: int = Field(default=100, ge=1, le=1000)
    guidance: float = Field(default=7.0, ge=1.0, le=50.0)


class AudioLDM2Settings(DiffusionSettings):
    kind: Literal["audioldm2"] = "audioldm2"
    # cvssp/audioldm2 (or -large, -music) or a local folder holding an AudioLDM2Pipeline.
    model: str = DEFAULT_AUDIOLDM2
    # The pipeline's defaults, as the model card uses them.
    steps: int = Field(default=200, ge=1, le=1000)
    guidance: float = Field(default=3.5, ge=1.0, le=50.0)
    # Longest clip made; None: the length the model was trained on (10.24 s for cvssp/audioldm2).
    # Its network is convolutional, so longer clips can be asked for, at a cost in coherence.
    max_duration_s: float | None = Field(default=None, gt=0.0, le=600.0)


# --- weights, shared per process ---------------------------------------------------------------


@dataclass
class _Loaded:
    pipe: Any
    # Calls into one pipeline are serialised: its scheduler keeps per-call state.
    lock: threading.Lock


_PIPELINES: dict[tuple[str, str, str, str], _Loaded] = {}
_PIPELINES_LOCK = threading.Lock()


def shared_pipeline(name: str, pipeline_class: str, model: str, device: "torch.device",
                    dtype: "torch.dtype") -> _Loaded:
    """The pipeline in ``model``, loaded once per (class, folder, device, dtype) and shared."""
    from ualm_agent.model_sources import local_model_dir

    folder = local_model_dir(model, what=f"generator {name}", must_contain=("model_index.json",))
    key = (pipeline_class, str(folder.resolve()), str(device), str(dtype))
    with _PIPELINES_LOCK:
        if key not in _PIPELINES:
            _PIPELINES[key] = _Loaded(_load(name, pipeline_class, model, folder, device, dtype), threading.Lock())
        return _PIPELINES[key]


def _load(name: str, pipeline_class: str, model: str, folder: Path, device: "torch.device",
          dtype: "torch.dtype") -> Any:
    import diffusers

    from ualm_agent.model_sources import how_to_supply

    what = f"generator {name}"
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    found = index.get("_class_name")
    if found != pipeline_class:
        raise ModelUnavailableError(f"{what}: {model} holds the pipeline {found!r}, not {pipeline_class}; "
                                    + how_to_supply(_DEFAULTS[name]))
    try:
        overrides = _language_model(index, folder, dtype)
        pipe = getattr(diffusers, pipeline_class).from_pretrained(folder, dtype=dtype, **overrides)
    except ImportError as exc:
        # A component needs a package diffusers stood in a dummy for (Stable Audio's scheduler needs torchsde).
        raise ModelUnavailableError(f"{what}: {model} cannot be loaded here: {first_line(exc)}") from None
    except Exception as exc:  # a broken or partial folder: say which, in one line
        raise ModelUnavailableError(f"{what}: {model} could not be loaded ({type(exc).__name__}: {first_line(exc)}); "
                                    + how_to_supply(model)) from None
    for attr in ("tokenizer", "tokenizer_2"):
        tokenizer = getattr(pipe, attr, None)
        if attr in index and (tokenizer is None or len(tokenizer) < MIN_VOCAB):
            raise ModelUnavailableError(f"{what}: the {attr} of {model} is missing or empty; " + how_to_supply(model))
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _language_model(index: dict, folder: Path, dtype: "torch.dtype") -> dict[str, Any]:
    """AudioLDM 2 folders save their GPT-2 as ``GPT2Model``, which since transformers 4.50 lacks the
    generation helpers the pipeline calls; the same weights load into ``GPT2LMHeadModel``, which has them."""
    if index.get("language_model") != ["transformers", "GPT2Model"]:
        return {}
    from transformers import GPT2LMHeadModel

    return {"language_model": GPT2LMHeadModel.from_pretrained(folder / "language_model", dtype=dtype).eval()}


# --- prompts and seeds -------------------------------------------------------------------------


def clip_prompt(request: GenerationRequest) -> str:
    """The text for a whole clip.

    The graph passes the caption's structured form (Keywords:/Layout: lines with times and levels);
    these models learned from short free-text captions (AudioCaps, Freesound), which such lines
    only confuse. The caption's description is such a caption, and keywords it leaves out are
    added. Text that is not the structured form (a caller's own) is used as given."""
    caption = request.caption
    text = request.text.strip()
    if text and text != caption.to_text():
        return text
    description = caption.description.strip()
    extra = [k for k in caption.keywords if k.strip() and k.lower() not in description.lower()]
    words = ", ".join(part for part in [description.rstrip("."), *extra] if part)
    return words or text or ", ".join(ev.phrase or ev.label for ev in caption.layout)


def event_prompt(label: str, phrase: str = "", single: bool = False) -> str:
    """The text for one event: the user's words for it, else its label."""
    text = (phrase or label).strip()
    return text + SINGLE_HIT if single else text


def torch_seed(entropy: tuple[int, ...], offset: int) -> int:
    """A 64-bit torch seed from numpy SeedSequence entropy (every entry counts, whatever its size)."""
    state = np.random.SeedSequence([*map(int, entropy), int(offset)]).generate_state(1, dtype=np.uint64)
    return int(state[0])



class _Batches:
    """Rendered batches by (prompt, length, seed), least recently used dropped first within a byte budget."""

    def __init__(self, budget: int = BATCH_CACHE_BYTES) -> None:
        self.budget = budget
        self._items: OrderedDict[tuple, np.ndarray] = OrderedDict()

    def get(self, key: tuple) -> np.ndarray | None:
        if key in self._items:
            self._items.move_to_end(key)
        return self._items.get(key)

    def put(self, key: tuple, batch: np.ndarray) -> None:
        self._items[key] = batch
        # The newest batch stays even when it alone is over the budget: it is about to be used.
        while len(self._items) > 1 and sum(b.nbytes for b in self._items.values()) > self.budget:
            self._items.popitem(last=False)


# --- the backends ------------------------------------------------------------------------------


class _DiffusionAudio:
    """One diffusers text-to-audio pipeline as generator and sound source; subclasses add the pipeline call."""

    name: ClassVar[str]
    pipeline_class: ClassVar[str]
    settings_class: ClassVar[type[DiffusionSettings]]
    # The pipeline's keyword for the clip's length in seconds.
    length_argument: ClassVar[str]

    def __init__(self, **settings: Any) -> None:
        try:
            self.settings = self.settings_class(**settings)
        except ValidationError as exc:
            raise ConfigError(f"invalid settings for {self.name}: {validation_summary(exc)}") from None
        self.device, self.dtype = resolve(self.settings.device, self.settings.dtype)
        self._shared = shared_pipeline(self.name, self.pipeline_class, self.settings.model, self.device, self.dtype)
        self.pipe = self._shared.pipe
        self._batches = _Batches()
        self._lock = threading.Lock()

    # Pipeline facts (subclasses).
    @property
    def sample_rate(self) -> int:
        raise NotImplementedError

    @property
    def max_duration_s(self) -> float:
        raise NotImplementedError

    @property
    def min_duration_s(self) -> float:
        raise NotImplementedError

    def _call(self, prompt: str, duration_s: float, takes: int, generator: "torch.Generator") -> np.ndarray:
        """[takes, channels, frames] at the pipeline's rate."""
        s = self.settings
        audios = np.asarray(self.pipe(
            prompt, num_inference_steps=s.steps, guidance_scale=s.guidance, negative_prompt=s.negative_prompt or None,
            num_waveforms_per_prompt=takes, generator=generator, output_type="np",
            **{self.length_argument: duration_s},
        ).audios)
        return audios[:, None, :] if audios.ndim == 2 else audios  # a mono pipeline gives [takes, frames]

    # --- Generator ------------------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> GenerationResult:
        duration = float(request.duration_s or request.caption.duration_s)
        if duration <= 0:
            raise UsageError(f"{self.name} needs a positive duration, got {duration:g} s")
        if duration > self.max_duration_s + 1e-6:
            raise UsageError(f"{self.name} {self.settings.model} makes at most {self.max_duration_s:.2f} s per clip; "
                             f"{duration:g} s was asked for")
        prompt = clip_prompt(request)
        seed = (int(request.seed) + self.settings.seed) % 2**64
        # One take: a whole clip's retake comes with the next round's seed. Shorter than the model
        # makes: rendered at its shortest, then cut.
        samples = self._render(prompt, max(duration, self.min_duration_s), seed, takes=1)[0]
        audio = Waveform(fit_length(samples, round(duration * self.sample_rate)), self.sample_rate)
        notes: list[str] = []
        if request.caption.layout:
            notes.append(f'{self.name} rendered the whole clip from the text "{prompt}"; the layout\'s times, counts '
                         "and positions guide it only through those words. To place each event as planned, use it "
                         f'as a source of the composer: sources = [{{kind = "{self.name}"}}].')
        return GenerationResult(audio=audio, notes=tuple(notes))

    # --- SoundSource ----------------------------------------------------------------------------

    def labels(self) -> list[str]:
        """Every AudioSet class but Silence.

        A diffusion model renders any text, so no list is complete; an empty one would tell the
        reviser that nothing is renderable, and it would swap every unheard label for a synthesised
        one. The AudioSet classes are what the listener can name, so swaps stay within sounds it hears."""
        from ualm_agent import ontology

        return [name for name in ontology.classes() if not _is_silence(name)]

    def find(self, label: str, phrase: str = "") -> SourceMatch | None:
        if not label.strip() or _is_silence(label):
            return None
        return SourceMatch(sound=event_prompt(label, phrase), quality=self.settings.quality, takes=self.settings.takes)

    def render(self, match: SourceMatch, request: SoundRequest) -> np.ndarray | None:
        from ualm_agent.audio import resample

        if request.duration_s > self.max_duration_s + 1e-6:
            raise UsageError(f"{self.name} makes at most {self.max_duration_s:.2f} s per sound; "
                             f"{request.label} lasts {request.duration_s:g} s")
        prompt = event_prompt(request.label, request.phrase, request.single)
        seed = torch_seed(request.seed, self.settings.seed)
        # Shorter than the model can make: rendered at its shortest, then cut.
        length = max(float(request.duration_s), self.min_duration_s)
        batch = self._render(prompt, length, seed, takes=self.settings.takes)
        mono = batch[request.take % len(batch)].mean(axis=0)
        out = resample(Waveform(mono, self.sample_rate), request.sample_rate).samples[0]
        return fit_length(out, max(1, round(request.duration_s * request.sample_rate))).astype(np.float32)

    # --- rendering ------------------------------------------------------------------------------

    def _render(self, prompt: str, duration_s: float, seed: int, *, takes: int) -> np.ndarray:
        """[takes, channels, frames] for (prompt, length, seed), from the cache when rendered before."""
        import torch

        key = (prompt, round(duration_s, 6), seed, takes)
        with self._lock:
            cached = self._batches.get(key)
        if cached is not None:
            return cached
        # The noise is drawn on the pipeline's device, so a seed gives the same audio every call there.
        generator = torch.Generator(device=self.device).manual_seed(seed)
        with self._shared.lock, torch.inference_mode():
            batch = np.asarray(self._call(prompt, duration_s, takes, generator), dtype=np.float32)
        with self._lock:
            self._batches.put(key, batch)
        return batch


def _is_silence(label: str) -> bool:
    from ualm_agent.labels import name_key

    return name_key(label) == "silence"


@register("stable-audio", roles=("generator", "source"), config=StableAudioSettings, requires=("torch", "diffusers", "torchsde"),
          install=INSTALL)
class StableAudio(_DiffusionAudio):
    """Stable Audio Open text-to-audio diffusion (44.1 kHz stereo, up to 47 s), whole clips or one event at a time."""

    name = "stable-audio"
    pipeline_class = "StableAudioPipeline"
    settings_class = StableAudioSettings
    length_argument = "audio_end_in_s"

    @property
    def sample_rate(self) -> int:
        return int(self.pipe.vae.config.sampling_rate)

    @property
    def max_duration_s(self) -> float:
        # The transformer always denoises its full window; shorter clips are cut from it.
        return self.pipe.transformer.config.sample_size * self.pipe.vae.hop_length / self.sample_rate

    @property
    def min_duration_s(self) -> float:
        return self.pipe.vae.hop_length / self.sample_rate  # one latent frame


@register("audioldm2", roles=("generator", "source"), config=AudioLDM2Settings, requires=("torch", "diffusers"),
          install=INSTALL)
class AudioLDM2(_DiffusionAudio):
    """AudioLDM 2 text-to-audio diffusion (16 kHz mono, 10 s clips), whole clips or one event at a time."""

    name = "audioldm2"
    pipeline_class = "AudioLDM2Pipeline"
    settings_class = AudioLDM2Settings
    length_argument = "audio_length_in_s"

    @property
    def sample_rate(self) -> int:
        return int(self.pipe.vocoder.config.sampling_rate)

    @property
    def _seconds_per_mel_frame(self) -> float:
        config = self.pipe.vocoder.config
        return float(np.prod(config.upsample_rates)) / config.sampling_rate

    @property
    def max_duration_s(self) -> float:
        if self.settings.max_duration_s is not None:
            return self.settings.max_duration_s
        return self.pipe.unet.config.sample_size * self.pipe.vae_scale_factor * self._seconds_per_mel_frame

    @property
    def min_duration_s(self) -> float:
        return self.pipe.vae_scale_factor * self._seconds_per_mel_frame  # one latent frame

