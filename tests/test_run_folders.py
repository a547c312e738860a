"""Run folders: relative paths (move, copy, any working directory), one writer at a time, a full disk,
and files that all get the same permissions. The CLI runs on the fake tone-world backends."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import time
from pathlib import Path

import pytest

from cli_helpers import cli, run_dirs, start_cli, trace_nodes, wait_for_round


def _killed_after_round_0(tmp_path: Path, env, cfg: Path) -> Path:
    """A run killed with SIGKILL while round 1 generates: round 0 is in the checkpoint."""
    out = tmp_path / "runs"
    proc = start_cli(["run", "x y", "--config", str(cfg), "--out", str(out)], env)
    try:
        run_dir = wait_for_round(out, 1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert not (run_dir / "final.wav").exists()
    return run_dir


def _holder(folder: Path) -> str:
    """Who ``.lock`` says holds the folder ('' when no one has said)."""
    try:
        return (folder / ".lock").read_text()
    except FileNotFoundError:
        return ""


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _recorded_paths(summary: dict) -> list[str]:
    refs = [summary["final"]] + [r[key] for r in summary["rounds"] for key in ("audio", "audio_out") if r[key]]
    return [ref["path"] for ref in refs]


def test_a_run_records_every_path_relative_to_its_folder(tmp_path, cli_env, fake_config):
    out = tmp_path / "runs"
    res = cli(["run", "x y", "--config", str(fake_config()), "--out", str(out)], cli_env)
    assert res.returncode == 0, res.stderr
    (run_dir,) = run_dirs(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run_dir"] == "."
    paths = _recorded_paths(summary)
    assert paths and all(not Path(p).is_absolute() and (run_dir / p).is_file() for p in paths)
    trace = (run_dir / "trace.jsonl").read_text()
    assert str(tmp_path) not in trace and str(tmp_path) not in (run_dir / "report.md").read_text()


def test_a_moved_run_resumes_and_reports_from_any_working_directory(tmp_path, cli_env, fake_config):
    run_dir = _killed_after_round_0(tmp_path, cli_env, fake_config("delay_s = 1.0"))
    moved = tmp_path / "elsewhere" / "moved-run"
    moved.parent.mkdir()
    shutil.move(str(run_dir), moved)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    res = cli(["resume", str(moved), "--json"], cli_env, cwd=elsewhere)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert len(data["rounds"]) == 3 and (moved / "final.wav").is_file()
    assert not run_dir.exists() and not list(elsewhere.iterdir())  # nothing written where the run started or ran
    report = cli(["report", str(moved)], cli_env, cwd="/")
    assert report.returncode == 0, report.stderr
    html = (moved / "report.html").read_text()
    assert html.count("data:audio/flac;base64,") == 3


def test_a_copied_run_never_reads_or_writes_the_original(tmp_path, cli_env, fake_config):
    run_dir = _killed_after_round_0(tmp_path, cli_env, fake_config("delay_s = 0.3"))
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    # The original is renamed away: a copy that still pointed at it would fail to find its audio.
    hidden = run_dir.with_name(run_dir.name + ".original")
    run_dir.rename(hidden)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in hidden.iterdir() if p.is_file()}
    res = cli(["resume", str(copy), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    assert not run_dir.exists()
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in hidden.iterdir() if p.is_file()} == before
    assert (copy / "final.wav").is_file() and (copy / "round_02.wav").is_file()


def test_a_report_embeds_audio_only_from_inside_the_folder(tmp_path):
    from ualm_agent.report.embed import locate
    from ualm_agent.schema import AudioRef

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"RIFF")
    (run_dir / "link.wav").symlink_to(outside)
    ref = dict(sample_rate=16000, channels=1, duration_s=1.0, sha256="0" * 64)
    for path in (str(outside), "../secret.wav", "link.wav"):
        assert locate(AudioRef(path=path, **ref), run_dir, "round_00.wav") is None
    inside = run_dir / "round_00.wav"
    inside.write_bytes(b"RIFF")
    # An absolute path from an older run is looked up by name inside the folder, never followed.
    assert locate(AudioRef(path=str(outside.parent / "round_00.wav"), **ref), run_dir, "x.wav") == inside


# ---- one writer --------------------------------------------------------------------------------


def test_a_second_writer_is_refused_at_once_and_naming_the_holder(tmp_path, cli_env, fake_config):
    out = tmp_path / "runs"
    cfg = fake_config("delay_s = 1.5")
    proc = start_cli(["run", "x y", "--config", str(cfg), "--out", str(out)], cli_env)
    try:
        run_dir = wait_for_round(out, 1)
        started = time.monotonic()
        second = cli(["resume", str(run_dir)], cli_env)
        assert time.monotonic() - started < 15  # refused at once, not after waiting for the run
        assert second.returncode == 2
        assert f"in use by process {proc.pid}" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1 and "Traceback" not in second.stderr
    finally:
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    # One history: every round once, in order.
    nodes = trace_nodes(run_dir)
    assert nodes.count("generate") == 3 and nodes.count("finalize") == 1


def test_two_concurrent_resumes_leave_one_history(tmp_path, cli_env, fake_config):
    log = tmp_path / "calls.jsonl"
    run_dir = _killed_after_round_0(tmp_path, cli_env, fake_config(f'delay_s = 1.0\nlog_file = "{log}"'))
    first = start_cli(["resume", str(run_dir), "--json"], cli_env)
    deadline = time.time() + 60
    while time.time() < deadline and str(first.pid) not in _holder(run_dir):
        time.sleep(0.05)
    second = cli(["resume", str(run_dir), "--json"], cli_env)
    stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert second.returncode == 2 and "in use by process" in second.stderr
    rounds = [r["index"] for r in json.loads(stdout)["result"]["rounds"]]
    assert rounds == [0, 1, 2]
    calls = [json.loads(line)["round"] for line in log.read_text().splitlines()]
    # Round 1 was cut by the kill (before or after its generate began: 1 or 2 calls); the resumes
    # redid it, and round 2, in one process only.
    assert calls.count(0) == 1 and calls.count(2) == 1 and calls.count(1) in (1, 2) and sorted(set(calls)) == [0, 1, 2]


def test_deleting_the_lock_note_lets_no_second_writer_in(tmp_path, cli_env, fake_config):
    out = tmp_path / "runs"
    proc = start_cli(["run", "x y", "--config", str(fake_config("delay_s = 1.0")), "--out", str(out)], cli_env)
    try:
        run_dir = wait_for_round(out, 1)
        (run_dir / ".lock").unlink()  # the lock is on the folder itself; the note only names the holder
        second = cli(["resume", str(run_dir)], cli_env)
        assert second.returncode == 2 and "in use by another process" in second.stderr
    finally:
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert trace_nodes(run_dir).count("generate") == 3
    assert not (run_dir / ".lock").exists()  # a writer that finished says nothing any more


def test_a_killed_writer_leaves_no_stale_lock(tmp_path, cli_env, fake_config):
    run_dir = _killed_after_round_0(tmp_path, cli_env, fake_config("delay_s = 0.3"))
    assert (run_dir / ".lock").exists()  # the file stays; the kernel dropped the lock with the process
    res = cli(["resume", str(run_dir)], cli_env)
    assert res.returncode == 0, res.stderr


def test_an_eval_folder_has_one_writer(tmp_path, cli_env, fake_config):
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"id": f"i{n}", "prompt": "x y"}) + "\n" for n in range(2)))
    out = tmp_path / "eval"
    args = ["eval", str(items), "--out", str(out), "--config", str(fake_config("delay_s = 1.0")), "--reflect", "0"]
    first = start_cli(args, cli_env)
    deadline = time.time() + 60
    while time.time() < deadline and str(first.pid) not in _holder(out):
        time.sleep(0.05)
    second = cli([*args, "--resume"], cli_env)
    _, stderr = first.communicate(timeout=180)
    assert first.returncode == 0, stderr
    assert second.returncode == 2 and f"in use by process {first.pid}" in second.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["item_id"] for r in rows) == ["i0", "i1"]  # each item ran once


# ---- a full disk -------------------------------------------------------------------------------


def test_a_full_disk_names_the_place_and_resume_works_once_space_is_free(tmp_path, cli_env, fake_config):
    run_dir = _killed_after_round_0(tmp_path, cli_env, fake_config("delay_s = 0.3"))
    before = _files(run_dir)
    trace = run_dir / "trace.jsonl"
    kept = trace.read_bytes()
    trace.unlink()
    trace.symlink_to("/dev/full")  # every write to it fails with ENOSPC, as on a full disk
    res = cli(["resume", str(run_dir)], cli_env)
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    (line,) = [text for text in res.stderr.splitlines() if text.startswith("error:")]
    assert "no space left on " in line and str(run_dir) in line and "ualm-agent resume" in line
    assert (run_dir / "round_00.wav").read_bytes() == before["round_00.wav"]
    trace.unlink()  # space is free again
    trace.write_bytes(kept)
    res = cli(["resume", str(run_dir), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    assert [r["index"] for r in json.loads(res.stdout)["rounds"]] == [0, 1, 2]
    assert (run_dir / "round_00.wav").read_bytes() == before["round_00.wav"]


# ---- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_every_file_in_a_run_folder_gets_the_same_permissions(tmp_path, cli_env, fake_config, mask):
    out = tmp_path / "runs"
    old = os.umask(mask)  # the child inherits it
    try:
        res = cli(["run", "x y", "--config", str(fake_config()), "--out", str(out)], cli_env)
        assert res.returncode == 0, res.stderr
        (run_dir,) = run_dirs(out)
        report = cli(["report", str(run_dir)], cli_env)
        assert report.returncode == 0, report.stderr
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in run_dir.iterdir() if p.is_file()}
    assert {"round_00.wav", "round_00_gen.wav", "final.wav", "summary.json", "checkpoint.sqlite", "report.html"} <= set(modes)
    assert set(modes.values()) == {0o666 & ~mask}, modes


def test_paths_in_a_config_file_hold_when_resumed_from_elsewhere(tmp_path, cli_env, fake_config):
    """A setting that names a file relative to where the run started is stored absolute in config.toml."""
    start = tmp_path / "start"
    start.mkdir()
    (start / "calls.jsonl").write_text("")
    cfg = fake_config('delay_s = 0.5\nlog_file = "calls.jsonl"')
    out = start / "runs"
    proc = start_cli(["run", "x y", "--config", str(cfg), "--out", "runs"], cli_env, cwd=start)
    try:
        run_dir = wait_for_round(out, 1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert f'log_file = "{start / "calls.jsonl"}"' in (run_dir / "config.toml").read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    res = cli(["resume", str(run_dir.resolve())], cli_env, cwd=elsewhere)
    assert res.returncode == 0, res.stderr
    rounds = [json.loads(line)["round"] for line in (start / "calls.jsonl").read_text().splitlines()]
    assert rounds[-1] == 2 and not list(elsewhere.iterdir())


# ---- damaged or early-stopped folders ----------------------------------------------------------


def _finished_run(tmp_path: Path, env, cfg: Path) -> Path:
    out = tmp_path / "runs"
    res = cli(["run", "x y", "--config", str(cfg), "--out", str(out)], env)
    assert res.returncode == 0, res.stderr
    (run_dir,) = run_dirs(out)
    return run_dir


def test_a_run_stopped_before_its_first_checkpoint_starts_over_on_resume(tmp_path, cli_env, fake_config):
    run_dir = _finished_run(tmp_path, cli_env, fake_config())
    for name in ("checkpoint.sqlite", "checkpoint.sqlite-wal", "checkpoint.sqlite-shm", "trace.jsonl", "summary.json"):
        (run_dir / name).unlink(missing_ok=True)
    for wav in run_dir.glob("*.wav"):
        wav.unlink()
    res = cli(["resume", str(run_dir), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    assert len(json.loads(res.stdout)["rounds"]) == 3 and (run_dir / "final.wav").is_file()


@pytest.mark.parametrize("damage", ["checkpoint", "meta", "cut trace"])
def test_a_damaged_run_folder_is_named_in_one_line(tmp_path, cli_env, fake_config, damage):
    run_dir = _killed_after_round_0(tmp_path, cli_env, fake_config("delay_s = 0.3"))
    if damage == "checkpoint":
        (run_dir / "checkpoint.sqlite").write_bytes(b"not a database at all" * 100)
        for extra in ("checkpoint.sqlite-wal", "checkpoint.sqlite-shm"):
            (run_dir / extra).unlink(missing_ok=True)
        needle, code = "checkpoint.sqlite is damaged", 1
    elif damage == "meta":
        (run_dir / "run.json").write_text('{"prompt": "x y"}')
        needle, code = "is corrupt (no thread_id)", 2
    else:
        with open(run_dir / "trace.jsonl", "a") as f:
            f.write('{"time": "cut')
        needle, code = None, 0
    res = cli(["resume", str(run_dir)], cli_env)
    assert res.returncode == code, res.stderr
    assert "Traceback" not in res.stderr
    if needle is not None:
        (line,) = [text for text in res.stderr.splitlines() if text.startswith("error:")]
        assert needle in line, line
    else:  # the cut line stays one bad line; every record after it parses
        lines = (run_dir / "trace.jsonl").read_text().splitlines()
        assert lines.count('{"time": "cut') == 1
        assert all(json.loads(line)["node"] for line in lines if line != '{"time": "cut')


def test_a_finished_run_whose_best_audio_is_gone_says_so(tmp_path, cli_env, fake_config):
    run_dir = _finished_run(tmp_path, cli_env, fake_config())
    best = json.loads((run_dir / "summary.json").read_text())["final"]["path"]
    (run_dir / best).unlink()
    res = cli(["resume", str(run_dir)], cli_env)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"the best round's audio {run_dir / best} is missing" in res.stderr


def test_a_summary_naming_no_round_is_refused_by_report(tmp_path, cli_env, fake_config):
    run_dir = _finished_run(tmp_path, cli_env, fake_config())
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["best_index"] = 999
    (run_dir / "summary.json").write_text(json.dumps(summary))
    res = cli(["report", str(run_dir)], cli_env)
    assert res.returncode == 2 and "best_index 999 names no round" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_config_file_paths_are_found_beside_the_file(tmp_path, monkeypatch):
    from ualm_agent.config import AgentConfig

    (tmp_path / "cfg" / "recs").mkdir(parents=True)
    (tmp_path / "cfg" / "c.toml").write_text('[generator]\nkind = "composer"\nsamples = "recs"\n')
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    loaded = AgentConfig.load(tmp_path / "cfg" / "c.toml")
    assert loaded.generator.settings()["samples"] == str((tmp_path / "cfg" / "recs").resolve())


def test_report_on_a_run_still_going_says_so(tmp_path, cli_env, fake_config):
    out = tmp_path / "runs"
    proc = start_cli(["run", "x y", "--config", str(fake_config("delay_s = 1.0")), "--out", str(out)], cli_env)
    try:
        run_dir = wait_for_round(out, 1)
        res = cli(["report", str(run_dir)], cli_env)
        assert res.returncode == 2 and f"the run is still going (process {proc.pid}" in res.stderr
    finally:
        proc.communicate(timeout=120)
    assert cli(["report", str(run_dir)], cli_env).returncode == 0
