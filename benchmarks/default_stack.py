"""Speed of the offline default stack on 10 s of audio (2-core figures go in the README).

Reports, from one run on this machine:
  - cold `ualm-agent --help` (a fresh interpreter);
  - time per node per round of `run --reflect 3`;
  - the share of graph and I/O overhead: run wall time minus time spent inside components
    (model loading counts as component time), for a whole run in a fresh process and for
    a warm loop whose models are already loaded;
  - the listener's real-time factor;
  - the wall time of `ualm-agent run --reflect 3` as a fresh process, model loading included:
    as a user runs it, with all four rounds forced (the worst case), and with quoted speech.

    python benchmarks/default_stack.py [--prompt "..."] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = "brass followed by percussion, then a dog barks three times"
# Quoted words bring the speech source (Piper) and Whisper into the run.
SPEECH_PROMPT = 'a man says "come here, good boy", then a dog barks twice'


class Timed:
    """Wraps a component and adds the time spent in its methods to a shared counter."""

    def __init__(self, inner, totals: dict, role: str) -> None:
        self._inner, self._totals, self._role = inner, totals, role

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self._totals[self._role] = self._totals.get(self._role, 0.0) + time.perf_counter() - t0

        return call


def timed_components(raw, totals: dict):
    from ualm_agent.builders import Components
    from ualm_agent.roles import ROLES

    return Components(**{r: None if getattr(raw, r) is None else Timed(getattr(raw, r), totals, r) for r in ROLES})


class NeverAccept:
    """Wraps a critic so every round is revised: the benchmark then times all four rounds."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def critique(self, plan, heard, observation, *, unrendered=()):
        c = self._inner.critique(plan, heard, observation, unrendered=unrendered)
        return c.model_copy(update={"verdict": "revise", "score": min(c.score, 0.99)})


def cold_help(repeats: int = 3) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ualm_agent.cli", "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def cli_run(prompt: str, out: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "ualm_agent.cli", "run", prompt, "--reflect", "3", "--duration", "10",
                          "--out", str(out), "--json"], capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, json.loads(res.stdout)


def fresh_process_share(prompt: str, out: Path, *, all_rounds: bool = False) -> dict:
    """Overhead share of a whole `run --reflect 3` in a fresh process (imports and loading included).

    ``all_rounds``: the critic never accepts, so all four rounds run (the worst case)."""
    code = (
        "import json, sys, time\n"
        "t0 = time.perf_counter()\n"
        "sys.path.insert(0, %r)\n"
        "from default_stack import cold_run\n"
        "print(json.dumps(cold_run(%r, %r, t0, %r)))\n"
    ) % (str(Path(__file__).parent), prompt, str(out), all_rounds)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def cold_run(prompt: str, out: str, t0: float, all_rounds: bool = False) -> dict:
    from ualm_agent import runner
    from ualm_agent.builders import Components, build_components
    from ualm_agent.config import AgentConfig
    from ualm_agent.roles import ROLES

    config = AgentConfig.load(**{"loop.reflect": 3, "duration_s": 10.0})
    totals: dict[str, float] = {}
    t_build = time.perf_counter()
    raw = build_components(config)
    totals["build"] = time.perf_counter() - t_build
    if all_rounds:
        raw = Components(**{r: getattr(raw, r) for r in ROLES if r != "critic"}, critic=NeverAccept(raw.critic))
    wrapped = timed_components(raw, totals)
    result, _ = runner.run(prompt, config, out_root=out, components=wrapped)
    wall = time.perf_counter() - t0
    inside = sum(totals.values())
    return {"wall_s": wall, "components_s": inside, "overhead_share": (wall - inside) / wall, "rounds": len(result.rounds)}


def in_process_run(prompt: str, out: Path) -> dict:
    from ualm_agent import runner
    from ualm_agent.builders import Components, build_components
    from ualm_agent.config import AgentConfig
    from ualm_agent.roles import ROLES

    config = AgentConfig.load(**{"loop.reflect": 3, "loop.accept_score": 1.0, "duration_s": 10.0})
    t0 = time.perf_counter()
    raw = build_components(config)
    load_s = time.perf_counter() - t0
    raw = Components(**{r: getattr(raw, r) for r in ROLES if r != "critic"}, critic=NeverAccept(raw.critic))
    totals: dict[str, float] = {}
    wrapped = timed_components(raw, totals)
    # One unmeasured run loads the models and imports the graph code, so the
    # overhead share measures the loop itself.
    runner.run(prompt, config, out_root=out / "warmup", components=raw)
    t0 = time.perf_counter()
    result, run_dir = runner.run(prompt, config, out_root=out, components=wrapped)
    wall = time.perf_counter() - t0
    inside = sum(totals.values())
    per_node: dict[str, list[float]] = {}
    for r in result.rounds:
        for node, secs in r.timings.items():
            per_node.setdefault(node, []).append(secs)
    return {"load_s": load_s, "wall_s": wall, "components_s": inside, "overhead_share": (wall - inside) / wall,
            "rounds": len(result.rounds), "per_node_mean_s": {k: statistics.mean(v) for k, v in per_node.items()},
            "by_role_s": totals}


def listener_rtf(repeats: int = 5) -> float:
    from ualm_agent.builders import build_component
    from ualm_agent.config import AgentConfig
    from ualm_agent.roles import GenerationRequest

    config = AgentConfig.load(duration_s=10.0)
    planner = build_component("planner", config)
    plan = planner.plan(PROMPT, duration_s=10.0)
    audio = build_component("generator", config).generate(GenerationRequest(caption=plan, text=plan.to_text(), duration_s=10.0, seed=0)).audio
    stereo = build_component("vae", config).process(audio, plan)
    listener = build_component("listener", config)
    listener.listen(stereo)  # load the model
    t0 = time.perf_counter()
    for _ in range(repeats):
        listener.listen(stereo)
    return stereo.duration_s * repeats / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompt", default=PROMPT)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        helps = cold_help()
        cli_wall, cli_out = cli_run(args.prompt, Path(tmp) / "cli")
        worst = fresh_process_share(args.prompt, Path(tmp) / "worst", all_rounds=True)
        speech = fresh_process_share(SPEECH_PROMPT, Path(tmp) / "speech", all_rounds=True)
        fresh = fresh_process_share(args.prompt, Path(tmp) / "fresh")
        proc = in_process_run(args.prompt, Path(tmp) / "inproc")
        rtf = listener_rtf()
    figures = {
        "help_first_s": helps[0], "help_median_s": statistics.median(helps),
        "cli_run_reflect3_wall_s": cli_wall, "cli_run_rounds": len(cli_out["rounds"]),
        "fresh_all_rounds": worst, "fresh_speech_all_rounds": speech,
        "listener_rtf": rtf, "fresh_process": fresh, **proc,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"cold `ualm-agent --help`: first {helps[0]:.3f} s, median {statistics.median(helps):.3f} s (target < 0.5 s)")
    print(f"`ualm-agent run --reflect 3` (fresh process, 10 s audio, {len(cli_out['rounds'])} round(s)): "
          f"{cli_wall:.2f} s wall (target < 10 s)")
    print(f"fresh process, never accepting early ({worst['rounds']} rounds): {worst['wall_s']:.2f} s wall (target < 10 s)")
    print(f"the same with quoted speech (Piper and Whisper load), {speech['rounds']} rounds: {speech['wall_s']:.2f} s wall")
    print(f"fresh-process run ({fresh['rounds']} round(s), imports and model loading included): {fresh['wall_s']:.2f} s; "
          f"components {fresh['components_s']:.2f} s; graph + I/O overhead {100 * fresh['overhead_share']:.1f}% (target < 3%)")
    print(f"warm run in process, all {proc['rounds']} rounds: {proc['wall_s']:.2f} s; components {proc['components_s']:.2f} s; "
          f"graph + I/O overhead {100 * proc['overhead_share']:.1f}% (target < 3%)")
    print("mean time per node per round:")
    for node, secs in proc["per_node_mean_s"].items():
        print(f"  {node:<9} {secs * 1000:8.1f} ms")
    print(f"listener real-time factor: {rtf:.0f}x (target >= 20x)")


if __name__ == "__main__":
    main()
