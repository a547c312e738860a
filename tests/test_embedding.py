"""The compiled graph as a subgraph, as a tool, and as a served graph."""

from __future__ import annotations

import importlib.util
import json
import sys

from fakes import ScriptedCritic, fake_components
from conftest import ROOT

from ualm_agent.config import AgentConfig
from ualm_agent.graphs.context import AgentContext


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _ctx(tmp_path, **loop):
    config = AgentConfig.load(**{f"loop.{k}": v for k, v in loop.items()}, duration_s=4.0)
    return AgentContext(config=config, components=fake_components(critic=ScriptedCritic(scores=[0.3, 0.6])), workdir=str(tmp_path))


def test_graph_runs_as_a_node_of_a_parent_graph(tmp_path):
    example = _load(ROOT / "examples" / "embed_as_subgraph.py")
    out = example.main("a rainy street", _ctx(tmp_path, reflect=1))
    assert out["prompt"] == "a rainy street, then a door closes"
    assert len(out["result"].rounds) == 2  # no duplicated rounds from the shared key
    assert out["result"].best_index == 1
    assert "best round 1" in out["summary"]


def test_graph_runs_as_a_tool_inside_an_agent(tmp_path):
    example = _load(ROOT / "examples" / "use_as_tool.py")
    out = example.main("trumpet then drums", _ctx(tmp_path, reflect=1))
    reply = json.loads(out["messages"][-1].content)
    assert reply["rounds"] == 2 and reply["score"] == 0.6
    assert reply["audio"].endswith("round_01.wav")


def test_langgraph_json_points_at_a_graph_factory(tmp_path):
    spec = json.loads((ROOT / "langgraph.json").read_text())
    target = spec["graphs"]["ualm_reason"]
    path, attr = target.split(":")
    module = _load(ROOT / path)
    graph = getattr(module, attr)()
    ctx = _ctx(tmp_path, reflect=0)
    out = graph.invoke({"prompt": "x"}, {"recursion_limit": 50}, context=ctx)
    assert out["result"].best_index == 0
