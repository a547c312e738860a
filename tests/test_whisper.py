"""Listener ``whisper``: real espeak-ng speech through the Whisper tiny.en pack,
and any CTranslate2 folder through a converted tiny random Whisper."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from recordings import missing_tools, mixture
from ualm_agent import registry
from ualm_agent.components.critics.words import said_share
from ualm_agent.errors import ConfigError, ModelUnavailableError
from ualm_agent.modelpacks import WHISPER_TINY_EN
from ualm_agent.waveform import Waveform

pytest.importorskip("faster_whisper")
needs_pack = pytest.mark.skipif(bool(WHISPER_TINY_EN.missing_reason()), reason=WHISPER_TINY_EN.missing_reason())
needs_recordings = pytest.mark.skipif(bool(missing_tools()), reason=missing_tools())
FOX = "The quick brown fox jumps over the lazy dog near the river bank."


@pytest.fixture(scope="module")
def whisper():
    from ualm_agent.components.listeners.whisper import WhisperListener

    return WhisperListener()


def test_registered_with_availability():
    assert registry.get("listener", "whisper").availability() == (True, "")


@needs_pack
def test_default_model_is_the_offline_tiny_en_pack(whisper):
    assert whisper.model_dir == WHISPER_TINY_EN.locate()
    assert (whisper.model_dir / "model.bin").is_file()


@needs_pack
@needs_recordings
def test_transcribes_spoken_words_at_their_time(whisper):
    rec = mixture("ring-then-speech")  # a phone rings at 1.0 s, the fox sentence is spoken from 4.5 s
    truth = rec.truths[1]
    obs = whisper.listen(rec.audio, hints=["Speech"])
    assert obs.listener == "whisper" and obs.duration_s == 10.0 and obs.loudness_lufs is not None
    text = " ".join(seg.text for seg in obs.speech)
    assert said_share(FOX, text) >= 0.8, text
    assert {"fox", "lazy", "dog", "river"} <= set(text.lower().replace(".", "").split()), text
    [event] = obs.events
    assert event.label == "Speech" and event.confidence > 0.5
    assert abs(event.start_s - truth.start_s) < 0.6 and abs(event.end_s - truth.end_s) < 0.3, event
    for seg in obs.speech:
        assert truth.start_s - 0.6 < seg.start_s < seg.end_s <= truth.end_s + 0.3
    # Nothing is heard as speech while the phone rings.
    assert all(e.start_s > 3.0 for e in obs.events)


@needs_pack
@needs_recordings
def test_silence_and_music_give_no_speech(whisper):
    music = whisper.listen(mixture("noise-music-ding").audio)  # pink noise, a synth jingle, a ding
    assert music.events == [] and music.speech == []
    assert music.transcribed  # it listened for words and heard none
    rng = np.random.default_rng(0)
    quiet = Waveform((rng.standard_normal((1, 48000 * 4)) * 1e-4).astype(np.float32), 48000)
    assert whisper.listen(quiet).speech == []


@needs_pack
@needs_recordings
def test_speech_event_carries_level_and_side(whisper):
    rec = mixture("side-left-ring", pan=-0.9)  # "front left" spoken at 0.5 s, all on the left
    obs = whisper.listen(rec.audio)
    assert obs.speech and "left" in " ".join(s.text for s in obs.speech).lower()
    speech = [e for e in obs.events if e.label == "Speech"]
    assert speech and all(e.balance < -0.9 and e.loudness_db > -40 for e in speech)
    assert obs.balance < -0.5


def test_size_name_not_cached_fails_fast_offline():
    from ualm_agent.components.listeners.whisper import WhisperListener

    start = time.monotonic()
    with pytest.raises(ModelUnavailableError, match=r"'base\.en' is not in the Hugging Face cache.*--model"):
        WhisperListener(model="base.en")
    assert time.monotonic() - start < 10
    with pytest.raises(ConfigError, match="unknown model 'enormous'.*tiny.en"):
        WhisperListener(model="enormous")
    with pytest.raises(ModelUnavailableError, match="no such model folder"):
        WhisperListener(model="/no/such/folder")


def test_precision_defaults():
    from ualm_agent.components.listeners.whisper import WhisperSettings, _compute_type

    assert _compute_type(WhisperSettings(), "cpu") == "int8"
    assert _compute_type(WhisperSettings(), "cuda") == "float16"
    assert _compute_type(WhisperSettings(dtype="bf16"), "cuda") == "bfloat16"
    assert _compute_type(WhisperSettings(dtype="bf16", compute_type="int8_float16"), "cuda") == "int8_float16"


@needs_recordings
def test_any_ctranslate2_folder(tmp_path):
    """A tiny random Whisper converted by CTranslate2 loads and runs through the same path."""
    from tiny_listener_models import build_tiny_whisper_ct2
    from ualm_agent.components.listeners.whisper import WhisperListener

    folder = build_tiny_whisper_ct2(tmp_path / "tiny-whisper-ct2")
    listener = WhisperListener(model=str(folder), vad_filter=False, beam_size=1, temperature=(0.0,), max_new_tokens=40)
    assert listener.model_dir == folder
    audio = mixture("ring-then-speech").audio
    words = listener.transcribe(audio)  # random weights: words, but not English
    assert words and all(0.0 <= w.start <= w.end <= audio.duration_s for w in words)
    obs = listener.listen(audio)
    assert {e.label for e in obs.events} <= {"Speech"} and obs.listener == "whisper"
    assert all(0.0 <= s.start_s <= s.end_s <= audio.duration_s for s in obs.speech)
    # Without tokenizer.json faster-whisper would download one: refused up front.
    broken = tmp_path / "no-tokenizer"
    shutil.copytree(folder, broken)
    (broken / "tokenizer.json").unlink()
    with pytest.raises(ModelUnavailableError, match="missing tokenizer.json"):
        WhisperListener(model=str(broken))
