"""What a judge writes: its caption of a clip and its JSON critique, asked for and parsed.

Both ask for the JSON the llm roles write (prompts/llm.toml) and parse it with the llm
roles' parsers (``components/llm/outputs.py``): labels snap to AudioSet names, times are
clamped into the clip, a critique's issues are tied to the planned events they name. Each
answer starts with the llm role's opening (``{"layout": [``), so the model goes straight
to the fields. An audio-language model often leaves times out; an event without them is
taken to last the whole clip, and the caption says so in its assumptions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ualm_agent.components.llm import outputs, prompting

from ualm_agent.schema import Critique, Observation, RichCaption

CAPTION_REQUEST = (
    "Listen to this {duration} s clip and describe every sound you hear. Write one JSON object: \"layout\" lists"
    " the sounds in time order, each with \"label\" (an AudioSet class name such as Dog, Rain or Speech),"
    " \"start_s\" and \"end_s\" (seconds, inside the clip), and \"count\" when it repeats. \"description\" is one"
    " sentence. For example: {example}"
)


def caption_request(duration_s: float, feedback: str | None = None) -> str:
    example = prompting.llm_prompts()["captioner"]["examples"][-1]["assistant"]
    return _with_feedback(CAPTION_REQUEST.format(duration=f"{duration_s:g}", example=example), feedback)


def critic_request(
    plan: RichCaption, heard: RichCaption, observation: Observation, unrendered: Sequence[str], feedback: str | None = None
) -> str:
    """The llm critic's instructions and request: the plan, then what was heard (the clip itself is the audio)."""
    system = prompting.llm_prompts()["critic"]["system"]
    return _with_feedback(f"{system}\n\n{prompting.critic_request(plan, heard, observation, unrendered)}", feedback)


def _with_feedback(request: str, feedback: str | None) -> str:
    if not feedback:
        return request
    return f"{request}\n\n{prompting.llm_prompts()['retry'].format(feedback=feedback)}"


def answer_start(role: str) -> str:
    return prompting.answer_start(role)


def parse_caption(text: str, duration_s: float) -> RichCaption:
    """A RichCaption from the model's JSON; events without times last the whole clip (noted in assumptions)."""
    data = outputs.load_json(text)
    layout = data.get("layout")
    untimed: list[str] = []
    for item in layout if isinstance(layout, list) else []:
        if isinstance(item, dict) and (item.get("start_s") is None or item.get("end_s") is None):
            untimed.append(str(item.get("label", "")).strip())
            item["start_s"] = 0.0 if item.get("start_s") is None else item["start_s"]
            item["end_s"] = duration_s if item.get("end_s") is None else item["end_s"]
    caption = outputs.caption_from(json.dumps(data), duration_s=duration_s)
    if not caption.layout:
        raise ValueError('the "layout" lists no sounds; describe every sound heard')
    notes = [f"{label}: no times stated, taken as the whole clip" for label in untimed if label]
    return caption.model_copy(update={"assumptions": [*caption.assumptions, *notes]}) if notes else caption


def parse_critique(text: str, plan: RichCaption, heard_labels: Sequence[str]) -> Critique:
    return outputs.critique_from(text, plan=plan, heard=heard_labels)
