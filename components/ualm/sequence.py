"""UALM token sequences [L, S] in the published recipe's dialogue format.

    <|bos|>  then per message:  <|role|> <|modality|> content <|eot|> or <|eos|>

A message closes with <|eot|> when the next message has the same role (the turn goes on), else with
<|eos|>. At inference <|assistant|> is appended (and, to enforce a modality, its token after it).

Every position is a frame of S tokens. Special and text tokens sit in stream 0, the other streams
hold <|pad|> (id 0, whose embedding is zero). Audio the model produced (assistant codes) is written
as stream ids in the delay pattern. Audio the model hears (user/system) is continuous: the frame
rows are <|pad|> placeholders, and the encoder's features are added there by the model's embedding,
so the sequence records each placeholder's (start, length).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from .delay import apply_delay

if TYPE_CHECKING:
    import torch

    from .vocabulary import UalmVocabulary

Role = Literal["system", "user", "assistant"]
ROLES = ("system", "user", "assistant")


@cache
def task_prompts() -> dict[str, str]:
    """The task prompts in prompts/ualm.toml, by task name."""
    from ualm_agent import prompts

    return dict(tomllib.loads(prompts.load("ualm.toml"))["tasks"])


@dataclass(frozen=True)
class Message:
    """One dialogue message.

    content by modality:
      - text: a string (tokenized with the tokenizer) or a list of text-tokenizer ids;
      - audio: float features [T, D] for audio heard as input (continuous), or an int T to reserve
        the placeholder and pass the features later; integer codes [T, S] for audio the model
        produced (written in the delay pattern).
    """

    role: Role
    modality: Literal["text", "audio"]
    content: Any


@dataclass
class UalmSequence:
    """Token ids [L, S] and where continuous audio goes: (start, length) per placeholder."""

    ids: "torch.Tensor"
    placeholders: list[tuple[int, int]] = field(default_factory=list)
    features: list["torch.Tensor | None"] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def continuous(self, batch_index: int = 0) -> list[tuple[int, int, "torch.Tensor"]] | None:
        """The `continuous` argument of UalmLM.embed for this sequence at `batch_index`."""
        if not self.placeholders:
            return None
        missing = [start for (start, _), f in zip(self.placeholders, self.features) if f is None]
        if missing:
            raise ValueError(f"no audio features given for the placeholder(s) at {missing}")
        return [(batch_index, start, feats) for (start, _), feats in zip(self.placeholders, self.features)]

    def with_features(self, features: list["torch.Tensor"]) -> "UalmSequence":
        if len(features) != len(self.placeholders):
            raise ValueError(f"{len(features)} feature tensors for {len(self.placeholders)} audio placeholders")
        for (start, length), feats in zip(self.placeholders, features):
            if feats.shape[0] != length:
                raise ValueError(f"placeholder at {start} holds {length} frames, features have {feats.shape[0]}")
        return UalmSequence(self.ids, list(self.placeholders), list(features))


def special_row(vocab: "UalmVocabulary", name: str, num_streams: int) -> "torch.Tensor":
    """One frame holding a special token in stream 0 and <|pad|> elsewhere: [1, S]."""
    import torch

    row = torch.zeros(1, num_streams, dtype=torch.long)
    row[0, 0] = vocab.special(name)
    return row


def text_rows(vocab: "UalmVocabulary", tokens: list[int], num_streams: int) -> "torch.Tensor":
    """Text-tokenizer ids as frames [N, S]: stream 0 holds the UALM id, the rest <|pad|>.

    The published recipe maps a text token whose tokenizer id is 0 to <|pad|> (its preprocessing
    treats id 0 as padding), so a checkpoint trained with it never saw that token as input; kept.
    """
    import torch

    rows = torch.zeros(len(tokens), num_streams, dtype=torch.long)
    if tokens:
        ids = torch.tensor(vocab.text_ids(list(tokens)), dtype=torch.long)
        rows[:, 0] = torch.where(torch.tensor(tokens) == 0, torch.zeros_like(ids), ids)
    return rows


def encode_text(tokenizer: Any, text: str) -> list[int]:
    # add_special_tokens as in the recipe (Qwen tokenizers add none).
    return list(tokenizer.encode(text, add_special_tokens=True))


def decode_text(vocab: "UalmVocabulary", tokenizer: Any, ids: list[int]) -> str:
    """UALM ids (stream 0 of generated text) to a string; ids outside the text interval are dropped."""
    tokens = vocab.text_tokens([i for i in ids if vocab.is_text(i)])
    return tokenizer.decode(tokens, skip_special_tokens=True, clean_up_tokenization_spaces=True)


def _content_rows(vocab: "UalmVocabulary", message: Message, tokenizer: Any,
                  num_streams: int) -> tuple["torch.Tensor", "torch.Tensor | None", bool]:
    """(rows, features or None, is_placeholder) for one message's content."""
    import torch

    content = message.content
    if message.modality == "text":
        if isinstance(content, str):
            if tokenizer is None:
                raise ValueError("a text message needs a tokenizer (or pass text-tokenizer ids)")
            content = encode_text(tokenizer, content)
        return text_rows(vocab, list(content), num_streams), None, False
    if message.modality != "audio":
        raise ValueError(f"unsupported modality {message.modality!r}; expected text or audio")
    if isinstance(content, int):
        return torch.zeros(content, num_streams, dtype=torch.long), None, True
    if not isinstance(content, torch.Tensor):
        raise TypeError(f"audio content must be a tensor or a frame count, not {type(content).__name__}")
    if content.is_floating_point():
        if content.ndim != 2:
            raise ValueError(f"audio features must be [T, D], got shape {tuple(content.shape)}")
        return torch.zeros(content.shape[0], num_streams, dtype=torch.long), content, True
    if content.ndim != 2 or content.shape[1] != num_streams:
        raise ValueError(f"audio codes must be [T, {num_streams}], got shape {tuple(content.shape)}")
    ids = vocab.codes_to_ids(content.cpu().long())
    pads = [vocab.stream_pad(n) for n in range(num_streams)]
    return apply_delay(ids, pads), None, False


def build_sequence(vocab: "UalmVocabulary", messages: list[Message], *, tokenizer: Any = None,
                   num_streams: int | None = None, add_assistant: bool = True,
                   modality: str | None = None) -> UalmSequence:
    """The token sequence of a dialogue, ready for the model.

    add_assistant appends <|assistant|> for the reply; modality (e.g. "audio") also appends that
    modality's token, enforcing it instead of letting the model choose. When the prompt's last
    message is itself an assistant segment, it closes with <|eot|>: the reply continues that turn.
    """
    import torch

    streams = num_streams or vocab.num_streams
    if not messages:
        raise ValueError("a UALM sequence needs at least one message")
    for m in messages:
        if m.role not in ROLES:
            raise ValueError(f"unknown role {m.role!r}; expected one of {', '.join(ROLES)}")
    next_roles = [m.role for m in messages[1:]] + (["assistant"] if add_assistant else [None])
    parts = [special_row(vocab, "<|bos|>", streams)]
    placeholders: list[tuple[int, int]] = []
    features: list[torch.Tensor | None] = []
    length = 1
    for message, next_role in zip(messages, next_roles):
        parts += [special_row(vocab, f"<|{message.role}|>", streams),
                  special_row(vocab, f"<|{message.modality}|>", streams)]
        length += 2
        rows, feats, is_placeholder = _content_rows(vocab, message, tokenizer, streams)
        if is_placeholder:
            placeholders.append((length, int(rows.shape[0])))
            features.append(feats)
        parts.append(rows)
        length += int(rows.shape[0])
        parts.append(special_row(vocab, "<|eot|>" if next_role == message.role else "<|eos|>", streams))
        length += 1
    if add_assistant:
        parts.append(special_row(vocab, "<|assistant|>", streams))
        if modality is not None:
            parts.append(special_row(vocab, f"<|{modality}|>", streams))
    elif modality is not None:
        raise ValueError("a modality token follows <|assistant|>; set add_assistant")
    return UalmSequence(torch.cat(parts, dim=0), placeholders, features)


def text_to_audio_messages(caption: str) -> list[Message]:
    """The recipe's caption-to-audio task: one user text message, prompt then caption."""
    return [Message("user", "text", task_prompts()["text_to_audio"] + caption)]


def audio_to_caption_messages(audio: Any) -> list[Message]:
    """The recipe's audio-to-caption task: the user's prompt, then the user's audio (features or a length)."""
    return [Message("user", "text", task_prompts()["audio_to_caption"]), Message("user", "audio", audio)]
