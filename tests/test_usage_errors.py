"""A usage mistake is a usage error: exit 2, one line naming the bad value and what is allowed, no
traceback, and no run folder left behind. Seeds are honoured in full (64 bits) or refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_helpers import cli, run_dirs

# (config file text or None, extra arguments, words the one line must hold)
CASES = {
    "seed beyond 64 bits": (None, ["--seed", str(2**64)], ["seed", str(2**64), "18446744073709551615"]),
    "negative seed": (None, ["--seed", "-1"], ["seed", "-1", "from 0"]),
    "loop not a table": ("loop = 3\n", [], ["loop = 3", "must be a table", "[loop]"]),
    "role not a table": ('listener = "yamnet"\n', [], ['listener = "yamnet"', "must be a table"]),
    "wrongly typed setting": ('[loop]\nreflect = "three"\n', [], ["loop.reflect", "'three'"]),
    "NaN threshold": ('[listener]\nkind = "yamnet"\nthreshold = nan\n', [], ["threshold", "finite", "nan"]),
    "negative threshold": ('[listener]\nkind = "yamnet"\nthreshold = -0.5\n', [], ["threshold", "-0.5", "greater than"]),
    "NaN loop setting": ("[loop]\naccept_score = nan\n", [], ["accept_score", "nan"]),
    "negative critic threshold": ('[critic]\nkind = "rules"\nmatch_threshold = -3\n', [], ["match_threshold", "-3"]),
    "model role with no id": (None, ["--generator", "musicgen", "--model", "generator="], ["--model generator=", "no model"]),
    "model for no role": (None, ["--model", "speaker=x"], ["'speaker' is not a role", "generator"]),
    "missing model folder": (None, ["--generator", "musicgen", "--model", "/nonexistent/model"],
                             ["no such folder /nonexistent/model", "Hugging Face id"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_usage_mistake_exits_2_with_one_line_and_leaves_no_run_folder(tmp_path, cli_env, name):
    text, extra, needles = CASES[name]
    args = ["run", "a dog barks", "--out", str(tmp_path / "runs"), *extra]
    if text is not None:
        (tmp_path / "bad.toml").write_text(text)
        args += ["--config", str(tmp_path / "bad.toml")]
    res = cli(args, cli_env)
    assert res.returncode == 2, (res.stdout, res.stderr)
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line, line
    for needle in needles:
        assert needle in line, (needle, line)
    assert "hf download" not in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_config_that_is_a_folder_is_named(tmp_path, cli_env):
    res = cli(["run", "a dog barks", "--config", str(tmp_path), "--out", str(tmp_path / "runs")], cli_env)
    assert res.returncode == 2
    assert f"--config {tmp_path} is a folder" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "runs").exists()


def test_a_planner_that_fails_on_the_prompt_leaves_no_run_folder(tmp_path, cli_env):
    """A usage error raised inside the graph, before any round made audio, removes the new run folder."""
    res = cli(["run", "!!!", "--out", str(tmp_path / "runs"), "--reflect", "0"], cli_env)
    assert res.returncode == 2, res.stderr
    assert "no sound event" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


# ---- seeds -------------------------------------------------------------------------------------


def test_every_bit_of_a_64_bit_seed_changes_the_composer_output():
    from ualm_agent.builders import build_component
    from ualm_agent.config import AgentConfig
    from ualm_agent.roles import GenerationRequest

    cfg = AgentConfig()
    planner, composer = build_component("planner", cfg), build_component("generator", cfg)
    plan = planner.plan("a dog barks twice, then rain falls", duration_s=4.0)
    takes = {}
    for seed in (0, 1, 2**32, 2**33, 2**63, 2**64 - 1):
        audio = composer.generate(GenerationRequest(caption=plan, text=plan.to_text(), duration_s=4.0, seed=seed)).audio
        takes[seed] = audio.samples
    for a in takes:
        for b in takes:
            if a < b:
                assert not np.array_equal(takes[a], takes[b]), (a, b)


def test_the_largest_seed_runs_every_round(tmp_path, cli_env, fake_config):
    out = tmp_path / "runs"
    res = cli(["run", "x y", "--config", str(fake_config()), "--seed", str(2**64 - 1), "--out", str(out), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    rounds = json.loads(res.stdout)["result"]["rounds"]
    assert len(rounds) == 3 and not any(r["failed"] for r in rounds)
    (run_dir,) = run_dirs(out)
    assert f"seed = {2**64 - 1}" in (run_dir / "config.toml").read_text()


@pytest.mark.parametrize(("args", "needle"), [
    (["run", "x", "--seed", "1.5"], "Invalid value for '--seed'"),
    (["run", "x", "--duration", "abc"], "Invalid value for '--duration'"),
    (["run"], "Missing argument"),
    (["run", "x", "--no-such-flag"], "No such option: --no-such-flag"),
    (["no-such-command"], "No such command"),
])
def test_a_command_line_that_does_not_parse_is_one_line_too(tmp_path, cli_env, args, needle):
    res = cli(args, cli_env, cwd=tmp_path)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and needle in res.stderr and "--help" in res.stderr
    assert not list(tmp_path.iterdir())


def test_a_config_file_is_checked_even_where_a_flag_overrides_it(tmp_path, cli_env):
    for text, needle in (('[loop]\nreflect = "three"\n', "loop.reflect"), ("[loop]\nreflect = true\n", "got True"),
                         ("duration_s = nan\n", "duration_s")):
        (tmp_path / "bad.toml").write_text(text)
        res = cli(["run", "a dog barks", "--reflect", "0", "--duration", "3", "--config", str(tmp_path / "bad.toml"),
                   "--out", str(tmp_path / "runs")], cli_env)
        assert res.returncode == 2 and needle in res.stderr and "bad.toml" in res.stderr, res.stderr
    assert not (tmp_path / "runs").exists()


def test_a_section_without_a_kind_sets_the_default_backend(tmp_path, cli_env):
    (tmp_path / "c.toml").write_text("[listener]\nthreshold = nan\n")
    res = cli(["run", "a dog barks", "--config", str(tmp_path / "c.toml"), "--out", str(tmp_path / "runs")], cli_env)
    assert res.returncode == 2 and "listener 'yamnet': threshold" in res.stderr and "nan" in res.stderr
    from ualm_agent.config import AgentConfig

    (tmp_path / "c.toml").write_text("[listener]\nthreshold = 0.3\n")
    assert AgentConfig.load(tmp_path / "c.toml").resolved("listener").threshold == 0.3


def test_grid_values_that_are_not_finite_are_named(tmp_path, cli_env):
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"id": "a", "prompt": "a dog barks"}) + "\n")
    for grid in ("listener.threshold=nan,0.2", "loop.accept_score=inf,0.5"):
        res = cli(["ablate", str(items), "--grid", grid, "--out", str(tmp_path / "abl")], cli_env)
        assert res.returncode == 2 and "must be a finite number" in res.stderr, res.stderr


@pytest.mark.parametrize("where", ["samples", "eval", "config"])
def test_debug_shows_the_traceback_and_keeps_exit_2(tmp_path, cli_env, where):
    """--debug is for reading the cause, not for changing what a script sees: the exit code stays 2."""
    if where == "samples":
        args = ["samples", str(tmp_path / "nosuchdir")]
    elif where == "eval":
        (tmp_path / "frequency_caption.json").write_text('{"t": {"event": {"Knock": [1, null]}, "caption": "k"}}')
        args = ["eval", str(tmp_path / "frequency_caption.json"), "--out", str(tmp_path / "out")]
    else:
        (tmp_path / "bad.toml").write_text("loop = 3\n")
        args = ["run", "a dog barks", "--out", str(tmp_path / "runs"), "--config", str(tmp_path / "bad.toml")]
    res = cli(["--debug", *args], cli_env)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("error: ")


def test_an_eval_folder_without_audiotime_captions_says_what_it_needs(tmp_path, cli_env):
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "notes.json").write_text("{}")
    res = cli(["eval", str(tmp_path / "items"), "--out", str(tmp_path / "out")], cli_env)
    assert res.returncode == 2, res.stderr
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1 and "Errno" not in line, line
    assert "holds no AudioTime caption files (ordering_, timestamp_, duration_ or frequency_caption.json)" in line
    assert "give a JSONL file or such a folder" in line
