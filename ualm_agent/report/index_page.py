"""index.html for an eval or ablation folder: a link to every item's report, and the plots."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from .. import artifacts
from ..errors import UalmAgentError, UsageError
from .embed import data_uri
from .run_page import load_result, write_run_report
from .style import page

INDEX_NAME = "index.html"


def item_run_dirs(folder: Path) -> list[Path]:
    """Run folders under items/ (items/<id>/<run>/ for eval, deeper for ablation grids), sorted.

    A run folder is known by its run.json (written when the run starts), so an item that crashed
    before its summary.json still gets a row saying so.
    """
    items = folder / "items"
    if not items.is_dir():
        return []
    return sorted(p.parent for p in items.rglob(artifacts.RUN_META))


def plot_files(folder: Path) -> list[Path]:
    plots = folder / "plots"
    return sorted(plots.glob("*.png")) if plots.is_dir() else []


def is_eval_folder(folder: Path) -> bool:
    return bool(item_run_dirs(folder) or plot_files(folder))


def write_index(folder: str | Path, out: str | Path | None = None) -> tuple[Path, list[str]]:
    """Write every item's report.html and the folder's index page; returns the page and one line per item that failed."""
    folder = Path(folder)
    target = Path(out) if out is not None else folder / INDEX_NAME
    rows, failures = [], []
    for run_dir in item_run_dirs(folder):
        name = run_dir.parent.relative_to(folder / "items").as_posix()
        if name == ".":
            name = run_dir.name
        try:
            result = load_result(run_dir)
            report = write_run_report(run_dir)
        except UalmAgentError as exc:
            failures.append(f"{name}: {exc}")
            rows.append(f"<tr><td>{escape(name)}</td><td colspan=\"4\" class=\"error\">{escape(str(exc))}</td></tr>")
            continue
        href = Path(os.path.relpath(report, target.parent)).as_posix()
        best = "-" if result.best is None else f"{result.best.score:.2f}"
        rows.append(
            f"<tr data-item=\"{escape(name)}\"><td><a href=\"{escape(href)}\">{escape(name)}</a></td>"
            f"<td>{escape(result.prompt)}</td><td>{len(result.rounds)}</td><td>{best}</td>"
            f"<td>{'yes' if result.accepted else 'no'}</td></tr>"
        )
    body = [f"<header>\n<h1>{escape(folder.resolve().name)}</h1>\n"
            f"<div class=\"muted\">{len(rows)} item run(s), {len(plot_files(folder))} plot(s)</div>\n</header>\n<main>"]
    for md in sorted(folder.glob("*.md")):
        body.append(f"<section class=\"panel\"><h2>{escape(md.name)}</h2><pre>{escape(_read(md))}</pre></section>")
    if rows:
        body.append("<section class=\"panel\"><h2>Items</h2><table><tr><th>item</th><th>prompt</th><th>rounds</th>"
                    "<th>best score</th><th>accepted</th></tr>" + "".join(rows) + "</table></section>")
    figures = [
        f"<figure><img class=\"figure\" alt=\"{escape(p.stem)}\" src=\"{data_uri(p.read_bytes(), 'image/png')}\">"
        f"<figcaption>{escape(p.name)}</figcaption></figure>"
        for p in plot_files(folder)
    ]
    if figures:
        body.append("<section class=\"panel\"><h2>Plots</h2>" + "".join(figures) + "</section>")
    body.append("</main>")
    try:
        artifacts.atomic_write_text(target, page(f"ualm-agent: {folder.name}", "\n".join(body)))
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target, failures


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(unreadable: {exc.strerror or exc})"
