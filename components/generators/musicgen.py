"""Generator ``musicgen``: Meta's MusicGen through transformers.

The rich caption's text form conditions the model. The clip length becomes a
token budget through the audio codec's frame rate (50 frames/s for the
published models), plus the delay pattern's extra steps; the audio is then
cut or padded to the requested duration. Classifier-free guidance runs inside
transformers' ``generate`` (``guidance_scale``); sampling is seeded per call,
so the same seed gives the same audio.
"""

from __future__ import annotations

import json
import math
import threading
from typing import TYPE_CHECKING, Any, Literal

from ualm_agent.audio import fit_length
from ualm_agent.devices import TorchSettings, resolve
from ualm_agent.errors import ConfigError, ModelUnavailableError, UsageError
from ualm_agent.registry import register
from ualm_agent.roles import GenerationRequest, GenerationResult
from ualm_agent.waveform import Waveform

if TYPE_CHECKING:
    import torch

DEFAULT_MUSICGEN = "facebook/musicgen-small"
# T5's own limit; longer captions are cut here rather than failing.
MAX_TEXT_TOKENS = 512
# A tokenizer this small is what transformers builds when its files are missing, not a real vocabulary.
MIN_VOCAB = 16


class MusicgenSettings(TorchSettings):
    kind: Literal["musicgen"] = "musicgen"
    # Any facebook/musicgen-* id (small, medium, large, stereo-*, melody) or a local folder.
    model: str = DEFAULT_MUSICGEN
    guidance_scale: float = 3.0
    top_k: int = 250
    temperature: float = 1.0
    # Added to each request's seed, to draw another take of the same plan and round.
    seed: int = 0


@register("musicgen", roles=("generator",), config=MusicgenSettings, requires=("torch", "transformers"))
class MusicgenGenerator:
    """MusicGen text-to-music (and sound) from the caption text, with classifier-free guidance."""

    def __init__(
        self,
        model: str = DEFAULT_MUSICGEN,
        guidance_scale: float = 3.0,
        top_k: int = 250,
        temperature: float = 1.0,
        seed: int = 0,
        device: str = "auto",
        dtype: str = "auto",
    ) -> None:
        if guidance_scale < 1.0:
            raise ConfigError(f"musicgen guidance_scale must be 1 or more (1 = no guidance), got {guidance_scale:g}")
        if top_k < 0 or temperature <= 0:
            raise ConfigError("musicgen needs top_k >= 0 and temperature > 0")
        self.model_name = model
        self.guidance_scale = float(guidance_scale)
        self.top_k = int(top_k)
        self.temperature = float(temperature)
        self.seed = int(seed)
        self.device, self.dtype = resolve(device, dtype)
        self.model, self.processor = _load(model, self.device, self.dtype)
        audio_config = self.model.config.audio_encoder
        self.sample_rate = int(audio_config.sampling_rate)
        self.frame_rate = float(audio_config.frame_rate)
        self.num_codebooks = int(self.model.config.decoder.num_codebooks)
        self.max_positions = int(self.model.config.decoder.max_position_embeddings)
        self._lock = threading.Lock()

    def tokens_for(self, duration_s: float) -> int:
        """New tokens for ``duration_s`` of audio: its frames plus the delay pattern's codebooks - 1 extra steps."""
        return math.ceil(duration_s * self.frame_rate) + self.num_codebooks

    def generate(self, request: GenerationRequest) -> GenerationResult:
        import torch

        duration = float(request.duration_s or request.caption.duration_s)
        if duration <= 0:
            raise UsageError(f"musicgen needs a positive duration, got {duration:g} s")
        tokens = self.tokens_for(duration)
        if tokens > self.max_positions:
            longest = (self.max_positions - self.num_codebooks) / self.frame_rate
            raise UsageError(f"musicgen {self.model_name} makes at most {longest:.1f} s per clip; {duration:g} s was asked for")
        text = request.text.strip() or request.caption.to_text()
        inputs = self.processor(
            text=[text], padding=True, truncation=True, max_length=MAX_TEXT_TOKENS, return_tensors="pt"
        ).to(self.device)
        devices = [self.device] if self.device.type == "cuda" else []
        with self._lock, torch.random.fork_rng(devices=devices), torch.inference_mode():
            # Seeding inside a forked RNG state keeps runs reproducible without touching the caller's RNG.
            torch.manual_seed((int(request.seed) + self.seed) % 2**64)  # torch takes 64-bit seeds
            audio = self.model.generate(
                **inputs,
                max_new_tokens=tokens,
                do_sample=True,
                guidance_scale=self.guidance_scale,
                top_k=self.top_k,
                temperature=self.temperature,
            )
        samples = audio[0].float().cpu().numpy()
        return GenerationResult(audio=Waveform(fit_length(samples, round(duration * self.sample_rate)), self.sample_rate))


def _load(model: str, device: "torch.device", dtype: "torch.dtype") -> tuple[Any, Any]:
    from ualm_agent.model_sources import how_to_supply, local_model_dir

    what = "generator musicgen"
    folder = local_model_dir(model, what=what, must_contain=("config.json",))
    model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    from transformers import AutoProcessor

    if model_type == "musicgen":
        from transformers import MusicgenForConditionalGeneration as ModelClass
    elif model_type == "musicgen_melody":
        from transformers import MusicgenMelodyForConditionalGeneration as ModelClass
    else:
        raise ModelUnavailableError(f"{what}: {model} is a {model_type!r} model, not MusicGen; " + how_to_supply(model))
    try:
        processor = AutoProcessor.from_pretrained(folder)
    except Exception as exc:
        raise ModelUnavailableError(
            f"{what}: {model} has no usable processor/tokenizer files ({type(exc).__name__}); " + how_to_supply(model)
        ) from None
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None or len(tokenizer) < MIN_VOCAB:
        raise ModelUnavailableError(f"{what}: the tokenizer of {model} is missing or empty; " + how_to_supply(model))
    loaded = ModelClass.from_pretrained(folder, dtype=dtype).to(device).eval()
    loaded.requires_grad_(False)
    return loaded, processor
