"""Captioner ``template``: grouping, counts, position, level and description."""

from __future__ import annotations

import pytest

from ualm_agent import registry
from ualm_agent.components.captioners.template import TemplateCaptioner, TemplateSettings
from ualm_agent.schema import HeardEvent, Observation, RichCaption


def ev(label, start, end, *, db=-20.0, balance=0.0, confidence=0.8):
    return HeardEvent(label=label, start_s=start, end_s=end, confidence=confidence, loudness_db=db, balance=balance)


def caption(events, **settings) -> RichCaption:
    obs = Observation(events=events, loudness_lufs=-18.2, duration_s=10.0, listener="test")
    return TemplateCaptioner(**settings).caption(obs)


def test_registered_under_its_name():
    built = registry.get("captioner", "template").build(TemplateSettings(burst_gap_s=0.5))
    assert isinstance(built, TemplateCaptioner)
    assert built.settings.burst_gap_s == 0.5


def test_repeated_bursts_become_one_event_with_a_count():
    heard = caption([ev("Bark", 1.0, 1.4), ev("Bark", 2.0, 2.4), ev("Bark", 3.0, 3.5)])
    assert len(heard.layout) == 1
    bark = heard.layout[0]
    assert (bark.label, bark.count, bark.start_s, bark.end_s) == ("Bark", 3, 1.0, 3.5)


def test_touching_pieces_merge_and_distant_ones_stay_apart():
    heard = caption([ev("Speech", 0.5, 1.0), ev("Speech", 1.05, 2.0), ev("Speech", 7.0, 8.0)])
    assert [(e.start_s, e.end_s, e.count) for e in heard.layout] == [(0.5, 2.0, 1), (7.0, 8.0, 1)]


def test_layout_follows_time_order():
    heard = caption([ev("Drum kit", 4.0, 8.0), ev("Brass instrument", 0.5, 4.0)])
    assert heard.labels() == ["Brass instrument", "Drum kit"]
    assert heard.description.startswith("Brass instrument from 0.5 to 4.0 s, then Drum kit from 4.0 to 8.0 s")
    assert "-18 LUFS" in heard.description
    assert heard.keywords == ["Brass instrument", "Drum kit"]


def test_position_from_balance():
    heard = caption([ev("Bell", 0.0, 1.0, balance=-0.6), ev("Dog", 2.0, 3.0, balance=0.1), ev("Car", 5.0, 6.0, balance=0.7)])
    assert [e.position for e in heard.layout] == ["left", "center", "right"]
    assert "on the left" in heard.description


def test_level_relative_to_other_events():
    heard = caption([ev("Bell", 0.0, 1.0, db=-8.0), ev("Dog", 2.0, 3.0, db=-20.0), ev("Car", 4.0, 5.0, db=-21.0)])
    assert [e.level for e in heard.layout] == ["loud", "soft", "soft"]
    even = caption([ev("Bell", 0.0, 1.0, db=-18.0), ev("Dog", 2.0, 3.0, db=-20.0)])
    assert [e.level for e in even.layout] == ["normal", "normal"]
    single = caption([ev("Bell", 0.0, 1.0, db=-40.0)])
    assert single.layout[0].level == "normal"


def test_generic_labels_give_way_to_specific_ones():
    events = [ev("Music", 0.0, 6.0), ev("Drum kit", 0.2, 5.8), ev("Music", 8.0, 9.0)]
    heard = caption(events)
    assert [(e.label, e.start_s) for e in heard.layout] == [("Drum kit", 0.2), ("Music", 8.0)]
    assert "Music" in heard.keywords
    kept = caption(events, drop_generic=False)
    assert [e.label for e in kept.layout].count("Music") == 2


def test_synonyms_for_one_sound_are_capped():
    events = [
        ev("Telephone", 1.0, 2.3, confidence=0.99),
        ev("Telephone bell ringing", 1.0, 2.3, confidence=0.9),
        ev("Ringtone", 1.0, 1.9, confidence=0.3),
    ]
    heard = caption(events)
    assert heard.labels() == ["Telephone", "Telephone bell ringing"]
    assert "Ringtone" in heard.keywords
    assert len(caption(events, max_labels_per_sound=0).layout) == 3


def test_a_sound_heard_under_another_keeps_its_label_beyond_the_cap():
    # A bark under rain: the listener names the rain twice over and the bark as well.
    events = [
        ev("Rain", 0.0, 6.0, confidence=0.7),
        ev("Water", 0.0, 6.0, confidence=0.6),
        ev("Raindrop", 0.0, 6.0, confidence=0.5),
        ev("Static", 0.0, 6.0, confidence=0.45),  # rain's look-alike: one more name for the rain
        ev("Dog", 2.0, 2.6, confidence=0.3),
        ev("Bark", 2.0, 2.6, confidence=0.25),
        ev("Bow-wow", 2.0, 2.6, confidence=0.2),
    ]
    heard = caption(events)
    assert sorted(heard.labels()) == ["Bark", "Dog", "Rain", "Water"]
    assert "Dog" in heard.description and "Raindrop" in heard.keywords


def test_labels_the_family_table_does_not_know_still_share_the_cap():
    events = [ev("Rain", 0.0, 6.0, confidence=0.7), ev("Water", 0.0, 6.0, confidence=0.6),
              ev("Zorblax", 0.0, 6.0, confidence=0.5)]
    assert caption(events).labels() == ["Rain", "Water"]


def test_empty_observation_and_duration():
    heard = TemplateCaptioner().caption(Observation(duration_s=4.5))
    assert heard.layout == [] and heard.keywords == []
    assert heard.duration_s == pytest.approx(4.5)
    assert heard.description.startswith("Nothing distinct")
    assert TemplateCaptioner().caption(Observation(events=[ev("Dog", 1.0, 2.0)])).duration_s > 0


def test_caption_round_trips_through_text():
    heard = caption([ev("Bark", 1.0, 1.4, balance=-0.5), ev("Bark", 2.0, 2.4, balance=-0.5), ev("Speech", 4.0, 6.0)])
    assert RichCaption.from_text(heard.to_text()).layout == heard.layout


def test_real_alarm_clock_beeps_are_counted():
    import recordings
    from ualm_agent.components.listeners.yamnet import YamnetListener

    assert not recordings.missing_tools(), recordings.missing_tools()
    obs = YamnetListener().listen(recordings.mixture("alarm-then-trash").audio)
    heard = TemplateCaptioner().caption(obs)
    alarm = [e for e in heard.layout if e.label in recordings.SOURCES["alarm-clock-elapsed"]]
    # The recording holds six beeps about a second apart.
    assert max(e.count for e in alarm) == 6
    assert heard.duration_s == pytest.approx(10.0)
