"""index.html for an eval or ablation folder: a link to every item's report, and the plots.

Eval folder:      items/<id>/<run>/, plots/*.png, summary.md
Ablation folder:  configs/<name>/ (each an eval folder), plots/*.png, ablation.md
Only those names are relied on, so the page keeps working as the eval outputs grow.
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path

from .. import artifacts
from ..errors import UalmAgentError, UsageError
from .embed import data_uri
from .run_page import load_result, write_run_report
from .style import page

INDEX_NAME = "index.html"
# The evaluator's per-item figures shown next to each item, when results.jsonl has them.
METRIC_COLUMNS = ("event_f1", "ordering_error", "segment_f1", "duration_l1", "frequency_l1", "clap_score", "judge_score")


def _item_roots(folder: Path) -> list[Path]:
    """items/ of an eval folder, and of each configuration of an ablation folder."""
    return [p for p in [folder / "items", *sorted(folder.glob("configs/*/items"))] if p.is_dir()]


def item_run_dirs(folder: Path) -> list[Path]:
    """Every run folder under the item folders, sorted.

    A run folder is known by its run.json (written when the run starts), so an item that crashed
    before its summary.json still gets a row saying so.
    """
    return sorted(p.parent for root in _item_roots(folder) for p in root.rglob(artifacts.RUN_META))


def plot_files(folder: Path) -> list[Path]:
    plots = folder / "plots"
    return sorted(plots.glob("*.png")) if plots.is_dir() else []


def config_folders(folder: Path) -> list[Path]:
    """An ablation's configurations, each an eval folder of its own."""
    return sorted(p for p in folder.glob("configs/*") if p.is_dir())


def is_eval_folder(folder: Path) -> bool:
    return bool(item_run_dirs(folder) or plot_files(folder) or any(plot_files(c) for c in config_folders(folder)))


def final_rows(eval_dir: Path) -> dict[Path, dict]:
    """results.jsonl's final row of each item, by its run folder; lines that do not parse are left out."""
    rows: dict[Path, dict] = {}
    try:
        lines = (eval_dir / "results.jsonl").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return rows
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and row.get("final") and isinstance(row.get("run_dir"), str):
            rows[(eval_dir / row["run_dir"]).resolve()] = row
    return rows


def _figure(value) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def _names(run_dir: Path, folder: Path) -> tuple[str, str]:
    """(configuration, item) of a run folder: configs/<config>/items/<item>/<run> or items/<item>/<run>."""
    parts = run_dir.relative_to(folder).parts
    cut = parts.index("items")
    config = "/".join(p for p in parts[:cut] if p != "configs")
    item = "/".join(parts[cut + 1:-1]) or run_dir.name
    return config, item


def write_index(folder: str | Path, out: str | Path | None = None) -> tuple[Path, list[str]]:
    """Write every item's report.html and the folder's index page; returns the page and one line per item that failed."""
    folder = Path(folder)
    target = Path(out) if out is not None else folder / INDEX_NAME
    runs = item_run_dirs(folder)
    with_config = any(_names(r, folder)[0] for r in runs)
    finals: dict[Path, dict] = {}
    for eval_dir in [folder, *config_folders(folder)]:
        finals.update(final_rows(eval_dir))
    metrics = [k for k in METRIC_COLUMNS if any(row.get(k) is not None for row in finals.values())]
    rows, failures = [], []
    for run_dir in runs:
        config, item = _names(run_dir, folder)
        name = f"{config}: {item}" if config else item
        lead = f"<td>{escape(config)}</td>" if with_config else ""
        try:
            result = load_result(run_dir)
            report = write_run_report(run_dir)
        except Exception as exc:  # one broken item gets a row saying why; the index still covers the rest
            text = str(exc) if isinstance(exc, UalmAgentError) else f"{type(exc).__name__}: {exc}"
            message = text.replace(str(run_dir), run_dir.name)
            failures.append(f"{name}: {message}")
            rows.append(f"<tr>{lead}<td>{escape(item)}</td>"
                        f"<td colspan=\"{4 + len(metrics)}\" class=\"error\">{escape(message)}</td></tr>")
            continue
        href = Path(os.path.relpath(report, target.parent)).as_posix()
        best = "-" if result.best is None else f"{result.best.score:.2f}"
        final = finals.get(run_dir.resolve(), {})
        figures = "".join(f"<td>{_figure(final.get(k))}</td>" for k in metrics)
        rows.append(
            f"<tr data-item=\"{escape(item)}\">{lead}<td><a href=\"{escape(href)}\">{escape(item)}</a></td>"
            f"<td>{escape(result.prompt)}</td><td>{len(result.rounds)}</td><td>{best}</td>"
            f"<td>{'yes' if result.accepted else 'no'}</td>{figures}</tr>"
        )
    plots = plot_files(folder)
    body = [f"<header>\n<h1>{escape(folder.resolve().name)}</h1>\n"
            f"<div class=\"muted\">{len(rows)} item run(s), {len(plots)} plot(s)</div>\n</header>\n<main>"]
    if rows:
        head = ("<th>configuration</th>" if with_config else "") + (
            "<th>item</th><th>prompt</th><th>rounds</th><th>critic score</th><th>accepted</th>")
        head += "".join(f"<th>{escape(k)}</th>" for k in metrics)
        body.append(f"<section class=\"panel\"><h2>Items</h2><table><tr>{head}</tr>{''.join(rows)}</table></section>")
    if plots:
        body.append(f"<section class=\"panel\"><h2>Plots</h2>{_figures(plots)}</section>")
    body += _texts(folder)
    for config in config_folders(folder):
        inner = "".join(_texts(config, level=3)) + _figures(plot_files(config))
        if inner:
            body.append(f"<section class=\"panel\"><details><summary><b>Configuration {escape(config.name)}</b></summary>"
                        f"{inner}</details></section>")
    body.append("</main>")
    try:
        artifacts.atomic_write_text(target, page(f"ualm-agent: {folder.resolve().name}", "\n".join(body)))
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target, failures


def _texts(folder: Path, level: int = 2) -> list[str]:
    """The folder's markdown summaries (summary.md, ablation.md), shown as written."""
    return [
        f"<section class=\"panel\"><details open><summary><h{level}>{escape(md.name)}</h{level}></summary>"
        f"<pre>{escape(_read(md))}</pre></details></section>"
        for md in sorted(folder.glob("*.md"))
    ]


def _figures(plots: list[Path]) -> str:
    figures = []
    for p in plots:
        try:
            src = data_uri(p.read_bytes(), "image/png")
        except OSError:
            continue
        figures.append(f"<figure><img class=\"plot\" alt=\"{escape(p.stem)}\" src=\"{src}\">"
                       f"<figcaption>{escape(p.name)}</figcaption></figure>")
    return f"<div class=\"plots\">{''.join(figures)}</div>" if figures else ""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(unreadable: {exc.strerror or exc})"
