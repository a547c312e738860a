"""Looping a short recording to fill a long event: seamless when sustained, countable when impulsive."""

from __future__ import annotations

import numpy as np
import pytest

from ualm_agent.components.sources.clips import LOOP_GAP_S, fit, is_sustained, loudest_hit, unusable

SR = 16000


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return 0.3 * np.random.default_rng(seed).standard_normal(int(seconds * SR))


def _burst(seconds: float = 0.5, decay_s: float = 0.03) -> np.ndarray:
    """A knock-like hit: noise that dies away within a few tens of milliseconds."""
    t = np.arange(int(seconds * SR)) / SR
    return _noise(seconds, 1) * np.exp(-t / decay_s)


def _frame_db(x: np.ndarray, frame_s: float = 0.02) -> np.ndarray:
    hop = int(frame_s * SR)
    frames = len(x) // hop
    return 10 * np.log10(np.mean(x[: frames * hop].reshape(frames, hop) ** 2, axis=1) + 1e-12)


def test_sustained_and_impulsive_recordings_are_told_apart():
    t = np.arange(SR) / SR
    assert is_sustained(_noise(1.0), SR)
    assert is_sustained(0.5 * np.sin(2 * np.pi * 300 * t), SR)
    assert not is_sustained(_burst(), SR)
    # A bark with silence around it: most frames sit far from its median level.
    bark = np.concatenate([np.zeros(SR // 4), _noise(0.15), np.zeros(SR // 4)])
    assert not is_sustained(bark, SR)


def test_a_sustained_recording_loops_without_a_dip_at_the_joins():
    rain = _noise(1.0)
    out = fit(rain, 5 * SR, SR, single=False)
    assert out.size == 5 * SR
    db = _frame_db(out)
    # No frame anywhere, the joins included, falls 20 dB under the recording's own level.
    assert db.min() > np.median(_frame_db(rain)) - 20.0, db.min()
    # Continuous: no stretch of silence at all, so the listener hears one 5 s sound.
    assert np.all(db > np.median(db) - 6.0)


def test_a_sustained_recording_with_a_faded_tail_still_loops_seamlessly():
    fan = _noise(1.0)
    fan[-SR // 5 :] *= np.linspace(1.0, 0.0, SR // 5) ** 4  # a fade-out at the end of the file
    fan[-SR // 20 :] = 0.0
    db = _frame_db(fit(fan, 4 * SR, SR, single=False))
    assert db.min() > np.median(_frame_db(fan)) - 20.0


def test_an_impulsive_recording_keeps_a_countable_gap_between_repeats():
    knock = _burst(0.5)
    out = fit(knock, 3 * SR, SR, single=False)
    gap = int(LOOP_GAP_S * SR)
    starts = list(range(0, out.size, knock.size + gap))
    assert len(starts) >= 3
    for at in starts:
        m = min(out.size - at, knock.size)
        np.testing.assert_array_equal(out[at : at + m], knock[:m])
    # Silence of LOOP_GAP_S between copies, longer than the listener's 0.2 s split point.
    assert LOOP_GAP_S > 0.2
    assert np.all(out[knock.size : knock.size + gap] == 0.0)


def test_a_counted_repeat_or_a_long_recording_is_played_once_and_trimmed():
    rain = _noise(1.0)
    once = fit(rain, 3 * SR, SR, single=True)
    np.testing.assert_array_equal(once[:SR], rain)
    assert np.all(once[SR:] == 0.0)
    np.testing.assert_array_equal(fit(rain, SR // 2, SR, single=False), rain[: SR // 2])


def three_barks() -> np.ndarray:
    """Three bark-like bursts, the middle one loudest, 0.3 s of silence between them."""
    gap = np.zeros(int(0.3 * SR))
    return np.concatenate([gap, 0.5 * _burst(0.2), gap, _burst(0.2), gap, 0.4 * _burst(0.2), gap])


def count_bursts(x: np.ndarray) -> int:
    """Runs of 10 ms frames within 30 dB of the peak, parted by at least 0.1 s of quieter frames."""
    hop = SR // 100
    env = np.sqrt(np.mean(x[: len(x) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    loud = np.flatnonzero(env > env.max() * 10 ** (-30 / 20))
    return 0 if loud.size == 0 else 1 + int(np.sum(np.diff(loud) > 10))


def test_the_loudest_hit_of_a_three_burst_clip_is_one_burst():
    barks = three_barks()
    assert count_bursts(barks) == 3
    hit = loudest_hit(barks, SR)
    assert count_bursts(hit) == 1 and hit.size < 0.3 * SR
    assert np.max(np.abs(hit)) == np.max(np.abs(barks))  # the loudest of the three


@pytest.mark.parametrize("clip", [np.zeros(SR), np.zeros(0), np.zeros(5), np.full(SR, np.nan)])
def test_the_loudest_hit_of_silence_or_nothing_is_the_clip_itself(clip):
    out = loudest_hit(clip, SR)
    assert out.size == clip.size


def test_silent_and_very_short_clips_are_unusable():
    assert unusable(np.zeros(SR), SR) == "it is silent"
    assert unusable(np.full(SR, 5e-5), SR) == "it is silent"
    assert unusable(_burst(0.005), SR).startswith("it is too short")
    assert unusable(_burst(0.5), SR) is None
