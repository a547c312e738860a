"""Codecs xcodec and encodec on tiny random weights, built through the config and registry as a user's run would."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from tiny_audio_models import (
    build_tiny_encodec,
    build_tiny_xcodec,
    write_random_encodec_package_checkpoint,
)

from ualm_agent import registry
from ualm_agent.builders import build_component
from ualm_agent.config import AgentConfig, ComponentSpec
from ualm_agent.errors import ConfigError, ModelUnavailableError
from ualm_agent.waveform import Waveform


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="session")
def tiny_xcodec(tmp_path_factory):
    return build_tiny_xcodec(tmp_path_factory.mktemp("xcodec"))


@pytest.fixture(scope="session")
def tiny_encodec(tmp_path_factory):
    return build_tiny_encodec(tmp_path_factory.mktemp("encodec"))


@pytest.fixture(scope="session")
def encodec_checkpoint(tmp_path_factory):
    """A random-weight state dict in the published file's format, as a user would pass a downloaded one."""
    return write_random_encodec_package_checkpoint(tmp_path_factory.mktemp("encodec_th") / "encodec_24khz.th")


def codec(**settings):
    return build_component("codec", AgentConfig(codec=ComponentSpec(**settings)))


def fresh_codec(**settings):
    """Built through the registry without the process-wide instance cache (for tests of loading itself)."""
    backend = registry.get("codec", settings["kind"])
    return backend.build(backend.config_cls.model_validate(settings))


def noise(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> Waveform:
    rng = np.random.default_rng(seed)
    return Waveform((0.2 * rng.standard_normal((channels, int(seconds * rate)))).astype(np.float32), rate)


def chirp(seconds: float, rate: int) -> Waveform:
    t = np.arange(int(seconds * rate)) / rate
    return Waveform((0.5 * np.sin(2 * np.pi * (100 + 2000 * t) * t)).astype(np.float32), rate)


# ---- xcodec --------------------------------------------------------------------------------


def test_xcodec_round_trip_is_16k_mono_at_50_frames_per_second(tiny_xcodec):
    c = codec(kind="xcodec", model=str(tiny_xcodec), device="cpu")
    assert (c.sample_rate, c.frame_rate, c.num_codebooks) == (16000, 50.0, 8)
    codes = c.encode(noise(1.5, 44100, channels=2))  # resampled and mixed down on the way in
    assert codes.shape == (8, 75) and codes.dtype == np.int64
    assert codes.min() >= 0 and codes.max() < 1024
    assert len(np.unique(codes)) > 8  # real quantization, not a constant
    out = c.decode(codes)
    assert (out.sample_rate, out.channels, out.frames) == (16000, 1, 75 * 320)
    assert np.all(np.isfinite(out.samples))


@pytest.mark.parametrize(("bandwidth", "codebooks"), [(0.5, 1), (1.0, 2), (2.0, 4), (4.0, 8)])
def test_xcodec_bandwidth_sets_the_codebook_count(tiny_xcodec, bandwidth, codebooks):
    c = codec(kind="xcodec", model=str(tiny_xcodec), bandwidth=bandwidth, device="cpu")
    # 1,024 codes = 10 bits per code, 50 frames/s.
    assert c.num_codebooks == codebooks == int(bandwidth * 1000 / (10 * 50))
    assert c.encode(noise(0.4, 16000)).shape == (codebooks, 20)


def test_xcodec_negative_codes_decode_as_code_zero(tiny_xcodec):
    c = codec(kind="xcodec", model=str(tiny_xcodec), device="cpu")
    codes = c.encode(noise(0.5, 16000))
    padded = codes.copy()
    padded[:, :3] = -1
    zeroed = codes.copy()
    zeroed[:, :3] = 0
    np.testing.assert_array_equal(c.decode(padded).samples, c.decode(zeroed).samples)
    assert not np.array_equal(c.decode(padded).samples, c.decode(codes).samples)


def test_load_xcodec_loads_once_and_frozen(tiny_xcodec):
    from ualm_agent.components.codecs.xcodec import load_xcodec

    first = load_xcodec(str(tiny_xcodec), device="cpu", dtype="float32")
    again = load_xcodec(str(tiny_xcodec), device=torch.device("cpu"), dtype=torch.float32)
    assert first is again
    assert not first.training and not any(p.requires_grad for p in first.parameters())


# ---- encodec -------------------------------------------------------------------------------


def encodec_settings(implementation, tiny_encodec, encodec_checkpoint, **extra):
    if implementation == "package":
        return dict(kind="encodec", implementation="package", checkpoint=str(encodec_checkpoint), device="cpu", **extra)
    return dict(kind="encodec", implementation="transformers", model=str(tiny_encodec), device="cpu", **extra)


@pytest.mark.parametrize("implementation", ["package", "transformers"])
def test_encodec_round_trip_is_24k_at_75_frames_per_second(implementation, tiny_encodec, encodec_checkpoint):
    c = codec(**encodec_settings(implementation, tiny_encodec, encodec_checkpoint, bandwidth=6.0))
    assert (c.sample_rate, c.frame_rate, c.channels, c.num_codebooks) == (24000, 75.0, 1, 8)
    codes = c.encode(noise(1.0, 16000))
    assert codes.shape == (8, 75) and codes.dtype == np.int64
    assert 0 <= codes.min() and codes.max() < 1024
    np.testing.assert_array_equal(c.encode(noise(1.0, 16000)), codes)
    assert not np.array_equal(c.encode(chirp(1.0, 16000)), codes)
    out = c.decode(codes)
    assert (out.sample_rate, out.channels, out.frames) == (24000, 1, 24000)
    assert np.all(np.isfinite(out.samples)) and np.abs(out.samples).max() > 0


@pytest.mark.parametrize("implementation", ["package", "transformers"])
def test_encodec_bandwidth_and_codebook_count_agree(implementation, tiny_encodec, encodec_checkpoint):
    clip = noise(0.2, 24000)
    for bandwidth, codebooks in [(1.5, 2), (3.0, 4), (6.0, 8), (12.0, 16), (24.0, 32)]:
        c = codec(**encodec_settings(implementation, tiny_encodec, encodec_checkpoint, bandwidth=bandwidth))
        assert c.num_codebooks == codebooks, bandwidth
        assert c.encode(clip).shape == (codebooks, 15)


@pytest.mark.parametrize(
    ("settings", "allowed"),
    [
        (dict(kind="xcodec", bandwidth=3.0), "0.5, 1, 1.5, 2, 4"),
        (dict(kind="encodec", implementation="transformers", bandwidth=5.0), "1.5, 3, 6, 12, 24"),
    ],
)
def test_a_wrong_bandwidth_is_a_one_line_usage_error(settings, allowed, tiny_xcodec, tiny_encodec):
    settings = dict(settings, model=str(tiny_xcodec if settings["kind"] == "xcodec" else tiny_encodec), device="cpu")
    with pytest.raises(ConfigError) as info:
        codec(**settings)
    message = str(info.value)
    assert "\n" not in message and f"{settings['bandwidth']:g} kbps" in message and allowed in message


def test_encodec_48khz_stereo_keeps_its_loudness_scale(tmp_path):
    folder = build_tiny_encodec(
        tmp_path / "encodec48", sampling_rate=48000, audio_channels=2, normalize=True, chunk_length_s=1.0,
        overlap=0.01, target_bandwidths=[3.0, 6.0, 12.0, 24.0],
    )
    c = codec(kind="encodec", implementation="transformers", model=str(folder), bandwidth=6.0, device="cpu")
    assert (c.sample_rate, c.channels, c.frame_rate, c.num_codebooks) == (48000, 2, 150.0, 4)
    quiet, loud = noise(1.5, 16000), noise(1.5, 16000)
    loud = Waveform(loud.samples * 4, loud.sample_rate)
    codes_quiet, codes_loud = c.encode(quiet), c.encode(loud)
    assert codes_quiet.shape == (4, 225)
    np.testing.assert_allclose(codes_loud.scale, 4 * codes_quiet.scale, rtol=1e-3)
    out_quiet, out_loud = c.decode(codes_quiet), c.decode(codes_loud)
    assert (out_quiet.channels, out_quiet.frames) == (2, 72000)
    ratio = np.abs(out_loud.samples).max() / np.abs(out_quiet.samples).max()
    assert ratio == pytest.approx(4, rel=1e-2)


def test_encodec_package_weights_come_from_torch_hub_cache(monkeypatch, tmp_path, encodec_checkpoint):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "encodec_24khz-d7cc33bc.th"
    assert torch.hub.get_dir() == str(cached.parent.parent)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(encodec_checkpoint.read_bytes())
    c = fresh_codec(kind="encodec", implementation="package", bandwidth=3.0, device="cpu")
    assert c.encode(noise(0.2, 24000)).shape == (4, 15)


def test_encodec_package_without_weights_offline_fails_fast_naming_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch"))
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as info:
        fresh_codec(kind="encodec", implementation="package", bandwidth=3.0, device="cpu")
    assert time.perf_counter() - started < 3.0
    message = str(info.value)
    assert "encodec_24khz-d7cc33bc.th" in message and "https://dl.fbaipublicfiles.com/encodec/v0/" in message
    assert "`checkpoint`" in message and "\n" not in message


def test_encodec_package_rejects_a_file_that_is_not_its_state_dict(tmp_path):
    bad = tmp_path / "other.th"
    torch.save({"weight": torch.zeros(3)}, bad)
    with pytest.raises(ConfigError, match="not a state dict of the 24khz EnCodec model"):
        codec(kind="encodec", implementation="package", checkpoint=str(bad), device="cpu")


def test_xcodec_absent_model_offline_fails_fast_with_the_id():
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as info:
        codec(kind="xcodec", model="hf-audio/xcodec-not-downloaded", device="cpu")
    assert time.perf_counter() - started < 3.0
    assert "hf-audio/xcodec-not-downloaded" in str(info.value) and "--model" in str(info.value)


IMPORT_ORDER_CHECK = """
import importlib.util, sys
assert importlib.util.find_spec("torchaudio") is None, "torchaudio must not be installed"
from ualm_agent.components.codecs.encodec import import_encodec
encodec = import_encodec()
model = encodec.EncodecModel.encodec_model_24khz(pretrained=False)
assert "torchaudio" not in sys.modules
# transformers' audio models still import and see no torchaudio after the package is loaded.
from transformers import ClapModel, EncodecModel, MusicgenForConditionalGeneration, XcodecModel
from transformers.utils import is_torchaudio_available
assert not is_torchaudio_available() and "torchaudio" not in sys.modules
import encodec.utils, torch
try:
    encodec.utils.convert_audio(torch.zeros(1, 10), 24000, 16000, 1)
except ImportError as exc:
    assert "torchaudio is not installed" in str(exc)
    print("ok")
"""


def test_the_encodec_package_imports_without_torchaudio_and_transformers_audio_models_still_import(cli_env):
    env = {**cli_env, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", IMPORT_ORDER_CHECK], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"
