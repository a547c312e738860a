"""Candidate search: K takes per round, each heard and scored; the critic's best goes on."""

from __future__ import annotations

import json

import pytest
from cli_helpers import cli
from fakes import ScriptedCritic, ToneGenerator, fake_components

from ualm_agent.artifacts import render_report
from ualm_agent.config import AgentConfig
from ualm_agent.errors import ConfigError
from ualm_agent.evaluation.grid import build_grid
from ualm_agent.graphs.context import AgentContext
from ualm_agent.graphs.reflection import build_graph, run_config
from ualm_agent.graphs.takes import take_seed
from ualm_agent.report.run_page import render_run_page


def _run(tmp_path, components, *, prompt="brass then drums", **loop):
    config = AgentConfig.load(**{f"loop.{k}": v for k, v in loop.items()}, duration_s=4.0, seed=7)
    ctx = AgentContext(config=config, components=components, workdir=str(tmp_path))
    return build_graph().invoke({"prompt": prompt}, run_config(ctx), context=ctx)


def _seeds(log):
    return [json.loads(line)["seed"] for line in log.read_text().splitlines()]


def test_every_take_is_heard_and_scored_and_the_best_goes_on(tmp_path):
    log = tmp_path / "gen.log"
    parts = fake_components(generator=ToneGenerator(log_file=str(log)), critic=ScriptedCritic(scores=[0.2, 0.9, 0.5]))
    out = _run(tmp_path, parts, reflect=0, candidates=3)
    (r,) = out["rounds"]
    assert [t.take for t in r.candidates] == [0, 1, 2]
    assert [t.critique.score for t in r.candidates] == [0.2, 0.9, 0.5]
    assert r.chosen == 1 and r.critique.score == 0.9
    # The round's own fields are the chosen take's, and the final audio is its file.
    assert r.audio_out == r.candidates[1].audio_out and r.observation == r.candidates[1].observation
    assert out["result"].final.path == "round_00_take1.wav"
    for name in ("round_00.wav", "round_00_take1.wav", "round_00_take2.wav"):
        assert (tmp_path / name).exists()
    # Take 0 keeps the seed a run without candidate search uses; the others differ.
    assert _seeds(log) == [take_seed(7, 0, 0), take_seed(7, 0, 1), take_seed(7, 0, 2)]
    assert take_seed(7, 0, 0) == 7


def test_one_candidate_records_no_takes_and_matches_a_plain_run(tmp_path):
    plain = _run(tmp_path / "a", fake_components(), reflect=1)
    one = _run(tmp_path / "b", fake_components(), reflect=1, candidates=1)
    for a, b in zip(plain["rounds"], one["rounds"], strict=True):
        assert not b.candidates and b.chosen is None
        assert a.audio.sha256 == b.audio.sha256


def test_no_two_takes_of_a_run_share_a_seed(tmp_path):
    log = tmp_path / "gen.log"
    parts = fake_components(generator=ToneGenerator(log_file=str(log)), critic=ScriptedCritic(scores=[0.1]))
    out = _run(tmp_path, parts, reflect=2, candidates=4)
    assert len(out["rounds"]) == 3
    seeds = _seeds(log)
    assert len(seeds) == 12 and len(set(seeds)) == 12


class FailingTakes(ToneGenerator):
    """Fails the generation calls whose number (from 0) is listed."""

    def __init__(self, fail_calls, **kw):
        super().__init__(**kw)
        self.fail_calls, self.calls = set(fail_calls), 0

    def generate(self, request):
        call, self.calls = self.calls, self.calls + 1
        if call in self.fail_calls:
            raise RuntimeError(f"broken take {call}")
        return super().generate(request)


def test_a_failed_take_is_recorded_and_the_others_go_on(tmp_path):
    parts = fake_components(generator=FailingTakes([0]), critic=ScriptedCritic(scores=[0.3, 0.6]))
    out = _run(tmp_path, parts, reflect=0, candidates=3)
    (r,) = out["rounds"]
    assert not r.failed
    assert r.candidates[0].failed and "broken take 0" in r.candidates[0].error
    assert r.chosen == 2 and r.critique.score == 0.6  # takes 1 and 2 scored 0.3 and 0.6


def test_a_round_whose_takes_all_fail_fails(tmp_path):
    parts = fake_components(generator=FailingTakes([0, 1]))
    out = _run(tmp_path, parts, reflect=0, candidates=2)
    (r,) = out["rounds"]
    assert r.failed and "broken take 0" in r.error
    assert all(t.failed for t in r.candidates)
    assert out["result"].final is None


def test_reports_list_every_take_and_the_one_that_went_on(tmp_path):
    parts = fake_components(critic=ScriptedCritic(scores=[0.2, 0.9]))
    out = _run(tmp_path, parts, reflect=0, candidates=2)
    result = out["result"]
    md = render_report(result)
    assert "### Takes" in md
    assert "take 1 (went on): round_00_take1.wav" in md and "score 0.90" in md
    assert "take 0: round_00.wav" in md
    html = render_run_page(result, tmp_path)
    assert "<h3>Takes</h3>" in html and "take 1 (went on)" in html


@pytest.mark.parametrize("value", [0, 9])
def test_candidates_outside_one_to_eight_is_refused(value):
    with pytest.raises(ConfigError, match="candidates"):
        AgentConfig.load(**{"loop.candidates": value})


def test_the_cli_refuses_a_bad_candidates_count_in_one_line(tmp_path, cli_env, fake_config):
    res = cli(["run", "x", "--config", str(fake_config()), "--candidates", "0", "--out", str(tmp_path / "r")], cli_env)
    assert res.returncode == 2
    assert "candidates" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_candidates_is_an_ablation_axis():
    grid = build_grid(["candidates=1,4"])
    assert [c.config.loop.candidates for c in grid.configs] == [1, 4]


def test_the_default_stack_holds_eight_takes_and_picks_the_best(tmp_path, cli_env):
    res = cli(["run", "a dog barks twice, then a bell rings", "--candidates", "8", "--reflect", "0", "--seed", "3",
               "--out", str(tmp_path / "runs"), "--json"], cli_env, timeout=300)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    (r,) = summary["result"]["rounds"]
    takes = r["candidates"]
    assert len(takes) == 8 and len({t["audio"]["sha256"] for t in takes}) == 8
    scores = [t["critique"]["score"] for t in takes]
    assert r["chosen"] == scores.index(max(scores))
    assert r["critique"]["score"] == max(scores)


def test_each_take_moves_the_events_takes_on_and_the_chosen_ones_carry_into_the_next_round(tmp_path):
    class Recording(ToneGenerator):
        def __init__(self):
            super().__init__()
            self.takes = []

        def generate(self, request):
            self.takes.append([ev.take for ev in request.caption.layout])
            return super().generate(request)

    gen = Recording()
    out = _run(tmp_path, fake_components(generator=gen, critic=ScriptedCritic(scores=[0.2, 0.9, 0.3, 0.1])),
               reflect=1, candidates=2)
    # Round 0 renders takes 0 and 1 of each event; take 1 wins, so round 1 starts from it.
    assert gen.takes == [[0, 0], [1, 1], [1, 1], [2, 2]]
    first, second = out["rounds"]
    assert first.chosen == 1 and [ev.take for ev in first.plan.layout] == [1, 1]
    assert second.chosen == 0 and [ev.take for ev in second.plan.layout] == [1, 1]


def test_candidates_need_the_critique_to_choose():
    with pytest.raises(ConfigError, match="candidates 3 needs the critique"):
        AgentConfig.load(**{"loop.candidates": 3, "loop.critique": False})


class TooLong(ToneGenerator):
    def generate(self, request):
        from ualm_agent.errors import UsageError

        raise UsageError(f"this generator makes at most 3 s per clip; {request.duration_s:g} s was asked for")


def test_a_request_the_generator_can_never_meet_is_a_usage_error_and_leaves_no_run_folder(tmp_path):
    from ualm_agent import runner
    from ualm_agent.errors import UsageError

    config = AgentConfig.load(**{"loop.reflect": 2, "loop.candidates": 2}, duration_s=4.0)
    with pytest.raises(UsageError, match="at most 3 s"):
        runner.run("brass then drums", config, out_root=tmp_path / "runs", components=fake_components(generator=TooLong()))
    assert not (tmp_path / "runs").exists()
