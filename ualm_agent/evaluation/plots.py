"""PNG plots of an eval summary: each metric against the reflection round, and rounds used.

matplotlib is imported here, inside the functions, with the Agg backend (no display needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .stats import lower_is_better, unit_range


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _series(table: dict[str, dict[str, Any]], metric: str) -> tuple[list[int], list[float], list[list[float]], list[int]]:
    xs, means, errs, ns = [], [], [[], []], []
    for key, cis in table.items():
        ci = cis.get(metric)
        if ci is None or ci["mean"] is None:
            continue
        xs.append(int(key))
        means.append(ci["mean"])
        # One value has no interval: draw no bar rather than a zero-width one that looks certain.
        errs[0].append(0.0 if ci["low"] is None else ci["mean"] - ci["low"])
        errs[1].append(0.0 if ci["high"] is None else ci["high"] - ci["mean"])
        ns.append(ci["n"])
    return xs, means, errs, ns


def plot_metric_by_round(summary: dict[str, Any], metric: str, path: Path) -> bool:
    """Mean and CI per round as generated, and per reflection budget; False when there is nothing to draw."""
    rounds = _series(summary["per_round"], metric)
    budget = _series(summary["per_budget"], metric)
    if not rounds[0] and not budget[0]:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=100)
    try:
        pct = round(summary["level"] * 100)
        if rounds[0]:
            ax.errorbar(rounds[0], rounds[1], yerr=rounds[2], marker="o", capsize=4, label="round as generated")
            for x, y, n in zip(rounds[0], rounds[1], rounds[3]):
                ax.annotate(f"n={n}", (x, y), textcoords="offset points", xytext=(-8, -14), ha="right", fontsize=8)
        if budget[0]:
            shifted = [x + 0.08 for x in budget[0]]  # side by side, so both intervals stay readable
            ax.errorbar(shifted, budget[1], yerr=budget[2], marker="s", linestyle="--", capsize=4,
                        label="answer with this budget")
        ax.set_xlabel("reflection round")
        ax.set_ylabel(metric + (" (lower is better)" if lower_is_better(metric) else ""))
        ax.set_title(f"{metric}: mean and {pct}% CI per round")
        ax.set_xticks(sorted(set(rounds[0]) | set(budget[0])))
        if unit_range(metric):
            # The axis stays on [0, 1]; an interval reaching past it is cut at the frame.
            ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return True


def plot_rounds_used(summary: dict[str, Any], path: Path) -> bool:
    counts = summary.get("rounds_used") or {}
    if not counts:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.2), dpi=100)
    try:
        xs = [int(k) for k in counts]
        ax.bar(xs, list(counts.values()), color="#4c72b0")
        from matplotlib.ticker import MaxNLocator

        ax.set_xticks(xs)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("rounds used")
        ax.set_ylabel("items")
        ax.set_title(f"Rounds used ({sum(counts.values())} items)")
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return True


def write_plots(summary: dict[str, Any], plots_dir: str | Path) -> list[Path]:
    """Every plot the summary supports, as PNGs in ``plots_dir``; returns their paths."""
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for metric in [*summary["metrics"], "critic_score"]:
        path = plots_dir / f"{metric}_by_round.png"
        if plot_metric_by_round(summary, metric, path):
            written.append(path)
    path = plots_dir / "rounds_used.png"
    if plot_rounds_used(summary, path):
        written.append(path)
    return written
