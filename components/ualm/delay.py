"""UALM's delay pattern: audio stream n is shifted right by n frames.

Codes of T frames and S streams become T + S - 1 delayed frames. The slots a stream has not reached
yet (its first n frames) and has already left (its last S - 1 - n frames) hold that stream's own pad
token. Work on any leading batch dimensions: tensors are [..., T, S].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _pad_row(pad: Sequence[int] | int, num_streams: int, like: "torch.Tensor") -> "torch.Tensor":
    import torch

    values = [int(pad)] * num_streams if isinstance(pad, int) else [int(p) for p in pad]
    if len(values) != num_streams:
        raise ValueError(f"{len(values)} pad ids for {num_streams} streams")
    return torch.tensor(values, dtype=like.dtype, device=like.device)


def apply_delay(codes: "torch.Tensor", pad: Sequence[int] | int) -> "torch.Tensor":
    """[..., T, S] -> [..., T + S - 1, S]; `pad` is one id for all streams or one per stream."""
    frames, streams = codes.shape[-2], codes.shape[-1]
    out = _pad_row(pad, streams, codes).expand(*codes.shape[:-2], frames + streams - 1, streams).clone()
    for n in range(streams):
        out[..., n:n + frames, n] = codes[..., n]
    return out


def invert_delay(delayed: "torch.Tensor") -> "torch.Tensor":
    """[..., T + S - 1, S] -> [..., T, S]. Fewer than S - 1 delayed frames hold no whole frame: T = 0."""
    import torch

    length, streams = delayed.shape[-2], delayed.shape[-1]
    frames = max(length - streams + 1, 0)
    return torch.stack([delayed[..., n:n + frames, n] for n in range(streams)], dim=-1)


def delay_region(step: int, num_streams: int, num_frames: int | None = None) -> list[bool]:
    """Which streams sit in a delay region at delayed frame `step` (decoding may hold them to their pad).

    Stream n carries content at delayed frames [n, n + num_frames); before that it has not started.
    With `num_frames` None the end is open (decoding has not decided the length yet), so only the
    leading region counts.
    """
    return [step < n or (num_frames is not None and step >= num_frames + n) for n in range(num_streams)]
