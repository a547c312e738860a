"""Counted single strikes are heard as exactly the planned number (YAMNet listener, seed 0)."""

import pytest

pytest.importorskip("onnxruntime")

from ualm_agent.builders import build_component
from ualm_agent.config import AgentConfig
from ualm_agent.evaluation.evaluator import Evaluator
from ualm_agent.evaluation.items import EvalItem, Expected, ExpectedEvent
from ualm_agent.roles import GenerationRequest
from ualm_agent.schema import LayoutEvent, RichCaption


@pytest.fixture(scope="module")
def stack():
    cfg = AgentConfig()
    return build_component("generator", cfg), build_component("vae", cfg), Evaluator()


@pytest.mark.parametrize("label,count,span", [("Clapping", 3, 4.5), ("Bang", 3, 4.5), ("Thump, thud", 3, 4.5)])
def test_counted_strikes_heard_once_each(stack, label, count, span):
    gen, vae, ev = stack
    item = EvalItem(id="x", prompt="x", expected=Expected(events=[ExpectedEvent(label=label, count=count)]))
    plan = RichCaption(layout=[LayoutEvent(label=label, phrase=label, start_s=0.0, end_s=span, count=count)],
                       duration_s=10.0)
    audio = vae.process(gen.generate(GenerationRequest(caption=plan, text="", duration_s=10.0, seed=0)).audio, plan)
    assert ev.evaluate(item, audio)["frequency_l1"] == 0
