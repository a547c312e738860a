"""Token choice for UALM decoding: masks per modality, classifier-free guidance, top-k sampling.

Logits here are per stream, [..., S, V]. A mask is a boolean tensor [S, V] that is True where a
token is allowed; masked logits are -inf elsewhere.

Modalities (as in the published recipe):
  - audio: stream 0 takes its audio interval (pad and codes) plus <|eos|>/<|eot|>; stream n>=1 its
    own interval;
  - text: stream 0 takes the text vocabulary plus <|eos|>/<|eot|>; the other streams only <|pad|>;
  - modality choice (right after <|assistant|>): stream 0 takes the allowed modality tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from .vocabulary import UalmVocabulary

MODALITIES = ("text", "audio", "speech", "image", "video", "toolcall")
STOP_TOKENS = ("<|eos|>", "<|eot|>")


def _empty(vocab: "UalmVocabulary", num_streams: int, device) -> "torch.Tensor":
    import torch

    return torch.zeros(num_streams, vocab.size, dtype=torch.bool, device=device)


def _stop_ids(vocab: "UalmVocabulary") -> list[int]:
    return [vocab.special(t) for t in STOP_TOKENS]


def audio_mask(vocab: "UalmVocabulary", num_streams: int, device=None) -> "torch.Tensor":
    mask = _empty(vocab, num_streams, device)
    for n in range(num_streams):
        start, end = vocab.stream_interval(n)
        mask[n, start:end] = True
    mask[0, _stop_ids(vocab)] = True
    return mask


def text_mask(vocab: "UalmVocabulary", num_streams: int, device=None) -> "torch.Tensor":
    mask = _empty(vocab, num_streams, device)
    mask[0, vocab.text_start:vocab.audio_start] = True
    mask[0, _stop_ids(vocab)] = True
    mask[1:, vocab.special("<|pad|>")] = True
    return mask


def modality_mask(vocab: "UalmVocabulary", num_streams: int, allowed: Iterable[str] = ("text", "audio"),
                  device=None) -> "torch.Tensor":
    mask = _empty(vocab, num_streams, device)
    for name in allowed:
        if name not in MODALITIES:
            raise ValueError(f"unknown modality {name!r}; expected one of {', '.join(MODALITIES)}")
        mask[0, vocab.special(f"<|{name}|>")] = True
    mask[1:, vocab.special("<|pad|>")] = True
    return mask


def mask_for(modality: str, vocab: "UalmVocabulary", num_streams: int, device=None) -> "torch.Tensor":
    if modality == "audio":
        return audio_mask(vocab, num_streams, device)
    if modality == "text":
        return text_mask(vocab, num_streams, device)
    raise ValueError(f"decoding of modality {modality!r} is not supported (text and audio are)")


def only(mask: "torch.Tensor", stream: int, token: int) -> "torch.Tensor":
    """A copy of `mask` whose row `stream` allows `token` alone (a forced token)."""
    out = mask.clone()
    out[stream] = False
    out[stream, token] = True
    return out


def apply_mask(logits: "torch.Tensor", mask: "torch.Tensor") -> "torch.Tensor":
    return logits.masked_fill(~mask, float("-inf"))


def cfg_combine(cond: "torch.Tensor", uncond: "torch.Tensor", scale: float,
                mask: "torch.Tensor | None" = None) -> "torch.Tensor":
    """scale * cond + (1 - scale) * uncond, re-masked.

    Disallowed entries are -inf in both branches, and -inf * (1 - scale) is +inf for scale > 1, so the
    sum is NaN there: re-masking to `mask` (or, without one, to where `cond` is finite) restores -inf.
    """
    import torch

    # In float32: with bf16 logits the difference of two scaled branches would lose most of its bits.
    mixed = scale * cond.float() + (1.0 - scale) * uncond.float()
    keep = mask if mask is not None else torch.isfinite(cond)
    return mixed.masked_fill(~keep, float("-inf"))


def greedy(logits: "torch.Tensor") -> "torch.Tensor":
    return logits.argmax(dim=-1)


def top_k_sample(logits: "torch.Tensor", *, top_k: int = 20, temperature: float = 0.8,
                 generator: "torch.Generator | None" = None) -> "torch.Tensor":
    """Keep the k best logits, divide them by the temperature, draw one; [..., V] -> [...].

    Rows with fewer than k allowed tokens work too: their -inf candidates get probability 0.
    """
    import torch

    if temperature <= 0:
        return greedy(logits)
    k = min(top_k, logits.shape[-1]) if top_k > 0 else logits.shape[-1]
    values, indices = logits.float().topk(k, dim=-1)
    probs = torch.softmax(values / temperature, dim=-1)
    drawn = torch.multinomial(probs.reshape(-1, k), 1, generator=generator)
    return indices.reshape(-1, k).gather(-1, drawn).reshape(logits.shape[:-1])


def choose(logits: "torch.Tensor", *, greedy_choice: bool, top_k: int, temperature: float,
           generator: "torch.Generator | None") -> "torch.Tensor":
    if greedy_choice:
        return greedy(logits)
    return top_k_sample(logits, top_k=top_k, temperature=temperature, generator=generator)


def make_generator(seed_or_generator: "torch.Generator | int | None", device) -> "torch.Generator | None":
    """A seed becomes a generator on the model's device, so a seed reproduces the same draws."""
    import torch

    if seed_or_generator is None or isinstance(seed_or_generator, torch.Generator):
        return seed_or_generator
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed_or_generator) % 2**64)  # torch takes 64 bits; a run's seed plus its round may pass them
    return gen
