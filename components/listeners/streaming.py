"""Listening to audio files of any length and channel count.

A listener that can stream (``listen_file``, the ``yamnet`` listener) takes a
long file in blocks: each block is measured (loudness, envelope, front-pair
balance) at its own rate and channel count, mixed down to mono and resampled
with a streaming resampler for the model. Memory stays bounded by the block
size plus a few floats per 10 ms of audio. Other listeners get the whole file
in memory, up to ``WHOLE_FILE_LIMIT_BYTES`` decoded; past that the file is
refused with one line saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ualm_agent.audio_stream import (
    STREAM_ABOVE_BYTES,
    WHOLE_FILE_LIMIT_BYTES,
    AudioFileInfo,
    MonoResampler,
    downmix,
    read_blocks,
)
from ualm_agent.errors import AudioInputError, UsageError
from ualm_agent.schema import Observation
from ualm_agent.waveform import Waveform

from .levels import LevelGrid

BLOCK_S = 10.0

Progress = Callable[[float], None]  # called with the seconds of audio heard so far


@dataclass(frozen=True)
class StreamedSignal:
    """What a streamed pass measured besides the model's own input."""

    duration_s: float
    loudness_lufs: float | None
    levels: LevelGrid


def stream_file(
    source: AudioFileInfo,
    model_rate: int,
    feed: Callable[[np.ndarray], None],
    *,
    step_s: float,
    progress: Progress | None = None,
) -> StreamedSignal:
    """Read ``source`` block by block, giving ``feed`` its mono downmix at ``model_rate`` piece by piece."""
    from ualm_agent.loudness import LoudnessMeter

    rate = source.sample_rate
    levels = LevelGrid(rate, source.channels, step_s)
    meter = LoudnessMeter(rate, source.channels)
    resampler = MonoResampler(rate, model_rate)
    # Whole envelope steps per block, so the blocks' steps join into the whole clip's.
    block_frames = levels.step * max(1, round(BLOCK_S * rate / levels.step))
    for block in read_blocks(source, block_frames):
        if not np.all(np.isfinite(block)):
            at = levels.frames / rate
            raise AudioInputError(f"cannot listen to {source.path}: NaN or infinite samples after {at:.1f} s")
        mono = downmix(block)
        levels.add(block, mono)
        meter.add(block)
        feed(resampler.push(mono))
        if progress is not None:
            progress(levels.frames / rate)
    if levels.frames == 0:
        raise AudioInputError(f"audio file has no samples: {source.path}")
    feed(resampler.finish())
    levels.close()
    return StreamedSignal(levels.frames / rate, meter.integrated(), levels)


def listen_to_file(
    listener: Any, source: AudioFileInfo, *, hints: Sequence[str] = (), progress: Progress | None = None
) -> tuple[Observation, Waveform | None]:
    """What ``listener`` hears in the file, and the file's audio when it was read whole (None when streamed).

    A listener with ``listen_file`` streams files decoded larger than
    ``STREAM_ABOVE_BYTES``; smaller files, and every file for other listeners,
    are read whole and given to ``listen``.
    """
    from ualm_agent.audio import read_audio

    if streams(listener, source):
        return listener.listen_file(source, hints=hints, progress=progress), None
    if source.decoded_bytes > WHOLE_FILE_LIMIT_BYTES:
        raise UsageError(too_long_message(getattr(listener, "name", type(listener).__name__), source))
    audio = read_audio(source.path)
    return listener.listen(audio, hints=hints), audio


def streams(listener: Any, source: AudioFileInfo) -> bool:
    """Whether ``listen_to_file`` reads this file in blocks with this listener."""
    return hasattr(listener, "listen_file") and source.decoded_bytes > STREAM_ABOVE_BYTES


def too_long_message(listener_name: str, source: AudioFileInfo) -> str:
    limit_min = WHOLE_FILE_LIMIT_BYTES / (4 * source.channels * source.sample_rate * 60)
    return (
        f"{source.path} is {source.duration_s / 60:.1f} min of {source.channels}-channel {source.sample_rate} Hz audio; "
        f"the {listener_name} listener reads whole files into memory, up to {WHOLE_FILE_LIMIT_BYTES // 2**20} MiB "
        f"decoded ({limit_min:.1f} min of such audio): use --listener yamnet, which streams, or cut the file"
    )
