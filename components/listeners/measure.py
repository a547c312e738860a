"""Loudness and stereo balance of heard events and whole clips, as every listener reports them."""

from __future__ import annotations

import numpy as np

from ualm_agent.audio import loudness_lufs, stereo_balance
from ualm_agent.errors import AudioInputError
from ualm_agent.schema import HeardEvent, Observation, SpeechSegment
from ualm_agent.waveform import Waveform


def check_listenable(audio: Waveform) -> None:
    if audio.frames == 0:
        raise AudioInputError("cannot listen to audio with no samples")
    if not np.all(np.isfinite(audio.samples)):
        raise AudioInputError("cannot listen to audio with NaN or infinite samples")


def heard_event(label: str, start: float, end: float, confidence: float, audio: Waveform) -> HeardEvent:
    """An event with the RMS level (dBFS) and stereo balance of its own stretch of the clip."""
    a = int(start * audio.sample_rate)
    b = max(a + 1, int(end * audio.sample_rate))
    part = audio.samples[:, a:b].astype(np.float64)
    rms = float(np.sqrt(np.mean(part.mean(axis=0) ** 2))) if part.size else 0.0
    return measured_event(label, start, end, confidence, rms, stereo_balance(audio.samples[:, a:b]))


def measured_event(label: str, start: float, end: float, confidence: float, rms: float, balance: float) -> HeardEvent:
    """An event as listeners report it: times to the millisecond, level in dBFS, balance clipped to [-1, 1]."""
    return HeardEvent(
        label=label,
        start_s=round(start, 3),
        end_s=round(end, 3),
        confidence=round(min(1.0, max(0.0, confidence)), 4),
        loudness_db=round(20.0 * np.log10(max(rms, 1e-6)), 2),
        balance=clip_balance(balance),
    )


def observation(
    audio: Waveform, events: list[HeardEvent], speech: list[SpeechSegment], listener: str, *, transcribed: bool = False
) -> Observation:
    """An observation with the clip's integrated loudness, balance and duration measured."""
    return measured_observation(
        events, speech, listener, loudness_lufs(audio), stereo_balance(audio.samples), audio.duration_s,
        transcribed=transcribed,
    )


def measured_observation(
    events: list[HeardEvent],
    speech: list[SpeechSegment],
    listener: str,
    lufs: float | None,
    balance: float,
    duration_s: float,
    *,
    transcribed: bool = False,
) -> Observation:
    """An observation from figures measured elsewhere (a streamed file's), rounded as every listener reports them."""
    return Observation(
        events=sorted(events, key=lambda e: (e.start_s, -e.confidence, e.label)),
        speech=speech,
        loudness_lufs=None if lufs is None else round(lufs, 2),
        balance=clip_balance(balance),
        duration_s=round(duration_s, 6),
        listener=listener,
        transcribed=transcribed,
    )


def clip_balance(value: float) -> float:
    return round(float(min(1.0, max(-1.0, value))), 4)


# AudioSet names of speech; a listener's events with these labels are where someone speaks.
SPEECH_LABELS: frozenset[str] = frozenset(
    {
        "Speech",
        "Male speech, man speaking",
        "Female speech, woman speaking",
        "Child speech, kid speaking",
        "Conversation",
        "Narration, monologue",
        "Speech synthesizer",
    }
)


def speech_segments(events: list[HeardEvent]) -> list[SpeechSegment]:
    """Text-less speech segments over the (merged) spans of speech events."""
    merged: list[list[float]] = []
    for a, b in sorted((e.start_s, e.end_s) for e in events if e.label in SPEECH_LABELS):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [SpeechSegment(start_s=a, end_s=b, text="") for a, b in merged]
