"""Means with confidence intervals, and the summaries of an eval's result rows.

A result row is one item and round (see ``run.py``). Summaries are computed for
the final answer, for each round as generated, and for the answer the agent
would have given with a smaller reflection budget (the best round so far).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from . import metrics

# The evaluator's metrics (see docs/metrics.md), in display order; a metric an evaluator adds
# beyond these is found in the rows and listed after them.
METRIC_KEYS: tuple[str, ...] = (*metrics.METRIC_KEYS, "clap_score", "judge_score")


def lower_is_better(metric: str) -> bool:
    """Error rates and L1 distances: lower is better; for every other metric, higher is."""
    return metric.endswith(("_error", "_l1"))


LOWER_IS_BETTER = frozenset(k for k in METRIC_KEYS if lower_is_better(k))


UNIT = (0.0, 1.0)


def unit_range(metric: str) -> bool:
    """Rates, F1, accuracies, the critic's score and the judge's mean P(yes) live in [0, 1]."""
    return metric in ("critic_score", "judge_score") or metric.endswith(("_precision", "_recall", "_f1", "_accuracy", "_error"))


def metric_bounds(metric: str) -> tuple[float, float] | None:
    """The range a metric's interval is clipped to: [0, 1] for rates and scores, [0, inf) for errors
    measured as distances (L1), none for the rest."""
    if unit_range(metric):
        return UNIT
    if metric.endswith("_l1") or metric in ("rounds_used", "agent_wall_s", "eval_wall_s", "item_wall_s"):
        return (0.0, math.inf)
    return None


# The columns of a result row that are not metrics (see run.py).
ROW_FIELDS = frozenset({
    "item_id", "prompt", "config_name", "attempt", "seed", "round", "final", "best_so_far", "round_failed",
    "critic_score", "verdict", "accepted", "rounds_used", "wall_s", "agent_wall_s", "eval_wall_s", "item_wall_s",
    "error", "graded_by", "run_dir", "audio", "worker",
})


def mean_ci(
    values: Iterable[float | None], level: float = 0.95, bounds: tuple[float, float] | None = None
) -> tuple[float | None, float | None, float | None, int]:
    """(mean, low, high, n) with a Student-t interval; None and NaN values are skipped.

    With no values everything is None; with one value the interval is None (it is undefined).
    ``bounds`` clips the interval to a metric's range (a rate's t-interval can pass 1).
    """
    xs = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    n = len(xs)
    if n == 0:
        return None, None, None, 0
    mean = math.fsum(xs) / n
    if n == 1:
        return mean, None, None, 1
    from scipy import stats

    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = float(stats.t.ppf((1.0 + level) / 2.0, n - 1)) * sd / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return mean, low, high, n


def proportion_ci(successes: int, n: int, level: float = 0.95) -> tuple[float | None, float | None, float | None, int]:
    """(rate, low, high, n) with a Wilson interval, which stays inside [0, 1] for rates near 0 or 1."""
    if n == 0:
        return None, None, None, 0
    from scipy import stats

    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=level, method="wilson")
    return successes / n, float(ci.low), float(ci.high), n


def ci_dict(ci: tuple[float | None, float | None, float | None, int]) -> dict[str, Any]:
    mean, low, high, n = ci
    return {"mean": mean, "low": low, "high": high, "n": n}


def item_rows(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by item, keeping each item's latest attempt, rounds in order."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["item_id"]].append(row)
    out = {}
    for item_id, group in grouped.items():
        last = max(r.get("attempt", 1) for r in group)
        kept = [r for r in group if r.get("attempt", 1) == last]
        out[item_id] = sorted(kept, key=lambda r: -1 if r.get("round") is None else r["round"])
    return out


def metric_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The known metrics, plus any other numeric column an evaluator added, that some row has a value for."""
    known = [k for k in METRIC_KEYS if any(r.get(k) is not None for r in rows)]
    extra = sorted({
        k for r in rows for k, v in r.items()
        if k not in METRIC_KEYS and k not in ROW_FIELDS and isinstance(v, (int, float)) and not isinstance(v, bool)
    })
    return known + extra


def _final_row(group: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((r for r in group if r.get("final")), None)


def budget_rows(groups: dict[str, list[dict[str, Any]]], budget: int) -> list[dict[str, Any]]:
    """Each completed item's answer had the loop been allowed ``budget`` revisions.

    Seeds depend only on the item and the round, so rounds 0..budget of a longer run are what a
    run with that budget would have made; its answer is the best of them (``best_so_far``). An
    item that stopped earlier gives its final answer.
    """
    out = []
    for group in groups.values():
        final = _final_row(group)
        if final is None:
            continue
        by_round = {r["round"]: r for r in group if r.get("round") is not None}
        at = by_round.get(budget)
        if at is None or at.get("best_so_far") is None:
            out.append(final)
        else:
            out.append(by_round[at["best_so_far"]])
    return out


def summarize(rows: Sequence[dict[str, Any]], *, level: float = 0.95, session: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything summary.json holds: metric CIs (final, per round, per budget) and process figures."""
    groups = item_rows(rows)
    latest = [r for g in groups.values() for r in g]
    metrics = metric_keys(latest)
    finals = [f for g in groups.values() if (f := _final_row(g)) is not None]
    failed = {item_id: g[0].get("error", "") for item_id, g in groups.items() if _final_row(g) is None}
    round_rows = [r for r in latest if r.get("round") is not None and not r.get("round_failed")]
    rounds = sorted({r["round"] for r in latest if r.get("round") is not None})

    def table(subset: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
        return {k: ci_dict(mean_ci((r.get(k) for r in subset), level, metric_bounds(k))) for k in keys}

    process_keys = ["critic_score"]
    per_round = {str(i): table([r for r in round_rows if r["round"] == i], [*metrics, *process_keys]) for i in rounds}
    per_budget = {str(b): table(budget_rows(groups, b), [*metrics, *process_keys]) for b in rounds}

    nodes = sorted({n for r in latest for n in (r.get("wall_s") or {})}, key=_node_order)
    per_item_node = {n: [sum((r.get("wall_s") or {}).get(n, 0.0) for r in g if r.get("round") is not None)
                         for g in groups.values() if _final_row(g) is not None] for n in nodes}
    agent_s = [f.get("agent_wall_s") for f in finals]
    eval_s = [sum(r.get("eval_wall_s") or 0.0 for r in g) for g in groups.values() if _final_row(g) is not None]
    item_s = [f.get("item_wall_s") for f in finals]
    total_item = math.fsum(x for x in item_s if x is not None)
    process = {
        "critic_score": ci_dict(mean_ci((f.get("critic_score") for f in finals), level, UNIT)),
        "rounds_used": ci_dict(mean_ci((f.get("rounds_used") for f in finals), level)),
        "accept_rate": ci_dict(proportion_ci(sum(bool(f.get("accepted")) for f in finals), len(finals), level)),
        "wall_s_per_node": {n: ci_dict(mean_ci(v, level)) for n, v in per_item_node.items()},
        "agent_wall_s": ci_dict(mean_ci(agent_s, level)),
        "eval_wall_s": ci_dict(mean_ci(eval_s, level)),
        "item_wall_s": ci_dict(mean_ci(item_s, level)),
        "evaluator_share": (math.fsum(eval_s) / total_item) if total_item > 0 else None,
    }
    return {
        "level": level,
        "items": {"total": len(groups), "completed": len(finals), "failed": len(failed)},
        "metrics": metrics,
        "graded_by": sorted({str(r["graded_by"]) for r in latest if r.get("graded_by")}),
        "config_names": sorted({str(r["config_name"]) for r in latest if r.get("config_name")}),
        "final": table(finals, metrics),
        "per_round": per_round,
        "per_budget": per_budget,
        "process": process,
        "rounds_used": {str(k): v for k, v in sorted(Counter(f.get("rounds_used") for f in finals).items())},
        "failed": failed,
        "session": session or {},
    }


_NODES = ("plan", "clarify", "generate", "vae", "listen", "caption", "critique", "revise")


def _node_order(node: str) -> tuple[int, str]:
    return (_NODES.index(node) if node in _NODES else len(_NODES), node)


# ---- markdown ---------------------------------------------------------------------------


def _fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def fmt_ci(ci: dict[str, Any], digits: int = 3) -> str:
    if ci["mean"] is None:
        return "–"
    if ci["low"] is None:
        return f"{_fmt(ci['mean'], digits)} (n={ci['n']})"
    return f"{_fmt(ci['mean'], digits)} [{_fmt(ci['low'], digits)}, {_fmt(ci['high'], digits)}] (n={ci['n']})"


def render_markdown(summary: dict[str, Any], title: str = "Evaluation") -> str:
    pct = round(summary["level"] * 100)
    items = summary["items"]
    session = summary.get("session") or {}
    lines = [f"# {title}", ""]
    lines.append(
        f"{items['total']} item(s): {items['completed']} completed, {items['failed']} failed. "
        f"Graded by: {', '.join(summary['graded_by']) or '–'}. Intervals are {pct}% confidence intervals "
        "(Student t; Wilson for the accept rate)."
    )
    if session.get("items_per_minute") is not None:
        lines.append(
            f"This session: {session['items_run']} item(s) in {session['wall_s']:.1f} s with {session['workers']} "
            f"worker(s) ({session['backend']}): {session['items_per_minute']:.2f} items/minute."
        )
    lines.append("")
    metrics = summary["metrics"]
    lines += ["## Final answer", "", "| metric | mean [95% CI] (n) |", "|---|---|"]
    lines += [f"| {_label(m)} | {fmt_ci(summary['final'][m])} |" for m in metrics]
    if not metrics:
        lines.append("| (no metric applied) | – |")
    lines.append("")
    for key, heading, note in (
        ("per_round", "Per round", "Each round's audio as generated; later rounds cover only the items that reached them."),
        ("per_budget", "Answer per reflection budget",
         "The answer the agent would give with at most r revisions (the best round up to r); every item counts."),
    ):
        cols = list(summary[key])
        if not cols:
            continue
        lines += [f"## {heading}", "", note, "", "| metric | " + " | ".join(f"r={c}" for c in cols) + " |",
                  "|---|" + "---|" * len(cols)]
        for m in [*metrics, "critic_score"]:
            lines.append(f"| {_label(m)} | " + " | ".join(fmt_ci(summary[key][c][m]) for c in cols) + " |")
        lines.append("")
    p = summary["process"]
    lines += ["## Process", "", "| figure | mean [95% CI] (n) |", "|---|---|",
              f"| critic score (final) | {fmt_ci(p['critic_score'])} |",
              f"| rounds used | {fmt_ci(p['rounds_used'], 2)} |",
              f"| accept rate | {fmt_ci(p['accept_rate'])} |"]
    lines += [f"| wall time: {n} (s per item) | {fmt_ci(ci, 2)} |" for n, ci in p["wall_s_per_node"].items()]
    lines += [f"| agent wall time (s per item) | {fmt_ci(p['agent_wall_s'], 2)} |",
              f"| evaluator wall time (s per item) | {fmt_ci(p['eval_wall_s'], 2)} |",
              f"| evaluator share of item time | {_fmt(p['evaluator_share'])} |"]
    if session.get("items_per_minute") is not None:
        lines.append(f"| items per minute (this session) | {_fmt(session['items_per_minute'], 2)} |")
    lines.append("")
    if summary["rounds_used"]:
        lines += ["## Rounds used", "", "| rounds | items |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in summary["rounds_used"].items()]
        lines.append("")
    if summary["failed"]:
        lines += ["## Failed items", ""]
        lines += [f"- `{item_id}`: {error}" for item_id, error in summary["failed"].items()]
        lines.append("")
    return "\n".join(lines)


def _label(metric: str) -> str:
    return f"{metric} (lower is better)" if lower_is_better(metric) else metric
