"""Generator musicgen on a tiny random MusicGen, through the config, the graph and the CLI."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import soundfile as sf
from test_cli import cli
from tiny_audio_models import build_tiny_musicgen, build_tiny_xcodec

from ualm_agent import registry
from ualm_agent.audio import check_signal
from ualm_agent.builders import build_component
from ualm_agent.config import AgentConfig, ComponentSpec
from ualm_agent.errors import ModelUnavailableError
from ualm_agent.roles import GenerationRequest
from ualm_agent.schema import LayoutEvent, RichCaption


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="session")
def tiny_musicgen(tmp_path_factory):
    return build_tiny_musicgen(tmp_path_factory.mktemp("musicgen"))


def musicgen(folder, **settings):
    spec = ComponentSpec(kind="musicgen", model=str(folder), device="cpu", **settings)
    return build_component("generator", AgentConfig(generator=spec))


def request(duration_s: float, seed: int = 0) -> GenerationRequest:
    caption = RichCaption(
        keywords=["dog", "bark"],
        layout=[LayoutEvent(label="dog barking", phrase="a dog barks", start_s=0.0, end_s=duration_s)],
        description="a dog barks in a yard",
        duration_s=duration_s,
    )
    return GenerationRequest(caption=caption, text=caption.to_text(), duration_s=duration_s, seed=seed)


@pytest.mark.parametrize("duration_s", [1.0, 0.73])
def test_guided_generation_gives_audio_of_the_requested_duration(tiny_musicgen, duration_s):
    gen = musicgen(tiny_musicgen, guidance_scale=3.0)
    assert (gen.sample_rate, gen.frame_rate, gen.num_codebooks) == (32000, 50.0, 4)
    audio = gen.generate(request(duration_s)).audio
    assert (audio.sample_rate, audio.channels, audio.frames) == (32000, 1, round(duration_s * 32000))
    assert check_signal(audio) == ""
    # The token budget covers the whole clip: its end is generated audio, not padding.
    assert np.abs(audio.samples[0, -320:]).max() > 0


def test_duration_maps_to_tokens_through_the_frame_rate(tiny_musicgen):
    gen = musicgen(tiny_musicgen)
    # 50 frames per second, plus the delay pattern's extra steps for 4 codebooks.
    assert gen.tokens_for(10.0) == 504
    assert gen.tokens_for(0.73) == 37 + 4


def test_same_seed_gives_identical_audio_and_another_seed_differs(tiny_musicgen):
    gen = musicgen(tiny_musicgen, guidance_scale=3.0)
    first = gen.generate(request(1.0, seed=5)).audio.samples
    again = gen.generate(request(1.0, seed=5)).audio.samples
    other = gen.generate(request(1.0, seed=6)).audio.samples
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_guidance_scale_changes_what_is_sampled(tiny_musicgen):
    guided = musicgen(tiny_musicgen, guidance_scale=3.0).generate(request(0.5, seed=1)).audio.samples
    plain = musicgen(tiny_musicgen, guidance_scale=1.0).generate(request(0.5, seed=1)).audio.samples
    assert not np.array_equal(guided, plain)


def test_an_absent_model_offline_fails_fast_in_process():
    backend = registry.get("generator", "musicgen")
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as info:
        backend.build(backend.config_cls(model="facebook/musicgen-not-downloaded", device="cpu"))
    assert time.perf_counter() - started < 3.0
    assert "facebook/musicgen-not-downloaded" in str(info.value) and "--model" in str(info.value)


def test_an_absent_model_fails_with_one_line_through_the_cli(tmp_path, one_thread_env):
    res = cli(["run", "a dog barks", "--generator", "musicgen", "--model", "facebook/musicgen-not-downloaded",
               "--reflect", "0", "--out", str(tmp_path / "runs")], one_thread_env)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    (line,) = [ln for ln in res.stderr.splitlines() if "musicgen-not-downloaded" in ln]
    assert "--model" in line


def test_musicgen_runs_one_round_in_the_graph_through_the_cli(tmp_path, one_thread_env, tiny_musicgen):
    xcodec = build_tiny_xcodec(tmp_path / "xcodec")
    out = tmp_path / "runs"
    res = cli(["run", "a dog barks twice", "--generator", "musicgen", "--model", f"generator={tiny_musicgen}",
               "--codec", "xcodec", "--model", f"codec={xcodec}", "--device", "cpu", "--reflect", "0",
               "--duration", "2", "--out", str(out), "--json"], one_thread_env)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    (round_0,) = summary["rounds"]
    assert not round_0["failed"] and round_0["score"] is not None
    run_dir = next(p for p in out.iterdir() if p.is_dir())
    config = (run_dir / "config.toml").read_text()
    assert 'kind = "musicgen"' in config and 'kind = "xcodec"' in config
    # MusicGen's 32 kHz take went through the X-codec round trip (16 kHz, 50 frames/s) before the vae.
    generated, rate = sf.read(run_dir / "round_00_gen.wav")
    assert rate == 16000 and len(generated) == 2 * 16000
    final = sf.read(run_dir / "final.wav")[0]
    assert final.ndim == 2 and np.abs(final).max() > 0
