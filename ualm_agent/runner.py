"""Run the reflection graph durably in a run folder, and resume it after a crash."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import artifacts
from .builders import Components, build_components
from .config import MAX_PROMPT_CHARS, AgentConfig
from .errors import DiskFullError, UalmAgentError, UsageError, disk_full, no_space_message
from .schema import Question, RunResult

# progress(event) receives {"node", "round", "message", ...} from the nodes.
ProgressFn = Callable[[dict[str, Any]], None]
# ask(questions) returns {question key: answer}.
AskFn = Callable[[list[Question]], dict[str, str]]
# review(payload) gets a round's review (audio path, what was heard, the critic's issues) and returns
# "accept", "stop", "continue" or the user's words about what is wrong (graphs/review.py).
ReviewFn = Callable[[dict[str, Any]], Any]


def check_prompt(prompt: str) -> str:
    if not prompt or not prompt.strip():
        raise UsageError("the prompt is empty; describe the sound you want, e.g. \"a dog barks three times\"")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise UsageError(f"the prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
    return prompt.strip()


def run(
    prompt: str,
    config: AgentConfig,
    *,
    out_root: str | Path = "runs",
    components: Components | None = None,
    progress: ProgressFn | None = None,
    ask: AskFn | None = None,
    review: ReviewFn | None = None,
) -> tuple[RunResult, Path]:
    """Plan, generate, listen, critique and revise; returns the result and the run folder."""
    prompt = check_prompt(prompt)
    config.validate_components()
    config = config.with_absolute_paths()
    # Models load before the run folder exists: a wrong model path or missing weights leaves nothing behind.
    components = components if components is not None else build_components(config)
    root_existed = Path(out_root).exists()
    run_dir = artifacts.create_run_dir(out_root, prompt)
    with artifacts.exclusive(run_dir):
        try:
            artifacts.atomic_write_text(run_dir / "config.toml", config.to_toml())
            meta = {"prompt": prompt, "thread_id": uuid.uuid4().hex, "status": "running"}
            artifacts.write_meta(run_dir, meta)
            inp = {"prompt": prompt, "duration_s": config.duration_s, "seed": config.seed}
            result = _drive(run_dir, config, meta, inp, components=components, progress=progress, ask=ask, review=review)
        except UsageError:
            # Refused before any round made audio (e.g. no sound event in the prompt): the run never started.
            if not any(run_dir.glob("round_*.wav")):
                shutil.rmtree(run_dir, ignore_errors=True)
                if not root_existed and not any(Path(out_root).iterdir()):
                    Path(out_root).rmdir()
            raise
    return result, run_dir


def resume(
    run_dir: str | Path,
    *,
    components: Components | None = None,
    progress: ProgressFn | None = None,
    ask: AskFn | None = None,
    review: ReviewFn | None = None,
) -> RunResult:
    """Continue a killed run from its last checkpoint; finished rounds are not redone."""
    run_dir = Path(run_dir)
    meta = artifacts.read_meta(run_dir)
    with artifacts.exclusive(run_dir):
        config = AgentConfig.load(run_dir / "config.toml")
        return _drive(run_dir, config, meta, None, components=components, progress=progress, ask=ask, review=review)


def _drive(
    run_dir: Path,
    config: AgentConfig,
    meta: dict[str, Any],
    inp: dict[str, Any] | None,
    *,
    components: Components | None,
    progress: ProgressFn | None,
    ask: AskFn | None,
    review: ReviewFn | None = None,
) -> RunResult:
    from .graphs.checkpoint import sqlite_saver
    from .graphs.context import AgentContext

    context = AgentContext(config=config, components=components, workdir=str(run_dir))
    saver = None
    try:
        saver = sqlite_saver(run_dir / "checkpoint.sqlite")
        return _stream(run_dir, context, saver, meta, inp, progress=progress, ask=ask, review=review)
    except (OSError, sqlite3.OperationalError) as exc:
        if not disk_full(exc):
            raise
        raise DiskFullError(
            f"{no_space_message(exc, run_dir)}; free some space, then continue with `ualm-agent resume {run_dir}`"
        ) from None
    except sqlite3.DatabaseError as exc:  # a damaged checkpoint file, not a full disk
        raise UalmAgentError(
            f"{run_dir / 'checkpoint.sqlite'} is damaged ({exc}); the run cannot be resumed, start it again with "
            "`ualm-agent run`"
        ) from None
    finally:
        if saver is not None:
            saver.conn.close()


def _stream(run_dir: Path, context: Any, saver: Any, meta: dict[str, Any], inp: dict[str, Any] | None, *,
            progress: ProgressFn | None, ask: AskFn | None, review: ReviewFn | None = None) -> RunResult:
    from langgraph.types import Command

    from .graphs.reflection import build_graph, run_config

    graph = build_graph(checkpointer=saver)
    cfg = run_config(context, meta["thread_id"])
    if inp is None:
        snapshot = graph.get_state(cfg)
        if not snapshot.next and "result" in snapshot.values:
            return _finish(run_dir, meta, snapshot.values["result"])
        pending = _pending(snapshot)
        if not snapshot.values:
            # Stopped before its first step was saved: nothing to keep, so the run starts over.
            inp = {"prompt": meta["prompt"], "duration_s": context.config.duration_s, "seed": context.config.seed}
        elif pending is not None:
            inp = Command(resume=_respond(pending, ask, review))
    trace = artifacts.TraceWriter(run_dir / "trace.jsonl")
    while True:
        interrupted = None
        for mode, chunk in graph.stream(
            inp, cfg, context=context, stream_mode=["updates", "custom"], durability="sync"
        ):
            if mode == "custom":
                if progress is not None:
                    progress(chunk)
                continue
            for node, update in chunk.items():
                if node == "__interrupt__":
                    interrupted = update
                else:
                    trace.write(node, update)
        if interrupted is None:
            break
        inp = Command(resume=_respond(interrupted[0].value, ask, review))
    values = graph.get_state(cfg).values
    return _finish(run_dir, meta, values["result"])


def _pending(snapshot: Any) -> dict[str, Any] | None:
    """The payload of the interrupt the run stopped at, if any."""
    for task in snapshot.tasks:
        for intr in task.interrupts:
            return intr.value
    return None


def _respond(payload: dict[str, Any], ask: AskFn | None, review: ReviewFn | None) -> Any:
    """The answer to an interrupt: a round's review, or the clarifying questions."""
    if payload.get("kind") == "review":
        # Nobody to ask: the critic's verdict stands, as without --interactive.
        return "continue" if review is None else review(payload)
    return _answer([Question.model_validate(q) for q in payload["questions"]], ask)


def _answer(questions: list[Question], ask: AskFn | None) -> dict[str, str]:
    if ask is None:
        # Nobody to ask: take each question's default, as a non-interactive run would assume.
        return {q.key: q.default for q in questions}
    return ask(questions)


def _finish(run_dir: Path, meta: dict[str, Any], result: RunResult) -> RunResult:
    result = result.model_copy(update={"run_dir": str(run_dir)})
    artifacts.write_outputs(run_dir, result)
    artifacts.write_meta(run_dir, {**meta, "status": "complete" if result.final else "failed"})
    if result.final is None:
        errors = "; ".join(dict.fromkeys(r.error for r in result.rounds if r.error)) or "no audio"
        raise UalmAgentError(f"every round failed ({errors}); see {run_dir / 'report.md'}")
    return result
