"""Graph factory for ``langgraph.json`` (LangGraph server / ``langgraph dev``).

The server owns persistence, so no checkpointer is wired here. Components are
built from the request's context ``{"config": {...}}`` or the defaults.
"""

from ualm_agent.graphs.reflection import build_graph


def make_graph():
    return build_graph()
