"""Backend ``llm``: the chat-LLM planner, captioner, critic and reviser.

Parsing and post-processing run on the real backend object with only its
``generate`` call replaced by canned model text; the retry/failure path runs on
a tiny random chat model; one graph run uses the real offline SmolLM2 GGUF.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from tiny_llm import write_tiny_chat_model

from ualm_agent import builders, registry, runner
from ualm_agent.components.critics.matching import shared_matcher
from ualm_agent.components.llm import LlmRoles, outputs, prompting
from ualm_agent.components.llm.chat_model import json_closed
from ualm_agent.config import AgentConfig
from ualm_agent.errors import ModelUnavailableError, UsageError
from ualm_agent.schema import Critique, HeardEvent, Issue, LayoutEvent, Observation, RichCaption, SpeechSegment
from ualm_agent.structured import ModelOutputError


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return write_tiny_chat_model(tmp_path_factory.mktemp("llm") / "tiny-chat")


@pytest.fixture
def roles(tiny_model):
    return LlmRoles(model=str(tiny_model), device="cpu", max_new_tokens=24)


class Scripted:
    """Stands in for ``ChatModel.generate``: answers from a list, records each prompt."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str, *, max_new_tokens: int, answer_start: str = "") -> str:
        self.prompts.append(prompt)
        answer = self.answers.pop(0)
        # The backend has already written the answer's start into the prompt.
        assert prompt.endswith(answer_start) and answer.startswith(answer_start), (answer_start, answer)
        return answer[len(answer_start):]


def script(roles: LlmRoles, *answers: str) -> Scripted:
    fake = Scripted(list(answers))
    roles.chat.generate = fake
    return fake


PLAN = RichCaption(
    keywords=["a dog barks", "a car passes"],
    layout=[
        LayoutEvent(label="Bark", phrase="a dog barks", start_s=0.0, end_s=1.5),
        LayoutEvent(label="Car passing by", phrase="a car passes", start_s=2.0, end_s=10.0),
    ],
    description="A dog barks, then a car passes.",
    duration_s=10.0,
    assumptions=["No duration given; assumed 10 s."],
)


# ---- planner ----------------------------------------------------------------------------------


def test_planner_snaps_labels_clamps_times_sorts_and_keeps_the_duration(roles):
    fake = script(roles, '{"layout": [{"phrase": "a car passes", "label": "car passing", "start_s": 3, "end_s": 14}, '
                         '{"phrase": "a dog barks", "label": "Dog barking", "start_s": -1, "end_s": 2}], '
                         '"description": "A dog barks, then a car passes."}')
    plan = roles.plan("a dog barks then a car passes", duration_s=10.0)
    assert [(e.label, e.start_s, e.end_s) for e in plan.layout] == [("Bark", 0.0, 2.0), ("Car passing by", 3.0, 10.0)]
    assert [e.phrase for e in plan.layout] == ["a dog barks", "a car passes"]
    assert plan.keywords == ["a dog barks", "a car passes"]
    assert plan.duration_s == 10.0 and plan.description == "A dog barks, then a car passes."
    (prompt,) = fake.prompts
    assert "Clip: 10 s\nRequest: a dog barks then a car passes\nSounds: a dog barks | a car passes" in prompt
    # The few-shot examples travel with every request.
    assert "a doorbell rings, then footsteps" in prompt and '"label": "Doorbell"' in prompt


def test_planner_keeps_count_side_and_level_only_when_the_request_speaks_of_them(roles):
    answer = ('{"layout": [{"phrase": "a dog barks", "label": "Bark", "start_s": 0, "end_s": 4, "count": 3, '
              '"position": "left", "level": "loud"}]}')
    script(roles, answer, answer)
    asked = roles.plan("a dog barks three times on the left, loudly", duration_s=6.0)
    copied = roles.plan("a dog barks", duration_s=6.0)
    assert (asked.layout[0].count, asked.layout[0].position, asked.layout[0].level) == (3, "left", "loud")
    assert (copied.layout[0].count, copied.layout[0].position, copied.layout[0].level) == (1, "center", "normal")


def test_planner_passes_answers_and_an_answered_duration_wins(roles):
    fake = script(roles, '{"layout": [{"phrase": "rain", "label": "Rain", "start_s": 0, "end_s": 9}]}')
    plan = roles.plan("rain and thunder", duration_s=10.0, answers={"order": "all together", "duration": "5 s"})
    assert plan.duration_s == 5.0 and plan.layout[0].end_s == 5.0
    assert "Clip: 5 s" in fake.prompts[0] and "Answers: order: all together; duration: 5 s" in fake.prompts[0]


def test_a_bad_answer_is_retried_with_the_error_as_feedback(roles):
    fake = script(
        roles,
        '{"layout": [{"phrase": "a bell", "label": "Bell", "start_s": 12, "end_s": 13}]}',
        '{"layout": [{"phrase": "a bell", "label": "Bell", "start_s": 1, "end_s": 3}]}',
    )
    plan = roles.plan("a bell", duration_s=10.0)
    assert [(e.label, e.start_s) for e in plan.layout] == [("Bell", 1.0)]
    assert len(fake.prompts) == 2
    assert "not usable" not in fake.prompts[0]
    assert "Your last answer was not usable: Bell starts at 12 s, after the 10 s clip ends" in fake.prompts[1]


def test_text_that_never_parses_fails_after_the_retries_naming_model_and_text(roles, tiny_model):
    fake = script(roles, *(['{"layout": [{"phrase": "a dog barks", "start_s": 0, "end_s": 2}]}'] * 3))
    with pytest.raises(ModelOutputError) as caught:
        roles.plan("a dog barks", duration_s=10.0)
    message = str(caught.value)
    assert len(fake.prompts) == 3 and not fake.answers
    assert str(tiny_model) in message and "3 tries" in message and "a dog barks" in message and "layout[0] has no label" in message


# ---- captioner --------------------------------------------------------------------------------


def test_captioner_reads_merged_heard_sounds_and_keeps_the_clip_length(roles):
    observation = Observation(
        events=[
            HeardEvent(label="Bark", start_s=0.2, end_s=0.9, confidence=0.8),
            HeardEvent(label="Bark", start_s=1.1, end_s=1.6, confidence=0.7, balance=-0.6),
            HeardEvent(label="Vehicle", start_s=3.0, end_s=8.0, confidence=0.6),
        ],
        speech=[SpeechSegment(start_s=8.2, end_s=9.0, text=" hello there ")],
        duration_s=9.5,
    )
    fake = script(roles, '{"layout": [{"label": "Bark", "start_s": 0.2, "end_s": 1.6, "count": 2}, '
                         '{"label": "Vehicle", "start_s": 3.0, "end_s": 8.0, "count": 3}, '
                         '{"label": "speech", "phrase": "a voice says \'hello there\'", "start_s": 8.2, "end_s": 11}], '
                         '"description": "Two barks, a vehicle, then a voice."}')
    heard = roles.caption(observation)
    prompt = fake.prompts[0]
    assert "Clip: 9.5 s\nHeard:\n- Bark 0.2-1.6 s, 2 pieces\n- Vehicle 3.0-8.0 s\n- Speech 8.2-9.0 s, words: 'hello there'" in prompt
    assert heard.duration_s == 9.5
    # Counts up to the pieces heard (two barks), never more (one vehicle).
    assert [(e.label, e.count, e.end_s) for e in heard.layout] == [("Bark", 2, 1.6), ("Vehicle", 1, 8.0), ("Speech", 1, 9.5)]


# ---- critic -----------------------------------------------------------------------------------


HEARD = RichCaption(layout=[LayoutEvent(label="Bark", start_s=0.2, end_s=1.4)], duration_s=10.0)
OBSERVED = Observation(events=[HeardEvent(label="Bark", start_s=0.2, end_s=1.4, confidence=0.8)], duration_s=10.0)


def test_critic_ties_issues_to_planned_events_and_accept_with_a_severe_issue_becomes_revise(roles):
    fake = script(roles, '{"verdict": "Accept", "score": 0.6, "issues": [{"kind": "Missing", "label": "car passing by", '
                         '"message": "The car was not heard."}], "instructions": ["Make the car louder."]}')
    critique = roles.critique(PLAN, HEARD, OBSERVED, unrendered=())
    assert critique.verdict == "revise" and critique.score == 0.6
    (issue,) = critique.issues
    assert (issue.kind, issue.label, issue.event_index, issue.severity) == ("missing", "Car passing by", 1, 1.0)
    assert critique.instructions == ["Make the car louder."]
    assert "Planned:\n1. Bark (a dog barks) 0.0-1.5 s\n2. Car passing by (a car passes) 2.0-10.0 s\nHeard:\n- Bark 0.2-1.4 s" in fake.prompts[0]


def test_critic_accept_with_only_minor_issues_stays_accept(roles):
    script(roles, '{"verdict": "accept", "score": 0.9, "issues": [{"kind": "timing", "label": "Bark", '
                  '"message": "Bark started 0.2 s late.", "severity": 0.3}]}')
    critique = roles.critique(PLAN, HEARD, OBSERVED)
    assert critique.verdict == "accept" and critique.issues[0].event_index == 0


def test_critic_issue_about_an_unplanned_sound_or_a_bad_score_is_retried(roles):
    fake = script(
        roles,
        '{"verdict": "revise", "score": 0.3, "issues": [{"kind": "missing", "label": "Siren", "message": "not heard"}]}',
        '{"verdict": "revise", "score": 30, "issues": []}',
        '{"verdict": "revise", "score": 0.3, "issues": [{"kind": "missing", "label": "Car passing by", "message": "not heard"}]}',
    )
    critique = roles.critique(PLAN, HEARD, OBSERVED)
    assert critique.issues[0].event_index == 1
    assert "'Siren' is not a planned sound; planned: Bark, Car passing by" in fake.prompts[1]
    assert "score" in fake.prompts[2].split("not usable:")[1]


def test_critic_answer_missing_a_list_bracket_is_read_and_a_short_label_names_its_event(roles):
    # SmolLM2 closes an issue list with "}}" instead of "}]}"; the answer stops where the object closes.
    script(roles, '{"verdict": "revise", "score": 0.2, "issues": [{"kind": "missing", "label": "Car", '
                  '"message": "Car was planned at 2.0-10.0 s but not heard."}},')
    critique = roles.critique(PLAN, HEARD, OBSERVED)
    assert [(i.kind, i.label, i.event_index) for i in critique.issues] == [("missing", "Car passing by", 1)]
    assert outputs.close_lists('{"a": [{"b": "}"}} tail') == '{"a": [{"b": "}"}]}'
    assert outputs.close_lists('{"a": [1, 2)') is None


# ---- reviser ----------------------------------------------------------------------------------


CRITIQUE = Critique(
    score=0.4,
    verdict="revise",
    issues=[Issue(kind="missing", label="Car passing by", message="Car passing by was planned at 2.0-10.0 s but not heard.", event_index=1)],
    instructions=["Make the car louder."],
)


def test_reviser_uses_only_renderable_labels_and_records_what_changed(roles):
    plan = PLAN.model_copy(update={"layout": [PLAN.layout[0], PLAN.layout[1].model_copy(update={"label": "Motorboat", "phrase": "a motorboat passes"})]})
    renderable = ["Bark", "Car passing by", "Vehicle", "Piano"]
    fake = script(
        roles,
        '{"layout": [{"label": "Bark", "start_s": 0, "end_s": 1.5}, {"label": "Motorboat", "start_s": 2, "end_s": 10}]}',
        '{"layout": [{"label": "Bark", "start_s": 0, "end_s": 1.5}, {"label": "vehicle", "start_s": 2, "end_s": 10, "level": "loud"}]}',
    )
    revised = roles.revise(plan, CRITIQUE, renderable=renderable)
    assert [e.label for e in revised.layout] == ["Bark", "Vehicle"]
    assert revised.layout[1].level == "loud" and revised.duration_s == 10.0
    # What the model left out is kept from the plan: phrases of kept events, keywords, description, history.
    assert revised.layout[0].phrase == "a dog barks"
    assert revised.keywords == PLAN.keywords and revised.description == PLAN.description
    assert revised.assumptions[:-1] == PLAN.assumptions and revised.assumptions[-1].startswith("Revision: Vehicle")
    request = fake.prompts[0].rsplit("<|im_start|>user", 1)[1]
    allowed = request.split("Labels allowed: ")[1].split("<")[0].strip().split(", ")
    assert allowed[0] == "Bark" and "Motorboat" not in allowed and set(allowed) <= set(renderable)
    assert shared_matcher().nearest("Motorboat", ["Vehicle", "Piano"]) in allowed
    assert "Motorboat cannot be rendered" in fake.prompts[1]


def test_reviser_without_renderable_labels_takes_any_label(roles):
    fake = script(roles, '{"layout": [{"label": "Bark", "start_s": 0, "end_s": 1.5}, '
                         '{"label": "Car passing by", "start_s": 2.5, "end_s": 12}], "description": "A dog, then a car."}')
    revised = roles.revise(PLAN, CRITIQUE)
    assert [(e.label, e.start_s, e.end_s) for e in revised.layout] == [("Bark", 0.0, 1.5), ("Car passing by", 2.5, 10.0)]
    request = fake.prompts[0].rsplit("<|im_start|>user", 1)[1]
    assert "Labels allowed" not in request and '"label": "Car passing by"' in request
    assert revised.assumptions[-1] == "Revision: Car passing by 2.0-10.0 s -> 2.5-10.0 s."


def test_reviser_and_captioner_may_not_drop_sounds(roles):
    fake = script(
        roles,
        '{"layout": [{"label": "Car passing by", "start_s": 2, "end_s": 10, "level": "loud"}]}',
        '{"layout": [{"label": "Bark", "start_s": 0, "end_s": 1.5}, {"label": "Car passing by", "start_s": 2, "end_s": 10, "level": "loud"}]}',
        '{"layout": [{"label": "Bark", "start_s": 0.2, "end_s": 1.4, "level": "boom"}]}',
        '{"layout": [{"label": "Bark", "start_s": 0.2, "end_s": 1.4}, {"label": "Vehicle", "start_s": 3, "end_s": 8}]}',
    )
    revised = roles.revise(PLAN, CRITIQUE)
    assert [(e.label, e.level) for e in revised.layout] == [("Bark", "normal"), ("Car passing by", "loud")]
    assert "Bark is missing; keep every planned sound" in fake.prompts[1]
    observation = Observation(events=[*OBSERVED.events, HeardEvent(label="Vehicle", start_s=3, end_s=8, confidence=0.5)], duration_s=10)
    heard = roles.caption(observation)
    assert heard.labels() == ["Bark", "Vehicle"]
    assert "Vehicle is missing; describe every sound heard" in fake.prompts[3]


# ---- prompts and pieces -----------------------------------------------------------------------


@pytest.mark.parametrize("role", prompting.ROLE_PROMPTS)
def test_every_worked_example_is_a_valid_answer_of_its_role(role):
    spec = prompting.llm_prompts()[role]
    assert len(spec["examples"]) >= 2
    for example in spec["examples"]:
        answer = example["assistant"]
        assert answer.startswith(prompting.answer_start(role))
        if role == "critic":
            planned = [line.split(". ", 1)[1].rsplit(" ", 2)[0] for line in example["user"].splitlines() if line[:1].isdigit()]
            plan = RichCaption(layout=[LayoutEvent(label=p, start_s=0, end_s=1) for p in planned])
            outputs.critique_from(answer, plan=plan)
        else:
            caption = outputs.caption_from(answer, duration_s=10.0)
            # Example labels are AudioSet names already: snapping leaves them alone.
            assert all(outputs.snap_label(e.label) == e.label for e in caption.layout)


def test_json_end_is_found_outside_strings():
    assert not json_closed('{"layout": [{"label": "a } b"')
    assert json_closed('{"a": "x}\\"}", "b": {"c": 1}} and more')
    assert not json_closed('no object yet }')


# ---- the real model path: tiny random model ---------------------------------------------------


def test_a_random_model_fails_after_exactly_retries_plus_one_generations(tiny_model):
    roles = LlmRoles(model=str(tiny_model), device="cpu", max_new_tokens=32, retries=2)
    assert roles.chat.model is None  # nothing is loaded before the first use
    roles.chat.load()
    model = roles.chat.model
    calls = []
    real_generate = model.generate

    def counting(*args, **kwargs):
        calls.append(kwargs["max_new_tokens"])
        return real_generate(*args, **kwargs)

    model.generate = counting
    started = time.perf_counter()
    with pytest.raises(ModelOutputError, match="did not produce a valid planner plan in 3 tries"):
        roles.plan("a dog barks then a car passes", duration_s=10.0)
    assert calls == [32, 32, 32]
    assert time.perf_counter() - started < 30
    roles.chat.load()
    assert roles.chat.model is model  # loaded once


def test_sampling_is_seeded_and_greedy_is_the_default(tiny_model):
    messages = prompting.messages("planner", "Clip: 4 s\nRequest: a bell\nSounds: a bell")

    def answer(**settings):
        return LlmRoles(model=str(tiny_model), device="cpu", max_new_tokens=12, **settings).chat.complete(messages, prefix="{")

    assert answer() == answer()
    assert answer(temperature=1.0, seed=3) == answer(temperature=1.0, seed=3)
    assert len({answer(temperature=1.0, seed=k) for k in range(4)}) > 1


def test_model_files_come_from_the_pack_a_gguf_file_or_a_folder(tmp_path):
    from ualm_agent.components.llm.chat_model import model_files
    from ualm_agent.modelpacks import SMOLLM2

    pack = SMOLLM2.locate()
    assert model_files(None) == (pack.parent, pack.name)
    single = tmp_path / "single"
    single.mkdir()
    (single / "m.Q8_0.gguf").write_bytes(b"GGUF")
    assert model_files(str(single)) == (single, "m.Q8_0.gguf")
    assert model_files(str(single / "m.Q8_0.gguf")) == (single, "m.Q8_0.gguf")
    (single / "m.Q4_0.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelUnavailableError, match="several .gguf files .*gguf_file"):
        model_files(str(single))
    assert model_files(str(single), "m.Q4_0.gguf") == (single, "m.Q4_0.gguf")
    with pytest.raises(UsageError, match="it lacks m.Q2.gguf"):
        model_files(str(single), "m.Q2.gguf")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ModelUnavailableError, match="not a .gguf model"):
        model_files(str(tmp_path / "notes.txt"))


def test_one_instance_serves_the_four_roles(tiny_model):
    builders.clear_cache()
    settings = {"kind": "llm", "model": str(tiny_model), "device": "cpu"}
    config = AgentConfig.model_validate({role: settings for role in ("planner", "captioner", "critic", "reviser")})
    try:
        built = {role: builders.build_component(role, config) for role in ("planner", "captioner", "critic", "reviser")}
    finally:
        builders.clear_cache()
    assert len({id(b) for b in built.values()}) == 1
    assert isinstance(built["planner"], LlmRoles)


def test_an_absent_model_fails_fast_offline_naming_it():
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as caught:
        LlmRoles(model="nobody/no-such-chat-model")
    message = str(caught.value)
    assert time.perf_counter() - started < 10
    assert "nobody/no-such-chat-model" in message and "--model" in message and "\n" not in message


def test_components_lists_llm_for_its_four_roles_with_availability(monkeypatch, tmp_path):
    listed = {role: [b.name for b in backends] for role, backends in registry.all_backends().items()}
    assert all("llm" in listed[role] for role in ("planner", "captioner", "critic", "reviser"))
    backend = registry.get("critic", "llm")
    assert backend.availability() == (True, "")
    # Without the pack the default cannot load, but a chat model from elsewhere still can:
    # the backend stays available and only the default fails, naming how to supply it.
    monkeypatch.setenv("UALM_AGENT_SMOLLM2", str(tmp_path / "missing.gguf"))
    assert backend.availability() == (True, "")
    with pytest.raises(ModelUnavailableError, match="UALM_AGENT_SMOLLM2"):
        LlmRoles()


# ---- the real offline default: SmolLM2-135M-Instruct -----------------------------------------


@pytest.fixture(scope="module")
def smollm2():
    # One thread: on a busy shared machine two threads spinning on two cores ran several times slower.
    return LlmRoles(max_new_tokens=120, threads=1)


def test_smollm2_plans_and_critiques_a_dog_then_a_car_in_the_graph(tmp_path, smollm2):
    config = AgentConfig.load(planner="llm", critic="llm", **{"loop.reflect": 0}, duration_s=8.0)
    builders.clear_cache()
    try:
        components = builders.build_components(AgentConfig())
    finally:
        builders.clear_cache()
    components = dataclasses.replace(components, planner=smollm2, critic=smollm2)
    started = time.perf_counter()
    result, _ = runner.run("a dog barks then a car passes", config, out_root=tmp_path, components=components)
    elapsed = time.perf_counter() - started
    (only,) = result.rounds
    assert not only.failed and result.best_index == 0
    labels = [e.label for e in only.plan.layout]
    matcher = shared_matcher()
    dog = [i for i, label in enumerate(labels) if matcher.matches("Bark", label) or matcher.matches("Dog", label)]
    car = [i for i, label in enumerate(labels) if matcher.matches("Vehicle", label) or matcher.matches("Car", label)]
    assert dog and car and dog[0] < car[0], labels
    starts = [e.start_s for e in only.plan.layout]
    assert starts[dog[0]] <= starts[car[0]] and only.plan.duration_s == 8.0
    critique = only.critique
    assert critique is not None and 0.0 <= critique.score <= 1.0
    # Every issue names a planned sound (or, for "extra", a heard one), tied to its event.
    assert all(i.kind in ("extra", "quality") or i.event_index is not None for i in critique.issues)
    print(f"SmolLM2 graph run: {elapsed:.1f} s (model load included); plan: {only.plan.to_text()!r}; "
          f"heard: {[e.label for e in only.heard.layout]}; critique: {critique.to_text()!r}")


def test_smollm2_revises_keeping_every_planned_sound(smollm2):
    critique = Critique(score=0.2, verdict="revise", issues=[
        Issue(kind="missing", label="Car passing by", message="Car passing by was planned at 2.0-10.0 s but not heard.",
              event_index=1)])
    started = time.perf_counter()
    revised = smollm2.revise(PLAN, critique, renderable=["Bark", "Car passing by", "Vehicle"])
    elapsed = time.perf_counter() - started
    # SmolLM2's first answer keeps only the car; the retry (told to keep every sound) keeps both.
    assert revised.labels() == ["Bark", "Car passing by"] and revised.duration_s == PLAN.duration_s
    assert revised.assumptions[: len(PLAN.assumptions)] == PLAN.assumptions
    print(f"SmolLM2 reviser: {elapsed:.1f} s; {revised.to_text()!r}; {revised.assumptions[-1:]}")
