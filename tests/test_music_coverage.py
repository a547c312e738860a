"""Bands (several GM instruments on one groove) and the genres they cover for a real listener."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ualm_agent.components.generators.catalogue import CATALOGUE
from ualm_agent.components.generators.composer import Composer
from ualm_agent.components.generators.phrases import PATTERNS
from ualm_agent.components.generators.soundfont import Note, render_notes
from ualm_agent.components.sources.soundfont import default_font

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import coverage  # noqa: E402

FONT = default_font()
pytestmark = pytest.mark.skipif(FONT is None, reason="no General MIDI soundfont installed")
RATE = 16000


def _band_notes(style: str, seed: int = 0) -> list[Note]:
    return PATTERNS[style](3.0, (50, 52), np.random.default_rng(seed), False)


@pytest.mark.parametrize("style", ["techno", "drive_165", "anthem", "oompah"])
def test_a_band_renders_finite_audio_of_the_asked_length(style):
    audio = render_notes(FONT, _band_notes(style), 3.0, program=48, sample_rate=RATE)
    assert audio.shape == (3 * RATE,) and np.isfinite(audio).all() and np.abs(audio).max() > 0.01


def test_every_instrument_of_a_band_is_heard():
    notes = _band_notes("drive_165")
    players = {(n.program, n.drums) for n in notes}
    assert {(None, False), (48, False), (61, False), (None, True)} <= players
    full = render_notes(FONT, notes, 3.0, program=65, sample_rate=RATE)
    for player in players:
        # Leaving one instrument out changes the mix: each part is audible, none is silenced.
        rest = [n for n in notes if (n.program, n.drums) != player]
        without = render_notes(FONT, rest, 3.0, program=65, sample_rate=RATE)
        assert np.sqrt(np.mean((full - without) ** 2)) > 0.01 * np.sqrt(np.mean(full**2)), player


def test_a_one_instrument_render_is_the_same_before_and_after_a_band():
    notes = PATTERNS["strum"](2.0, (52,), np.random.default_rng(3), False)
    before = render_notes(FONT, notes, 2.0, program=25, sample_rate=RATE)
    render_notes(FONT, _band_notes("techno"), 3.0, program=81, sample_rate=RATE)
    after = render_notes(FONT, notes, 2.0, program=25, sample_rate=RATE)
    assert np.array_equal(before, after)


# Covered on all of seeds 0-3 when tuned (FluidR3 GM).
ROBUST = ["Dubstep", "Video game music", "Music for children", "Tapping (guitar technique)"]


@pytest.fixture(scope="module")
def listener():
    return coverage.yamnet_listener()


@pytest.mark.parametrize("name", ROBUST)
def test_a_genre_band_is_heard_as_its_class(listener, name):
    assert CATALOGUE[name].pattern in PATTERNS
    composer = Composer(sources=["soundfont"])
    result = coverage.measure_class(name, composer, listener, seed=0)
    assert result.rendered and result.covered, (name, result.top)
