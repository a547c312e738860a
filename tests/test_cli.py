"""The CLI end to end on fake backends (loaded through the entry-point plugin)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from cli_helpers import cli, run_dirs as _run_dirs


def test_run_writes_a_complete_run_folder(tmp_path, cli_env, fake_config):
    out = tmp_path / "runs"
    res = cli(["run", "trumpet then drums", "--config", str(fake_config()), "--out", str(out)], cli_env)
    assert res.returncode == 0, res.stderr
    (run_dir,) = _run_dirs(out)
    assert run_dir.name.endswith("_trumpet-then-drums")
    for name in ("config.toml", "round_00.wav", "round_01.wav", "round_02.wav", "final.wav", "trace.jsonl",
                 "summary.json", "report.md"):
        assert (run_dir / name).exists(), name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["best_index"] == 1
    assert sf.read(run_dir / "final.wav")[0].tolist() == sf.read(run_dir / "round_01.wav")[0].tolist()
    trace = [json.loads(line) for line in (run_dir / "trace.jsonl").read_text().splitlines()]
    nodes = [t["node"] for t in trace]
    assert nodes[:3] == ["plan", "clarify", "generate"] and nodes[-1] == "finalize"
    assert nodes.count("generate") == 3
    report = (run_dir / "report.md").read_text()
    assert "## Round 0" in report and "## Round 2" in report and "score 0.70" in report
    assert 'kind = "tone"' in (run_dir / "config.toml").read_text()
    assert res.stdout.strip() == str(run_dir / "final.wav")
    assert "generate" in res.stderr  # progress goes to stderr


def test_json_mode_prints_only_json_on_stdout(tmp_path, cli_env, fake_config):
    res = cli(["run", "x and y", "--config", str(fake_config()), "--out", str(tmp_path / "r"), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["best_round"] == 1 and len(data["rounds"]) == 3


def test_cli_overrides_beat_the_config_file(tmp_path, cli_env, fake_config):
    res = cli(["run", "x", "--config", str(fake_config()), "--reflect", "0", "--seed", "7", "--out",
               str(tmp_path / "r"), "--json"], cli_env)
    data = json.loads(res.stdout)
    assert len(data["rounds"]) == 1
    (run_dir,) = _run_dirs(tmp_path / "r")
    assert "seed = 7" in (run_dir / "config.toml").read_text()


def test_same_seed_gives_identical_files(tmp_path, cli_env, fake_config):
    shas = []
    for i in range(2):
        res = cli(["run", "x y", "--config", str(fake_config()), "--seed", "3", "--out", str(tmp_path / f"r{i}"), "--json"], cli_env)
        shas.append([r["audio_out"]["sha256"] for r in json.loads(res.stdout)["result"]["rounds"]])
    assert shas[0] == shas[1]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["run", "   "], "prompt is empty"),
        (["run", "x" * 2001], "limit is 2000"),
        (["run", "dog", "--reflect", "-1"], "reflect must be 0 or more"),
        (["run", "dog", "--reflect", "11"], "over the cap of 10"),
        (["run", "dog", "--duration", "0"], "duration must be above 0"),
        (["run", "dog", "--duration", "61"], "at most 60"),
        (["run", "dog", "--listener", "nope"], "valid listeners:"),
        (["run", "dog", "--config", "/nonexistent/x.toml"], "config file not found"),
        (["listen", "/nonexistent.wav"], "not found"),
        (["plan"], "give either a PROMPT or --file"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, cli_env, args, needle):
    res = cli([*args, *(["--out", str(tmp_path / "r")] if args[0] == "run" else [])], cli_env)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert needle in res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_unknown_component_lists_the_valid_names(tmp_path, cli_env):
    res = cli(["run", "dog", "--generator", "nope", "--out", str(tmp_path)], cli_env)
    assert res.returncode == 2
    assert "composer" in res.stderr and "tone" in res.stderr


@pytest.mark.parametrize("content", [b"", b"not audio at all, just text\n" * 20, b"RIFF\x00\x00\x00\x00WAVEfmt garbage"])
def test_listen_rejects_empty_corrupt_and_non_audio_files(tmp_path, cli_env, content):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    res = cli(["listen", str(bad)], cli_env)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert str(bad) in res.stderr
    assert bad.read_bytes() == content  # nothing lost


def test_unwritable_output_folder_is_a_clear_error(tmp_path, cli_env, fake_config):
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    res = cli(["run", "x", "--config", str(fake_config()), "--out", str(blocker / "runs")], cli_env)
    assert res.returncode == 2
    assert "cannot write to output folder" in res.stderr and "Traceback" not in res.stderr
    assert blocker.read_text() == "keep me"


def test_an_existing_run_folder_is_never_overwritten(tmp_path, cli_env, fake_config):
    out = tmp_path / "runs"
    first = cli(["run", "x y", "--config", str(fake_config()), "--out", str(out)], cli_env)
    (run_dir,) = _run_dirs(out)
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    again = cli(["run", "x y", "--config", str(fake_config()), "--out", str(run_dir)], cli_env)
    assert first.returncode == 0 and again.returncode == 2
    assert "existing run folder" in again.stderr
    second = cli(["run", "x y", "--config", str(fake_config()), "--out", str(out)], cli_env)
    assert second.returncode == 0
    assert len(_run_dirs(out)) == 2
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == before


def test_runtime_errors_are_one_line_unless_debugging(tmp_path, cli_env, fake_config):
    cfg = fake_config('nan_rounds = [0, 1, 2]')
    res = cli(["run", "x", "--config", str(cfg), "--out", str(tmp_path / "r")], cli_env)
    assert res.returncode == 1
    assert "every round failed" in res.stderr and "Traceback" not in res.stderr
    dbg = cli(["--debug", "run", "x", "--config", str(cfg), "--out", str(tmp_path / "r2")], cli_env)
    assert dbg.returncode == 1 and "Traceback" in dbg.stderr
    env = {**cli_env, "UALM_AGENT_DEBUG": "1"}
    assert "Traceback" in cli(["run", "x", "--config", str(cfg), "--out", str(tmp_path / "r3")], env).stderr


def test_resume_after_a_kill_redoes_no_finished_round(tmp_path, cli_env, fake_config):
    log = tmp_path / "calls.jsonl"
    cfg = fake_config(f'delay_s = 1.0\nlog_file = "{log}"')
    out = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "ualm_agent.cli", "run", "x y", "--config", str(cfg), "--out", str(out)],
                            env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    run_dir = None
    while time.time() < deadline:
        dirs = _run_dirs(out) if out.exists() else []
        if dirs and (dirs[0] / "trace.jsonl").exists():
            run_dir = dirs[0]
            nodes = [json.loads(l)["node"] for l in (run_dir / "trace.jsonl").read_text().splitlines() if l.strip()]
            if nodes.count("decide") >= 1:  # round 0 is finished; round 1 now sleeps in generate
                break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("run did not reach round 1")
    # Killed while round 1 is generating (the fake generator sleeps 1 s).
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "final.wav").exists()
    round0 = (run_dir / "round_00.wav").read_bytes()
    res = cli(["resume", str(run_dir), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    calls = [json.loads(l)["round"] for l in log.read_text().splitlines()]
    assert calls.count(0) == 1  # round 0 was never regenerated
    assert sorted(set(calls)) == [0, 1, 2]
    data = json.loads(res.stdout)
    scores = [r["score"] for r in data["rounds"]]
    assert scores[0] == 0.4  # round 0 kept from the checkpoint
    # The fake critic restarts its script in the new process, so rounds 1-2 score 0.4, 0.7.
    assert data["best_round"] == scores.index(max(scores))
    assert (run_dir / "round_00.wav").read_bytes() == round0
    # A finished run resumes to the same result without work.
    again = cli(["resume", str(run_dir), "--json"], cli_env)
    assert again.returncode == 0 and len(log.read_text().splitlines()) == len(calls)


def test_resume_rejects_a_folder_that_is_not_a_run(tmp_path, cli_env):
    res = cli(["resume", str(tmp_path)], cli_env)
    assert res.returncode == 2 and "not a run folder" in res.stderr


def test_interactive_run_asks_and_uses_the_answers(tmp_path, cli_env, fake_config):
    proc = subprocess.run([sys.executable, "-m", "ualm_agent.cli", "run", "x y", "--config", str(fake_config()),
                           "--reflect", "0", "--interactive", "--out", str(tmp_path / "r"), "--json"],
                          env=cli_env, input="all together\n", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "in sequence or all together" in proc.stderr
    plan = json.loads(proc.stdout)["result"]["rounds"][0]["plan"]
    assert all(e["start_s"] == 0.0 for e in plan["layout"])


def test_components_lists_backends_with_availability(cli_env):
    res = cli(["components", "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    by = {(r["role"], r["name"]): r for r in rows}
    for key in [("planner", "rules"), ("generator", "composer"), ("vae", "resample"), ("vae", "identity"),
                ("listener", "yamnet"), ("captioner", "template"), ("critic", "rules"), ("reviser", "rules")]:
        assert by[key]["available"], by[key]
    missing = by[("listener", "needs-missing")]
    assert not missing["available"] and "pip install ualm-agent-no-such-package" in missing["reason"]
    assert by[("generator", "tone")]["origin"] == "ualm_test_fakes"
    # Every model backend is listed for each of its roles; CI installs their extras, so all are available.
    model_backends = [
        *[(role, "ualm") for role in ("planner", "generator", "captioner", "critic", "listener")],
        *[(role, "llm") for role in ("planner", "captioner", "critic", "reviser")],
        ("generator", "musicgen"), ("codec", "xcodec"), ("codec", "encodec"),
        ("listener", "clap"), ("listener", "whisper"), ("listener", "composite"),
    ]
    for key in model_backends:
        assert by[key]["available"], by[key]
        assert by[key]["description"], key
    # The default weights' state is shown, without blocking other weights a user may supply.
    assert "none published" in by[("generator", "ualm")]["weights"]
    assert by[("generator", "musicgen")]["weights"] == ("facebook/musicgen-small: not downloaded (offline); "
                                                         "get it with `hf download facebook/musicgen-small`")
    assert by[("listener", "whisper")]["weights"].endswith(": installed")
    assert by[("critic", "llm")]["weights"].endswith(": installed")
    table = cli(["components"], cli_env)
    assert "needs-missing" in table.stdout and "yamnet" in table.stdout


def test_plan_prints_one_json_object_per_prompt(tmp_path, cli_env):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a dog barks three times\n\nbrass followed by percussion\n")
    res = cli(["plan", "--file", str(prompts), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [d["prompt"] for d in lines] == ["a dog barks three times", "brass followed by percussion"]
    assert lines[0]["caption"]["layout"][0]["count"] == 3
    assert [e["label"] for e in lines[1]["caption"]["layout"]] == ["Brass instrument", "Percussion"]
    single = cli(["plan", "a siren on the left", "--json"], cli_env)
    assert json.loads(single.stdout)["caption"]["layout"][0]["position"] == "left"


def test_plan_file_reports_bad_lines_and_plans_the_rest(tmp_path, cli_env):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a bell rings\n" + "x" * 2500 + "\nrain falls\n")
    res = cli(["plan", "--file", str(prompts), "--json"], cli_env)
    assert res.returncode == 2
    assert f"{prompts}:2:" in res.stderr and "limit is 2000" in res.stderr
    assert len(res.stdout.splitlines()) == 2


def test_samples_folder_is_passed_to_the_composer(tmp_path, cli_env):
    folder = tmp_path / "samples"
    folder.mkdir()
    rate = 16000
    t = np.arange(rate) / rate
    sf.write(folder / "Bark.wav", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    res = cli(["run", "a dog barks", "--samples", str(folder), "--reflect", "0", "--out", str(tmp_path / "r"), "--json"],
              cli_env)
    assert res.returncode == 0, res.stderr
    (run_dir,) = _run_dirs(tmp_path / "r")
    assert f'samples = "{folder}"' in (run_dir / "config.toml").read_text()
    gen, _ = sf.read(run_dir / "round_00_gen.wav")
    gen = gen.mean(axis=1) if gen.ndim == 2 else gen  # the mixer writes stereo
    spectrum = np.abs(np.fft.rfft(gen[: rate]))
    assert abs(np.argmax(spectrum) * rate / (2 * (len(spectrum) - 1)) - 440) < 5  # the sample, not a synthesised bark
    missing = cli(["run", "x", "--samples", str(tmp_path / "nope"), "--out", str(tmp_path / "r2")], cli_env)
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


def test_a_plugin_that_fails_to_load_is_listed_not_hidden(tmp_path, cli_env):
    dist = tmp_path / "ualm_agent_broken-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ualm-agent-broken\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[ualm_agent.components]\nbroken = ualm_agent_no_such_plugin_module\n")
    env = {**cli_env, "PYTHONPATH": os.pathsep.join([str(tmp_path), cli_env["PYTHONPATH"]])}
    res = cli(["components", "--json"], env)
    assert res.returncode == 0, res.stderr
    failed = [r["reason"] for r in json.loads(res.stdout) if r["origin"] == "plugin"]
    assert len(failed) == 1 and "plugin 'broken'" in failed[0] and "ualm_agent_no_such_plugin_module" in failed[0]
    unknown = cli(["run", "x", "--generator", "nope", "--out", str(tmp_path / "r")], env)
    assert unknown.returncode == 2 and "plugin 'broken'" in unknown.stderr


@pytest.mark.parametrize("error", [PermissionError(13, "Permission denied", "/x/y"), OSError(28, "No space left on device", "/x/y")])
def test_an_os_error_is_one_line_and_a_full_disk_says_so(error, capsys):
    import typer

    from ualm_agent.cli import handle_errors

    @handle_errors
    def command():
        raise error

    with pytest.raises(typer.Exit) as stopped:
        command()
    assert stopped.value.exit_code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:")
    assert ("no space left on" in err) == (error.errno == 28)
