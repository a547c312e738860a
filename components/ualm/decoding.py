"""UALM inference: modality choice, audio decoding with CFG and the delay pattern, text decoding, and
answers of several segments.

The prompt is a sequence [L, S] ending in <|assistant|> (see sequence.py). Decoding feeds one frame
of S tokens per step and reads the per-stream logits of the last position.

Audio, as the recipe decodes it: every stream is sampled freely inside its interval at every step,
the delay regions included (forcing each stream's pad there is an option), and the model ends the
audio itself with <|eos|>/<|eot|> in stream 0, or the step cap (1,024 delayed frames) ends it. The
codes are the delay inverted; whatever a stream holds outside its own span is dropped, and a pad
inside it becomes code -1, which the codec decodes as 0.

Classifier-free guidance, as published: the unconditional branch is the same length as the
conditional prompt but every position before the modality token is <|pad|> (zero embedding, no
audio features); both branches then receive the same sampled frames. The two branches run as a
batch of 2 in one forward pass per step, sharing one KV cache object along the batch dimension, and
logits = cfg * cond + (1 - cfg) * uncond, re-masked to the modality. cfg == 1 runs no second branch.

A segment that ends in <|eot|> does not end the answer: as in the recipe, another assistant
segment follows (<|assistant|>, a modality the model chooses or is told, its content), up to
`max_segments` (see generate_segments).

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


def modality_logits(lm: "UalmLM", prompt: "torch.Tensor", *, continuous: Continuous = None,
                    allowed: Sequence[str] = ("text", "audio")) -> "torch.Tensor":
    """Stream-0 logits [V] after <|assistant|>, -inf outside the allowed modality tokens."""
    import torch

    if not _ends_with(prompt, lm.vocab.special("<|assistant|>")):
        raise ValueError("the prompt must end with <|assistant|> (build it with build_sequence)")
    with torch.inference_mode():
        logits = _Branches(lm, prompt.unsqueeze(0), continuous, use_cache=False, batched=True).start()
        mask = sampling.modality_mask(lm.vocab, lm.num_streams, allowed, device=logits.device)
        return sampling.apply_mask(logits[0, 0], mask[0])


def choose_modality(lm: "UalmLM", prompt: "torch.Tensor", *, continuous: Continuous = None,
                    allowed: Sequence[str] = ("text", "audio")) -> str:
    """The reply's modality: argmax over the allowed modality tokens after <|assistant|>."""
    token = int(modality_logits(lm, prompt, continuous=continuous, allowed=allowed).argmax())
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

    def to_vocab(self, logits: "torch.Tensor", size: int) -> "torch.Tensor":
        """Compact logits [S, K] spread over the whole vocabulary [S, V], -inf at the ids not read."""
        import torch

        out = torch.full((logits.shape[0], size), float("-inf"), dtype=logits.dtype, device=logits.device)
        # Missing columns point at the stream's pad as well: the max keeps the pad's own value.
        return out.scatter_reduce(1, self.table, logits.masked_fill(~self.valid, float("-inf")), reduce="amax")


RECIPE_AUDIO_STEPS = 1024  # the recipe's cap on audio decoding: 1,024 delayed frames, about 20 s


def fixed_length(frames: int, num_streams: int) -> dict[str, int]:
    """decode_audio options for exactly `frames` whole frames: no stop before them, the cap right after."""
    if frames < 1:
        raise ValueError(f"a fixed length needs at least one frame, got {frames}")
    return {"max_steps": frames + num_streams - 1, "min_frames": frames}


@dataclass
class AudioDecoding:
    """Raw result of audio decoding: the delayed frames as sampled [D, S] (stop frame excluded), the stop
    token (None when the step cap ended it) and, when kept, each step's guided logits [steps, S, V]."""

    delayed: "torch.Tensor"
    stop: int | None
    logits: "torch.Tensor | None" = None

    def codes(self, vocab) -> "torch.Tensor":
        """Codec codes [T, S], the delay inverted, as the recipe reads them; a pad becomes -1.

        T = D - (S - 1). Stream n contributes delayed frames n .. n + T - 1 only: what it held before
        (its leading delay region) and after (frames stream S - 1 did not reach) is dropped.
        """
        return vocab.ids_to_codes(invert_delay(self.delayed))


def _pads_forced(mask: "torch.Tensor", step: int, streams: int, frames: int | None) -> "torch.Tensor":
    """`mask` with every stream that sits in a delay region at `step` held to its pad (column 0)."""
    for n, forced in enumerate(delay_region(step, streams, frames)):
        if forced:
            mask = sampling.only(mask, n, 0)
    return mask


def decode_audio(lm: "UalmLM", cond: "torch.Tensor", *, continuous: Continuous = None,
                 max_steps: int = RECIPE_AUDIO_STEPS, min_frames: int = 0, force_delay_pads: bool = False,
                 cfg_scale: float = 3.0, top_k: int = 20, temperature: float = 0.8,
                 generator: "torch.Generator | int | None" = None, use_cache: bool = True,
                 batched_cfg: bool = True, keep_logits: bool = False) -> AudioDecoding:
    """Sample delayed audio frames until <|eos|>/<|eot|> in stream 0 or max_steps frames, as the recipe does.

    Every stream is sampled inside its own interval at every step. force_delay_pads instead holds
    stream n to its pad in its leading delay region (the first n frames) and, over the last S - 1
    steps before the cap, in its trailing one. min_frames holds <|eos|>/<|eot|> back until that many
    whole frames exist (the recipe holds none back); fixed_length() gives the options of an exact
    length. keep_logits keeps each step's guided, masked logits over the whole vocabulary.
    temperature 0 decodes greedily.
    """
    import torch

    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    streams = lm.num_streams
    stops = {lm.vocab.special(t) for t in sampling.STOP_TOKENS}
    prompt = _with_modality(lm, cond, "audio")
    capped_frames = max(max_steps - streams + 1, 0)
    with torch.inference_mode():
        head = AudioHead(lm)
        branches = _branches(lm, prompt, continuous, cfg_scale, use_cache=use_cache, batched_cfg=batched_cfg,
                             head=head)
        gen = sampling.make_generator(generator, lm.device)
        logits = branches.start()
        no_stop = head.valid.clone()
        no_stop[0, head.stop_columns] = False
        frames: list[torch.Tensor] = []
        kept: list[torch.Tensor] = []
        stop = None
        for step in range(max_steps):
            mask = no_stop if min_frames > 0 and step < min_frames + streams - 1 else head.valid
            if force_delay_pads:
                mask = _pads_forced(mask, step, streams, capped_frames)
            guided = _guided(logits, cfg_scale, mask)
            if keep_logits:
                kept.append(head.to_vocab(guided, lm.vocab.size))
            frame = head.ids(sampling.top_k_sample(guided, top_k=top_k, temperature=temperature, generator=gen))
            if int(frame[0]) in stops:
                stop = int(frame[0])
                break
            frames.append(frame)
            if step + 1 < max_steps:
                logits = branches.step(frame)
        delayed = torch.stack(frames) if frames else torch.zeros(0, streams, dtype=torch.long, device=lm.device)
    return AudioDecoding(delayed, stop, torch.stack(kept) if keep_logits else None)


def generate_audio(lm: "UalmLM", cond: "torch.Tensor", **options: Any) -> "torch.Tensor":
    """Codec codes [T, S] (-1 where a stream emitted its pad) for the prompt `cond`; decode_audio's options.

    `cond` ends with <|assistant|> (the <|audio|> token is appended) or <|assistant|> <|audio|>.
    `continuous` places audio features in the conditional branch, as UalmLM.embed takes them.
    A seed or torch.Generator makes the draws reproducible.
    """
    return decode_audio(lm, cond, **options).codes(lm.vocab)


@dataclass
class TextDecoding:
    """Generated text: UALM ids of stream 0 (stop excluded), the stop token (None at the token cap) and,
    when kept, each step's masked stream-0 logits [steps, V]."""

    ids: list[int]
    stop: int | None
    logits: "torch.Tensor | None" = None


def decode_text_tokens(lm: "UalmLM", prefix: "torch.Tensor", *, max_tokens: int, stop: Sequence[int] | None = None,
                       greedy: bool = True, top_k: int = 20, temperature: float = 0.8, cfg_scale: float = 1.0,
                       continuous: Continuous = None, generator: "torch.Generator | int | None" = None,
                       use_cache: bool = True, batched_cfg: bool = True, keep_logits: bool = False) -> TextDecoding:
    """Text after `prefix`, which ends with <|assistant|> (<|text|> is appended) or <|assistant|> <|text|>.

    Decoding is masked to the text vocabulary plus <|eos|>/<|eot|>; it stops at a token in `stop`
    (default <|eos|> and <|eot|>) or after max_tokens. sequence.decode_text turns the ids into a string.
    """
    import torch

    vocab, streams = lm.vocab, lm.num_streams
    stops = set(stop) if stop is not None else {vocab.special(t) for t in sampling.STOP_TOKENS}
    prompt = _with_modality(lm, prefix, "text")
    out: list[int] = []
    kept: list[torch.Tensor] = []
    ended = None
    with torch.inference_mode():
        branches = _branches(lm, prompt, continuous, cfg_scale, use_cache=use_cache, batched_cfg=batched_cfg)
        gen = sampling.make_generator(generator, lm.device)
        logits = branches.start()
        mask = sampling.text_mask(vocab, streams, device=logits.device)
        frame = torch.zeros(streams, dtype=torch.long, device=logits.device)
        for step in range(max_tokens):
            # Only stream 0 carries text; the other streams hold <|pad|>.
            row = _guided(logits[:, :1], cfg_scale, mask[:1])
            if keep_logits:
                kept.append(row[0])
            token = int(sampling.choose(row, greedy_choice=greedy, top_k=top_k, temperature=temperature,
                                        generator=gen)[0])
            if token in stops:
                ended = token
                break
            out.append(token)
            if step + 1 < max_tokens:
                frame[0] = token
                logits = branches.step(frame)
    return TextDecoding(out, ended, torch.stack(kept) if keep_logits else None)


def generate_text(lm: "UalmLM", prefix: "torch.Tensor", **options: Any) -> list[int]:
    """UALM ids of the generated text (stream 0), the stop token excluded; decode_text_tokens' options."""
    return decode_text_tokens(lm, prefix, **options).ids


# --- answers of several segments -------------------------------------------------------------------

@dataclass(kw_only=True)
class AudioOptions:
    """decode_audio's sampling settings; the defaults are the recipe's."""

    max_steps: int = RECIPE_AUDIO_STEPS
    min_frames: int = 0
    force_delay_pads: bool = False
    cfg_scale: float = 3.0
    top_k: int = 20
    temperature: float = 0.8


@dataclass(kw_only=True)
class TextOptions:
    """decode_text_tokens' sampling settings; the defaults are the recipe's (greedy, no guidance)."""

    max_tokens: int = 384
    greedy: bool = True
    top_k: int = 20
    temperature: float = 0.8
    cfg_scale: float = 1.0


@dataclass
class Segment:
    """One assistant segment of an answer: its modality and its decoding."""

    modality: str
    decoded: AudioDecoding | TextDecoding

    @property
    def stop(self) -> int | None:
        return self.decoded.stop

    def rows(self, lm: "UalmLM") -> "torch.Tensor":
        """The segment as the model saw it: modality token, the frames fed back, the stop token [N, S]."""
        import torch

        from .sequence import special_row

        streams = lm.num_streams
        if isinstance(self.decoded, AudioDecoding):
            content = self.decoded.delayed.cpu()
        else:  # the ids exactly as decoding fed them (text_rows would turn tokenizer id 0 into <|pad|>)
            content = torch.zeros(len(self.decoded.ids), streams, dtype=torch.long)
            content[:, 0] = torch.tensor(self.decoded.ids, dtype=torch.long)
        parts = [special_row(lm.vocab, f"<|{self.modality}|>", streams), content]
        if self.stop is not None:
            parts.append(special_row(lm.vocab, lm.vocab.special_name(self.stop), streams))
        return torch.cat(parts)


def _next_modality(lm: "UalmLM", prompt: "torch.Tensor", continuous: Continuous, allowed: Sequence[str]) -> str:
    if len(allowed) == 1:
        return allowed[0]
    return choose_modality(lm, prompt, continuous=continuous, allowed=allowed)


def generate_segments(lm: "UalmLM", prompt: "torch.Tensor", *, continuous: Continuous = None,
                      first: str | None = None, then: Sequence[str] = ("text", "audio"), max_segments: int = 4,
                      audio: AudioOptions | None = None, text: TextOptions | None = None,
                      generator: "torch.Generator | int | None" = None, use_cache: bool = True,
                      batched_cfg: bool = True) -> list[Segment]:
    """An answer of assistant segments, continued after each <|eot|>.

    The continuation follows the recipe's training format (`... <|eot|> <|assistant|> <|modality|> ...`).
    NVIDIA's inference loop differs on purpose here: it feeds the whole prompt and <|assistant|> again
    on top of its cache for each new segment, and lets the model choose even the first modality; a
    role here needs its own modality first (audio for the generator, text for the others).

    `prompt` ends with <|assistant|>. The first segment takes modality `first`, or the model's choice
    among `then`. A segment that ends in <|eot|> is written back (modality token, its frames, <|eot|>)
    and followed by <|assistant|> and another segment, whose modality the model chooses among `then`
    (or is told, when `then` names one). The answer ends with a segment that ends otherwise
    (<|eos|>, or its cap) or after max_segments segments; then the last segment still ends in <|eot|>.
    """
    import torch

    from .sequence import special_row

    if max_segments < 1:
        raise ValueError(f"max_segments must be >= 1, got {max_segments}")
    audio, text = audio or AudioOptions(), text or TextOptions()
    gen = sampling.make_generator(generator, lm.device)
    shared = dict(continuous=continuous, generator=gen, use_cache=use_cache, batched_cfg=batched_cfg)
    eot = lm.vocab.special("<|eot|>")
    segments: list[Segment] = []
    while len(segments) < max_segments:
        modality = first if first and not segments else _next_modality(lm, prompt, continuous, then)
        if modality == "audio":
            decoded = decode_audio(lm, prompt, **vars(audio), **shared)
        elif modality == "text":
            decoded = decode_text_tokens(lm, prompt, **vars(text), **shared)
        else:
            raise ValueError(f"decoding of modality {modality!r} is not supported (text and audio are)")
        segments.append(Segment(modality, decoded))
        if decoded.stop != eot:
            break
        assistant = special_row(lm.vocab, "<|assistant|>", lm.num_streams)
        prompt = torch.cat([prompt, segments[-1].rows(lm).to(prompt.device), assistant.to(prompt.device)])
    return segments
