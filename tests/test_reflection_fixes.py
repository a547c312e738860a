"""Reflection that fixes mixes: each failure the critic names gets its typed plan edit.

masking → lower the masker / raise the masked (separate in time only where no stated time ties
them), wrong count → retime, wrong timing or duration → re-place, look-alike → another take,
weak → louder. Every change is a ``PlanEdit`` in ``plan.edits`` beside its "Revision: ..." sentence,
each kind can be switched off (``reviser.fixes``), and the run report lists each round's edits.
"""

from __future__ import annotations

import pytest

from ualm_agent import registry
from ualm_agent.components.critics.rules import RulesCritic
from ualm_agent.components.planners.rules import RulesPlanner
from ualm_agent.components.revisers.rules import EDIT_KINDS, RulesReviser, time_stated
from ualm_agent.evaluation.grid import build_grid
from ualm_agent.report.run_page import render_run_page, round_edits
from ualm_agent.schema import Critique, HeardEvent, Issue, LayoutEvent, Observation, PlanEdit, RichCaption, Round, RunResult

UNTIMED = "The prompt gives no duration; the clip is 10 s."


def ev(label, start, end, **kw) -> LayoutEvent:
    return LayoutEvent(label=label, start_s=start, end_s=end, **kw)


def caption(*events, assumptions=(), description="", duration=10.0) -> RichCaption:
    return RichCaption(layout=list(events), duration_s=duration, assumptions=list(assumptions), description=description)


def heard(*events: HeardEvent, duration=10.0) -> tuple[RichCaption, Observation]:
    """A heard caption and the observation it was made from."""
    layout = [ev(e.label, e.start_s, max(e.end_s, e.start_s + 0.01)) for e in events]
    return (RichCaption(layout=layout, duration_s=duration),
            Observation(events=list(events), loudness_lufs=-20.0, duration_s=duration))


def hear(label, start, end, confidence=0.8, loudness_db=None) -> HeardEvent:
    return HeardEvent(label=label, start_s=start, end_s=end, confidence=confidence, loudness_db=loudness_db)


def critique(*issues: Issue) -> Critique:
    return Critique(score=0.3, verdict="revise", issues=list(issues))


def masked(index: int, label: str, *maskers: int) -> Issue:
    return Issue(kind="missing", label=label, expected=f"{label} at 3.0-5.0 s", observed="not heard",
                 message=f"{label} was not heard.", event_index=index, severity=1.0, cause="masked", maskers=list(maskers))


def edits(plan: RichCaption, kind: str | None = None) -> list[PlanEdit]:
    return [e for e in plan.edits if kind is None or e.kind == kind]


@pytest.fixture(scope="module")
def critic() -> RulesCritic:
    return RulesCritic(use_minilm=False)


@pytest.fixture(scope="module")
def reviser() -> RulesReviser:
    return RulesReviser(use_minilm=False)


# ---------------------------------------------------------------- masking


def test_the_critic_names_the_heard_sounds_over_a_missing_event_and_how_loud(critic):
    plan = caption(ev("Rain", 0.0, 10.0), ev("Bark", 3.0, 5.0), ev("Piano", 6.0, 9.0))
    hearing, obs = heard(hear("Rain", 0.0, 10.0, loudness_db=-14.0), hear("Piano", 6.0, 9.0, loudness_db=-20.0))
    (missing,) = [i for i in critic.critique(plan, hearing, obs).issues if i.kind == "missing"]
    assert (missing.event_index, missing.cause, missing.maskers) == (1, "masked", [0])
    assert "Rain (-14 dB)" in missing.message and "overlaps Rain" in missing.observed


def test_masking_lowers_the_masker_and_raises_the_masked_with_typed_edits(reviser):
    # Both levels as far as they go, so the fine gains do the work.
    plan = caption(ev("Rain", 0.0, 10.0, level="soft"), ev("Bark", 3.0, 5.0, level="loud"))
    revised = reviser.revise(plan, critique(masked(1, "Bark", 0)))
    rain, bark = revised.layout
    assert (rain.gain_db, bark.gain_db) == (-6.0, 6.0)
    (lower,) = edits(revised, "lower")
    (up,) = edits(revised, "raise")
    assert (lower.label, lower.answers, up.label, up.answers) == ("Rain", "missing", "Bark", "missing")
    assert lower.detail == "Turned Rain down 6 dB (-6 dB in all) so Bark is heard."
    # The sentences stay in the assumptions, as other code reads them.
    assert any(a.startswith("Revision: ") and "turned Rain down 6 dB" in a for a in revised.assumptions)
    assert plan.edits == [] and plan.layout[0].gain_db == 0.0, "the input plan is not mutated"


def test_masking_changes_stop_at_the_caps_and_a_masker_is_lowered_once_per_round(reviser):
    plan = caption(ev("Rain", 0.0, 10.0), ev("Bark", 1.0, 3.0, level="loud"), ev("Car", 5.0, 9.0, level="loud"))
    for _ in range(5):
        plan = reviser.revise(plan, critique(masked(1, "Bark", 0), masked(2, "Car", 0)))
    rain, bark, car = plan.layout
    assert rain.gain_db == -reviser.settings.max_cut_db
    assert bark.gain_db == car.gain_db == reviser.settings.max_boost_db
    # Two masked sounds under the rain, one cut of the rain per round.
    assert len([e for e in edits(plan, "lower") if e.detail.startswith("Turned Rain down")]) == 2


def _exhausted(assumptions=(), description="") -> RichCaption:
    """Speech already turned down as far as it goes, the dog as loud as it goes: only moving it is left."""
    return caption(ev("Speech", 0.0, 10.0, level="soft", gain_db=-12.0, phrase="a man talks"),
                   ev("Bark", 3.0, 5.0, level="loud", gain_db=12.0, phrase="a dog barks"),
                   assumptions=assumptions, description=description)


def test_a_masked_event_without_a_stated_time_is_separated_in_time(reviser):
    plan = _exhausted(assumptions=[UNTIMED], description="A man talks while a dog barks; 10 seconds in all.")
    assert not time_stated(plan, 1)
    revised = reviser.revise(plan, critique(masked(1, "Bark", 0)))
    (moved,) = edits(revised, "separate")
    speech, bark = revised.layout
    assert moved.label == "Bark" and bark.start_s >= speech.end_s


def test_a_masked_event_with_a_stated_time_keeps_its_place(reviser):
    # What the rules planner writes for a prompt that gave times: no "gives no duration" statement.
    plan = _exhausted(description="A man talks while a dog barks; 10 seconds in all.")
    assert time_stated(plan, 1)
    revised = reviser.revise(plan, critique(masked(1, "Bark", 0)))
    assert not edits(revised, "separate")
    assert (revised.layout[1].start_s, revised.layout[1].end_s) == (3.0, 5.0)
    # Nothing left to change in the plan: another take is asked for instead.
    assert [e.kind for e in revised.edits] == ["retake"] and revised.layout[1].take == 1


def test_stated_times_are_read_from_what_the_rules_planner_writes():
    planner = RulesPlanner(use_minilm=False)
    timed = planner.plan("a dog barks from 2 to 4 s while rain falls")
    assert {e.label: time_stated(timed, i) for i, e in enumerate(timed.layout)} == {"Rain": False, "Bark": True}
    untimed = planner.plan("a dog barks while a man talks")
    assert not any(time_stated(untimed, i) for i in range(len(untimed.layout)))


def test_a_background_masker_is_turned_down_never_cut_short(reviser):
    plan = caption(ev("Rain", 0.0, 10.0, level="soft", gain_db=-12.0, phrase="rain falls"),
                   ev("Bark", 3.0, 5.0, level="loud", gain_db=12.0),
                   assumptions=[UNTIMED, 'Assumed "rain falls" continues in the background for the whole clip.'])
    revised = reviser.revise(plan, critique(masked(1, "Bark", 0)))
    assert revised.layout[0] == plan.layout[0] and not edits(revised, "separate")


def test_dog_car_and_rain_the_rain_is_turned_down_and_the_barks_and_car_up():
    """The measured failure: barks and car unheard under the rain, round after round."""
    plan = RulesPlanner(use_minilm=False).plan(
        "a dog barks three times, then a car passes by from left to right while rain falls"
    )
    rain = plan.labels().index("Rain")
    hearing, obs = heard(hear("Rain", 0.0, 10.0, confidence=0.7, loudness_db=-14.0))
    critic, reviser = RulesCritic(use_minilm=False), RulesReviser(use_minilm=False)
    result = critic.critique(plan, hearing, obs)
    missing = [i for i in result.issues if i.kind == "missing"]
    assert {i.label for i in missing} == {"Bark", "Car passing by"}
    assert all(i.cause == "masked" and i.maskers == [rain] for i in missing)

    revised = reviser.revise(plan, result)
    assert revised.layout[rain].gain_db < 0.0
    assert [e.label for e in edits(revised, "lower")] == ["Rain"]
    assert {e.label for e in edits(revised, "raise")} == {"Bark", "Car passing by"}
    # Over later rounds the rain keeps playing the whole clip, under everything.
    for _ in range(3):
        revised = reviser.revise(revised, critic.critique(revised, hearing, obs))
    assert (revised.layout[rain].start_s, revised.layout[rain].end_s) == (0.0, 10.0)
    assert revised.layout[rain].gain_db == -12.0 and revised.layout[rain].level == "soft"


# ---------------------------------------------------------------- count, timing


def test_a_count_shortfall_retimes_the_repeats(critic, reviser):
    plan = caption(ev("Bark", 1.0, 3.0, count=3), ev("Piano", 4.0, 8.0))
    hearing, obs = heard(hear("Bark", 1.0, 1.5), hear("Piano", 4.0, 8.0))
    result = critic.critique(plan, hearing, obs)
    assert [(i.kind, i.observed) for i in result.issues if i.kind == "count"] == [("count", "1x")]
    revised = reviser.revise(plan, result)
    (retime,) = edits(revised, "retime")
    assert (retime.label, retime.answers) == ("Bark", "count")
    assert revised.layout[0].duration_s > plan.layout[0].duration_s


def test_a_timing_issue_on_a_too_short_event_replaces_it(critic, reviser):
    plan = caption(ev("Knock", 2.0, 2.3), ev("Dog", 5.0, 7.0))
    hearing, obs = heard(hear("Knock", 3.5, 4.5), hear("Dog", 5.0, 7.0))
    result = critic.critique(plan, hearing, obs)
    assert [i.kind for i in result.issues] == ["timing"]
    revised = reviser.revise(plan, result)
    (retime,) = edits(revised)
    assert (retime.kind, retime.label, retime.answers) == ("retime", "Knock", "timing")
    assert revised.layout[0].duration_s == pytest.approx(1.0)


# ---------------------------------------------------------------- look-alike, weak


def test_a_look_alike_is_named_by_the_critic_and_gets_another_take(critic, reviser):
    plan = caption(ev("Rain", 0.0, 10.0), ev("Bell", 3.0, 4.0))
    hearing, obs = heard(hear("Rain", 0.0, 10.0), hear("Clang", 3.0, 4.0, confidence=0.6))
    result = critic.critique(plan, hearing, obs)
    (missing,) = [i for i in result.issues if i.kind == "missing"]
    assert (missing.cause, missing.heard_as) == ("look-alike", "Clang")
    assert not [i for i in result.issues if i.kind == "extra"], "the clang is the bell, not a second sound"
    revised = reviser.revise(plan, result)
    assert revised.layout[1].take == 1 and revised.layout[1].gain_db == 0.0
    (retake,) = edits(revised)
    assert (retake.kind, retake.label, retake.answers) == ("retake", "Bell", "missing")
    assert "heard as Clang" in retake.detail


def test_an_unrelated_sound_at_the_time_is_no_look_alike(critic):
    plan = caption(ev("Bell", 3.0, 4.0))
    hearing, obs = heard(hear("Bark", 3.0, 4.0))
    (missing,) = [i for i in critic.critique(plan, hearing, obs).issues if i.kind == "missing"]
    assert missing.cause == "" and missing.heard_as == ""


def test_a_faint_detection_is_weak_and_is_raised(critic, reviser):
    plan = caption(ev("Bark", 2.0, 4.0), ev("Piano", 5.0, 9.0))
    hearing, obs = heard(hear("Bark", 2.0, 4.0, confidence=0.12), hear("Piano", 5.0, 9.0))
    result = critic.critique(plan, hearing, obs)
    (weak,) = [i for i in result.issues if i.cause == "weak"]
    assert (weak.kind, weak.event_index) == ("loudness", 0)
    revised = reviser.revise(plan, result)
    assert revised.layout[0].gain_db == reviser.settings.weak_raise_db
    assert [(e.kind, e.label, e.answers) for e in revised.edits] == [("raise", "Bark", "loudness")]
    # Heard clearly: no weak issue.
    hearing, obs = heard(hear("Bark", 2.0, 4.0, confidence=0.6), hear("Piano", 5.0, 9.0))
    assert not [i for i in critic.critique(plan, hearing, obs).issues if i.cause == "weak"]


# ---------------------------------------------------------------- ablation


@pytest.mark.parametrize("off", ["lower", "raise"])
def test_a_fix_kind_switched_off_makes_no_such_edit(off):
    reviser = RulesReviser(use_minilm=False, fixes=[k for k in EDIT_KINDS if k != off])
    plan = caption(ev("Rain", 0.0, 10.0), ev("Bark", 3.0, 5.0))
    revised = reviser.revise(plan, critique(masked(1, "Bark", 0)))
    assert not edits(revised, off)
    assert edits(revised), "the other fixes still answer the issue"


def test_retake_switched_off_leaves_a_look_alike_to_the_other_fixes():
    reviser = RulesReviser(use_minilm=False, fixes=["raise"])
    plan = caption(ev("Bell", 3.0, 4.0))
    issue = Issue(kind="missing", label="Bell", expected="Bell at 3.0-4.0 s", observed="heard as Clang",
                  message="Bell was heard as Clang.", event_index=0, cause="look-alike", heard_as="Clang")
    revised = reviser.revise(plan, critique(issue))
    assert revised.layout[0].take == 0 and {e.kind for e in revised.edits} == {"raise"}
    assert RulesReviser(use_minilm=False, fixes=[]).revise(plan, critique(issue)).edits == []


def test_the_fixes_setting_is_a_grid_axis():
    grid = build_grid(["reviser.fixes=lower+raise+separate+retime+retake+substitute+add+recount,raise+retime,none"])
    values = [c.config.reviser.settings()["fixes"] for c in grid.configs]
    assert values == [list(EDIT_KINDS), ["raise", "retime"], []]
    backend = registry.get("reviser", "rules")
    built = backend.build(backend.config_cls(kind="rules", **grid.configs[1].config.reviser.settings()))
    assert built.settings.fixes == ["raise", "retime"]


def test_an_unknown_fix_kind_in_a_grid_is_refused():
    from ualm_agent.errors import UsageError

    with pytest.raises(UsageError, match="reviser.fixes"):
        build_grid(["reviser.fixes=lower+louder"])


# ---------------------------------------------------------------- report


def test_the_run_report_lists_each_rounds_typed_edits(tmp_path, reviser):
    first = caption(ev("Rain", 0.0, 10.0, level="soft"), ev("Bark", 3.0, 5.0, level="loud"))
    second = reviser.revise(first, critique(masked(1, "Bark", 0)))
    third = second.model_copy(update={"assumptions": [*second.assumptions, "Kept as it was."]})
    rounds = [Round(index=i, plan=p, prompt_text=p.to_text()) for i, p in enumerate((first, second, third))]
    result = RunResult(prompt="a dog barks while rain falls", rounds=rounds, best_index=1)
    assert round_edits(result, 0) == [] and round_edits(result, 2) == []
    assert sorted(e.kind for e in round_edits(result, 1)) == ["lower", "raise"]

    html = render_run_page(result, tmp_path)
    sections = html.split('data-round="')[1:]
    assert 'data-edit="lower"' in sections[1] and 'data-edit="raise"' in sections[1]
    assert "Turned Rain down 6 dB (-6 dB in all) so Bark is heard." in sections[1]
    assert "data-edit" not in sections[0] and "data-edit" not in sections[2]
    # The plan table shows the gain a revision set.
    assert "-6 dB" in sections[2]


def test_report_md_lists_each_rounds_typed_edits(reviser):
    from ualm_agent.artifacts import render_report

    first = caption(ev("Rain", 0.0, 10.0, level="soft"), ev("Bark", 3.0, 5.0, level="loud"))
    second = reviser.revise(first, critique(masked(1, "Bark", 0)))
    rounds = [Round(index=i, plan=p, prompt_text=p.to_text()) for i, p in enumerate((first, second, second))]
    text = render_report(RunResult(prompt="a dog barks while rain falls", rounds=rounds, best_index=1))
    parts = text.split("## Round ")[1:]
    assert "Plan edits from the last critique:" not in parts[0] and "Plan edits" not in parts[2]
    assert "- lower Rain (answers missing): Turned Rain down 6 dB (-6 dB in all) so Bark is heard." in parts[1]
