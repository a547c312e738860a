"""Run an ablation grid on one item set and compare every configuration with a baseline.

Each configuration is an ordinary eval run in ``out_dir/configs/<name>/`` (so each resumes on its
own), on the same items with the same per-item seeds. The comparison covers the final answer:
the mean of each metric with its confidence interval, and the difference to the baseline paired by
item (the mean of per-item differences, with a Student-t interval), as ``ablation.csv`` and
``ablation.md``; ``plots/gain_per_round.png`` shows each metric's gain over round 0 per reflection
round for every configuration.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..artifacts import atomic_write_text, exclusive
from ..errors import UalmAgentError, UsageError
from . import stats
from .grid import Grid

GRID_FILE = "grid.json"
CSV_FILE = "ablation.csv"
MD_FILE = "ablation.md"
GAIN_PLOT = "plots/gain_per_round.png"
# Process figures compared next to the evaluator's metrics (from each item's final row).
PROCESS_KEYS = ("critic_score", "accepted", "rounds_used", "agent_wall_s")
_PROCESS_LABELS = {"accepted": "accept_rate", "agent_wall_s": "agent_wall_s"}

# progress(event): {"config": name, "index": i, "total": n, ...} before each configuration, and the
# eval runner's own events in between.
ProgressFn = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Ablation:
    out_dir: Path
    grid: Grid
    rows: dict[str, list[dict[str, Any]]]  # configuration name -> result rows
    table: list[dict[str, Any]]  # one dict per configuration (the CSV's rows)
    metrics: list[str]
    csv_path: Path
    markdown_path: Path
    plot_path: Path | None


def run_ablation(
    items: Sequence[Any],
    grid: Grid,
    *,
    out_dir: str | Path,
    evaluator_config: Any = None,
    workers: int | None = None,
    backend: str = "local",
    backend_options: dict[str, Any] | None = None,
    resume: bool = False,
    progress: ProgressFn | None = None,
    level: float = 0.95,
) -> Ablation:
    """Evaluate every configuration of ``grid`` on ``items`` and write the comparison."""
    from .evaluator import EvaluatorConfig

    out_dir = Path(out_dir)
    if not items:
        raise UsageError("no items to run")
    evaluator_config = evaluator_config if evaluator_config is not None else EvaluatorConfig()
    check_available(grid, evaluator_config)
    with _backend_session(backend, backend_options):  # joined before anything is written
        with prepare_out_dir(out_dir, grid, resume=resume):  # held by this ablation until it ends
            _run_configs(items, grid, out_dir, evaluator_config, workers, backend, backend_options, progress)
            return write_comparison(out_dir, grid, level=level)


@contextmanager
def _backend_session(backend: str, options: dict[str, Any] | None) -> Iterator[None]:
    """On Ray, one connection and one set of actors for every configuration (models stay loaded)."""
    if backend != "ray":
        yield
        return
    from .ray_backend import session

    with session((options or {}).get("address")):
        yield


def _run_configs(items, grid: Grid, out_dir: Path, evaluator_config, workers, backend, backend_options, progress) -> None:
    from .run import run_eval

    for index, config in enumerate(grid.configs):
        folder = config_dir(out_dir, config.folder)
        if progress is not None:
            progress({"event": "config", "config": config.name, "index": index, "total": len(grid.configs),
                      "message": f"configuration {index + 1}/{len(grid.configs)}: {config.name}"})
        run_eval(
            items,
            agent_config=config.config,
            evaluator_config=evaluator_config,
            out_dir=folder,
            workers=workers,
            backend=backend,
            backend_options=backend_options,
            resume=folder.exists(),
            progress=progress,
            config_name=config.name,
        )


@contextmanager
def prepare_out_dir(out_dir: Path, grid: Grid, *, resume: bool) -> Iterator[None]:
    """Hold ``out_dir`` for one writer and record the grid in it; an existing one only with ``resume``
    and the same grid. Checked before the lock, written after it: a refused second ablation changes nothing."""
    write = _check_out_dir(out_dir, grid, resume=resume)
    out_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(out_dir):
        if write:
            atomic_write_text(out_dir / GRID_FILE, json.dumps(grid.describe(), indent=2) + "\n")
        yield


def _check_out_dir(out_dir: Path, grid: Grid, *, resume: bool) -> bool:
    """Whether the grid record must be (re)written; a usage error when the folder cannot be used."""
    record = grid.describe()
    grid_file = out_dir / GRID_FILE
    if out_dir.exists():
        if not resume:
            raise UsageError(f"{out_dir} exists; pass --resume to continue it, or choose another --out")
        if not grid_file.is_file():
            raise UsageError(f"{out_dir} exists but holds no ablation ({GRID_FILE} is missing); choose another --out")
        try:
            before = json.loads(grid_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read {grid_file}: {exc}") from None
        if [c["name"] for c in before.get("configs", [])] != [c["name"] for c in record["configs"]]:
            raise UsageError(
                f"{out_dir} was made with another grid ({'; '.join(c['name'] for c in before.get('configs', []))}); "
                "resume it with the same --grid options, or choose another --out"
            )
        return before.get("baseline") != record["baseline"]
    return True


def check_available(grid: Grid, evaluator_config: Any) -> None:
    """Every backend of every configuration, and the evaluator's, is installed, before the first one runs."""
    from . import run

    for config in grid.configs:
        try:
            run.check_available(config.config, evaluator_config)
        except UalmAgentError as exc:
            if str(exc).startswith("evaluator"):  # the same for every configuration
                raise
            raise type(exc)(f"configuration {config.name}: {exc}") from None


def config_dir(out_dir: Path, folder: str) -> Path:
    return out_dir / "configs" / folder


def read_rows(path: Path) -> list[dict[str, Any]]:
    from .run import read_results

    return read_results(path)


# ---- comparison --------------------------------------------------------------------------


def write_comparison(out_dir: str | Path, grid: Grid, *, level: float = 0.95) -> Ablation:
    """Read every configuration's rows and write ablation.csv, ablation.md and the gain plot."""
    out_dir = Path(out_dir)
    rows = {c.name: read_rows(config_dir(out_dir, c.folder) / "results.jsonl") for c in grid.configs}
    metrics = stats.metric_keys([r for rs in rows.values() for r in rs])
    finals = {name: final_answers(rs) for name, rs in rows.items()}
    table = compare(grid, finals, metrics, level=level)
    csv_path = out_dir / CSV_FILE
    markdown_path = out_dir / MD_FILE
    atomic_write_text(csv_path, render_csv(grid, table, metrics))
    atomic_write_text(markdown_path, render_markdown(grid, table, metrics, level=level))
    gains = {c.name: gain_per_round(rows[c.name], [*metrics, "critic_score"], level=level) for c in grid.configs}
    atomic_write_text(out_dir / "gain_per_round.json", json.dumps(gains, indent=2) + "\n")
    plot_path = plot_gain_per_round(gains, out_dir / GAIN_PLOT, baseline=grid.baseline.name)
    return Ablation(out_dir, grid, rows, table, metrics, csv_path, markdown_path, plot_path)


def final_answers(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    """item id -> the item's final row (None for an item that failed)."""
    out = {}
    for item_id, group in stats.item_rows(rows).items():
        out[item_id] = next((r for r in group if r.get("final")), None)
    return out


def compare(
    grid: Grid, finals: dict[str, dict[str, dict[str, Any] | None]], metrics: Sequence[str], *, level: float = 0.95
) -> list[dict[str, Any]]:
    """One row per configuration: each figure's mean and CI, and its paired difference to the baseline."""
    base = finals[grid.baseline.name]
    table = []
    for config in grid.configs:
        mine = finals[config.name]
        done = [r for r in mine.values() if r is not None]
        row: dict[str, Any] = {
            "config": config.name,
            "baseline": config.name == grid.baseline.name,
            **{f"set:{k}": v for k, v in config.labels.items()},
            "items": len(mine),
            "completed": len(done),
            "failed": len(mine) - len(done),
            "graded_by": sorted({str(r["graded_by"]) for r in done if r.get("graded_by")}),
        }
        for key in [*metrics, *PROCESS_KEYS]:
            label = _PROCESS_LABELS.get(key, key)
            if key == "accepted":  # a rate: a Wilson interval stays inside [0, 1]
                row[label] = stats.proportion_ci(sum(bool(r.get(key)) for r in done), len(done), level)
            else:
                row[label] = stats.mean_ci((_number(r.get(key)) for r in done), level, stats.metric_bounds(key))
            pairs = [
                (_number(r.get(key)), _number(b.get(key)))
                for item_id, r in mine.items()
                if r is not None and (b := base.get(item_id)) is not None
            ]
            diffs = [a - b for a, b in pairs if a is not None and b is not None]
            row[f"{label}:diff"] = stats.mean_ci(diffs, level)
        table.append(row)
    return table


def figure_labels(metrics: Sequence[str]) -> list[str]:
    return [*metrics, *(_PROCESS_LABELS.get(k, k) for k in PROCESS_KEYS)]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, str):
        return None
    if isinstance(value, bool):
        return float(value)
    value = float(value)
    return None if math.isnan(value) else value


def render_csv(grid: Grid, table: list[dict[str, Any]], metrics: Sequence[str]) -> str:
    settings = [f"set:{a.key}" for a in grid.axes]
    header = ["config", "baseline", *(s.removeprefix("set:") for s in settings), "items", "completed", "failed", "graded_by"]
    for label in figure_labels(metrics):
        header += [label, f"{label}_low", f"{label}_high", f"{label}_n"]
        header += [f"{label}_diff", f"{label}_diff_low", f"{label}_diff_high", f"{label}_diff_n"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in table:
        line = [row["config"], str(row["baseline"]).lower(), *(row.get(s, "") for s in settings)]
        line += [row["items"], row["completed"], row["failed"], "+".join(row["graded_by"])]
        for label in figure_labels(metrics):
            for ci in (row[label], row[f"{label}:diff"]):
                mean, low, high, n = ci
                line += [_csv_number(mean), _csv_number(low), _csv_number(high), n]
        writer.writerow(line)
    return buf.getvalue()


def _csv_number(x: float | None) -> str:
    return "" if x is None else f"{x:.6g}"


def render_markdown(grid: Grid, table: list[dict[str, Any]], metrics: Sequence[str], *, level: float = 0.95) -> str:
    pct = round(level * 100)
    labels = figure_labels(metrics)
    base = grid.baseline.name
    lines = [
        "# Ablation",
        "",
        f"{len(grid.configs)} configuration(s) on the same items and seeds; baseline: `{base}`. "
        f"Figures are for the final answer: mean [{pct}% CI] (n), Student-t intervals (Wilson for the accept rate). "
        "Differences are paired by item: the mean of (configuration − baseline) over the items both completed, "
        "with a Student-t interval.",
        "",
    ]
    graded = sorted({g for row in table for g in row["graded_by"]})
    lines += [f"Graded by: {', '.join(graded) or '–'} (the evaluator's listener, not the agent's critic).", ""]
    lower = [m for m in labels if m in metrics and stats.lower_is_better(m)]
    if lower:
        lines += [f"Lower is better for {', '.join(lower)}; higher for the other metrics.", ""]
    lines += ["critic_score and accept_rate are the agent's own judgement; rounds_used and agent_wall_s "
              "(seconds per item) are its cost.", ""]
    lines += ["## Configurations", "", "| configuration | items | completed | failed |", "|---|---|---|---|"]
    lines += [f"| {_md_name(r)} | {r['items']} | {r['completed']} | {r['failed']} |" for r in table]
    lines += ["", f"## Final answer: mean [{pct}% CI] (n)", ""]
    lines += _md_table(table, labels, lambda row, label: _fmt_ci(row[label]))
    lines += ["", f"## Difference to the baseline `{base}`, paired by item: mean [{pct}% CI] (n)", ""]
    lines += _md_table(
        table, labels, lambda row, label: "baseline" if row["baseline"] else _fmt_ci(row[f"{label}:diff"], signed=True)
    )
    lines.append("")
    lines += ["## Gain over round 0 per reflection round", "",
              "The answer with r revisions (the best round up to r) minus round 0's, paired by item.", "",
              f"![gain per reflection round]({GAIN_PLOT})", ""]
    return "\n".join(lines)


def _md_name(row: dict[str, Any]) -> str:
    return f"`{row['config']}`" + (" (baseline)" if row["baseline"] else "")


def _md_table(table, labels, cell) -> list[str]:
    lines = ["| configuration | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for row in table:
        lines.append(f"| {_md_name(row)} | " + " | ".join(cell(row, label) for label in labels) + " |")
    return lines


def _fmt_ci(ci: tuple, *, signed: bool = False) -> str:
    mean, low, high, n = ci
    if mean is None:
        return "–"
    f = (lambda x: f"{x:+.3f}") if signed else (lambda x: f"{x:.3f}")
    if low is None:
        return f"{f(mean)} (n={n})"
    return f"{f(mean)} [{f(low)}, {f(high)}] (n={n})"


# ---- gain per reflection round -----------------------------------------------------------


def gain_per_round(rows: Sequence[dict[str, Any]], keys: Sequence[str], *, level: float = 0.95) -> dict[str, Any]:
    """For each metric, per reflection round r: the mean gain (answer with r revisions − round 0), paired by item.

    The answer with r revisions is the eval runner's budget answer (the best round up to r; an item
    that stopped earlier keeps its final answer), so every completed item counts at every round.
    """
    groups = stats.item_rows(rows)
    rounds = sorted({r["round"] for g in groups.values() for r in g if r.get("round") is not None})
    if not rounds:
        return {}
    start = {r["item_id"]: r for r in stats.budget_rows(groups, rounds[0])}
    out: dict[str, Any] = {}
    for key in keys:
        series = []
        for budget in rounds:
            diffs = []
            for r in stats.budget_rows(groups, budget):
                a, b = _number(r.get(key)), _number(start[r["item_id"]].get(key))
                if a is not None and b is not None:
                    diffs.append(a - b)
            mean, low, high, n = stats.mean_ci(diffs, level)
            series.append({"round": budget, "mean": mean, "low": low, "high": high, "n": n})
        if any(p["n"] for p in series):
            out[key] = series
    return out


def plot_gain_per_round(gains: dict[str, dict[str, Any]], path: Path, *, baseline: str) -> Path | None:
    """One panel per metric: gain over round 0 against the reflection round, a line per configuration.

    Configurations that never revise (a single round) have no gain to draw; a note names them.
    """
    keys = list(dict.fromkeys(k for g in gains.values() for k in g))
    if not keys:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def rounds(series: dict[str, Any]) -> int:
        return max((len(points) for points in series.values()), default=0)

    drawn = {name: series for name, series in gains.items() if rounds(series) > 1} or gains
    single = [name for name in gains if name not in drawn]
    cols = min(3, len(keys) + 1)
    nrows = math.ceil((len(keys) + 1) / cols)  # one more cell for the legend
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.0 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for name, series in drawn.items():
            points = [p for p in series.get(key, []) if p["mean"] is not None]
            if not points:
                continue
            xs = [p["round"] for p in points]
            ys = [p["mean"] for p in points]
            label = name + (" (baseline)" if name == baseline else "")
            (line,) = ax.plot(xs, ys, marker="o", label=label, linewidth=2.4 if name == baseline else 1.4)
            banded = [p for p in points if p["low"] is not None]
            if banded:
                ax.fill_between([p["round"] for p in banded], [p["low"] for p in banded], [p["high"] for p in banded],
                                color=line.get_color(), alpha=0.12, linewidth=0)
        ax.axhline(0.0, color="0.6", linewidth=0.8)
        ax.set_title(key + (" (lower is better)" if stats.lower_is_better(key) else ""), fontsize=10)
        ax.set_xlabel("reflection round")
        ax.set_ylabel("gain over round 0")
        ax.xaxis.get_major_locator().set_params(integer=True)
    spare = list(axes.flat)[len(keys):]
    for ax in spare:
        ax.axis("off")
    handles = {}
    for ax in axes.flat[: len(keys)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    note = "no revision, so not drawn: " + "; ".join(single) if single else None
    spare[0].legend(list(handles.values()), list(handles), loc="center", fontsize=8, frameon=False,
                    title=note, title_fontsize=7)
    fig.suptitle("Metric gain over round 0 per reflection round (answer with r revisions; 95% CI bands)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
