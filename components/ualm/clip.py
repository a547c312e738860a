"""From a generated answer to the generator's clip: audio segments joined, fitted to the request, every change stated.

UALM ends its audio itself (see decoding.py), so the clip's length is the model's. What happens when
it differs from the requested duration is the ``duration_mode`` setting:

- ``model`` (the recipe's behaviour, the default): the model's length is kept, and the difference stated;
- ``trim_or_pad``: the clip is cut to the request, or padded with silence to it, and that is stated;
- ``forced``: decoding itself is held to the requested length (no stop before it, a cap right after),
  so nothing needs fitting; the recipe's step cap does not apply.

The notes are plain sentences for the user (GenerationResult.notes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

import numpy as np

if TYPE_CHECKING:
    import torch

    from .decoding import Segment
    from .model import UalmLM

DurationMode = Literal["model", "trim_or_pad", "forced"]
DURATION_MODES: tuple[str, ...] = get_args(DurationMode)


def _seconds(samples: int, rate: int) -> str:
    return f"{samples / rate:.2f} s"


def segment_notes(lm: "UalmLM", segments: list["Segment"], *, max_steps: int | None) -> list[str]:
    """What the segments after the first added, and how the answer ended when the model did not end it.

    max_steps is the audio step cap that applied (None when the length was forced).
    """
    from .decoding import AudioDecoding
    from .sequence import decode_text

    notes = []
    rate = lm.codec.sample_rate
    for segment in segments[1:]:
        if isinstance(segment.decoded, AudioDecoding):
            frames = int(segment.decoded.codes(lm.vocab).shape[0])
            notes.append(f"after <|eot|> UALM went on with another audio segment "
                         f"({_seconds(frames * lm.codec.hop_length, rate)}), appended to the clip")
        else:
            said = decode_text(lm.vocab, lm.tokenizer, segment.decoded.ids) if lm.tokenizer is not None else ""
            notes.append(f"after <|eot|> UALM went on with text, not part of the clip: {said!r}")
    last = segments[-1]
    if last.stop == lm.vocab.special("<|eot|>"):
        notes.append(f"UALM was still continuing after {len(segments)} segments; the answer was cut there "
                     "(max_segments)")
    elif last.stop is None and last.modality == "audio" and max_steps is not None:
        notes.append(f"UALM did not end the audio within the step cap ({max_steps} steps); it was cut there "
                     "(max_audio_steps)")
    return notes


def joined_codes(lm: "UalmLM", segments: list["Segment"]) -> "torch.Tensor":
    """The codes [T, S] of every audio segment, in order."""
    import torch

    from .decoding import AudioDecoding

    parts = [s.decoded.codes(lm.vocab) for s in segments if isinstance(s.decoded, AudioDecoding)]
    if not parts:
        return torch.zeros(0, lm.num_streams, dtype=torch.long)
    return torch.cat([p.cpu() for p in parts])


def fit_to_request(samples: np.ndarray, requested: int, *, mode: DurationMode, rate: int,
                   floor: int) -> tuple[np.ndarray, list[str]]:
    """`samples` (1-D) fitted to `requested` samples as `mode` says, with a note on any difference.

    An empty clip (the model ended the audio at once) becomes `floor` samples of silence in ``model``
    mode, so later steps have a clip to hear; that is stated too.
    """
    made = len(samples)
    if mode not in DURATION_MODES:
        raise ValueError(f"unknown duration_mode {mode!r}; use one of {', '.join(DURATION_MODES)}")
    if made == requested:
        return samples, []
    made_s, want_s = _seconds(made, rate), _seconds(requested, rate)
    if mode == "trim_or_pad":
        if made > requested:
            return samples[:requested], [f"UALM made {made_s}; trimmed to the requested {want_s} (duration_mode "
                                         "'trim_or_pad')"]
        return np.pad(samples, (0, requested - made)), [
            f"UALM made {made_s}; padded with {_seconds(requested - made, rate)} of silence to the requested "
            f"{want_s} (duration_mode 'trim_or_pad')"]
    if made == 0:
        return np.zeros(floor, dtype=np.float32), [
            f"UALM ended the audio at once (no frames; {want_s} requested); {_seconds(floor, rate)} of silence "
            "stands in for it"]
    return samples, [f"UALM ended the audio at {made_s}; {want_s} was requested; kept as the model made it "
                     f"(duration_mode {mode!r})"]
