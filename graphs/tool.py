"""The reflection graph as a tool that another agent can call."""

from __future__ import annotations

from typing import Any

from .context import AgentContext
from .reflection import build_graph, run_config


def as_tool(context: AgentContext | None = None, *, graph: Any = None, name: str = "make_sound"):
    """A LangChain tool: prompt in, final audio path, score and critique out."""
    from langchain_core.tools import StructuredTool

    ctx = context or AgentContext()
    compiled = graph or build_graph()

    def make_sound(prompt: str, duration_s: float | None = None, seed: int | None = None) -> dict[str, Any]:
        """Compose audio for a prompt, listen to it, critique and revise it; returns the best take."""
        inp: dict[str, Any] = {"prompt": prompt}
        if duration_s is not None:
            inp["duration_s"] = duration_s
        if seed is not None:
            inp["seed"] = seed
        result = compiled.invoke(inp, run_config(ctx), context=ctx)["result"]
        best = result.best
        return {
            "audio": str(result.final_path) if result.final else None,
            "score": None if best is None or best.critique is None else best.critique.score,
            "accepted": result.accepted,
            "rounds": len(result.rounds),
            "issues": [] if best is None or best.critique is None else [i.message for i in best.critique.issues],
        }

    return StructuredTool.from_function(make_sound, name=name)
