"""Vae backends: 48 kHz stereo panning from the plan, and identity."""

from __future__ import annotations

import numpy as np
import pytest

from ualm_agent import registry
from ualm_agent.components.vaes.resample import IdentityVae, ResampleVae, pan_curve
from ualm_agent.schema import LayoutEvent, RichCaption
from ualm_agent.waveform import Waveform

RATE = 16000


def _noise(seconds: float, seed: int = 0) -> Waveform:
    rng = np.random.default_rng(seed)
    return Waveform((0.3 * rng.standard_normal(int(seconds * RATE))).astype(np.float32)[None, :], RATE)


def _energy(x: np.ndarray) -> float:
    return float(np.sum(x.astype(np.float64) ** 2))


def test_resample_gives_48k_stereo_of_same_duration():
    audio = _noise(2.0)
    out = ResampleVae().process(audio, RichCaption(duration_s=2.0))
    assert out.sample_rate == 48000
    assert out.channels == 2
    assert out.frames == pytest.approx(3 * audio.frames, abs=3)
    assert out.samples.dtype == np.float32


def test_centre_is_balanced_and_constant_power():
    t = np.arange(RATE) / RATE
    audio = Waveform((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :], RATE)
    out = ResampleVae().process(audio, RichCaption(duration_s=1.0))
    left, right = _energy(out.samples[0]), _energy(out.samples[1])
    assert left == pytest.approx(right, rel=1e-3)
    # Constant power: both channels together carry the mono energy (scaled by the 3x frame count);
    # a 440 Hz tone passes the resampler's anti-alias filter untouched.
    assert left + right == pytest.approx(3 * _energy(audio.samples[0]), rel=0.05)


def test_left_event_is_louder_on_the_left_during_its_span_only():
    audio = _noise(4.0)
    plan = RichCaption(
        duration_s=4.0,
        layout=[
            LayoutEvent(label="Bark", start_s=0.0, end_s=1.5, position="left"),
            LayoutEvent(label="Siren", start_s=2.5, end_s=4.0, position="right"),
        ],
    )
    out = ResampleVae(pan=0.8).process(audio, plan).samples
    sr = 48000
    left_span = out[:, int(0.2 * sr) : int(1.3 * sr)]
    right_span = out[:, int(2.7 * sr) : int(3.8 * sr)]
    gap = out[:, int(1.8 * sr) : int(2.2 * sr)]
    assert _energy(left_span[0]) > 4 * _energy(left_span[1])
    assert _energy(right_span[1]) > 4 * _energy(right_span[0])
    assert _energy(gap[0]) == pytest.approx(_energy(gap[1]), rel=0.05)


def test_pan_width_zero_keeps_everything_centred():
    plan = RichCaption(duration_s=1.0, layout=[LayoutEvent(label="Bark", start_s=0.0, end_s=1.0, position="left")])
    assert np.allclose(pan_curve(plan, 1000, 1000, 0.0), 0.0)


def test_pan_changes_are_crossfaded():
    plan = RichCaption(duration_s=2.0, layout=[LayoutEvent(label="Bark", start_s=1.0, end_s=2.0, position="right")])
    curve = pan_curve(plan, 2000, 1000, 1.0)
    assert curve[500] == 0.0 and curve[1500] == 1.0
    # No jump: the largest step between neighbouring frames is a small fraction of the full move.
    assert np.max(np.abs(np.diff(curve))) < 0.05


def test_stereo_input_keeps_its_image_and_is_only_resampled():
    mono = _noise(0.5).samples[0]
    stereo = Waveform(np.stack([mono, np.zeros_like(mono)]), RATE)
    plan = RichCaption(duration_s=0.5, layout=[LayoutEvent(label="Bark", start_s=0.0, end_s=0.5, position="right")])
    out = ResampleVae(sample_rate=32000).process(stereo, plan)
    assert out.sample_rate == 32000 and out.channels == 2
    # Not re-panned from the plan: the left-only input stays left.
    assert _energy(out.samples[1]) < 1e-6 * _energy(out.samples[0])


def test_identity_returns_input_unchanged():
    audio = _noise(0.5)
    out = IdentityVae().process(audio, RichCaption(duration_s=0.5))
    assert out.sample_rate == audio.sample_rate
    assert np.array_equal(out.samples, audio.samples)


def test_both_register_as_vae():
    for name, cls in (("resample", ResampleVae), ("identity", IdentityVae)):
        backend = registry.get("vae", name)
        built = backend.build(backend.config_cls())
        assert isinstance(built, cls)
