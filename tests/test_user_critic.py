"""The user as critic (--interactive): review each round, accept, add issues in plain words, or stop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import FAKE_CONFIG
from fakes import EchoCaptioner, ScriptedCritic, ToneGenerator, ToneListener
from langgraph.types import Command

from ualm_agent.builders import Components
from ualm_agent.components.critics.user_words import issues_from_words
from ualm_agent.components.planners.rules import RulesPlanner
from ualm_agent.components.revisers.rules import RulesReviser
from ualm_agent.components.vaes.resample import IdentityVae
from ualm_agent.config import AgentConfig
from ualm_agent.errors import UsageError
from ualm_agent.graphs.checkpoint import memory_saver
from ualm_agent.graphs.context import AgentContext
from ualm_agent.graphs.reflection import build_graph, run_config
from ualm_agent.schema import Critique, LayoutEvent, RichCaption

PLANNER = RulesPlanner()


def plan_of(*events: LayoutEvent) -> RichCaption:
    return RichCaption(keywords=[e.label for e in events], layout=list(events), duration_s=10.0)


DOG_RAIN = plan_of(
    LayoutEvent(label="Bark", phrase="a dog barks", start_s=0.0, end_s=3.0),
    LayoutEvent(label="Rain", phrase="rain", start_s=0.0, end_s=10.0),
)


def test_a_count_in_the_users_words_becomes_a_count_issue():
    (issue,) = issues_from_words("the dog should bark three times", DOG_RAIN, PLANNER)
    assert (issue.kind, issue.event_index, issue.expected, issue.observed, issue.cause) == ("count", 0, "3", "1", "user")


@pytest.mark.parametrize("words, expected", [("the rain is too loud", "softer"), ("the dog barks too quietly, turn it up", "louder")])
def test_too_loud_or_too_quiet_becomes_a_loudness_issue(words, expected):
    issues = [i for i in issues_from_words(words, DOG_RAIN, PLANNER) if i.kind == "loudness"]
    assert [(i.event_index, i.expected) for i in issues] == [(1 if "rain" in words else 0, expected)]


def test_not_hearing_a_planned_sound_becomes_a_missing_issue():
    (issue,) = issues_from_words("I can't hear the rain", DOG_RAIN, PLANNER)
    assert (issue.kind, issue.event_index) == ("missing", 1)


def test_two_planned_sounds_named_the_other_way_round_become_an_order_issue():
    plan = plan_of(LayoutEvent(label="Drum", start_s=0.0, end_s=4.0),
                   LayoutEvent(label="Brass instrument", start_s=5.0, end_s=9.0))
    (issue,) = issues_from_words("brass should come before the drums", plan, PLANNER)
    assert (issue.kind, issue.event_index, issue.expected) == ("order", 0, "Brass instrument before Drum")


def test_a_sound_the_plan_lacks_is_asked_for_and_vague_words_are_kept():
    (added,) = issues_from_words("add a cat meowing", DOG_RAIN, PLANNER)
    assert added.kind == "missing" and added.event_index is None and added.label == "Meow"
    (vague,) = issues_from_words("it sounds muddy", DOG_RAIN, PLANNER)
    assert vague.kind == "quality" and "it sounds muddy" in vague.message


def test_the_reviser_acts_on_the_users_issues():
    issues = [*issues_from_words("the dog should bark three times", DOG_RAIN, PLANNER),
              *issues_from_words("the rain is too loud", DOG_RAIN, PLANNER),
              *issues_from_words("add a cat meowing", DOG_RAIN, PLANNER)]
    revised = RulesReviser().revise(DOG_RAIN, Critique(score=0.5, verdict="revise", issues=issues))
    bark, rain, meow = revised.layout
    assert bark.count == 3 and rain.gain_db < 0 and meow.label == "Meow"
    assert [e.kind for e in revised.edits] == ["recount", "lower", "add"]


# ---- in the graph --------------------------------------------------------------------------------


def components(scores=(0.5,)) -> Components:
    return Components(planner=RulesPlanner(), generator=ToneGenerator(), vae=IdentityVae(), listener=ToneListener(),
                      captioner=EchoCaptioner(), critic=ScriptedCritic(scores=list(scores)), reviser=RulesReviser())


def start(tmp_path, reflect=3, prompt="a dog barks"):
    config = AgentConfig.load(**{"loop.reflect": reflect, "loop.interactive": True}, duration_s=4.0)
    ctx = AgentContext(config=config, components=components(), workdir=str(tmp_path))
    graph = build_graph(checkpointer=memory_saver())
    cfg = run_config(ctx, "review")
    out = graph.invoke({"prompt": prompt}, cfg, context=ctx)
    if out["__interrupt__"][0].value["kind"] == "questions":  # clarifying questions come first: take the defaults
        questions = out["__interrupt__"][0].value["questions"]
        out = graph.invoke(Command(resume={q["key"]: q["default"] for q in questions}), cfg, context=ctx)
    return graph, cfg, ctx, out


def test_the_graph_shows_each_round_and_revises_with_the_users_words(tmp_path):
    graph, cfg, ctx, first = start(tmp_path)
    shown = first["__interrupt__"][0].value
    assert shown["kind"] == "review" and shown["round"] == 0
    assert Path(shown["audio"]).is_file() and shown["heard"] and shown["score"] == 0.5
    assert shown["issues"][0]["message"] == "scripted score 0.5"
    second = graph.invoke(Command(resume="the dog should bark three times"), cfg, context=ctx)
    assert second["__interrupt__"][0].value["round"] == 1
    out = graph.invoke(Command(resume="accept"), cfg, context=ctx)
    result = out["result"]
    first_round, second_round = result.rounds
    assert first_round.review.action == "revise" and first_round.review.issues[0].kind == "count"
    assert first_round.critique.issues[0].cause == "user" and first_round.critique.instructions[0].startswith("User:")
    assert second_round.plan.layout[0].count == 3
    assert [e.kind for e in result.edits_made(1)] == ["recount"]
    # Accepted by the user: that round is the answer, though the critic scored both alike.
    assert result.accepted and result.best_index == 1


def test_stop_ends_the_run_with_the_best_round_so_far(tmp_path):
    graph, cfg, ctx, _ = start(tmp_path, reflect=5)
    out = graph.invoke(Command(resume="stop"), cfg, context=ctx)
    assert len(out["result"].rounds) == 1 and out["result"].best_index == 0 and not out["result"].accepted


def test_continue_lets_the_critic_decide(tmp_path):
    graph, cfg, ctx, _ = start(tmp_path, reflect=1)
    nxt = graph.invoke(Command(resume="continue"), cfg, context=ctx)
    assert nxt["__interrupt__"][0].value["round"] == 1  # the critic asked for a revision
    out = graph.invoke(Command(resume={"action": "continue"}), cfg, context=ctx)
    assert len(out["result"].rounds) == 2 and out["result"].rounds[0].review.action == "continue"


def test_an_unreadable_answer_is_shown_back_and_asked_again(tmp_path):
    graph, cfg, ctx, _ = start(tmp_path)
    again = graph.invoke(Command(resume=42), cfg, context=ctx)
    shown = again["__interrupt__"][0].value
    assert shown["round"] == 0 and "must be text or a mapping" in shown["error"]
    again = graph.invoke(Command(resume={"action": "maybe"}), cfg, context=ctx)
    assert "review action 'maybe'" in again["__interrupt__"][0].value["error"]
    # A third unreadable answer in a row stops the run with a usage error.
    with pytest.raises(UsageError, match="review answer"):
        graph.invoke(Command(resume=3.5), cfg, context=ctx)


def test_review_can_be_left_out_of_interactive_runs(tmp_path):
    config = AgentConfig.load(**{"loop.reflect": 1, "loop.interactive": True, "loop.review": False}, duration_s=4.0)
    ctx = AgentContext(config=config, components=components(), workdir=str(tmp_path))
    graph, cfg = build_graph(checkpointer=memory_saver()), run_config(ctx, "t")
    asked = graph.invoke({"prompt": "a dog barks"}, cfg, context=ctx)
    shown = asked["__interrupt__"][0].value
    assert shown["kind"] == "questions"  # the clarifying questions stay
    out = graph.invoke(Command(resume={q["key"]: q["default"] for q in shown["questions"]}), cfg, context=ctx)
    assert "__interrupt__" not in out and len(out["result"].rounds) == 2


# The tone world with the rules planner (it reads the user's words) and the rules reviser (it acts on them).
USER_CONFIG = (FAKE_CONFIG.format(generator_extra="")
               .replace('[planner]\nkind = "scripted"', '[planner]\nkind = "rules"')
               .replace('[reviser]\nkind = "note"', '[reviser]\nkind = "rules"')
               .replace("scores = [0.4, 0.7, 0.5]", "scores = [0.5]"))


def interactive_run(tmp_path, cli_env, typed: str):
    config = tmp_path / "user.toml"
    config.write_text(USER_CONFIG)
    return subprocess.run(
        [sys.executable, "-m", "ualm_agent.cli", "run", "a dog barks", "--config", str(config), "--interactive",
         "--out", str(tmp_path / "runs"), "--json"],
        env=cli_env, input=typed, capture_output=True, text=True, timeout=180,
    )


def test_the_cli_asks_after_each_critique_and_uses_the_answers(tmp_path, cli_env):
    # The first line answers the clarifying question (its default), then one line per review.
    proc = interactive_run(tmp_path, cli_env, "\nthe dog should bark twice\naccept\n")
    assert proc.returncode == 0, proc.stderr
    assert "round 0 audio:" in proc.stderr and "critic: score 0.50" in proc.stderr
    result = json.loads(proc.stdout)["result"]
    assert len(result["rounds"]) == 2 and result["accepted"] and result["best_index"] == 1
    assert result["rounds"][1]["plan"]["layout"][0]["count"] == 2
    run_dir = Path(json.loads(proc.stdout)["run_dir"])
    assert "### Your review" in (run_dir / "report.md").read_text()


def test_the_cli_with_no_one_to_answer_lets_the_critic_decide(tmp_path, cli_env):
    proc = interactive_run(tmp_path, cli_env, "")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)["result"]
    assert len(result["rounds"]) == 3 and all(r["review"]["action"] == "continue" for r in result["rounds"])


def test_the_reviser_puts_two_sounds_in_the_order_the_user_gives():
    plan = plan_of(LayoutEvent(label="Drum", start_s=0.0, end_s=4.0),
                   LayoutEvent(label="Brass instrument", start_s=5.0, end_s=9.0))
    issues = issues_from_words("brass should come before the drums", plan, PLANNER)
    revised = RulesReviser().revise(plan, Critique(score=0.5, verdict="revise", issues=issues))
    drum, brass = revised.layout
    assert brass.start_s == 0.0 and drum.start_s >= brass.end_s
    assert (brass.duration_s, drum.duration_s) == (4.0, 4.0)
    assert [e.kind for e in revised.edits] == ["retime"]


def test_a_round_the_user_sent_back_is_not_the_answer_when_another_made_audio(tmp_path):
    config = AgentConfig.load(**{"loop.reflect": 1, "loop.interactive": True}, duration_s=4.0)
    parts = components()
    ctx = AgentContext(config=config, components=Components(**{**parts.__dict__, "critic": ScriptedCritic(scores=[0.9, 0.5])}),
                       workdir=str(tmp_path))
    graph, cfg = build_graph(checkpointer=memory_saver()), run_config(ctx, "t")
    out = graph.invoke({"prompt": "a dog barks"}, cfg, context=ctx)
    out = graph.invoke(Command(resume={q["key"]: q["default"] for q in out["__interrupt__"][0].value["questions"]}),
                       cfg, context=ctx)
    graph.invoke(Command(resume="the dog should bark twice"), cfg, context=ctx)
    out = graph.invoke(Command(resume="continue"), cfg, context=ctx)
    # The critic scored the rejected round 0 higher (0.9 against 0.5), yet round 1 is the answer.
    assert [r.critique.score for r in out["result"].rounds] == [0.9, 0.5]
    assert out["result"].best_index == 1


def test_a_run_left_at_a_review_resumes_and_takes_the_answer_then(tmp_path):
    from ualm_agent import runner

    class WalkedAway(Exception):
        pass

    def walk_away(payload):
        raise WalkedAway

    config = AgentConfig.load(**{"loop.reflect": 2, "loop.interactive": True}, duration_s=4.0)
    defaults = lambda questions: {q.key: q.default for q in questions}  # noqa: E731
    with pytest.raises(WalkedAway):
        runner.run("a dog barks", config, out_root=tmp_path / "runs", components=components(), ask=defaults,
                   review=walk_away)
    (run_dir,) = (tmp_path / "runs").iterdir()
    shown = []
    result = runner.resume(run_dir, components=components(), ask=defaults,
                           review=lambda payload: shown.append(payload) or "accept")
    assert [p["round"] for p in shown] == [0]  # round 0 is shown again, not redone
    assert len(result.rounds) == 1 and result.accepted and result.rounds[0].review.action == "accept"
