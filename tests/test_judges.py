"""Audio-language judges (qwen2-audio, qwen2.5-omni, audio-flamingo3) on tiny random models of the real classes.

The models are random, so their answers mean nothing; what is checked is the machinery:
P(yes) from the logits, left-padded batches, the questions a plan raises, how answers
become the Observation and the critique (with chosen answers), the captioner's parsing
and retries, loading errors, the evaluator's judge_score and the CLI.
"""

from __future__ import annotations

import json
import re
import shutil
import time

import numpy as np
import pytest
from cli_helpers import cli, run_dirs
from tiny_judge_models import (
    build_tiny_audio_flamingo3,
    build_tiny_qwen2_audio,
    build_tiny_qwen25_omni,
)
from ualm_agent.components.judges import questions as Q

from ualm_agent import registry, runner
from ualm_agent.builders import build_component, build_components
from ualm_agent.config import AgentConfig, ComponentSpec
from ualm_agent.errors import ModelUnavailableError
from ualm_agent.evaluation import stats
from ualm_agent.evaluation.evaluator import (
    RESULT_KEYS,
    Evaluator,
    EvaluatorConfig,
    expected_plan,
)
from ualm_agent.evaluation.items import EvalItem, Expected, ExpectedEvent
from ualm_agent.roles import Captioner, Critic, Listener, ListensForPlan
from ualm_agent.schema import LayoutEvent, Observation, RichCaption
from ualm_agent.structured import ModelOutputError
from ualm_agent.waveform import Waveform

FAMILIES = ("qwen2-audio", "qwen2.5-omni", "audio-flamingo3")
DEFAULT_IDS = {"qwen2-audio": "Qwen/Qwen2-Audio-7B-Instruct", "qwen2.5-omni": "Qwen/Qwen2.5-Omni-7B",
               "audio-flamingo3": "nvidia/audio-flamingo-3-hf"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """kind -> folder of its tiny model (built once per session)."""
    root = tmp_path_factory.mktemp("judges")
    return {
        "qwen2-audio": build_tiny_qwen2_audio(root / "qwen2-audio"),
        "qwen2.5-omni": build_tiny_qwen25_omni(root / "qwen2.5-omni"),
        "audio-flamingo3": build_tiny_audio_flamingo3(root / "audio-flamingo3"),
    }


def judge(folder, kind="qwen2-audio", role="listener", **settings):
    spec = ComponentSpec(kind=kind, model=str(folder), device="cpu", **settings)
    return build_component(role, AgentConfig(**{role: spec}))


def clip(seconds=3.0, rate=16000, seed=0) -> Waveform:
    return Waveform(np.random.default_rng(seed).normal(0, 0.1, (1, int(seconds * rate))).astype(np.float32), rate)


def plan3() -> RichCaption:
    """Two barks in the first second, a loud siren at 2-3.5 s, soft rain over the whole 4 s."""
    return RichCaption(
        layout=[
            LayoutEvent(label="Bark", phrase="a dog barks", start_s=0.0, end_s=1.0, count=2),
            LayoutEvent(label="Siren", start_s=2.0, end_s=3.5, level="loud"),
            LayoutEvent(label="Rain", start_s=0.0, end_s=4.0, level="soft"),
        ],
        description="a dog barks twice, then a loud siren over soft rain",
        duration_s=4.0,
    )


def answering(monkeypatch, instance, rules: dict[str, float], default: float = 0.9):
    """Make ``score_questions`` answer by the first rule whose words are all in the question (chosen P(yes))."""
    asked: list[str] = []

    def score(audio, questions):
        asked.extend(questions)
        return [next((p for words, p in rules.items() if all(w in q for w in words.split("|"))), default) for q in questions]

    monkeypatch.setattr(instance, "score_questions", score)
    return asked


# ---- scoring ------------------------------------------------------------------------------------


def test_p_yes_is_the_softmax_over_the_yes_and_no_tokens_of_one_forward(tiny):
    import torch
    from transformers import AutoProcessor

    j = judge(tiny["qwen2-audio"])
    loaded = j.judge
    tokenizer = loaded.tokenizer
    assert {tokenizer.decode([i]).strip() for i in loaded.yes_ids} >= {"Yes", "yes"}
    assert {tokenizer.decode([i]).strip().lower() for i in loaded.no_ids} == {"no"}
    audio, question = clip(2.0), "Is there a sound of bark in this audio? Answer yes or no."
    # By hand: the processor from the folder, one forward, softmax over the whole vocabulary.
    processor = AutoProcessor.from_pretrained(tiny["qwen2-audio"])
    turns = [{"role": "user", "content": [{"type": "audio"}, {"type": "text", "text": question}]}]
    text = processor.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], audio=[audio.samples[0]], sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        probs = torch.softmax(loaded.model(**inputs).logits[0, -1].double(), dim=-1)
    yes, no = probs[loaded.yes_ids].sum(), probs[loaded.no_ids].sum()
    (p,) = j.score_questions(audio, [question])
    assert p == pytest.approx(float(yes / (yes + no)), abs=1e-5)
    assert 0.0 < p < 1.0


def test_batched_left_padded_scores_equal_one_by_one(tiny):
    questions = [
        "Is there a sound of rain? Answer yes or no.",
        "Is there a sound of siren between 2 and 4 seconds in this audio, louder than the rain? Answer yes or no.",
        "Is there a sound of bark (a dog barks) heard exactly 3 times in this audio? Answer yes or no.",
    ]
    audio = clip(3.0, rate=22050, seed=3)  # resampled to 16 kHz on the way in
    batched = judge(tiny["qwen2-audio"], batch_size=8)
    single = judge(tiny["qwen2-audio"], batch_size=1)
    assert batched is not single and batched.judge is single.judge  # one set of weights for both
    together = batched.score_questions(audio, questions)
    alone = [single.score_questions(audio, [q])[0] for q in questions]
    assert together == pytest.approx(alone, abs=1e-5)
    assert len({round(p, 4) for p in together}) == 3  # the questions are told apart
    # The shorter prompts were padded on the left, so every row ends on its own last token.
    inputs = batched.judge.prompter.inputs([batched.judge.prompter.chat(q, None) for q in questions], audio.samples[0][:16000])
    mask = inputs["attention_mask"]
    assert mask[:, -1].all() and not mask[0, 0]


@pytest.mark.parametrize("kind", ["qwen2-audio", "audio-flamingo3"])
def test_a_batch_computes_the_clips_features_once_and_matches_the_processors_own_batch(tiny, kind, monkeypatch):
    import torch

    prompter = judge(tiny[kind], kind=kind).judge.prompter
    samples = clip(3.0, seed=2).samples.reshape(-1)
    texts = [prompter.chat(q, None) for q in ("Is there a dog barking?", "Is the siren louder than the rain?", "Yes?")]
    own = prompter.processor(text=texts, audio=[samples] * 3, sampling_rate=16000, return_tensors="pt",
                             text_kwargs={"padding": True, "padding_side": "left"})
    extractor = type(prompter.processor.feature_extractor)
    calls = []
    real_call = extractor.__call__
    monkeypatch.setattr(extractor, "__call__", lambda self, *a, **kw: calls.append(1) or real_call(self, *a, **kw))
    batch = prompter.inputs(texts, samples)
    assert len(calls) == 1
    assert sorted(batch) == sorted(own) and all(torch.equal(batch[k], own[k]) for k in own)


def test_one_instance_serves_listener_captioner_and_critic(tiny):
    roles = {role: judge(tiny["qwen2-audio"], role=role, threshold=0.6) for role in ("listener", "captioner", "critic")}
    assert roles["listener"] is roles["captioner"] is roles["critic"]
    j = roles["listener"]
    assert isinstance(j, Listener) and isinstance(j, Captioner) and isinstance(j, Critic) and isinstance(j, ListensForPlan)
    assert judge(tiny["qwen2-audio"], threshold=0.7).judge is j.judge


# ---- questions and answers ----------------------------------------------------------------------


def test_a_plan_raises_presence_timing_count_order_and_loudness_questions():
    asked = Q.plan_questions(plan3())
    kinds = [(q.kind, q.event, q.other) for q in asked]
    assert kinds == [
        ("presence", 0, None), ("timing", 0, None), ("more_than_once", 0, None), ("count", 0, None),
        ("presence", 1, None), ("timing", 1, None),
        ("presence", 2, None),  # the rain fills the clip: no timing question
        ("order", 0, 1),  # the barks end before the siren starts
        ("loudness", 0, 2), ("loudness", 1, 2),  # the barks and the loud siren over the soft rain
    ]
    text = {k: q.text for k, q in zip(kinds, asked)}
    assert text[("presence", 0, None)] == "Is there a sound of bark (a dog barks) in this audio? Answer yes or no."
    assert "between 2 and 3.5 seconds" in text[("timing", 1, None)]
    assert "exactly 2 times" in text[("count", 0, None)]
    assert "bark (a dog barks) before a sound of siren" in text[("order", 0, 1)]
    assert "siren louder than a sound of rain" in text[("loudness", 1, 2)]
    assert all(q.text.endswith(Q.ANSWER_FORM) for q in asked)


def test_answers_become_the_observation(tiny, monkeypatch):
    j = judge(tiny["qwen2-audio"], threshold=0.5)
    asked = answering(monkeypatch, j, {
        "bark|exactly": 0.2, "bark|more than once": 0.8, "bark|between": 0.7, "bark": 0.9,
        "siren|louder": 0.6, "siren|between": 0.3, "siren": 0.75,
        "rain": 0.1,
    })
    obs = j.listen_for(clip(4.0), plan3())
    assert len(asked) == 10 and obs.listener == "qwen2-audio" and obs.duration_s == 4.0
    assert sorted((e.label, e.start_s, e.end_s, e.confidence) for e in obs.events) == [
        # "exactly 2" no but "more than once" yes: two barks, spread over the planned second.
        ("Bark", 0.0, 0.35, 0.9), ("Bark", 0.5, 0.85, 0.9),
        # Present but not at 2-3.5 s, and no time stated: the whole clip heard.
        ("Siren", 0.0, 4.0, 0.75),
    ]  # the rain answered no: not heard
    # Heard louder than the rain, as planned: each keeps its planned level (dB below the loudest).
    assert {e.label: e.loudness_db for e in obs.events} == {"Bark": -6.0, "Siren": 0.0}
    assert [a.p_yes for a in j.last_answers][:4] == [0.9, 0.7, 0.8, 0.2]


def test_stated_times_place_a_sound_heard_off_its_planned_time(tiny, monkeypatch):
    j = judge(tiny["qwen2-audio"], ask_times=True)
    answering(monkeypatch, j, {"siren|between": 0.2, "bark|between": 0.2}, default=0.9)
    said = {"siren": "It happens from 0.5 to 1.5 seconds.", "bark": "I am not sure."}
    monkeypatch.setattr(j.judge, "generate", lambda audio, request, **_: next(v for k, v in said.items() if k in request))
    obs = j.listen_for(clip(4.0), plan3())
    spans: dict[str, list] = {}
    for e in obs.events:
        spans.setdefault(e.label, []).append((e.start_s, e.end_s))
    assert spans["Siren"] == [(0.5, 1.5)]  # where the model said
    # No time stated: the whole clip, the two barks (count answered yes) spread over it.
    assert spans["Bark"] == [(0.0, 1.4), (2.0, 3.4)]
    assert spans["Rain"] == [(0.0, 4.0)]


def test_hints_are_asked_about_and_a_long_clip_is_cut_to_the_window(tiny, monkeypatch):
    j = judge(tiny["qwen2-audio"])
    answering(monkeypatch, j, {"dog": 0.8, "piano": 0.3})
    obs = j.listen(clip(6.0), hints=["Dog", "Piano", "Dog"])
    # The tiny model's window is 4 s: only that much is heard.
    assert [(e.label, e.start_s, e.end_s) for e in obs.events] == [("Dog", 0.0, 4.0)]
    assert obs.duration_s == 6.0 and any("first 4 s of the 6.0 s clip" in n for n in j.notes)


def test_without_hints_the_models_own_caption_is_asked_about(tiny, monkeypatch):
    j = judge(tiny["qwen2-audio"])
    asked = answering(monkeypatch, j, {"rain": 0.7, "bark": 0.2})
    written = '{"layout": [{"label": "Rain", "start_s": 0, "end_s": 3}, {"label": "Bark", "start_s": 1, "end_s": 2}]}'
    monkeypatch.setattr(j.judge, "generate", lambda *a, **k: written)
    obs = j.listen(clip(3.0))
    assert [(e.label, e.start_s, e.end_s) for e in obs.events] == [("Rain", 0.0, 3.0)]  # the bark was not confirmed
    assert any("bark" in q for q in asked)
    # A caption that never parses: nothing heard, and a note says why.
    monkeypatch.setattr(j.judge, "generate", lambda *a, **k: "rain, maybe")
    assert j.listen(clip(3.0, seed=9)).events == [] and any("heard nothing it could name" in n for n in j.notes)


# ---- captioner ----------------------------------------------------------------------------------


def test_the_captioner_parses_the_models_json(tiny, monkeypatch):
    j = judge(tiny["qwen2-audio"], role="captioner")
    written = ('{"layout": [{"label": "dogs barking", "start_s": 0.5, "end_s": 1.5, "count": 2}, {"label": "Rain"}],'
               ' "description": "A dog barks twice in the rain."}')
    requests = []
    monkeypatch.setattr(j.judge, "generate", lambda audio, request, **kw: requests.append((request, kw)) or written)
    caption = j.caption(Observation(duration_s=3.0), audio=clip(3.0))
    assert [(e.label, e.start_s, e.end_s, e.count) for e in caption.layout] == [("Rain", 0.0, 3.0, 1), ("Bark", 0.5, 1.5, 2)]
    assert caption.layout[1].phrase == "dogs barking" and caption.duration_s == 3.0
    assert caption.description == "A dog barks twice in the rain."
    assert caption.assumptions == ["Rain: no times stated, taken as the whole clip"]
    (request, kw), = requests
    assert "3 s clip" in request and kw["prefix"] == '{"layout": ['


def test_the_captioner_retries_with_the_error_then_fails_clearly(tiny, monkeypatch):
    j = judge(tiny["qwen2-audio"], role="captioner", max_retries=2)
    requests = []
    monkeypatch.setattr(j.judge, "generate", lambda audio, request, **kw: requests.append(request) or "a dog, I think")
    with pytest.raises(ModelOutputError) as info:
        j.caption(Observation(), audio=clip(2.0))
    assert len(requests) == 3
    assert "no JSON object" in requests[1] and "no JSON object" not in requests[0]
    message = str(info.value)
    assert "qwen2-audio" in message and "captioner caption in 3 tries" in message and "a dog, I think" in message


# ---- critic -------------------------------------------------------------------------------------


ACCEPTING = '{"verdict": "accept", "score": 0.9, "issues": [], "instructions": []}'


def heard_clip(j, monkeypatch, rules, written=ACCEPTING):
    """Listen to a clip with chosen answers (the critic judges what its own listener heard)."""
    answering(monkeypatch, j, rules)
    monkeypatch.setattr(j.judge, "generate", lambda audio, request, **kw: written)
    return j.listen_for(clip(4.0), plan3())


def test_the_critic_accepts_when_every_rating_is_high_and_nothing_is_severe(tiny, monkeypatch):
    j = judge(tiny["qwen2-audio"], role="critic", accept_at=0.7)
    obs = heard_clip(j, monkeypatch, {"quality": 0.8, "match the description": 0.9, "pleasant": 0.75})
    critique = j.critique(plan3(), RichCaption(duration_s=4.0), obs)
    assert critique.ratings == {"quality": 0.8, "alignment": 0.9, "aesthetics": 0.75}
    assert critique.verdict == "accept" and critique.issues == []
    assert critique.score == pytest.approx((0.8 + 0.9 + 0.75) / 3, abs=1e-4)


def test_a_low_rating_or_a_severe_answer_makes_the_critic_revise(tiny, monkeypatch):
    j = judge(tiny["qwen2-audio"], role="critic", accept_at=0.7)
    obs = heard_clip(j, monkeypatch, {"pleasant": 0.5})
    low = j.critique(plan3(), RichCaption(duration_s=4.0), obs)
    assert low.verdict == "revise" and low.issues == [] and low.ratings["aesthetics"] == 0.5
    # The barks not before the siren, the siren not in its span, counts and loudness wrong, the rain not heard.
    obs = heard_clip(j, monkeypatch, {"before": 0.1, "siren|between": 0.2, "exactly": 0.1, "more than once": 0.2,
                                      "louder": 0.3, "rain": 0.05})
    critique = j.critique(plan3(), RichCaption(duration_s=4.0), obs, unrendered=())
    kinds = {(i.kind, i.event_index): i.severity for i in critique.issues}
    assert kinds == {("count", 0): 0.5, ("timing", 1): 0.8, ("missing", 2): 1.0, ("order", 1): 0.9}
    # The loudness question pairs the siren with the unheard rain: no loudness issue on top of "missing".
    assert critique.verdict == "revise" and all(0.0 <= v <= 1.0 for v in critique.ratings.values())
    assert critique.score < 0.9 * 0.8**3
    assert "Rain was planned at 0-4 s but not heard" in next(i.message for i in critique.issues if i.kind == "missing")


def test_the_critic_adds_the_models_issues_and_names_unrendered_sounds(tiny, monkeypatch):
    j = judge(tiny["qwen2-audio"], role="critic")
    written = ('{"verdict": "revise", "score": 0.4, "issues": [{"kind": "quality", "label": "", "message": "Hiss.",'
               ' "severity": 0.4}], "instructions": ["Cleaner, please."]}')
    obs = heard_clip(j, monkeypatch, {}, written=written)
    critique = j.critique(plan3(), RichCaption(duration_s=4.0), obs, unrendered=["Siren"])
    assert [(i.kind, i.event_index, i.observed) for i in critique.issues] == [("missing", 1, "not rendered"), ("quality", None, "")]
    assert critique.instructions[0] == "Cleaner, please."


def test_without_its_own_hearing_the_critic_judges_the_observation(tiny):
    j = judge(tiny["qwen2-audio"], role="critic")
    # A round without audio: nothing heard, the siren not rendered.
    nothing = Observation(duration_s=4.0, listener="none")
    critique = j.critique(plan3(), RichCaption(duration_s=4.0), nothing, unrendered=["Siren"])
    assert [(i.kind, i.event_index, i.observed) for i in critique.issues] == [
        ("missing", 0, "not heard"), ("missing", 1, "not rendered"), ("missing", 2, "not heard")]
    assert critique.ratings == {} and critique.verdict == "revise" and critique.score == 0.0


def test_the_critic_still_hears_its_clip_when_whispers_words_were_merged_in(tiny, monkeypatch):
    from ualm_agent.schema import HeardEvent, SpeechSegment

    j = judge(tiny["qwen2-audio"], role="critic", accept_at=0.7)
    obs = heard_clip(j, monkeypatch, {"quality": 0.8, "match the description": 0.9, "pleasant": 0.75})
    # What the loop passes on when the plan has words: the judge's hearing plus Whisper's.
    merged = obs.model_copy(update={
        "events": [*obs.events, HeardEvent(label="Speech", start_s=0.5, end_s=1.5, confidence=0.9)],
        "speech": [SpeechSegment(start_s=0.5, end_s=1.5, text="come here")], "transcribed": True,
    })
    critique = j.critique(plan3(), RichCaption(duration_s=4.0), merged)
    assert critique.ratings == {"quality": 0.8, "alignment": 0.9, "aesthetics": 0.75}


def test_a_chat_template_without_the_audio_placeholder_is_refused(tiny):
    j = judge(tiny["qwen2-audio"])
    prompter = j.judge.prompter
    template = prompter.processor.chat_template
    try:
        prompter.processor.chat_template = "{% for m in messages %}{{ m['role'] }}: text only{% endfor %}"
        with pytest.raises(ModelUnavailableError, match=re.escape("no <|AUDIO|> placeholder")):
            j.score_questions(clip(1.0, seed=9), ["Is there a dog barking?"])
    finally:
        prompter.processor.chat_template = template


# ---- loading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FAMILIES)
def test_missing_weights_fail_in_seconds_naming_the_model(kind):
    backend = registry.get("listener", kind)
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as info:
        backend.build(backend.config_cls(device="cpu"))
    assert time.perf_counter() - started < 3.0
    message = str(info.value)
    assert DEFAULT_IDS[kind] in message and "--model" in message and "\n" not in message


def test_a_folder_of_another_family_fails_clearly(tiny):
    with pytest.raises(ModelUnavailableError) as info:
        judge(tiny["qwen2-audio"], kind="audio-flamingo3")
    message = str(info.value)
    assert "'qwen2_audio' model, not Audio Flamingo 3" in message and "nvidia/audio-flamingo-3-hf" in message


def test_a_folder_without_its_tokenizer_fails_clearly(tiny, tmp_path):
    folder = tmp_path / "no-tokenizer"
    shutil.copytree(tiny["audio-flamingo3"], folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()
    with pytest.raises(ModelUnavailableError, match="processor/tokenizer|empty tokenizer"):
        judge(folder, kind="audio-flamingo3")


@pytest.mark.parametrize("kind", FAMILIES)
def test_each_family_loads_scores_listens_and_writes(tiny, kind, monkeypatch):
    j = judge(tiny[kind], kind=kind)
    assert j.name == kind and j.judge.sample_rate == 16000
    audio = clip(3.0, rate=24000, seed=1)
    scores = j.score_questions(audio, ["Is there a sound of rain? Answer yes or no.", "Is this audio pleasant? Answer yes or no."])
    assert all(0.0 < p < 1.0 for p in scores) and scores[0] != scores[1]
    obs = j.listen_for(audio, plan3())
    assert obs.listener == kind and len(j.last_answers) == len(Q.plan_questions(plan3()))
    assert isinstance(j.ask(audio, "What do you hear?", max_new_tokens=3), str)  # the real generate step runs
    monkeypatch.setattr(j.judge, "generate", lambda *a, **k: '{"layout": [{"label": "Rain", "start_s": 0, "end_s": 3}]}')
    assert j.caption(obs, audio=audio).labels() == ["Rain"]


def test_the_full_omni_checkpoint_loads_only_its_thinker(tiny, tmp_path):
    full = build_tiny_qwen25_omni(tmp_path / "omni-full", full=True)
    assert json.loads((full / "config.json").read_text())["model_type"] == "qwen2_5_omni"
    audio, question = clip(2.0), ["Is there a sound of rain? Answer yes or no."]
    # Same seed, same weights: the nested thinker answers as the thinker-only folder does.
    assert judge(full, kind="qwen2.5-omni").score_questions(audio, question) == pytest.approx(
        judge(tiny["qwen2.5-omni"], kind="qwen2.5-omni").score_questions(audio, question), abs=1e-6)


# ---- evaluator ----------------------------------------------------------------------------------


def item() -> EvalItem:
    return EvalItem(id="dog-siren", prompt="a dog barks twice, then a siren", expected=Expected(events=[
        ExpectedEvent(label="dog barking", audioset="Bark", count=2, spans=[(0.2, 0.6), (1.0, 1.4)]),
        ExpectedEvent(label="Siren", onsets=[2.0]),
    ]))


def test_the_evaluator_with_a_judge_reports_judge_score(tiny):
    evaluator = Evaluator(EvaluatorConfig(listener={"kind": "qwen2-audio", "model": str(tiny["qwen2-audio"]), "device": "cpu"},
                                          use_minilm=False))
    audio = clip(3.0, seed=5)
    result = evaluator.evaluate(item(), audio)
    assert set(result) == set(RESULT_KEYS) and result["graded_by"] == "qwen2-audio"
    plan = expected_plan(item(), 3.0)
    assert [(e.label, e.phrase, e.start_s, e.end_s, e.count) for e in plan.layout] == [
        ("Bark", "dog barking", 0.2, 1.4, 2), ("Siren", "", 2.0, 3.0, 1)]
    scores = evaluator.listener.score_questions(audio, [q.text for q in Q.plan_questions(plan)])
    assert result["judge_score"] == pytest.approx(sum(scores) / len(scores))
    # Blind by default: the expected events never reach the hearing (only judge_score's questions),
    # or the judge would place each event it confirms at its expected time.
    listened = evaluator.listen(item(), audio)
    assert not any(e.start_s == 2.0 and e.label == "Siren" for e in listened.events)
    assert not {a.question.kind for a in evaluator.listener.last_answers} & {"timing", "count", "order"}
    # With hints on, the judge hears with the item's events as its plan.
    hinted = Evaluator(EvaluatorConfig(listener={"kind": "qwen2-audio", "model": str(tiny["qwen2-audio"]), "device": "cpu"},
                                       use_minilm=False, hints=True))
    hinted.listen(item(), audio)
    assert {a.question.kind for a in hinted.listener.last_answers} >= {"presence", "timing", "count", "order"}
    # Other listeners' results keep judge_score empty.
    assert evaluator.score_observation(item(), Observation(duration_s=3.0))["judge_score"] is None


def test_judge_score_is_a_unit_metric_in_the_summaries():
    rows = [{"item_id": f"i{k}", "round": 0, "final": True, "judge_score": v, "event_f1": 1.0}
            for k, v in enumerate([0.9, 0.95, 0.99])]
    summary = stats.summarize(rows)
    assert summary["metrics"] == ["event_f1", "judge_score"]
    ci = summary["final"]["judge_score"]
    assert ci["mean"] == pytest.approx(0.9467, abs=1e-4) and ci["high"] <= 1.0 and ci["n"] == 3
    assert "judge_score" in stats.render_markdown(summary)


# ---- CLI ----------------------------------------------------------------------------------------


def test_the_cli_runs_the_loop_with_a_judge_listener(tiny, tmp_path, cli_env):
    out = tmp_path / "runs"
    res = cli(["run", "a dog barks", "--listener", "qwen2-audio", "--model", f"listener={tiny['qwen2-audio']}",
               "--device", "cpu", "--reflect", "1", "--duration", "3", "--out", str(out), "--json"],
              {**cli_env, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert res.returncode == 0, res.stderr
    rounds = json.loads(res.stdout)["rounds"]
    assert rounds and not any(r["failed"] for r in rounds)
    (run_dir,) = run_dirs(out)
    assert 'kind = "qwen2-audio"' in (run_dir / "config.toml").read_text()
    heard = json.loads((run_dir / "summary.json").read_text())["rounds"]
    assert {r["observation"]["listener"] for r in heard} == {"qwen2-audio"}


def test_the_loop_with_one_judge_as_listener_captioner_and_critic(tiny, tmp_path, monkeypatch):
    spec = ComponentSpec(kind="qwen2-audio", model=str(tiny["qwen2-audio"]), device="cpu")
    config = AgentConfig(listener=spec, captioner=spec, critic=spec, duration_s=3.0, loop={"reflect": 1})
    components = build_components(config)
    assert components.listener is components.captioner is components.critic
    written = {"describe every sound": '{"layout": [{"label": "Bark", "start_s": 0.2, "end_s": 1.0}]}',
               "against its plan": '{"verdict": "revise", "score": 0.5, "issues": []}'}
    monkeypatch.setattr(components.listener.judge, "generate",
                        lambda audio, request, **kw: next(v for k, v in written.items() if k in request))
    result, _ = runner.run("a dog barks", config, out_root=tmp_path, components=components)
    assert len(result.rounds) == 2 and not any(r.failed for r in result.rounds)
    for r in result.rounds:
        assert r.observation.listener == "qwen2-audio" and r.heard.labels() == ["Bark"]
        # The critic found the clip its captioner heard: it rated it.
        assert set(r.critique.ratings) == {"quality", "alignment", "aesthetics"}


def test_components_lists_the_three_judges_with_how_to_get_them(cli_env):
    res = cli(["components", "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    by = {(r["role"], r["name"]): r for r in json.loads(res.stdout)}
    for kind in FAMILIES:
        for role in ("listener", "captioner", "critic"):
            row = by[(role, kind)]
            assert row["available"] and "transformers" in row["install"]
            assert row["weights"] == f"{DEFAULT_IDS[kind]}: not downloaded (offline); get it with `hf download {DEFAULT_IDS[kind]}`"
