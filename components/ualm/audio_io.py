"""UALM's audio input and output modules, both frozen.

- :class:`DiscreteAudioIO`: X-codec (``transformers.XcodecModel``), the tokens
  the model writes: 16 kHz mono, 50 frames/s, ``num_streams`` codebooks.
- :class:`ContinuousAudioIO`: the encoder the model hears with, giving 25 Hz
  features from a 16 kHz log-mel front end: the Qwen2.5-Omni audio tower
  (``qwen2.5-omni``, the recipe's default) or an AF-Whisper encoder
  (``af-whisper``, Whisper's encoder with a stride-2 pool, as
  ``transformers.Qwen2AudioEncoder`` builds it). It hears as much of a clip as
  the encoder's front end takes, as the recipe does: the Omni front end's
  ``n_samples`` (its chunk_length, 300 s for Qwen2.5-Omni-7B), AF-Whisper's
  30 s window; the rest is cut.

Attribute names follow NVIDIA's UALM recipe so that a checkpoint trained there
loads strictly: the codec sits at ``codec_model``; the encoder at ``model``,
with the Omni tower one level down at ``model.audio_tower`` (the recipe keeps
the Omni "thinker" with everything but its audio tower deleted).

Each module describes itself with :meth:`spec` (a JSON-able dict: kind, source,
model config, front-end settings) and is rebuilt from it with
:func:`codec_from_spec` / :func:`encoder_from_spec`, with random weights that a
checkpoint or a saved folder then fills in.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from ualm_agent.errors import ModelUnavailableError

DEFAULT_CODEC = "hf-audio/xcodec-hubert-general"
DEFAULT_ENCODER = "Qwen/Qwen2.5-Omni-7B"
EncoderKind = Literal["qwen2.5-omni", "af-whisper"]
ENCODER_KINDS: tuple[str, ...] = ("qwen2.5-omni", "af-whisper")
SAMPLE_RATE = 16000
# The Whisper-style front end's settings that matter; the rest are library defaults.
_FRONT_END_KEYS = ("feature_size", "sampling_rate", "hop_length", "chunk_length", "n_fft", "padding_value")


def _as_mono_16k(waveform: Any) -> np.ndarray:
    if isinstance(waveform, torch.Tensor):
        waveform = waveform.detach().float().cpu().numpy()
    wav = np.asarray(waveform, dtype=np.float32)
    if wav.ndim == 2:  # [channels, samples]: the recipe keeps the first channel
        wav = wav[0]
    if wav.ndim != 1:
        raise ValueError(f"expected a 16 kHz mono waveform [samples], got shape {wav.shape}")
    return wav


def _module_place(module: nn.Module) -> tuple[torch.device, torch.dtype]:
    p = next(module.parameters())
    return p.device, p.dtype


class DiscreteAudioIO(nn.Module):
    """X-codec tokens: ``encode`` gives codes [frames, streams], ``decode`` gives samples."""

    def __init__(self, codec_model: nn.Module, *, num_streams: int = 8, source: str = DEFAULT_CODEC) -> None:
        super().__init__()
        config = codec_model.config
        if int(config.num_quantizers) < num_streams:
            raise ValueError(f"X-codec has {config.num_quantizers} codebooks; UALM needs {num_streams}")
        self.codec_model = codec_model
        self.num_streams = num_streams
        self.source = source
        self.sample_rate = int(config.sample_rate)
        self.hop_length = int(config.hop_length)
        self.frame_rate = float(config.frame_rate)
        self.codebook_size = int(config.codebook_size)
        # X-codec encodes at one of its target bandwidths; take the one nearest num_streams codebooks.
        wanted = math.log2(self.codebook_size) * self.frame_rate * num_streams / 1000
        self.bandwidth = min(config.target_bandwidths, key=lambda b: abs(b - wanted))
        codec_model.eval().requires_grad_(False)

    def spec(self) -> dict[str, Any]:
        return {"kind": "xcodec", "source": self.source, "config": self.codec_model.config.to_dict()}

    def encode(self, waveform_16k: Any) -> torch.Tensor:
        """Codes LongTensor [frames, num_streams] for a 16 kHz mono waveform; frames = samples // hop."""
        wav = _as_mono_16k(waveform_16k)
        frames = len(wav) // self.hop_length
        if frames == 0:
            return torch.zeros((0, self.num_streams), dtype=torch.long)
        device, dtype = _module_place(self.codec_model)
        x = torch.from_numpy(wav[: frames * self.hop_length].copy())[None, None].to(device, dtype)
        with torch.inference_mode():
            codes = self.codec_model.encode(x, bandwidth=self.bandwidth, return_dict=False)
        codes = codes[0, : self.num_streams].transpose(0, 1).long()  # [T', S]
        # The codec may return a frame more or less than the hop count; fit it as the recipe does.
        if codes.shape[0] > frames:
            codes = codes[:frames]
        elif codes.shape[0] < frames:
            codes = torch.cat([codes, codes[-1:].expand(frames - codes.shape[0], -1)], dim=0)
        return codes

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Samples (float, 1-D) for codes [frames, num_streams]; negative codes are decoded as 0."""
        if codes.ndim != 2 or codes.shape[1] != self.num_streams:
            raise ValueError(f"expected codes [frames, {self.num_streams}], got shape {tuple(codes.shape)}")
        if codes.numel() and int(codes.max()) >= self.codebook_size:
            raise ValueError(f"code {int(codes.max())} out of range; codes are below {self.codebook_size}")
        if codes.shape[0] == 0:
            return torch.zeros(0)
        device, _ = _module_place(self.codec_model)
        # Pad and delay slots come out of the LM as -1; X-codec takes them as code 0.
        clamped = codes.long().clamp(min=0).transpose(0, 1)[None].to(device)
        with torch.inference_mode():
            audio = self.codec_model.decode(clamped, return_dict=False)
        return audio[0, 0, : codes.shape[0] * self.hop_length].float()


class _OmniThinkerAudio(nn.Module):
    """Holds the Omni audio tower under the name the recipe's thinker gives it."""

    def __init__(self, audio_tower: nn.Module) -> None:
        super().__init__()
        self.audio_tower = audio_tower


class ContinuousAudioIO(nn.Module):
    """Frozen audio encoder: ``encode`` gives features [frames, feature_dim] at 25 Hz."""

    def __init__(
        self, encoder: nn.Module, feature_extractor: Any, *, kind: EncoderKind, source: str = DEFAULT_ENCODER
    ) -> None:
        super().__init__()
        if kind not in ENCODER_KINDS:
            raise ValueError(f"unknown encoder kind {kind!r}; use one of {', '.join(ENCODER_KINDS)}")
        self.kind = kind
        self.source = source
        self.feature_extractor = feature_extractor
        self.sample_rate = int(feature_extractor.sampling_rate)
        self.hop_length = int(feature_extractor.hop_length)
        if kind == "qwen2.5-omni":
            self.model = _OmniThinkerAudio(encoder)
            self.feature_dim = int(encoder.config.output_dim)
            # The recipe cuts a clip at the front end's n_samples (chunk_length * rate: 300 s for Omni-7B).
            self.max_samples = int(feature_extractor.n_samples)
        else:
            self.model = encoder
            self.feature_dim = int(encoder.config.d_model)
            # The AF-Whisper encoder takes exactly max_source_positions * 2 mel frames (30 s), padded.
            self.window_samples = int(encoder.config.max_source_positions) * 2 * self.hop_length
            self.max_samples = self.window_samples
        self.model.eval().requires_grad_(False)

    @property
    def max_seconds(self) -> float:
        """The longest clip the encoder hears; encode() cuts the rest."""
        return self.max_samples / self.sample_rate

    @property
    def encoder(self) -> nn.Module:
        return self.model.audio_tower if self.kind == "qwen2.5-omni" else self.model

    def spec(self) -> dict[str, Any]:
        fe = self.feature_extractor
        return {
            "kind": self.kind,
            "source": self.source,
            "config": self.encoder.config.to_dict(),
            "feature_extractor": {key: getattr(fe, key) for key in _FRONT_END_KEYS},
        }

    @staticmethod
    def output_frames(mel_frames: int) -> int:
        """Feature frames for a number of mel frames: two stride-2 steps (conv, then pooling)."""
        after_conv = (mel_frames - 1) // 2 + 1
        return (after_conv - 2) // 2 + 1

    def encode(self, waveform_16k: Any) -> torch.Tensor:
        """Features [frames, feature_dim] for a 16 kHz mono waveform; past max_seconds is cut, under 40 ms padded."""
        wav = _as_mono_16k(waveform_16k)[: self.max_samples]
        if len(wav) < self.hop_length * 4:  # under one 40 ms feature frame: pad with silence to one frame
            wav = np.pad(wav, (0, self.hop_length * 4 - len(wav)))
        if self.kind == "qwen2.5-omni":
            return self._encode_omni(wav)
        return self._encode_af_whisper(wav)

    def _encode_omni(self, wav: np.ndarray) -> torch.Tensor:
        # The recipe's front end: normalised waveform, no padding, the valid frames only.
        out = self.feature_extractor(
            [wav],
            truncation=False,
            return_tensors="np",
            do_normalize=True,
            max_length=len(wav),
            return_attention_mask=True,
            sampling_rate=self.sample_rate,
        )
        frames = min(int(out["attention_mask"].sum()), out["input_features"].shape[-1])
        device, dtype = _module_place(self.encoder)
        feats = torch.from_numpy(out["input_features"][0, :, :frames]).to(device, dtype)
        lens = torch.tensor([frames], dtype=torch.long, device=device)
        after_conv, _ = self.encoder._get_feat_extract_output_lengths(lens)
        with torch.inference_mode():
            hidden = self.encoder(input_features=feats, feature_lens=lens, aftercnn_lens=after_conv).last_hidden_state
        return hidden

    def _encode_af_whisper(self, wav: np.ndarray) -> torch.Tensor:
        samples = len(wav)
        padded = np.pad(wav, (0, self.window_samples - samples))
        out = self.feature_extractor(padded, sampling_rate=self.sample_rate, return_tensors="np")
        device, dtype = _module_place(self.encoder)
        feats = torch.from_numpy(out["input_features"]).to(device, dtype)  # [1, mels, 2 * positions]
        n_out = self.output_frames(samples // self.hop_length)
        # The recipe masks from the output length (mel frames ~ 4 * n_out - 1), as in training.
        after_conv = (4 * n_out - 2) // 2 + 1
        positions = (feats.shape[-1] - 2) // 2 + 1
        masked = torch.arange(positions, device=device) >= after_conv
        mask = torch.zeros((1, 1, positions, positions), dtype=dtype, device=device)
        mask.masked_fill_(masked.view(1, 1, 1, positions), float("-inf"))
        with torch.inference_mode():
            hidden = self.encoder(feats, attention_mask=mask).last_hidden_state
        return hidden[0, :n_out]


# ---------------------------------------------------------------- building


def _without_dtype(config: Any) -> Any:
    """Drop a stored dtype (and its sub-configs'), so modules are built in the dtype the loader asks for."""
    config.dtype = None
    for name in getattr(config, "sub_configs", {}) or {}:
        sub = getattr(config, name, None)
        if sub is not None and hasattr(sub, "dtype"):
            _without_dtype(sub)
    return config


def _xcodec_config(config: dict[str, Any]):
    from transformers import XcodecConfig

    clean = {k: v for k, v in config.items() if k not in ("model_type", "transformers_version", "dtype", "torch_dtype")}
    return _without_dtype(XcodecConfig(**clean))


def codec_from_spec(spec: dict[str, Any], *, num_streams: int) -> DiscreteAudioIO:
    """X-codec IO with random weights, shaped by a :meth:`DiscreteAudioIO.spec`."""
    from transformers import XcodecModel

    if spec.get("kind", "xcodec") != "xcodec":
        raise ValueError(f"unknown codec kind {spec.get('kind')!r}; UALM uses xcodec")
    codec = XcodecModel(_xcodec_config(spec["config"]))
    return DiscreteAudioIO(codec, num_streams=num_streams, source=spec.get("source", ""))


def _front_end(settings: dict[str, Any]):
    from transformers import WhisperFeatureExtractor

    return WhisperFeatureExtractor(**{k: settings[k] for k in _FRONT_END_KEYS if k in settings})


def _encoder_config(kind: str, config: dict[str, Any]):
    clean = {k: v for k, v in config.items() if k not in ("model_type", "transformers_version", "dtype", "torch_dtype")}
    if kind == "qwen2.5-omni":
        from transformers.models.qwen2_5_omni.configuration_qwen2_5_omni import Qwen2_5OmniAudioEncoderConfig

        return Qwen2_5OmniAudioEncoderConfig(**clean)
    if kind == "af-whisper":
        from transformers import Qwen2AudioEncoderConfig

        return Qwen2AudioEncoderConfig(**clean)
    raise ValueError(f"unknown encoder kind {kind!r}; use one of {', '.join(ENCODER_KINDS)}")


def _encoder_module(kind: str, config: Any) -> nn.Module:
    if kind == "qwen2.5-omni":
        from transformers.models.qwen2_5_omni.modeling_qwen2_5_omni import Qwen2_5OmniAudioEncoder

        return Qwen2_5OmniAudioEncoder(config)
    from transformers import Qwen2AudioEncoder

    return Qwen2AudioEncoder(config)


def encoder_from_spec(spec: dict[str, Any]) -> ContinuousAudioIO:
    """Encoder IO with random weights, shaped by a :meth:`ContinuousAudioIO.spec`."""
    kind = spec["kind"]
    config = _encoder_config(kind, spec["config"])
    return ContinuousAudioIO(
        _encoder_module(kind, config), _front_end(spec["feature_extractor"]), kind=kind, source=spec.get("source", "")
    )


def codec_spec_from_source(source: str = DEFAULT_CODEC) -> dict[str, Any]:
    """The codec spec of a hub id or folder, reading only its config."""
    from ualm_agent.model_sources import local_model_dir

    folder = local_model_dir(source, what="ualm codec (X-codec)", setting="codec", must_contain=("config.json",))
    config = json.loads((folder / "config.json").read_text())
    if config.get("model_type") != "xcodec":
        raise ModelUnavailableError(
            f"ualm codec: {source} is not an X-codec model (model_type {config.get('model_type')!r})"
        )
    return {"kind": "xcodec", "source": source, "config": _xcodec_config(config).to_dict()}


def encoder_spec_from_source(source: str = DEFAULT_ENCODER, *, kind: EncoderKind = "qwen2.5-omni") -> dict[str, Any]:
    """The encoder spec of a hub id or folder, reading only configs (and, for Omni, only the audio tower's)."""
    return _encoder_source(source, kind)[0]


def _encoder_source(source: str, kind: str) -> tuple[dict[str, Any], Path]:
    from ualm_agent.model_sources import local_model_dir

    if kind not in ENCODER_KINDS:
        raise ValueError(f"unknown encoder kind {kind!r}; use one of {', '.join(ENCODER_KINDS)}")
    what = f"ualm audio encoder ({kind})"
    folder = local_model_dir(source, what=what, setting="encoder", must_contain=("config.json",))
    config = json.loads((folder / "config.json").read_text())
    if kind == "qwen2.5-omni":
        # A full Omni model keeps the tower under thinker_config.audio_config; a bare tower is its own config.
        audio = config.get("thinker_config", {}).get("audio_config") if "thinker_config" in config else config
        if not audio or "output_dim" not in audio:
            raise ModelUnavailableError(f"ualm audio encoder: {source} has no Qwen2.5-Omni audio tower config")
    else:
        audio = config
    # Whisper's front end unless the folder says otherwise (AF-Whisper folders may carry no preprocessor file).
    fe_settings = {
        "feature_size": int(audio.get("num_mel_bins", 128)),
        "sampling_rate": SAMPLE_RATE,
        "hop_length": 160,
        "chunk_length": 30,
        "n_fft": 400,
        "padding_value": 0.0,
    }
    pre = folder / "preprocessor_config.json"
    if pre.exists():
        stored = json.loads(pre.read_text())
        fe_settings.update({k: stored[k] for k in _FRONT_END_KEYS if k in stored})
    if fe_settings["sampling_rate"] != SAMPLE_RATE:
        raise ModelUnavailableError(f"{what}: {source} expects {fe_settings['sampling_rate']} Hz; UALM feeds 16 kHz")
    config = _encoder_config(kind, audio).to_dict()
    spec = {"kind": kind, "source": source, "config": config, "feature_extractor": fe_settings}
    return spec, folder


def load_codec(source: str = DEFAULT_CODEC, *, num_streams: int = 8) -> DiscreteAudioIO:
    """X-codec IO with its pretrained weights (CPU, float32), through the codec backend's loader.

    The loader shares one instance per process; UALM takes a copy, since it moves, casts and
    reloads its own weights.
    """
    import copy

    from ualm_agent.components.codecs.xcodec import load_xcodec

    codec = load_xcodec(source, device="cpu", dtype="float32", what="ualm codec (X-codec)")
    return DiscreteAudioIO(copy.deepcopy(codec), num_streams=num_streams, source=source)


def load_encoder(source: str = DEFAULT_ENCODER, *, kind: EncoderKind = "qwen2.5-omni") -> ContinuousAudioIO:
    """Encoder IO with its pretrained weights; for Omni only the audio tower's tensors are read."""
    spec, folder = _encoder_source(source, kind)
    io = encoder_from_spec(spec)
    prefix = "thinker.audio_tower." if kind == "qwen2.5-omni" and _has_prefix(folder, "thinker.audio_tower.") else ""
    state = _read_safetensors(folder, prefix)
    missing, unexpected = io.encoder.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelUnavailableError(
            f"ualm audio encoder: weights in {source} do not fit a {kind} encoder "
            f"(missing {', '.join(missing[:3]) or 'none'}; unexpected {', '.join(unexpected[:3]) or 'none'})"
        )
    return io


def _weight_files(folder: Path) -> dict[str, Path]:
    """Tensor name -> safetensors file, from the index when the model is sharded."""
    index = folder / "model.safetensors.index.json"
    if index.exists():
        weight_map = json.loads(index.read_text())["weight_map"]
        return {name: folder / file for name, file in weight_map.items()}
    single = folder / "model.safetensors"
    if not single.exists():
        raise ModelUnavailableError(f"ualm audio encoder: no safetensors weights in {folder}")
    from safetensors import safe_open

    with safe_open(str(single), framework="pt") as f:
        return {name: single for name in f.keys()}


def _has_prefix(folder: Path, prefix: str) -> bool:
    return any(name.startswith(prefix) for name in _weight_files(folder))


def _read_safetensors(folder: Path, prefix: str) -> dict[str, torch.Tensor]:
    from safetensors import safe_open

    by_file: dict[Path, list[str]] = {}
    for name, file in _weight_files(folder).items():
        if name.startswith(prefix):
            by_file.setdefault(file, []).append(name)
    state: dict[str, torch.Tensor] = {}
    for file, names in by_file.items():
        with safe_open(str(file), framework="pt") as f:
            for name in names:
                state[name[len(prefix) :]] = f.get_tensor(name)
    return state
