"""Use the reflection graph as one node of a larger LangGraph graph.

A "director" graph writes a sound prompt for a scene, hands it to the UALM-Reason
subgraph, and reads the best take back. The components come in through the
runtime context, which reaches the subgraph too.

    python examples/embed_as_subgraph.py "a rainy street at night"
"""

from __future__ import annotations

import sys
from typing import TypedDict

from langgraph.graph import END, START, StateGraph

from ualm_agent.graphs.context import AgentContext
from ualm_agent.graphs.reflection import build_graph, run_config
from ualm_agent.schema import Round, RunResult


class SceneState(TypedDict, total=False):
    scene: str
    prompt: str
    rounds: list[Round]
    result: RunResult
    summary: str


def write_prompt(state: SceneState) -> dict:
    return {"prompt": f"{state['scene']}, then a door closes"}


def summarise(state: SceneState) -> dict:
    result = state["result"]
    best = result.best
    score = f"{best.critique.score:.2f}" if best and best.critique else "n/a"
    return {"summary": f"{len(result.rounds)} round(s), best round {result.best_index} (score {score}): {result.final_path}"}


def build_director():
    g = StateGraph(SceneState, context_schema=AgentContext)
    g.add_node("write_prompt", write_prompt)
    g.add_node("sound", build_graph())  # the compiled graph is the node
    g.add_node("summarise", summarise)
    g.add_edge(START, "write_prompt")
    g.add_edge("write_prompt", "sound")
    g.add_edge("sound", "summarise")
    g.add_edge("summarise", END)
    return g.compile()


def main(scene: str, context: AgentContext | None = None) -> dict:
    ctx = context or AgentContext()
    return build_director().invoke({"scene": scene}, run_config(ctx), context=ctx)


if __name__ == "__main__":
    print(main(" ".join(sys.argv[1:]) or "a rainy street at night")["summary"])
