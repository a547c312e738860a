"""Run the agent on every item of a prompt set, grade every round, and summarise.

out_dir/
  eval.json        the agent and evaluator configs (a resumed run must use the same ones)
  results.jsonl    one row per item and round, appended as each item finishes
  summary.json     means with confidence intervals, per round and for the final answer
  summary.md       the same as tables
  plots/*.png      each metric against the reflection round; rounds used
  items/<id>/      each item's normal run folder (ualm_agent.runner.run)

A row holds: item_id, prompt, config_name, attempt, seed, round, final (the run's chosen
round), best_so_far (the round the agent would have chosen had it stopped here),
round_failed, the evaluator's metrics and graded_by, critic_score, verdict, accepted,
rounds_used, wall_s (seconds per node of that round), agent_wall_s, eval_wall_s (this
round's grading), item_wall_s, run_dir, audio, worker and error. An item that crashed has
one row with round None and its error.

The unit of work is one item: ``evaluate_item`` is a top-level function that a worker
process or a cluster task calls; components and evaluators are cached per process, so
models load once per worker. Only the parent writes results.jsonl.

Backends: "local" runs in this process (1 worker) or in worker processes; "ray" hands the
items to ``ualm_agent.evaluation.ray_backend.run_items_ray``. Either yields each item's rows
(``evaluate_item``'s return value) as the items finish, in any order.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..artifacts import exclusive
from ..errors import UalmAgentError, UsageError

if TYPE_CHECKING:
    from ..config import AgentConfig
    from .items import EvalItem

RESULTS = "results.jsonl"
MANIFEST = "eval.json"
BACKENDS = ("local", "ray")

# progress(event): {"event": "start" | "item", "item_id", "done", "total", "status", "message", ...}
ProgressFn = Callable[[dict[str, Any]], None]
RowBatches = Iterator[list[dict[str, Any]]]


@dataclass
class EvalSummary:
    out_dir: Path
    total: int  # items asked for
    ran: int  # items run in this call
    skipped: int  # items already done in results.jsonl
    failed: int  # items of this call that crashed
    wall_s: float
    items_per_minute: float | None
    summary: dict[str, Any] = field(default_factory=dict)  # summary.json

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "results": str(self.out_dir / RESULTS),
            "summary_md": str(self.out_dir / "summary.md"),
            "total": self.total,
            "ran": self.ran,
            "skipped": self.skipped,
            "failed": self.failed,
            "wall_s": self.wall_s,
            "items_per_minute": self.items_per_minute,
            "summary": self.summary,
        }


# ---- one item ---------------------------------------------------------------------------

_EVALUATORS: dict[str, Any] = {}


def _evaluator(evaluator_config: Any) -> Any:
    """One evaluator per config and process, so its listener loads once per worker."""
    from .evaluator import Evaluator

    key = _config_json(evaluator_config)
    if key not in _EVALUATORS:
        _EVALUATORS[key] = Evaluator(evaluator_config)
    return _EVALUATORS[key]


def _config_json(config: Any) -> str:
    if hasattr(config, "model_dump"):
        return json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return json.dumps(config, sort_keys=True, default=str)


def item_folder(item_id: str) -> str:
    """A folder name for an item id; ids that are not plain names get a readable, unique stand-in."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", item_id):
        return item_id
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", item_id).strip("._-")[:60] or "item"
    return f"{slug}-{zlib.crc32(item_id.encode()):08x}"


def one_line_error(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, UalmAgentError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def failed_row(item: "EvalItem", error: str, *, config_name: str, seed: int | None = None,
               item_wall_s: float | None = None) -> dict[str, Any]:
    return {
        "item_id": item.id, "prompt": item.prompt, "config_name": config_name, "seed": seed, "round": None,
        "final": False, "best_so_far": None, "round_failed": None, "critic_score": None, "verdict": None,
        "accepted": False, "rounds_used": 0, "wall_s": {}, "agent_wall_s": None, "eval_wall_s": None,
        "item_wall_s": item_wall_s, "run_dir": None, "audio": None, "worker": os.getpid(), "error": error,
    }


def evaluate_item(
    item: "EvalItem",
    agent_config: "AgentConfig",
    evaluator_config: Any,
    out_dir: str | Path,
    *,
    config_name: str = "eval",
) -> list[dict[str, Any]]:
    """Run the agent on one item with its fixed seed and grade every round; never raises for a bad item.

    Returns one row per round, or one failed row with the error when the item crashed.
    """
    from .. import runner
    from ..audio import read_audio
    from ..graphs.reflection import select_best
    from .evaluator import RESULT_KEYS
    from .items import item_seed

    started = time.perf_counter()
    out_dir = Path(out_dir)
    seed = None
    try:
        seed = int(item_seed(item, agent_config.seed))
        config = agent_config.model_copy(update={"seed": seed})
        result, run_dir = runner.run(item.prompt, config, out_root=out_dir / "items" / item_folder(item.id))
        agent_s = time.perf_counter() - started
        evaluator = _evaluator(evaluator_config)
        rows = []
        for i, rnd in enumerate(result.rounds):
            ref = rnd.audio_out or rnd.audio
            audio_path = None if ref is None else ref.resolve(run_dir)
            # A round without audio has every metric column, empty, so all rows share one layout.
            metrics: dict[str, Any] = dict.fromkeys(RESULT_KEYS)
            eval_s = None
            if ref is not None and not rnd.failed:
                t0 = time.perf_counter()
                try:
                    graded = evaluator.evaluate(item, read_audio(audio_path))
                except Exception as exc:
                    raise UalmAgentError(f"evaluator failed on round {rnd.index}: {one_line_error(exc)}") from exc
                eval_s = time.perf_counter() - t0
                metrics.update({k: _plain(v) for k, v in graded.items()})
            clash = set(metrics) & _AGENT_FIELDS
            if clash:
                raise UalmAgentError(f"the evaluator returned reserved column(s) {sorted(clash)}")
            rows.append({
                "item_id": item.id, "prompt": item.prompt, "config_name": config_name, "seed": seed,
                "round": rnd.index, "final": i == result.best_index,
                "best_so_far": select_best(result.rounds[: i + 1], config.loop.selection),
                "round_failed": rnd.failed,
                **metrics,
                "critic_score": None if rnd.critique is None else rnd.critique.score,
                "verdict": None if rnd.critique is None else rnd.critique.verdict,
                "accepted": result.accepted, "rounds_used": len(result.rounds),
                "wall_s": dict(rnd.timings), "agent_wall_s": agent_s, "eval_wall_s": eval_s,
                "run_dir": _relative(run_dir, out_dir), "audio": None if audio_path is None else _relative(audio_path, out_dir),
                "worker": os.getpid(), "error": rnd.error,
            })
        total = time.perf_counter() - started
        for row in rows:
            row["item_wall_s"] = total
        return rows
    except Exception as exc:  # a crashed item is recorded and the run goes on
        return [failed_row(item, one_line_error(exc), config_name=config_name, seed=seed,
                           item_wall_s=time.perf_counter() - started)]


# Columns the runner owns; an evaluator metric may not reuse them.
_AGENT_FIELDS = frozenset({
    "item_id", "prompt", "config_name", "attempt", "seed", "round", "final", "best_so_far", "round_failed",
    "critic_score", "verdict", "accepted", "rounds_used", "wall_s", "agent_wall_s", "eval_wall_s", "item_wall_s",
    "run_dir", "audio", "worker", "error",
})


def _plain(value: Any) -> Any:
    """A JSON-ready metric: numpy scalars as Python numbers, NaN or infinity as None (no value)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _relative(path: str | Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


# ---- backends ---------------------------------------------------------------------------


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group; only the parent handles it (and stops the workers).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_items_local(
    items: Sequence["EvalItem"],
    *,
    agent_config: "AgentConfig",
    evaluator_config: Any,
    out_dir: Path,
    config_name: str,
    workers: int,
    options: dict[str, Any],
) -> RowBatches:
    """Each item's rows as it finishes: in this process for one worker, else in worker processes."""
    if options:
        raise UsageError(f"the local backend takes no options; got {', '.join(sorted(options))}")
    if workers == 1 or len(items) <= 1:
        for item in items:
            yield evaluate_item(item, agent_config, evaluator_config, out_dir, config_name=config_name)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: a fresh interpreter per worker, safe with the threads that model libraries start.
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(items)), mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init
    )
    try:
        futures = {
            pool.submit(evaluate_item, item, agent_config, evaluator_config, out_dir, config_name=config_name): item
            for item in items
        }
        for future in as_completed(futures):
            try:
                rows = future.result()
            except Exception as exc:  # the worker process died (killed, out of memory)
                rows = [failed_row(futures[future], f"worker process failed: {one_line_error(exc)}",
                                   config_name=config_name)]
            yield rows
    except BaseException:  # Ctrl-C or the caller stopped early: do not wait for running items
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _stop_pool(pool: Any) -> None:
    """Cancel queued items and end the workers now, without waiting for the items they run."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        pool.shutdown(wait=False, cancel_futures=True)
        terminate()
        return
    # shutdown() forgets the worker processes, so take them first.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _run_items_ray(
    items: Sequence["EvalItem"],
    *,
    agent_config: "AgentConfig",
    evaluator_config: Any,
    out_dir: Path,
    config_name: str,
    workers: int | None,
    options: dict[str, Any],
) -> RowBatches:
    """The same work on a Ray cluster (ray_backend.run_items_ray); options: address, gpus_per_worker, num_workers."""
    try:
        from .ray_backend import run_items_ray
    except ImportError as exc:
        raise UsageError(f"--backend ray is not available in this installation ({exc})") from None
    unknown = sorted(set(options) - RAY_OPTIONS)
    if unknown:
        raise UsageError(f"unknown Ray option(s) {', '.join(unknown)}; valid: {', '.join(sorted(RAY_OPTIONS))}")
    return run_items_ray(
        items, agent_config, evaluator_config, out_dir, address=options.get("address"),
        gpus_per_worker=float(options.get("gpus_per_worker") or 0.0), num_workers=options.get("num_workers", workers),
    )


RAY_OPTIONS = frozenset({"address", "gpus_per_worker", "num_workers"})


def _backend(name: str) -> Callable[..., RowBatches]:
    if name == "local":
        return _run_items_local
    if name == "ray":
        return _run_items_ray
    raise UsageError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")


# ---- results.jsonl ----------------------------------------------------------------------


def read_results(path: str | Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The rows of a results file. A last line cut off by a kill is dropped (and cut from the file if ``repair``)."""
    p = Path(path)
    if not p.exists():
        return []
    data = p.read_bytes()
    complete_len = data.rfind(b"\n") + 1
    if complete_len < len(data) and repair:
        with open(p, "r+b") as f:
            f.truncate(complete_len)
    rows = []
    for lineno, line in enumerate(data[:complete_len].decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{p}:{lineno} is not a JSON row ({exc.msg}); fix or remove that line") from None
    return rows


def append_rows(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Append one item's rows in one write, with Ctrl-C held back, so the file never holds half an item."""
    data = "".join(json.dumps(row, allow_nan=False) + "\n" for row in rows).encode("utf-8")
    mask = getattr(signal, "pthread_sigmask", None)
    old = mask(signal.SIG_BLOCK, {signal.SIGINT}) if mask else None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        if mask:
            mask(signal.SIG_SETMASK, old)


# ---- the whole set ----------------------------------------------------------------------


def _manifest(agent_config: "AgentConfig", evaluator_config: Any, config_name: str) -> dict[str, Any]:
    return {
        "config_name": config_name,
        "agent_config": agent_config.model_dump(mode="json"),
        "evaluator_config": json.loads(_config_json(evaluator_config)),
    }


def _prepare_out_dir(out_dir: Path, manifest: dict[str, Any], resume: bool) -> None:
    from ..artifacts import atomic_write_text

    saved_path = out_dir / MANIFEST
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not resume:
            raise UsageError(f"{out_dir} already exists; pass --resume to continue it, or choose another --out")
        if not saved_path.exists():
            raise UsageError(f"{out_dir} is not an eval folder (no {MANIFEST}); choose another --out")
        try:
            saved = json.loads(saved_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{saved_path} is corrupt: {exc}") from None
        changed = [k for k in manifest if saved.get(k) != manifest[k]]
        if changed:
            raise UsageError(
                f"{out_dir} was run with a different {' and '.join(k.replace('_', ' ') for k in changed)}; "
                f"resume it with the settings saved in {saved_path}, or choose another --out"
            )
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(saved_path, json.dumps(manifest, indent=2) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None


def load_evaluator_config(path: str | Path | None = None, *, listener: str | None = None) -> Any:
    """The evaluator's settings from a TOML file (``[listener]``, ``[clap]``, thresholds), or a listener name."""
    import tomllib

    from pydantic import ValidationError

    from ..errors import ConfigError, validation_summary
    from .evaluator import EvaluatorConfig

    if path is not None and listener is not None:
        raise UsageError("give either --evaluator-config FILE or --eval-listener NAME, not both")
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"evaluator config file not found: {p}") from None
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"evaluator config file {p} is not valid TOML: {exc}") from None
    if listener is not None:
        data["listener"] = {"kind": listener}
    try:
        return EvaluatorConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid evaluator config: {validation_summary(exc)}") from None


def check_available(agent_config: "AgentConfig", evaluator_config: Any) -> None:
    """Every backend the agent and the evaluator use is valid and installed, before any item runs."""
    from .. import registry
    from ..errors import ConfigError, ModelUnavailableError
    from ..roles import ROLES

    agent_config.validate_components()
    checks = [(role, agent_config.spec(role), "") for role in ROLES]
    for what, make in (("evaluator listener", "listener_config"), ("evaluator clap", "clap_config")):
        config = getattr(evaluator_config, make)() if hasattr(evaluator_config, make) else None
        if config is not None:
            try:
                config.resolved("listener")  # its settings, checked like the agent's
            except ConfigError as exc:
                raise ConfigError(f"{what}: {exc}") from None
            checks.append(("listener", config.listener, f"{what} "))
    for role, spec, prefix in checks:
        if spec is None:
            continue
        ok, reason = registry.get(role, spec.kind).availability()
        if not ok:
            raise ModelUnavailableError(f"{prefix or role + ' '}{spec.kind!r} is not available: {reason}")


def _check_items(items: Sequence["EvalItem"]) -> None:
    if not items:
        raise UsageError("no items to evaluate")
    seen: set[str] = set()
    folders: dict[str, str] = {}
    for item in items:
        if item.id in seen:
            raise UsageError(f"item id {item.id!r} appears more than once; ids must be unique")
        seen.add(item.id)
        folder = item_folder(item.id)
        if folder in folders:
            raise UsageError(f"item ids {folders[folder]!r} and {item.id!r} map to the same folder {folder!r}")
        folders[folder] = item.id


def run_eval(
    items: Iterable["EvalItem"],
    *,
    agent_config: "AgentConfig",
    evaluator_config: Any,
    out_dir: str | Path,
    workers: int | None = 1,
    backend: str = "local",
    backend_options: dict[str, Any] | None = None,
    resume: bool = False,
    progress: ProgressFn | None = None,
    config_name: str = "eval",
) -> EvalSummary:
    """Run and grade every item not yet done in ``out_dir``; write results, summary and plots.

    ``workers``: worker processes (local) or actors (Ray); None is 1 locally and as many as the
    cluster has room for on Ray. ``backend_options`` (Ray only): ``address``, ``gpus_per_worker``,
    ``num_workers`` (overrides ``workers``).
    """
    items = list(items)
    _check_items(items)
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be 1 or more, got {workers}")
    if workers is None and backend == "local":
        workers = 1
    run_items = _backend(backend)  # an unknown backend fails before anything is written
    if backend == "local" and backend_options:
        raise UsageError(f"the local backend takes no options; got {', '.join(sorted(backend_options))}")
    check_available(agent_config, evaluator_config)
    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir, _manifest(agent_config, evaluator_config, config_name), resume)
    with exclusive(out_dir):  # a second `eval --resume` on this folder is refused, not run twice
        return _run_pending(items, out_dir, run_items, agent_config=agent_config, evaluator_config=evaluator_config,
                            workers=workers, backend=backend, backend_options=backend_options, progress=progress,
                            config_name=config_name)


def _run_pending(items: list["EvalItem"], out_dir: Path, run_items: Callable[..., Any], *, agent_config: "AgentConfig",
                 evaluator_config: Any, workers: int | None, backend: str, backend_options: dict[str, Any] | None,
                 progress: ProgressFn | None, config_name: str) -> EvalSummary:
    results = out_dir / RESULTS
    from .stats import item_rows

    previous = item_rows(read_results(results, repair=True))
    done = {item_id for item_id, rows in previous.items() if any(r.get("round") is not None for r in rows)}
    attempts = {item_id: max(r.get("attempt", 1) for r in rows) for item_id, rows in previous.items()}
    pending = [item for item in items if item.id not in done]
    skipped = len(items) - len(pending)
    total = len(items)
    emit = progress or (lambda event: None)
    emit({"event": "start", "total": total, "pending": len(pending), "skipped": skipped, "workers": workers,
          "backend": backend, "message": f"{len(pending)} item(s) to run, {skipped} already done"})
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    ran = failed = 0
    batches = iter(()) if not pending else run_items(
        pending, agent_config=agent_config, evaluator_config=evaluator_config, out_dir=out_dir,
        config_name=config_name, workers=workers, options=dict(backend_options or {}),
    )
    try:
        for rows in batches:
            item_id = rows[0]["item_id"]
            for row in rows:
                row["config_name"] = config_name
                row["attempt"] = attempts.get(item_id, 0) + 1
            append_rows(results, rows)
            ran += 1
            crashed = rows[0]["round"] is None
            failed += crashed
            emit({"event": "item", "item_id": item_id, "done": skipped + ran, "total": total,
                  "status": "failed" if crashed else "ok", "message": _item_message(rows)})
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    wall = time.perf_counter() - t0
    session = {
        "backend": backend, "workers": workers, "items_run": ran, "items_skipped": skipped, "items_failed": failed,
        "wall_s": wall, "items_per_minute": (ran / wall * 60.0) if ran and wall > 0 else None,
        "started": started_at,
    }
    summary = write_summary(out_dir, session=session, title=f"Evaluation: {config_name}")
    return EvalSummary(out_dir=out_dir, total=total, ran=ran, skipped=skipped, failed=failed, wall_s=wall,
                       items_per_minute=session["items_per_minute"], summary=summary)


def _item_message(rows: list[dict[str, Any]]) -> str:
    first = rows[0]
    if first["round"] is None:
        return f"failed: {first['error']}"
    final = next((r for r in rows if r.get("final")), rows[-1])
    parts = [f"{first['rounds_used']} round(s)", "accepted" if first["accepted"] else "not accepted"]
    if final.get("critic_score") is not None:
        parts.append(f"critic {final['critic_score']:.2f}")
    if final.get("event_f1") is not None:
        parts.append(f"event F1 {final['event_f1']:.2f}")
    parts.append(f"{first['item_wall_s']:.1f} s")
    return ", ".join(parts)


def write_summary(out_dir: str | Path, *, session: dict[str, Any] | None = None, title: str = "Evaluation") -> dict[str, Any]:
    """summary.json, summary.md and plots/ from the folder's results.jsonl; returns the summary."""
    from ..artifacts import atomic_write_text
    from .plots import write_plots
    from .stats import render_markdown, summarize

    out_dir = Path(out_dir)
    summary = summarize(read_results(out_dir / RESULTS), session=session)
    summary["plots"] = [str(p.relative_to(out_dir)) for p in write_plots(summary, out_dir / "plots")]
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    markdown = render_markdown(summary, title=title)
    if summary["plots"]:
        markdown += "\n## Plots\n\n" + "\n".join(f"![{Path(p).stem}]({p})" for p in summary["plots"]) + "\n"
    atomic_write_text(out_dir / "summary.md", markdown)
    return summary
