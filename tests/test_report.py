"""`ualm-agent report`: self-contained HTML for a real run folder and for an eval folder, opened in headless Chromium."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_cli import cli

from ualm_agent import runner
from ualm_agent.builders import build_components
from ualm_agent.config import AgentConfig
from ualm_agent.errors import UsageError
from ualm_agent.report import write_report

PROMPT = "a dog barks three times then a bell rings"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (bash install.sh --test)")
# Chromium's log line for every page console message (console.*, uncaught errors).
CONSOLE_LINE = re.compile(r"CONSOLE[(:]")


def _config() -> AgentConfig:
    # Synthesised sounds only, whose first take of PROMPT draws criticism whatever recordings are installed.
    return AgentConfig.load(**{"loop.reflect": 1, "duration_s": 4.0, "seed": 1,
                               "generator": {"kind": "composer", "sources": ["dsp"]}})


@pytest.fixture(scope="module")
def stack():
    return build_components(_config())


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory, stack):
    result, run_dir = runner.run(PROMPT, _config(), out_root=tmp_path_factory.mktemp("runs"), components=stack)
    return result, run_dir


class Elements(HTMLParser):
    """Every start tag as (tag, attrs), and the page's text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def _data(uri: str, mime: str) -> bytes:
    prefix = f"data:{mime};base64,"
    assert uri.startswith(prefix), uri[:60]
    return base64.b64decode(uri[len(prefix):], validate=True)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--no-default-browser-check",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=5000", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


def _console(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if CONSOLE_LINE.search(line)]


def _open(page: Path, tmp_path: Path, shot: Path) -> str:
    """The page's DOM after loading, with no console messages; and a screenshot of it."""
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console(dom) == []
    pic = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    assert pic.returncode == 0, pic.stderr[-2000:]
    assert _console(pic) == []
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == PNG_MAGIC
    return dom.stdout


def test_report_embeds_every_round_with_its_figure_audio_plan_and_critique(run_folder, cli_env):
    result, run_dir = run_folder
    res = cli(["report", str(run_dir)], cli_env)
    assert res.returncode == 0, res.stderr
    page = run_dir / "report.html"
    assert res.stdout.strip() == str(page)
    text = page.read_text(encoding="utf-8")
    assert page.stat().st_size < 3_000_000
    doc = Elements(text)

    sections = [a for t, a in doc.tags if "data-round" in a]
    assert [int(a["data-round"]) for a in sections] == [r.index for r in result.rounds]
    best = [a for a in sections if "best" in a["class"].split()]
    assert [int(a["data-round"]) for a in best] == [result.best_index]

    # Self-contained: every picture and sound is inside the page, nothing is fetched.
    assert not re.search(r"(src|href)=\"(https?:|//|file:)", text)
    images = doc.find("img")
    assert len(images) == len(result.rounds)
    for img in images:
        assert _data(img["src"], "image/png")[:8] == PNG_MAGIC
    players = doc.find("audio")
    assert len(players) == len(result.rounds) and all("controls" in a for a in players)
    for r, player in zip(result.rounds, players):
        samples, rate = sf.read(io.BytesIO(_data(player["src"], "audio/flac")))
        assert rate == 16000 and abs(len(samples) / rate - 4.0) < 0.05
        assert np.abs(samples).max() > 0.01  # the round's sound, not silence

    # The critique's issues are listed, coloured by kind, and the events they name are marked in the plan.
    issues = [i for r in result.rounds for i in (r.critique.issues if r.critique else [])]
    assert issues, "the first take of this prompt is expected to draw criticism"
    assert [a["data-kind"] for a in doc.find("li", **{"class": "issue"})] == [i.kind for i in issues]
    named = [i for r in result.rounds for i in (r.critique.issues if r.critique else []) if i.event_index is not None]
    flagged = doc.find("tr", **{"class": "flagged"})
    assert len(flagged) == sum(
        len({i.event_index for i in (r.critique.issues if r.critique else []) if i.event_index is not None})
        for r in result.rounds
    )
    assert {a["data-issue"] for a in flagged} <= {i.kind for i in named}
    body = " ".join(doc.text)
    for r in result.rounds:
        assert r.plan.layout[0].label in body
        if r.heard is not None:
            assert r.heard.description in body
        assert f"{r.critique.score:.2f}" in body


@needs_chromium
def test_report_loads_in_headless_chromium_without_console_errors(run_folder, tmp_path, cli_env):
    result, run_dir = run_folder
    out = tmp_path / "elsewhere" / "page.html"
    out.parent.mkdir()
    res = cli(["report", str(run_dir), "--out", str(out)], cli_env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(out)
    shot = tmp_path / "report.png"
    dom = _open(out, tmp_path, shot)
    rounds = Elements(dom)
    assert len([a for t, a in rounds.tags if t == "section" and "data-round" in a]) == len(result.rounds)
    # The spectrograms were drawn: the dark magma background fills a good part of the screenshot.
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert (pixels.max(axis=-1) < 0.15).mean() > 0.05


# Test-side only: the report itself has no script. This reports what the browser made of each player.
PROBE = """<script>
document.querySelectorAll('audio').forEach((a, i) => {
  a.addEventListener('loadedmetadata', () => console.log('audio-ok ' + i + ' ' + a.duration.toFixed(2)));
  a.addEventListener('error', () => console.log('audio-error ' + i + ' ' + (a.error && a.error.code)));
  a.load();
});
</script>"""


@needs_chromium
def test_the_browser_decodes_every_embedded_player(run_folder, tmp_path):
    result, run_dir = run_folder
    page = write_report(run_dir, tmp_path / "report.html").path
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = _chromium(tmp_path, "--dump-dom", probed.as_uri())
    said = sorted(re.findall(r'"(audio-\w+ \d+ \S+)"', proc.stderr))
    assert said == [f"audio-ok {i} 4.00" for i in range(len(result.rounds))], proc.stderr[-2000:]


@needs_chromium
def test_the_console_check_sees_script_errors(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('broken'); missing();</script></body></html>")
    proc = _chromium(tmp_path, "--dump-dom", page.as_uri())
    found = _console(proc)
    assert any("broken" in line for line in found) and any("missing" in line for line in found)


def test_missing_corrupt_and_unknown_folders_are_one_line_usage_errors(run_folder, tmp_path, cli_env):
    _, run_dir = run_folder
    res = cli(["report", str(tmp_path / "nowhere")], cli_env)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "does not exist" in res.stderr

    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    shutil.copyfile(run_dir / "run.json", unfinished / "run.json")
    with pytest.raises(UsageError, match="has no summary.json.*resume"):
        write_report(unfinished)

    corrupt = tmp_path / "corrupt"
    shutil.copytree(run_dir, corrupt)
    summary = json.loads((corrupt / "summary.json").read_text())
    summary["rounds"][0]["critique"]["score"] = "high"
    (corrupt / "summary.json").write_text(json.dumps(summary))
    res = cli(["report", str(corrupt)], cli_env)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "corrupt" in res.stderr and "rounds.0.critique.score" in res.stderr
    (corrupt / "summary.json").write_text("{not json")
    with pytest.raises(UsageError, match="corrupt"):
        write_report(corrupt)

    with pytest.raises(UsageError, match="is not a folder"):
        write_report(tmp_path / "unfinished" / "run.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="neither a run folder"):
        write_report(tmp_path / "empty")


def test_a_moved_run_folder_still_finds_its_audio(run_folder, tmp_path):
    result, run_dir = run_folder
    moved = tmp_path / "moved"
    shutil.copytree(run_dir, moved)
    # The summary names absolute paths in the old place; point them at a folder that is gone.
    summary = (moved / "summary.json").read_text().replace(str(run_dir), str(tmp_path / "gone"))
    (moved / "summary.json").write_text(summary)
    written = write_report(moved)
    assert written.kind == "run" and written.path == moved / "report.html"
    assert len(Elements(written.path.read_text()).find("audio")) == len(result.rounds)

    (moved / "round_00.wav").unlink()
    (moved / "round_00_gen.wav").unlink()
    doc = Elements(write_report(moved).path.read_text())
    assert len(doc.find("audio")) == len(result.rounds) - 1
    assert len(doc.find("img")) == len(result.rounds)  # round 0 still shows its plan and what was heard
    assert "no audio for this round" in " ".join(doc.text)


def test_the_figure_draws_every_planned_occurrence_and_flags_what_the_critique_names(run_folder):
    from ualm_agent.report.spectrogram import heard_bars, plan_bars, spectrogram_db

    result, _ = run_folder
    for r in result.rounds:
        bars = plan_bars(r)
        assert len(bars) == sum(ev.count for ev in r.plan.layout)
        named = {i.event_index for i in r.critique.issues if i.event_index is not None}
        assert {int(key) for key, _, _, _, flagged in bars if flagged} == named
        first = r.plan.layout[0]
        assert [(s, e) for key, _, s, e, _ in bars if key == "0"] == first.occurrences()
        heard = heard_bars(r)
        assert len(heard) == len(r.observation.events)
        extra = {i.label for i in r.critique.issues if i.kind == "extra"}
        assert {label for label, _, _, _, flagged in heard if flagged} == extra & {e.label for e in r.observation.events}

    t = np.arange(16000) / 16000
    freqs, times, db = spectrogram_db(np.sin(2 * np.pi * 1000 * t).astype(np.float32), 16000)
    assert db.max() == 0.0 and db.min() >= -80.0 and abs(times[-1] - 1.0) < 0.05
    assert abs(freqs[db.mean(axis=1).argmax()] - 1000) < 40


def _plot(path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    fig.subplots().plot([0, 1, 2], [0.2, 0.5, 0.6])
    fig.savefig(path)


@needs_chromium
def test_an_eval_folder_gets_an_index_linking_every_item_with_its_plots(run_folder, stack, tmp_path, cli_env):
    folder = tmp_path / "eval"
    _, first = run_folder
    shutil.copytree(first, folder / "items" / "dog-bell" / first.name)
    _, bell = runner.run("a bell rings twice", _config(), out_root=folder / "items" / "bell", components=stack)
    crashed = folder / "items" / "crashed" / "20260101-000000_crashed"
    crashed.mkdir(parents=True)
    (crashed / "run.json").write_text(json.dumps({"prompt": "x", "thread_id": "t", "status": "running"}))
    (folder / "plots").mkdir()
    _plot(folder / "plots" / "event_f1_by_round.png")
    rows = [{"item_id": "bell", "round": 0, "final": True, "run_dir": f"items/bell/{bell.name}", "event_f1": 0.25,
             "segment_f1": None}, {"item_id": "dog-bell", "round": 0, "final": False, "event_f1": 0.75}]
    (folder / "results.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{cut short")
    (folder / "summary.json").write_text("{}")
    (folder / "summary.md").write_text("# Summary\n\nevent_f1 0.50 [0.30, 0.70]\n")

    res = cli(["report", str(folder)], cli_env)
    assert res.returncode == 0, res.stderr
    index = folder / "index.html"
    assert res.stdout.strip() == str(index)
    assert "crashed" in res.stderr and "has no summary.json" in res.stderr

    doc = Elements(index.read_text(encoding="utf-8"))
    links = {a["href"] for a in doc.find("a")}
    expected = {f"items/dog-bell/{first.name}/report.html"} | {
        p.relative_to(folder).as_posix() for p in (folder / "items" / "bell").glob("*/report.html")
    }
    assert len(expected) == 2 and links == expected
    for href in links:
        assert (folder / href).read_bytes().startswith(b"<!DOCTYPE html>")
    assert len(doc.find("tr", **{"data-item": "bell"})) == 1
    # The evaluator's figures from results.jsonl: the final row's, and only metrics some item has.
    cells = re.findall(r"<tr data-item=\"(\S+)\">(.*?)</tr>", index.read_text())
    assert {item: re.findall(r"<td>([^<]*)</td>", row)[-1] for item, row in cells} == {"bell": "0.25", "dog-bell": "-"}
    assert "<th>event_f1</th>" in index.read_text() and "segment_f1" not in index.read_text()
    (plot,) = doc.find("img")
    assert _data(plot["src"], "image/png") == (folder / "plots" / "event_f1_by_round.png").read_bytes()
    body = " ".join(doc.text)
    assert "event_f1 0.50 [0.30, 0.70]" in body and "a bell rings twice" in body and "crashed" in body

    dom = _open(index, tmp_path, tmp_path / "index.png")
    assert len(Elements(dom).find("a")) == 2
    item_dom = _open(folder / sorted(links)[0], tmp_path, tmp_path / "item.png")
    assert [a for t, a in Elements(item_dom).tags if t == "section" and "data-round" in a]


def test_an_ablation_folder_gets_an_index_of_every_configuration(run_folder, tmp_path):
    _, run_dir = run_folder
    folder = tmp_path / "ablation"
    for config in ("reflect=0", "reflect=1"):
        shutil.copytree(run_dir, folder / "configs" / config / "items" / "dog-bell" / run_dir.name)
        (folder / "configs" / config / "plots").mkdir()
        _plot(folder / "configs" / config / "plots" / "rounds_used.png")
        (folder / "configs" / config / "summary.md").write_text(f"# {config}\n")
    (folder / "plots").mkdir()
    _plot(folder / "plots" / "gain_per_round.png")
    (folder / "ablation.md").write_text("| config | event_f1 |\n| reflect=0 | 0.40 |\n")
    (folder / "summary.json").write_text("{}")  # not taken for a run folder's summary

    written = write_report(folder)
    assert written.kind == "index" and written.path == folder / "index.html" and written.failures == []
    doc = Elements(written.path.read_text(encoding="utf-8"))
    assert sorted(a["href"] for a in doc.find("a")) == [
        f"configs/{c}/items/dog-bell/{run_dir.name}/report.html" for c in ("reflect=0", "reflect=1")
    ]
    for a in doc.find("a"):
        assert (folder / a["href"]).is_file()
    body = " ".join(doc.text)
    assert "configuration" in body and "reflect=1" in body and "| reflect=0 | 0.40 |" in body
    assert len(doc.find("img")) == 3  # the gain plot and each configuration's own


def test_an_unrecognised_folder_is_a_usage_error(tmp_path, cli_env):
    (tmp_path / "items" / "a").mkdir(parents=True)
    (tmp_path / "notes.txt").write_text("hello")
    res = cli(["report", str(tmp_path)], cli_env)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "neither a run folder" in res.stderr


def test_written_pages_are_readable_like_any_file(tmp_path):
    import os
    import stat

    from ualm_agent.artifacts import atomic_write_text

    page = tmp_path / "page.html"
    atomic_write_text(page, "<p>x</p>")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(page.stat().st_mode) == 0o666 & ~mask
