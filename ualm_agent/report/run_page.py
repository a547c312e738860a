"""report.html for one run folder: every round's picture, sound, plan, hearing and critique."""

from __future__ import annotations

from html import escape
from pathlib import Path

from pydantic import ValidationError

from .. import artifacts
from ..display import printable
from ..errors import UalmAgentError, UsageError
from ..schema import Critique, Issue, Observation, PlanEdit, RichCaption, Round, RunResult
from .embed import AUDIO_MIME, PAGE_RATE, data_uri, locate, page_audio
from .spectrogram import round_figure_png
from .style import kind_colour, page, rgba

REPORT_NAME = "report.html"


def load_result(run_dir: Path) -> RunResult:
    """The run's RunResult from summary.json; a usage error (one line) when missing or corrupt."""
    summary = run_dir / "summary.json"
    if not summary.is_file():
        if (run_dir / artifacts.RUN_META).is_file():
            writer = artifacts.writer_of(run_dir)
            if writer:
                raise UsageError(f"{run_dir} has no summary.json yet: the run is still going ({writer}); report it when it ends")
            raise UsageError(f"{run_dir} has no summary.json: the run has not finished (try `ualm-agent resume {run_dir}`)")
        raise UsageError(f"{run_dir} is not a run folder (no summary.json)")
    try:
        return RunResult.model_validate_json(summary.read_bytes())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise UsageError(f"{summary} is corrupt: {where}: {first['msg']}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {summary}: {exc.strerror or exc}") from None


def write_run_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the run's self-contained HTML report (default RUN_DIR/report.html) and return its path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir} is not a folder")
    result = load_result(run_dir)
    target = Path(out) if out is not None else run_dir / REPORT_NAME
    html = render_run_page(result, run_dir)
    try:
        artifacts.atomic_write_text(target, html)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def render_run_page(result: RunResult, run_dir: Path) -> str:
    header = _header(result)
    rounds = "\n".join(_round_section(r, result, run_dir) for r in result.rounds)
    return page(f"ualm-agent: {printable(result.prompt)}", f"{header}\n<main>\n{_overview(result)}\n{rounds}\n</main>")


def _header(result: RunResult) -> str:
    if result.best is not None:
        verdict = "accepted" if result.accepted else "not accepted"
        line = (f"{len(result.rounds)} round(s); best round {result.best_index} "
                f"(score {result.best.score:.2f}, {verdict})")
    else:
        line = f"{len(result.rounds)} round(s); every round failed"
    return f"<header>\n<h1>{escape(printable(result.prompt))}</h1>\n<div class=\"muted\">{escape(line)}</div>\n</header>"


def _overview(result: RunResult) -> str:
    rows = []
    for r in result.rounds:
        if r.failed:
            score, verdict = "failed", ""
        elif r.critique is None:
            score, verdict = "-", ""
        else:
            score, verdict = f"{r.critique.score:.2f}", r.critique.verdict
        best = " <span class=\"badge best\">best</span>" if r.index == result.best_index else ""
        issues = len(r.critique.issues) if r.critique is not None else 0
        rows.append(f"<tr><td><a href=\"#round-{r.index}\">round {r.index}</a>{best}</td><td>{score}</td>"
                    f"<td>{escape(verdict)}</td><td>{issues}</td></tr>")
    return ("<section class=\"panel\">\n<h2>Rounds</h2>\n<table>\n<tr><th>round</th><th>score</th><th>verdict</th>"
            f"<th>issues</th></tr>\n{''.join(rows)}\n</table>\n</section>")


def _round_section(r: Round, result: RunResult, run_dir: Path) -> str:
    is_best = r.index == result.best_index
    badges = []
    if r.failed:
        badges.append("<span class=\"badge failed\">failed</span>")
    elif r.critique is not None:
        badges.append(f"<span class=\"badge\">score {r.critique.score:.2f}</span>")
        badges.append(f"<span class=\"badge {escape(r.critique.verdict)}\">{escape(r.critique.verdict)}</span>")
    if is_best:
        badges.append("<span class=\"badge best\">best</span>")
    parts = [f"<h2>Round {r.index}{''.join(badges)}</h2>"]
    if r.failed:
        parts.append(f"<p class=\"error\">{escape(r.error or 'failed')}</p>")
    parts.append(_media(r, run_dir))
    parts.append("<div class=\"columns\">")
    edits = _edits(round_edits(result, r.index))
    parts.append(f"<div class=\"plan\"><h3>Plan</h3>{edits}{_plan(r.plan, r.critique, r.unrendered, r.notes)}</div>")
    parts.append(f"<div class=\"heard\"><h3>Heard</h3>{_heard(r.heard, r.observation)}</div>")
    parts.append(f"<div class=\"critique\"><h3>Critique</h3>{_critique(r.critique)}</div>")
    parts.append("</div>")
    if r.candidates:
        items = "".join(f"<li>{escape(printable(line))}</li>" for line in artifacts.take_lines(r))
        parts.append(f"<div class=\"takes\"><h3>Takes</h3><ul>{items}</ul></div>")
    if r.review is not None:
        said = f": &ldquo;{escape(printable(r.review.text))}&rdquo;" if r.review.text else ""
        issues = "".join(f"<li><b>{escape(i.kind)}</b> {escape(printable(i.message))}</li>" for i in r.review.issues)
        parts.append(f"<div class=\"review\"><h3>Your review</h3><p>{escape(r.review.action)}{said}</p>"
                     + (f"<ul>{issues}</ul>" if issues else "") + "</div>")
    if r.timings:
        times = ", ".join(f"{escape(k)} {v:.2f} s" for k, v in r.timings.items())
        parts.append(f"<p class=\"muted\">Time per step: {times}</p>")
    cls = "round best" if is_best else "round"
    return f"<section class=\"{cls}\" id=\"round-{r.index}\" data-round=\"{r.index}\">\n" + "\n".join(parts) + "\n</section>"


def round_edits(result: RunResult, index: int) -> list[PlanEdit]:
    """The typed edits that made round ``index``'s plan (see ``RunResult.edits_made``)."""
    return result.edits_made(index)


def _edits(edits: list[PlanEdit]) -> str:
    if not edits:
        return ""
    items = "".join(
        f"<li class=\"edit\" data-edit=\"{escape(e.kind)}\"><b>{escape(e.kind)}</b> {escape(e.label)}"
        + (f" <span class=\"muted\">(answers {escape(e.answers)})</span>" if e.answers else "")
        + (f": {escape(e.detail)}" if e.detail else "")
        + "</li>"
        for e in edits
    )
    return f"<p class=\"muted\">Edits made for this round:</p><ul class=\"edits\">{items}</ul>"


def _media(r: Round, run_dir: Path) -> str:
    """The figure and the player; the listened-to file (after the vae) when there is one."""
    path = locate(r.audio_out, run_dir, f"round_{r.index:02d}.wav") or locate(r.audio, run_dir, f"round_{r.index:02d}_gen.wav")
    samples, sound, note = None, None, ""
    if path is not None:
        try:
            samples, sound, channels = page_audio(path)
            note = f"{path.name}, played at {PAGE_RATE // 1000} kHz {'stereo' if channels == 2 else 'mono'}"
        except UalmAgentError as exc:
            note = f"audio unreadable: {exc}"
    else:
        note = "no audio for this round"
    duration = r.plan.duration_s
    if samples is not None:
        duration = max(duration, len(samples) / PAGE_RATE)
    png = round_figure_png(r, samples, PAGE_RATE, duration)
    alt = f"Round {r.index}: spectrogram with planned and heard events"
    out = [f"<img class=\"figure\" alt=\"{escape(alt)}\" src=\"{data_uri(png, 'image/png')}\">"]
    if sound is not None:
        out.append(f"<audio controls preload=\"metadata\" src=\"{data_uri(sound, AUDIO_MIME)}\"></audio>")
    out.append(f"<div class=\"muted\">{escape(note)}</div>")
    return "\n".join(out)


def _issue_style(issue: Issue) -> str:
    colour = kind_colour(issue.kind)
    return f"border-color: {colour}; background: {rgba(colour, 0.08 + 0.22 * issue.severity)}"


def _kind_tag(issue: Issue) -> str:
    return f"<span class=\"kind\" style=\"color: {kind_colour(issue.kind)}\">{escape(issue.kind)}</span>"


def _plan(plan: RichCaption, critique: Critique | None, unrendered: list[str], notes: list[str]) -> str:
    by_event: dict[int, list[Issue]] = {}
    for issue in critique.issues if critique is not None else []:
        if issue.event_index is not None:
            by_event.setdefault(issue.event_index, []).append(issue)
    rows = []
    for i, ev in enumerate(plan.layout):
        issues = by_event.get(i, [])
        if issues:
            worst = max(issues, key=lambda x: x.severity)
            attrs = f" class=\"flagged\" data-issue=\"{escape(worst.kind)}\" style=\"{_issue_style(worst)}\""
            tags = " ".join(_kind_tag(x) for x in issues)
        else:
            attrs, tags = "", ""
        phrase = f"<div class=\"muted\">{escape(ev.phrase)}</div>" if ev.phrase and ev.phrase != ev.label else ""
        rows.append(
            f"<tr{attrs}><td>{i}</td><td>{escape(ev.label)}{phrase}{tags}</td>"
            f"<td>{ev.start_s:.2f}–{ev.end_s:.2f} s</td><td>{ev.count}×</td>"
            f"<td>{escape(ev.position)}, {escape(ev.level)}{escape(_fine(ev.gain_db, ev.take))}</td></tr>"
        )
    out = [f"<p>{escape(plan.description)}</p>"] if plan.description else []
    if rows:
        out.append("<table><tr><th>#</th><th>event</th><th>when</th><th>count</th><th>where</th></tr>"
                   + "".join(rows) + "</table>")
    else:
        out.append("<p class=\"muted\">no timed events</p>")
    if plan.assumptions:
        out.append("<ul>" + "".join(f"<li>{escape(a)}</li>" for a in plan.assumptions) + "</ul>")
    if unrendered:
        out.append(f"<p class=\"error\">Could not render: {escape(', '.join(unrendered))}</p>")
    if notes:
        out.append("<p class=\"muted\">Generator notes:</p><ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    out.append(f"<details><summary>as text</summary><pre>{escape(plan.to_text())}</pre></details>")
    return "\n".join(out)


def _fine(gain_db: float, take: int) -> str:
    """A revision's gain and take, beside the level; nothing when they are as planned."""
    return (f" {gain_db:+g} dB" if gain_db else "") + (f", take {take}" if take else "")


def _heard(heard: RichCaption | None, observation: Observation | None) -> str:
    out = []
    if heard is not None:
        out.append(f"<p>{escape(heard.description)}</p>" if heard.description else "")
        out.append(f"<pre>{escape(heard.to_text())}</pre>")
        if heard.assumptions:
            out.append("<ul>" + "".join(f"<li>{escape(a)}</li>" for a in heard.assumptions) + "</ul>")
    if observation is not None:
        facts = [f"listener: {observation.listener or 'unknown'}"]
        if observation.loudness_lufs is not None:
            facts.append(f"{observation.loudness_lufs:.1f} LUFS")
        facts.append(f"balance {observation.balance:+.2f}")
        out.append(f"<p class=\"muted\">{escape(', '.join(facts))}</p>")
        if observation.speech:
            out.append("<ul>" + "".join(
                f"<li>{s.start_s:.2f}–{s.end_s:.2f} s: “{escape(s.text)}”</li>" for s in observation.speech) + "</ul>")
    return "\n".join(x for x in out if x) or "<p class=\"muted\">nothing heard (the round did not reach the listener)</p>"


def _critique(critique: Critique | None) -> str:
    if critique is None:
        return "<p class=\"muted\">no critique</p>"
    out = [f"<p><b>{critique.score:.2f}</b>, {escape(critique.verdict)}</p>"]
    if critique.issues:
        items = []
        for issue in critique.issues:
            event = f" (event {issue.event_index})" if issue.event_index is not None else ""
            items.append(
                f"<li class=\"issue\" data-kind=\"{escape(issue.kind)}\" style=\"{_issue_style(issue)}\">"
                f"{_kind_tag(issue)}{escape(issue.message)}{escape(event)}"
                f" <span class=\"muted\">severity {issue.severity:.2f}</span></li>"
            )
        out.append("<ul class=\"issues\">" + "".join(items) + "</ul>")
    else:
        out.append("<p class=\"muted\">no issues</p>")
    if critique.instructions:
        out.append("<h3>Instructions</h3><ul>" + "".join(f"<li>{escape(t)}</li>" for t in critique.instructions) + "</ul>")
    return "\n".join(out)
