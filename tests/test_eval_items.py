"""Evaluation items: the JSONL format, importers, seeds and the shipped prompt set."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from ualm_agent.errors import UsageError
from ualm_agent.evaluation.items import (
    EvalItem,
    Expected,
    ExpectedEvent,
    import_audiocaps,
    import_audiotime,
    item_seed,
    load_items,
    write_items,
)
from ualm_agent.labels import is_audioset_name

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
CATEGORIES = {"order", "counts", "timestamps", "overlap", "position", "level"}
AUDIOCAPS_TEST = DATA / "audiocaps" / "test.csv"


def _good(item_id: str) -> str:
    return json.dumps({"id": item_id, "prompt": "a dog barks twice", "expected": {"events": [{"label": "Bark", "count": 2}]}})


def test_malformed_lines_are_reported_with_their_numbers_and_good_lines_still_load(tmp_path):
    lines = [
        _good("a"),                                                   # 1
        "",                                                           # 2 blank: skipped
        '{"id": "b", "prompt": "x"',                                  # 3 broken JSON
        "[1, 2]",                                                     # 4 not an object
        '{"id": "c"}',                                                # 5 no prompt
        json.dumps({"id": "d", "prompt": "x", "expected": {"events": [{"label": "Bark"}], "order": ["Bell"]}}),  # 6
        _good("a"),                                                   # 7 repeated id
        json.dumps({"id": "e", "prompt": "x", "colour": "red"}),      # 8 unknown field
        json.dumps({"id": "f/g", "prompt": "x"}),                     # 9 id is no folder name
        json.dumps({"id": "h", "prompt": "x", "expected": {"events": [{"label": "Bell", "spans": [[3, 2]]}]}}),  # 10
        _good("z"),                                                   # 11
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items, errors = load_items(path)
    assert [i.id for i in items] == ["a", "z"]
    numbers = [int(e.split(":")[1]) for e in errors]
    assert numbers == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "not valid JSON" in errors[0]
    assert "prompt" in errors[2]
    assert "'Bell'" in errors[3] and "not an expected event" in errors[3]
    assert "already used on line 1" in errors[4]
    assert "colour" in errors[5]
    assert "start < end" in errors[7]


def test_a_missing_prompt_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        load_items(tmp_path / "none.jsonl")


def test_write_then_load_gives_the_same_items(tmp_path):
    items = [
        EvalItem(id="one", prompt="a bell rings at 2 s for 1 s", seed=7, tags=["timestamps"],
                 expected=Expected(events=[ExpectedEvent(label="Bell", spans=[(2.0, 3.0)], duration_s=1.0)])),
        EvalItem(id="two", prompt="a cat meows, then a dog barks",
                 expected=Expected(events=[ExpectedEvent(label="Meow"), ExpectedEvent(label="Bark", position="left")],
                                   order=["Meow", "Bark"])),
        EvalItem(id="three", prompt="wind", meta={"youtube_id": "x", "start_time": 30.0}),
    ]
    path = write_items(items, tmp_path / "out" / "set.jsonl")
    loaded, errors = load_items(path)
    assert errors == [] and loaded == items
    # Defaults are left out, so hand-edited files stay short.
    assert '"spans"' not in path.read_text().splitlines()[1]


def test_expected_events_check_their_own_consistency():
    with pytest.raises(ValueError, match="count 3 but 2 onsets"):
        ExpectedEvent(label="Knock", count=3, onsets=[1.0, 2.0])
    assert ExpectedEvent(label="Knock", onsets=[2.0, 1.0]).onsets == [1.0, 2.0]
    with pytest.raises(ValueError, match="same event twice"):
        Expected(events=[ExpectedEvent(label="Dog"), ExpectedEvent(label="Bell")], order=["Dog", "dogs"])
    # Order labels are found up to spelling and by the AudioSet name.
    expected = Expected(events=[ExpectedEvent(label="a knocking", audioset="Knock")], order=["knocks"])
    assert expected.index_of("Knock") == 0


def test_seeds_are_fixed_per_item():
    pinned = EvalItem(id="x", prompt="p", seed=42)
    assert item_seed(pinned, 0) == item_seed(pinned, 9) == 42
    a, b = EvalItem(id="a", prompt="p"), EvalItem(id="b", prompt="p")
    assert item_seed(a, 0) == item_seed(EvalItem(id="a", prompt="other words"), 0)
    assert item_seed(a, 0) != item_seed(b, 0)
    assert item_seed(a, 0) != item_seed(a, 1)
    # A stable hash (not Python's salted hash()): the same number in every process and release.
    assert item_seed(a, 0) == 1960254430
    assert all(0 <= item_seed(EvalItem(id=str(i), prompt="p"), 3) < 2**31 for i in range(50))


def test_audiotime_ordering_gives_spans_and_the_order_of_first_onsets():
    items = import_audiotime(DATA / "audiotime" / "ordering_caption.json")
    first, second = items
    assert first.id == "audiotime-ordering-t_1" and first.tags == ["audiotime", "ordering"]
    assert first.prompt == "A dog barks twice, then a siren wails."
    siren, dog = first.expected.events
    assert dog.spans == [(0.5, 1.25), (2.0, 2.75)] and siren.spans == [(4.5, 9.0)]
    assert first.expected.order == ["Dog", "Siren"]
    assert dog.count is None and dog.duration_s is None
    horn, knocking = second.expected.events
    # Free-text labels are kept; the AudioSet name is stored where one is spelled.
    assert horn.label == "Vehicle horn, car horn, honking, toot"
    assert horn.audioset == "Vehicle horn, car horn, honking"
    assert knocking.label == "Knocking on a door" and knocking.audioset is None
    assert second.expected.order == ["Vehicle horn, car horn, honking, toot", "Knocking on a door"]


def test_audiotime_timestamp_duration_and_frequency():
    (stamp,) = import_audiotime(DATA / "audiotime" / "timestamp_caption.json")
    (bell,) = stamp.expected.events
    assert bell.spans == [(1.0, 3.0), (6.0, 8.5)] and stamp.expected.order == []
    (length,) = import_audiotime(DATA / "audiotime" / "duration_caption.json")
    assert [(e.label, e.duration_s, e.spans) for e in length.expected.events] == [("Rain", 4.25, []), ("Thunder", 1.5, [])]
    (freq,) = import_audiotime(DATA / "audiotime" / "frequency_caption.json")
    (knock,) = freq.expected.events
    assert knock.onsets == [1.0, 2.25, 3.5] and knock.count == 3 and knock.audioset == "Knock"


def test_audiotime_task_is_checked_and_bad_entries_named(tmp_path):
    with pytest.raises(UsageError, match="unknown AudioTime task"):
        import_audiotime(DATA / "audiotime" / "ordering_caption.json", task="loudness")
    bad = tmp_path / "duration_caption.json"
    bad.write_text(json.dumps({"q_9": {"event": {"Rain": [1.0, 2.0]}, "caption": "rain"}}))
    with pytest.raises(UsageError, match="'q_9'.*one length"):
        import_audiotime(bad)
    # The same values read as a frequency item are two onsets.
    (item,) = import_audiotime(bad, task="frequency")
    assert item.expected.events[0].count == 2


def test_audiocaps_captions_become_items_without_expectations(tmp_path):
    items = import_audiocaps(DATA / "audiocaps_sample.csv")
    assert [i.id for i in items] == ["audiocaps-501", "audiocaps-502"]
    assert items[1].prompt == "Rain on a roof, then distant thunder"
    assert items[0].expected is None and items[0].tags == ["audiocaps"]
    assert items[0].meta == {"youtube_id": "abcDEF12345", "start_time": 30.0}
    broken = tmp_path / "caps.csv"
    broken.write_text("audiocap_id,caption\n1,a dog\n")
    with pytest.raises(UsageError, match="youtube_id, start_time"):
        import_audiocaps(broken)


def test_the_real_audiocaps_test_split_imports_whole():
    assert AUDIOCAPS_TEST.exists(), f"{AUDIOCAPS_TEST} is missing from the checkout"
    items = import_audiocaps(AUDIOCAPS_TEST)
    assert len(items) == 4875 and len({i.id for i in items}) == 4875


def _shipped():
    path = resources.files("ualm_agent.prompts") / "eval_set.jsonl"
    with resources.as_file(path) as p:
        return load_items(p)


def test_the_shipped_prompt_set_loads_and_covers_every_category():
    items, errors = _shipped()
    assert errors == []
    assert len(items) >= 40
    tags = {t for item in items for t in item.tags}
    assert CATEGORIES <= tags, CATEGORIES - tags
    for category in CATEGORIES:
        assert sum(category in item.tags for item in items) >= 6, category
    for item in items:
        assert item.expected and item.expected.events, item.id
        for event in item.expected.events:
            assert is_audioset_name(event.label), (item.id, event.label)
        if "order" in item.tags:
            assert len(item.expected.order) >= 2, item.id
        if "counts" in item.tags:
            assert any(e.count for e in item.expected.events), item.id
        if "timestamps" in item.tags:
            assert any(e.spans or e.duration_s for e in item.expected.events), item.id
        if "position" in item.tags:
            assert any(e.position for e in item.expected.events), item.id
        if "level" in item.tags:
            assert any(e.level for e in item.expected.events), item.id


def test_the_default_stack_can_render_and_plans_what_the_shipped_set_expects():
    from ualm_agent.builders import build_component
    from ualm_agent.components.critics.matching import shared_matcher
    from ualm_agent.config import AgentConfig

    config = AgentConfig()
    planner, generator = build_component("planner", config), build_component("generator", config)
    matcher = shared_matcher(0.55, False)
    items, _ = _shipped()
    for item in items:
        plan = planner.plan(item.prompt, duration_s=10.0)
        planned = []
        for event in item.expected.events:
            assert generator.can_render(event.label), (item.id, event.label)
            hits = [p for p in plan.layout if matcher.matches(event.label, p.label)]
            assert hits, (item.id, event.label, plan.labels())
            p = hits[0]
            planned.append(p)
            if event.count:
                assert p.count == event.count, (item.id, event.label)
            if event.spans:
                assert (p.start_s, p.end_s) == pytest.approx(event.spans[0]), item.id
            if event.duration_s:
                assert p.duration_s == pytest.approx(event.duration_s), item.id
            if event.position:
                assert p.position == event.position, item.id
            if event.level:
                assert p.level == event.level, item.id
        starts = [planned[item.expected.index_of(label)].start_s for label in item.expected.order]
        assert starts == sorted(starts), item.id


def test_a_byte_order_mark_does_not_spoil_the_first_line(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_text(json.dumps({"id": "a", "prompt": "a dog barks"}) + "\n", encoding="utf-8-sig")
    items, errors = load_items(path)
    assert [i.id for i in items] == ["a"] and errors == []


def test_eval_takes_an_audiotime_folder_or_file_whole(tmp_path):
    import json

    from ualm_agent.evaluation.items import load_items

    (tmp_path / "frequency_caption.json").write_text(json.dumps(
        {"t_1": {"event": {"Knock": [1.0, 2.0, 3.0]}, "caption": "Someone knocks three times."}}))
    (tmp_path / "ordering_caption.json").write_text(json.dumps(
        {"t_1": {"event": {"Siren": [[4.5, 9.0]], "Bark": [[0.5, 1.25]]}, "caption": "A dog barks, then a siren wails."}}))
    (tmp_path / "notes.json").write_text("{}")  # not a caption file: ignored
    items, errors = load_items(tmp_path)
    assert errors == []
    # Files in AudioTime's task order, whatever the folder's order.
    assert [i.id for i in items] == ["audiotime-ordering-t_1", "audiotime-frequency-t_1"]
    assert items[0].expected.order == ["Bark", "Siren"] and items[1].expected.events[0].count == 3
    one, _ = load_items(tmp_path / "frequency_caption.json")
    assert [i.id for i in one] == ["audiotime-frequency-t_1"]


def test_the_shipped_audiotime_style_set_loads_as_eval_items():
    from ualm_agent.evaluation.items import load_items

    items, errors = load_items(ROOT / "prompts" / "audiotime_style")
    assert errors == [] and len(items) >= 150
    assert {i.tags[1] for i in items} == {"ordering", "timestamp", "duration", "frequency"}


@pytest.mark.parametrize("task, event, needle", [
    ("ordering", {"Dog bark": [[0.5, 1.5, 2.0]]}, "event 'Dog bark': each span is [start, end] in seconds, got [0.5, 1.5, 2.0]"),
    ("timestamp", {"Dog bark": [1.0]}, "event 'Dog bark': each span is [start, end] in seconds, got 1.0"),
    ("timestamp", {"Bell": [[1.0, "b"]]}, "event 'Bell': a span end is a number of seconds, got [1.0, \"b\"]"),
    ("frequency", {"Knock": [1.0, None]}, "event 'Knock': each onset is a number of seconds, got null"),
    ("frequency", {"Knock": [True]}, "event 'Knock': each onset is a number of seconds, got true"),
    ("duration", {"Rain": ["a"]}, "event 'Rain': the duration is a number of seconds, got \"a\""),
])
def test_audiotime_values_of_the_wrong_shape_are_named_plainly(tmp_path, task, event, needle):
    bad = tmp_path / f"{task}_caption.json"
    bad.write_text(json.dumps({"q_1": {"event": event, "caption": "c"}}))
    with pytest.raises(UsageError) as info:
        import_audiotime(bad)
    assert f"item 'q_1': {needle}" in str(info.value)
    # No Python internals (unpacking, float()) leak into the message.
    assert "unpack" not in str(info.value) and "float()" not in str(info.value)


@pytest.mark.parametrize("task, event, what", [
    ("duration", {"Rain": [1e9]}, "the duration"),
    ("timestamp", {"Bell": [[1.0, 601.0]]}, "a span end"),
    ("frequency", {"Knock": [1.0, 700]}, "each onset"),
])
def test_audiotime_times_beyond_the_longest_clip_are_refused(tmp_path, task, event, what):
    """A plan's clip is at most 600 s (RichCaption.duration_s); a 1e9 s expectation would swamp duration_l1."""
    bad = tmp_path / f"{task}_caption.json"
    bad.write_text(json.dumps({"q_1": {"event": event, "caption": "c"}}))
    with pytest.raises(UsageError, match=f"{what} must be at most 600 s"):
        import_audiotime(bad)
    # 600 s itself is allowed.
    ok = {"duration": {"Rain": [600]}, "timestamp": {"Bell": [[1.0, 600.0]]}, "frequency": {"Knock": [600]}}[task]
    bad.write_text(json.dumps({"q_1": {"event": ok, "caption": "c"}}))
    assert len(import_audiotime(bad)) == 1


def test_loading_a_folder_without_audiotime_captions_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="holds no AudioTime caption files .*give a JSONL file or such a folder"):
        load_items(tmp_path)
