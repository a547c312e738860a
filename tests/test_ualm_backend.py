"""The `ualm` backend: one loaded model as planner, generator, captioner, critic and listener.

The tiny random UALM is first taught (tests/ualm_teaching.py) to answer this
file's prompts, so the roles run the product's whole path, from sequence
building through decoding to the typed data, and the graph runs end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tiny_ualm import make_tiny_ualm_folder, write_nvidia_checkpoint
from ualm_teaching import teach
from ualm_agent import builders
from ualm_agent.config import AgentConfig
from ualm_agent.errors import ModelUnavailableError
from ualm_agent.roles import GenerationRequest
from ualm_agent.schema import Critique, LayoutEvent, Observation, RichCaption
from ualm_agent.structured import ModelOutputError
from ualm_agent.waveform import Waveform

PROMPT = "a dog barks then a car passes"
DURATION = 4.0
PLAN = RichCaption(
    keywords=["Dog", "Car"],
    layout=[
        LayoutEvent(label="Dog", phrase="a dog barks", start_s=0.0, end_s=1.5),
        LayoutEvent(label="Car", phrase="a car passes", start_s=2.0, end_s=4.0),
    ],
    description="a dog barks, then a car passes",
    duration_s=DURATION,
)
VERDICT = Critique(score=0.9, verdict="accept", instructions=["keep the order"])
ROLES = ("planner", "generator", "captioner", "critic", "listener")


def _config(folder, **extra) -> AgentConfig:
    spec = {"kind": "ualm", "model": str(folder), "device": "cpu", **extra}
    return AgentConfig.model_validate({**{role: spec for role in ROLES}, "vae": {"kind": "identity"}, "duration_s": DURATION})


@pytest.fixture(scope="module")
def random_folder(tmp_path_factory):
    return make_tiny_ualm_folder(tmp_path_factory.mktemp("ualm-random") / "ualm")


@pytest.fixture(scope="module")
def taught_folder(random_folder, tmp_path_factory):
    """The tiny UALM taught this file's plan, critique and caption answers, saved as a UALM folder."""
    from ualm_agent.components.ualm.backend import UalmBackend
    from ualm_agent.components.ualm.checkpoint import save_pretrained
    from ualm_agent.components.ualm.sequence import build_sequence

    backend = UalmBackend(model=str(random_folder), device="cpu")
    lm = backend.lm

    def as_text_task(messages):
        seq = build_sequence(lm.vocab, messages, tokenizer=lm.tokenizer, modality="text")
        features = [m.content for m in messages if m.modality == "audio"]
        return seq.with_features(features) if features else seq

    rng = np.random.default_rng(0)
    heard_examples = [
        (as_text_task(backend.hear_messages(Waveform(rng.standard_normal(int(16000 * DURATION)) * 0.1, 16000))), PLAN.to_text())
        for _ in range(2)
    ]
    examples = [
        (as_text_task(backend.plan_messages(PROMPT, duration_s=DURATION)), PLAN.to_text()),
        (as_text_task(backend.critique_messages(PLAN, PLAN)), VERDICT.to_text()),
        *heard_examples,
    ]
    loss = teach(lm, examples)
    assert loss < 0.05
    folder = tmp_path_factory.mktemp("ualm-taught") / "ualm"
    save_pretrained(lm, folder)
    return folder


@pytest.fixture(autouse=True)
def _fresh_cache():
    builders.clear_cache()
    yield
    builders.clear_cache()


def test_one_loaded_model_serves_every_role(taught_folder):
    parts = builders.build_components(_config(taught_folder))
    assert parts.planner is parts.generator is parts.captioner is parts.critic is parts.listener


def test_roles_parse_model_text_into_the_typed_data(taught_folder):
    ualm = builders.build_component("planner", _config(taught_folder))
    assert ualm.plan(PROMPT, duration_s=DURATION) == PLAN.model_copy(update={"layout": PLAN.layout})
    assert ualm.critique(PLAN, PLAN, Observation()) == VERDICT
    noise = Waveform(np.random.default_rng(5).standard_normal(int(16000 * DURATION)) * 0.1, 16000)
    assert ualm.caption(Observation(), audio=noise).labels() == ["Dog", "Car"]
    observation = ualm.listen(noise)
    assert [e.label for e in observation.events] == ["Dog", "Car"] and observation.listener == "ualm"
    assert observation.events[1].start_s == pytest.approx(2.0)


def test_generator_decodes_codes_to_audio_of_the_planned_length(taught_folder):
    ualm = builders.build_component("generator", _config(taught_folder))

    def take(seed):
        return ualm.generate(GenerationRequest(caption=PLAN, text=PLAN.to_text(), duration_s=DURATION, seed=seed)).audio

    first, again, other = take(1), take(1), take(2)
    assert first.sample_rate == 16000 and first.duration_s == pytest.approx(DURATION)
    assert np.isfinite(first.samples).all() and np.abs(first.samples).max() > 0
    assert np.array_equal(first.samples, again.samples)
    assert not np.array_equal(first.samples, other.samples)


def test_the_graph_runs_end_to_end_on_the_unified_model(taught_folder, tmp_path):
    from ualm_agent.graphs.context import AgentContext
    from ualm_agent.graphs.reflection import build_graph, run_config

    ctx = AgentContext(config=_config(taught_folder), workdir=str(tmp_path))
    ualm = ctx.roles.listener
    heard_calls = [0]
    hear_messages = ualm.hear_messages

    def counted(audio):
        heard_calls[0] += 1
        return hear_messages(audio)

    ualm.hear_messages = counted
    out = build_graph().invoke({"prompt": PROMPT}, run_config(ctx), context=ctx)
    result = out["result"]
    first = result.rounds[0]
    assert first.plan.labels() == ["Dog", "Car"]
    assert first.observation.listener == "ualm" and first.heard.labels() == ["Dog", "Car"]
    # Listener and captioner are one model hearing one clip: it captions the clip once.
    assert heard_calls == [1]
    assert first.critique == VERDICT
    assert result.accepted and len(result.rounds) == 1
    assert first.audio.sample_rate == 16000 and first.audio.duration_s == pytest.approx(DURATION)


def test_cli_switches_every_role_to_the_model_with_one_model_flag(taught_folder, tmp_path, cli_env):
    role_flags = [x for role in ROLES for x in (f"--{role}", "ualm")]
    proc = subprocess.run(
        [sys.executable, "-m", "ualm_agent.cli", "run", PROMPT, *role_flags, "--vae", "identity",
         "--model", str(taught_folder), "--device", "cpu", "--duration", str(DURATION), "--json", "-o", str(tmp_path)],
        capture_output=True, text=True, env=cli_env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["accepted"] and summary["rounds"][0]["score"] == pytest.approx(0.9)


def test_a_checkpoint_of_the_recipe_serves_the_roles(taught_folder, tmp_path):
    from ualm_agent.components.ualm.backend import UalmBackend

    taught = UalmBackend(model=str(taught_folder), device="cpu")
    ckpt = write_nvidia_checkpoint(taught.lm, tmp_path / "global_step100")
    sources = taught_folder.parent.parent / "ualm-random0" / "ualm-sources"
    if not sources.exists():  # the random folder's sources sit beside it
        sources = next(taught_folder.parent.parent.glob("ualm-random*/ualm-sources"))
    from_ckpt = UalmBackend(
        checkpoint=str(ckpt), backbone=str(sources / "backbone"), codec=str(sources / "xcodec"),
        encoder=str(sources / "omni"), device="cpu",
    )
    assert from_ckpt.plan(PROMPT, duration_s=DURATION) == taught.plan(PROMPT, duration_s=DURATION)


def test_text_that_never_parses_fails_after_bounded_retries(random_folder):
    from ualm_agent.components.ualm.backend import UalmBackend

    untaught = UalmBackend(model=str(random_folder), device="cpu", max_text_tokens=12, retries=1)
    with pytest.raises(ModelOutputError, match=r"did not produce a valid rich caption in 2 tries"):
        untaught.plan(PROMPT, duration_s=DURATION)


def test_no_weights_says_how_to_supply_them(tmp_path, cli_env):
    from ualm_agent.components.ualm.backend import UalmBackend

    with pytest.raises(ModelUnavailableError, match="no pretrained UALM is published"):
        UalmBackend()
    proc = subprocess.run(
        [sys.executable, "-m", "ualm_agent.cli", "run", PROMPT, "--planner", "ualm", "--model", "nvidia/ualm-nonexistent",
         "-o", str(tmp_path)],
        capture_output=True, text=True, env=cli_env, timeout=120,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert "nvidia/ualm-nonexistent" in lines[-1] and "--model" in lines[-1] and "Traceback" not in proc.stderr
