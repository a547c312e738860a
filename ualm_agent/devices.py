"""Device and precision for torch backends.

Backends whose settings subclass :class:`TorchSettings` take ``device`` and
``dtype``; the CLI's ``--device`` / ``--dtype`` (and the config's top-level
``device`` / ``dtype``) fill them in for every such backend at once. torch is
imported only when a device is actually resolved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .errors import UsageError
from .registry import BackendConfig

if TYPE_CHECKING:
    import torch

DTYPES: dict[str, str] = {
    "float32": "float32",
    "fp32": "float32",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
}
DtypeName = Literal["auto", "float32", "fp32", "float16", "fp16", "half", "bfloat16", "bf16"]


class TorchSettings(BackendConfig):
    """Settings every torch backend shares."""

    device: str = "auto"
    dtype: DtypeName = "auto"


def check_device_name(name: str) -> str:
    """Validate ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` without importing torch."""
    if name in ("auto", "cpu", "cuda") or (name.startswith("cuda:") and name[5:].isdigit()):
        return name
    raise UsageError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")


def check_dtype_name(name: str) -> str:
    if name == "auto" or name in DTYPES:
        return name
    raise UsageError(f"unknown dtype {name!r}; use auto, {', '.join(sorted(set(DTYPES.values())))}")


def resolve_device(name: str = "auto") -> "torch.device":
    """``auto`` picks CUDA when available; asking for CUDA without one is a usage error."""
    import torch

    check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name} was asked for, but this torch build sees no CUDA GPU; use --device cpu")
        index = int(name[5:]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise UsageError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) present")
    return torch.device(name)


def resolve_dtype(name: str, device: "torch.device") -> "torch.dtype":
    """``auto`` is bfloat16 on GPUs that support it, float16 on older GPUs, float32 on CPU."""
    import torch

    check_dtype_name(name)
    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, DTYPES[name])


def resolve(device: "str | torch.device" = "auto", dtype: "str | torch.dtype" = "auto") -> tuple["torch.device", "torch.dtype"]:
    """torch objects from setting names (``auto``, ``cuda``, ``bf16``...); torch objects pass through."""
    import torch

    dev = device if isinstance(device, torch.device) else resolve_device(str(device))
    typ = dtype if isinstance(dtype, torch.dtype) else resolve_dtype(str(dtype), dev)
    return dev, typ
