"""`ualm-agent eval` and run_eval: rows per item and round, summaries with CIs, plots, resume, workers, failures."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from ualm_agent import builders, runner
from ualm_agent.config import AgentConfig
from ualm_agent.errors import UsageError
from ualm_agent.evaluation import run as eval_run
from ualm_agent.evaluation.evaluator import EvaluatorConfig
from ualm_agent.evaluation.items import EvalItem, item_seed, load_items
from ualm_agent.evaluation.stats import budget_rows, item_rows, mean_ci, proportion_ci, summarize
from ualm_agent.registry import BackendConfig, register

ITEMS = [
    {"id": "dog-horn", "prompt": "a dog barks twice, then a car horn",
     "expected": {"events": [{"label": "Bark", "count": 2}, {"label": "Vehicle horn, car horn, honking"}],
                  "order": ["Bark", "Vehicle horn, car horn, honking"]}},
    {"id": "rain-birds", "prompt": "birds chirp while rain falls",
     "expected": {"events": [{"label": "Rain"}, {"label": "Bird"}]}},
    {"id": "bell", "prompt": "a church bell rings three times",
     "expected": {"events": [{"label": "Church bell", "count": 3}]}},
]

# Columns that depend on the machine, the process or the time, not on the item and seed.
VOLATILE = {"wall_s", "agent_wall_s", "eval_wall_s", "item_wall_s", "worker", "run_dir", "audio"}


def cli(args, env, timeout=120):
    return subprocess.run([sys.executable, "-m", "ualm_agent.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def write_prompts(path: Path, items=ITEMS, bad_line: str | None = None) -> Path:
    lines = [json.dumps(item) for item in items]
    if bad_line is not None:
        lines.insert(1, bad_line)
    path.write_text("\n".join(lines) + "\n")
    return path


def read_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def assert_one_row_per_item_and_round(rows: list[dict], ids: set[str]) -> None:
    groups = item_rows(rows)
    assert set(groups) == ids
    for item_id, group in groups.items():
        used = group[0]["rounds_used"]
        assert [r["round"] for r in group] == list(range(used)), item_id
        assert sum(r["final"] for r in group) == 1, item_id
        assert all(r["graded_by"] == "yamnet" for r in group if not r["round_failed"])


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()}


def agent_config(**overrides) -> AgentConfig:
    return AgentConfig.load(**{"loop.reflect": 1, "duration_s": 4.0, **overrides})


# ---- end to end through the CLI -----------------------------------------------------------


def test_eval_cli_writes_rows_summary_and_plots_and_never_overwrites(tmp_path, cli_env):
    prompts = write_prompts(tmp_path / "set.jsonl", bad_line='{"id": "broken", "prompt": ')
    out = tmp_path / "eval"
    res = cli(["eval", str(prompts), "--out", str(out), "--reflect", "1", "--duration", "4", "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    assert f"{prompts}:2: not valid JSON" in res.stderr  # the malformed line, by number; the rest ran
    assert "[3/3]" in res.stderr  # progress on stderr
    report = json.loads(res.stdout)
    assert report["ran"] == 3 and report["failed"] == 0 and report["skipped"] == 0

    rows = read_rows(out)
    assert_one_row_per_item_and_round(rows, {i["id"] for i in ITEMS})
    for row in rows:
        item = EvalItem.model_validate(next(i for i in ITEMS if i["id"] == row["item_id"]))
        assert row["seed"] == item_seed(item, 0)
        assert row["critic_score"] is not None and 0.0 <= row["event_f1"] <= 1.0
        assert {"plan", "generate", "listen"} <= set(row["wall_s"]) or {"revise", "generate"} <= set(row["wall_s"])
        assert row["eval_wall_s"] > 0 and row["item_wall_s"] >= row["agent_wall_s"]
        assert (out / row["audio"]).is_file() and (out / row["run_dir"] / "summary.json").is_file()
    bell = [r for r in rows if r["item_id"] == "bell"]
    assert bell[0]["ordering_error"] is None  # one expected event: no order to get wrong, so no value

    summary = json.loads((out / "summary.json").read_text())
    assert summary["items"] == {"total": 3, "completed": 3, "failed": 0}
    f1 = summary["final"]["event_f1"]
    finals = [r["event_f1"] for r in rows if r["final"]]
    assert f1["n"] == 3 and math.isclose(f1["mean"], sum(finals) / 3)
    assert f1["low"] <= f1["mean"] <= f1["high"]
    assert summary["per_round"]["0"]["event_f1"]["n"] == 3
    assert sum(summary["rounds_used"].values()) == 3
    assert 0 < summary["process"]["evaluator_share"] < 1
    md = (out / "summary.md").read_text()
    assert "| event_f1 | " in md and f"[{f1['low']:.3f}, {f1['high']:.3f}] (n=3)" in md
    assert "accept rate" in md and "wall time: generate" in md and "items/minute" in md

    import matplotlib.image

    pngs = sorted((out / "plots").glob("*.png"))
    names = {p.name for p in pngs}
    assert {"event_f1_by_round.png", "critic_score_by_round.png", "rounds_used.png"} <= names
    for png in pngs:
        pixels = matplotlib.image.imread(png)
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert pixels[..., :3].std() > 0.01  # something was drawn

    # The folder exists: without --resume it is a usage error and nothing changes.
    before = snapshot(out)
    again = cli(["eval", str(prompts), "--out", str(out), "--reflect", "1", "--duration", "4"], cli_env)
    assert again.returncode == 2 and "--resume" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 2  # the skipped line and the one-line error
    assert snapshot(out) == before

    # A missing prompt file is a usage error too.
    missing = cli(["eval", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "other")], cli_env)
    assert missing.returncode == 2 and "not found" in missing.stderr and not (tmp_path / "other").exists()


TONE_CONFIG = """
duration_s = 4.0
[loop]
reflect = 0
[generator]
kind = "tone"
delay_s = {delay}
log_file = "{log}"
"""


def test_ctrl_c_stops_the_workers_at_once_and_resume_runs_only_the_rest(tmp_path, cli_env):
    items = [{"id": f"item-{k}", "prompt": p, "expected": {"events": [{"label": lab}]}}
             for k, (p, lab) in enumerate([("a trumpet plays", "Trumpet"), ("a dog barks", "Bark"),
                                           ("a bell rings", "Bell"), ("rain falls", "Rain")])]
    prompts = write_prompts(tmp_path / "set.jsonl", items)
    # One round per item, each generation sleeping 4 s after it is logged: items 0 and 1 run side by
    # side, then 2 and 3 start, and Ctrl-C lands while they sleep.
    delay = 4.0
    log = tmp_path / "generator_calls.jsonl"
    cfg = tmp_path / "tone.toml"
    cfg.write_text(TONE_CONFIG.format(delay=delay, log=log))
    out = tmp_path / "eval"
    args = ["eval", str(prompts), "--out", str(out), "--config", str(cfg), "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "ualm_agent.cli", *args], env=cli_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    results = out / "results.jsonl"

    def lines(path: Path) -> int:
        return path.read_text().count("\n") if path.exists() else 0

    deadline = time.time() + 90
    while time.time() < deadline and proc.poll() is None:
        finished = lines(results)
        if finished >= 1 and finished < len(items) and lines(log) > finished:
            break  # at least one item is saved and another is generating
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail(f"the run never had an item saved and another running: {proc.stderr.read()}")
    interrupted_at = time.time()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("eval did not stop on Ctrl-C")
    # The running items were not waited for (each still had most of its 4 s to sleep; stopping takes ~0.2 s).
    assert time.time() - interrupted_at < delay - 1.5
    stderr = proc.stderr.read()
    assert proc.returncode == 130 and "--resume" in stderr
    done = item_rows(read_rows(out))  # every line parses
    assert 1 <= len(done) < len(items)
    assert all(len(group) == 1 and group[0]["final"] for group in done.values())  # whole items only
    calls_before = lines(log)

    res = cli([*args, "--resume", "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["skipped"] == len(done)
    rows = read_rows(out)
    assert sorted(r["item_id"] for r in rows) == sorted(i["id"] for i in items)  # each item once
    # Only the unfinished items generated again, with their own seeds.
    new_seeds = [json.loads(line)["seed"] for line in log.read_text().splitlines()[calls_before:]]
    missing = [EvalItem.model_validate(i) for i in items if i["id"] not in done]
    assert sorted(new_seeds) == sorted(item_seed(i, 0) for i in missing)


# ---- in process ---------------------------------------------------------------------------


class ExplodingSettings(BackendConfig):
    kind: Literal["explodes-on"] = "explodes-on"
    word: str = "explode"


@register("explodes-on", roles=("generator",), config=ExplodingSettings)
class ExplodingGenerator:
    """The tone generator, except that it raises for prompts containing ``word``."""

    def __init__(self, *, word: str = "explode") -> None:
        from ualm_test_fakes import ToneGenerator

        self.word = word
        self.tones = ToneGenerator()

    def generate(self, request):
        if self.word in request.text.lower():
            raise RuntimeError(f"cannot render {self.word!r}")
        return self.tones.generate(request)


def _items(data=ITEMS) -> list[EvalItem]:
    return [EvalItem.model_validate(d) for d in data]


def test_a_crashing_item_is_recorded_and_the_others_complete(tmp_path, monkeypatch):
    data = [*ITEMS[:2], {"id": "boom", "prompt": "a firework explodes"}, ITEMS[2]]
    events = []
    summary = eval_run.run_eval(
        _items(data), agent_config=agent_config(generator="explodes-on"), evaluator_config=EvaluatorConfig(),
        out_dir=tmp_path / "eval", progress=events.append,
    )
    assert summary.ran == 4 and summary.failed == 1
    groups = item_rows(read_rows(tmp_path / "eval"))
    (boom,) = groups["boom"]
    assert boom["round"] is None and not boom["final"]
    assert "every round failed" in boom["error"] and "cannot render 'explode'" in boom["error"]
    assert "\n" not in boom["error"]
    for item_id in ("dog-horn", "rain-birds", "bell"):
        assert groups[item_id][0]["error"] == "" and any(r["final"] for r in groups[item_id])
    assert summary.summary["items"] == {"total": 4, "completed": 3, "failed": 1}
    assert summary.summary["failed"] == {"boom": boom["error"]}
    assert "## Failed items" in (tmp_path / "eval" / "summary.md").read_text()
    assert [e["status"] for e in events if e["event"] == "item"].count("failed") == 1

    # On resume the failed item is tried again (its new rows supersede the old); done items are not.
    calls = []
    real_run = runner.run
    monkeypatch.setattr(runner, "run", lambda prompt, config, **kw: calls.append(prompt) or real_run(prompt, config, **kw))
    again = eval_run.run_eval(_items(data), agent_config=agent_config(generator="explodes-on"),
                              evaluator_config=EvaluatorConfig(), out_dir=tmp_path / "eval", resume=True)
    assert calls == ["a firework explodes"] and again.skipped == 3
    rows = read_rows(tmp_path / "eval")
    assert [r["attempt"] for r in rows if r["item_id"] == "boom"] == [1, 2]
    assert item_rows(rows)["boom"][0]["attempt"] == 2


def test_a_failed_round_has_empty_metrics_and_the_next_round_is_graded(tmp_path):
    from ualm_agent.config import ComponentSpec

    cfg = agent_config().model_copy(update={"generator": ComponentSpec(kind="tone", nan_rounds=[0])})
    rows = eval_run.evaluate_item(_items()[2], cfg, EvaluatorConfig(), tmp_path)
    assert [r["round"] for r in rows] == [0, 1]
    failed, good = rows
    assert failed["round_failed"] and failed["error"] == "generator output contains NaN or infinite samples"
    assert failed["event_f1"] is None and failed["graded_by"] is None and failed["eval_wall_s"] is None
    assert not failed["final"] and failed["best_so_far"] is None
    assert good["final"] and good["best_so_far"] == 1 and good["graded_by"] == "yamnet"
    assert good["event_f1"] is not None and good.keys() == failed.keys()


def test_resume_skips_done_items_repairs_a_cut_line_and_keeps_the_config(tmp_path, monkeypatch):
    out = tmp_path / "eval"
    cfg = agent_config()
    first = eval_run.run_eval(_items(ITEMS[:2]), agent_config=cfg, evaluator_config=EvaluatorConfig(), out_dir=out)
    assert first.ran == 2
    text_before = (out / "results.jsonl").read_text()
    # A kill in the middle of a write would leave a cut last line; resume drops it.
    with open(out / "results.jsonl", "a") as f:
        f.write('{"item_id": "bell", "round": 0, "fin')

    with pytest.raises(UsageError, match="already exists"):
        eval_run.run_eval(_items(), agent_config=cfg, evaluator_config=EvaluatorConfig(), out_dir=out)
    with pytest.raises(UsageError, match="different agent config"):
        eval_run.run_eval(_items(), agent_config=agent_config(duration_s=5.0), evaluator_config=EvaluatorConfig(),
                          out_dir=out, resume=True)

    calls = []
    real_run = runner.run
    monkeypatch.setattr(runner, "run", lambda prompt, config, **kw: calls.append(prompt) or real_run(prompt, config, **kw))
    second = eval_run.run_eval(_items(), agent_config=cfg, evaluator_config=EvaluatorConfig(), out_dir=out, resume=True)
    assert calls == [ITEMS[2]["prompt"]]
    assert (second.ran, second.skipped) == (1, 2)
    text_after = (out / "results.jsonl").read_text()
    assert text_after.startswith(text_before)  # earlier rows untouched, the cut line gone
    assert_one_row_per_item_and_round(read_rows(out), {i["id"] for i in ITEMS})
    assert second.summary["items"]["completed"] == 3  # the summary covers the whole folder
    assert second.summary["session"]["items_run"] == 1


def test_two_workers_give_the_same_rows_as_one(tmp_path):
    cfg = agent_config()
    one = eval_run.run_eval(_items(), agent_config=cfg, evaluator_config=EvaluatorConfig(), out_dir=tmp_path / "one")
    two = eval_run.run_eval(_items(), agent_config=cfg, evaluator_config=EvaluatorConfig(), out_dir=tmp_path / "two",
                            workers=2)
    assert one.ran == two.ran == 3

    def stable(out):
        return {(r["item_id"], r["round"]): {k: v for k, v in r.items() if k not in VOLATILE} for r in read_rows(out)}

    rows_one, rows_two = stable(tmp_path / "one"), stable(tmp_path / "two")
    differ = {key: {k: (rows_one.get(key, {}).get(k), rows_two.get(key, {}).get(k))
                    for k in {*rows_one.get(key, {}), *rows_two.get(key, {})}
                    if rows_one.get(key, {}).get(k) != rows_two.get(key, {}).get(k)}
              for key in {*rows_one, *rows_two} if rows_one.get(key) != rows_two.get(key)}
    assert not differ
    workers_two = {r["worker"] for r in read_rows(tmp_path / "two")}
    assert len(workers_two) <= 2 and not workers_two & {r["worker"] for r in read_rows(tmp_path / "one")}


def test_components_and_evaluator_load_once_per_process(tmp_path):
    cfg = agent_config()
    items = _items()
    eval_run.evaluate_item(items[0], cfg.model_copy(), EvaluatorConfig(), tmp_path)
    cached = dict(builders._CACHE)
    evaluators = dict(eval_run._EVALUATORS)
    rows = eval_run.evaluate_item(items[1], cfg.model_copy(), EvaluatorConfig(), tmp_path)
    assert rows[0]["error"] == ""
    # Same instances: nothing was rebuilt for the second item (seeds differ, settings do not).
    assert builders._CACHE.keys() == cached.keys() and all(builders._CACHE[k] is v for k, v in cached.items())
    assert eval_run._EVALUATORS == evaluators and len(evaluators) >= 1


def test_bad_options_fail_before_anything_is_written(tmp_path):
    out = tmp_path / "eval"
    cases = [
        (dict(workers=0), "--workers"),
        (dict(backend="slurm"), "unknown backend"),
        (dict(backend_options={"address": "x"}), "local backend takes no options"),
    ]
    for kwargs, message in cases:
        with pytest.raises(UsageError, match=message):
            eval_run.run_eval(_items(), agent_config=agent_config(), evaluator_config=EvaluatorConfig(), out_dir=out,
                              **kwargs)
    with pytest.raises(UsageError, match="more than once"):
        eval_run.run_eval(_items([ITEMS[0], ITEMS[0]]), agent_config=agent_config(),
                          evaluator_config=EvaluatorConfig(), out_dir=out)
    with pytest.raises(UsageError, match="evaluator listener"):
        eval_run.run_eval(_items(), agent_config=agent_config(), evaluator_config=EvaluatorConfig(listener={"kind": "nope"}),
                          out_dir=out)
    assert not out.exists()


def test_evaluator_config_from_a_file_or_a_listener_name(tmp_path):
    p = tmp_path / "evaluator.toml"
    p.write_text('min_confidence = 0.2\n[listener]\nkind = "yamnet"\nthreshold = 0.3\n')
    cfg = eval_run.load_evaluator_config(p)
    assert cfg.min_confidence == 0.2 and cfg.listener == {"kind": "yamnet", "threshold": 0.3}
    assert eval_run.load_evaluator_config(listener="tone").listener == {"kind": "tone"}
    with pytest.raises(UsageError, match="not both"):
        eval_run.load_evaluator_config(p, listener="tone")
    p.write_text("min_confidence = 2\n")
    with pytest.raises(UsageError, match="min_confidence"):
        eval_run.load_evaluator_config(p)


# ---- statistics, against hand-computed values ------------------------------------------------


def test_mean_ci_is_a_student_t_interval():
    mean, low, high, n = mean_ci([1.0, 2.0, None, 3.0, 4.0, float("nan")])
    # sd = sqrt(5/3) = 1.290994; t(0.975, 3) = 3.182446; half = 3.182446 * 1.290994 / 2 = 2.054260
    assert n == 4 and mean == 2.5
    assert math.isclose(low, 2.5 - 2.054260, abs_tol=1e-5) and math.isclose(high, 2.5 + 2.054260, abs_tol=1e-5)
    # 90%: t(0.95, 3) = 2.353363
    _, low90, _, _ = mean_ci([1, 2, 3, 4], level=0.90)
    assert math.isclose(low90, 2.5 - 2.353363 * 1.290994 / 2, abs_tol=1e-5)
    assert mean_ci([0.7]) == (0.7, None, None, 1)
    assert mean_ci([None]) == (None, None, None, 0)
    assert mean_ci([0.5, 0.5, 0.5]) == (0.5, 0.5, 0.5, 3)


def test_proportion_ci_is_a_wilson_interval():
    # 3 of 3: centre (1 + z²/6) / (1 + z²/3) = 0.719254, half z·sqrt(z²/36) / (1 + z²/3) = 0.280746
    rate, low, high, n = proportion_ci(3, 3)
    assert (rate, n) == (1.0, 3) and math.isclose(low, 0.438503, abs_tol=1e-5) and math.isclose(high, 1.0)
    assert proportion_ci(0, 0) == (None, None, None, 0)


def _row(item, rnd, f1, score, *, final=False, best=None, rounds=2, accepted=False, failed=False, eval_s=0.1):
    return {"item_id": item, "round": rnd, "event_f1": f1, "critic_score": score, "final": final,
            "best_so_far": best if best is not None else rnd, "rounds_used": rounds, "accepted": accepted,
            "round_failed": failed, "wall_s": {"generate": 1.0, "listen": 0.5}, "agent_wall_s": 1.5 * rounds,
            "eval_wall_s": eval_s, "item_wall_s": 1.5 * rounds + eval_s * rounds, "graded_by": "yamnet", "error": ""}


def test_summaries_per_round_per_budget_and_final():
    rows = [
        # a: round 1 scored better, so it is the answer with one revision
        _row("a", 0, 0.2, 0.5, best=0), _row("a", 1, 0.6, 0.9, final=True, best=1),
        # b: round 1 scored worse; the best so far stays round 0
        _row("b", 0, 0.8, 0.7, final=True, best=0), _row("b", 1, 0.4, 0.6, best=0),
        # c: accepted on round 0, so it counts with its final answer at every budget
        _row("c", 0, 1.0, 0.95, final=True, rounds=1, accepted=True),
        # d: crashed
        {"item_id": "d", "round": None, "final": False, "error": "boom", "rounds_used": 0, "wall_s": {}},
    ]
    groups = item_rows(rows)
    assert [r["event_f1"] for r in budget_rows(groups, 0)] == [0.2, 0.8, 1.0]
    assert [r["event_f1"] for r in budget_rows(groups, 1)] == [0.6, 0.8, 1.0]
    s = summarize(rows)
    assert s["items"] == {"total": 4, "completed": 3, "failed": 1} and s["failed"] == {"d": "boom"}
    assert s["metrics"] == ["event_f1"]
    assert math.isclose(s["final"]["event_f1"]["mean"], 0.8)
    assert s["per_round"]["0"]["event_f1"]["n"] == 3 and s["per_round"]["1"]["event_f1"]["n"] == 2
    assert math.isclose(s["per_round"]["1"]["event_f1"]["mean"], 0.5)
    assert math.isclose(s["per_budget"]["0"]["event_f1"]["mean"], 2.0 / 3.0)
    assert math.isclose(s["per_budget"]["1"]["event_f1"]["mean"], 0.8)
    assert s["rounds_used"] == {"1": 1, "2": 2}
    assert math.isclose(s["process"]["accept_rate"]["mean"], 1 / 3)
    assert math.isclose(s["process"]["wall_s_per_node"]["generate"]["mean"], 5 / 3)  # 2 + 2 + 1 rounds
    # evaluator: 0.2 + 0.2 + 0.1 s of 3.2 + 3.2 + 1.6 s
    assert math.isclose(s["process"]["evaluator_share"], 0.5 / 8.0)
    assert np.isclose(s["process"]["critic_score"]["mean"], (0.9 + 0.7 + 0.95) / 3)


def test_item_ids_become_safe_folder_names():
    assert eval_run.item_folder("dog-horn_1.a") == "dog-horn_1.a"
    odd = eval_run.item_folder("Ω sound #1")
    assert odd.startswith("sound_1-") and odd != eval_run.item_folder("Ω sound #2")


def test_a_rate_interval_stays_inside_its_range():
    from ualm_agent.evaluation.stats import UNIT, mean_ci

    mean, low, high, n = mean_ci([1.0, 1.0, 0.5, 1.0], bounds=UNIT)
    assert n == 4 and mean == 0.875 and high == 1.0 and 0.0 <= low < 0.875
    assert mean_ci([1.0, 1.0, 0.5, 1.0])[2] > 1.0  # unbounded, the t-interval passes 1
