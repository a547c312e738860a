"""Reviser ``rules``: each issue kind turns into the plan edit that addresses it."""

from __future__ import annotations

import pytest

from ualm_agent import registry
from ualm_agent.components.critics.rules import RulesCritic
from ualm_agent.components.revisers.rules import RulesReviser
from ualm_agent.roles import Reviser
from ualm_agent.schema import Critique, HeardEvent, Issue, LayoutEvent, Observation, RichCaption


def ev(label, start, end, **kw) -> LayoutEvent:
    return LayoutEvent(label=label, start_s=start, end_s=end, **kw)


def caption(*events, duration=10.0) -> RichCaption:
    return RichCaption(layout=list(events), duration_s=duration, assumptions=["Order as written."])


def observe(heard: RichCaption) -> Observation:
    return Observation(
        events=[HeardEvent(label=e.label, start_s=e.start_s, end_s=e.end_s, confidence=0.8) for e in heard.layout],
        loudness_lufs=-20.0,
    )


def as_heard(plan: RichCaption, rename: dict[str, str] | None = None) -> RichCaption:
    """What a faithful render of ``plan`` would be heard as."""
    rename = rename or {}
    return RichCaption(
        layout=[e.model_copy(update={"label": rename.get(e.label, e.label)}) for e in plan.layout],
        duration_s=plan.duration_s,
    )


@pytest.fixture(scope="module")
def critic() -> RulesCritic:
    return RulesCritic(use_minilm=False)


@pytest.fixture(scope="module")
def reviser() -> RulesReviser:
    return RulesReviser(use_minilm=False)


def revisions(plan: RichCaption) -> list[str]:
    return [a for a in plan.assumptions if a.startswith("Revision: ")]


def test_order_issue_is_fixed_and_the_fixed_render_is_accepted(critic, reviser):
    plan = caption(ev("Brass instrument", 0.0, 5.0), ev("Drum kit", 4.8, 10.0))
    heard = caption(ev("Brass instrument", 0.0, 10.0), ev("Drum kit", 0.5, 10.0))
    critique = critic.critique(plan, heard, observe(heard))
    assert "order" in [i.kind for i in critique.issues]

    before = plan.model_dump()
    revised = reviser.revise(plan, critique)
    assert plan.model_dump() == before, "the reviser must not mutate its input"
    brass, drums = revised.layout
    assert drums.start_s >= brass.end_s + 0.5 - 1e-6
    assert drums.end_s <= revised.duration_s + 1e-6 and drums.duration_s >= 1.0
    assert any("moved Drum kit to start after Brass instrument" in r for r in revisions(revised))
    assert revised.assumptions[0] == "Order as written."

    again = critic.critique(revised, as_heard(revised), observe(as_heard(revised)))
    assert again.verdict == "accept", again


def test_swapped_render_of_a_sequential_plan_gets_a_wider_gap(critic, reviser):
    plan = caption(ev("Brass instrument", 0.0, 5.0), ev("Percussion", 5.0, 10.0))
    heard = caption(ev("Drum kit", 0.0, 5.0), ev("Brass instrument", 5.0, 10.0))
    revised = reviser.revise(plan, critic.critique(plan, heard, observe(heard)))
    brass, drums = revised.layout
    assert drums.start_s - brass.end_s >= 0.5 - 1e-6
    assert drums.end_s <= 10.0 + 1e-6
    heard_fixed = as_heard(revised, {"Percussion": "Drum kit"})
    assert critic.critique(revised, heard_fixed, observe(heard_fixed)).verdict == "accept"


def test_order_fix_pushes_following_events_and_keeps_them_in_the_clip(reviser):
    plan = caption(ev("Brass instrument", 0.0, 4.0), ev("Drum kit", 4.0, 7.0), ev("Dog", 7.0, 10.0))
    critique = Critique(score=0.5, verdict="revise", issues=[Issue(
        kind="order", label="Drum kit", expected="Brass instrument before Drum kit", observed="together",
        message="Brass instrument and Drum kit played together; Brass instrument should come first.", event_index=1)])
    revised = reviser.revise(plan, critique)
    brass, drums, dog = revised.layout
    assert brass.end_s < drums.start_s < drums.end_s <= dog.start_s < dog.end_s <= 10.0 + 1e-6


def test_masked_missing_event_escalates_from_louder_to_separated(critic, reviser):
    plan = caption(ev("Speech", 0.0, 10.0), ev("Dog", 3.0, 5.0, level="soft"))
    heard = caption(ev("Speech", 0.0, 10.0))

    def step(p):
        return reviser.revise(p, critic.critique(p, heard, observe(heard)))

    first = step(plan)
    assert [e.level for e in first.layout] == ["normal", "normal"]
    assert "raised Dog from soft to normal so it is not masked by Speech" in revisions(first)[0]
    second = step(first)
    assert [e.level for e in second.layout] == ["normal", "loud"]
    # Already loud: the masking speech is turned down, and the two stay together as planned.
    third = step(second)
    assert [e.level for e in third.layout] == ["soft", "loud"]
    assert third.layout[1].start_s == 3.0
    assert "lowered Speech from normal to soft so Dog is heard" in revisions(third)[-1]
    # Loud over soft and still masked: the dog sounds on its own after the speech, which is shortened to make room.
    speech, dog = step(third).layout
    assert dog.start_s >= speech.end_s and dog.end_s <= 10.0 + 1e-6 and dog.duration_s >= 1.0


def test_unrenderable_label_is_swapped_for_the_nearest_renderable(critic, reviser):
    plan = caption(ev("Trumpet", 0.0, 4.0), ev("Dog", 5.0, 7.0))
    heard = caption(ev("Dog", 5.0, 7.0))
    critique = critic.critique(plan, heard, observe(heard), unrendered=["Trumpet"])
    renderable = ["Dog", "Drum kit", "Brass instrument", "Piano"]
    revised = reviser.revise(plan, critique, renderable=renderable)
    assert revised.layout[0].label == "Brass instrument"
    assert revised.layout[0].phrase == "Trumpet"
    assert revisions(revised) == ["Revision: replaced Trumpet, which cannot be rendered, with Brass instrument."]
    # Without a renderable list there is nothing to swap to.
    assert reviser.revise(plan, critique).layout[0].label == "Trumpet"


def test_count_shortfall_widens_the_repeats(critic, reviser):
    plan = caption(ev("Bark", 1.0, 3.0, count=3), ev("Piano", 4.0, 8.0))
    heard = caption(ev("Bark", 1.0, 3.0, count=1), ev("Piano", 4.0, 8.0))
    critique = critic.critique(plan, heard, observe(heard))
    revised = reviser.revise(plan, critique)
    bark, piano = revised.layout
    assert bark.count == 3 and bark.duration_s >= 3 * 1.6 - 1e-6
    assert piano.start_s >= bark.end_s and piano.end_s <= 10.0 + 1e-6
    assert any("spread the 3 Bark repeats" in r for r in revisions(revised))


def test_extra_repeats_change_nothing(critic, reviser):
    plan = caption(ev("Bark", 1.0, 7.0, count=2))
    heard = caption(ev("Bark", 1.0, 7.0, count=4))
    critique = critic.critique(plan, heard, observe(heard))
    assert [i.kind for i in critique.issues] == ["count"]
    assert reviser.revise(plan, critique).layout == plan.layout


def test_timing_issue_lengthens_a_too_short_event_only(critic, reviser):
    plan = caption(ev("Knock", 2.0, 2.3), ev("Dog", 5.0, 7.0))
    heard = caption(ev("Knock", 3.5, 4.5), ev("Dog", 7.0, 9.0))
    critique = critic.critique(plan, heard, observe(heard))
    assert {i.event_index for i in critique.issues if i.kind == "timing"} == {0, 1}
    revised = reviser.revise(plan, critique)
    assert revised.layout[0].duration_s == pytest.approx(1.0)
    assert revised.layout[1] == plan.layout[1]


def test_spatial_and_loudness_issues_leave_the_plan_alone(critic, reviser):
    plan = caption(ev("Dog", 0.0, 3.0, position="left", level="loud"), ev("Piano", 4.0, 8.0))
    heard = caption(ev("Dog", 0.0, 3.0, position="right", level="soft"), ev("Piano", 4.0, 8.0))
    critique = critic.critique(plan, heard, observe(heard))
    assert {"spatial", "loudness"} <= {i.kind for i in critique.issues}
    revised = reviser.revise(plan, critique)
    assert revised.layout == plan.layout and revisions(revised) == []


def test_revision_is_deterministic(critic, reviser):
    plan = caption(ev("Brass instrument", 0.0, 5.0), ev("Drum kit", 5.0, 10.0), ev("Dog", 2.0, 3.0, level="soft"))
    heard = caption(ev("Drum kit", 0.0, 5.0), ev("Brass instrument", 5.0, 10.0))
    critique = critic.critique(plan, heard, observe(heard))
    assert reviser.revise(plan, critique) == RulesReviser(use_minilm=False).revise(plan, critique)


def test_registered_and_satisfies_the_protocol():
    backend = registry.get("reviser", "rules")
    built = backend.build(backend.config_cls(kind="rules", gap_s=1.0))
    assert isinstance(built, Reviser)
    assert built.settings.gap_s == 1.0


def test_every_revision_stays_a_valid_plan_inside_the_clip(critic, reviser):
    """Random layouts, rendered with their last two events swapped: revised plans stay well-formed."""
    import random

    rng = random.Random(7)
    labels = ["Brass instrument", "Drum kit", "Dog", "Piano", "Siren", "Church bell", "Speech"]
    for _ in range(150):
        duration = rng.choice([4.0, 10.0, 20.0])
        t, events = 0.0, []
        for label in rng.sample(labels, rng.randint(2, 4)):
            length = rng.uniform(0.3, duration / 2)
            start = min(t, duration - 0.3)
            end = min(duration, start + length)
            events.append(ev(label, round(start, 2), round(max(end, start + 0.2), 2), count=rng.choice([1, 1, 2, 3]),
                             level=rng.choice(["soft", "normal", "loud"])))
            t = end + rng.choice([-1.0, 0.0, 0.5])
            t = max(0.0, t)
        plan = caption(*events, duration=duration)
        swapped = [*plan.layout[:-2], plan.layout[-1].model_copy(update={"start_s": plan.layout[-2].start_s, "end_s": plan.layout[-2].end_s}),
                   plan.layout[-2].model_copy(update={"start_s": plan.layout[-1].start_s, "end_s": plan.layout[-1].end_s})]
        heard = RichCaption(layout=[e for e in swapped[1:]], duration_s=duration)
        critique = critic.critique(plan, heard, observe(heard))
        revised = reviser.revise(plan, critique)
        assert len(revised.layout) == len(plan.layout)
        for e, before in zip(revised.layout, plan.layout):
            assert 0.0 <= e.start_s < e.end_s <= duration + 1e-6, (plan.layout, revised.layout)
            assert e.duration_s >= min(0.1, before.duration_s), (plan.layout, revised.layout)


def test_unheard_loud_event_tries_each_related_renderable_label_once(critic, reviser):
    renderable = ["Church bell", "Bell", "Tubular bells", "Dog", "Piano"]
    plan = caption(ev("Church bell", 0.0, 4.0, level="loud", phrase="church bells"), ev("Dog", 5.0, 8.0))
    heard = caption(ev("Dog", 5.0, 8.0))
    tried = []
    for _ in range(4):
        plan = reviser.revise(plan, critic.critique(plan, heard, observe(heard)), renderable=renderable)
        tried.append(plan.layout[0].label)
    assert tried[0] in {"Bell", "Tubular bells"} and set(tried[:2]) == {"Bell", "Tubular bells"}
    assert tried[2] == tried[1]  # nothing related left to try: the plan stays put
    assert plan.layout[0].phrase == "church bells" and plan.layout[1] == caption(ev("Dog", 5.0, 8.0)).layout[0]
    assert sum("in place of" in a for a in plan.assumptions) == 2


def test_related_labels_stay_related_to_the_first_plan_and_apart_from_other_events(critic, reviser):
    renderable = ["Thunder", "Thunderstorm", "Rain", "Boom", "Explosion"]
    plan = caption(ev("Thunder", 0.0, 3.0, level="loud"), ev("Rain", 3.0, 10.0))
    heard = caption(ev("Rain", 3.0, 10.0))
    labels = []
    for _ in range(4):
        plan = reviser.revise(plan, critic.critique(plan, heard, observe(heard)), renderable=renderable)
        labels.append(plan.layout[0].label)
    # "Thunderstorm" also means rain, which is planned already; "Explosion" is related to "Boom", not to thunder.
    assert labels == ["Boom", "Boom", "Boom", "Boom"]


def test_count_shortfall_with_no_room_left_raises_the_level(critic, reviser):
    plan = caption(ev("Bark", 0.0, 10.0, count=3))
    heard = caption(ev("Bark", 6.7, 6.8, count=1))
    revised = reviser.revise(plan, critic.critique(plan, heard, observe(heard)))
    assert (revised.layout[0].start_s, revised.layout[0].end_s, revised.layout[0].level) == (0.0, 10.0, "loud")
    assert revisions(revised) == ["Revision: raised Bark from normal to loud so each of its 3 repeats is heard."]


def test_two_unheard_sounds_together_are_not_traded_against_each_other(critic, reviser):
    plan = caption(ev("Acoustic guitar", 0.0, 10.0), ev("Flute", 0.0, 10.0))
    heard = caption(ev("Music", 0.0, 10.0))
    first = reviser.revise(plan, critic.critique(plan, heard, observe(heard)))
    assert [e.level for e in first.layout] == ["loud", "loud"]
    # Both loud, both unheard: nothing is turned down; a related renderable label is tried first...
    renderable = ["Acoustic guitar", "Guitar", "Flute", "Clarinet"]
    second = reviser.revise(first, critic.critique(first, heard, observe(heard)), renderable=renderable)
    assert [e.label for e in second.layout] == ["Guitar", "Clarinet"]
    assert [e.level for e in second.layout] == ["loud", "loud"]
    assert not any("lowered" in r for r in revisions(second))
    # ...and with nothing left to try, the sounds are separated in time.
    third = reviser.revise(second, critic.critique(second, heard, observe(heard)), renderable=renderable)
    a, b = third.layout
    assert a.end_s <= b.start_s or b.end_s <= a.start_s


def test_a_round_with_nothing_rendered_swaps_every_label_as_for_one(critic, reviser):
    """The graph critiques a round the generator could not render at all as one in which nothing was
    heard: every planned label is swapped, each stated, the rest of the plan kept."""
    plan = caption(ev("Trumpet", 0.0, 2.0), ev("Dog", 3.0, 6.0, count=2, position="left"))
    nothing = critic.critique(plan, RichCaption(duration_s=10.0), Observation(duration_s=10.0),
                              unrendered=["Trumpet", "Dog"])
    revised = reviser.revise(plan, nothing, renderable=["Bark", "Brass instrument", "Piano"])
    assert revised.labels() == ["Brass instrument", "Bark"]
    assert [(e.start_s, e.end_s, e.count, e.position) for e in revised.layout] == [
        (e.start_s, e.end_s, e.count, e.position) for e in plan.layout
    ]
    assert revisions(revised) == [
        "Revision: replaced Trumpet, which cannot be rendered, with Brass instrument.",
        "Revision: replaced Dog, which cannot be rendered, with Bark.",
    ]
