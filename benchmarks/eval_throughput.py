"""Throughput of `ualm-agent eval` on the shipped prompt set with the default stack.

For each worker count, runs `ualm-agent eval` as a fresh process (as a user would: worker start-up
and model loading included) on the first --limit items of prompts/eval_set.jsonl and reports:
  - items/minute over the eval session (run_eval's own clock: workers start, load and run);
  - items/minute over the whole process (interpreter start and imports included);
  - the CPU seconds per item (the eval process and its workers, start-up included);
  - the evaluator's share of the item time (grading every round with its own listener), and the
    mean agent and evaluator seconds per item.

With --repeats N the worker counts alternate N times and the fastest run of each is reported
(on a shared machine the fastest run is the one least slowed by other work).

    python benchmarks/eval_throughput.py [--limit 12] [--workers 1 2] [--repeats 1] [--out figures.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def shipped_prompts() -> Path:
    from importlib.resources import files

    return Path(str(files("ualm_agent.prompts") / "eval_set.jsonl"))


def run_once(prompts: Path, workers: int, limit: int, out: Path, extra: list[str]) -> dict:
    args = [sys.executable, "-m", "ualm_agent.cli", "eval", str(prompts), "--out", str(out), "--workers", str(workers),
            "--limit", str(limit), "--json", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time of the eval process and its workers: what a run costs whatever else the machine does.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if res.returncode != 0:
        raise SystemExit(f"eval with {workers} worker(s) failed ({res.returncode}):\n{res.stderr[-2000:]}")
    report = json.loads(res.stdout)
    process = report["summary"]["process"]
    return {
        "workers": workers,
        "items": report["ran"],
        "failed": report["failed"],
        "session_s": report["wall_s"],
        "process_s": wall,
        "items_per_minute": report["items_per_minute"],
        "items_per_minute_process": report["ran"] / wall * 60.0,
        "cpu_s_per_item": cpu / max(report["ran"], 1),
        "evaluator_share": process["evaluator_share"],
        "agent_s_per_item": process["agent_wall_s"]["mean"],
        "eval_s_per_item": process["eval_wall_s"]["mean"],
        "rounds_per_item": process["rounds_used"]["mean"],
        "event_f1_final": report["summary"]["final"].get("event_f1", {}).get("mean"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=Path, default=None, help="JSONL prompt set (default: the shipped eval_set.jsonl)")
    ap.add_argument("--limit", type=int, default=12, help="items per run (the first N of the set)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=1, help="alternate the worker counts this many times; keep the fastest")
    ap.add_argument("--reflect", type=int, default=None, help="override loop.reflect (default: the config's)")
    ap.add_argument("--duration", type=float, default=None, help="clip length when a prompt gives none")
    ap.add_argument("--config", type=Path, default=None, help="agent config (default: the default stack)")
    ap.add_argument("--evaluator-config", type=Path, default=None, help="evaluator config (default: YAMNet)")
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    prompts = args.prompts or shipped_prompts()
    extra: list[str] = []
    if args.reflect is not None:
        extra += ["--reflect", str(args.reflect)]
    if args.duration is not None:
        extra += ["--duration", str(args.duration)]
    if args.config is not None:
        extra += ["--config", str(args.config)]
    if args.evaluator_config is not None:
        extra += ["--evaluator-config", str(args.evaluator_config)]
    runs: dict[int, list[dict]] = {w: [] for w in args.workers}
    with tempfile.TemporaryDirectory(prefix="eval-throughput-") as tmp:
        for repeat in range(args.repeats):
            for workers in args.workers:
                runs[workers].append(run_once(prompts, workers, args.limit, Path(tmp) / f"w{workers}-{repeat}", extra))
    rows = [{**max(found, key=lambda r: r["items_per_minute"]), "repeats": len(found),
             "items_per_minute_all": [r["items_per_minute"] for r in found]} for found in runs.values()]
    machine = {"cpus": os.cpu_count(), "load_avg_1min": os.getloadavg()[0], "python": sys.version.split()[0]}
    stack = " ".join(extra) if args.config else " ".join(["default stack", *extra])
    print(f"{prompts.name}, first {args.limit} items, {stack}; "
          f"{machine['cpus']} CPUs, load {machine['load_avg_1min']:.1f}")
    header = ("workers", "items", "session s", "items/min", "items/min (process)", "CPU s/item", "evaluator share",
              "agent s/item", "eval s/item", "rounds/item")
    print(" | ".join(header))
    for r in rows:
        print(" | ".join([
            str(r["workers"]), str(r["items"]), f"{r['session_s']:.1f}", f"{r['items_per_minute']:.1f}",
            f"{r['items_per_minute_process']:.1f}", f"{r['cpu_s_per_item']:.2f}", f"{r['evaluator_share']:.1%}", f"{r['agent_s_per_item']:.2f}",
            f"{r['eval_s_per_item']:.2f}", f"{r['rounds_per_item']:.2f}",
        ]))
    if args.out:
        args.out.write_text(json.dumps({"prompts": str(prompts), "limit": args.limit, "extra_args": extra,
                                        "machine": machine, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
