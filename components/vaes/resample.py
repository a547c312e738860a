"""Vae ``resample``: 16 kHz mono -> 48 kHz stereo, panned from the plan; and ``identity``.

Stereo input (a generator that pans its own events) is only resampled.

The released UALM "enhancement VAE" is not available, so this stands in for it
with signal processing: soxr upsampling and a constant-power pan that follows
each planned event's position over its occurrences.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ualm_agent.audio import resample
from ualm_agent.registry import BackendConfig, register
from ualm_agent.schema import RichCaption
from ualm_agent.waveform import Waveform

PAN_DIRECTION = {"left": -1.0, "center": 0.0, "right": 1.0}
# Pan changes ramp over this long so a move between events does not click.
CROSSFADE_S = 0.05


class ResampleSettings(BackendConfig):
    kind: Literal["resample"] = "resample"
    sample_rate: int = 48000
    # How far "left"/"right" go: 0 keeps everything centred, 1 is hard left/right.
    pan: float = 0.8


class IdentitySettings(BackendConfig):
    kind: Literal["identity"] = "identity"


@register("resample", roles=("vae",), config=ResampleSettings, requires=("soxr",), install="pip install soxr")
class ResampleVae:
    """soxr upsampling to 48 kHz and constant-power panning from the plan's positions."""

    def __init__(self, sample_rate: int = 48000, pan: float = 0.8) -> None:
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.sample_rate = int(sample_rate)
        self.pan = float(np.clip(pan, 0.0, 1.0))

    def process(self, audio: Waveform, caption: RichCaption) -> Waveform:
        if audio.channels == 2:
            # A generator that places its sounds in stereo itself (the composer's mixer) keeps its image.
            return resample(audio, self.sample_rate)
        mono = Waveform(audio.mono()[None, :], audio.sample_rate)
        up = resample(mono, self.sample_rate).samples[0]
        position = pan_curve(caption, len(up), self.sample_rate, self.pan)
        # Constant power: left = cos, right = sin of an angle in [0, pi/2]; centre keeps -3 dB on each side.
        theta = (position + 1.0) * np.pi / 4
        stereo = np.stack([up * np.cos(theta), up * np.sin(theta)]).astype(np.float32)
        return Waveform(stereo, self.sample_rate)


def pan_curve(caption: RichCaption, frames: int, rate: int, width: float) -> np.ndarray:
    """Pan position in [-1, 1] per frame: the mean direction of the events sounding then.

    Where nothing is planned the sound stays centred. Each occurrence of an event
    pulls the position towards its side for its span.
    """
    total = np.zeros(frames)
    weight = np.zeros(frames)
    for event in caption.layout:
        direction = PAN_DIRECTION[event.position] * width
        for start_s, end_s in event.occurrences():
            a, b = max(0, int(start_s * rate)), min(frames, int(end_s * rate))
            if b > a:
                total[a:b] += direction
                weight[a:b] += 1.0
    position = np.divide(total, weight, out=np.zeros(frames), where=weight > 0)
    k = max(1, int(CROSSFADE_S * rate))
    if frames > k:
        # A moving average (by running sums: O(n), not O(n*k)) ramps each change linearly over the cross-fade time.
        padded = np.pad(position, (k // 2 + 1, k - 1 - k // 2), mode="edge")
        sums = np.cumsum(padded)
        position = (sums[k:] - sums[:-k]) / k
    return np.clip(position, -1.0, 1.0)


@register("identity", roles=("vae",), config=IdentitySettings)
class IdentityVae:
    """Passes the generator's audio through unchanged."""

    def __init__(self) -> None:
        pass

    def process(self, audio: Waveform, caption: RichCaption) -> Waveform:
        return audio
