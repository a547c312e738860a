"""``ualm-agent ablate``: a grid on the same items and seeds, compared with a baseline, paired by item."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from ualm_agent.errors import UsageError
from ualm_agent.evaluation import ablation
from ualm_agent.evaluation.grid import build_grid

ITEMS = [
    {"id": "bark-then-bell", "prompt": "a dog barks, then a bell rings",
     "expected": {"events": [{"label": "Bark"}, {"label": "Bell"}], "order": ["Bark", "Bell"]}},
    {"id": "siren", "prompt": "a siren wails", "expected": {"events": [{"label": "Siren"}]}},
]
GRID = ["reflect=0,1", "duration_s=4"]
T_975_DF2 = 4.302652729696143  # Student t quantile for a 95% interval with 2 degrees of freedom


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ualm_agent.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _prompts(folder: Path) -> Path:
    path = folder / "prompts.jsonl"
    lines = [json.dumps(item) for item in ITEMS]
    lines.insert(1, '{"id": "broken", "prompt": ')  # line 2: reported, the rest still runs
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ablated(tmp_path_factory):
    """One real ablation through the command line: 2 items x 2 configurations (reflect 0 and 1, 4 s clips)."""
    import os

    folder = tmp_path_factory.mktemp("ablate")
    out = folder / "out"
    # Synthesised sounds only, whose first takes draw criticism whatever recordings are installed.
    config = folder / "dsp.toml"
    config.write_text('[generator]\nkind = "composer"\nsources = ["dsp"]\n')
    args = ["ablate", str(_prompts(folder)), *(a for g in GRID for a in ("--grid", g)), "--out", str(out),
            "--config", str(config)]
    proc = _cli(*args, env=dict(os.environ))
    return folder, out, proc


def test_ablation_writes_the_table_with_cis_and_baseline_differences(ablated):
    folder, out, proc = ablated
    assert proc.returncode == 0, proc.stderr
    assert "prompts.jsonl:2:" in proc.stderr  # the malformed line, by number
    assert proc.stdout.strip() == str(out / "ablation.md")
    # Each configuration is its own eval folder, on the same items with the same seeds.
    seeds = {}
    for name in ("reflect=0", "reflect=1"):
        rows = [json.loads(line) for line in (out / "configs" / name / "results.jsonl").read_text().splitlines()]
        assert {r["item_id"] for r in rows} == {"bark-then-bell", "siren"}
        assert {r["config_name"] for r in rows} == {name}
        seeds[name] = {r["item_id"]: r["seed"] for r in rows}
        assert max(r["round"] for r in rows) == (0 if name == "reflect=0" else 1)
    assert seeds["reflect=0"] == seeds["reflect=1"]

    with open(out / "ablation.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["config"] for r in table] == ["reflect=0", "reflect=1"]
    assert [r["baseline"] for r in table] == ["true", "false"]
    assert [r["reflect"] for r in table] == ["0", "1"] and {r["duration_s"] for r in table} == {"4"}
    base, other = table
    assert base["graded_by"] == "yamnet" and base["completed"] == "2"
    for key in ("event_f1", "event_recall", "critic_score", "rounds_used"):
        mean, low, high = (float(base[f"{key}{s}"]) for s in ("", "_low", "_high"))
        assert low <= mean <= high and base[f"{key}_n"] == "2"
        # The baseline against itself: every paired difference is exactly 0.
        assert float(base[f"{key}_diff"]) == 0.0 and base[f"{key}_diff_n"] == "2"
    # Differences are paired by item: the mean of the per-item differences.
    rows = {name: {r["item_id"]: r for r in map(json.loads, (out / "configs" / name / "results.jsonl").read_text()
                                                      .splitlines()) if r["final"]} for name in ("reflect=0", "reflect=1")}
    for key in ("rounds_used", "critic_score", "event_f1"):
        diffs = [rows["reflect=1"][i][key] - rows["reflect=0"][i][key] for i in rows["reflect=0"]]
        assert float(other[f"{key}_diff"]) == pytest.approx(sum(diffs) / len(diffs), abs=1e-5)
    assert float(other["rounds_used"]) > float(base["rounds_used"])  # the bark/bell item revised once

    md = (out / "ablation.md").read_text()
    assert "baseline: `reflect=0`" in md and "Graded by: yamnet" in md
    assert "## Difference to the baseline `reflect=0`, paired by item" in md
    assert "| `reflect=1` |" in md and "(n=2)" in md

    plot = out / "plots" / "gain_per_round.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
    gains = json.loads((out / "gain_per_round.json").read_text())
    assert [p["round"] for p in gains["reflect=1"]["event_f1"]] == [0, 1]
    assert gains["reflect=1"]["event_f1"][0]["mean"] == 0.0  # round 0 against itself


def test_an_existing_folder_needs_resume_and_resume_skips_done_items(ablated):
    from ualm_agent.evaluation.items import EvalItem

    folder, out, proc = ablated
    assert proc.returncode == 0, proc.stderr
    before = (out / "ablation.csv").read_text()
    grid = build_grid(GRID, config_file=folder / "dsp.toml")
    items = [EvalItem.model_validate(i) for i in ITEMS]
    with pytest.raises(UsageError, match="pass --resume"):
        ablation.run_ablation(items, grid, out_dir=out)
    with pytest.raises(UsageError, match="another grid"):
        ablation.run_ablation(items, build_grid(["reflect=0,1,2", "duration_s=4"], config_file=folder / "dsp.toml"),
                              out_dir=out, resume=True)
    events = []
    result = ablation.run_ablation(items, grid, out_dir=out, resume=True, progress=events.append)
    assert [e["skipped"] for e in events if e.get("event") == "start"] == [2, 2]  # nothing re-run
    assert result.csv_path.read_text() == before


def test_unknown_grid_key_is_rejected_before_any_work(tmp_path, cli_env):
    prompts = _prompts(tmp_path)
    proc = _cli("ablate", str(prompts), "--grid", "reflect=0,1", "--grid", "critiques=on,off", "--out",
                str(tmp_path / "out"), env=cli_env)
    assert proc.returncode == 2
    assert "unknown grid key 'critiques'" in proc.stderr and "critique" in proc.stderr and "loop.reflect" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    proc = _cli("ablate", str(prompts), "--grid", "listener=yamnet,nope", "--out", str(tmp_path / "out"), env=cli_env)
    assert proc.returncode == 2 and "valid listeners: " in proc.stderr and "clap, composite" in proc.stderr
    assert not (tmp_path / "out").exists()
    # The evaluator's listener is checked before any work too.
    proc = _cli("ablate", str(prompts), "--grid", "reflect=0,1", "--eval-listener", "nope", "--out",
                str(tmp_path / "out"), env=cli_env)
    assert proc.returncode == 2 and "evaluator listener: unknown listener 'nope'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_backend_ray_without_ray_is_a_one_line_error(tmp_path, cli_env):
    # A `ray` that cannot be imported, as on an install without the extra.
    fake = tmp_path / "noray"
    fake.mkdir()
    (fake / "ray.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    env = {**cli_env, "PYTHONPATH": f"{fake}:{cli_env.get('PYTHONPATH', '')}"}
    proc = _cli("ablate", str(_prompts(tmp_path)), "--grid", "reflect=0,1", "--out", str(tmp_path / "out"),
                "--backend", "ray", env=env)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "pip install 'ualm-agent[ray]'" in errors[0]
    assert not (tmp_path / "out").exists()


def _rows(item_id, values, *, failed=False):
    """Result rows for one item: ``values`` per round (event_f1), the last round final and best."""
    if failed:
        return [{"item_id": item_id, "round": None, "final": False, "error": "crashed", "accepted": False}]
    rows = []
    for r, value in enumerate(values):
        rows.append({"item_id": item_id, "round": r, "final": r == len(values) - 1, "best_so_far": r,
                     "event_f1": value, "critic_score": value, "accepted": r == len(values) - 1,
                     "rounds_used": len(values), "agent_wall_s": 1.0, "graded_by": "yamnet"})
    return rows


def test_paired_differences_and_gains_match_hand_computed_values(tmp_path):
    grid = build_grid(["critique=on,off"])
    tmp_path = tmp_path / "out"
    with ablation.prepare_out_dir(tmp_path, grid, resume=False):
        pass
    data = {
        # baseline: finals 0.5, 0.7, 0.9 and 0.4; every item answers in round 0
        "critique=on": [*_rows("a", [0.5]), *_rows("b", [0.7]), *_rows("c", [0.9]), *_rows("d", [0.4])],
        # other: finals 0.6, 0.9, 0.8 after one revision from 0.3, 0.5, 0.8; item d crashed
        "critique=off": [*_rows("a", [0.3, 0.6]), *_rows("b", [0.5, 0.9]), *_rows("c", [0.8, 0.8]),
                         *_rows("d", [], failed=True)],
    }
    for name, rows in data.items():
        folder = tmp_path / "configs" / name
        folder.mkdir(parents=True)
        (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = ablation.write_comparison(tmp_path, grid)
    base, other = result.table
    assert (base["completed"], other["completed"], other["failed"]) == (4, 3, 1)

    mean, low, high, n = other["event_f1"]
    sd = math.sqrt(((0.6 - 23 / 30) ** 2 + (0.9 - 23 / 30) ** 2 + (0.8 - 23 / 30) ** 2) / 2)
    assert n == 3 and mean == pytest.approx(23 / 30)
    # The t-interval, clipped to F1's range [0, 1].
    assert (low, high) == pytest.approx((23 / 30 - T_975_DF2 * sd / math.sqrt(3), 1.0))
    # Paired: differences 0.1, 0.2, -0.1 over the items both completed (d is left out).
    mean, low, high, n = other["event_f1:diff"]
    sd = math.sqrt(((0.1 - 1 / 15) ** 2 + (0.2 - 1 / 15) ** 2 + (-0.1 - 1 / 15) ** 2) / 2)
    assert n == 3 and mean == pytest.approx(1 / 15)
    assert (low, high) == pytest.approx((1 / 15 - T_975_DF2 * sd / math.sqrt(3), 1 / 15 + T_975_DF2 * sd / math.sqrt(3)))
    # Accept rate: a Wilson interval inside [0, 1].
    rate, low, high, n = other["accept_rate"]
    assert (rate, n) == (1.0, 3) and 0.0 < low < 1.0 and high == pytest.approx(1.0)

    with open(result.csv_path, newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assert float(csv_rows[1]["event_f1_diff"]) == pytest.approx(1 / 15, abs=1e-6)
    assert csv_rows[1]["event_f1_diff_n"] == "3" and csv_rows[0]["event_f1_n"] == "4"

    # Gain over round 0 after one revision: +0.3, +0.4, 0 -> mean 7/30; the baseline has only round 0.
    gains = json.loads((tmp_path / "gain_per_round.json").read_text())
    assert gains["critique=off"]["event_f1"][1]["mean"] == pytest.approx(7 / 30)
    assert [p["round"] for p in gains["critique=on"]["event_f1"]] == [0]
    assert result.plot_path is not None and result.plot_path.is_file()
