"""UALM's token layout: 256 special slots, the text vocabulary, then the audio streams.

Audio stream ``n`` owns ``1 + codebook_size`` ids: its own pad token first, then
one id per codec code. Stream 0 of a frame may also hold special or text ids;
the other streams hold only their own interval (or a pad). The layout matches
NVIDIA's UALM recipe, where the text IO comes before the discrete audio IO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

NUM_SPECIAL = 256
_NAMED_SPECIALS = (
    "<|pad|>",
    "<|bos|>",
    "<|eos|>",
    "<|eot|>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|text|>",
    "<|audio|>",
    "<|speech|>",
    "<|image|>",
    "<|video|>",
    "<|toolcall|>",
)
SPECIAL_TOKENS: tuple[str, ...] = _NAMED_SPECIALS + tuple(
    f"<|unused_{i}|>" for i in range(len(_NAMED_SPECIALS), NUM_SPECIAL)
)
_SPECIAL_IDS = {name: i for i, name in enumerate(SPECIAL_TOKENS)}
PAD_ID = 0


@dataclass(frozen=True)
class UalmVocabulary:
    """Id arithmetic for one backbone's text vocabulary size."""

    text_size: int
    num_streams: int = 8
    codebook_size: int = 1024

    def __post_init__(self) -> None:
        if self.text_size <= 0 or self.num_streams <= 0 or self.codebook_size <= 0:
            raise ValueError(f"invalid UALM vocabulary {self}")

    @property
    def text_start(self) -> int:
        return NUM_SPECIAL

    @property
    def audio_start(self) -> int:
        return NUM_SPECIAL + self.text_size

    @property
    def stream_size(self) -> int:
        return 1 + self.codebook_size

    @property
    def size(self) -> int:
        return self.audio_start + self.num_streams * self.stream_size

    def special(self, name: str) -> int:
        """Id of a special token by name, with or without the ``<|...|>`` brackets."""
        key = name if name.startswith("<|") else f"<|{name}|>"
        try:
            return _SPECIAL_IDS[key]
        except KeyError:
            raise KeyError(f"no UALM special token {name!r}") from None

    def special_name(self, token_id: int) -> str:
        """Name of a special token by id."""
        if not 0 <= token_id < NUM_SPECIAL:
            raise ValueError(f"id {token_id} is not a special token (they are below {NUM_SPECIAL})")
        return SPECIAL_TOKENS[token_id]

    def stream_interval(self, n: int) -> tuple[int, int]:
        """``(start, end)`` of audio stream ``n``; ``start`` is its pad token, ``end`` is exclusive."""
        if not 0 <= n < self.num_streams:
            raise IndexError(f"stream {n} out of range 0..{self.num_streams - 1}")
        start = self.audio_start + n * self.stream_size
        return start, start + self.stream_size

    def stream_pad(self, n: int) -> int:
        return self.stream_interval(n)[0]

    def stream_starts(self, device: "torch.device | str | None" = None) -> "torch.Tensor":
        """Pad ids of all streams as a LongTensor [num_streams]."""
        import torch

        return torch.tensor([self.stream_pad(n) for n in range(self.num_streams)], dtype=torch.long, device=device)

    def codes_to_ids(self, codes: "torch.Tensor") -> "torch.Tensor":
        """Codec codes ``[..., S]`` to token ids; a negative code becomes its stream's pad."""
        import torch

        self._check_streams(codes)
        if codes.numel() and int(codes.max()) >= self.codebook_size:
            raise ValueError(f"code {int(codes.max())} out of range; codes are below {self.codebook_size}")
        pads = self.stream_starts(codes.device)
        codes = codes.long()
        return torch.where(codes < 0, pads, pads + 1 + codes)

    def ids_to_codes(self, ids: "torch.Tensor") -> "torch.Tensor":
        """Token ids ``[..., S]`` to codec codes; pad ids (the stream's own or ``<|pad|>``) become -1."""
        import torch

        self._check_streams(ids)
        pads = self.stream_starts(ids.device)
        ids = ids.long()
        codes = ids - pads - 1
        is_pad = (ids == pads) | (ids == PAD_ID)
        bad = ~is_pad & ((codes < 0) | (codes >= self.codebook_size))
        if bool(bad.any()):
            first = int(ids[bad].flatten()[0])
            raise ValueError(f"token id {first} is not an audio code of its stream")
        return torch.where(is_pad, torch.full_like(codes, -1), codes)

    def text_ids(self, tokens: "torch.Tensor | list[int]") -> "torch.Tensor | list[int]":
        """Text tokenizer ids to UALM ids (offset by the special slots)."""
        if isinstance(tokens, list):
            return [self._check_text(t) + NUM_SPECIAL for t in tokens]
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= self.text_size):
            raise ValueError("text token id out of the text vocabulary")
        return tokens + NUM_SPECIAL

    def text_tokens(self, ids: "torch.Tensor | list[int]") -> "torch.Tensor | list[int]":
        """UALM ids in the text interval back to text tokenizer ids."""
        if isinstance(ids, list):
            return [self._check_text(i - NUM_SPECIAL) for i in ids]
        if ids.numel() and (int(ids.min()) < self.text_start or int(ids.max()) >= self.audio_start):
            raise ValueError("id outside the text interval")
        return ids - NUM_SPECIAL

    def is_text(self, token_id: int) -> bool:
        return self.text_start <= token_id < self.audio_start

    def _check_text(self, token: int) -> int:
        if not 0 <= token < self.text_size:
            raise ValueError(f"text token id {token} out of the text vocabulary (size {self.text_size})")
        return token

    def _check_streams(self, x: "torch.Tensor") -> None:
        if x.ndim < 1 or x.shape[-1] != self.num_streams:
            raise ValueError(f"expected a last dimension of {self.num_streams} streams, got shape {tuple(x.shape)}")
