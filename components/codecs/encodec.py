"""Codec ``encodec``: Meta's EnCodec, through the ``encodec`` package or transformers.

``implementation = "package"`` uses the ``encodec`` package the design card
names; ``"transformers"`` uses ``transformers.EncodecModel`` from a hub id or a
folder. Both give codes shaped [codebooks, frames] at the model's frame rate
(75 Hz at 24 kHz), with the codebook count set by ``bandwidth``.

The torchaudio trap: ``encodec/utils.py`` runs ``import torchaudio`` at import
time, only for its file and resampling helpers, which this backend never calls
(it resamples with soxr). torchaudio is not installed here on purpose (with a
CPU torch it fails to load, and once installed it breaks every transformers
audio model). :func:`import_encodec` therefore imports the package while a
placeholder module stands in for torchaudio; the placeholder raises a clear
error if anything ever touches it, and it is removed from ``sys.modules`` right
after, so no other import (transformers' included) sees it.

Models that normalize loudness (the 48 kHz ones) encode a clip in one piece
with one scale, which travels with the codes as :class:`EncodecCodes`
``.scale``; codes without it decode at the model's normalized loudness.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import types
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

import numpy as np

from ualm_agent.audio import resample
from ualm_agent.devices import TorchSettings, resolve
from ualm_agent.errors import ConfigError, ModelUnavailableError
from ualm_agent.registry import register
from ualm_agent.waveform import Waveform

if TYPE_CHECKING:
    import torch

DEFAULT_ENCODEC = "facebook/encodec_24khz"
PACKAGE_INSTALL = "pip install einops && pip install --no-deps encodec==0.1.1"
URL_PROBE_TIMEOUT_S = 3.0

# The package's two models: constructor, checkpoint file (name-<sha256 prefix>.th) and the names accepted for them.
PACKAGE_MODELS: dict[str, tuple[str, str]] = {
    "24khz": ("encodec_model_24khz", "encodec_24khz-d7cc33bc.th"),
    "48khz": ("encodec_model_48khz", "encodec_48khz-7e698e3e.th"),
}
PACKAGE_ALIASES = {
    alias: variant
    for variant in PACKAGE_MODELS
    for alias in (variant, f"encodec_{variant}", f"facebook/encodec_{variant}")
}

_IMPORT_LOCK = threading.Lock()


class EncodecCodes(np.ndarray):
    """Codes [codebooks, frames] that also carry the loudness scale of a normalizing model."""

    scale: float | None

    def __new__(cls, codes: np.ndarray, scale: float | None = None) -> "EncodecCodes":
        obj = np.asarray(codes).view(cls)
        obj.scale = scale
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self.scale = getattr(obj, "scale", None)


# ---- the encodec package without torchaudio -------------------------------------------------


def _torchaudio_placeholder() -> types.ModuleType:
    module = types.ModuleType("torchaudio", "Placeholder: torchaudio is not installed (see ualm_agent encodec codec).")

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(
            f"torchaudio.{name} was used, but torchaudio is not installed (and must not be: it breaks transformers"
            " with a CPU torch). Only the encodec package's own file/resampling helpers need it; ualm-agent's"
            " encodec codec does its own resampling with soxr."
        )

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


@contextmanager
def _placeholder_torchaudio():
    """Let ``import torchaudio`` inside the block succeed with a placeholder, then remove it."""
    if "torchaudio" in sys.modules:  # a real torchaudio is already loaded: nothing to stand in for
        yield
        return
    placeholder = _torchaudio_placeholder()
    sys.modules["torchaudio"] = placeholder
    try:
        yield
    finally:
        if sys.modules.get("torchaudio") is placeholder:
            del sys.modules["torchaudio"]


def import_encodec() -> types.ModuleType:
    """The ``encodec`` package, imported without torchaudio; ModelUnavailableError if not installed."""
    with _IMPORT_LOCK:
        if "encodec" in sys.modules and hasattr(sys.modules["encodec"], "EncodecModel"):
            return sys.modules["encodec"]
        missing = [m for m in ("encodec", "einops") if importlib.util.find_spec(m) is None]
        if missing:
            raise ModelUnavailableError(
                f"codec encodec (implementation package): {', '.join(missing)} not installed; install with: "
                f"{PACKAGE_INSTALL} (or set implementation = \"transformers\")"
            )
        with _placeholder_torchaudio():
            import encodec
        return encodec


# ---- checkpoints for the package -----------------------------------------------------------


def _url_reachable(url: str) -> bool:
    from ualm_agent.model_sources import hub_offline

    if hub_offline():
        return False
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "", parsed.port or 443), timeout=URL_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def package_checkpoint(variant: str, checkpoint: str | None) -> Path:
    """The state dict file for a package model: the given file, torch hub's cached copy, or a download.

    Offline with neither, fail at once naming the file, its URL and how to supply it.
    """
    import torch

    if checkpoint:
        path = Path(checkpoint).expanduser()
        if not path.is_file():
            raise ModelUnavailableError(f"codec encodec: checkpoint file {path} does not exist")
        return path
    _, filename = PACKAGE_MODELS[variant]
    url = import_encodec().model.ROOT_URL + filename
    cached = Path(torch.hub.get_dir()) / "checkpoints" / filename
    if cached.is_file():
        return cached
    if not _url_reachable(url):
        raise ModelUnavailableError(
            f"codec encodec: the pretrained weights {filename} are not in torch hub's cache ({cached}) and {url}"
            f" cannot be reached offline; download that file on a machine with internet access and pass it with"
            f" the `checkpoint` setting (or copy it to {cached})"
        )
    cached.parent.mkdir(parents=True, exist_ok=True)
    # The file name carries a prefix of its sha256, which the download checks.
    torch.hub.download_url_to_file(url, str(cached), hash_prefix=filename.rsplit("-", 1)[1].split(".")[0])
    return cached


def load_package_model(variant: str, checkpoint: str | None) -> Any:
    """An ``encodec.EncodecModel`` with the weights of ``checkpoint`` (strict), in eval mode."""
    import torch

    encodec = import_encodec()
    constructor, _ = PACKAGE_MODELS[variant]
    path = package_checkpoint(variant, checkpoint)
    with warnings.catch_warnings():
        # The package builds its convolutions with torch's older weight_norm, which torch flags as deprecated.
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*weight_norm")
        model = getattr(encodec.EncodecModel, constructor)(pretrained=False)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"codec encodec: {path} is not a state dict of the {variant} EnCodec model ({first})") from None
    return model.eval()


# ---- the backend ---------------------------------------------------------------------------


class EncodecSettings(TorchSettings):
    kind: Literal["encodec"] = "encodec"
    implementation: Literal["package", "transformers"] = "package"
    # package: facebook/encodec_24khz or facebook/encodec_48khz (or encodec_24khz, 24khz...);
    # transformers: a hub id or a local folder.
    model: str = DEFAULT_ENCODEC
    # kbps; one of the model's target bandwidths (24 kHz: 1.5, 3, 6, 12, 24 = 2, 4, 8, 16, 32 codebooks).
    bandwidth: float = 6.0
    # package: a local .th state dict (e.g. a downloaded encodec_24khz-d7cc33bc.th).
    checkpoint: str | None = None


@register("encodec", roles=("codec",), config=EncodecSettings, requires=("torch", "transformers"))
class EncodecCodec:
    """EnCodec (24 kHz mono, 75 frames/s; or 48 kHz stereo), through the encodec package or transformers."""

    def __init__(
        self,
        implementation: str = "package",
        model: str = DEFAULT_ENCODEC,
        bandwidth: float = 6.0,
        checkpoint: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
    ) -> None:
        self.implementation = implementation
        self.model_name = model
        # encode/decode switch the model to one-piece coding for the call.
        self._lock = threading.Lock()
        self._device, self._dtype = resolve(device, dtype)
        if implementation == "package":
            variant = PACKAGE_ALIASES.get(model.strip().lower())
            if variant is None:
                raise ConfigError(
                    f"codec encodec (package): unknown model {model!r}; use facebook/encodec_24khz or"
                    " facebook/encodec_48khz (or implementation = \"transformers\" for other models)"
                )
            self.model = load_package_model(variant, checkpoint)
            self.sample_rate = int(self.model.sample_rate)
            self.channels = int(self.model.channels)
            self.frame_rate = float(self.model.frame_rate)
            self.target_bandwidths = [float(b) for b in self.model.target_bandwidths]
            self.normalize = bool(self.model.normalize)
            self.hop_length = int(np.prod(self.model.encoder.ratios))
        elif implementation == "transformers":
            if checkpoint:
                raise ConfigError("codec encodec: `checkpoint` is for implementation \"package\"; give a folder as `model`")
            self.model = _load_transformers_encodec(model)
            config = self.model.config
            self.sample_rate = int(config.sampling_rate)
            self.channels = int(config.audio_channels)
            self.frame_rate = float(config.frame_rate)
            self.target_bandwidths = [float(b) for b in config.target_bandwidths]
            self.normalize = bool(config.normalize)
            self.hop_length = int(config.hop_length)
        else:
            raise ConfigError(f"codec encodec: unknown implementation {implementation!r}; use package or transformers")
        self.model = self.model.to(self._device, self._dtype).eval()
        self.model.requires_grad_(False)
        if float(bandwidth) not in self.target_bandwidths:
            raise ConfigError(
                f"encodec bandwidth {bandwidth:g} kbps is not one this model offers; choose one of "
                + ", ".join(f"{b:g}" for b in self.target_bandwidths)
            )
        self.bandwidth = float(bandwidth)
        if implementation == "package":
            self.model.set_target_bandwidth(self.bandwidth)
            self.num_codebooks = int(self.model.quantizer.get_num_quantizers_for_bandwidth(self.model.frame_rate, self.bandwidth))
            self.codebook_size = int(self.model.quantizer.bins)
        else:
            self.num_codebooks = int(self.model.quantizer.get_num_quantizers_for_bandwidth(self.bandwidth))
            self.codebook_size = int(self.model.config.codebook_size)
        # Bandwidth = codebooks x bits per code x frames per second.
        bits = np.log2(self.codebook_size)
        expected = int(self.bandwidth * 1000 // (bits * self.frame_rate))
        if expected != self.num_codebooks:
            raise ConfigError(
                f"codec encodec: {self.bandwidth:g} kbps should give {expected} codebooks at {self.frame_rate:g} Hz,"
                f" the model uses {self.num_codebooks}"
            )

    def _input(self, audio: Waveform) -> "torch.Tensor":
        import torch

        samples = resample(audio, self.sample_rate).samples
        if samples.shape[0] != self.channels:
            # Mono in, stereo model: the same signal on both sides; stereo in, mono model: the mean.
            samples = np.repeat(samples.mean(axis=0, keepdims=True), self.channels, axis=0)
        return torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(self._device, self._dtype)

    def encode(self, audio: Waveform) -> np.ndarray:
        """Codes shaped [codebooks, frames] (int64); 48 kHz models also carry ``.scale``."""
        import torch

        x = self._input(audio)
        with self._lock, torch.inference_mode(), self._in_one_piece():
            if self.implementation == "package":
                (codes, scale), = self.model.encode(x)
            else:
                out = self.model.encode(x, bandwidth=self.bandwidth, return_dict=True)
                codes, scale = out.audio_codes[0], out.audio_scales[0]
        value = None if scale is None else float(scale.reshape(-1)[0])
        return EncodecCodes(codes[0].to("cpu", torch.int64).numpy(), value)

    def decode(self, codes: np.ndarray) -> Waveform:
        """Audio at the model's rate and channel count for codes shaped [codebooks, frames]."""
        import torch

        arr = np.asarray(codes)
        if arr.ndim != 2 or not 1 <= arr.shape[0] <= self._max_codebooks():
            raise ValueError(f"encodec codes must be [codebooks<= {self._max_codebooks()}, frames], got shape {arr.shape}")
        if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= self.codebook_size):
            raise ValueError(f"encodec codes must lie in [0, {self.codebook_size})")
        t = torch.from_numpy(arr.astype(np.int64))[None].to(self._device)
        scale = getattr(codes, "scale", None)
        scale_t = None if scale is None else torch.tensor([[scale]], device=self._device, dtype=self._dtype)
        with self._lock, torch.inference_mode(), self._in_one_piece():
            if self.implementation == "package":
                out = self.model.decode([(t, scale_t)])
            else:
                out = self.model.decode(t[None], [scale_t], return_dict=False)[0]
        return Waveform(out[0].float().cpu().numpy(), self.sample_rate)

    @contextmanager
    def _in_one_piece(self):
        """The model's segmenting off for one call, so a clip is one [codebooks, frames] array."""
        owner, name = (self.model, "segment") if self.implementation == "package" else (self.model.config, "chunk_length_s")
        saved = getattr(owner, name)
        setattr(owner, name, None)
        try:
            yield
        finally:
            setattr(owner, name, saved)

    def _max_codebooks(self) -> int:
        return int(self.model.quantizer.n_q if self.implementation == "package" else self.model.config.num_quantizers)


def _load_transformers_encodec(model: str) -> Any:
    from ualm_agent.model_sources import local_model_dir

    folder = local_model_dir(model, what="codec encodec", must_contain=("config.json",))
    from transformers import EncodecModel

    return EncodecModel.from_pretrained(folder)
