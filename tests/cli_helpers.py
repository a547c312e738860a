"""Running the CLI in a subprocess on the fake "tone world" backends (tests/plugin)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

FAKE_CONFIG = """
duration_s = 4.0
[loop]
reflect = 2
[planner]
kind = "scripted"
[generator]
kind = "tone"
{generator_extra}
[vae]
kind = "identity"
[listener]
kind = "tone"
[captioner]
kind = "echo"
[critic]
kind = "scripted"
scores = [0.4, 0.7, 0.5]
[reviser]
kind = "note"
"""


def cli(args, env, cwd=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "ualm_agent.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def start_cli(args, env, cwd=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ualm_agent.cli", *args], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir())


def trace_nodes(run_dir: Path) -> list[str]:
    path = run_dir / "trace.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["node"] for line in path.read_text().splitlines() if line.strip()]


def wait_for_round(out: Path, rounds: int, timeout_s: float = 60.0) -> Path:
    """The run folder under ``out`` once ``rounds`` rounds have been decided (the run goes on)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        dirs = run_dirs(out) if out.exists() else []
        if dirs and trace_nodes(dirs[0]).count("decide") >= rounds:
            return dirs[0]
        time.sleep(0.05)
    raise AssertionError(f"no run under {out} reached {rounds} round(s) in {timeout_s:g} s")
