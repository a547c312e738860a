"""The ``ualm-agent`` command line (typer + rich). Heavy modules load per command."""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Optional

import typer

from .display import printable

app = typer.Typer(
    name="ualm-agent",
    help="Plan, generate, listen, critique and revise audio with the UALM-Reason loop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}


def _debug() -> bool:
    return _state["debug"] or os.environ.get("UALM_AGENT_DEBUG", "") not in ("", "0")


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _fail(message: str, code: int) -> None:
    # Escaped: a message may hold brackets, e.g. pip install 'ualm-agent[ray]', and the user's own
    # text (a prompt, a file name) with control characters.
    _stderr().print(f"[bold red]error:[/] {_shown(message)}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(fn):
    """One-line messages and exit codes: 2 for usage errors, 1 for runtime errors."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .errors import UalmAgentError

        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except UalmAgentError as exc:
            # --debug adds the traceback but keeps the exit code, so scripts see the same 2 or 1 either way.
            if _debug():
                traceback.print_exc()
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # anything unexpected is still one line unless debugging
            from .errors import disk_full, no_space_message

            if _debug():
                traceback.print_exc()
            if disk_full(exc):
                _fail(f"{no_space_message(exc, os.getcwd())}; free some space and try again", 1)
            hint = "" if _debug() else " (rerun with --debug for the traceback)"
            _fail(f"{type(exc).__name__}: {exc}{hint}", 1)

    return wrapper


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks (or set UALM_AGENT_DEBUG=1)."),
) -> None:
    _state["debug"] = debug


def _config(config_file: Optional[Path], **overrides: Any):
    from .config import AgentConfig

    return AgentConfig.load(config_file, **overrides)


def _shown(text: Any) -> str:
    """Text from a user or a model, ready for rich markup: control characters escaped, brackets literal."""
    from rich.markup import escape

    return escape(printable(text))


def _caption_text(caption: Any) -> str:
    """A rich caption's text form with its assumptions, ready for a terminal."""
    assumed = "".join(f"\n- {a}" for a in caption.assumptions)
    return printable(caption.to_text() + (f"\nAssumptions:{assumed}" if assumed else ""), multiline=True)


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _progress_printer():
    console = _stderr()

    def show(event: dict[str, Any]) -> None:
        where = f"round {event['round']}" if event.get("round") is not None else ""
        console.print(f"[dim]{where:>8}[/] [cyan]{event['node']:<9}[/] {_shown(event['message'])}", markup=True,
                      soft_wrap=True)

    return show


def _ask_user(questions):
    from rich.prompt import Prompt

    console = _stderr()
    answers = {}
    for q in questions:
        try:
            answers[q.key] = Prompt.ask(
                q.text, console=console, choices=q.choices or None, default=q.default or None, show_choices=bool(q.choices)
            )
        except EOFError:
            answers[q.key] = q.default
    return answers


def _review_round(payload: dict[str, Any]) -> str:
    """Show a round (audio file, what was heard, the critic's issues) and read the user's word on it."""
    from rich.prompt import Prompt

    console = _stderr()
    console.print(f"[bold]round {payload['round']}[/] audio: {_shown(payload['audio'])}", soft_wrap=True)
    console.print(f"  heard: {_shown(payload['heard_summary'])}", soft_wrap=True)
    if payload.get("score") is not None:
        console.print(f"  critic: score {payload['score']:.2f}, {payload['verdict']}")
    for issue in payload.get("issues", []):
        console.print(f"  - {issue['kind']}: {_shown(issue['message'])}", soft_wrap=True)
    if payload.get("error"):
        console.print(f"[red]{_shown(payload['error'])}[/]", soft_wrap=True)
    if payload.get("rounds_left") == 0:
        # Words about what is wrong would change nothing now: the run ends after this round.
        question = "last round: accept, or Enter to keep the best round"
    else:
        question = f"accept, stop, or say what is wrong (Enter: the critic decides; {payload.get('rounds_left')} round(s) left)"
    try:
        return Prompt.ask(question, console=console, default="", show_default=False)
    except EOFError:
        return "continue"


def _evaluator(path: Optional[Path], listener: Optional[str], configured: Optional[dict[str, Any]]):
    """The evaluator's settings: the file or listener given, else the agent config's [evaluator] table."""
    from .evaluation.run import load_evaluator_config

    if path is None and listener is None and configured is not None:
        from .evaluation.evaluator import EvaluatorConfig

        return EvaluatorConfig.model_validate(configured)  # checked when the agent config loaded
    return load_evaluator_config(path, listener=listener)


ROLE_OPTIONS = ("planner", "generator", "vae", "listener", "captioner", "critic", "reviser")


@app.command()
@handle_errors
def run(
    prompt: str = typer.Argument(..., help="What to make, e.g. \"brass followed by percussion\"."),
    reflect: Optional[int] = typer.Option(None, "--reflect", "-r", help="Maximum revisions after the first take (0 = single shot)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed; the same seed gives identical files."),
    duration: Optional[float] = typer.Option(None, "--duration", "-d", help="Clip length in seconds when the prompt gives none."),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="Folder that receives the run folder."),
    config_file: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML config file."),
    planner: Optional[str] = typer.Option(None, help="Planner backend."),
    generator: Optional[str] = typer.Option(None, help="Generator backend."),
    vae: Optional[str] = typer.Option(None, help="VAE backend."),
    listener: Optional[str] = typer.Option(None, help="Listener backend."),
    captioner: Optional[str] = typer.Option(None, help="Captioner backend."),
    critic: Optional[str] = typer.Option(None, help="Critic backend."),
    reviser: Optional[str] = typer.Option(None, help="Reviser backend."),
    codec: Optional[str] = typer.Option(None, help="Codec backend for a round trip after generation (e.g. xcodec, encodec)."),
    model: Optional[list[str]] = typer.Option(
        None, "--model", "-m", help="Model id or local folder for the backends that take one; ROLE=MODEL for one role. Repeatable."
    ),
    device: Optional[str] = typer.Option(None, "--device", help="auto, cpu, cuda or cuda:N for torch backends."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="auto, float32, float16 or bfloat16 for torch backends."),
    samples: Optional[Path] = typer.Option(None, "--samples", help="Folder of labelled audio files for the composer."),
    interactive: bool = typer.Option(
        False, "--interactive", "-i",
        help="Ask clarifying questions, and after each critique let you accept, say what is wrong, or stop."
    ),
    candidates: Optional[int] = typer.Option(
        None, "--candidates", "-k", help="Takes generated and heard per round (1-8); the critic's best goes on."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON summary on stdout."),
) -> None:
    """Run the loop: plan → generate → listen → caption → critique → revise."""
    from . import runner
    from .errors import UsageError

    if samples is not None and not samples.is_dir():
        raise UsageError(f"--samples {samples} is not a folder")
    cfg = _config(
        config_file,
        **{"loop.reflect": reflect, "seed": seed, "duration_s": duration, "loop.interactive": interactive or None},
        **{"loop.candidates": candidates},
        **{"planner": planner, "generator": generator, "vae": vae, "listener": listener},
        **{"captioner": captioner, "critic": critic, "reviser": reviser, "codec": codec},
        **{"device": device, "dtype": dtype},
    )
    _apply_models(cfg, model or [])
    if cfg.device and cfg.device.startswith("cuda"):
        from .devices import resolve_device

        resolve_device(cfg.device)  # no GPU: a usage error now, not after the plan
    if samples is not None:
        from .config import ComponentSpec

        cfg.generator = ComponentSpec(kind=cfg.generator.kind, **{**cfg.generator.settings(), "samples": str(samples)})
    result, run_dir = runner.run(
        prompt, cfg, out_root=out, progress=_progress_printer(), ask=_ask_user if cfg.loop.interactive else None,
        review=_review_round if cfg.loop.interactive else None,
    )
    _report(result, run_dir, as_json)


def _apply_models(cfg, models: list[str]) -> None:
    from .errors import UsageError
    from .roles import ROLES

    for value in models:
        role, sep, rest = value.partition("=")
        if Path(value).expanduser().exists() or not sep:  # a folder may hold "=" (lr=1e-4/ckpt)
            cfg.set_model(value)
        elif role in ROLES:
            cfg.set_model(rest, role)
        else:
            raise UsageError(f"--model {value}: {role!r} is not a role, and no such folder exists; use ROLE=MODEL "
                             f"with a role from {', '.join(ROLES)}")


def _report(result, run_dir: Path, as_json: bool) -> None:
    summary = {
        "run_dir": str(run_dir),
        "final": str(run_dir / "final.wav"),
        "best_round": result.best_index,
        "accepted": result.accepted,
        "rounds": [
            {"index": r.index, "score": None if r.critique is None else r.critique.score, "failed": r.failed,
             "issues": [] if r.critique is None else [i.message for i in r.critique.issues]}
            for r in result.rounds
        ],
        "result": result.model_dump(mode="json"),
    }
    if as_json:
        _emit_json(summary)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(result.rounds)} round(s); best: {result.best_index}")
    for col in ("round", "score", "issues"):
        table.add_column(col)
    for r in summary["rounds"]:
        score = "failed" if r["failed"] else ("-" if r["score"] is None else f"{r['score']:.2f}")
        table.add_row(str(r["index"]), score, _shown("; ".join(r["issues"]) or "none"))
    console = Console(stderr=True, highlight=False)
    console.print(table)
    chosen = result.best or (result.rounds[-1] if result.rounds else None)
    if chosen is not None:
        # What the toolkit changed or could not honour is stated, never silent.
        for heading, lines in (("Assumptions", chosen.plan.assumptions), ("Generator notes", chosen.notes)):
            if lines:
                console.print(f"{heading} (round {chosen.index}):", markup=False, soft_wrap=True)
                for line in lines:
                    console.print(f"  - {printable(line)}", markup=False, soft_wrap=True)
    print(printable(str(run_dir / "final.wav")))


@app.command()
@handle_errors
def resume(
    run_dir: Path = typer.Argument(..., help="A run folder made by `ualm-agent run`."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON summary on stdout."),
) -> None:
    """Continue a killed run from its last checkpoint without redoing finished rounds."""
    from . import runner

    result = runner.resume(run_dir, progress=_progress_printer(), ask=_ask_user, review=_review_round)
    _report(result, run_dir, as_json)


@app.command()
@handle_errors
def report(
    folder: Path = typer.Argument(..., help="A run folder, or an eval or ablation output folder."),
    out: Optional[Path] = typer.Option(
        None, "--out", "-o", help="The page to write (default FOLDER/report.html, or FOLDER/index.html for an eval folder)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the --out file if it exists."),
) -> None:
    """Write a self-contained HTML report: per round a spectrogram with plan and heard events, audio and critique."""
    from .report import write_report

    written = write_report(folder, out, overwrite=overwrite)
    for line in written.failures:
        _stderr().print(f"[yellow]warning:[/] no report for {_shown(line)}", markup=True, soft_wrap=True)
    print(printable(str(written.path)))


@app.command()
@handle_errors
def plan(
    prompt: Optional[str] = typer.Argument(None, help="A prompt to plan."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="A text file with one prompt per line."),
    duration: Optional[float] = typer.Option(None, "--duration", "-d", help="Clip length when the prompt gives none."),
    config_file: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML config file."),
    planner: Optional[str] = typer.Option(None, help="Planner backend."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per prompt, one per line."),
) -> None:
    """Turn prompts into rich captions (keywords, layout, description)."""
    from .builders import build_component
    from .errors import UsageError
    from .runner import check_prompt

    if (prompt is None) == (file is None):
        raise UsageError("give either a PROMPT or --file PROMPTS.txt")
    cfg = _config(config_file, duration_s=duration, planner=planner)
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
        items = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
        if not items:
            raise UsageError(f"{file} has no prompts")
    else:
        items = [(None, prompt)]
    planner_obj = build_component("planner", cfg)
    bad = 0
    for lineno, text in items:
        try:
            caption = planner_obj.plan(check_prompt(text), duration_s=cfg.duration_s)
        except UsageError as exc:
            bad += 1
            where = f"{file}:{lineno}: " if lineno else "error: "
            _stderr().print(printable(f"{where}{exc}"), markup=False, highlight=False, soft_wrap=True)
            continue
        if as_json:
            _emit_json({"prompt": text, "text": caption.to_text(), "caption": caption.model_dump(mode="json")})
        else:
            print(f"# {printable(text)}\n{_caption_text(caption)}\n")
    if bad:
        raise typer.Exit(2)


@app.command()
@handle_errors
def listen(
    audio_file: Path = typer.Argument(..., help="An audio file (WAV, FLAC, OGG)."),
    listener: Optional[str] = typer.Option(None, help="Listener backend."),
    captioner: Optional[str] = typer.Option(None, help="Captioner backend."),
    config_file: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML config file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """What the listener hears: timed events, loudness, balance, and a rich caption."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from .audio_stream import probe_audio
    from .builders import build_component
    from .listening import listen_to_file, streams

    source = probe_audio(audio_file)
    cfg = _config(config_file, listener=listener, captioner=captioner)
    hearer = build_component("listener", cfg)
    # A streamed file shows a bar on stderr (stdout stays the result alone): live on a terminal and
    # gone when done; elsewhere rich writes its final state once, unless an error ends the stream.
    console = _stderr()
    bar = Progress(TextColumn("listening"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                   TimeRemainingColumn(), console=console, transient=console.is_terminal,
                   disable=not streams(hearer, source))
    task = bar.add_task("listening", total=source.duration_s)
    bar.start()
    try:
        observation, audio = listen_to_file(hearer, source, progress=lambda done_s: bar.update(task, completed=done_s))
    except BaseException:
        bar.live.transient = True  # the error's one line stands alone
        bar.live.stop()
        raise
    bar.stop()
    caption = build_component("captioner", cfg).caption(observation, audio=audio)
    if as_json:
        _emit_json({"observation": observation.model_dump(mode="json"), "caption": caption.model_dump(mode="json"),
                    "text": caption.to_text()})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{_shown(audio_file)} ({observation.duration_s:.2f} s, "
                  f"{'n/a' if observation.loudness_lufs is None else f'{observation.loudness_lufs:.1f} LUFS'},"
                  f" balance {observation.balance:+.2f})")
    for col in ("event", "start", "end", "confidence"):
        table.add_column(col)
    for e in observation.events:
        table.add_row(_shown(e.label), f"{e.start_s:.2f}", f"{e.end_s:.2f}", f"{e.confidence:.2f}")
    Console().print(table)
    print(_caption_text(caption))


@app.command()
@handle_errors
def components(as_json: bool = typer.Option(False, "--json", help="Print JSON only.")) -> None:
    """List every backend per role, with its availability and install hint."""
    from . import registry

    rows = []
    for role, backends in registry.all_backends().items():
        if not backends:
            rows.append({"role": role, "name": None, "available": False, "reason": "no backend installed",
                         "origin": None, "description": "", "install": "", "weights": ""})
        notes: dict[int, str] = {}
        for b in backends:
            ok, reason = b.availability()
            if id(b) not in notes:  # one lookup per backend, however many roles it serves
                notes[id(b)] = b.default_weights() if ok else ""
            rows.append({"role": role, "name": b.name, "available": ok, "reason": reason, "origin": b.origin,
                         "description": b.description, "install": b.install, "weights": notes[id(b)]})
    for line in registry.plugin_failures():
        rows.append({"role": None, "name": None, "available": False, "reason": line, "origin": "plugin",
                     "description": "", "install": "", "weights": ""})
    if as_json:
        _emit_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ualm-agent components")
    for col in ("role", "name", "available", "description / how to install", "default weights"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["role"] or "-", r["name"] or "-", "yes" if r["available"] else "no",
            _shown(r["reason"] or (r["description"] + (f" (install: {r['install']})" if r["install"] else ""))),
            _shown(r["weights"])
        )
    Console().print(table)


@app.command()
@handle_errors
def samples(folder: Path = typer.Argument(..., help="A folder of recordings, as given to run --samples.")) -> None:
    """Label a folder of recordings (by name, else by listening), refresh its index, and list each file's labels."""
    from .components.generators.samples import SampleLibrary
    from .errors import UsageError

    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    notes: list[str] = []
    files = SampleLibrary(folder, notes=notes).files()
    from rich.console import Console
    from rich.table import Table

    table = Table(title=_shown(f"recordings in {folder}"))
    for col in ("file", "labels", "from"):
        table.add_column(col, overflow="fold")
    for path, labels in files.items():
        heard = [f"{x.name} ({x.score:.2f})" if x.origin == "listener" else x.name for x in labels]
        table.add_row(_shown(path.relative_to(folder).as_posix()), _shown("; ".join(heard)),
                      "/".join(dict.fromkeys(x.origin for x in labels)))
    Console().print(table)
    for note in notes:
        _stderr().print(printable(note), markup=False, soft_wrap=True)


@app.command()
@handle_errors
def ablate(
    prompts: Path = typer.Argument(..., help="A JSONL prompt set (one item per line: id, prompt, expected)."),
    grid: list[str] = typer.Option(
        ..., "--grid", "-g", help="KEY=V1,V2,... for any config field (reflect, critique, enrich, listener, "
        "critic.SETTING, loop.accept_score, ...). Repeatable; the grid is every combination."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (must not exist, unless --resume)."),
    config_file: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML config every configuration starts from."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="The configuration to compare with (default: the first)."),
    evaluator_config: Optional[Path] = typer.Option(
        None, "--evaluator-config", help="TOML settings of the evaluator ([listener], [clap], thresholds)."
    ),
    eval_listener: Optional[str] = typer.Option(None, "--eval-listener", help="Listener backend that grades (default yamnet)."),
    workers: Optional[int] = typer.Option(
        None, "--workers", "-w", help="Worker processes (local, default 1) or actors (ray, default: as many as fit)."
    ),
    backend: str = typer.Option("local", "--backend", help="local or ray."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (default: start a local Ray)."),
    gpus_per_worker: float = typer.Option(0.0, "--gpus-per-worker", help="GPUs each Ray worker reserves."),
    resume: bool = typer.Option(False, "--resume", help="Continue an existing output folder."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N items."),
) -> None:
    """Run a grid of configurations on the same items and seeds; compare them with a baseline."""
    from rich.markup import escape

    from .errors import UsageError
    from .evaluation.grid import build_grid
    from .evaluation.items import load_items
    # Everything is checked before anything is written or run.
    if backend not in ("local", "ray"):
        raise UsageError(f"--backend {backend!r}: choose local or ray")
    if backend == "local" and (address is not None or gpus_per_worker):
        raise UsageError("--address and --gpus-per-worker go with --backend ray")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be 1 or more, got {workers}")
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be 1 or more, got {limit}")
    if gpus_per_worker < 0:
        raise UsageError(f"--gpus-per-worker must be 0 or more, got {gpus_per_worker:g}")
    the_grid = build_grid(grid, config_file=config_file, baseline=baseline)
    evaluator = _evaluator(evaluator_config, eval_listener, the_grid.configs[0].config.evaluator)
    items, errors = load_items(prompts)
    for message in errors:
        _stderr().print(f"[yellow]skipped:[/] {_shown(message)}", markup=True, soft_wrap=True)
    items = items[:limit] if limit else items
    if not items:
        raise UsageError(f"{prompts} has no valid items")
    options: dict[str, Any] = {}
    if backend == "ray":
        from .evaluation.ray_backend import import_ray

        import_ray()
        options = {"address": address, "gpus_per_worker": gpus_per_worker}
    from .evaluation.ablation import run_ablation

    console = _stderr()
    console.print(f"{len(the_grid.configs)} configuration(s) × {len(items)} item(s); "
                  f"baseline: {escape(the_grid.baseline.name)}", soft_wrap=True)

    def show(event: dict[str, Any]) -> None:
        if event.get("message"):
            where = _shown(f"{event.get('item_id') or event.get('config') or '':<12}")
            console.print(f"[cyan]{where}[/] {_shown(event['message'])}", markup=True, soft_wrap=True)

    try:
        result = run_ablation(items, the_grid, out_dir=out, evaluator_config=evaluator, workers=workers,
                              backend=backend, backend_options=options, resume=resume, progress=show)
    except KeyboardInterrupt:
        console.print(f"interrupted: finished items are kept in {_shown(out)}; continue with the same command and --resume",
                      soft_wrap=True, highlight=False)
        raise typer.Exit(130) from None
    print(printable(result.markdown_path))


@app.command("eval")
@handle_errors
def eval_command(
    prompts: Path = typer.Argument(..., help="A JSONL prompt set (one item per line: id, prompt, expected)."),
    out: Path = typer.Option(..., "--out", "-o", help="New folder for results.jsonl, summary and plots (or --resume)."),
    config_file: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML config of the agent."),
    evaluator_config: Optional[Path] = typer.Option(
        None, "--evaluator-config", help="TOML settings of the evaluator ([listener], [clap], thresholds)."
    ),
    eval_listener: Optional[str] = typer.Option(None, "--eval-listener", help="Listener backend that grades (default yamnet)."),
    reflect: Optional[int] = typer.Option(None, "--reflect", "-r", help="Maximum revisions after the first take."),
    duration: Optional[float] = typer.Option(None, "--duration", "-d", help="Clip length when a prompt gives none."),
    workers: Optional[int] = typer.Option(
        None, "--workers", "-w", help="Worker processes (local, default 1) or actors (ray, default: as many as fit)."
    ),
    backend: str = typer.Option("local", "--backend", help="local or ray."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (default: start a local Ray)."),
    gpus_per_worker: Optional[float] = typer.Option(None, "--gpus-per-worker", help="GPUs each Ray worker reserves."),
    resume: bool = typer.Option(False, "--resume", help="Continue an existing output folder; done items are skipped."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N items."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON summary on stdout."),
) -> None:
    """Run the agent on every item, grade every round with the evaluator, and summarise with 95% CIs and plots."""
    from .errors import UsageError
    from .evaluation.items import load_items
    from .evaluation.run import BACKENDS, run_eval

    # Everything is checked before anything is written or run.
    if backend not in BACKENDS:
        raise UsageError(f"--backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "local" and (address is not None or gpus_per_worker is not None):
        raise UsageError("--address and --gpus-per-worker go with --backend ray")
    for name, value in (("--workers", workers), ("--limit", limit)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be 1 or more, got {value}")
    cfg = _config(config_file, **{"loop.reflect": reflect, "duration_s": duration})
    evaluator = _evaluator(evaluator_config, eval_listener, cfg.evaluator)
    items, errors = load_items(prompts)
    console = _stderr()
    for message in errors:
        console.print(f"[yellow]skipped:[/] {_shown(message)}", markup=True, soft_wrap=True)
    items = items[:limit] if limit else items
    if not items:
        raise UsageError(f"{prompts} has no valid items")
    options: dict[str, Any] = {}
    if backend == "ray":
        options = {"address": address, "gpus_per_worker": gpus_per_worker or 0.0}

    def show(event: dict[str, Any]) -> None:
        if event["event"] == "item":
            width = len(str(event["total"]))
            style = "red" if event["status"] == "failed" else "cyan"
            console.print(f"[dim]\\[{event['done']:>{width}}/{event['total']}][/] [{style}]{_shown(event['item_id'])}[/] "
                          f"{_shown(event['message'])}", markup=True, soft_wrap=True, highlight=False)
        else:
            console.print(_shown(event["message"]), markup=True, soft_wrap=True, highlight=False)

    try:
        result = run_eval(items, agent_config=cfg, evaluator_config=evaluator, out_dir=out, workers=workers,
                          backend=backend, backend_options=options, resume=resume, progress=show)
    except KeyboardInterrupt:
        console.print(f"interrupted: finished items are in {_shown(out / 'results.jsonl')}; continue with --resume",
                      soft_wrap=True, highlight=False)
        raise typer.Exit(130) from None
    if errors:
        console.print(f"[yellow]{len(errors)} malformed line(s) in {_shown(prompts)} were skipped[/]", markup=True,
                      soft_wrap=True)
    if as_json:
        _emit_json(result.to_dict())
        return
    from rich.table import Table

    summary = result.summary
    items_line = summary["items"]
    console.print(f"{items_line['completed']} of {items_line['total']} item(s) completed, {items_line['failed']} failed; "
                  f"graded by {', '.join(summary['graded_by']) or '-'}", soft_wrap=True, highlight=False)
    table = Table()
    table.add_column("final answer")
    table.add_column("mean [95% CI] (n)")
    from .evaluation.stats import fmt_ci

    for metric in summary["metrics"]:
        table.add_row(metric, fmt_ci(summary["final"][metric]))
    process = summary["process"]
    table.add_row("critic score", fmt_ci(process["critic_score"]))
    table.add_row("rounds used", fmt_ci(process["rounds_used"], 2))
    table.add_row("accept rate", fmt_ci(process["accept_rate"]))
    if result.items_per_minute is not None:
        table.add_row("items/minute", f"{result.items_per_minute:.2f} ({result.ran} item(s) this run)")
    console.print(table)
    print(printable(out / "summary.md"))


def main() -> None:
    import warnings

    if not _debug() and "--debug" not in sys.argv[1:]:
        # Library warnings (numpy RuntimeWarnings, deprecations) are for developers: keep them off the
        # user's terminal, in this process and in the worker processes it starts.
        warnings.simplefilter("ignore")
        os.environ.setdefault("PYTHONWARNINGS", "ignore")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # the command line itself did not parse
        code = getattr(exc, "exit_code", 2)
        ctx = getattr(exc, "ctx", None)
        message = exc.format_message()
        if ctx is not None and message == ctx.get_help():  # a bare `ualm-agent`: its help
            print(message, file=sys.stderr)
        else:
            # One line, as for every other usage error; the command's --help is one step away.
            where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            _stderr().print(f"[bold red]error:[/] {_shown(message + where)}", markup=True, soft_wrap=True)
    except (typer.Abort, KeyboardInterrupt):
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
