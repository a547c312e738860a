"""Listening to an audio file of any length: streamed by a listener that can, else read whole.

A listener that implements ``StreamingListener`` (the ``yamnet`` listener) takes files decoded
larger than ``STREAM_ABOVE_BYTES`` in blocks, in bounded memory. Every other file, and every file for
other listeners, is read whole, up to ``WHOLE_FILE_LIMIT_BYTES`` decoded; past that the file is
refused with one line saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .audio_stream import STREAM_ABOVE_BYTES, WHOLE_FILE_LIMIT_BYTES, AudioFileInfo
from .errors import UsageError
from .roles import Progress, StreamingListener
from .schema import Observation
from .waveform import Waveform


def listen_to_file(
    listener: Any, source: AudioFileInfo, *, hints: Sequence[str] = (), progress: Progress | None = None
) -> tuple[Observation, Waveform | None]:
    """What ``listener`` hears in the file, and the file's audio when it was read whole (None when streamed).

    A listener with ``listen_file`` streams files decoded larger than
    ``STREAM_ABOVE_BYTES``; smaller files, and every file for other listeners,
    are read whole and given to ``listen``.
    """
    from .audio import read_audio

    if streams(listener, source):
        return listener.listen_file(source, hints=hints, progress=progress), None
    if source.decoded_bytes > WHOLE_FILE_LIMIT_BYTES:
        raise UsageError(too_long_message(getattr(listener, "name", type(listener).__name__), source))
    audio = read_audio(source.path)
    return listener.listen(audio, hints=hints), audio


def streams(listener: Any, source: AudioFileInfo) -> bool:
    """Whether ``listen_to_file`` reads this file in blocks with this listener."""
    return isinstance(listener, StreamingListener) and source.decoded_bytes > STREAM_ABOVE_BYTES


def too_long_message(listener_name: str, source: AudioFileInfo) -> str:
    limit_min = WHOLE_FILE_LIMIT_BYTES / (4 * source.channels * source.sample_rate * 60)
    return (
        f"{source.path} is {source.duration_s / 60:.1f} min of {source.channels}-channel {source.sample_rate} Hz audio; "
        f"the {listener_name} listener reads whole files into memory, up to {WHOLE_FILE_LIMIT_BYTES // 2**20} MiB "
        f"decoded ({limit_min:.1f} min of such audio): use --listener yamnet, which streams, or cut the file"
    )
