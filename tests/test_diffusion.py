"""Diffusion backends stable-audio and audioldm2 on tiny random pipelines: as generators, as sources
of the composer's mixer, through the config and the CLI; weights, seeds, takes and failures."""

from __future__ import annotations

import importlib.util
import json
import shutil
import time

import numpy as np
import pytest
import soundfile as sf
from test_cli import cli
from tiny_diffusion_models import build_tiny_audioldm2, build_tiny_stable_audio

from ualm_agent import registry
from ualm_agent.audio import check_signal
from ualm_agent.builders import build_component
from ualm_agent.components.generators import diffusion
from ualm_agent.components.generators.composer import Composer
from ualm_agent.config import AgentConfig, ComponentSpec
from ualm_agent.errors import ConfigError, ModelUnavailableError, UsageError
from ualm_agent.roles import GenerationRequest, SoundRequest, SoundSource
from ualm_agent.schema import LayoutEvent, RichCaption

pytestmark = pytest.mark.usefixtures("one_torch_thread")

STEPS = 2


@pytest.fixture(scope="session")
def tiny_stable_audio(tmp_path_factory):
    return build_tiny_stable_audio(tmp_path_factory.mktemp("diffusion") / "stable-audio")


@pytest.fixture(scope="session")
def tiny_audioldm2(tmp_path_factory):
    return build_tiny_audioldm2(tmp_path_factory.mktemp("diffusion") / "audioldm2")


@pytest.fixture
def tiny(request, tiny_stable_audio, tiny_audioldm2):
    """(kind, folder) for a test parametrized by backend name."""
    return request.param, {"stable-audio": tiny_stable_audio, "audioldm2": tiny_audioldm2}[request.param]


BOTH = pytest.mark.parametrize("tiny", ["stable-audio", "audioldm2"], indirect=True)


def generator(kind, folder, **settings):
    spec = ComponentSpec(kind=kind, model=str(folder), device="cpu", steps=STEPS, **settings)
    return build_component("generator", AgentConfig(generator=spec))


def fresh(kind, folder, **settings):
    """A new instance (its own batch cache), on the process's shared weights."""
    backend = registry.get("source", kind)
    return backend.build(backend.config_cls(kind=kind, model=str(folder), device="cpu", steps=STEPS, **settings))


def caption(duration_s: float) -> RichCaption:
    return RichCaption(
        keywords=["a dog barks", "a car horn"],
        layout=[LayoutEvent(label="Bark", phrase="a dog barks", start_s=0.0, end_s=duration_s / 2),
                LayoutEvent(label="Vehicle horn, car horn, honking", phrase="a car horn", start_s=duration_s / 2,
                            end_s=duration_s)],
        description="A dog barks, then a car horn",
        duration_s=duration_s,
    )


def request(duration_s: float, seed: int = 0) -> GenerationRequest:
    plan = caption(duration_s)
    return GenerationRequest(caption=plan, text=plan.to_text(), duration_s=duration_s, seed=seed)


@pytest.fixture
def pipeline_calls(monkeypatch):
    """Every call into a diffusers pipeline, as its keyword arguments (with the prompt)."""
    from diffusers import AudioLDM2Pipeline, StableAudioPipeline

    calls: list[dict] = []
    for cls in (StableAudioPipeline, AudioLDM2Pipeline):
        original = cls.__call__

        def counted(self, prompt=None, *args, _original=original, **kwargs):
            calls.append({"prompt": prompt, **kwargs})
            return _original(self, prompt, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", counted)
    return calls


# --- generator ------------------------------------------------------------------------------------


@BOTH
def test_a_clip_has_the_requested_duration_at_the_pipelines_rate(tiny):
    kind, folder = tiny
    rate, channels = {"stable-audio": (44100, 2), "audioldm2": (16000, 1)}[kind]
    result = generator(kind, folder).generate(request(1.3))
    audio = result.audio
    assert (audio.sample_rate, audio.channels, audio.frames) == (rate, channels, round(1.3 * rate))
    assert check_signal(audio) == ""
    # The layout is not placed by a whole-clip render: the notes say so and how to place it.
    (note,) = result.notes
    assert '"A dog barks, then a car horn"' in note and f'sources = [{{kind = "{kind}"}}]' in note


@BOTH
def test_the_same_seed_gives_the_same_clip_and_another_seed_another(tiny):
    kind, folder = tiny
    first = fresh(kind, folder).generate(request(1.0, seed=5)).audio.samples
    again = fresh(kind, folder).generate(request(1.0, seed=5)).audio.samples
    other = fresh(kind, folder).generate(request(1.0, seed=6)).audio.samples
    shifted = fresh(kind, folder, seed=1).generate(request(1.0, seed=5)).audio.samples
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # The settings' seed is added to the request's: seed 1 on request 5 is request 6's draw.
    np.testing.assert_array_equal(shifted, other)


def test_the_prompt_is_the_captions_words_not_its_structured_form(tiny_stable_audio, pipeline_calls):
    fresh("stable-audio", tiny_stable_audio).generate(request(1.0))
    assert pipeline_calls[-1]["prompt"] == "A dog barks, then a car horn"
    plan = caption(1.0).model_copy(update={"description": "A dog barks"})
    assert diffusion.clip_prompt(GenerationRequest(plan, plan.to_text(), 1.0, 0)) == "A dog barks, a car horn"
    # A caller's own text is used as given.
    assert diffusion.clip_prompt(GenerationRequest(plan, "rain on a tin roof", 1.0, 0)) == "rain on a tin roof"


def test_a_clip_longer_than_the_model_makes_is_refused_naming_the_limit(tiny_stable_audio, tiny_audioldm2):
    with pytest.raises(UsageError, match=r"stable-audio .* makes at most 5\.94 s per clip; 8 s was asked for"):
        generator("stable-audio", tiny_stable_audio).generate(request(8.0))
    with pytest.raises(UsageError, match=r"audioldm2 .* makes at most 2\.00 s per clip; 3 s was asked for"):
        generator("audioldm2", tiny_audioldm2, max_duration_s=2.0).generate(request(3.0))


# --- sound source -------------------------------------------------------------------------------


def test_as_a_source_it_matches_any_sound_but_silence(tiny_stable_audio):
    source = fresh("stable-audio", tiny_stable_audio, takes=3, quality=0.7)
    assert isinstance(source, SoundSource) and source.name == "stable-audio"
    match = source.find("Bark", "a dog barks")
    assert (match.sound, match.quality, match.takes, match.stand_in) == ("a dog barks", 0.7, 3, False)
    assert source.find("Quasar hum").sound == "Quasar hum"
    assert source.find("Silence") is None and source.find("  ") is None
    # What the reviser may swap an unheard label for: the AudioSet classes the listener names.
    labels = source.labels()
    assert "Bark" in labels and "Silence" not in labels and len(labels) == 526


def test_in_the_composer_each_event_sounds_in_its_span_and_pans(tiny_stable_audio):
    spec = ComponentSpec(kind="composer", sources=[
        {"kind": "stable-audio", "model": str(tiny_stable_audio), "device": "cpu", "steps": STEPS}])
    composer = build_component("generator", AgentConfig(generator=spec))
    assert [s.name for s in composer.sources] == ["stable-audio"]
    assert composer.can_render("Quasar hum") and "Silence" not in composer.renderable_labels()
    plan = RichCaption(layout=[
        LayoutEvent(label="Bark", phrase="a dog barks", start_s=0.3, end_s=1.2, position="left"),
        LayoutEvent(label="Vehicle horn, car horn, honking", phrase="a car horn", start_s=1.6, end_s=2.6,
                    position="right"),
    ], duration_s=3.0)
    result = composer.generate(GenerationRequest(caption=plan, text=plan.to_text(), duration_s=3.0, seed=1))
    assert result.unrendered == () and result.notes == ()
    mix, sr = result.audio.samples, result.audio.sample_rate
    assert (sr, mix.shape) == (16000, (2, 3 * 16000))

    def span(a, b):
        return mix[:, round(a * sr) : round(b * sr)]

    bark, horn = span(0.3, 1.2), span(1.6, 2.6)
    for part in (bark, horn):
        assert np.sqrt(np.mean(part**2)) > 0.01
    # Silence between and around the events: the mixer placed each render in its own span.
    for a, b in ((0.0, 0.3), (1.2, 1.6), (2.6, 3.0)):
        assert np.abs(span(a, b)).max() == 0.0
    energy = lambda x: float(np.sum(x**2))  # noqa: E731
    assert energy(bark[0]) > 4 * energy(bark[1]) and energy(horn[1]) > 4 * energy(horn[0])


def test_takes_are_one_batch_so_the_next_take_costs_nothing(tiny_stable_audio, pipeline_calls):
    source = fresh("stable-audio", tiny_stable_audio, takes=3)
    match = source.find("Bark", "a dog barks")
    ask = dict(label="Bark", phrase="a dog barks", duration_s=0.5, sample_rate=16000, seed=(7, 0, 1))
    take0 = source.render(match, SoundRequest(**ask, take=0))
    take1 = source.render(match, SoundRequest(**ask, take=1))
    take0_again = source.render(match, SoundRequest(**ask, take=0))
    assert len(pipeline_calls) == 1 and pipeline_calls[0]["num_waveforms_per_prompt"] == 3
    assert take0.dtype == np.float32 and take0.shape == take1.shape == (8000,)
    assert not np.allclose(take0, take1)
    np.testing.assert_array_equal(take0, take0_again)
    # Another seed is another batch.
    source.render(match, SoundRequest(**{**ask, "seed": (8, 0, 1)}))
    assert len(pipeline_calls) == 2


def test_a_counted_repeat_asks_for_one_hit_and_a_short_one_is_cut_from_the_shortest_render(
        tiny_audioldm2, pipeline_calls):
    source = fresh("audioldm2", tiny_audioldm2)
    match = source.find("Knock", "a door knocks")
    out = source.render(match, SoundRequest(label="Knock", phrase="a door knocks", duration_s=0.01,
                                            sample_rate=22050, single=True))
    (call,) = pipeline_calls
    assert call["prompt"] == "a door knocks" + diffusion.SINGLE_HIT
    # The tiny model's shortest clip: one latent frame, 2 mel frames of 10 ms.
    assert call["audio_length_in_s"] == pytest.approx(source.min_duration_s) == pytest.approx(0.02)
    assert out.shape == (round(0.01 * 22050),)


# --- weights --------------------------------------------------------------------------------------


def test_a_generator_and_a_source_on_one_model_share_its_weights(tmp_path, tiny_stable_audio, monkeypatch):
    folder = shutil.copytree(tiny_stable_audio, tmp_path / "copy")
    loads = []
    real_load = diffusion._load
    monkeypatch.setattr(diffusion, "_load", lambda *args: loads.append(args) or real_load(*args))
    gen = generator("stable-audio", folder)
    composer = Composer(sources=[{"kind": "stable-audio", "model": str(folder), "device": "cpu", "takes": 2}])
    (source,) = composer.sources
    assert source is not gen and source.settings.takes == 2
    assert source.pipe is gen.pipe and len(loads) == 1


@pytest.mark.parametrize("kind, model", [("stable-audio", "stabilityai/stable-audio-open-1.0"),
                                         ("audioldm2", "cvssp/audioldm2")])
def test_absent_default_weights_offline_fail_in_seconds_saying_how_to_supply_them(kind, model):
    backend = registry.get("generator", kind)
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as info:
        backend.build(backend.config_cls(kind=kind, device="cpu"))
    assert time.perf_counter() - started < 3.0
    message = str(info.value)
    assert "\n" not in message and model in message and "--model" in message and f"hf download {model}" in message


def test_a_folder_of_another_pipeline_fails_clearly(tiny_audioldm2):
    with pytest.raises(ModelUnavailableError, match="holds the pipeline 'AudioLDM2Pipeline', not StableAudioPipeline; .*hf download stabilityai"):
        generator("stable-audio", tiny_audioldm2)


def test_stable_audio_opens_scheduler_runs_and_without_torchsde_the_install_is_named(tmp_path, tiny_stable_audio,
                                                                                      monkeypatch):
    # The published model's scheduler draws its noise with torchsde, which the diffusers extra installs.
    folder = shutil.copytree(tiny_stable_audio, tmp_path / "cosine")
    index = folder / "model_index.json"
    index.write_text(json.dumps({**json.loads(index.read_text()),
                                 "scheduler": ["diffusers", "CosineDPMSolverMultistepScheduler"]}))
    made = generator("stable-audio", folder).generate(request(1.0))
    assert made.audio.samples.shape[-1] == made.audio.sample_rate and not check_signal(made.audio)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torchsde" else real_find_spec(name, *a))
    ok, reason = registry.get("generator", "stable-audio").availability()
    assert not ok and "torchsde" in reason and "ualm-agent[diffusers]" in reason


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("setting, value, says", [
    ("steps", 0, "steps: Input should be greater than or equal to 1, got 0"),
    ("takes", 9, "takes: Input should be less than or equal to 8, got 9"),
    ("guidance", -1.0, "guidance: Input should be greater than or equal to 1, got -1.0"),
    ("quality", 1.5, "quality: Input should be less than or equal to 1, got 1.5"),
])
def test_bad_settings_fail_with_one_line_naming_them(setting, value, says):
    for kind in ("stable-audio", "audioldm2"):
        with pytest.raises(ConfigError) as info:
            build_component("generator", AgentConfig(generator=ComponentSpec(kind=kind, **{setting: value})))
        assert str(info.value) == f"invalid settings for generator {kind!r}: {says}"
    with pytest.raises(ConfigError) as info:
        Composer(sources=["dsp", {"kind": "stable-audio", setting: value}])
    assert str(info.value) == f"invalid settings for composer source 'stable-audio': {says}"


def test_a_composer_source_table_must_name_its_kind_and_known_settings():
    with pytest.raises(ConfigError, match=r"names no source; give it a kind, e\.g\. \{kind = \"stable-audio\""):
        Composer(sources=[{"steps": 50}])
    with pytest.raises(ConfigError, match="composer source 'stable-audio': stepz: Extra inputs are not permitted"):
        Composer(sources=[{"kind": "stable-audio", "stepz": 50}])
    with pytest.raises(ConfigError, match="unknown source 'stable-audi'"):
        Composer(sources=[{"kind": "stable-audi"}])


# --- CLI ------------------------------------------------------------------------------------------


def test_the_cli_runs_a_round_with_stable_audio_as_the_generator(tmp_path, one_thread_env, tiny_stable_audio):
    out = tmp_path / "runs"
    res = cli(["run", "a dog barks then a car horn", "--generator", "stable-audio",
               "--model", f"generator={tiny_stable_audio}", "--device", "cpu", "--reflect", "0", "--duration", "3",
               "--out", str(out), "--json"], one_thread_env)
    assert res.returncode == 0, res.stderr
    (round_0,) = json.loads(res.stdout)["rounds"]
    assert not round_0["failed"] and round_0["score"] is not None
    run_dir = next(p for p in out.iterdir() if p.is_dir())
    assert 'kind = "stable-audio"' in (run_dir / "config.toml").read_text()
    generated, rate = sf.read(run_dir / "round_00_gen.wav")
    assert rate == 44100 and generated.shape == (3 * 44100, 2)


def test_components_lists_both_backends_with_their_weights_and_install_hint(one_thread_env, monkeypatch):
    res = cli(["components", "--json"], one_thread_env)
    assert res.returncode == 0, res.stderr
    by = {(r["role"], r["name"]): r for r in json.loads(res.stdout)}
    for kind, model in (("stable-audio", "stabilityai/stable-audio-open-1.0"), ("audioldm2", "cvssp/audioldm2")):
        for role in ("generator", "source"):
            row = by[(role, kind)]
            assert row["available"] and row["description"], row
            assert row["weights"] == f"{model}: not downloaded (offline); get it with `hf download {model}`"
            assert row["install"] == "pip install 'ualm-agent[diffusers]'"
    # Without diffusers, each says how to install it.
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "diffusers" else real_find_spec(name, *a))
    for kind in ("stable-audio", "audioldm2"):
        assert registry.get("source", kind).availability() == (
            False, "missing diffusers; install with: pip install 'ualm-agent[diffusers]'")


def test_a_config_names_stable_audio_as_a_composer_source_with_its_settings(tmp_path, one_thread_env,
                                                                            tiny_stable_audio):
    config = tmp_path / "diffusion.toml"
    config.write_text(f"""
[generator]
kind = "composer"
sources = ["dsp", {{ kind = "stable-audio", model = "{tiny_stable_audio}", device = "cpu", steps = {STEPS} }}]
""")
    out = tmp_path / "runs"
    res = cli(["run", "a dog barks then a car horn", "--config", str(config), "--reflect", "0", "--duration", "3",
               "--out", str(out), "--json"], one_thread_env)
    assert res.returncode == 0, res.stderr
    (round_0,) = json.loads(res.stdout)["rounds"]
    assert not round_0["failed"]
    run_dir = next(p for p in out.iterdir() if p.is_dir())
    # The run folder's config keeps the table, so a resume builds the same source.
    saved = AgentConfig.load(run_dir / "config.toml").generator.settings()["sources"]
    assert saved == ["dsp", {"kind": "stable-audio", "model": str(tiny_stable_audio), "device": "cpu", "steps": STEPS}]
    generated, rate = sf.read(run_dir / "round_00_gen.wav")
    assert rate == 16000 and generated.shape == (3 * 16000, 2) and np.abs(generated).max() > 0


def test_the_top_level_device_and_dtype_reach_a_composer_source(tiny_stable_audio):
    spec = ComponentSpec(kind="composer", sources=[{"kind": "stable-audio", "model": str(tiny_stable_audio), "steps": STEPS}])
    composer = build_component("generator", AgentConfig(generator=spec, device="cpu", dtype="float32"))
    (source,) = composer.sources
    assert source.settings.device == "cpu" and source.settings.dtype == "float32"
    # A source's own table wins over the composer's.
    own = ComponentSpec(kind="composer", sources=[{"kind": "stable-audio", "model": str(tiny_stable_audio),
                                                   "steps": STEPS, "dtype": "bfloat16"}])
    (source,) = build_component("generator", AgentConfig(generator=own, device="cpu", dtype="float32")).sources
    assert source.settings.dtype == "bfloat16"
