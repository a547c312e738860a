"""Listening to audio files of any length and channel count.

A listener that can stream (``listen_file``, the ``yamnet`` listener) takes a
long file in blocks: each block is measured (loudness, envelope, front-pair
balance) at its own rate and channel count, mixed down to mono and resampled
with a streaming resampler for the model. Memory stays bounded by the block
size plus a few floats per 10 ms of audio. ``ualm_agent.listening`` decides
which files a listener streams and which it reads whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ualm_agent.audio_stream import AudioFileInfo, MonoResampler, downmix, read_blocks
from ualm_agent.errors import AudioInputError
from ualm_agent.roles import Progress

from .levels import LevelGrid

BLOCK_S = 10.0


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
