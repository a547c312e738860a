"""Codec ``xcodec``: UALM's audio tokenizer, X-codec through ``transformers.XcodecModel``.

16 kHz mono with a hop of 320 samples, so 50 frames per second; each frame
holds one code per codebook (8 codebooks of 1,024 codes at 4 kbps).
:func:`load_xcodec` is the one loader, shared with the unified model, so a
process that uses X-codec in several places holds one copy of it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ualm_agent.audio import resample, to_mono
from ualm_agent.devices import TorchSettings
from ualm_agent.errors import ConfigError
from ualm_agent.registry import register
from ualm_agent.waveform import Waveform

if TYPE_CHECKING:
    import torch
    from transformers import XcodecModel

DEFAULT_XCODEC = "hf-audio/xcodec-hubert-general"

_LOADED: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


def load_xcodec(
    model: str = DEFAULT_XCODEC,
    *,
    device: "str | torch.device" = "auto",
    dtype: "str | torch.dtype" = "auto",
    what: str = "codec xcodec",
) -> "XcodecModel":
    """X-codec from a hub id or a local folder, in eval mode with gradients off.

    ``device``/``dtype`` are torch objects or the names ``--device``/``--dtype``
    take. The model is loaded once per (folder, device, dtype) in a process.
    Offline with the model absent, this raises ModelUnavailableError within
    seconds (see :func:`ualm_agent.model_sources.local_model_dir`).
    """
    from ualm_agent.devices import resolve
    from ualm_agent.model_sources import local_model_dir

    device, dtype = resolve(device, dtype)
    folder = local_model_dir(model, what=what, must_contain=("config.json",))
    key = (str(folder.resolve()), str(device), str(dtype))
    with _LOCK:
        if key not in _LOADED:
            from transformers import XcodecModel

            codec = XcodecModel.from_pretrained(folder, dtype=dtype).to(device).eval()
            codec.requires_grad_(False)
            _LOADED[key] = codec
        return _LOADED[key]


class XcodecSettings(TorchSettings):
    kind: Literal["xcodec"] = "xcodec"
    model: str = DEFAULT_XCODEC
    # kbps; one of the model's target bandwidths. 4 kbps = 8 codebooks, as UALM uses.
    bandwidth: float = 4.0


@register(
    "xcodec",
    roles=("codec",),
    config=XcodecSettings,
    requires=("torch", "transformers"),
)
class XcodecCodec:
    """X-codec (HuBERT + acoustic codec), 16 kHz mono, 50 frames/s, through transformers."""

    def __init__(
        self, model: str = DEFAULT_XCODEC, bandwidth: float = 4.0, device: str = "auto", dtype: str = "auto"
    ) -> None:
        self.model_name = model
        self.codec = load_xcodec(model, device=device, dtype=dtype)
        config = self.codec.config
        allowed = [float(b) for b in config.target_bandwidths]
        if float(bandwidth) not in allowed:
            raise ConfigError(
                f"xcodec bandwidth {bandwidth:g} kbps is not one this model offers; choose one of "
                + ", ".join(f"{b:g}" for b in allowed)
            )
        self.bandwidth = float(bandwidth)
        self.num_codebooks = int(self.codec.quantizer.get_num_quantizers_for_bandwidth(self.bandwidth))
        self.codebook_size = int(config.codebook_size)
        self.sample_rate = int(config.sample_rate)
        self.frame_rate = float(config.frame_rate)
        self.hop_length = int(config.hop_length)

    @property
    def device(self) -> "torch.device":
        return next(self.codec.parameters()).device

    @property
    def dtype(self) -> "torch.dtype":
        return next(self.codec.parameters()).dtype

    def encode(self, audio: Waveform) -> np.ndarray:
        """Codes shaped [codebooks, frames] (int64) for the audio, resampled to 16 kHz mono."""
        import torch

        mono = resample(to_mono(audio), self.sample_rate).samples
        x = torch.from_numpy(np.ascontiguousarray(mono))[None].to(self.device, self.dtype)
        with torch.inference_mode():
            codes = self.codec.encode(x, bandwidth=self.bandwidth, return_dict=False)
        return codes[0].to("cpu", torch.int64).numpy()

    def decode(self, codes: np.ndarray) -> Waveform:
        """16 kHz mono audio for codes shaped [codebooks, frames]; negative codes count as 0."""
        import torch

        arr = np.asarray(codes)
        if arr.ndim != 2 or arr.shape[0] < 1:
            raise ValueError(f"xcodec codes must be [codebooks, frames], got shape {arr.shape}")
        if arr.shape[0] > self.codec.config.num_quantizers:
            raise ValueError(f"xcodec codes have {arr.shape[0]} codebooks; this model has {self.codec.config.num_quantizers}")
        if arr.size and int(arr.max()) >= self.codebook_size:
            raise ValueError(f"xcodec code {int(arr.max())} is out of range; codes are below {self.codebook_size}")
        # Pad and delay slots come out of a language model as negative codes; the codec treats them as code 0.
        clamped = np.maximum(arr.astype(np.int64), 0)
        t = torch.from_numpy(clamped)[None].to(self.device)
        with torch.inference_mode():
            out = self.codec.decode(t, return_dict=False)
        samples = out[0].float().cpu().numpy()
        return Waveform(samples[:1], self.sample_rate)
