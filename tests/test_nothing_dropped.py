"""Nothing the prompt asks for is silently dropped.

What the toolkit changes or cannot honour is stated in the plan's assumptions, naming the value
asked for; a round whose planned sounds cannot be rendered is revised, not retried unchanged; a
prompt with no sound event is a one-line usage error; no generator output holds NaN, and no
component warns on the user's terminal.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from cli_helpers import cli
from fakes import EmptyPlanner, PartialToneGenerator, ScriptedPlanner, fake_components

from ualm_agent.components.generators.catalogue import CATALOGUE
from ualm_agent.components.generators.composer import SHORTEST_SOUND_S, Composer
from ualm_agent.components.planners.rules import RulesPlanner
from ualm_agent.config import AgentConfig
from ualm_agent.errors import UsageError
from ualm_agent.graphs.context import AgentContext
from ualm_agent.graphs.reflection import build_graph, run_config
from ualm_agent.roles import GenerationRequest
from ualm_agent.schema import LayoutEvent, RichCaption


@pytest.fixture(scope="module")
def planner() -> RulesPlanner:
    return RulesPlanner()


def stated(caption: RichCaption, *needles: str) -> str:
    """The one assumption that names every needle (the value asked for and what was done)."""
    found = [a for a in caption.assumptions if all(n in a for n in needles)]
    assert found, (needles, caption.assumptions)
    return found[0]


def only(caption: RichCaption) -> LayoutEvent:
    (event,) = caption.layout
    return event


def inside(caption: RichCaption) -> bool:
    return all(0.0 <= ev.start_s < ev.end_s <= caption.duration_s + 1e-9 for ev in caption.layout)


# ---- times the clip cannot hold --------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("a dog barks at 99999 seconds", "at 99999 seconds"),
        ("a dog barks at 70 seconds", "at 70 seconds"),
        ("a dog barks at minute 3", "at 3 minutes"),
        ("a dog barks at 3 minutes", "at 3 minutes"),
    ],
)
def test_a_start_past_the_longest_clip_is_stated(planner, prompt, words):
    caption = planner.plan(prompt, duration_s=5.0)
    bark = only(caption)
    assert inside(caption) and bark.phrase == "a dog barks"
    note = stated(caption, f'"a dog barks" {words}', "the longest clip is 60 s")
    assert f"planned at {bark.start_s:g}-{bark.end_s:g} s" in note


def test_a_length_past_the_longest_clip_is_stated(planner):
    caption = planner.plan("a dog barks for 2 hours", duration_s=5.0)
    assert caption.duration_s == 60.0 and inside(caption) and only(caption).phrase == "a dog barks"
    stated(caption, '"a dog barks" for 2 hours', "the longest clip is 60 s", "0-60 s")
    stated(caption, "7200 s", "longest clip (60 s)")


def test_lengths_that_overflow_the_longest_clip_keep_their_order(planner):
    caption = planner.plan("a siren for 2 hours then a dog barks for 2 hours", duration_s=10.0)
    siren, bark = caption.layout
    assert caption.duration_s == 60.0 and inside(caption)
    assert siren.end_s < bark.start_s  # squeezed into the clip, still one after the other
    stated(caption, '"a siren" for 2 hours', "longest clip", f"{siren.start_s:g}-{siren.end_s:g} s")
    stated(caption, '"a dog barks" for 2 hours', "longest clip", f"{bark.start_s:g}-{bark.end_s:g} s")


def test_an_end_past_the_longest_clip_is_stated(planner):
    caption = planner.plan("a trumpet plays from 50 to 90 seconds", duration_s=10.0)
    assert (only(caption).start_s, only(caption).end_s) == (50.0, 60.0)
    stated(caption, '"a trumpet plays" from 50 to 90 seconds', "longest clip is 60 s", "50-60 s")


def test_an_event_shorter_than_the_shortest_is_stated(planner):
    caption = planner.plan("a beep lasting 1 ms", duration_s=5.0)
    assert only(caption).duration_s == pytest.approx(0.05)
    stated(caption, '"a beep" lasting 1 ms', "the shortest event is 0.05 s")


def test_a_start_before_the_clip_is_stated(planner):
    caption = planner.plan("a dog barks at -3 seconds", duration_s=5.0)
    assert only(caption).start_s == 0.0 and only(caption).phrase == "a dog barks"
    stated(caption, '"a dog barks" at -3 seconds', "before the clip starts", "0 s")
    gone = planner.plan("a beep for -2 seconds", duration_s=5.0)
    assert only(gone).phrase == "a beep"
    stated(gone, '"a beep" for -2 seconds', "left out")


# ---- spans that end before they start --------------------------------------------------------


def test_a_reversed_span_is_read_forwards_and_stated(planner):
    caption = planner.plan("a siren from 5 s to 2 s", duration_s=5.0)
    siren = only(caption)
    assert (siren.start_s, siren.end_s) == (2.0, 5.0)
    assert caption.duration_s == 5.0  # not lengthened to fit a span that was never asked for
    assert siren.phrase == "a siren" and caption.keywords == ["a siren"]  # "to 2 s" does not leak
    stated(caption, '"a siren" from 5 s to 2 s', "ends before it starts", "2-5 s")


def test_a_span_with_no_length_is_stated(planner):
    caption = planner.plan("a siren from 5 s to 5 s", duration_s=10.0)
    siren = only(caption)
    assert siren.start_s == 5.0 and siren.phrase == "a siren"
    stated(caption, '"a siren" from 5 s to 5 s', "no length", "starting at 5 s")


@pytest.mark.parametrize("clip", [5.0, 10.0])
@pytest.mark.parametrize(("a", "b"), [(1, 3), (3, 1), (2, 2), (-2, 3), (4, 9), (8, 70), (70, 80), (-5, -2)])
def test_every_span_is_planned_as_written_or_the_change_is_stated(planner, clip, a, b):
    """Across the category: a span either lands where it was asked or a statement quotes its words."""
    words = f"from {a} s to {b} s"
    caption = planner.plan(f"a bell rings {words}", duration_s=clip)
    bell = only(caption)
    assert inside(caption) and bell.phrase == "a bell rings"
    if (bell.start_s, bell.end_s) != (float(a), float(b)):
        stated(caption, f'"a bell rings" {words}')


@pytest.mark.parametrize("start", [-1, 0, 4, 8, 59, 60, 600, 99999])
def test_every_start_is_planned_as_written_or_the_change_is_stated(planner, start):
    caption = planner.plan(f"a bell rings at {start} seconds", duration_s=5.0)
    bell = only(caption)
    assert inside(caption)
    if bell.start_s != float(start):
        stated(caption, f'"a bell rings" at {start} seconds')


# ---- counts ----------------------------------------------------------------------------------


def test_a_count_above_100_is_clamped_and_stated(planner):
    caption = planner.plan("a dog barks 1000000 times", duration_s=5.0)
    bark = only(caption)
    assert bark.count == 100 and bark.phrase == "a dog barks"
    stated(caption, '"a dog barks" 1000000 times', "at most 100 repeats", "planned 100 times")


def test_a_count_too_close_to_hear_apart_widens_the_clip_and_says_so(planner):
    caption = planner.plan("a dog barks 40 times", duration_s=5.0)
    bark = only(caption)
    assert bark.count == 40
    assert bark.duration_s / bark.count >= 0.25 - 1e-9  # each repeat gets room to be heard
    assert caption.duration_s == 10.0
    stated(caption, '"a dog barks" 40 times', "heard apart", "lengthened from 5 s to 10 s")


def test_a_count_in_a_stated_span_is_kept_and_said_to_run_together(planner):
    caption = planner.plan("a knock 100 times from 1 s to 1.1 s", duration_s=5.0)
    knock = only(caption)
    assert (knock.start_s, knock.end_s, knock.count) == (1.0, 1.1, 100)
    stated(caption, '"a knock" 100 times from 1 s to 1.1 s', "run together")


def test_a_count_within_a_stated_length_keeps_it(planner):
    caption = planner.plan("a dog barks 100 times in 0.5 seconds", duration_s=5.0)
    bark = only(caption)
    assert (bark.duration_s, bark.count, bark.phrase) == (0.5, 100, "a dog barks")  # "in 0.5 seconds" is read
    stated(caption, '"a dog barks" 100 times in 0.5 seconds', "run together")


@pytest.mark.parametrize(("words", "count", "what"), [("0 times", 1, "planned once"), ("-3 times", 1, "planned once"),
                                                      ("2.5 times", 3, "planned 3 times")])
def test_counts_that_are_not_whole_or_positive_are_stated(planner, words, count, what):
    caption = planner.plan(f"a dog barks {words}", duration_s=10.0)
    bark = only(caption)
    assert bark.count == count and bark.phrase == "a dog barks"
    stated(caption, f'"a dog barks" {words}', what)


def test_counts_the_plan_honours_state_nothing(planner):
    caption = planner.plan("a dog barks three times, then a bell rings twice", duration_s=10.0)
    assert [ev.count for ev in caption.layout] == [3, 2]
    assert not [a for a in caption.assumptions if a.startswith("Asked for")]


# ---- the clip length -------------------------------------------------------------------------


def test_a_duration_below_the_shortest_clip_is_stated(planner):
    caption = planner.plan("a dog barks", duration_s=0.1)
    assert caption.duration_s == 0.5 and inside(caption)
    assert stated(caption, "0.1 s") == "Asked for a 0.1 s clip: the shortest clip is 0.5 s, so the clip is 0.5 s."
    in_prompt = planner.plan("a 0.1 second clip of a beep", duration_s=10.0)
    assert in_prompt.duration_s == 0.5
    stated(in_prompt, "Asked for a 0.1 second clip:", "shortest clip is 0.5 s")  # the user's words


def test_a_duration_above_the_planners_longest_is_stated():
    caption = RulesPlanner(max_duration_s=30.0).plan("a dog barks", duration_s=45.0)
    assert caption.duration_s == 30.0
    stated(caption, "a 45 s clip", "the longest clip is 30 s")
    answered = RulesPlanner(max_duration_s=30.0).plan("a dog barks", answers={"duration": "2 hours"})
    assert answered.duration_s == 30.0
    stated(answered, "a 7200 s clip", "longest clip is 30 s")


def test_a_silence_asked_for_at_the_end_is_kept_or_stated(planner):
    caption = planner.plan("a beep then silence for 8 seconds", duration_s=5.0)
    beep = only(caption)
    assert caption.duration_s - beep.end_s >= 8.0 - 1e-6  # the clip grew to hold it
    stated(caption, "the clip was extended")
    too_long = planner.plan("a siren then silence for 90 seconds", duration_s=5.0)
    assert too_long.duration_s == 60.0 and inside(too_long)
    stated(too_long, "90 s of silence at the end", "60 s clip")


def test_the_shortest_clip_renders_through_the_composer():
    """The planner's 0.5 s floor is a clip the generator makes: audible, finite, of that length."""
    caption = RulesPlanner().plan("a dog barks", duration_s=0.1)
    audio = Composer().generate(GenerationRequest(caption=caption, text="", duration_s=caption.duration_s, seed=0)).audio
    assert audio.frames == int(0.5 * audio.sample_rate)
    assert np.all(np.isfinite(audio.samples)) and float(np.max(np.abs(audio.samples))) > 0.01


# ---- prompts with no sound event -------------------------------------------------------------


@pytest.mark.parametrize(("prompt", "why"), [("!!!", "it has no words that describe a sound"),
                                             ("asdfgh qwerty", "it has no words that describe a sound"),
                                             ("silence", "it asks only for silence")])
def test_no_sound_event_is_a_usage_error(planner, prompt, why):
    with pytest.raises(UsageError) as caught:
        planner.plan(prompt, duration_s=5.0)
    assert str(caught.value) == (f'no sound event found in the prompt "{prompt}" ({why}); '
                                 'describe a sound, e.g. "a dog barks three times"')


@pytest.mark.parametrize("prompt", ["!!!", "silence"])
def test_no_sound_event_exits_2_with_one_line_from_the_cli(tmp_path, cli_env, prompt):
    for args in (["run", prompt, "--out", str(tmp_path / "runs")], ["plan", prompt]):
        res = cli(args, cli_env)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "no sound event found in the prompt" in lines[0], res.stderr
        assert "Traceback" not in res.stderr and "is silent" not in res.stderr


@pytest.mark.parametrize("planned", [EmptyPlanner(), ScriptedPlanner(labels=["Silence"])])
def test_the_graph_refuses_a_plan_with_no_sound_from_any_planner(tmp_path, planned):
    config = AgentConfig.load(**{"loop.reflect": 1}, duration_s=4.0)
    ctx = AgentContext(config=config, components=fake_components(planner=planned), workdir=str(tmp_path))
    with pytest.raises(UsageError, match='^no sound event found in the prompt "a quiet night"'):
        build_graph().invoke({"prompt": "a quiet night"}, run_config(ctx), context=ctx)
    assert not list(tmp_path.glob("round_*.wav"))


# ---- rounds in which nothing can be rendered -------------------------------------------------


def test_a_round_with_no_renderable_sound_is_revised_to_renderable_ones(tmp_path):
    from ualm_agent.components.critics.rules import RulesCritic
    from ualm_agent.components.revisers.rules import RulesReviser

    generator = PartialToneGenerator(renderable=("Bark", "Siren", "Church bell"))
    parts = fake_components(planner=ScriptedPlanner(labels=["Croak"]), generator=generator,
                            critic=RulesCritic(), reviser=RulesReviser())
    config = AgentConfig.load(**{"loop.reflect": 2}, duration_s=4.0)
    ctx = AgentContext(config=config, components=parts, workdir=str(tmp_path))
    out = build_graph().invoke({"prompt": "a frog croaks"}, run_config(ctx), context=ctx)
    first, second = out["rounds"][0], out["rounds"][1]
    assert first.failed and first.unrendered == ["Croak"]
    assert first.error == "none of the planned sounds could be rendered: Croak"
    (substitute,) = second.plan.labels()
    assert substitute in generator.renderable_labels()  # not a plain retry of the same plan
    assert second.plan.layout[0].phrase == "croak"  # the user's words stay with the event
    assert f"Revision: replaced Croak, which cannot be rendered, with {substitute}." in second.plan.assumptions
    assert not second.failed and second.audio is not None
    assert out["result"].final is not None


def test_without_a_renderable_list_a_failed_round_is_retried_with_a_new_seed(tmp_path):
    """A generator that cannot say what it renders leaves nothing to substitute: the plan stays."""
    from ualm_agent.components.critics.rules import RulesCritic
    from ualm_agent.components.revisers.rules import RulesReviser

    class Opaque:  # renders only bells, and does not say so
        def __init__(self):
            self.inner = PartialToneGenerator(renderable=("Church bell",))

        def generate(self, request):
            return self.inner.generate(request)

    parts = fake_components(planner=ScriptedPlanner(labels=["Croak"]), generator=Opaque(),
                            critic=RulesCritic(), reviser=RulesReviser())
    config = AgentConfig.load(**{"loop.reflect": 1}, duration_s=4.0)
    ctx = AgentContext(config=config, components=parts, workdir=str(tmp_path))
    out = build_graph().invoke({"prompt": "a frog croaks"}, run_config(ctx), context=ctx)
    assert [r.plan.labels() for r in out["rounds"]] == [["Croak"], ["Croak"]]
    assert all(r.failed and "Croak" in r.error for r in out["rounds"])


# ---- no NaN, no warnings ---------------------------------------------------------------------


def _distinct_recipes() -> dict[str, object]:
    """One catalogue label per distinct recipe, so every recipe is stressed once."""
    seen: dict[str, str] = {}
    for name, recipe in CATALOGUE.items():
        seen.setdefault(repr(recipe), name)
    return {name: CATALOGUE[name] for name in seen.values()}


STRESS = [
    # (clip s, start, end, count): tiny clip, tiny events, huge counts in tiny spans, events past the clip.
    (0.0005, 0.0, 0.0004, 1),
    (0.5, 0.0, 0.02, 1),
    (0.5, 0.0, 0.5, 100),
    (1.0, 0.0, 0.3, 7),
    (5.0, 1.0, 1.1, 100),
    (5.0, 0.0, 5.0, 40),
    (2.0, 1.99, 6.0, 3),
]


@pytest.fixture(scope="module")
def composer() -> Composer:
    return Composer()


def test_no_recipe_gives_nan_silence_or_a_warning_under_stress(composer):
    problems = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i, label in enumerate(_distinct_recipes()):
            for j, (clip, start, end, count) in enumerate(STRESS):
                # Half the renders far away: the distance filter and its tail are stressed too.
                level = ("normal", "distant")[(i + j) % 2]
                event = LayoutEvent(label=label, start_s=start, end_s=end, count=count, level=level)
                caption = RichCaption(layout=[event], duration_s=clip)
                result = composer.generate(GenerationRequest(caption=caption, text="", duration_s=clip, seed=3))
                x = result.audio.samples
                if x.shape[1] != max(1, round(clip * 16000)) or not np.all(np.isfinite(x)):
                    problems.append((label, clip, start, end, count, "shape or NaN"))
                elif float(np.max(np.abs(x))) < 1e-4:
                    problems.append((label, clip, start, end, count, "silent"))
    assert not problems, problems[:10]


def test_occurrences_too_short_to_hear_are_lengthened_and_said_so(composer):
    event = LayoutEvent(label="Knock", start_s=1.0, end_s=1.1, count=100)
    result = composer.generate(GenerationRequest(caption=RichCaption(layout=[event], duration_s=5.0), text="",
                                                 duration_s=5.0, seed=0))
    x = result.audio.samples[0]
    assert float(np.max(np.abs(x[16000:17760]))) > 0.01  # heard where it was planned
    (note,) = [n for n in result.notes if n.startswith("Knock: ")]
    assert re.search(rf"100 occurrences shorter than {SHORTEST_SOUND_S:g} s", note)


def test_occurrences_past_the_clip_end_are_left_out_and_said_so(composer):
    event = LayoutEvent(label="Bark", start_s=0.5, end_s=9.0, count=3)
    result = composer.generate(GenerationRequest(caption=RichCaption(layout=[event], duration_s=9.0), text="",
                                                 duration_s=3.0, seed=0))
    assert result.audio.frames == 3 * 16000 and np.all(np.isfinite(result.audio.samples))
    assert any("starting after the clip's end (3 s)" in n for n in result.notes), result.notes


def test_a_render_with_nan_is_left_out_and_the_nearest_sound_stands_in(monkeypatch, composer):
    from ualm_agent.components.generators import dsp

    def broken(d, sr, rng, single):
        return np.full(max(1, int(d * sr)), np.nan)

    monkeypatch.setitem(dsp.RECIPES, CATALOGUE["Siren"].dsp, broken)
    events = [LayoutEvent(label="Siren", start_s=0.0, end_s=1.0), LayoutEvent(label="Beep, bleep", start_s=1.0, end_s=2.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = composer.generate(GenerationRequest(caption=RichCaption(layout=events, duration_s=2.0), text="",
                                                     duration_s=2.0, seed=0))
    assert np.all(np.isfinite(result.audio.samples))
    assert result.unrendered == ()
    assert any(n.startswith("Siren: its render gave NaN") for n in result.notes)
    assert any(n.startswith("Siren cannot be rendered here") and "stands in" in n for n in result.notes)
    assert float(np.max(np.abs(result.audio.samples[0, :8000]))) > 0.01


def test_silent_and_nan_recordings_never_reach_the_mix(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "Bark.wav", np.zeros(8000, np.float32), 16000)
    sf.write(tmp_path / "Siren.wav", np.full(8000, np.nan, np.float32), 16000, subtype="FLOAT")
    composer = Composer(samples=str(tmp_path))
    events = [LayoutEvent(label="Bark", start_s=0.0, end_s=1.0), LayoutEvent(label="Siren", start_s=1.0, end_s=2.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = composer.generate(GenerationRequest(caption=RichCaption(layout=events, duration_s=2.0), text="",
                                                     duration_s=2.0, seed=0))
    x = result.audio.samples[0]
    assert np.all(np.isfinite(x))
    assert float(np.max(np.abs(x[16000:]))) > 0.01  # the synthesised siren stands in for the broken file
    assert any("Siren.wav" in n and "NaN" in n for n in result.notes), result.notes


@pytest.mark.parametrize(("prompt", "words", "count"), [("a dog barks 3-4 times", "3-4 times", 4),
                                                       ("a bell rings two or three times", "two or three times", 3),
                                                       ("a knock 5 to 2 times", "5 to 2 times", 5)])
def test_a_range_of_counts_is_planned_at_its_upper_end_and_stated(planner, prompt, words, count):
    caption = planner.plan(prompt, duration_s=10.0)
    assert [ev.count for ev in caption.layout] == [count]
    assert any(words in a and f"{count} times" in a for a in caption.assumptions), caption.assumptions


# ---- statements name the user's words in the order written -----------------------------------


def asked_subject(statement: str) -> str:
    """What an "Asked for ...: ..." statement says was asked for."""
    assert statement.startswith("Asked for ") and ": " in statement, statement
    return statement[len("Asked for "):statement.index(": ")]


def _plain(text: str) -> str:
    """Lower case, without the commas and full stops between words, spaced plainly."""
    return " ".join(re.sub(r"[.,](?!\d)", " ", text.lower()).split())


def written_in_order(subject: str, prompt: str) -> bool:
    """Whether every run of words in ``subject``, quoted or not, is the prompt's, in the prompt's order."""
    text = _plain(prompt)
    at = 0
    for piece in (_plain(p) for p in subject.split('"')):
        if not piece:
            continue
        found = text.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def asked_statements(caption: RichCaption) -> list[str]:
    return [a for a in caption.assumptions if a.startswith("Asked for ")]


WORD_ORDER_PROMPTS = [
    "5 seconds of a dog barking 40 times",
    "0.01 seconds of rain",
    "90 seconds of applause",
    "at 99 seconds a dog barks",
    "a dog barks at 99 seconds",
    "at -3 seconds a bell rings 2.5 times",
    "three knocks within 0.2 seconds",
    "1000 gunshots",
    "a knock 100 times from 1 s to 1.1 s",
    "100 times a knock from 1 s to 1.1 s",
    "from 5 s to 2 s a siren wails",
    "a beep lasting 1 ms, then 3-4 times a dog barks within 0.5 seconds",
    "a sheep bleats several times in 0.3 seconds",
    "starting at 70 seconds, a bell rings",
    "a beep at 1.5 s, then a beep at 1 s",
    "a siren at 4 seconds followed by a dog bark at 1 second",
    "first a bell, then a siren at 0 seconds",
    "after a siren at 4 s, a dog barks at 1 s",
    "a 0.1 second clip of a beep",
    "a 90 second clip of a dog barking",
]


@pytest.mark.parametrize("prompt", WORD_ORDER_PROMPTS)
def test_every_asked_for_statement_quotes_the_users_words_in_order(planner, prompt):
    caption = planner.plan(prompt, duration_s=5.0)
    statements = asked_statements(caption)
    assert statements, caption.assumptions  # each of these asks for something the plan cannot take as written
    for statement in statements:
        assert written_in_order(asked_subject(statement), prompt), (prompt, statement)


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("time", ["at 99 seconds", "for 2 hours", "from 8 s to 3 s", "lasting 1 ms", "until -1 s"])
@pytest.mark.parametrize("count", ["", "40 times", "1000000 times", "2.5 times", "3-4 times"])
def test_time_and_count_words_keep_their_place_around_the_sound(planner, where, time, count):
    """Across the category: whichever side of the sound its time is written on, a statement about it
    quotes the time there, and the count where the user wrote it."""
    sound = f"a dog barks {count}".strip()
    prompt = f"{time} {sound}" if where == "before" else f"{sound} {time}"
    caption = planner.plan(prompt, duration_s=5.0)
    statements = asked_statements(caption)
    assert any(time in asked_subject(s) for s in statements), (prompt, caption.assumptions)
    for statement in statements:
        assert written_in_order(asked_subject(statement), prompt), (prompt, statement)


# ---- "N seconds of X" ------------------------------------------------------------------------


def test_seconds_of_a_sound_as_the_whole_prompt_is_the_clip_and_its_length(planner):
    caption = planner.plan("5 seconds of a dog barking 40 times", duration_s=10.0)
    bark = only(caption)
    assert caption.duration_s == 5.0 and (bark.start_s, bark.end_s, bark.count) == (0.0, 5.0, 40)
    assert stated(caption, '5 seconds of "a dog barking" 40 times', "run together").startswith(
        'Asked for 5 seconds of "a dog barking" 40 times: that leaves 0.12 s each')
    assert not any("duration" in a for a in caption.assumptions)  # the prompt gives one


def test_seconds_of_a_sound_below_the_shortest_clip_and_event_is_stated_twice(planner):
    caption = planner.plan("0.01 seconds of rain", duration_s=10.0)
    rain = only(caption)
    assert caption.duration_s == 0.5 and (rain.start_s, rain.end_s) == (0.0, 0.05)
    assert "Asked for 0.01 seconds of \"rain\": the shortest clip is 0.5 s, so the clip is 0.5 s." in caption.assumptions
    assert ("Asked for 0.01 seconds of \"rain\": the shortest event is 0.05 s, so it is planned at 0-0.05 s."
            in caption.assumptions)


@pytest.mark.parametrize("flag", [5.0, 10.0])
@pytest.mark.parametrize("seconds", [0.01, 0.3, 0.5, 2, 7.5, 30, 60, 90])
def test_seconds_of_a_sound_sets_the_clip_or_says_why_not(planner, flag, seconds):
    caption = planner.plan(f"{seconds:g} seconds of rain", duration_s=flag)
    rain = only(caption)
    assert inside(caption)
    clip = min(max(seconds, 0.5), 60.0)
    assert caption.duration_s == clip
    assert rain.start_s == 0.0 and rain.end_s == pytest.approx(min(max(seconds, 0.05), clip))
    if clip != seconds:
        stated(caption, f'Asked for {seconds:g} seconds of "rain": the ', f"clip is {clip:g} s, so the clip is {clip:g} s")
    else:
        assert not caption.assumptions


def test_seconds_of_a_sound_among_others_is_only_its_length(planner):
    caption = planner.plan("5 seconds of rain, then a dog barks", duration_s=10.0)
    assert caption.duration_s == 10.0
    rain = next(ev for ev in caption.layout if ev.phrase == "rain")
    assert rain.duration_s == pytest.approx(5.0)


def test_a_length_in_a_stated_clip_is_kept(planner):
    caption = planner.plan("a 5 second clip of a beep lasting 1 second", duration_s=10.0)
    assert caption.duration_s == 5.0 and only(caption).duration_s == pytest.approx(1.0)


# ---- order words that stated times contradict -------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "subject", "starts"),
    [
        ("a beep at 1.5 s, then a beep at 1 s", '"a beep" at 1.5 s, then "a beep" at 1 s', [1.0, 1.5]),
        ("a siren at 4 seconds followed by a dog bark at 1 second",
         '"a siren" at 4 seconds followed by "a dog bark" at 1 second', [1.0, 4.0]),
        ("first a bell, then a siren at 0 seconds", '"a bell", then "a siren" at 0 seconds', [0.0, 0.0]),
    ],
)
def test_order_words_the_stated_times_contradict_are_stated(planner, prompt, subject, starts):
    caption = planner.plan(prompt, duration_s=5.0)
    assert [ev.start_s for ev in caption.layout] == starts  # the stated times are kept
    note = stated(caption, f"Asked for {subject}: ")
    assert note.startswith(f"Asked for {subject}: the stated time")


def test_the_order_statement_says_where_each_sound_plays(planner):
    caption = planner.plan("a siren at 4 seconds followed by a dog bark at 1 second", duration_s=10.0)
    assert ('Asked for "a siren" at 4 seconds followed by "a dog bark" at 1 second: the stated times put them '
            'the other way round, so "a dog bark" plays at 1 s and "a siren" at 4 s.') in caption.assumptions
    first = planner.plan("first a bell, then a siren at 0 seconds", duration_s=10.0)
    assert ('Asked for "a bell", then "a siren" at 0 seconds: the stated time leaves no room for "a bell" '
            'before "a siren", so both start at 0 s.') in first.assumptions


def order_notes(caption: RichCaption) -> list[str]:
    return [a for a in caption.assumptions if "so both start at" in a or " plays at " in a]


# (how the prompt is written, whether the first-written sound is meant to start first)
ORDERED = [
    ("{a} then {b}", True), ("{a}, then {b}", True), ("{a} and then {b}", True), ("{a} followed by {b}", True),
    ("{a}, followed by {b}", True), ("{a} before {b}", True), ("{a} after {b}", False),
    ("after {a}, {b}", True), ("before {a}, {b}", False), ("{a}. then {b}", True), ("{a} and afterwards {b}", True),
]


@pytest.mark.parametrize(("form", "a_first"), ORDERED)
@pytest.mark.parametrize(("t1", "t2"), [(1, 4), (4, 1), (2, 2), (0, 0.5), (6, 0)])
def test_every_order_word_is_kept_or_the_stated_times_that_break_it_are_stated(planner, form, a_first, t1, t2):
    """Across the category: the stated times are kept; when they contradict the order words, one
    statement quotes both sounds, their times and the order words, as written."""
    a, b = f"a dog barks at {t1} s", f"a bell rings at {t2} s"
    prompt = form.format(a=a, b=b)
    caption = planner.plan(prompt, duration_s=10.0)
    bark, bell = _by_phrase(caption, "a dog barks"), _by_phrase(caption, "a bell rings")
    assert (bark.start_s, bell.start_s) == (t1, t2), prompt
    kept = (t1 < t2) if a_first else (t2 < t1)
    notes = order_notes(caption)
    if kept:
        assert not notes, (prompt, notes)
        return
    (note,) = notes
    assert written_in_order(asked_subject(note), prompt), (prompt, note)
    subject = asked_subject(note)
    assert subject.index('"a dog barks"') < subject.index('"a bell rings"')
    assert f"at {t1} s" in subject and f"at {t2} s" in subject
    assert note.endswith(f"both start at {t1:g} s." if t1 == t2 else
                         f"plays at {min(t1, t2):g} s and {_quoted_first(t1, t2)} at {max(t1, t2):g} s.")


def _by_phrase(caption: RichCaption, phrase: str) -> LayoutEvent:
    (event,) = [ev for ev in caption.layout if ev.phrase == phrase]
    return event


def _quoted_first(t1: float, t2: float) -> str:
    """The sound that plays second in the ORDERED prompts, as the order statement names it."""
    return '"a dog barks"' if t1 > t2 else '"a bell rings"'


@pytest.mark.parametrize("form", ["{a} then {b}", "{a} followed by {b}", "{b} after {a}", "before {b}, {a}"])
@pytest.mark.parametrize("at", [0, 0.2, 1, 3])
def test_an_untimed_sound_the_stated_time_leaves_no_room_for_is_stated(planner, form, at):
    """"first a bell, then a siren at 0 s": the untimed sound is meant first; when the plan cannot put it
    there, the statement says so."""
    prompt = form.format(a="a bell rings", b=f"a siren wails at {at} s")
    caption = planner.plan(prompt, duration_s=10.0)
    bell, siren = _by_phrase(caption, "a bell rings"), _by_phrase(caption, "a siren wails")
    assert siren.start_s == at
    notes = order_notes(caption)
    if bell.start_s < siren.start_s:
        assert not notes, (prompt, notes)
    else:
        (note,) = notes
        assert written_in_order(asked_subject(note), prompt), (prompt, note)
        assert 'leaves no room for "a bell rings" before "a siren wails"' in note


@pytest.mark.parametrize("word", ["while", "as", "whilst", "at the same time as"])
@pytest.mark.parametrize(("span_a", "span_b"), [((0, 2), (5, 7)), ((0, 4), (2, 6)), ((6, 8), (1, 3))])
def test_sounds_said_to_play_together_at_times_apart_are_stated(planner, word, span_a, span_b):
    prompt = f"a dog barks from {span_a[0]} to {span_a[1]} s {word} a siren wails from {span_b[0]} to {span_b[1]} s"
    caption = planner.plan(prompt, duration_s=10.0)
    apart = span_a[1] <= span_b[0] or span_b[1] <= span_a[0]
    notes = [a for a in caption.assumptions if "do not overlap" in a]
    assert len(notes) == apart, (prompt, caption.assumptions)
    if apart:
        assert written_in_order(asked_subject(notes[0]), prompt)
        assert f"{word} \"a siren wails\"" in notes[0]


def test_with_at_times_apart_states_nothing(planner):
    """Captions use "with" for a sound at its own time ("an engine from 0 to 6 s, with a door closing
    from 6.5 to 7.2 s"): it claims no overlap for the times to contradict."""
    caption = planner.plan("Engine running from 0 to 6 seconds, with a car door closing from 6.5 to 7.2 seconds.",
                           duration_s=10.0)
    assert not order_notes(caption) and not any("overlap" in a for a in caption.assumptions)


def test_sounds_of_the_same_name_are_told_apart_by_place(planner):
    caption = planner.plan("a beep at 1.5 s, then a beep at 1 s", duration_s=5.0)
    assert ('Asked for "a beep" at 1.5 s, then "a beep" at 1 s: the stated times put them the other way round, '
            "so the second plays at 1 s and the first at 1.5 s.") in caption.assumptions


# ---- the clip length the prompt leaves open ---------------------------------------------------


@pytest.mark.parametrize("duration", [0.5, 7.0, 10.0, 60.0])
def test_a_clip_length_the_prompt_leaves_open_is_stated_truly(planner, duration):
    """The planner cannot tell --duration from the config's default, so the statement claims neither."""
    caption = planner.plan("a dog barks", duration_s=duration)
    assert caption.assumptions == [f"The prompt gives no duration; the clip is {duration:g} s."]
    assert [q.key for q in caption.questions] == ["duration"]


def test_a_clip_lengthened_for_repeats_is_stated_at_its_final_length(planner):
    caption = planner.plan("a dog barks 40 times", duration_s=5.0)
    assert caption.duration_s == 10.0
    assert "The prompt gives no duration; the clip is 10 s." in caption.assumptions
    stated(caption, "lengthened from 5 s to 10 s")


@pytest.mark.parametrize(("duration", "clip"), [(0.0001, 0.5), (600.0, 60.0)])
def test_a_clip_length_out_of_bounds_is_stated_once(planner, duration, clip):
    caption = planner.plan("a dog barks", duration_s=duration)
    assert caption.duration_s == clip
    which = "shortest" if clip < 1 else "longest"
    # The only statement of the clip's length.
    assert caption.assumptions == [f"Asked for a {duration:g} s clip: the {which} clip is {clip:g} s, so the clip is {clip:g} s."]
    assert [q.key for q in caption.questions] == ["duration"]  # the question is still asked


def test_plan_with_a_tiny_duration_flag_states_the_clip_once(cli_env):
    res = cli(["plan", "a dog barks", "--duration", "0.0001"], cli_env)
    assert res.returncode == 0, res.stderr
    assert "Asked for a 0.0001 s clip: the shortest clip is 0.5 s, so the clip is 0.5 s." in res.stdout
    assert "gives no duration" not in res.stdout and "No duration given" not in res.stdout
