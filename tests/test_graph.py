"""The reflection graph with fake components: rounds, best-round rule, ablations, dialogue."""

from __future__ import annotations

import pytest
from fakes import ScriptedCritic, ToneGenerator, fake_components
from langgraph.types import Command

from ualm_agent.config import AgentConfig
from ualm_agent.graphs.checkpoint import memory_saver
from ualm_agent.graphs.context import AgentContext
from ualm_agent.graphs.reflection import build_graph, run_config, select_best


def _run(tmp_path, components, *, checkpointer=None, thread="t", prompt="brass then drums", **loop):
    config = AgentConfig.load(**{f"loop.{k}": v for k, v in loop.items()}, duration_s=4.0)
    ctx = AgentContext(config=config, components=components, workdir=str(tmp_path))
    graph = build_graph(checkpointer=checkpointer)
    out = graph.invoke({"prompt": prompt}, run_config(ctx, thread if checkpointer else None), context=ctx)
    return out, graph, ctx


def test_reflect_zero_is_single_shot(tmp_path):
    out, _, _ = _run(tmp_path, fake_components(), reflect=0)
    assert len(out["rounds"]) == 1
    assert out["result"].best_index == 0
    assert (tmp_path / "round_00.wav").exists()


def test_reflect_n_makes_at_most_n_revisions(tmp_path):
    out, _, _ = _run(tmp_path, fake_components(critic=ScriptedCritic(scores=[0.1, 0.2, 0.3, 0.4, 0.5])), reflect=3)
    assert [r.index for r in out["rounds"]] == [0, 1, 2, 3]
    # Seeds differ per round so a retry is a new take.
    assert len({r.audio.sha256 for r in out["rounds"]}) == 4


def test_best_round_is_kept_never_a_worse_later_one(tmp_path):
    out, _, _ = _run(tmp_path, fake_components(critic=ScriptedCritic(scores=[0.4, 0.8, 0.6])), reflect=2)
    result = out["result"]
    assert [r.critique.score for r in result.rounds] == [0.4, 0.8, 0.6]
    assert result.best_index == 1
    assert result.final == result.rounds[1].audio_out


def test_selection_last_returns_the_last_round(tmp_path):
    out, _, _ = _run(tmp_path, fake_components(critic=ScriptedCritic(scores=[0.4, 0.8, 0.6])), reflect=2, selection="last")
    assert out["result"].best_index == 2


def test_accept_stops_early(tmp_path):
    critic = ScriptedCritic(scores=[0.3, 0.95, 0.2], accept_at=0.9)
    out, _, _ = _run(tmp_path, fake_components(critic=critic), reflect=5)
    assert len(out["rounds"]) == 2
    assert out["result"].accepted and out["result"].best_index == 1


def test_critique_off_is_a_single_round_without_critique(tmp_path):
    out, _, _ = _run(tmp_path, fake_components(), reflect=3, critique=False)
    assert len(out["rounds"]) == 1
    assert out["rounds"][0].critique is None
    assert out["result"].best_index == 0


def test_enrichment_off_passes_the_prompt_through(tmp_path):
    out, _, _ = _run(tmp_path, fake_components(), reflect=0, enrich=False, prompt="a cat purrs softly")
    r = out["rounds"][0]
    assert r.prompt_text == "a cat purrs softly"
    assert [e.label for e in r.plan.layout] == ["a cat purrs softly"]


def test_silent_and_nan_rounds_fail_and_the_loop_goes_on(tmp_path):
    gen = ToneGenerator(silent_rounds=[0], nan_rounds=[2])
    out, _, _ = _run(tmp_path, fake_components(generator=gen, critic=ScriptedCritic(scores=[0.7, 0.2])), reflect=2)
    rounds = out["rounds"]
    assert [r.failed for r in rounds] == [True, False, True]
    assert "silent" in rounds[0].error and "NaN" in rounds[2].error
    assert out["result"].best_index == 1


def test_round_record_holds_everything(tmp_path):
    out, _, _ = _run(tmp_path, fake_components(), reflect=0)
    r = out["rounds"][0]
    assert r.plan.layout and r.prompt_text == r.plan.to_text()
    assert r.audio.sample_rate == 16000 and r.audio_out is not None
    assert r.observation is not None and r.heard is not None and r.critique is not None
    assert {"plan", "generate", "vae", "listen", "caption", "critique"} <= set(r.timings)


def test_progress_streams_from_nodes(tmp_path):
    config = AgentConfig.load(**{"loop.reflect": 1}, duration_s=4.0)
    ctx = AgentContext(config=config, components=fake_components(), workdir=str(tmp_path))
    events = [c for mode, c in build_graph().stream({"prompt": "x y"}, run_config(ctx), context=ctx,
                                                    stream_mode=["updates", "custom"]) if mode == "custom"]
    nodes = [e["node"] for e in events]
    assert nodes[0] == "plan" and "generate" in nodes and "critique" in nodes and nodes[-1] == "finalize"


def test_interactive_interrupts_with_questions_and_resumes(tmp_path):
    config = AgentConfig.load(**{"loop.reflect": 0, "loop.interactive": True}, duration_s=4.0)
    ctx = AgentContext(config=config, components=fake_components(), workdir=str(tmp_path))
    graph = build_graph(checkpointer=memory_saver())
    cfg = run_config(ctx, "dialogue")
    first = graph.invoke({"prompt": "trumpet and drums"}, cfg, context=ctx)
    assert "result" not in first
    questions = first["__interrupt__"][0].value["questions"]
    assert questions[0]["key"] == "order"
    reviewing = graph.invoke(Command(resume={"order": "all together"}), cfg, context=ctx)
    # Interactive runs then show the round for review; "continue" lets the critic decide.
    assert reviewing["__interrupt__"][0].value["kind"] == "review"
    out = graph.invoke(Command(resume="continue"), cfg, context=ctx)
    plan = out["rounds"][0].plan
    assert all(e.start_s == 0.0 for e in plan.layout)  # the answer changed the plan
    assert not plan.questions


def test_non_interactive_states_assumptions_instead_of_asking(tmp_path):
    out, _, _ = _run(tmp_path, fake_components(), reflect=0, checkpointer=memory_saver())
    assert "__interrupt__" not in out
    assert out["rounds"][0].plan.assumptions


def test_explicit_recursion_limit():
    cfg = run_config(AgentContext(config=AgentConfig.load(**{"loop.reflect": 3})))
    assert cfg["recursion_limit"] == AgentConfig.load(**{"loop.reflect": 3}).loop.recursion_limit
    assert cfg["recursion_limit"] < 100


def test_select_best_ignores_failed_rounds():
    assert select_best([], "best") is None


@pytest.mark.parametrize("scores,expected", [([0.2, 0.2], 0), ([0.1, 0.3, 0.3], 1)])
def test_ties_keep_the_earliest(tmp_path, scores, expected):
    out, _, _ = _run(tmp_path, fake_components(critic=ScriptedCritic(scores=scores)), reflect=len(scores) - 1)
    assert out["result"].best_index == expected


def test_a_swapped_first_take_is_caught_as_an_order_issue_and_fixed(tmp_path):
    """Fake generator swaps the two events on round 0; the real captioner, critic and reviser run."""
    from ualm_agent.components.captioners.template import TemplateCaptioner
    from ualm_agent.components.critics.rules import RulesCritic
    from ualm_agent.components.revisers.rules import RulesReviser

    parts = fake_components(
        generator=ToneGenerator(swap_first=True),
        captioner=TemplateCaptioner(),
        critic=RulesCritic(),
        reviser=RulesReviser(),
    )
    out, _, _ = _run(tmp_path, parts, reflect=3, prompt="trumpet then drums")
    first, second = out["rounds"][0], out["rounds"][1]
    heard_order = [e.label for e in sorted(first.observation.events, key=lambda e: e.start_s)]
    assert heard_order[0] == "Drum kit"
    order = [i for i in first.critique.issues if i.kind == "order"]
    assert order and "Trumpet" in order[0].message and first.critique.verdict == "revise"
    assert not [i for i in second.critique.issues if i.kind == "order"]
    assert second.critique.verdict == "accept"
    assert len(out["rounds"]) == 2  # stopped early on accept
    result = out["result"]
    assert result.best_index == 1 and result.accepted
    assert second.critique.score > first.critique.score
