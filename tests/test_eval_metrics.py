"""Evaluation metrics against hand-computed values, and the evaluator on real rendered clips."""

from __future__ import annotations

import pytest

from ualm_agent.components.critics.matching import LabelMatcher
from ualm_agent.errors import ConfigError
from ualm_agent.evaluation import metrics
from ualm_agent.evaluation.evaluator import RESULT_KEYS, Evaluator, EvaluatorConfig
from ualm_agent.evaluation.items import EvalItem, Expected, ExpectedEvent
from ualm_agent.schema import HeardEvent, Observation


@pytest.fixture(scope="module")
def matcher():
    # The critic's matcher on its family table only: no MiniLM in these tests.
    return LabelMatcher(use_minilm=False)


def heard(label: str, start: float, end: float, confidence: float = 0.9) -> HeardEvent:
    return HeardEvent(label=label, start_s=start, end_s=end, confidence=confidence)


class TableMatcher:
    """Similarities from a table, so a matching case can be built by hand."""

    threshold = 0.5

    def __init__(self, table: dict[tuple[str, str], float]) -> None:
        self.table = table

    def similarity(self, planned: str, heard_label: str) -> float:
        return self.table.get((planned, heard_label), 0.0)


# ------------------------------------------------------------------ event metrics


def test_event_recall_precision_f1(matcher):
    expected = [ExpectedEvent(label="Bark"), ExpectedEvent(label="Church bell"), ExpectedEvent(label="Siren")]
    pieces = [
        heard("Dog", 0.5, 0.7), heard("Bark", 0.5, 0.7), heard("Church bell", 5, 6),
        heard("Music", 0, 10),  # a scene class: neither a hit nor a false alarm
        heard("Wind", 2, 3),
    ]
    s = metrics.event_scores(expected, pieces, matcher)
    # Bark and Church bell found, Siren not: 2/3. Dog, Bark, Church bell right, Wind wrong: 3/4.
    assert s.recall == pytest.approx(2 / 3)
    assert s.precision == pytest.approx(3 / 4)
    assert s.f1 == pytest.approx(2 * 0.75 * (2 / 3) / (0.75 + 2 / 3))  # 0.70588
    assert set(s.matched) == {0, 1} and s.matched[1] == "Church bell"
    assert set(s.heard_labels) == {"Dog", "Bark", "Church bell", "Wind"}


def test_matching_is_one_to_one(matcher):
    # Two expected speech events and one heard speech label: only one is found.
    s = metrics.event_scores([ExpectedEvent(label="Speech"), ExpectedEvent(label="Conversation")], [heard("Speech", 0, 3)], matcher)
    assert (s.recall, s.precision) == (0.5, 1.0)
    assert s.f1 == pytest.approx(2 / 3)


def test_one_to_one_finds_the_largest_matching():
    # Greedy would give h1 to A (its best) and leave B with nothing; the maximum matching finds both.
    table = TableMatcher({("A", "h1"): 0.9, ("A", "h2"): 0.6, ("B", "h1"): 0.7})
    assert metrics.one_to_one(["A", "B"], ["h1", "h2"], table) == {0: 1, 1: 0}
    assert metrics.one_to_one(["A"], [], table) == {}


def test_nothing_heard_or_nothing_expected(matcher):
    s = metrics.event_scores([ExpectedEvent(label="Bark")], [], matcher)
    assert (s.recall, s.precision, s.f1) == (0.0, None, 0.0)
    s = metrics.event_scores([], [heard("Bark", 0, 1)], matcher)
    assert (s.recall, s.precision, s.f1) == (None, None, None)


def test_heard_pieces_go_to_the_expected_event_they_match_best(matcher):
    expected = [ExpectedEvent(label="Bark"), ExpectedEvent(label="Howl")]
    pieces = [heard("Bark", 0, 1), heard("Howl", 2, 3), heard("Dog", 4, 5), heard("Rain", 0, 9)]
    bark, howl = metrics.assign(expected, pieces, matcher)
    # Exact names win; "Dog" is as close to both (same family) so it counts for both; rain for neither.
    assert [p.label for p in bark] == ["Bark", "Dog"]
    assert [p.label for p in howl] == ["Howl", "Dog"]


def test_a_look_alike_heard_with_another_named_sound_stays_with_that_sound(matcher):
    # YAMNet hears "Cowbell" during the barks; the church bell rings later. The cowbell is the
    # barks' look-alike, so it must not pull the church bell's timing to the start.
    expected = [ExpectedEvent(label="Bark"), ExpectedEvent(label="Church bell")]
    pieces = [heard("Bark", 0.6, 0.7), heard("Cowbell", 0.6, 0.7), heard("Church bell", 5.0, 6.0), heard("Cowbell", 8.0, 8.5)]
    bark, bell = metrics.assign(expected, pieces, matcher)
    assert [p.label for p in bark] == ["Bark"]
    # A cowbell heard on its own still counts as a bell of the family.
    assert [(p.label, p.start_s) for p in bell] == [("Church bell", 5.0), ("Cowbell", 8.0)]
    assert metrics.ordering_error([0, 1], [metrics.occurrences(bark), metrics.occurrences(bell)]) == 0.0


# ------------------------------------------------------------------ AudioTime-style metrics


def test_merge_intervals():
    spans = [(3.0, 4.0), (0.0, 1.0), (1.05, 2.0), (3.5, 3.8)]
    assert metrics.merge_intervals(spans, 0.1) == [(0.0, 2.0), (3.0, 4.0)]
    assert metrics.merge_intervals(spans, 0.0) == [(0.0, 1.0), (1.05, 2.0), (3.0, 4.0)]


def test_ordering_error():
    heard_spans = [[(0.0, 1.0)], [(2.0, 3.0)], []]
    assert metrics.ordering_error([0, 1, 2], heard_spans) == 0.5  # second pair: the third event is missing
    assert metrics.ordering_error([1, 0], heard_spans) == 1.0
    assert metrics.ordering_error([0], heard_spans) is None
    # The AudioTime overlap rule: the first may overlap the second by under half the shorter.
    assert metrics.pair_in_order((0.0, 2.0), (1.5, 3.0))  # overlap 0.5 < 0.5 * 1.5
    assert not metrics.pair_in_order((0.0, 2.0), (1.0, 3.0))  # overlap 1.0 >= 0.5 * 2.0
    assert not metrics.pair_in_order((1.0, 2.0), (1.0, 3.0))  # same start: not "first"
    # An event heard in several pieces is taken from its first start to its last end.
    assert metrics.ordering_error([0, 1], [[(0.0, 0.5), (6.0, 6.5)], [(3.0, 4.0)]]) == 1.0


def test_segment_f1_one_second_segments():
    reference = [[(1.0, 3.0)], [(6.0, 8.5)]]
    system = [[(1.2, 3.4)], []]
    # Class 0: reference segments {1, 2}, system {1, 2, 3}: 2 hits, 1 false alarm.
    # Class 1: reference {6, 7, 8}, nothing heard: 3 misses.  F1 = 2*2 / (2*2 + 1 + 3).
    counts = metrics.segment_counts(reference, system, clip_s=10.0)
    assert (counts.tp, counts.fp, counts.fn) == (2, 1, 3)
    assert metrics.segment_f1(reference, system, clip_s=10.0) == pytest.approx(0.5)
    # Half-second segments: class 0 ref {2..5}, sys {2..6}; class 1 ref {12..16}.  F1 = 8 / (8 + 1 + 5).
    assert metrics.segment_f1(reference, system, clip_s=10.0, resolution=0.5) == pytest.approx(8 / 14)
    assert metrics.segment_f1([[]], [[(0.0, 1.0)]], clip_s=10.0) is None
    assert metrics.segment_f1(reference, reference, clip_s=10.0) == 1.0


def test_duration_and_frequency_l1():
    spans = [[(0.5, 2.0), (2.2, 4.0)], [(0.0, 1.0)], []]
    # Event 0 lasts 0.5..4.0 = 3.5 s against 4: 0.5. Event 2 is not heard: its full 1.5 s. Mean 1.0.
    assert metrics.duration_l1([4.0, None, 1.5], spans) == pytest.approx(1.0)
    assert metrics.duration_l1([None, None, None], spans) is None
    # Counts: 2 heard of 3, 1 heard of 2 and 0 heard of 1 -> (1 + 1 + 1) / 3.
    assert metrics.frequency_l1([3, 2, 1], spans) == pytest.approx(1.0)
    assert metrics.frequency_l1([None, 4, None], spans) == 3.0
    assert metrics.frequency_l1([None, None, None], spans) is None


def placed(label: str, balance: float | None, loudness: float | None) -> HeardEvent:
    return HeardEvent(label=label, start_s=0.0, end_s=1.0, confidence=0.9, balance=balance, loudness_db=loudness)


def test_position_accuracy():
    groups = [
        [placed("Bark", -0.9, -20), placed("Dog", -0.5, -22)],  # mean -0.7: left
        [placed("Bell", 0.2, -30)],  # 0.2 is within the centre band (|b| <= 0.3)
        [],  # not heard
        [placed("Siren", 0.8, -25)],
    ]
    assert metrics.position_accuracy(["left", "right", "left", None], groups) == pytest.approx(1 / 3)
    assert metrics.position_accuracy(["left", "center", None, "right"], groups) == 1.0
    assert metrics.position_accuracy([None, None, None, None], groups) is None
    assert metrics.side_of(-0.31) == "left" and metrics.side_of(0.3) == "center"


def test_level_accuracy_scores_only_contrasts():
    groups = [[placed("Piano", 0, -30), placed("Piano", 0, -26)], [placed("Drum", 0, -20)], [placed("Bell", 0, -40)], []]
    # Piano (loudest piece -26) is planned soft, the drum (-20) loud: right.
    assert metrics.level_accuracy(["soft", "loud", None, None], groups) == 1.0
    # Soft piano vs normal bell (-40, quieter than the piano): wrong; loud drum vs normal bell: right.
    assert metrics.level_accuracy(["soft", "loud", "normal", None], groups) == pytest.approx(2 / 3)
    # Soft and distant are the same rank: no contrast. An unheard event loses its pairs.
    assert metrics.level_accuracy(["soft", "distant", None, None], groups) is None
    assert metrics.level_accuracy(["loud", None, None, "soft"], groups) == 0.0
    assert metrics.level_accuracy(["loud", None, None, None], groups) is None


# ------------------------------------------------------------------ the evaluator


BARKS_THEN_BELL = EvalItem(
    id="barks-bell",
    prompt="a dog barks three times, then a church bell rings from 6 to 8 seconds",
    expected=Expected(
        events=[ExpectedEvent(label="Bark", count=3), ExpectedEvent(label="Church bell", spans=[(6.0, 8.0)], duration_s=2.0)],
        order=["Bark", "Church bell"],
    ),
)


def _observation() -> Observation:
    events = [
        heard("Dog", 0.5, 0.8), heard("Bark", 0.55, 0.8), heard("Dog", 1.5, 1.8),
        heard("Bow-wow", 1.85, 2.0),  # 0.05 s after the last piece: the same bark
        heard("Dog", 3.0, 3.3),
        heard("Church bell", 6.2, 8.4), heard("Bell", 6.2, 7.0),
        heard("Cowbell", 9.5, 9.7, confidence=0.3),  # a bells-family piece after the bell
        heard("Wind", 0.0, 10.0, confidence=0.3),
    ]
    return Observation(events=events, duration_s=10.0, listener="yamnet")


def test_metrics_of_a_hand_built_observation(matcher):
    evaluator = Evaluator(EvaluatorConfig(), matcher=matcher)
    result = evaluator.score_observation(BARKS_THEN_BELL, _observation())
    assert set(result) == set(RESULT_KEYS)
    # Heard labels: Dog, Bark, Bow-wow, Church bell, Bell, Cowbell right; Wind wrong.
    assert result["event_precision"] == pytest.approx(6 / 7)
    assert result["event_recall"] == 1.0
    assert result["event_f1"] == pytest.approx(12 / 13)
    assert result["frequency_l1"] == 0.0  # three barks: 0.5-0.8, 1.5-2.0, 3.0-3.3
    assert result["ordering_error"] == 0.0  # barks 0.5-3.3 before the bell 6.2-9.7
    assert result["duration_l1"] == pytest.approx(1.5)  # bell heard 6.2-9.7 = 3.5 s against 2
    assert result["segment_f1"] == pytest.approx(4 / 6)  # segments ref {6, 7}, heard {6, 7, 8, 9}
    assert result["clap_score"] is None and result["graded_by"] == "yamnet"

    # Ignoring the faint pieces (Cowbell, Wind) changes exactly what they touched.
    strict = Evaluator(EvaluatorConfig(min_confidence=0.35), matcher=matcher).score_observation(BARKS_THEN_BELL, _observation())
    assert strict["event_precision"] == 1.0 and strict["event_f1"] == 1.0
    assert strict["duration_l1"] == pytest.approx(0.2)
    assert strict["segment_f1"] == pytest.approx(0.8)


def test_metrics_an_item_does_not_fix_are_none(matcher):
    evaluator = Evaluator(EvaluatorConfig(), matcher=matcher)
    caption_only = evaluator.score_observation(EvalItem(id="c", prompt="rain"), _observation())
    assert all(caption_only[k] is None for k in metrics.METRIC_KEYS)
    plain = EvalItem(id="p", prompt="a dog", expected=Expected(events=[ExpectedEvent(label="Dog")]))
    result = evaluator.score_observation(plain, _observation())
    assert result["event_recall"] == 1.0
    assert [k for k in metrics.METRIC_KEYS if result[k] is None] == [
        "ordering_error", "segment_f1", "duration_l1", "frequency_l1", "position_accuracy", "level_accuracy",
    ]


def test_evaluator_config_checks_entries():
    with pytest.raises(ValueError, match="kind"):
        EvaluatorConfig(listener={"threshold": 0.3})
    with pytest.raises(ValueError):
        EvaluatorConfig(listner={"kind": "yamnet"})
    with pytest.raises(ValueError, match="kind must be 'clap'"):
        EvaluatorConfig(clap={"kind": "yamnet"})
    # Settings are checked against the backend before any clip is graded.
    with pytest.raises(ConfigError, match="listener 'yamnet'"):
        Evaluator(EvaluatorConfig(listener={"kind": "yamnet", "treshold": 0.3}))
    with pytest.raises(ConfigError):
        Evaluator(EvaluatorConfig(listener={"kind": "no-such-listener"}))


# ------------------------------------------------------------------ on real rendered clips


@pytest.fixture(scope="module")
def rendered():
    from ualm_agent.builders import build_component
    from ualm_agent.config import AgentConfig
    from ualm_agent.roles import GenerationRequest

    # The synthesised sources: with the packaged dog recording, one bark's tail is heard faintly
    # as "Ding", which the grader counts as the bell sounding early (see the README's limits).
    config = AgentConfig.load(None, generator={"kind": "composer", "sources": ["soundfont", "dsp"]})
    plan = build_component("planner", config).plan("a dog barks three times then a bell rings", duration_s=10.0)
    request = GenerationRequest(caption=plan, text=plan.to_text(), duration_s=10.0, seed=0)
    return build_component("generator", config).generate(request).audio


ITEM = EvalItem(
    id="dog-bell",
    prompt="a dog barks three times then a bell rings",
    expected=Expected(events=[ExpectedEvent(label="Bark", count=3), ExpectedEvent(label="Bell")], order=["Bark", "Bell"]),
)


def test_the_default_evaluator_grades_a_rendered_clip(rendered):
    result = Evaluator(EvaluatorConfig(use_minilm=False)).evaluate(ITEM, rendered)
    assert result["graded_by"] == "yamnet"
    assert result["event_recall"] == 1.0
    assert result["frequency_l1"] <= 1.0
    assert result["ordering_error"] == 0.0
    assert 0.0 < result["event_precision"] <= 1.0
    assert result["segment_f1"] is None and result["duration_l1"] is None and result["clap_score"] is None


def test_position_is_graded_on_the_spatialised_clip():
    from ualm_agent.builders import build_component
    from ualm_agent.config import AgentConfig
    from ualm_agent.roles import GenerationRequest

    config = AgentConfig()
    item = EvalItem(id="left-right", prompt="a dog barks on the left, then a bell rings on the right", expected=Expected(
        events=[ExpectedEvent(label="Bark", position="left"), ExpectedEvent(label="Bell", position="right")]))
    plan = build_component("planner", config).plan(item.prompt, duration_s=6.0)
    from ualm_agent.waveform import Waveform

    mixed = build_component("generator", config).generate(
        GenerationRequest(caption=plan, text=plan.to_text(), duration_s=6.0, seed=0)).audio
    stereo = build_component("vae", config).process(mixed, plan)
    mono = Waveform(mixed.mono()[None, :], mixed.sample_rate)
    evaluator = Evaluator(EvaluatorConfig(use_minilm=False))
    assert evaluator.evaluate(item, stereo)["position_accuracy"] == 1.0
    # The same sounds in mono are heard in the centre.
    assert evaluator.evaluate(item, mono)["position_accuracy"] == 0.0


def test_the_evaluator_scores_silence_as_nothing_found(rendered):
    from ualm_agent.waveform import Waveform
    import numpy as np

    quiet = Waveform(np.zeros_like(rendered.samples), rendered.sample_rate)
    result = Evaluator(EvaluatorConfig(use_minilm=False)).evaluate(ITEM, quiet)
    assert result["event_recall"] == 0.0 and result["event_f1"] == 0.0
    assert result["ordering_error"] == 1.0 and result["frequency_l1"] == 3.0


def test_the_evaluator_listener_is_its_own_and_named(rendered):
    from ualm_agent.builders import build_component
    from ualm_agent.config import AgentConfig

    config = EvaluatorConfig(listener={"kind": "composite", "members": [{"kind": "yamnet", "threshold": 0.3}]}, use_minilm=False)
    evaluator = Evaluator(config)
    result = evaluator.evaluate(ITEM, rendered)
    assert result["graded_by"] == "composite(yamnet)"
    assert result["event_recall"] == 1.0
    # Not the agent's listener, but built (and cached) through the same builder.
    assert evaluator.listener is not build_component("listener", AgentConfig())
    assert Evaluator(config).listener is evaluator.listener


@pytest.fixture(scope="module")
def tiny_clap(tmp_path_factory):
    from tiny_listener_models import build_tiny_clap

    return build_tiny_clap(tmp_path_factory.mktemp("clap") / "model")


def test_clap_score_comes_from_the_configured_clap_listener(rendered, tiny_clap):
    from ualm_agent.components.listeners.clap import ClapListener

    config = EvaluatorConfig(clap={"kind": "clap", "model": str(tiny_clap)}, use_minilm=False)
    result = Evaluator(config).evaluate(ITEM, rendered)
    expected = ClapListener(model=str(tiny_clap)).score(rendered, ITEM.prompt)
    assert result["clap_score"] == pytest.approx(expected, abs=1e-6)
    assert -1.0 <= result["clap_score"] <= 1.0
    assert result["graded_by"] == "yamnet"


def test_intervals_of_distances_never_go_below_zero():
    from ualm_agent.evaluation.stats import mean_ci, metric_bounds

    mean, low, high, n = mean_ci([0.0, 0.0, 0.0, 1.4], bounds=metric_bounds("duration_l1"))
    assert n == 4 and low == 0.0 and high > mean > 0
    assert metric_bounds("event_f1") == (0.0, 1.0) and metric_bounds("level_shift") is None
