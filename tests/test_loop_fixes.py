"""Reflection fixes sized from what was heard: the loss analysis of the AudioTime-style set.

- a planned sound the listener named but the caption left out is heard, not missing;
- an order issue moves an event only where the plan ran the two together; a stated time, or a
  gap the plan already leaves, means one render was misheard, so it gets another take;
- a masked sound is put ``masked_margin_db`` over its masker in one round, the masker never cut
  below the loudness at which it stops being heard;
"""

from __future__ import annotations

import pytest

from test_reflection_fixes import UNTIMED, caption, critic, ev, hear, reviser  # noqa: F401 (fixtures)

from ualm_agent.components.revisers.rules import _planned_db
from ualm_agent.schema import Critique, Issue, Observation

TIMED = "A cat meows at 1.5 seconds and purrs from 3 to 8 seconds; 10 seconds in all."


def order_issue(later: int, earlier_label: str, label: str, observed: str) -> Critique:
    issue = Issue(kind="order", label=label, expected=f"{earlier_label} before {label}", observed=observed,
                  message="out of order", event_index=later, severity=0.9)
    return Critique(score=0.4, verdict="revise", issues=[issue])


def test_a_sound_the_caption_left_out_is_still_heard(critic):
    plan = caption(ev("Rain", 0.0, 10.0), ev("Bark", 1.0, 2.0))
    # The caption kept two labels for the stretch (Rain, Water); the listener also named the dog.
    heard = caption(ev("Rain", 0.0, 10.0), ev("Water", 0.0, 10.0))
    obs = Observation(events=[hear("Rain", 0.0, 10.0), hear("Water", 0.0, 10.0), hear("Dog", 1.6, 1.75, 0.68)],
                      loudness_lufs=-20.0, duration_s=10.0)
    issues = critic.critique(plan, heard, obs).issues
    assert not [i for i in issues if i.kind == "missing"]
    # A piece too faint to be sure of stays missing: the evaluator, listening blind, would not hear it.
    faint = obs.model_copy(update={"events": [*obs.events[:2], hear("Dog", 1.6, 1.75, 0.1)]})
    assert [i.label for i in critic.critique(plan, heard, faint).issues if i.kind == "missing"] == ["Bark"]


def test_an_order_issue_never_moves_an_event_from_its_stated_time(reviser):
    plan = caption(ev("Meow", 1.5, 2.5), ev("Purr", 3.0, 8.0), description=TIMED)
    revised = reviser.revise(plan, order_issue(1, "Meow", "Purr", "together"))
    assert [(e.start_s, e.end_s) for e in revised.layout] == [(1.5, 2.5), (3.0, 8.0)]
    assert [(e.kind, e.label, e.answers) for e in revised.edits] == [("retake", "Purr", "order")]


def test_heard_swapped_though_apart_in_the_plan_retakes_the_earlier_render(reviser):
    plan = caption(ev("Croak", 0.0, 4.85), ev("Cricket", 5.15, 10.0), assumptions=[UNTIMED])
    revised = reviser.revise(plan, order_issue(1, "Croak", "Cricket", "Cricket before Croak"))
    assert [(e.start_s, e.end_s) for e in revised.layout] == [(0.0, 4.85), (5.15, 10.0)]
    assert [e.take for e in revised.layout] == [1, 0], "the croak's render was heard as crickets"
    # Run together in the plan: moving them apart is still the fix.
    close = caption(ev("Croak", 0.0, 5.0), ev("Cricket", 4.5, 10.0), assumptions=[UNTIMED])
    moved = reviser.revise(close, order_issue(1, "Croak", "Cricket", "together"))
    assert moved.layout[1].start_s >= moved.layout[0].end_s + reviser.settings.gap_s - 1e-6
    assert [e.kind for e in moved.edits] == ["retime"]


def test_a_masked_sound_gets_its_margin_in_one_round_from_the_heard_loudness(critic, reviser):
    plan = caption(ev("Rain", 0.0, 10.0, level="normal"), ev("Bark", 3.0, 5.0, level="loud"))
    heard = caption(ev("Rain", 0.0, 10.0))
    obs = Observation(events=[hear("Rain", 0.0, 10.0, 0.9, loudness_db=-18.0)], loudness_lufs=-20.0, duration_s=10.0)
    result = critic.critique(plan, heard, obs)
    (missing,) = [i for i in result.issues if i.kind == "missing"]
    assert missing.cause == "masked" and "Rain (-18 dB)" in missing.message
    revised = reviser.revise(plan, result)
    rain, bark = revised.layout
    # One round does what 6 dB steps took several for.
    assert _planned_db(bark) - _planned_db(rain) == pytest.approx(reviser.settings.masked_margin_db)
    assert (rain.start_s, rain.end_s) == (0.0, 10.0)


def test_a_quiet_masker_is_not_turned_down_below_where_it_stops_being_heard(critic, reviser):
    plan = caption(ev("Rain", 0.0, 10.0, level="normal"), ev("Bark", 3.0, 5.0, level="loud"))
    heard = caption(ev("Rain", 0.0, 10.0))
    floor = reviser.settings.audible_floor_db
    obs = Observation(events=[hear("Rain", 0.0, 10.0, 0.9, loudness_db=floor + 4.0)], loudness_lufs=-30.0, duration_s=10.0)
    revised = reviser.revise(plan, critic.critique(plan, heard, obs))
    rain, bark = revised.layout
    assert rain.gain_db == pytest.approx(-4.0), "cut only down to the audible floor"
    assert bark.gain_db > 0.0, "the rest of the margin comes from raising the bark"
    assert _planned_db(bark) - _planned_db(rain) == pytest.approx(reviser.settings.masked_margin_db)
