"""The rules critic checks that planned words were said, when the listener transcribes speech."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from ualm_agent import registry
from ualm_agent.audio import read_audio, resample
from ualm_agent.components.critics.rules import RulesCritic
from ualm_agent.components.critics.words import expected_words, missing_words, said_share
from ualm_agent.modelpacks import WHISPER_TINY_EN
from ualm_agent.schema import HeardEvent, Observation, RichCaption, SpeechSegment
from ualm_agent.waveform import Waveform

PROMPT = 'a dog barks, then a man says "hello there"'


@pytest.fixture(scope="module")
def critic() -> RulesCritic:
    return RulesCritic(use_minilm=False)


@pytest.fixture(scope="module")
def plan() -> RichCaption:
    return registry.get("planner", "rules").factory().plan(PROMPT)


def _heard(observation: Observation) -> RichCaption:
    return registry.get("captioner", "template").factory().caption(observation)


def _observation(speech: list[SpeechSegment], *, speech_event: bool = True) -> Observation:
    events = [HeardEvent(label="Bark", start_s=0.1, end_s=1.2, confidence=0.9, loudness_db=-15.0)]
    if speech_event:
        events.append(HeardEvent(label="Speech", start_s=2.0, end_s=3.2, confidence=0.9, loudness_db=-20.0))
    return Observation(events=events, speech=speech, loudness_lufs=-20.0, duration_s=10.0)


def _words_issues(critique):
    return [i for i in critique.issues if i.expected.startswith("says ")]


@pytest.mark.parametrize(
    ("phrase", "words"),
    [
        ('a man says "hello there"', "hello there"),
        ("a woman says 'good morning'", "good morning"),
        ("a man's voice says hello there loudly", "hello there"),
        ("a man saying hello in a deep voice", "hello"),
        ("a man says something", None),
        ("a man speaks", None),
        ("a man talks to his friend", None),
        ("a man says the train to the airport leaves now", "the train to the airport leaves now"),
        ("a man says good night to his son", "good night"),
        ("a voice says please stand clear over the loudspeaker", "please stand clear"),
    ],
)
def test_expected_words(phrase, words):
    assert expected_words(phrase) == words


def test_fuzzy_word_match():
    assert said_share("the quick brown fox jumps", "The quick brown fox jump.") == 1.0  # inflected as heard
    assert said_share("hello", "Hallo!") == 1.0  # misheard, nearly the same
    assert said_share("the next train leaves from platform 4", "next train leaves from platform four") == 1.0
    assert missing_words("hello there", "Hello.") == []  # "there" carries no content
    assert missing_words("hello world", "Hello.") == ["world"]
    assert said_share("good morning", "goodbye") < 0.6


def test_the_planner_keeps_the_words(plan):
    speech = [ev for ev in plan.layout if ev.label == "Speech"]
    assert speech and expected_words(speech[0].phrase) == "hello there"


def test_words_said_give_no_issue(critic, plan):
    obs = _observation([SpeechSegment(start_s=2.0, end_s=3.2, text="Hello there.")])
    assert _words_issues(critic.critique(plan, _heard(obs), obs)) == []


def test_wrong_words_are_missing(critic, plan):
    obs = _observation([SpeechSegment(start_s=2.0, end_s=3.2, text="Goodbye, everyone.")])
    critique = critic.critique(plan, _heard(obs), obs)
    [issue] = _words_issues(critique)
    assert issue.kind == "missing" and issue.label == "Speech"
    assert issue.message == 'speech should say "hello there"; heard "Goodbye, everyone.".'
    assert critique.verdict == "revise"
    assert any('say "hello there"' in text for text in critique.instructions)
    right = _observation([SpeechSegment(start_s=2.0, end_s=3.2, text="Hello there.")])
    assert critique.score < critic.critique(plan, _heard(right), right).score


def test_words_said_elsewhere_in_the_clip_do_not_count(critic, plan):
    obs = _observation([SpeechSegment(start_s=2.0, end_s=3.2, text="Good evening.")])
    obs.speech.append(SpeechSegment(start_s=0.0, end_s=0.5, text="hello there"))  # before the planned speech
    assert [i.kind for i in _words_issues(critic.critique(plan, _heard(obs), obs))] == ["missing"]


def test_some_words_missing_is_a_quality_issue(critic):
    plan = registry.get("planner", "rules").factory().plan('a man says "the train to the airport leaves now"')
    obs = _observation([SpeechSegment(start_s=2.0, end_s=3.2, text="The train leaves.")])
    [issue] = _words_issues(critic.critique(plan, _heard(obs), obs))
    assert issue.kind == "quality" and issue.observed == '"The train leaves."'
    assert 0.3 < issue.severity < 0.75


def test_no_transcript_no_words_issue(critic, plan):
    # A listener that only detects speech (yamnet) gives text-less segments: nothing to say about words.
    obs = _observation([SpeechSegment(start_s=2.0, end_s=3.2, text="")])
    critique = critic.critique(plan, _heard(obs), obs)
    assert _words_issues(critique) == []
    assert critique.model_dump() == critic.critique(plan, _heard(obs), obs.model_copy(update={"speech": []})).model_dump()


def test_a_recogniser_that_heard_no_words_means_they_were_not_said(critic, plan):
    # Speech-like sound that a speech recogniser heard no words in: the words are missing.
    obs = _observation([], speech_event=True).model_copy(update={"transcribed": True})
    [issue] = _words_issues(critic.critique(plan, _heard(obs), obs))
    assert issue.kind == "missing" and issue.observed == "no words"


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None or bool(WHISPER_TINY_EN.missing_reason()), reason="needs espeak-ng and the Whisper pack"
)
def test_real_speech_through_whisper(critic, tmp_path):
    from ualm_agent.components.listeners.whisper import WhisperListener

    wav = tmp_path / "hello.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), "Hello there."], check=True, capture_output=True)
    voice = resample(read_audio(wav), 48000).samples[0]
    clip = np.zeros(48000 * 6, dtype=np.float32)
    clip[48000 * 2 : 48000 * 2 + voice.size] = voice
    audio = Waveform(np.stack([clip, clip]), 48000)
    obs = WhisperListener().listen(audio)
    planner = registry.get("planner", "rules").factory()
    said = planner.plan('a man says "hello there" for 6 seconds')
    other = planner.plan('a man says "good morning" for 6 seconds')
    assert _words_issues(critic.critique(said, _heard(obs), obs)) == [], obs.speech
    [issue] = _words_issues(critic.critique(other, _heard(obs), obs))
    assert issue.kind == "missing" and "hello" in issue.observed.lower()


@pytest.mark.parametrize("label", ["Shout", "Yell", "Male speech, man speaking", "Children shouting"])
def test_shouted_and_spoken_classes_say_words_under_one_rule(label):
    from ualm_agent.components.critics.words import speaks, words_to_say
    from ualm_agent.components.listeners.composite import words_planned
    from ualm_agent.components.sources.speech import is_speech
    from ualm_agent.schema import LayoutEvent

    phrase = 'a man shouts "get out now"'
    assert speaks(label) and is_speech(label) and words_to_say(label, phrase) == "get out now"
    plan = RichCaption(layout=[LayoutEvent(label=label, phrase=phrase, start_s=2.0, end_s=3.5)])
    assert words_planned(plan)  # so Whisper listens
    assert not speaks("Bark") and words_to_say("Bark", phrase) is None


def test_shouted_words_are_checked_by_the_critic(critic):
    from ualm_agent.schema import LayoutEvent

    plan = RichCaption(layout=[LayoutEvent(label="Shout", phrase='a man shouts "get out now"', start_s=2.0, end_s=3.5)],
                       duration_s=10.0)
    events = [HeardEvent(label="Shout", start_s=2.0, end_s=3.4, confidence=0.9, loudness_db=-15.0)]
    wrong = Observation(events=events, speech=[SpeechSegment(start_s=2.0, end_s=3.4, text="Good morning.")],
                        loudness_lufs=-20.0, duration_s=10.0, transcribed=True)
    right = wrong.model_copy(update={"speech": [SpeechSegment(start_s=2.0, end_s=3.4, text="Get out now!")]})
    assert [i.label for i in _words_issues(critic.critique(plan, _heard(wrong), wrong))] == ["Shout"]
    assert _words_issues(critic.critique(plan, _heard(right), right)) == []
