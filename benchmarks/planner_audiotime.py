"""The rules planner on AudioTime-style captions: what its plans get right, before any audio.

Plans every caption of a folder of AudioTime-format files (default: prompts/audiotime_style, captions
written for this project in AudioTime's four task styles) at 10 s and prints five measures: event
recall, order right, timestamps, durations and counts, and for ordering items the mean 1-s segment
F1 of planned against expected spans. Their definitions, and the label rule
(the same AudioSet name, or one family of the critic's table), are in
ualm_agent/evaluation/planner_scores.py.

    python benchmarks/planner_audiotime.py [FOLDER] [--task ordering] [--json OUT] [--show-misses] [--no-minilm]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from ualm_agent.components.planners.rules import RulesPlanner

from ualm_agent.evaluation.items import AUDIOTIME_TASKS
from ualm_agent.evaluation.planner_scores import (
    MEASURES,
    SEGMENT_MEASURE,
    describe_plan,
    load_folder,
    plan_items,
    summarise,
    task_of,
)

DEFAULT_FOLDER = ROOT / "prompts" / "audiotime_style"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER, help="folder of <task>_caption.json files")
    parser.add_argument("--task", choices=AUDIOTIME_TASKS, help="score only this task's file")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the measures (overall and per task) here")
    parser.add_argument("--show-misses", action="store_true", help="print each caption a measure gets wrong, with its plan")
    parser.add_argument("--no-minilm", action="store_true", help="plan without MiniLM (word tables only)")
    args = parser.parse_args(argv)

    items = load_folder(args.folder, args.task)
    if not items:
        parser.error(f"no AudioTime caption files in {args.folder}")
    planner = RulesPlanner(use_minilm=not args.no_minilm)
    started = time.perf_counter()
    results = plan_items(planner, items)
    elapsed = time.perf_counter() - started

    tasks = list(dict.fromkeys(task_of(r.item) for r in results))
    per_task = {t: summarise([r for r in results if task_of(r.item) == t]) for t in tasks}
    overall = summarise(results)
    print(f"planner rules on {len(items)} AudioTime-style captions from {args.folder} ({elapsed:.1f} s)")
    print(f"  {'measure':<13} {'all':>14}  " + "  ".join(f"{t:>13}" for t in tasks))
    for measure in MEASURES:
        cells = [_cell(overall[measure])] + [_cell(per_task[t][measure]) for t in tasks]
        print(f"  {measure:<13} {cells[0]:>14}  " + "  ".join(f"{c:>13}" for c in cells[1:]))
    cells = [_mean_cell(overall[SEGMENT_MEASURE])] + [_mean_cell(per_task[t][SEGMENT_MEASURE]) for t in tasks]
    print(f"  {SEGMENT_MEASURE:<13} {cells[0]:>14}  " + "  ".join(f"{c:>13}" for c in cells[1:]))
    if args.show_misses:
        for r in results:
            if r.missed:
                print(f"\n  miss [{', '.join(r.missed)}] {r.item.id}: {r.item.prompt}")
                wanted = "; ".join(f"{e.label} {_expected(e)}" for e in r.item.expected.events)
                print(f"    expected: {wanted}")
                print(f"    planned:  {describe_plan(r.plan)}{'  ' + r.error if r.error else ''}")
    if args.json:
        payload = {"folder": str(args.folder), "items": len(items), "measures": overall, "per_task": per_task,
                   "misses": [{"id": r.item.id, "caption": r.item.prompt, "missed": r.missed} for r in results if r.missed]}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


def _cell(summary: dict) -> str:
    if summary["share"] is None:
        return "-"
    return f"{summary['share']:.3f} ({summary['right']}/{summary['total']})"


def _mean_cell(summary: dict) -> str:
    if summary["mean"] is None:
        return "-"
    return f"{summary['mean']:.3f} ({summary['items']})"


def _expected(event) -> str:
    if event.spans:
        return ",".join(f"{a:g}-{b:g}" for a, b in event.spans)
    if event.duration_s is not None:
        return f"{event.duration_s:g} s"
    return f"x{event.count}"


if __name__ == "__main__":
    raise SystemExit(main())
