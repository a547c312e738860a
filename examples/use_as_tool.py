"""Give the reflection graph to another agent as a tool.

A tool-calling agent decides to call ``make_sound``; LangGraph's ToolNode runs
it. Here the agent's decision is a fixed tool call, so the example runs offline
without a chat model; with one, bind the same tool to the model.

    python examples/use_as_tool.py "a dog barks three times"
"""

from __future__ import annotations

import sys

from langchain_core.messages import AIMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from ualm_agent.graphs.context import AgentContext
from ualm_agent.graphs.tool import as_tool


def build_agent(context: AgentContext | None = None):
    tool = as_tool(context)

    def decide(state: MessagesState) -> dict:
        request = state["messages"][-1].content
        call = {"name": tool.name, "args": {"prompt": request}, "id": "call-1", "type": "tool_call"}
        return {"messages": [AIMessage(content="", tool_calls=[call])]}

    g = StateGraph(MessagesState)
    g.add_node("decide", decide)
    g.add_node("tools", ToolNode([tool]))
    g.add_edge(START, "decide")
    g.add_edge("decide", "tools")
    g.add_edge("tools", END)
    return g.compile()


def main(request: str, context: AgentContext | None = None):
    return build_agent(context).invoke({"messages": [("user", request)]})


if __name__ == "__main__":
    print(main(" ".join(sys.argv[1:]) or "a dog barks three times")["messages"][-1].content)
