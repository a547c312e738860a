"""What the toolkit prints and writes: control characters in prompts never reach a terminal raw, a
prompt's line breaks do not break report.md, and `report --out` never replaces a file unasked."""

from __future__ import annotations

import json
import re

from cli_helpers import cli, run_dirs

from ualm_agent.display import printable

# ESC sequences that recolour and clear, a bell, a carriage return, a bidi override, a C1 CSI.
NASTY = "a dog\x1b[31m barks\x1b[2J\x07 then\r\na bell\u202e rings\x9b6n"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _raw_controls(text: str) -> list[str]:
    return RAW.findall(text.replace("\n", ""))


def test_printable_escapes_controls_and_keeps_plain_text():
    assert printable("plain text, ünïcode ✓") == "plain text, ünïcode ✓"
    assert printable("red\x1b[31m") == "red\\x1b[31m"
    assert printable("one\ntwo\r\tthree") == "one\\ntwo\\r\\tthree"  # a path with a newline still reads as it is
    assert printable("one\ntwo\x07", multiline=True) == "one\ntwo\\x07"
    assert printable("\u202eevil") == "\\u202eevil"


def test_a_run_never_prints_control_characters_raw(tmp_path, cli_env, fake_config):
    out = tmp_path / "runs"
    res = cli(["run", NASTY, "--config", str(fake_config()), "--out", str(out)], cli_env)
    assert res.returncode == 0, res.stderr
    assert not _raw_controls(res.stdout) and not _raw_controls(res.stderr)
    (run_dir,) = run_dirs(out)
    report = (run_dir / "report.md").read_text()
    assert not _raw_controls(report)
    lines = report.splitlines()
    assert lines[0].startswith("# a dog\\x1b[31m barks") and "a bell\\u202e rings" in lines[0]
    assert lines[1] == ""  # the prompt's line break stayed inside the heading
    assert json.loads((run_dir / "run.json").read_text())["prompt"] == NASTY.strip()
    as_json = cli(["run", NASTY, "--config", str(fake_config()), "--out", str(out), "--json"], cli_env)
    assert json.loads(as_json.stdout)["result"]["prompt"] == NASTY.strip()  # JSON carries it exactly, escaped


def test_plan_and_errors_never_print_control_characters_raw(tmp_path, cli_env):
    res = cli(["plan", NASTY], cli_env)
    assert res.returncode == 0, res.stderr
    assert not _raw_controls(res.stdout) and "\\x1b" in res.stdout
    missing = cli(["listen", str(tmp_path / "no\x1b[31mfile.wav")], cli_env)
    assert missing.returncode == 2
    assert not _raw_controls(missing.stderr) and "no\\x1b[31mfile.wav" in missing.stderr


def test_report_out_never_overwrites_without_the_flag(tmp_path, cli_env, fake_config):
    out = tmp_path / "runs"
    assert cli(["run", "x y", "--config", str(fake_config()), "--out", str(out)], cli_env).returncode == 0
    (run_dir,) = run_dirs(out)
    target = tmp_path / "mine.html"
    target.write_text("my own notes")
    res = cli(["report", str(run_dir), "--out", str(target)], cli_env)
    assert res.returncode == 2 and "--overwrite" in res.stderr and str(target) in res.stderr
    assert target.read_text() == "my own notes"
    folder = cli(["report", str(run_dir), "--out", str(tmp_path)], cli_env)
    assert folder.returncode == 2 and "is a folder" in folder.stderr
    res = cli(["report", str(run_dir), "--out", str(target), "--overwrite"], cli_env)
    assert res.returncode == 0, res.stderr
    assert target.read_text().startswith("<!DOCTYPE html>")
    fresh = tmp_path / "new.html"
    assert cli(["report", str(run_dir), "--out", str(fresh)], cli_env).returncode == 0 and fresh.is_file()
