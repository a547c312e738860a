"""Planner ``rules`` on AudioTime-style captions: the shipped set, its goals, and the phrasings they rely on."""

from __future__ import annotations

import collections
import importlib.util
import json
from pathlib import Path

import pytest

from ualm_agent.components.planners.rules import RulesPlanner
from ualm_agent.evaluation.items import AUDIOTIME_TASKS
from ualm_agent.evaluation.planner_scores import load_folder, plan_items, score_item, summarise, task_of
from ualm_agent.labels import audioset_names
from ualm_agent.schema import LayoutEvent, RichCaption

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "prompts" / "audiotime_style"
GOALS = {"order_right": 0.95, "timestamps": 0.90, "durations": 0.90, "counts": 0.90}


@pytest.fixture(scope="module")
def planner() -> RulesPlanner:
    return RulesPlanner()


@pytest.fixture(scope="module")
def items():
    return load_folder(SET)


def test_the_set_is_large_varied_and_labelled_with_audioset_names(items):
    per_task = collections.Counter(task_of(item) for item in items)
    assert len(items) >= 160
    assert set(per_task) == set(AUDIOTIME_TASKS)
    assert min(per_task.values()) >= 40, per_task
    names = set(audioset_names())
    labels = [event.label for item in items for event in item.expected.events]
    assert set(labels) <= names, sorted(set(labels) - names)
    assert len(set(labels)) >= 100  # many sound sources, not a few repeated
    assert len({item.prompt for item in items}) == len(items)
    sizes = collections.Counter(len(item.expected.events) for item in items)
    assert set(sizes) >= {1, 2, 3}


def test_the_planner_meets_its_goals_on_the_set(planner, items):
    results = plan_items(planner, items)
    measures = summarise(results)
    misses = [(r.item.prompt, r.missed) for r in results if r.missed]
    for measure, goal in GOALS.items():
        assert measures[measure]["total"] >= 10, measure
        assert measures[measure]["share"] >= goal, (measure, measures[measure], misses)
    assert measures["event_recall"]["share"] >= 0.95, misses


def test_the_benchmark_script_writes_the_same_measures(tmp_path, items, planner):
    spec = importlib.util.spec_from_file_location("planner_audiotime", ROOT / "benchmarks" / "planner_audiotime.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "scores.json"
    assert bench.main(["--task", "frequency", "--json", str(out)]) == 0
    written = json.loads(out.read_text())
    frequency = [item for item in items if task_of(item) == "frequency"]
    assert written["items"] == len(frequency)
    assert written["measures"] == json.loads(json.dumps(summarise(plan_items(planner, frequency))))
    assert written["measures"]["durations"]["share"] is None  # no duration items in the frequency file


# ---- the scoring itself -------------------------------------------------------------------------


def _plan(*events: tuple[str, float, float, int]) -> RichCaption:
    layout = [LayoutEvent(label=label, start_s=a, end_s=b, count=n) for label, a, b, n in events]
    return RichCaption(keywords=["x"], layout=layout, description="x", duration_s=10.0)


def _item(task: str, caption: str, event: dict, tmp_path: Path):
    (tmp_path / f"{task}_caption.json").write_text(json.dumps({"t_1": {"event": event, "caption": caption}}))
    return load_folder(tmp_path, task)[0]


def test_scoring_matches_labels_by_name_or_family_and_checks_order(tmp_path):
    item = _item("ordering", "A dog barks, then a siren wails.", {"Dog": [[0.5, 1.0]], "Siren": [[3.0, 6.0]]}, tmp_path)
    right = score_item(item, _plan(("Bark", 0.0, 1.0, 1), ("Siren", 1.3, 5.0, 1)))
    assert right.verdicts["event_recall"] == [True, True] and right.verdicts["order_right"] == [True]
    wrong = score_item(item, _plan(("Siren", 0.0, 1.0, 1), ("Bark", 1.3, 5.0, 1)))
    assert wrong.verdicts["order_right"] == [False]
    unrelated = score_item(item, _plan(("Meow", 0.0, 1.0, 1), ("Siren", 1.3, 5.0, 1)))
    assert unrelated.verdicts["event_recall"] == [False, True] and unrelated.missed == ["event_recall", "order_right"]


def test_scoring_of_spans_lengths_and_counts(tmp_path):
    stamped = _item("timestamp", "A bell at 1 s and 6 s.", {"Bell": [[1.0, 2.0], [6.0, 7.0]]}, tmp_path)
    assert score_item(stamped, _plan(("Bell", 1.2, 2.4, 1), ("Bell", 6.0, 7.0, 1))).verdicts["timestamps"] == [True]
    assert score_item(stamped, _plan(("Bell", 1.0, 2.0, 1), ("Bell", 6.0, 7.6, 1))).verdicts["timestamps"] == [False]
    long = _item("duration", "Rain for 8 seconds.", {"Rain": [8.0]}, tmp_path)
    assert score_item(long, _plan(("Rain", 0.0, 8.7, 1))).verdicts["durations"] == [True]  # 10 % of 8 s
    assert score_item(long, _plan(("Rain", 0.0, 9.0, 1))).verdicts["durations"] == [False]
    counted = _item("frequency", "A knock three times.", {"Knock": [1.0, 2.0, 3.0]}, tmp_path)
    assert score_item(counted, _plan(("Knock", 0.0, 3.0, 3))).verdicts["counts"] == [True]
    assert score_item(counted, _plan(("Knock", 0.0, 1.0, 1), ("Knock", 2.0, 4.0, 2))).verdicts["counts"] == [True]
    assert score_item(counted, _plan(("Knock", 0.0, 3.0, 2))).verdicts["counts"] == [False]


def test_segment_f1_scores_ordering_spans_and_rewards_a_tight_plan(tmp_path):
    item = _item("ordering", "A dog barks, then a siren wails.", {"Dog": [[0.0, 1.0]], "Siren": [[2.0, 6.0]]}, tmp_path)
    exact = score_item(item, _plan(("Bark", 0.0, 1.0, 1), ("Siren", 2.0, 6.0, 1)))
    assert exact.segment_f1 == 1.0
    stretched = score_item(item, _plan(("Bark", 0.0, 5.0, 1), ("Siren", 5.3, 10.0, 1)))
    assert 0.0 < stretched.segment_f1 < exact.segment_f1
    assert summarise([exact, stretched])["segment_f1"] == {"items": 2, "mean": (1.0 + stretched.segment_f1) / 2}
    stamped = _item("timestamp", "A bell at 1 s.", {"Bell": [[1.0, 2.0]]}, tmp_path)
    assert score_item(stamped, _plan(("Bell", 1.0, 2.0, 1))).segment_f1 is None  # ordering items only


# ---- phrasings the set relies on ----------------------------------------------------------------


def _spans(caption: RichCaption) -> list[tuple[str, float, float, int]]:
    return [(ev.label, ev.start_s, ev.end_s, ev.count) for ev in caption.layout]


@pytest.mark.parametrize(
    ("prompt", "span"),
    [
        ("A car horn honks at the 4-second mark.", (4.0, None)),
        ("A siren wails from the 2-second mark to the 9-second mark.", (2.0, 9.0)),
        ("Between the 3-second and 5-second marks, a baby babbles.", (3.0, 5.0)),
        ("A siren starts at 2 seconds and ends at 8 seconds.", (2.0, 8.0)),
        ("A dog barks, beginning at 2.3 seconds and ending at 3.1 seconds.", (2.3, 3.1)),
        ("Starting at 2 seconds, a baby cries until 7 seconds.", (2.0, 7.0)),
        ("In the first 3 seconds a man speaks.", (0.0, 3.0)),
    ],
)
def test_stated_times(planner, prompt, span):
    (event,) = planner.plan(prompt, duration_s=10.0).layout
    assert event.start_s == pytest.approx(span[0])
    if span[1] is not None:
        assert event.end_s == pytest.approx(span[1])


def test_a_hyphenated_length_is_still_a_length(planner):
    (event,) = planner.plan("A 3-second beep.", duration_s=10.0).layout
    assert event.duration_s == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("prompt", "seconds"),
    [("Thunder rolls for two and a half seconds.", 2.5), ("A dog barks for a duration of 2 seconds.", 2.0)],
)
def test_stated_lengths(planner, prompt, seconds):
    (event,) = planner.plan(prompt, duration_s=10.0).layout
    assert event.duration_s == pytest.approx(seconds)


def test_each_time_leads_the_sound_after_its_comma(planner):
    plan = planner.plan("From 1.2 to 3.8 seconds, a woman laughs; from 5 to 7 seconds, a child giggles.", duration_s=10.0)
    assert _spans(plan) == [("Laughter", 1.2, 3.8, 1), ("Giggle", 5.0, 7.0, 1)]
    again = planner.plan("A dog barks at 1 second, and again at 4 seconds, then a cat meows.", duration_s=10.0)
    assert [(label, a) for label, a, _, _ in _spans(again)][:2] == [("Bark", 1.0), ("Bark", 4.0)]


def test_an_open_ended_sound_lasts_until_the_next_stated_one(planner):
    plan = planner.plan("The engine starts at 1 second and revs from 2 to 5 seconds.", duration_s=10.0)
    assert [(a, b) for _, a, b, _ in _spans(plan)] == [(1.0, 2.0), (2.0, 5.0)]
    (click,) = planner.plan("A mouse clicks at 6 seconds.", duration_s=10.0).layout
    assert click.start_s == 6.0 and click.duration_s <= 0.5


def test_and_shortly_after_keeps_the_written_order(planner):
    plan = planner.plan("A motorcycle accelerates past, and shortly after a truck honks its horn.", duration_s=10.0)
    assert [ev.label for ev in plan.layout] == ["Accelerating, revving, vroom", "Air horn, truck horn"]


@pytest.mark.parametrize(
    ("prompt", "label", "count"),
    [
        ("There are three knocks on the door.", "Knock", 3),
        ("A microwave beeps three times.", "Beep, bleep", 3),
        ("People applaud.", "Applause", 1),
        ("A wooden door bangs shut.", "Slam", 1),
        ("The tap is turned on.", "Water tap, faucet", 1),
    ],
)
def test_sound_words(planner, prompt, label, count):
    (event,) = planner.plan(prompt, duration_s=10.0).layout
    assert (event.label, event.count) == (label, count)
