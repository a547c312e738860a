"""Real recordings with known ground truth, built at test time.

Sources are recorded sounds from Debian's ``sound-theme-freedesktop`` and
sentences spoken by ``espeak-ng``. Each mixture places some of them at known
times over a faint noise floor; an event's ground truth is where its source
actually sounds (within 40 dB of its peak), and the AudioSet names that
describe it correctly.

Also scores a listener against that truth, next to the baseline the quality
bar names: YAMNet's raw patch probabilities thresholded at p > 0.2, each
patch above threshold counting as its class heard over the patch's 0.96 s.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from ualm_agent.audio import read_audio, resample
from ualm_agent.schema import HeardEvent
from ualm_agent.waveform import Waveform

FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")
RATE = 48000
NOISE_DBFS = -60.0

SPEECH = ("Speech", "Narration, monologue")
SYNTH_SPEECH = (*SPEECH, "Speech synthesizer")

# source -> AudioSet names that describe it correctly.
SOURCES: dict[str, tuple[str, ...]] = {
    "phone-incoming-call": ("Telephone bell ringing", "Ringtone", "Telephone"),
    "phone-outgoing-busy": ("Busy signal", "Telephone"),
    "phone-outgoing-calling": ("Telephone", "Ringtone"),
    "alarm-clock-elapsed": ("Alarm clock", "Alarm", "Beep, bleep", "Buzzer"),
    "camera-shutter": ("Camera", "Single-lens reflex camera"),
    "trash-empty": ("Crumpling, crinkling", "Crushing", "Rustle"),
    "complete": ("Ding", "Chime", "Bell", "Jingle, tinkle"),
    "bell": ("Bell", "Ding", "Chime", "Jingle, tinkle"),
    "audio-test-signal": ("Pink noise", "Noise"),
    "service-login": ("Music", "Musical instrument", "Synthesizer"),
    "service-logout": ("Music", "Musical instrument", "Synthesizer"),
    "audio-channel-front-left": SPEECH,
    "audio-channel-rear-right": SPEECH,
    "audio-channel-side-left": SPEECH,
}
SENTENCES: dict[str, str] = {
    "say-fox": "The quick brown fox jumps over the lazy dog near the river bank.",
    "say-weather": "Tomorrow will be cloudy in the morning, with light rain in the evening.",
    "say-train": "The next train to the airport leaves from platform four.",
}

# name -> (duration, [(source, start time)])
MIXTURES: dict[str, tuple[float, list[tuple[str, float]]]] = {
    "ring-then-speech": (10.0, [("phone-incoming-call", 1.0), ("say-fox", 4.5)]),
    "busy-camera-voice": (10.0, [("phone-outgoing-busy", 0.5), ("camera-shutter", 4.8), ("audio-channel-front-left", 7.2)]),
    "alarm-then-trash": (10.0, [("alarm-clock-elapsed", 0.6), ("trash-empty", 8.2)]),
    "noise-music-ding": (10.0, [("audio-test-signal", 0.4), ("service-login", 3.0), ("complete", 7.5)]),
    "speech-calling-bell": (10.0, [("say-weather", 0.3), ("phone-outgoing-calling", 5.6), ("bell", 8.5)]),
    "voices-and-logout": (10.0, [("audio-channel-rear-right", 0.8), ("service-logout", 3.5), ("say-train", 6.0)]),
    "side-left-ring": (6.0, [("audio-channel-side-left", 0.5), ("phone-incoming-call", 3.0)]),
}


@dataclass(frozen=True)
class Truth:
    source: str
    labels: tuple[str, ...]
    start_s: float
    end_s: float


@dataclass
class Recording:
    name: str
    audio: Waveform
    truths: list[Truth] = field(default_factory=list)


def missing_tools() -> str:
    """Why the real recordings cannot be built here, or ''."""
    if not FREEDESKTOP.is_dir():
        return "sound-theme-freedesktop is not installed (apt-get install -y sound-theme-freedesktop)"
    if shutil.which("espeak-ng") is None:
        return "espeak-ng is not installed (apt-get install -y espeak-ng)"
    return ""


@cache
def source(name: str) -> Waveform:
    """A source as 48 kHz stereo."""
    if name in SENTENCES:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), SENTENCES[name]], check=True, capture_output=True)
            audio = read_audio(path)
    else:
        audio = read_audio(FREEDESKTOP / f"{name}.oga")
    audio = resample(audio, RATE)
    samples = audio.samples if audio.channels == 2 else np.repeat(audio.samples[:1], 2, axis=0)
    return Waveform(samples, RATE)


def labels_for(name: str) -> tuple[str, ...]:
    return SYNTH_SPEECH if name in SENTENCES else SOURCES[name]


def sounding_span(audio: Waveform, below_peak_db: float = 40.0) -> tuple[float, float]:
    """First and last 10 ms block within ``below_peak_db`` of the loudest one."""
    step = audio.sample_rate // 100
    mono = audio.mono().astype(np.float64)
    blocks = mono[: len(mono) // step * step].reshape(-1, step)
    level = 10 * np.log10(np.mean(blocks**2, axis=1) + 1e-20)
    loud = np.flatnonzero(level >= level.max() - below_peak_db)
    return loud[0] * step / audio.sample_rate, (loud[-1] + 1) * step / audio.sample_rate


def mixture(name: str, *, pan: float = 0.0, gain_db: float = 0.0, seed: int = 0) -> Recording:
    """Build one mixture; ``pan`` in [-1, 1] scales the channels (-1 = left only);
    ``gain_db`` sets the sources' level (the noise floor stays put)."""
    duration, placements = MIXTURES[name]
    rng = np.random.default_rng(seed)
    frames = int(round(duration * RATE))
    mix = rng.standard_normal((2, frames)).astype(np.float32) * np.float32(10 ** (NOISE_DBFS / 20))
    truths = []
    for src, at in placements:
        audio = source(src)
        start = int(round(at * RATE))
        stop = min(frames, start + audio.frames)
        mix[:, start:stop] += audio.samples[:, : stop - start] * np.float32(10 ** (gain_db / 20))
        on, off = sounding_span(audio)
        truths.append(Truth(src, labels_for(src), round(float(at + on), 3), round(float(min(duration, at + off)), 3)))
    if pan:
        mix *= np.array([[min(1.0, 1.0 - pan)], [min(1.0, 1.0 + pan)]], dtype=np.float32)
    label = name if not gain_db else f"{name}@{gain_db:+g}dB"
    return Recording(label, Waveform(mix, RATE), truths)


def all_recordings(gains_db: tuple[float, ...] = (0.0, -12.0, -24.0, -32.0)) -> list[Recording]:
    """Every mixture at each source level (quieter ones test the front end's floor)."""
    return [mixture(name, gain_db=g, seed=i) for g in gains_db for i, name in enumerate(MIXTURES)]


# -- scoring ---------------------------------------------------------------
def overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    return min(a1, b1) > max(a0, b0)


def matched(truths: list[Truth], heard: list[HeardEvent]) -> list[bool]:
    """For each truth: was an event with an acceptable label heard overlapping it?"""
    return [
        any(e.label in t.labels and overlaps(t.start_s, t.end_s, e.start_s, e.end_s) for e in heard) for t in truths
    ]


def baseline_events(probs: np.ndarray, names: tuple[str, ...], threshold: float = 0.2) -> list[HeardEvent]:
    """Every patch with p > threshold: its class heard over the patch's 0.96 s window."""
    out = []
    for i, c in zip(*np.nonzero(probs > threshold)):
        out.append(HeardEvent(label=names[c], start_s=0.48 * i, end_s=0.48 * i + 0.96, confidence=float(probs[i, c])))
    return out


@dataclass
class Score:
    truths: int = 0
    listener: int = 0
    baseline: int = 0
    missed_by_listener: list[str] = field(default_factory=list)
    missed_by_baseline: list[str] = field(default_factory=list)


def score(listener, recordings: list[Recording]) -> Score:
    """Ground-truth events heard by ``listener`` and by the p > 0.2 baseline."""
    from ualm_agent.labels import audioset_names

    names = audioset_names()
    result = Score()
    for rec in recordings:
        heard = listener.listen(rec.audio).events
        base = baseline_events(listener.frame_probabilities(rec.audio), names)
        for truth, by_listener, by_base in zip(rec.truths, matched(rec.truths, heard), matched(rec.truths, base)):
            result.truths += 1
            result.listener += by_listener
            result.baseline += by_base
            if not by_listener:
                result.missed_by_listener.append(f"{rec.name}:{truth.source}")
            if not by_base:
                result.missed_by_baseline.append(f"{rec.name}:{truth.source}")
    return result
