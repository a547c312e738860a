"""Building UALM with its weights: a saved folder, or a checkpoint from NVIDIA's UALM recipe.

- **Folder** (:func:`save_pretrained` / :func:`load_pretrained`): ``config.json``
  holds the :class:`~.model.UalmConfig` (backbone, codec and encoder configs),
  ``model.safetensors`` every weight (codec and encoder included), plus the
  text tokenizer's files. Loading reads nothing but the folder.
- **DeepSpeed checkpoint** (:func:`load_deepspeed_checkpoint`): the recipe's
  ``mp_rank_00_model_states.pt``. Its ``"module"`` entry is the state dict of
  the recipe's model object itself (``scripts/inference.py`` loads it into
  ``build_model()``'s result with ``strict=True``), so keys carry no wrapper
  prefix: ``model.*``, ``lm_head.weight``, ``stream_emb.weight``,
  ``multimodal_io_dict.discrete_audio.codec_model.*``,
  ``multimodal_io_dict.continuous_audio.model.audio_tower.*`` and
  ``adaptor.continuous_audio.{weight,bias}``. Frozen codec and encoder weights
  are in it too, so only their configs are read from ``codec``/``encoder``.

:func:`build_ualm` is the one entry the backend calls.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import torch

from ualm_agent.errors import ModelUnavailableError, UsageError

from .audio_io import DEFAULT_CODEC, DEFAULT_ENCODER, EncoderKind, codec_spec_from_source, encoder_spec_from_source
from .model import UalmConfig, UalmLM

MODEL_STATES = "mp_rank_00_model_states.pt"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
DEFAULT_BACKBONE = "Qwen/Qwen2.5-1.5B"
_SHOWN_KEYS = 4


# ---------------------------------------------------------------- strict loading


def load_state_strict(lm: UalmLM, state: dict[str, torch.Tensor], *, source: str) -> UalmLM:
    """Copy ``state`` into ``lm``; any missing, unexpected or mis-shaped key raises one clear line."""
    own = lm.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    misshaped = [
        f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or misshaped:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", misshaped)):
            if keys:
                more = f", ... {len(keys) - _SHOWN_KEYS} more" if len(keys) > _SHOWN_KEYS else ""
                parts.append(f"{len(keys)} {label} ({', '.join(keys[:_SHOWN_KEYS])}{more})")
        raise ModelUnavailableError(
            f"ualm: {source} does not match the model built from backbone "
            f"{lm.config.backbone.get('_name_or_path') or lm.config.backbone.get('model_type')}, codec "
            f"{lm.config.codec.get('source') or 'xcodec'} and encoder {lm.config.encoder_kind}: {'; '.join(parts)}; "
            "pass the backbone, codec and encoder the checkpoint was trained with"
        )
    lm.load_state_dict(state, strict=True)
    return lm


def _empty_model(config: UalmConfig, tokenizer: Any, device: str, dtype: str) -> UalmLM:
    """The network with uninitialised weights, created on the target device in the target dtype.

    Every weight is loaded right after, so skipping initialisation and the float32 CPU copy
    saves time and memory at 1.5B+ parameters (buffers computed at build time stay float32,
    as transformers' own loading does).
    """
    from transformers.initialization import no_init_weights

    from ualm_agent.devices import resolve

    dev, typ = resolve(device, dtype)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(typ)
    try:
        with torch.device(dev), no_init_weights():
            lm = UalmLM(config, tokenizer=tokenizer)
    finally:
        torch.set_default_dtype(previous)
    return lm


def _finish(lm: UalmLM) -> UalmLM:
    """Frozen and in eval mode (loading copied every tensor into the dtype it was created in)."""
    lm.requires_grad_(False)
    return lm.eval()


# ---------------------------------------------------------------- DeepSpeed


def find_model_states(path: str | Path) -> Path:
    """The ``mp_rank_00_model_states.pt`` file at ``path``: the file, its folder, or a DeepSpeed save folder."""
    p = Path(path).expanduser()
    if p.is_file():
        return p
    if p.is_dir():
        direct = p / MODEL_STATES
        if direct.is_file():
            return direct
        latest = p / "latest"  # DeepSpeed names the newest tag in this file
        if latest.is_file() and (p / latest.read_text().strip() / MODEL_STATES).is_file():
            return p / latest.read_text().strip() / MODEL_STATES
        found = sorted(p.glob(f"*/{MODEL_STATES}"))
        if len(found) == 1:
            return found[0]
        if found:
            raise ModelUnavailableError(
                f"ualm checkpoint: {p} holds {len(found)} checkpoints ({', '.join(f.parent.name for f in found[:4])}); "
                f"pass one of them"
            )
    raise ModelUnavailableError(
        f"ualm checkpoint: no {MODEL_STATES} at {p}; pass the file or the folder DeepSpeed saved "
        "(NVIDIA's UALM recipe writes <exp>/checkpoints/step_N/<tag>/mp_rank_00_model_states.pt)"
    )


def read_deepspeed_module(path: str | Path, *, trust_pickle: bool = False) -> dict[str, torch.Tensor]:
    """The ``"module"`` state dict of a DeepSpeed model-states file, loaded with ``weights_only=True``.

    ``trust_pickle=True`` is unsafe: torch.load then unpickles whatever objects the file holds, and
    unpickling can run arbitrary code. Pass it only for a file you made or otherwise trust (a file
    DeepSpeed wrote with objects ``weights_only`` refuses, for instance).
    """
    file = find_model_states(path)
    try:
        try:
            saved = torch.load(file, map_location="cpu", weights_only=not trust_pickle, mmap=True)
        except RuntimeError as exc:  # files in torch's legacy (non-zip) format cannot be memory-mapped
            if "mmap" not in str(exc):
                raise
            saved = torch.load(file, map_location="cpu", weights_only=not trust_pickle)
    except pickle.UnpicklingError as exc:
        raise ModelUnavailableError(
            f"ualm checkpoint: {file} holds objects torch refuses to load with weights_only=True "
            f"({str(exc).splitlines()[0][:160]}); if you trust the file, load it with trust_pickle=True"
        ) from None
    except (RuntimeError, OSError, EOFError) as exc:
        raise ModelUnavailableError(f"ualm checkpoint: cannot read {file}: {str(exc).splitlines()[0][:200]}") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("module"), dict):
        raise ModelUnavailableError(f"ualm checkpoint: {file} has no 'module' state dict (not a DeepSpeed model-states file)")
    state = saved["module"]
    # A model saved from inside DDP/engine wrappers carries "module." on every key; the recipe's does not.
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def load_deepspeed_checkpoint(lm: UalmLM, path: str | Path, *, trust_pickle: bool = False) -> UalmLM:
    """Load NVIDIA's UALM recipe checkpoint (file or folder) into ``lm``, strictly."""
    state = read_deepspeed_module(path, trust_pickle=trust_pickle)
    return load_state_strict(lm, state, source=f"checkpoint {find_model_states(path)}")


# ---------------------------------------------------------------- folder


def save_pretrained(lm: UalmLM, folder: str | Path) -> Path:
    """Write ``lm`` as a Hugging Face-style folder: config.json, model.safetensors, tokenizer files."""
    from safetensors.torch import save_file

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG_FILE).write_text(lm.config.model_dump_json(indent=2))
    state = {k: v.detach().to("cpu").contiguous() for k, v in lm.state_dict().items()}
    save_file(state, str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    if lm.tokenizer is not None:
        lm.tokenizer.save_pretrained(str(out))
    return out


def read_config(folder: Path, *, source: str) -> UalmConfig:
    try:
        raw = json.loads((folder / CONFIG_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"ualm: cannot read {folder / CONFIG_FILE} ({exc})") from None
    if raw.get("model_type") != "ualm":
        raise ModelUnavailableError(
            f"ualm: {source} is not a UALM folder (config.json model_type is {raw.get('model_type')!r}); "
            "for a checkpoint from NVIDIA's recipe pass checkpoint=<mp_rank_00_model_states.pt> and backbone=<Qwen id>"
        )
    return UalmConfig.model_validate(raw)


def _tokenizer(folder: Path, *, source: str, required: bool) -> Any:
    if not any((folder / name).exists() for name in ("tokenizer.json", "tokenizer_config.json", "vocab.json")):
        if required:
            raise ModelUnavailableError(f"ualm: {source} has no tokenizer files (tokenizer.json)")
        return None
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if len(tokenizer) < 2:  # an offline fallback can hand back an empty tokenizer instead of raising
        raise ModelUnavailableError(f"ualm: the tokenizer in {source} is empty")
    return tokenizer


def load_pretrained(folder: str | Path, *, device: str = "auto", dtype: str = "auto") -> UalmLM:
    """A UALM saved by :func:`save_pretrained`, from its folder only."""
    path = Path(folder).expanduser()
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (path / name).is_file():
            raise ModelUnavailableError(f"ualm: {path} is not a UALM folder (no {name})")
    config = read_config(path, source=str(path))
    from safetensors.torch import load_file

    lm = _empty_model(config, _tokenizer(path, source=str(path), required=False), device, dtype)
    load_state_strict(lm, load_file(str(path / WEIGHTS_FILE)), source=str(path / WEIGHTS_FILE))
    return _finish(lm)


# ---------------------------------------------------------------- the entry point


def config_from_sources(
    *,
    backbone: str,
    codec: str = DEFAULT_CODEC,
    encoder: str = DEFAULT_ENCODER,
    encoder_kind: EncoderKind = "qwen2.5-omni",
    num_streams: int = 8,
    codebook_size: int = 1024,
    attn_implementation: str = "sdpa",
) -> tuple[UalmConfig, Any]:
    """A UALM config (and the text tokenizer) from the recipe's ids or local folders; reads configs only."""
    from ualm_agent.model_sources import local_model_dir

    # The weights come from the checkpoint: fetch only the backbone's configs and tokenizer.
    folder = local_model_dir(
        backbone, what="ualm backbone", setting="backbone", must_contain=("config.json",),
        allow_patterns=("*.json", "*.txt", "*.model", "merges.txt", "vocab.*"),
    )
    backbone_cfg = json.loads((folder / CONFIG_FILE).read_text())
    if "vocab_size" not in backbone_cfg or "hidden_size" not in backbone_cfg:
        raise ModelUnavailableError(f"ualm backbone: {backbone} is not a causal LM config (no vocab_size/hidden_size)")
    backbone_cfg.setdefault("_name_or_path", backbone)
    config = UalmConfig(
        backbone=backbone_cfg,
        num_streams=num_streams,
        codebook_size=codebook_size,
        codec=codec_spec_from_source(codec),
        encoder=encoder_spec_from_source(encoder, kind=encoder_kind),
        attn_implementation=attn_implementation,
    )
    return config, _tokenizer(folder, source=backbone, required=True)


def build_ualm(
    model: str | None = None,
    *,
    checkpoint: str | None = None,
    backbone: str | None = None,
    codec: str = DEFAULT_CODEC,
    encoder: str = DEFAULT_ENCODER,
    encoder_kind: EncoderKind = "qwen2.5-omni",
    num_streams: int = 8,
    codebook_size: int = 1024,
    attn_implementation: str = "sdpa",
    device: str = "auto",
    dtype: str = "auto",
    trust_pickle: bool = False,
) -> UalmLM:
    """UALM with its weights, on ``device`` in ``dtype``.

    Either ``model`` (a folder written by :func:`save_pretrained`, or a hub id of one), or ``checkpoint``
    (NVIDIA's recipe's DeepSpeed file or folder) with the ``backbone`` id/path it was trained on; ``codec``
    and ``encoder`` (ids or folders) must be the ones in the recipe's training config.

    ``trust_pickle`` (unsafe) lets torch.load unpickle arbitrary objects from the checkpoint, which can run
    code: only for files you trust (see :func:`read_deepspeed_module`).
    """
    from ualm_agent.model_sources import local_model_dir

    if model and checkpoint:
        raise UsageError("ualm: pass either model (a UALM folder) or checkpoint (with backbone), not both")
    if model:
        folder = local_model_dir(model, what="ualm", must_contain=(CONFIG_FILE, WEIGHTS_FILE))
        read_config(folder, source=model)
        return load_pretrained(folder, device=device, dtype=dtype)
    if checkpoint:
        find_model_states(checkpoint)  # a wrong path fails before any config is fetched
        config, tokenizer = config_from_sources(
            backbone=backbone or DEFAULT_BACKBONE,
            codec=codec,
            encoder=encoder,
            encoder_kind=encoder_kind,
            num_streams=num_streams,
            codebook_size=codebook_size,
            attn_implementation=attn_implementation,
        )
        lm = _empty_model(config, tokenizer, device, dtype)
        load_deepspeed_checkpoint(lm, checkpoint, trust_pickle=trust_pickle)
        return _finish(lm)
    raise ModelUnavailableError(
        "ualm: no weights given; pass --model with a UALM folder (saved by save_pretrained), or a checkpoint "
        "trained with NVIDIA's UALM recipe (mp_rank_00_model_states.pt) together with its backbone "
        f"(default {DEFAULT_BACKBONE}); no pretrained UALM is published"
    )
