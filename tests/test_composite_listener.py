"""Listener ``composite``: members built through the builder's cache, one merged observation."""

from __future__ import annotations

import pytest

from recordings import missing_tools, mixture
from ualm_agent.builders import build_component
from ualm_agent.components.listeners.composite import CompositeListener, merge
from ualm_agent.config import AgentConfig
from ualm_agent.errors import ConfigError
from ualm_agent.modelpacks import WHISPER_TINY_EN, YAMNET
from ualm_agent.schema import HeardEvent, Observation, SpeechSegment

MEMBERS = [{"kind": "yamnet"}, {"kind": "whisper"}]


def _event(label, start, end, confidence=0.5, db=-20.0):
    return HeardEvent(label=label, start_s=start, end_s=end, confidence=confidence, loudness_db=db, balance=0.0)


def test_merge_unions_events_and_keeps_transcribed_speech():
    sounds = Observation(
        events=[_event("Speech", 1.0, 3.0, 0.9, -18.0), _event("Bell", 5.0, 6.0)],
        speech=[SpeechSegment(start_s=1.0, end_s=3.0, text="")],
        loudness_lufs=-20.0, balance=0.1, duration_s=8.0, listener="yamnet",
    )
    words = Observation(
        events=[_event("Speech", 0.8, 2.5, 0.7, -25.0), _event("Speech", 6.5, 7.0, 0.6)],
        speech=[SpeechSegment(start_s=0.8, end_s=2.5, text="hello there"), SpeechSegment(start_s=6.5, end_s=7.0, text="bye")],
        loudness_lufs=-21.0, balance=0.3, duration_s=8.0, listener="whisper",
    )
    obs = merge([sounds, words], "composite(yamnet+whisper)")
    assert [(e.label, e.start_s, e.end_s, e.confidence) for e in obs.events] == [
        ("Speech", 0.8, 3.0, 0.9),  # one event over the joint span, the surer report's confidence
        ("Bell", 5.0, 6.0, 0.5),
        ("Speech", 6.5, 7.0, 0.6),  # apart in time: kept apart
    ]
    assert obs.events[0].loudness_db == -18.0
    assert [s.text for s in obs.speech] == ["hello there", "bye"]  # text-less spans give way to words
    assert (obs.loudness_lufs, obs.balance, obs.duration_s) == (-20.0, 0.1, 8.0)
    assert obs.listener == "composite(yamnet+whisper)" and not obs.transcribed  # no member transcribed
    # With no member transcribing, the first member's speech spans stay.
    assert merge([sounds, sounds], "c").speech == sounds.speech


def test_members_are_checked_up_front():
    with pytest.raises(ConfigError, match="cannot contain another composite"):
        CompositeListener(members=[{"kind": "yamnet"}, {"kind": "composite", "members": MEMBERS}])
    with pytest.raises(ConfigError, match="unknown listener 'nope'; valid listeners: .*whisper"):
        CompositeListener(members=[{"kind": "nope"}])
    with pytest.raises(ConfigError, match="invalid settings for listener 'whisper'.*beam"):
        CompositeListener(members=[{"kind": "whisper", "beam": 3}])
    with pytest.raises(ConfigError, match="members"):
        CompositeListener(members=[])


def test_without_members_it_is_yamnet_and_whisper():
    assert build_component("listener", AgentConfig.load(None, listener="composite")).name == "composite(yamnet+whisper)"


@pytest.mark.skipif(bool(missing_tools() or YAMNET.missing_reason() or WHISPER_TINY_EN.missing_reason()), reason="needs recordings and model packs")
def test_yamnet_and_whisper_hear_sounds_and_words():
    config = AgentConfig.load(None, listener={"kind": "composite", "members": MEMBERS})
    listener = build_component("listener", config)
    # The whisper member is the very instance a plain whisper listener gets.
    assert listener.members[1] is build_component("listener", AgentConfig.load(None, listener="whisper"))
    assert listener.name == "composite(yamnet+whisper)"
    rec = mixture("speech-calling-bell")  # the weather sentence at 0.3 s, a phone calling at 5.6 s, a bell at 8.5 s
    obs = listener.listen(rec.audio, hints=["Speech", "Telephone", "Bell"])
    assert obs.listener == "composite(yamnet+whisper)" and obs.transcribed
    assert not listener.members[0].listen(rec.audio).transcribed  # yamnet alone hears no words
    text = " ".join(s.text for s in obs.speech).lower()
    assert "cloudy" in text and "evening" in text, text
    assert all(s.end_s < 5.6 for s in obs.speech)
    assert any(e.label in ("Telephone", "Ringtone") and 5.4 < e.start_s < 6.5 for e in obs.events), obs.events
    # Every sound the yamnet member reports is in the merged observation as it reported it.
    sounds = [e for e in listener.members[0].listen(rec.audio, hints=["Speech", "Telephone", "Bell"]).events if e.label != "Speech"]
    assert sounds and all(e in obs.events for e in sounds)
    speech = sorted((e.start_s, e.end_s) for e in obs.events if e.label == "Speech")
    assert speech and speech[0][0] < 1.0
    assert all(a[1] <= b[0] for a, b in zip(speech, speech[1:]))  # members' reports of it merged, none overlap
    assert obs.loudness_lufs is not None and obs.duration_s == 10.0


@pytest.mark.skipif(bool(missing_tools() or YAMNET.missing_reason() or WHISPER_TINY_EN.missing_reason()), reason="needs recordings and model packs")
def test_members_that_cannot_stream_hear_an_eight_channel_clip():
    """Whisper and YAMNet take the downmix; loudness and balance are measured on the channels."""
    import numpy as np

    from ualm_agent.waveform import Waveform

    listener = build_component("listener", AgentConfig.load(None, listener={"kind": "composite", "members": MEMBERS}))
    stereo = mixture("speech-calling-bell", pan=-0.8).audio.samples
    eight = Waveform(np.concatenate([stereo, 0.3 * np.tile(stereo, (3, 1))]), 48000)  # front pair, then C LFE, ...
    obs = listener.listen(eight, hints=["Speech", "Telephone", "Bell"])
    text = " ".join(s.text for s in obs.speech).lower()
    assert obs.transcribed and "cloudy" in text, text
    assert any(e.label in ("Telephone", "Ringtone") for e in obs.events), obs.events
    assert obs.loudness_lufs is not None and obs.balance < -0.3 and obs.duration_s == 10.0
