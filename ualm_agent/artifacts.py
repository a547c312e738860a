"""The run folder: config, round audio, trace, summary and a readable report.

runs/<timestamp>_<slug>/
  run.json         prompt, thread id and status (what ``resume`` needs)
  config.toml      the resolved config
  checkpoint.sqlite
  round_NN_gen.wav generator output (16 kHz mono)
  round_NN.wav     after the vae (48 kHz stereo)
  final.wav        the best round
  trace.jsonl      one line per node update
  summary.json     the RunResult
  report.md        per round: plan, heard, critique, score
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .display import printable
from .errors import UalmAgentError, UsageError
from .files import atomic_write_bytes, atomic_write_text
from .schema import Round, RunResult

RUN_META = "run.json"
LOCK_FILE = ".lock"


def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "run"


def create_run_dir(out_root: str | Path, prompt: str, now: datetime | None = None) -> Path:
    """A new, empty run folder under ``out_root``; never reuses an existing one."""
    root = Path(out_root)
    if (root / RUN_META).exists():
        raise UsageError(f"{root} is an existing run folder; use `ualm-agent resume {root}` or pick another --out")
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}_{slugify(prompt)}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            candidate = root / (base if n == 1 else f"{base}-{n}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            probe = candidate / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
            return candidate
    except OSError as exc:
        raise UsageError(f"cannot write to output folder {root}: {exc.strerror or exc}") from None
    raise UsageError(f"too many runs named {base} in {root}")


@contextmanager
def exclusive(folder: str | Path) -> Iterator[None]:
    """Hold ``folder`` for one writer: a second holder is refused at once, naming the first.

    An OS lock (flock) on the folder itself, so no file can be deleted to get round it, and the
    kernel drops it when the holder exits or is killed: there is never a stale lock. ``.lock``
    inside only says who holds it, and goes when the holder is done.
    """
    folder = Path(folder)
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise UsageError(f"cannot lock {folder}: {exc.strerror or exc}") from None
    note = folder / LOCK_FILE
    try:
        if not _took_lock(fd):
            raise UsageError(f"{folder} is in use by {_holder(note)}; wait for it to finish or stop it, then try again")
        atomic_write_text(note, _holder_text() + "\n")
        try:
            yield
        finally:
            note.unlink(missing_ok=True)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def writer_of(folder: str | Path) -> str:
    """Who is writing ``folder`` now ('' when no one is): the lock tried and let go at once."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return ""
    try:
        return "" if _took_lock(fd) else _holder(Path(folder) / LOCK_FILE)
    finally:
        os.close(fd)  # closing the descriptor releases a lock it took


def _took_lock(fd: int) -> bool:
    """Take the exclusive lock on an open folder now, or say that another process holds it."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(note: Path) -> str:
    try:
        return note.read_text(encoding="utf-8", errors="replace").strip() or "another process"
    except OSError:
        return "another process"


def _holder_text() -> str:
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:2]]) if sys.argv and sys.argv[0] else "python"
    return f"process {os.getpid()} ({command})"


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


class TraceWriter:
    """Appends one JSON line per node update (flushed, so a killed run keeps its trace)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._checked_end = False

    def write(self, node: str, update: Any) -> None:
        line = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "node": node}
        if isinstance(update, dict):
            current = update.get("current")
            if current is not None:
                line["round"] = current.index
            result = update.get("result")
            if isinstance(result, RunResult):  # the folder is recorded as itself, so the trace moves with it
                update = {**update, "result": result.model_copy(update={"run_dir": "."})}
        line["update"] = to_jsonable(update)
        with open(self.path, "a", encoding="utf-8") as f:
            if not self._checked_end:
                # A process killed mid-line left the last line cut: start the next record on its own line.
                self._checked_end = True
                if f.tell() and _last_byte(self.path) != b"\n":
                    f.write("\n")
            f.write(json.dumps(line) + "\n")
            f.flush()


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1)


def read_meta(run_dir: str | Path) -> dict[str, Any]:
    p = Path(run_dir) / RUN_META
    if not p.exists():
        raise UsageError(f"{run_dir} is not a run folder (no {RUN_META})")
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{p} is corrupt: {exc}") from None
    missing = [key for key in ("prompt", "thread_id") if not isinstance(meta, dict) or not isinstance(meta.get(key), str)]
    if missing:
        raise UsageError(f"{p} is corrupt (no {' or '.join(missing)}); the run cannot be resumed, start it again with "
                         "`ualm-agent run`")
    return meta


def write_meta(run_dir: str | Path, meta: dict[str, Any]) -> None:
    atomic_write_text(Path(run_dir) / RUN_META, json.dumps(meta, indent=2) + "\n")


def write_outputs(run_dir: str | Path, result: RunResult) -> None:
    """final.wav, summary.json and report.md for a finished run."""
    run_dir = Path(run_dir)
    if result.final is not None:
        best = result.final.resolve(run_dir)
        if not best.is_file():
            raise UalmAgentError(
                f"the best round's audio {best} is missing from the run folder, so there is no final answer; "
                "start the run again with `ualm-agent run`"
            )
        atomic_write_bytes(run_dir / "final.wav", best.read_bytes())
    # Recorded relative to the folder itself, so it stays right when the folder moves.
    recorded = result.model_copy(update={"run_dir": "."})
    atomic_write_text(run_dir / "summary.json", recorded.model_dump_json(indent=2) + "\n")
    atomic_write_text(run_dir / "report.md", render_report(result))


def render_report(result: RunResult) -> str:
    """report.md. Every value passes through ``printable``: a prompt or a model's text with control
    characters or line breaks can neither reach a terminal raw (``cat report.md``) nor break the page."""
    lines = [f"# {printable(result.prompt)}", ""]
    if result.best_index is not None:
        best = result.rounds[result.best_index]
        verdict = "accepted" if result.accepted else "not accepted"
        lines += [f"Best round: {result.best_index} (score {best.score:.2f}, {verdict}); {len(result.rounds)} round(s).", ""]
    else:
        lines += ["Every round failed.", ""]
    for r in result.rounds:
        title = f"## Round {r.index}"
        if r.failed:
            title += " (failed)"
        elif r.critique is not None:
            title += f" (score {r.critique.score:.2f}, {r.critique.verdict})"
        lines += [title, "", "### Plan", "", *_fenced(r.prompt_text), ""]
        lines += _bullets("Assumptions:", r.plan.assumptions)
        lines += _bullets("Plan edits from the last critique:",
                          [f"{e.kind} {e.label}" + (f" (answers {e.answers})" if e.answers else "") + f": {e.detail}"
                           for e in result.edits_made(r.index)])
        if r.unrendered:
            lines += [f"Could not render: {printable(', '.join(r.unrendered))}", ""]
        lines += _bullets("Generator notes:", r.notes)
        if r.failed:
            lines += [f"Error: {printable(r.error)}", ""]
        if r.heard is not None:
            lines += ["### Heard", "", *_fenced(r.heard.to_text()), ""]
            lines += _bullets("Said of the hearing:", r.heard.assumptions)
        if r.critique is not None:
            lines += ["### Critique", ""]
            if r.critique.issues:
                lines += [f"- **{i.kind}**: {printable(i.message)}" for i in r.critique.issues]
            else:
                lines += ["- no issues"]
            lines.append("")
        if r.candidates:
            lines += ["### Takes", "", *[f"- {printable(line)}" for line in take_lines(r)], ""]
        if r.review is not None:
            lines += ["### Your review", "", f"- {r.review.action}" + (f': "{printable(r.review.text)}"' if r.review.text else "")]
            lines += [f"  - **{i.kind}**: {printable(i.message)}" for i in r.review.issues]
            lines.append("")
        if r.timings:
            lines += ["Timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in r.timings.items()), ""]
    return "\n".join(lines)


def take_lines(r: Round) -> list[str]:
    """One line per take of a round with candidate search: file, seed, score, and which went on."""
    lines = []
    for take in r.candidates:
        ref = take.audio_out or take.audio
        name = Path(ref.path).name if ref is not None else "no audio"
        if take.failed:
            how = f"failed: {take.error}"
        elif take.critique is not None:
            how = f"score {take.critique.score:.2f}, {take.critique.verdict}, {len(take.critique.issues)} issue(s)"
        else:
            how = "not scored"
        chosen = " (went on)" if r.chosen is not None and take is r.candidates[r.chosen] else ""
        lines.append(f"take {take.take}{chosen}: {name}, seed {take.seed}, {how}")
    return lines


def _bullets(heading: str, items: list[str]) -> list[str]:
    return [heading, *[f"- {printable(item)}" for item in items], ""] if items else []


def _fenced(text: str) -> list[str]:
    """A code block whose fence is longer than any run of backticks inside, so the text cannot close it."""
    body = printable(text, multiline=True)
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, body, fence]
