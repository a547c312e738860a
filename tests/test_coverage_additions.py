"""Classes added to the offline stack's coverage, heard as their class by YAMNet.

Each was covered on all of seeds 0-3 through the coverage benchmark's scoring when filed;
one seed is checked here, rendered by the one source that renders it in the default stack.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from ualm_agent.components.generators.composer import Composer
from ualm_agent.components.sources.soundfont import default_font
from ualm_agent.errors import ModelUnavailableError

# The benchmark, loaded by path once per session: the name "coverage" may belong to coverage.py.
coverage = sys.modules.get("coverage_benchmark")
if coverage is None:
    _spec = importlib.util.spec_from_file_location(
        "coverage_benchmark", Path(__file__).resolve().parents[1] / "benchmarks" / "coverage.py")
    coverage = sys.modules["coverage_benchmark"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(coverage)

# class -> the source that renders it in the default stack (its catalogue or family entry).
ADDED = {
    "Singing bowl": "dsp",
    "Theremin": "dsp",
    "Ringtone": "soundfont",
    "Jingle bell": "soundfont",
    "Chime": "soundfont",
    "Zither": "soundfont",
    "Rustling leaves": "dsp",
    "Fart": "dsp",
    "Tools": "dsp",
    "Liquid": "dsp",
    "Air horn, truck horn": "dsp",
    "Boat, Water vehicle": "dsp",
}


@pytest.fixture(scope="module")
def listener():
    try:
        return coverage.yamnet_listener()
    except ModelUnavailableError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("name", list(ADDED))
def test_an_added_class_is_heard_as_itself(listener, name):
    source = ADDED[name]
    if source == "soundfont" and default_font() is None:
        pytest.skip("no General MIDI soundfont installed")
    composer = Composer(sources=[source])
    # The class's own sound, not a stand-in for it.
    match = composer.sources[0].find(name, name)
    assert match is not None and not match.stand_in, match
    result = coverage.measure_class(name, composer, listener, seed=0)
    assert result.rendered and result.covered, (name, result.top)
