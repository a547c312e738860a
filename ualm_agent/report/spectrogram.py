"""One round's picture: a spectrogram with the plan drawn over it, and what was heard below it."""

from __future__ import annotations

import io

import numpy as np

from ..schema import Round

PLAN_COLOUR = "#f5c518"
HEARD_COLOUR = "#2fb8e6"
ISSUE_COLOUR = "#ff4d4d"
# Lanes in the heard panel; a busy listener can report dozens of labels.
MAX_HEARD_LANES = 16

# A bar: (lane key, text, start_s, end_s, flagged)
Bar = tuple[str, str, float, float, bool]


def spectrogram_db(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(freqs_hz, times_s, power in dB re the loudest bin, floored at -80 dB) of a mono signal."""
    from scipy import signal

    nperseg = min(512, max(16, len(samples)))
    freqs, times, power = signal.spectrogram(
        samples, fs=rate, window="hann", nperseg=nperseg, noverlap=nperseg * 3 // 4, scaling="spectrum", mode="psd"
    )
    ref = float(power.max()) if power.size and power.max() > 0 else 1.0
    db = 10.0 * np.log10(np.maximum(power, ref * 1e-8) / ref)
    return freqs, times, np.maximum(db, -80.0)


def _lanes(bars: list[Bar]) -> dict[str, int]:
    """One horizontal lane per distinct key, in order of first appearance."""
    lanes: dict[str, int] = {}
    for key, *_ in bars:
        lanes.setdefault(key, len(lanes))
    return lanes


def _draw_bars(ax, bars: list[Bar], colour: str, text_colour: str) -> None:
    """Bars in lanes stacked top to bottom over the whole height of ``ax``."""
    from matplotlib.colors import to_rgba

    lanes = _lanes(bars)
    if not lanes:
        return
    fill = to_rgba(colour, 0.35)  # see-through fill, solid edge
    height = 1.0 / len(lanes)
    for key, label, start, end, flagged in bars:
        bottom = 1.0 - (lanes[key] + 1) * height
        ax.axvspan(
            start, end, ymin=bottom + height * 0.1, ymax=bottom + height * 0.9, facecolor=fill,
            edgecolor=ISSUE_COLOUR if flagged else colour, linewidth=2.5 if flagged else 1.0,
        )
        ax.text(
            start, bottom + height * 0.5, f" {label}", transform=ax.get_xaxis_transform(), va="center", ha="left",
            fontsize=8, color=text_colour, clip_on=True,
        )


def plan_bars(rnd: Round) -> list[Bar]:
    """Every occurrence of every planned event, one lane per event; flagged when the critique names it."""
    flagged = {i.event_index for i in (rnd.critique.issues if rnd.critique else []) if i.event_index is not None}
    bars: list[Bar] = []
    for index, ev in enumerate(rnd.plan.layout):
        for n, (start, end) in enumerate(ev.occurrences()):
            text = ev.label if ev.count == 1 else f"{ev.label} {n + 1}/{ev.count}"
            bars.append((f"{index}", text, start, end, index in flagged))
    return bars


def heard_bars(rnd: Round) -> list[Bar]:
    """Heard events, one lane per label; the most confident labels when there are too many.

    Flagged: a label the critique calls extra (heard but not planned).
    """
    events = rnd.observation.events if rnd.observation is not None else []
    extra = {i.label for i in (rnd.critique.issues if rnd.critique else []) if i.kind == "extra" and i.label}
    ranked = sorted(events, key=lambda e: -e.confidence)
    keep = set(list(dict.fromkeys(e.label for e in ranked))[:MAX_HEARD_LANES])
    return [
        (e.label, f"{e.label} {e.confidence:.2f}", e.start_s, e.end_s, e.label in extra) for e in events if e.label in keep
    ]


def round_figure_png(rnd: Round, samples: np.ndarray | None, rate: int, duration_s: float) -> bytes:
    """PNG bytes: the spectrogram (planned events as bars over it) above a lane chart of heard events."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    plan = plan_bars(rnd)
    heard = heard_bars(rnd)
    heard_lanes = max(1, len(_lanes(heard)))
    fig = Figure(figsize=(10, 3.2 + 0.22 * heard_lanes), dpi=90, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3.0, 0.6 + 0.25 * heard_lanes])
    if samples is not None and len(samples) > 1:
        freqs, times, db = spectrogram_db(samples, rate)
        top.pcolormesh(times, freqs / 1000.0, db, shading="auto", cmap="magma", vmin=-80, vmax=0, rasterized=True)
    else:
        top.set_facecolor("#222")
        top.text(0.5, 0.5, "no audio", transform=top.transAxes, ha="center", color="white")
    top.set_ylabel("kHz")
    top.set_ylim(0, rate / 2000.0)
    top.set_title("spectrogram; planned events (yellow, red edge = named by the critique)", fontsize=9, loc="left")
    _draw_bars(top, plan, PLAN_COLOUR, "white")
    bottom.set_facecolor("#f4f7fa")
    bottom.set_yticks([])
    title = "heard by the listener (blue, red edge = called extra)" if heard else "heard by the listener: nothing"
    bottom.set_title(title, fontsize=9, loc="left")
    _draw_bars(bottom, heard, HEARD_COLOUR, "#0b2533")
    bottom.set_xlim(0, max(duration_s, 0.1))
    bottom.set_xlabel("time (s)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return _palette_png(buf.getvalue())


def _palette_png(png: bytes, colours: int = 128) -> bytes:
    """The same picture with a 128-colour palette: a noisy spectrogram shrinks about fourfold, unchanged to the eye."""
    from PIL import Image  # matplotlib's own image library

    out = io.BytesIO()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    return out.getvalue()
