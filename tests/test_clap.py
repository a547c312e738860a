"""Listener ``clap``: a tiny random ClapModel through the transformers path, and
LAION checkpoints through a stand-in ``laion_clap`` module with the real API."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

import fake_laion_clap
from ualm_agent import registry
from ualm_agent.errors import ConfigError, ModelUnavailableError
from ualm_agent.waveform import Waveform

RATE = 48000
pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def tiny_clap(tmp_path_factory):
    from tiny_listener_models import build_tiny_clap

    return build_tiny_clap(tmp_path_factory.mktemp("clap") / "model")


def _tone_clip(duration: float, parts: list[tuple[float, float, float]], seed: int = 0) -> Waveform:
    """Stereo 48 kHz: sine tones (start, end, Hz) over a -70 dBFS noise floor."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration * RATE)) / RATE
    mono = rng.standard_normal(t.size) * 10 ** (-70 / 20)
    for start, end, hz in parts:
        inside = (t >= start) & (t < end)
        mono[inside] += 0.3 * np.sin(2 * np.pi * hz * t[inside])
    return Waveform(np.stack([mono, mono]).astype(np.float32), RATE)


def _clap(**settings):
    from ualm_agent.components.listeners.clap import ClapListener

    return ClapListener(**settings)


def test_registered_with_availability():
    backend = registry.get("listener", "clap")
    assert backend.availability() == (True, "")
    assert "clap" in registry.names("listener")


def test_score_is_the_models_cosine_similarity(tiny_clap):
    import torch
    from transformers import ClapModel, ClapProcessor

    listener = _clap(model=str(tiny_clap))
    audio = _tone_clip(1.5, [(0.2, 1.2, 440.0)])
    text = "This is a sound of dog barking."
    score = listener.score(audio, text)
    model, processor = ClapModel.from_pretrained(tiny_clap), ClapProcessor.from_pretrained(tiny_clap)
    features = processor.feature_extractor([audio.mono()], sampling_rate=RATE, truncation="rand_trunc", return_tensors="pt")
    tokens = processor.tokenizer([text], return_tensors="pt")
    with torch.inference_mode():
        out = model(**tokens, **features)
        expected = float(out.logits_per_audio[0, 0] / model.logit_scale_a.exp())
    assert score == pytest.approx(expected, abs=1e-4)
    assert -1.0 <= score <= 1.0
    assert listener.score(audio, text) == pytest.approx(score, abs=1e-6)  # deterministic
    assert listener.score(audio, "a bell rings") != pytest.approx(score, abs=1e-6)


def test_windows_softmax_over_labels_and_negatives(tiny_clap):
    listener = _clap(model=str(tiny_clap), window_s=1.0, hop_s=0.5)
    labels, negatives = listener.vocabulary(["Dog", "Bell", "Dog", "speech"])
    assert labels == ["Dog", "Bell", "speech"]  # de-duplicated, the plan's own words kept
    assert negatives == ["Silence", "Noise", "Music"]  # a negative the plan names is a label
    assert listener.vocabulary(["Male speech, man speaking", "White noise"])[1] == ["Silence", "Music"]
    # With no plan labels the AudioSet names are the vocabulary.
    assert len(listener.vocabulary([])[0]) == 521
    probs, hop, window = listener.window_scores(_tone_clip(3.0, [(0.5, 2.0, 440.0)]), labels + negatives)
    assert (hop, window) == (0.5, 1.0)
    assert probs.shape == (1 + 4, 6)  # windows starting at 0, 0.5, ... 2.0
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # The window never exceeds the model's input (2 s for the tiny model).
    _, _, window = _clap(model=str(tiny_clap), window_s=5.0).window_scores(_tone_clip(3.0, []), ["Dog"])
    assert window == 2.0


def test_listen_reports_only_plan_labels_where_the_signal_sounds(tiny_clap):
    # Thresholds at zero accept every label everywhere: what is left to check is
    # that events carry the plan's labels and are trimmed to the sounding part.
    listener = _clap(model=str(tiny_clap), threshold=0.0, release_threshold=0.0, window_s=1.0, hop_s=0.5)
    audio = _tone_clip(5.0, [(1.0, 3.0, 440.0)])
    obs = listener.listen(audio, hints=["Dog", "Bell"])
    assert obs.listener == "clap" and obs.duration_s == 5.0 and obs.loudness_lufs is not None
    assert {e.label for e in obs.events} == {"Dog", "Bell"}
    for e in obs.events:
        assert 0.9 <= e.start_s <= 1.1 and 2.9 <= e.end_s <= 3.1, e
        assert e.loudness_db == pytest.approx(20 * np.log10(0.3 / np.sqrt(2)), abs=0.5)
    # The default thresholds on a random model: whatever it reports is a plan label.
    assert {e.label for e in _clap(model=str(tiny_clap)).listen(audio, hints=["Dog"]).events} <= {"Dog"}


def test_missing_model_fails_fast_offline():
    start = time.monotonic()
    with pytest.raises(ModelUnavailableError, match="laion/clap-htsat-unfused.*--model"):
        _clap()
    assert time.monotonic() - start < 10


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="needs checkpoint"):
        _clap(implementation="laion")
    with pytest.raises(ConfigError, match="use implementation 'laion'"):
        _clap(implementation="transformers", checkpoint="x.pt")


# -- LAION checkpoints through the laion-clap package ------------------------------
@pytest.fixture
def laion_checkpoint(tmp_path):
    import torch

    path = tmp_path / "630k-audioset-best.pt"
    torch.save({"amodel": "HTSAT-tiny"}, path)
    return path


def test_laion_checkpoint_detects_labels_at_their_times(monkeypatch, laion_checkpoint):
    fake_laion_clap.install(monkeypatch)
    listener = _clap(checkpoint=str(laion_checkpoint), window_s=1.0, hop_s=0.5)
    audio = _tone_clip(6.0, [(0.5, 2.0, 100.0), (3.5, 5.0, 8000.0)])
    obs = listener.listen(audio, hints=["Low hum", "Whistle"])
    assert fake_laion_clap.calls[:2] == [("init", False, "HTSAT-tiny", "cpu"), ("load_ckpt", str(laion_checkpoint))]
    by_label = {e.label: e for e in obs.events}
    assert sorted(by_label) == ["Low hum", "Whistle"], obs.events
    hum, whistle = by_label["Low hum"], by_label["Whistle"]
    assert hum.start_s == pytest.approx(0.5, abs=0.1) and hum.end_s == pytest.approx(2.0, abs=0.1)
    assert whistle.start_s == pytest.approx(3.5, abs=0.1) and whistle.end_s == pytest.approx(5.0, abs=0.1)
    assert min(hum.confidence, whistle.confidence) > 0.9
    # Negatives absorb windows no label fits: a speech-like band is not a hum or a whistle.
    assert not _clap(checkpoint=str(laion_checkpoint)).listen(_tone_clip(3.0, [(0.5, 2.5, 600.0)]), hints=["Low hum", "Whistle"]).events
    # Calibrated cosine instead of a softmax: the same events.
    similar = _clap(checkpoint=str(laion_checkpoint), window_s=1.0, hop_s=0.5, scoring="similarity").listen(audio, hints=["Low hum", "Whistle"])
    assert [(e.label, e.start_s, e.end_s) for e in similar.events] == [(e.label, e.start_s, e.end_s) for e in obs.events]
    hum_clip = _tone_clip(3.0, [(0.0, 3.0, 100.0)])
    assert listener.score(hum_clip, "a low hum") > 0.9 > listener.score(hum_clip, "a whistle")


def test_laion_settings_reach_the_package(monkeypatch, tmp_path):
    import torch

    fake_laion_clap.install(monkeypatch)
    path = tmp_path / "music.pt"
    torch.save({"amodel": "HTSAT-base"}, path)
    listener = _clap(checkpoint=str(path), implementation="laion", enable_fusion=True, amodel="HTSAT-base")
    listener.score(_tone_clip(1.0, [(0.0, 1.0, 100.0)]), "hum")
    assert fake_laion_clap.calls[0] == ("init", True, "HTSAT-base", "cpu")
    # A checkpoint for another audio tower is refused with the settings named.
    with pytest.raises(ModelUnavailableError, match="amodel='HTSAT-tiny'"):
        _clap(checkpoint=str(path)).score(_tone_clip(1.0, []), "hum")


def test_laion_package_absent_says_how_to_install(monkeypatch, laion_checkpoint):
    monkeypatch.setitem(sys.modules, "laion_clap", None)  # import fails as when not installed
    with pytest.raises(ModelUnavailableError, match=r"pip install 'ualm-agent\[laion\]' \(laion-clap with torchvision") as info:
        _clap(checkpoint=str(laion_checkpoint))
    assert "\n" not in str(info.value)
    with pytest.raises(ModelUnavailableError, match="not found"):
        _clap(checkpoint=str(laion_checkpoint.with_name("absent.pt")))
