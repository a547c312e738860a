"""UALM inference: modality choice, audio decoding with CFG and the delay pattern, text decoding.

The prompt is a sequence [L, S] ending in <|assistant|> (see sequence.py). Decoding feeds one frame
of S tokens per step and reads the per-stream logits of the last position.

Classifier-free guidance, as published: the unconditional branch is the same length as the
conditional prompt but every position before the modality token is <|pad|> (zero embedding, no
audio features); both branches then receive the same sampled frames. The two branches run as a
batch of 2 in one forward pass per step, sharing one KV cache object along the batch dimension, and
logits = cfg * cond + (1 - cfg) * uncond, re-masked to the modality. cfg == 1 runs no second branch.

Audio steps read only the head rows of the tokens audio decoding allows (AudioHead); text and the
modality choice use the model's full per-stream logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from . import sampling
from .delay import delay_region, invert_delay

if TYPE_CHECKING:
    import torch

    from .model import UalmLM

Continuous = list[tuple[int, int, "torch.Tensor"]] | None


class _Branches:
    """Runs one or more equal-length prompts step by step; returns last-position logits [B, S, ...].

    use_cache keeps a transformers DynamicCache (one for the whole batch, or one per branch when not
    batched); without it every step recomputes the whole sequence, which the tests use as the
    reference for the cached path.
    """

    def __init__(self, lm: "UalmLM", prompts: "torch.Tensor", continuous: Continuous, *,
                 use_cache: bool, batched: bool, head: Any = None) -> None:
        self.lm, self.use_cache, self.batched = lm, use_cache, batched
        self.head = head or lm.stream_logits  # hidden [B, H] -> logits
        self.ids = prompts.to(lm.device)  # [B, L, S]; grows only without a cache
        self.continuous = continuous or []
        self.length = int(prompts.shape[1])
        self.caches: list[Any] = []

    def _groups(self) -> list[tuple[slice, Continuous]]:
        """Batch slices run together, with the continuous features re-indexed to each slice."""
        if self.batched:
            return [(slice(0, self.ids.shape[0]), self.continuous or None)]
        return [(slice(b, b + 1), [(0, s, f) for (i, s, f) in self.continuous if i == b] or None)
                for b in range(self.ids.shape[0])]

    def _forward(self, embeds: "torch.Tensor", cache: Any, start: int) -> tuple["torch.Tensor", Any]:
        import torch

        positions = torch.arange(start, start + embeds.shape[1], device=embeds.device).unsqueeze(0)
        hidden, cache = self.lm.forward_hidden(embeds, past_key_values=cache, position_ids=positions,
                                               use_cache=cache is not None)
        return self.head(hidden[:, -1]), cache

    def start(self) -> "torch.Tensor":
        """Prefill the prompts; logits for the first new frame."""
        import torch
        from transformers import DynamicCache

        out = []
        for part, cont in self._groups():
            embeds = self.lm.embed(self.ids[part], continuous=cont)
            cache = DynamicCache() if self.use_cache else None
            logits, cache = self._forward(embeds, cache, 0)
            self.caches.append(cache)
            out.append(logits)
        return torch.cat(out, dim=0)

    def step(self, frame: "torch.Tensor") -> "torch.Tensor":
        """Append one frame [S] to every branch; logits for the next frame."""
        import torch

        rows = frame.to(self.ids.device).expand(self.ids.shape[0], 1, -1)
        if self.use_cache:
            out = []
            for (part, _), cache in zip(self._groups(), self.caches):
                logits, _ = self._forward(self.lm.embed(rows[part]), cache, self.length)
                out.append(logits)
            self.length += 1
            return torch.cat(out, dim=0)
        self.ids = torch.cat([self.ids, rows], dim=1)
        self.length += 1
        out = []
        for part, cont in self._groups():
            logits, _ = self._forward(self.lm.embed(self.ids[part], continuous=cont), None, 0)
            out.append(logits)
        return torch.cat(out, dim=0)


def _ends_with(prompt: "torch.Tensor", token: int) -> bool:
    return int(prompt[-1, 0]) == token


def _with_modality(lm: "UalmLM", prompt: "torch.Tensor", modality: str) -> "torch.Tensor":
    """The prompt ending in <|assistant|> <|modality|>; appends what is missing."""
    import torch

    if prompt.ndim != 2 or prompt.shape[1] != lm.num_streams:
        raise ValueError(f"a prompt is [L, {lm.num_streams}], got shape {tuple(prompt.shape)}")
    vocab, streams = lm.vocab, prompt.shape[1]
    token = vocab.special(f"<|{modality}|>")
    if _ends_with(prompt, token) and prompt.shape[0] >= 2 and int(prompt[-2, 0]) == vocab.special("<|assistant|>"):
        return prompt
    if not _ends_with(prompt, vocab.special("<|assistant|>")):
        raise ValueError("the prompt must end with <|assistant|> (build it with build_sequence)")
    row = torch.zeros(1, streams, dtype=torch.long, device=prompt.device)
    row[0, 0] = token
    return torch.cat([prompt, row], dim=0)


def unconditional_prompt(prompt: "torch.Tensor") -> "torch.Tensor":
    """The CFG branch: all <|pad|> except the final modality token, same length as `prompt`."""
    import torch

    uncond = torch.zeros_like(prompt)
    uncond[-1] = prompt[-1]
    return uncond


def _branches(lm: "UalmLM", prompt: "torch.Tensor", continuous: Continuous, cfg_scale: float, *,
              use_cache: bool, batched_cfg: bool, head: Any = None) -> _Branches:
    import torch

    if cfg_scale < 1.0:
        raise ValueError(f"cfg_scale must be >= 1 (1 disables guidance), got {cfg_scale}")
    if cfg_scale == 1.0:
        return _Branches(lm, prompt.unsqueeze(0), continuous, use_cache=use_cache, batched=True, head=head)
    both = torch.stack([prompt, unconditional_prompt(prompt)])
    cond_only = [(0, s, f) for (b, s, f) in (continuous or []) if b == 0]
    return _Branches(lm, both, cond_only, use_cache=use_cache, batched=batched_cfg, head=head)


def _guided(logits: "torch.Tensor", cfg_scale: float, mask: "torch.Tensor") -> "torch.Tensor":
    """[B, S, K] branch logits -> [S, K] masked (and guided when there are two branches)."""
    if logits.shape[0] == 1:
        return sampling.apply_mask(logits[0], mask)
    return sampling.cfg_combine(logits[0], logits[1], cfg_scale, mask)


def choose_modality(lm: "UalmLM", prompt: "torch.Tensor", *, continuous: Continuous = None,
                    allowed: Sequence[str] = ("text", "audio")) -> str:
    """The reply's modality: argmax over the allowed modality tokens after <|assistant|>."""
    import torch

    if not _ends_with(prompt, lm.vocab.special("<|assistant|>")):
        raise ValueError("the prompt must end with <|assistant|> (build it with build_sequence)")
    with torch.inference_mode():
        logits = _Branches(lm, prompt.unsqueeze(0), continuous, use_cache=False, batched=True).start()
        mask = sampling.modality_mask(lm.vocab, lm.num_streams, allowed, device=logits.device)
        token = int(sampling.apply_mask(logits[0, 0], mask[0]).argmax())
    return next(name for name in allowed if lm.vocab.special(f"<|{name}|>") == token)


class AudioHead:
    """Audio logits of the allowed ids only, in a compact layout [B, S, K].

    Column k of stream n stands for id `table[n, k]`: the stream's interval (its pad first, then the
    codes) and, for stream 0, <|eos|> and <|eot|> after it; `valid` marks the columns that exist.
    The values equal UalmLM.stream_logits at those ids (stream 0 reads the head at the hidden state,
    stream n at hidden + stream_emb[n]), but a step multiplies 8 x 1,025 + 2 rows of the head instead
    of the whole vocabulary, the largest single read of a step (a sixth of the weights at 1.5 B).
    """

    def __init__(self, lm: "UalmLM") -> None:
        import torch

        vocab, streams = lm.vocab, lm.num_streams
        size = vocab.stream_size
        stops = [vocab.special(t) for t in sampling.STOP_TOKENS]
        table = torch.empty(streams, size + len(stops), dtype=torch.long)
        for n in range(streams):
            start, end = vocab.stream_interval(n)
            table[n, :size] = torch.arange(start, end)
            table[n, size:] = torch.tensor(stops) if n == 0 else start
        self.valid = torch.ones_like(table, dtype=torch.bool)
        self.valid[1:, size:] = False
        self.stop_columns = list(range(size, size + len(stops)))
        self.table = table.to(lm.device)
        self.valid = self.valid.to(lm.device)
        self.weight = lm.lm_head.weight[self.table]  # [S, K, H], gathered once per decoding
        self.shift = lm.stream_emb.weight.clone()
        self.shift[0] = 0  # stream 0 reads the head at the hidden state itself

    def __call__(self, hidden: "torch.Tensor") -> "torch.Tensor":
        import torch

        shifted = hidden.to(self.weight.dtype).unsqueeze(-2) + self.shift  # [B, S, H]
        logits = torch.einsum("bsh,skh->bsk", shifted, self.weight)
        return logits.masked_fill(~self.valid, float("-inf"))

    def ids(self, columns: "torch.Tensor") -> "torch.Tensor":
        """Token ids [S] of one chosen column per stream."""
        return self.table.gather(1, columns.unsqueeze(1)).squeeze(1)


@dataclass
class AudioDecoding:
    """Raw result of audio decoding: delayed frames [D, S] (stop frame excluded) and the stop token."""

    delayed: "torch.Tensor"
    stop: int | None

    def codes(self, vocab) -> "torch.Tensor":
        """Codec codes [T, S], the delay inverted; pads become -1.

        T = D - (S - 1): a stop that comes before the delay tail is complete drops the last frames, which
        not every stream has reached.
        """
        return vocab.ids_to_codes(invert_delay(self.delayed))


def decode_audio(lm: "UalmLM", cond: "torch.Tensor", *, continuous: Continuous = None, max_frames: int,
                 min_frames: int = 0, cfg_scale: float = 3.0, top_k: int = 20, temperature: float = 0.8,
                 generator: "torch.Generator | int | None" = None, use_cache: bool = True,
                 batched_cfg: bool = True) -> AudioDecoding:
    """Sample delayed audio frames until <|eos|>/<|eot|> in stream 0 or max_frames whole frames.

    Stream n is forced to its pad while it sits in the delay pattern's leading region (the first n
    delayed frames) and, once max_frames is reached, in its trailing region; so at most
    max_frames + S - 1 frames are decoded and they always invert to whole audio frames. min_frames
    holds back <|eos|>/<|eot|> until that many whole frames exist (none before, as published).
    """
    import torch

    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    streams = lm.num_streams
    stops = {lm.vocab.special(t) for t in sampling.STOP_TOKENS}
    prompt = _with_modality(lm, cond, "audio")
    with torch.inference_mode():
        head = AudioHead(lm)
        branches = _branches(lm, prompt, continuous, cfg_scale, use_cache=use_cache, batched_cfg=batched_cfg,
                             head=head)
        gen = sampling.make_generator(generator, lm.device)
        logits = branches.start()
        no_stop = head.valid.clone()
        no_stop[0, head.stop_columns] = False
        frames: list[torch.Tensor] = []
        stop = None
        last = max_frames + streams - 1
        for step in range(last):
            mask = no_stop if min_frames > 0 and step < min(min_frames, max_frames) + streams - 1 else head.valid
            for n, forced in enumerate(delay_region(step, streams, max_frames)):
                if forced:
                    mask = sampling.only(mask, n, 0)  # column 0 is the stream's pad
            columns = sampling.top_k_sample(_guided(logits, cfg_scale, mask), top_k=top_k,
                                            temperature=temperature, generator=gen)
            frame = head.ids(columns)
            if int(frame[0]) in stops:
                stop = int(frame[0])
                break
            frames.append(frame)
            if step + 1 < last:
                logits = branches.step(frame)
        delayed = torch.stack(frames) if frames else torch.zeros(0, streams, dtype=torch.long, device=lm.device)
    return AudioDecoding(delayed, stop)


def generate_audio(lm: "UalmLM", cond: "torch.Tensor", *, continuous: Continuous = None, max_frames: int,
                   min_frames: int = 0, cfg_scale: float = 3.0, top_k: int = 20, temperature: float = 0.8,
                   generator: "torch.Generator | int | None" = None, use_cache: bool = True,
                   batched_cfg: bool = True) -> "torch.Tensor":
    """Codec codes [T, S] (T <= max_frames; -1 where a stream emitted its pad) for the prompt `cond`.

    `cond` ends with <|assistant|> (the <|audio|> token is appended) or <|assistant|> <|audio|>.
    `continuous` places audio features in the conditional branch, as UalmLM.embed takes them.
    A seed or torch.Generator makes the draws reproducible.
    """
    result = decode_audio(lm, cond, continuous=continuous, max_frames=max_frames, min_frames=min_frames,
                          cfg_scale=cfg_scale, top_k=top_k, temperature=temperature, generator=generator,
                          use_cache=use_cache, batched_cfg=batched_cfg)
    return result.codes(lm.vocab)


def generate_text(lm: "UalmLM", prefix: "torch.Tensor", *, max_tokens: int, stop: Sequence[int] | None = None,
                  greedy: bool = True, top_k: int = 20, temperature: float = 0.8, cfg_scale: float = 1.0,
                  continuous: Continuous = None, generator: "torch.Generator | int | None" = None,
                  use_cache: bool = True, batched_cfg: bool = True) -> list[int]:
    """UALM ids of the generated text (stream 0), the stop token excluded.

    `prefix` ends with <|assistant|> (the <|text|> token is appended) or <|assistant|> <|text|>.
    Decoding is masked to the text vocabulary plus <|eos|>/<|eot|>; it stops at a token in `stop`
    (default <|eos|> and <|eot|>) or after max_tokens. sequence.decode_text turns the ids into a string.
    """
    import torch

    vocab, streams = lm.vocab, lm.num_streams
    stops = set(stop) if stop is not None else {vocab.special(t) for t in sampling.STOP_TOKENS}
    prompt = _with_modality(lm, prefix, "text")
    out: list[int] = []
    with torch.inference_mode():
        branches = _branches(lm, prompt, continuous, cfg_scale, use_cache=use_cache, batched_cfg=batched_cfg)
        gen = sampling.make_generator(generator, lm.device)
        logits = branches.start()
        mask = sampling.text_mask(vocab, streams, device=logits.device)
        frame = torch.zeros(streams, dtype=torch.long, device=logits.device)
        for step in range(max_tokens):
            # Only stream 0 carries text; the other streams hold <|pad|>.
            row = _guided(logits[:, :1], cfg_scale, mask[:1])
            token = int(sampling.choose(row, greedy_choice=greedy, top_k=top_k, temperature=temperature,
                                        generator=gen)[0])
            if token in stops:
                break
            out.append(token)
            if step + 1 < max_tokens:
                frame[0] = token
                logits = branches.step(frame)
    return out
