"""benchmarks/coverage.py: the coverage rule, its scoring, and one real run of the default stack."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import ROOT
from ualm_agent.labels import audioset_names
from ualm_agent.roles import GenerationResult
from ualm_agent.waveform import Waveform

# Loaded from its file under another name: a plain `import coverage` would find coverage.py.
_spec = importlib.util.spec_from_file_location("coverage_benchmark", ROOT / "benchmarks" / "coverage.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up there while the file runs
_spec.loader.exec_module(bench)


# --- the rule ---------------------------------------------------------------------------------

def test_the_class_itself_in_the_top_5_covers_it():
    assert bench.is_covered("Siren", ["Alarm", "Music", "Siren", "Bell", "Rain"])
    assert bench.covering_name("Siren", ["Alarm", "Music", "Siren", "Bell", "Rain"]) == "Siren"


def test_a_direct_parent_covers_it():
    assert bench.is_covered("Bark", ["Plop", "Ding", "Dog", "Cowbell", "Music"])
    assert bench.covering_name("Bark", ["Plop", "Ding", "Dog", "Cowbell", "Music"]) == "Dog"


def test_the_class_is_preferred_to_its_parent():
    assert bench.covering_name("Bark", ["Dog", "Bark"]) == "Bark"


def test_a_grandparent_a_child_or_a_sibling_does_not_cover_it():
    # Bark < Dog < Domestic animals, pets < Animal
    assert not bench.is_covered("Bark", ["Domestic animals, pets", "Animal", "Yip", "Howl", "Music"])
    assert not bench.is_covered("Dog", ["Bark", "Yip", "Howl", "Growling", "Music"])


def test_any_of_several_parents_covers_it():
    assert bench.is_covered("Vehicle horn, car horn, honking", ["Alarm"])
    assert bench.is_covered("Vehicle horn, car horn, honking", ["Car"])


def test_a_class_yamnet_cannot_name_is_covered_through_its_parent():
    assert "Male speech, man speaking" not in audioset_names()
    assert bench.is_covered("Male speech, man speaking", ["Silence", "Speech", "Music"])
    assert not bench.is_covered("Male speech, man speaking", [])


# --- clip scores ------------------------------------------------------------------------------

def _frames(scores_by_frame: list[dict[str, float]]) -> np.ndarray:
    names = audioset_names()
    probs = np.zeros((len(scores_by_frame), len(names)), dtype=np.float32)
    for row, scores in enumerate(scores_by_frame):
        for name, p in scores.items():
            probs[row, names.index(name)] = p
    return probs


def test_top_classes_max_pools_over_frames():
    # A bark in one frame outranks a hum that is moderate throughout (mean pooling would not).
    probs = _frames([{"Bark": 0.9, "Hum": 0.5}, {"Hum": 0.5}, {"Hum": 0.5}, {"Hum": 0.5}, {"Hum": 0.5}])
    top = bench.top_classes(probs, audioset_names(), k=2)
    assert [name for name, _ in top] == ["Bark", "Hum"]
    assert top[0][1] == pytest.approx(0.9)


def test_top_classes_leaves_out_ignored_labels():
    probs = _frames([{"Silence": 0.99, "Siren": 0.8, "Alarm": 0.7, "Music": 0.1}])
    assert [n for n, _ in bench.top_classes(probs, audioset_names(), k=2)] == ["Silence", "Siren"]
    assert [n for n, _ in bench.top_classes(probs, audioset_names(), k=2, ignore=("Silence",))] == ["Siren", "Alarm"]


# --- one class, with stand-ins for the generator and listener -----------------------------------

class FakeGenerator:
    def __init__(self, unrendered=(), notes=(), fail=False):
        self.unrendered, self.notes, self.fail = tuple(unrendered), tuple(notes), fail
        self.requests = []

    def generate(self, request):
        self.requests.append(request)
        if self.fail:
            raise RuntimeError("no sound here")
        return GenerationResult(Waveform(np.zeros((1, 16000), np.float32), 16000), self.unrendered, self.notes)


class FakeListener:
    def __init__(self, probs):
        self.probs, self.calls = probs, 0
        self.settings = SimpleNamespace(ignore_labels=("Silence",))

    def frame_probabilities(self, audio):
        self.calls += 1
        return self.probs


def test_measure_class_asks_for_the_class_alone_and_judges_what_is_heard():
    gen = FakeGenerator(notes=("Bark stood in.",))
    heard = FakeListener(_frames([{"Silence": 0.99, "Plop": 0.7, "Ding": 0.5, "Cowbell": 0.4, "Music": 0.35,
                                   "Dog": 0.32, "Bark": 0.1}]))
    result = bench.measure_class("Bark", gen, heard, seed=3)
    (request,) = gen.requests
    (event,) = request.caption.layout
    assert (event.label, event.phrase, event.start_s, event.end_s) == ("Bark", "Bark", 0.5, 3.5)
    assert request.duration_s == 4.0 and request.seed == 3
    assert result.rendered and result.notes == ["Bark stood in."]
    # Silence is ignored, so Dog is fifth and covers Bark; Bark itself (sixth) does not count.
    assert [n for n, _ in result.top] == ["Plop", "Ding", "Cowbell", "Music", "Dog"]
    assert result.covered and result.covered_by == "Dog"
    assert result.category == "Animal"


def test_an_unrendered_class_is_not_covered_and_not_listened_to():
    heard = FakeListener(_frames([{"Zither": 0.9}]))
    result = bench.measure_class("Zither", FakeGenerator(unrendered=["Zither"]), heard)
    assert not result.rendered and not result.covered and result.top == []
    assert heard.calls == 0


def test_a_generator_error_is_recorded_and_the_class_is_not_covered():
    result = bench.measure_class("Zither", FakeGenerator(fail=True), FakeListener(_frames([{"Zither": 0.9}])))
    assert not result.rendered and not result.covered
    assert result.error == "RuntimeError: no sound here"


def test_summary_counts_per_top_level_category():
    heard = FakeListener(_frames([{"Siren": 0.9, "Bell": 0.8}]))
    results = bench.run_coverage(["Siren", "Bell", "Bark", "Rain"], FakeGenerator(), heard)
    summary = bench.summarise(results)
    assert (summary["covered"], summary["rendered"], summary["total"]) == (2, 4, 4)
    assert summary["covered_own"] == 2
    assert summary["by_category"] == {
        "Animal": {"covered": 0, "covered_own": 0, "rendered": 1, "total": 1},
        # Bell is both an instrument and a thing; its first parent puts it under Music.
        "Music": {"covered": 1, "covered_own": 1, "rendered": 1, "total": 1},
        "Natural sounds": {"covered": 0, "covered_own": 0, "rendered": 1, "total": 1},
        "Sounds of things": {"covered": 1, "covered_own": 1, "rendered": 1, "total": 1},
    }


def test_a_class_covered_through_a_stated_stand_in_is_not_counted_as_its_own_sound():
    heard = FakeListener(_frames([{"Dog": 0.9}]))
    note = "Growling cannot be rendered here, so the nearest sound the sources have, Dog, stands in for it."
    result = bench.measure_class("Growling", FakeGenerator(notes=(note,)), heard)
    assert result.covered and not result.own_sound
    own = bench.measure_class("Bark", FakeGenerator(), heard)
    assert own.covered and own.own_sound
    assert bench.summarise([result, own])["covered_own"] == 1


def test_unknown_class_names_are_refused():
    with pytest.raises(SystemExit, match="Barkk"):
        bench.select_classes("Siren;Barkk", None)
    assert bench.select_classes(" Siren ; Bell ", None) == ["Siren", "Bell"]
    assert len(bench.select_classes(None, 7)) == 7


# --- the real default stack -------------------------------------------------------------------

def test_a_real_run_covers_a_siren_a_bell_and_rain(tmp_path, capsys):
    out, uncovered = tmp_path / "coverage.json", tmp_path / "uncovered.txt"
    assert bench.main(["--classes", "Siren;Bell;Rain", "--json", str(out), "--uncovered", str(uncovered)]) == 0
    assert capsys.readouterr().out.startswith("covered 3 / 3 classes")
    report = json.loads(out.read_text(encoding="utf-8"))
    assert (report["covered"], report["total"], report["pooling"], report["top_k"]) == (3, 3, "max", 5)
    by_name = {c["name"]: c for c in report["classes"]}
    assert list(by_name) == ["Siren", "Bell", "Rain"]
    for name, c in by_name.items():
        assert c["rendered"] and c["covered"] and c["covered_by"] == name
        scores = [score for _, score in c["top"]]
        assert len(scores) == 5 and scores == sorted(scores, reverse=True)
        assert "Silence" not in [n for n, _ in c["top"]]
    assert by_name["Siren"]["category"] == "Sounds of things"
    assert uncovered.read_text(encoding="utf-8") == ""
