"""Likenesses: family recipes written for a class the listener does not yet confirm.

They render as honest attempts at their own class, ranked below every confirmed sound
and above another class's sound standing in, so a purr is never rendered as a meow.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from ualm_agent import ontology
from ualm_agent.components.generators.catalogue import CATALOGUE
from ualm_agent.components.generators.composer import Composer
from ualm_agent.components.sources import families, recordings, soundfont, speech, synthesis
from ualm_agent.components.sources.synthesis import DspSource
from ualm_agent.labels import audioset_names
from ualm_agent.roles import GenerationRequest, SourceMatch
from ualm_agent.schema import LayoutEvent, RichCaption

MODULES = [importlib.import_module(f"{families.__name__}.{name}") for name in families.FAMILIES]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_each_likeness_names_a_real_class_and_a_recipe_of_its_family(module):
    names = set(audioset_names())
    for cls, recipe in module.LIKENESSES.items():
        assert cls in names and ontology.is_class(cls), cls
        assert recipe in module.RECIPES, (cls, recipe)
        assert cls not in module.LABELS, f"{cls} is confirmed; it is not also a likeness"


def test_likenesses_do_not_shadow_confirmed_or_catalogue_sounds():
    merged = families.likenesses()
    assert sum(len(m.LIKENESSES) for m in MODULES) == len(merged), "a class is a likeness in two families"
    assert not set(merged) & set(families.labels())
    # The dsp source asks for a likeness before its catalogue, so no dsp catalogue class may be one.
    assert not [c for c in merged if c in CATALOGUE and CATALOGUE[c].kind == "dsp"]


def test_a_likeness_ranks_between_confirmed_sounds_and_stand_ins():
    q = synthesis.LIKENESS_QUALITY
    assert max(synthesis.STAND_IN_QUALITY, soundfont.STAND_IN_QUALITY, recordings.STAND_IN_QUALITY) < q
    assert q < min(synthesis.OWN_QUALITY, soundfont.OWN_QUALITY, recordings.QUALITY, speech.QUALITY)

    dsp = DspSource()
    assert dsp.find("Purr") == SourceMatch("Purr", q, takes=synthesis.TAKES, stand_in=False)
    # The label's own likeness comes before a stand-in named by the phrase.
    assert dsp.find("Purr", "Cat").sound == "Purr"
    assert dsp.find("Cat").quality == synthesis.OWN_QUALITY
    assert "Purr" in dsp.labels() and "Clip-clop" in dsp.labels()


def _render(composer: Composer, events: list[LayoutEvent], duration: float, seed: int = 0):
    plan = RichCaption(layout=events, duration_s=duration)
    return composer.generate(GenerationRequest(caption=plan, text="", duration_s=duration, seed=seed))


@pytest.fixture(scope="module")
def composer() -> Composer:
    # Synthesised sources only, whatever recordings are installed.
    return Composer(sources=["soundfont", "dsp"])


@pytest.mark.parametrize(("label", "recipe"), [("Purr", "purr"), ("Clip-clop", "clip_clop")])
def test_the_composer_renders_a_likeness_with_its_own_recipe(composer, monkeypatch, label, recipe):
    used: list[str] = []
    original = families.recipes()[recipe]

    def spy(*args):
        used.append(recipe)
        return original(*args)

    monkeypatch.setitem(families.recipes(), recipe, spy)
    result = _render(composer, [LayoutEvent(label=label, start_s=0.0, end_s=2.0)], 2.0)
    assert used and not result.unrendered
    assert result.notes == (), "a likeness is the label's own sound: no stand-in note"


def test_a_meow_then_a_purr_are_two_different_sounds(composer):
    events = [LayoutEvent(label="Meow", phrase="a cat meows", start_s=0.0, end_s=2.0),
              LayoutEvent(label="Purr", phrase="then purrs", start_s=2.0, end_s=4.0)]
    result = _render(composer, events, 4.0)
    assert result.notes == () and not result.unrendered
    x, sr = result.audio.samples.mean(axis=0), result.audio.sample_rate

    def centroid(y: np.ndarray) -> float:
        power = np.abs(np.fft.rfft(y)) ** 2
        return float((power * np.fft.rfftfreq(len(y), 1 / sr)).sum() / power.sum())

    # A meow's voice sits near 1-2 kHz; a purr is a low rumble (it was a second meow before).
    meow, purr = centroid(x[: 2 * sr]), centroid(x[2 * sr :])
    assert meow > 1000 and purr < 400


class _Recorded:
    """A source holding a real recording of Moo."""

    name = "recorded"

    def labels(self) -> list[str]:
        return ["Moo"]

    def find(self, label: str, phrase: str = "") -> SourceMatch | None:
        return SourceMatch("Moo", recordings.QUALITY) if label == "Moo" else None

    def render(self, match, request) -> np.ndarray:
        return np.full(int(request.duration_s * request.sample_rate), 0.1)


def test_a_confirmed_render_elsewhere_beats_a_likeness():
    composer = Composer(sources=["soundfont", "dsp"])
    composer.sources = [*composer.sources, _Recorded()]
    matches = composer._matches("Moo", "")
    assert [(s.name, m.quality) for s, m in matches] == [("recorded", recordings.QUALITY),
                                                          ("dsp", synthesis.LIKENESS_QUALITY)]
