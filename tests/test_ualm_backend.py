"""The `ualm` backend: one loaded model as planner, generator, captioner, critic and listener.

The tiny random UALM is first taught (tests/ualm_teaching.py) to answer this
file's prompts, so the roles run the product's whole path, from sequence
building through decoding to the typed data, and the graph runs end to end.
The generator's tests use the untaught model (the taught one ends audio at once,
having learnt <|eos|>), steered (tests/tiny_ualm.Boosted) where a test needs the
model to end its audio at a known frame.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tiny_ualm import Boosted, make_tiny_ualm_folder
from ualm_teaching import teach
from ualm_agent import builders
from ualm_agent.config import AgentConfig
from ualm_agent.errors import ModelUnavailableError
from ualm_agent.roles import GenerationRequest
from ualm_agent.schema import Critique, LayoutEvent, Observation, RichCaption
from ualm_agent.structured import ModelOutputError
from ualm_agent.waveform import Waveform

PARITY = Path(__file__).resolve().parent / "data" / "ualm-nvidia-parity"
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


def _backend(folder, **settings):
    from ualm_agent.components.ualm.backend import UalmBackend

    return UalmBackend(model=str(folder), device="cpu", **settings)


def _request(seed: int = 1) -> GenerationRequest:
    return GenerationRequest(caption=PLAN, text=PLAN.to_text(), duration_s=DURATION, seed=seed)


def _ending_at(ualm, step: int, token: str = "<|eos|>", *, once: bool = False):
    """The backend's model made to write `token` in stream 0 at audio step `step` (pass 0 is the prefill)."""
    ualm.lm = Boosted(ualm.lm, ualm.lm.vocab.special(token), after=step, until=step + 1 if once else None)
    return ualm


def test_generator_keeps_the_length_the_model_chose_and_says_so(random_folder):
    ualm = _ending_at(_backend(random_folder), 57)  # 57 delayed frames hold 50 whole frames: 1 s
    result = ualm.generate(_request())
    assert result.audio.sample_rate == 16000 and result.audio.duration_s == pytest.approx(1.0)
    assert np.isfinite(result.audio.samples).all() and np.abs(result.audio.samples).max() > 0
    assert result.notes == ("UALM ended the audio at 1.00 s; 4.00 s was requested; kept as the model made it "
                            "(duration_mode 'model')",)
    at_once = _ending_at(_backend(random_folder), 0).generate(_request())
    assert at_once.audio.duration_s == pytest.approx(0.02) and np.abs(at_once.audio.samples).max() == 0
    assert at_once.notes == ("UALM ended the audio at once (no frames; 4.00 s requested); 0.02 s of silence stands "
                             "in for it",)


def test_generator_trims_or_pads_to_the_request_when_asked_and_says_so(random_folder):
    short = _ending_at(_backend(random_folder, duration_mode="trim_or_pad"), 57).generate(_request())
    assert short.audio.duration_s == pytest.approx(DURATION)
    assert np.abs(short.audio.samples[0, 16000:]).max() == 0  # the padding is silence
    assert short.notes == ("UALM made 1.00 s; padded with 3.00 s of silence to the requested 4.00 s "
                           "(duration_mode 'trim_or_pad')",)
    long = _ending_at(_backend(random_folder, duration_mode="trim_or_pad"), 257).generate(_request())
    assert long.audio.duration_s == pytest.approx(DURATION)
    assert long.notes == ("UALM made 5.00 s; trimmed to the requested 4.00 s (duration_mode 'trim_or_pad')",)


def test_generator_can_force_the_requested_length_as_an_option(random_folder):
    def take(seed):
        ualm = _ending_at(_backend(random_folder, duration_mode="forced", force_delay_pads=True), 0)
        return ualm.generate(_request(seed))

    first, again, other = take(1), take(1), take(2)
    # The model's <|eos|> from the first frame on is held back: the length is the request's.
    assert first.audio.duration_s == pytest.approx(DURATION) and first.notes == ()
    assert np.array_equal(first.audio.samples, again.audio.samples)
    assert not np.array_equal(first.audio.samples, other.audio.samples)


def test_generator_states_the_step_cap_when_the_model_does_not_end_the_audio(random_folder):
    result = _backend(random_folder, max_audio_steps=32).generate(_request(seed=3))
    assert result.audio.duration_s == pytest.approx((32 - 7) / 50)
    assert result.notes[0] == "UALM did not end the audio within the step cap (32 steps); it was cut there " \
                              "(max_audio_steps)"
    assert "kept as the model made it" in result.notes[1]


def test_generator_goes_on_after_eot_and_appends_the_next_audio_segment(random_folder):
    ualm = _ending_at(_backend(random_folder, max_audio_steps=60), 57, "<|eot|>", once=True)
    ualm = _ending_at(ualm, 58, "<|audio|>", once=True)  # pass 58: the model's choice of what follows
    result = ualm.generate(_request())
    # 50 frames, then a second segment cut by the cap at 60 steps: 53 frames.
    assert result.audio.duration_s == pytest.approx((50 + 53) / 50)
    assert result.notes[:2] == ("after <|eot|> UALM went on with another audio segment (1.06 s), appended to the clip",
                                "UALM did not end the audio within the step cap (60 steps); it was cut there "
                                "(max_audio_steps)")


def test_text_after_eot_is_stated_not_heard(random_folder):
    ualm = _ending_at(_backend(random_folder, max_text_tokens=4), 57, "<|eot|>", once=True)
    ualm = _ending_at(ualm, 58, "<|text|>", once=True)
    result = ualm.generate(_request())
    assert result.audio.duration_s == pytest.approx(1.0)
    assert result.notes[0].startswith("after <|eot|> UALM went on with text, not part of the clip: '")


def test_a_clip_longer_than_the_encoder_hears_is_cut_and_said_so(random_folder):
    ualm = _backend(random_folder)
    assert ualm.lm.encoder.max_seconds == 300  # the Omni front end's chunk_length, as in the recipe
    long = Waveform(np.random.default_rng(1).normal(0, 0.1, 16000 * 301).astype(np.float32), 16000)
    messages = ualm.hear_messages(long)
    assert messages[1].content.shape[0] == 300 * 25
    assert ualm.unheard_note(long) == ("The model heard only the first 300 s of this 301.0 s clip "
                                       "(its qwen2.5-omni encoder's front end takes no more).")
    assert ualm.unheard_note(Waveform(long.samples[:, : 16000 * 300], 16000)) == ""


def test_the_graph_runs_end_to_end_on_the_unified_model(taught_folder, tmp_path):
    from ualm_agent.graphs.context import AgentContext
    from ualm_agent.graphs.reflection import build_graph, run_config

    # The taught model learnt text answers only: under the recipe's decoding it ends audio at once, and the
    # round would fail on a silent clip. The option that holds decoding to the requested length keeps it audible.
    ctx = AgentContext(config=_config(taught_folder, duration_mode="forced"), workdir=str(tmp_path))
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
    assert not first.failed, first.error
    assert first.plan.labels() == ["Dog", "Car"]
    assert first.observation.listener == "ualm" and first.heard.labels() == ["Dog", "Car"]
    # Listener and captioner are one model hearing one clip: it captions the clip once.
    assert heard_calls == [1]
    assert first.critique == VERDICT
    assert result.accepted and len(result.rounds) == 1
    assert first.audio.sample_rate == 16000 and first.audio.duration_s == pytest.approx(DURATION)
    assert first.notes == []  # a forced length leaves nothing to state


def test_cli_switches_every_role_to_the_model_with_one_model_flag(taught_folder, tmp_path, cli_env):
    role_flags = [x for role in ROLES for x in (f"--{role}", "ualm")]
    # As in the graph test: the taught model ends audio at once unless its length is held to the request.
    config = tmp_path / "forced-length.toml"
    config.write_text('[generator]\nkind = "ualm"\nduration_mode = "forced"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "ualm_agent.cli", "run", PROMPT, "--config", str(config), *role_flags, "--vae", "identity",
         "--model", str(taught_folder), "--device", "cpu", "--duration", str(DURATION), "--json", "-o", str(tmp_path)],
        capture_output=True, text=True, env=cli_env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["accepted"] and summary["rounds"][0]["score"] == pytest.approx(0.9)


def test_nvidia_s_checkpoint_serves_the_backend_with_nvidia_s_text(tmp_path):
    from ualm_agent.components.ualm.backend import UalmBackend
    from ualm_agent.components.ualm.sequence import audio_to_caption_messages

    ualm = UalmBackend(checkpoint=str(PARITY / "checkpoint"), backbone=str(PARITY / "backbone"),
                       codec=str(PARITY / "xcodec"), encoder=str(PARITY / "encoder"), device="cpu",
                       dtype="float32", attn_implementation="eager", max_audio_steps=20)
    with np.load(PARITY / "refs.npz") as refs:
        wav, nvidia_tokens = refs["wav"], refs["text_tokens"][:-1, 0]
    # The backend's text path (segments, greedy first try) writes what NVIDIA's code decoded for this prompt.
    caption = ualm._answer(audio_to_caption_messages(ualm.lm.encode_audio(wav)), parse=str, what="caption")
    assert caption == ualm.lm.tokenizer.decode(ualm.lm.vocab.text_tokens(nvidia_tokens.tolist()))
    result = ualm.generate(_request())
    assert 0 < result.audio.duration_s <= (20 - 7) / 50 and np.isfinite(result.audio.samples).all()
    assert any("4.00 s was requested" in note for note in result.notes)


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
