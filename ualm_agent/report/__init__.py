"""Self-contained HTML reports: one page per run folder, and an index for eval and ablation folders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import artifacts
from ..errors import UsageError


@dataclass
class Written:
    """What ``write_report`` made: the page, its kind ("run" or "index"), and items whose report failed."""

    path: Path
    kind: str
    failures: list[str] = field(default_factory=list)


def write_report(folder: str | Path, out: str | Path | None = None, *, overwrite: bool = False) -> Written:
    """A run folder gets report.html; an eval or ablation folder gets index.html (and every item its report).

    The folder's own report pages are remade each time; a file named by ``out`` is never replaced
    unless ``overwrite`` says so.
    """
    from .index_page import is_eval_folder, write_index
    from .run_page import write_run_report

    folder = Path(folder)
    if not folder.exists():
        raise UsageError(f"{folder} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; give a run folder or an eval or ablation output folder")
    if out is not None:
        _check_target(Path(out), overwrite)
    if (folder / artifacts.RUN_META).is_file():
        return Written(write_run_report(folder, out), "run")
    # Before a bare summary.json: eval and ablation folders write one too.
    if is_eval_folder(folder):
        path, failures = write_index(folder, out)
        return Written(path, "index", failures)
    if (folder / "summary.json").is_file():
        return Written(write_run_report(folder, out), "run")
    raise UsageError(
        f"{folder} is neither a run folder (summary.json) nor an eval or ablation folder "
        "(items/<id>/<run>/, configs/<name>/ or plots/*.png)"
    )


def _check_target(out: Path, overwrite: bool) -> None:
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give the file to write, e.g. {out / 'report.html'}")
    if out.exists() and not overwrite:
        raise UsageError(f"--out {out} exists; pass --overwrite to replace it, or choose another file")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")


__all__ = ["Written", "write_report"]
