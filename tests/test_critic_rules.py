"""Critic ``rules`` and label matching on hand-made plans and observations."""

from __future__ import annotations

import numpy as np
import pytest

from ualm_agent import registry
from ualm_agent.components.critics.matching import LabelMatcher, is_generic
from ualm_agent.components.critics.rules import RulesCritic
from ualm_agent.labels import audioset_names
from ualm_agent.roles import Critic
from ualm_agent.schema import HeardEvent, LayoutEvent, Observation, RichCaption


def ev(label, start, end, **kw) -> LayoutEvent:
    return LayoutEvent(label=label, start_s=start, end_s=end, **kw)


def caption(*events, duration=10.0) -> RichCaption:
    return RichCaption(layout=list(events), duration_s=duration)


def observe(heard: RichCaption, *extra: HeardEvent, lufs=-20.0, confidence=0.8) -> Observation:
    events = [HeardEvent(label=e.label, start_s=e.start_s, end_s=e.end_s, confidence=confidence) for e in heard.layout]
    return Observation(events=[*events, *extra], loudness_lufs=lufs, duration_s=heard.duration_s)


def kinds(critique) -> list[str]:
    return [i.kind for i in critique.issues]


@pytest.fixture(scope="module")
def critic() -> RulesCritic:
    # The family table decides every pair below, so no MiniLM is needed.
    return RulesCritic(use_minilm=False)


BRASS_THEN_DRUMS = caption(ev("Brass instrument", 0.0, 5.0), ev("Percussion", 5.0, 10.0))


def test_faithful_render_is_accepted_despite_generic_and_sibling_labels(critic):
    heard = caption(
        ev("Brass instrument", 0.0, 5.4), ev("Trumpet", 0.5, 4.8), ev("Drum kit", 5.0, 10.0), ev("Music", 0.0, 10.0),
        ev("Inside, small room", 0.0, 10.0),
    )
    result = critic.critique(BRASS_THEN_DRUMS, heard, observe(heard))
    assert result.verdict == "accept"
    assert result.issues == []
    assert result.score == pytest.approx(1.0)


def test_swapped_order_is_an_order_issue(critic):
    heard = caption(ev("Drum kit", 0.0, 5.0), ev("Brass instrument", 5.0, 10.0))
    result = critic.critique(BRASS_THEN_DRUMS, heard, observe(heard))
    order = [i for i in result.issues if i.kind == "order"]
    assert len(order) == 1
    assert order[0].event_index == 1
    assert order[0].expected == "Brass instrument before Percussion"
    assert order[0].message == "Percussion was heard before Brass instrument; Brass instrument should come first."
    assert result.verdict == "revise"
    assert order[0].message in result.instructions


def test_events_heard_together_get_the_together_message(critic):
    plan = caption(ev("Brass instrument", 0.0, 5.0), ev("Drum kit", 5.0, 10.0))
    heard = caption(ev("Brass instrument", 0.0, 10.0), ev("Drum kit", 0.5, 10.0))
    result = critic.critique(plan, heard, observe(heard))
    assert "Brass instrument and Drum kit played together; Brass instrument should come first." in result.instructions
    assert result.verdict == "revise"
    assert result.score < critic.settings.accept_threshold  # a severe issue never scores as acceptable


def test_percussion_planned_drum_kit_heard_is_a_match(critic):
    heard = caption(ev("Brass instrument", 0.0, 5.0), ev("Drum kit", 5.0, 10.0))
    result = critic.critique(BRASS_THEN_DRUMS, heard, observe(heard))
    assert "missing" not in kinds(result) and "extra" not in kinds(result)
    assert result.verdict == "accept"


def test_missing_event_is_reported_with_its_masker(critic):
    plan = caption(ev("Speech", 0.0, 10.0), ev("Dog", 3.0, 5.0))
    heard = caption(ev("Speech", 0.0, 10.0))
    result = critic.critique(plan, heard, observe(heard))
    (missing,) = [i for i in result.issues if i.kind == "missing"]
    assert missing.event_index == 1 and missing.severity == 1.0
    assert "overlaps Speech" in missing.observed
    assert result.verdict == "revise"
    assert result.score < critic.settings.accept_threshold


def test_unrendered_label_is_missing_with_the_reason(critic):
    plan = caption(ev("Theremin", 0.0, 4.0), ev("Dog", 5.0, 7.0))
    heard = caption(ev("Dog", 5.0, 7.0))
    result = critic.critique(plan, heard, observe(heard), unrendered=["Theremin"])
    (missing,) = [i for i in result.issues if i.kind == "missing"]
    assert missing.observed == "not rendered"
    assert "could not be rendered" in missing.message


def test_extra_specific_event_is_reported_but_generic_and_faint_ones_are_not(critic):
    plan = caption(ev("Dog", 0.0, 4.0))
    heard = caption(ev("Dog", 0.0, 4.0), ev("Cat", 5.0, 7.0), ev("Doorbell", 8.0, 9.0), ev("Silence", 9.0, 10.0))
    obs = observe(heard)
    obs.events[2] = obs.events[2].model_copy(update={"confidence": 0.1})  # the doorbell is faint
    result = critic.critique(plan, heard, obs)
    extras = [i for i in result.issues if i.kind == "extra"]
    assert [i.label for i in extras] == ["Cat"]
    assert extras[0].event_index is None


def test_count_issue(critic):
    plan = caption(ev("Bark", 1.0, 7.0, count=3))
    heard = caption(ev("Bark", 1.0, 6.0, count=2), ev("Dog", 1.0, 6.5))
    result = critic.critique(plan, heard, observe(heard))
    (count,) = [i for i in result.issues if i.kind == "count"]
    assert (count.expected, count.observed) == ("3x", "2x")
    assert "planned 3 times but heard twice" in count.message


def test_loudness_issue(critic):
    plan = caption(ev("Dog", 0.0, 3.0, level="loud"), ev("Piano", 4.0, 8.0))
    heard = caption(ev("Dog", 0.0, 3.0, level="soft"), ev("Piano", 4.0, 8.0))
    result = critic.critique(plan, heard, observe(heard))
    (loud,) = [i for i in result.issues if i.kind == "loudness"]
    assert (loud.expected, loud.observed, loud.event_index) == ("loud", "soft", 0)


def test_single_level_plan_ignores_one_step_relative_level(critic):
    plan = caption(ev("Dog", 0.0, 3.0))
    heard = caption(ev("Dog", 0.0, 3.0, level="loud"))
    assert "loudness" not in kinds(critic.critique(plan, heard, observe(heard)))


def test_spatial_issue(critic):
    plan = caption(ev("Dog", 0.0, 3.0, position="left"))
    heard = caption(ev("Dog", 0.0, 3.0, position="right"))
    result = critic.critique(plan, heard, observe(heard))
    (spatial,) = [i for i in result.issues if i.kind == "spatial"]
    assert spatial.message == "Dog was planned on the left but heard on the right."


def test_timing_issue_beyond_tolerance_only(critic):
    plan = caption(ev("Dog", 2.0, 4.0))
    late = caption(ev("Dog", 4.0, 6.0))
    result = critic.critique(plan, late, observe(late))
    (timing,) = [i for i in result.issues if i.kind == "timing"]
    assert "started 2.0 s late" in timing.message
    # Heard only outside its planned span: as serious as a miss.
    assert timing.severity >= critic.settings.severe_severity and result.verdict == "revise"
    slightly_late = caption(ev("Dog", 3.0, 5.0))
    (mild,) = [i for i in critic.critique(plan, slightly_late, observe(slightly_late)).issues if i.kind == "timing"]
    assert mild.severity < critic.settings.severe_severity
    # Within one YAMNet hop of onset and one window of offset: fine.
    close = caption(ev("Dog", 2.4, 4.9))
    assert "timing" not in kinds(critic.critique(plan, close, observe(close)))


def test_quality_issue_for_a_near_silent_clip(critic):
    plan = caption(ev("Dog", 0.0, 3.0))
    heard = caption(ev("Dog", 0.0, 3.0))
    result = critic.critique(plan, heard, observe(heard, lufs=-55.0))
    assert kinds(result) == ["quality"]


def test_score_falls_as_issues_accumulate(critic):
    plan = caption(
        ev("Brass instrument", 0.0, 3.0, position="left"), ev("Bark", 3.5, 6.5, count=3), ev("Piano", 7.0, 10.0, level="soft")
    )
    heard_versions = [
        caption(ev("Brass instrument", 0.0, 3.0, position="left"), ev("Bark", 3.5, 6.5, count=3), ev("Piano", 7.0, 10.0, level="soft")),
        caption(ev("Brass instrument", 0.0, 3.0, position="right"), ev("Bark", 3.5, 6.5, count=3), ev("Piano", 7.0, 10.0, level="soft")),
        caption(ev("Brass instrument", 0.0, 3.0, position="right"), ev("Bark", 3.5, 6.5, count=2), ev("Piano", 7.0, 10.0, level="soft")),
        caption(ev("Brass instrument", 0.0, 3.0, position="right"), ev("Bark", 3.5, 6.5, count=2), ev("Piano", 7.0, 10.0, level="loud")),
        caption(ev("Brass instrument", 0.0, 3.0, position="right"), ev("Bark", 3.5, 6.5, count=2), ev("Piano", 7.0, 10.0, level="loud"), ev("Cat", 1.0, 2.0)),
        caption(ev("Brass instrument", 0.0, 3.0, position="right"), ev("Bark", 3.5, 6.5, count=2), ev("Cat", 1.0, 2.0)),
        caption(ev("Cat", 1.0, 2.0)),
    ]
    scores = [critic.critique(plan, h, observe(h)).score for h in heard_versions]
    assert scores[0] == pytest.approx(1.0)
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_critique_is_deterministic(critic):
    heard = caption(ev("Drum kit", 0.0, 5.0), ev("Brass instrument", 5.0, 10.0), ev("Cat", 2.0, 3.0))
    first = critic.critique(BRASS_THEN_DRUMS, heard, observe(heard))
    again = RulesCritic(use_minilm=False).critique(BRASS_THEN_DRUMS, heard, observe(heard))
    assert first == again


def test_caption_without_layout_falls_back_on_raw_events(critic):
    obs = Observation(
        events=[HeardEvent(label="Brass instrument", start_s=0.0, end_s=5.0, confidence=0.7),
                HeardEvent(label="Drum kit", start_s=5.0, end_s=10.0, confidence=0.6)],
        loudness_lufs=-18.0,
    )
    result = critic.critique(BRASS_THEN_DRUMS, caption(), obs)
    assert result.verdict == "accept"


def test_registered_and_satisfies_the_protocol():
    backend = registry.get("critic", "rules")
    built = backend.build(backend.config_cls(kind="rules", accept_threshold=0.9))
    assert isinstance(built, Critic)
    assert built.settings.accept_threshold == 0.9


# ------------------------------------------------------------------- matching
def test_family_table_separates_what_minilm_confuses():
    m = LabelMatcher(use_minilm=False)
    assert m.matches("percussion", "Drum kit")
    assert m.matches("Bark", "Bow-wow") and m.matches("Dog", "Bark")
    assert not m.matches("Brass instrument", "Percussion")
    assert not m.matches("Dog", "Cat")
    # A heard parent does not confirm a specific plan; a heard child confirms a generic plan.
    assert not m.matches("Trumpet", "Music") and m.matches("Music", "Trumpet")
    assert is_generic("Inside, small room") and is_generic("Jazz") and not is_generic("Trumpet")


class _FakeEmbedder:
    """Unit vectors where 'Sonar' and 'spaceship ping' point the same way."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.matrix = rng.normal(size=(len(audioset_names()), 16)).astype(np.float32)
        self.matrix /= np.linalg.norm(self.matrix, axis=1, keepdims=True)
        self.calls = 0

    def audioset_matrix(self):
        return self.matrix

    def embed(self, texts):
        self.calls += 1
        sonar = self.matrix[list(audioset_names()).index("Sonar")]
        return np.stack([sonar for _ in texts])


def test_minilm_tier_decides_labels_outside_the_table_and_is_memoised():
    fake = _FakeEmbedder()
    m = LabelMatcher(embedder=fake)
    assert m.matches("spaceship ping", "Sonar")
    assert m.matches("spaceship ping", "Sonar")
    assert fake.calls == 1


def test_real_minilm_similarity_where_names_differ():
    from ualm_agent.modelpacks import MINILM

    assert not MINILM.missing_reason(), MINILM.missing_reason()
    m = LabelMatcher()
    # cosine() is the MiniLM tier itself, without the family table.
    assert m.cosine("Percussion", "Drum kit") > 0.6
    assert m.cosine("Sonar", "Cough") < m.cosine("Percussion", "Drum kit")


def test_continuous_event_split_into_pieces_is_not_a_count_issue(critic):
    heard = caption(ev("Brass instrument", 0.0, 5.0, count=2), ev("Drum kit", 5.0, 10.0, count=9))
    assert "count" not in kinds(critic.critique(BRASS_THEN_DRUMS, heard, observe(heard)))


def test_siblings_together_cover_the_planned_span(critic):
    # YAMNet names the first half "Brass instrument" and all of it "Trumpet": one sound, on time.
    heard = caption(ev("Brass instrument", 0.0, 2.3), ev("Trumpet", 0.0, 4.8), ev("Drum kit", 5.0, 10.0))
    result = critic.critique(BRASS_THEN_DRUMS, heard, observe(heard))
    assert result.issues == [] and result.verdict == "accept"
    # Without the sibling the early end is a timing issue.
    alone = caption(ev("Brass instrument", 0.0, 2.3), ev("Drum kit", 5.0, 10.0))
    assert "timing" in kinds(critic.critique(BRASS_THEN_DRUMS, alone, observe(alone)))


def test_a_long_sound_heard_in_pieces_is_on_time_and_its_pieces_add_up(critic):
    plan = caption(ev("Acoustic guitar", 0.0, 10.0), ev("Knock", 2.0, 8.0, count=4))
    heard = caption(
        ev("Acoustic guitar", 0.1, 3.0), ev("Knock", 2.0, 4.0, count=2), ev("Acoustic guitar", 5.9, 9.2),
        ev("Knock", 5.9, 7.5, count=2),
    )
    result = critic.critique(plan, heard, observe(heard))
    assert result.issues == [], result.issues


def test_thunder_is_not_rain(critic):
    plan = caption(ev("Thunder", 0.0, 3.0), ev("Rain", 3.0, 10.0))
    heard = caption(ev("Rain", 3.0, 10.0), ev("Rain on surface", 3.0, 10.0))
    result = critic.critique(plan, heard, observe(heard))
    assert [(i.kind, i.label) for i in result.issues] == [("missing", "Thunder")]


# --- counted events: occurrences, sibling families and faint co-labels ------------------------
THREE_BARKS = caption(ev("Bark", 0.0, 10.0, count=3))  # occurrences start at 0.0, 3.33 and 6.67 s


def heard_bursts(*bursts: tuple[str, float, float, float]) -> tuple[RichCaption, Observation]:
    """The listener's pieces (label, start, end, confidence) and a caption with one event per piece."""
    events = [HeardEvent(label=l, start_s=a, end_s=b, confidence=c) for l, a, b, c in bursts]
    heard = caption(*(ev(e.label, e.start_s, e.end_s) for e in events))
    return heard, Observation(events=events, loudness_lufs=-20.0, duration_s=10.0)


def test_counted_bark_is_on_time_per_occurrence_and_siblings_count_once(critic):
    heard, obs = heard_bursts(
        ("Dog", 0.05, 0.3, 0.6), ("Bark", 0.05, 0.25, 0.3), ("Bark", 3.4, 3.6, 0.5), ("Bow-wow", 3.45, 3.6, 0.3),
        ("Dog", 6.7, 6.9, 0.7),
    )
    result = critic.critique(THREE_BARKS, heard, obs)
    # Heard 0.05-6.9 s against a 0-10 s span is fine: each bark starts where its occurrence does.
    assert result.issues == [], result.issues
    assert result.verdict == "accept"


def test_counted_bark_missing_one_occurrence_is_counted_by_distinct_bursts(critic):
    heard, obs = heard_bursts(("Dog", 0.05, 0.3, 0.6), ("Bark", 0.1, 0.3, 0.4), ("Bark", 6.7, 6.9, 0.5))
    result = critic.critique(THREE_BARKS, heard, obs)
    (count,) = [i for i in result.issues if i.kind == "count"]
    assert (count.expected, count.observed) == ("3x", "2x")
    # Two barks for three asked is worth another take, whatever the score.
    assert result.verdict == "revise"
    lenient = RulesCritic(revise_on=()).critique(THREE_BARKS, heard, obs)
    assert lenient.score == result.score


def test_counted_bark_heard_late_names_the_occurrence(critic):
    heard, obs = heard_bursts(("Bark", 0.05, 0.3, 0.6), ("Bark", 4.6, 4.8, 0.6), ("Bark", 6.7, 6.9, 0.6))
    (timing,) = [i for i in critic.critique(THREE_BARKS, heard, obs).issues if i.kind == "timing"]
    assert "occurrence 2 of 3 started 1.3 s late" in timing.message
    # An onset nearer the next occurrence is that occurrence's, not a late first one.
    heard, obs = heard_bursts(("Bark", 2.8, 3.0, 0.6), ("Bark", 6.7, 6.9, 0.6))
    issues = critic.critique(THREE_BARKS, heard, obs).issues
    assert [i.observed for i in issues if i.kind == "count"] == ["2x"]
    assert not [i for i in issues if i.kind == "timing"], issues


def test_faint_other_name_of_a_planned_burst_is_not_an_extra_but_a_distinct_sound_is(critic):
    heard, obs = heard_bursts(
        ("Bark", 0.05, 0.3, 0.6), ("Plop", 3.35, 3.5, 0.32), ("Bark", 3.4, 3.6, 0.5), ("Bark", 6.7, 6.9, 0.6),
        ("Cat", 8.0, 9.0, 0.8), ("Squeak", 5.0, 5.1, 0.32),
    )
    extras = [i.label for i in critic.critique(THREE_BARKS, heard, obs).issues if i.kind == "extra"]
    assert extras == ["Cat", "Squeak"]


def test_a_bells_ringing_split_into_quieter_pieces_is_one_strike_but_a_second_bark_is_another(critic):
    plan = caption(ev("Bell", 0.0, 8.2, count=2), ev("Bark", 8.5, 10.0))
    pieces = [
        ("Bell", 0.12, 1.49, 0.99, -32.4), ("Church bell", 0.12, 1.32, 0.5, -31.8), ("Ding", 2.28, 2.86, 0.8, -59.9),
        ("Bell", 4.1, 5.09, 0.99, -26.7), ("Ding", 4.92, 6.12, 0.68, -46.2), ("Ding", 6.36, 6.96, 0.32, -59.8),
        ("Ding", 8.5, 8.65, 0.5, -20.6), ("Dog", 8.52, 8.65, 0.32, -20.8),
    ]
    events = [HeardEvent(label=l, start_s=a, end_s=b, confidence=c, loudness_db=db) for l, a, b, c, db in pieces]
    heard = caption(*(ev(e.label, e.start_s, e.end_s) for e in events))
    result = critic.critique(plan, heard, Observation(events=events, loudness_lufs=-20.0, duration_s=10.0))
    assert "count" not in kinds(result), result.issues
    # Two barks of the same loudness half a second apart are two barks.
    double = [HeardEvent(label="Bark", start_s=a, end_s=a + 0.15, confidence=0.6, loudness_db=-20.0) for a in (0.05, 0.55, 3.4, 6.7)]
    heard = caption(*(ev(e.label, e.start_s, e.end_s) for e in double))
    result = critic.critique(THREE_BARKS, heard, Observation(events=double, loudness_lufs=-20.0, duration_s=10.0))
    assert [i.observed for i in result.issues if i.kind == "count"] == ["4x"]


def test_a_faint_brief_sound_during_a_long_planned_sound_stays_an_extra(critic):
    plan = caption(ev("Rain", 0.0, 10.0))
    heard = caption(ev("Rain", 0.0, 10.0), ev("Squeak", 4.0, 4.2))
    obs = Observation(
        events=[HeardEvent(label="Rain", start_s=0.0, end_s=10.0, confidence=0.9),
                HeardEvent(label="Squeak", start_s=4.0, end_s=4.2, confidence=0.35)],
        loudness_lufs=-20.0, duration_s=10.0,
    )
    assert [i.label for i in critic.critique(plan, heard, obs).issues if i.kind == "extra"] == ["Squeak"]


def test_a_round_rendered_not_at_all_gets_the_issues_the_critic_gives_unrendered_labels(critic):
    """What the graph asks of the critic for a round that made no audio: nothing heard, labels unrendered."""
    plan = caption(ev("Theremin", 0.0, 4.0), ev("Dog", 5.0, 7.0))
    heard = caption(ev("Dog", 5.0, 7.0))
    in_a_heard_round = critic.critique(plan, heard, observe(heard), unrendered=["Theremin"])
    failed = critic.critique(plan, caption(), Observation(duration_s=10.0), unrendered=["Theremin", "Dog"])
    assert [i for i in failed.issues if i.label == "Theremin"] == [
        i for i in in_a_heard_round.issues if i.observed == "not rendered"]
    assert [(i.kind, i.label, i.observed) for i in failed.issues] == [
        ("missing", "Theremin", "not rendered"), ("missing", "Dog", "not rendered")]
    assert failed.verdict == "revise" and failed.score < 0.5
    assert "Replace Theremin with a sound the generator can render." in failed.instructions


def test_distinct_sounds_of_one_source_do_not_confirm_each_other_but_its_name_does():
    m = LabelMatcher(use_minilm=False)
    for a, b in [("Purr", "Meow"), ("Hiss", "Purr"), ("Bark", "Howl"), ("Clip-clop", "Neigh, whinny"),
                 ("Duck", "Goose")]:
        assert not m.matches(a, b) and not m.matches(b, a), (a, b)
        assert m.looks_like(a, b), (a, b)  # related: a look-alike heard in its place, not a stranger
    for a, b in [("Purr", "Cat"), ("Cat", "Meow"), ("Meow", "Caterwaul"), ("Bark", "Dog"), ("Bark", "Bow-wow"),
                 ("Quack", "Duck"), ("Rain", "Raindrop"), ("Rain", "Rain on surface")]:
        assert m.matches(a, b) and m.matches(b, a), (a, b)


def test_a_planned_purr_heard_only_as_meow_is_missing(critic):
    plan = caption(ev("Purr", 0.0, 6.0))
    heard = caption(ev("Meow", 0.5, 1.2), ev("Meow", 3.0, 3.8))
    result = critic.critique(plan, heard, observe(heard))
    assert ("missing", "Purr") in [(i.kind, i.label) for i in result.issues]
    # The Cat heard under it still confirms the purr.
    heard = caption(ev("Cat", 0.0, 6.0), ev("Purr", 0.2, 5.8))
    assert critic.critique(plan, heard, observe(heard)).issues == []
