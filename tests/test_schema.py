"""The typed data: validation and the rich caption's text form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ualm_agent.schema import Critique, LayoutEvent, RichCaption, Round


def _caption() -> RichCaption:
    return RichCaption(
        keywords=["brass", "a dog barks"],
        layout=[
            LayoutEvent(label="Brass instrument", phrase="brass", start_s=0.0, end_s=4.5, position="left"),
            LayoutEvent(label="Bark", phrase="a dog barks", start_s=5.0, end_s=9.0, count=3, level="distant"),
        ],
        description="Brass, then a distant dog barking three times.",
        duration_s=10.0,
    )


def test_text_form_round_trips():
    cap = _caption()
    text = cap.to_text()
    assert "Brass instrument \"brass\" from 0.000 to 4.500 s, 1x, left, normal" in text
    back = RichCaption.from_text(text)
    assert back.layout == cap.layout and back.keywords == cap.keywords
    assert back.description == cap.description and back.duration_s == cap.duration_s


def test_text_form_rejects_a_malformed_layout_line():
    with pytest.raises(ValueError, match="cannot parse layout line"):
        RichCaption.from_text("Layout:\n- Dog from two to three s")


def test_occurrences_spread_over_the_span():
    ev = LayoutEvent(label="Bark", start_s=0.0, end_s=6.0, count=3)
    occ = ev.occurrences()
    assert [round(s, 3) for s, _ in occ] == [0.0, 2.0, 4.0]
    assert all(e > s and e <= 6.0 for s, e in occ)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(label="Dog", start_s=2.0, end_s=1.0),
        dict(label="", start_s=0.0, end_s=1.0),
        dict(label="Dog", start_s=0.0, end_s=1.0, position="up"),
        dict(label="Dog", start_s=0.0, end_s=1.0, count=0),
    ],
)
def test_invalid_events_are_rejected(kwargs):
    with pytest.raises(ValidationError):
        LayoutEvent(**kwargs)


def test_critique_score_is_bounded():
    with pytest.raises(ValidationError):
        Critique(score=1.5, verdict="accept")


def test_failed_round_scores_below_any_critique():
    cap = _caption()
    failed = Round(index=0, plan=cap, prompt_text="", failed=True)
    zero = Round(index=1, plan=cap, prompt_text="", critique=Critique(score=0.0, verdict="revise"))
    assert failed.score < zero.score


def test_written_audio_loads_back_identically_from_memory_or_disk(tmp_path):
    import numpy as np

    from ualm_agent.audio import load_ref, read_audio, write_audio
    from ualm_agent.waveform import Waveform

    rng = np.random.default_rng(0)
    audio = Waveform(np.clip(rng.standard_normal((2, 4800)) * 0.5, -1.2, 1.2).astype(np.float32), 48000)
    ref = write_audio(tmp_path / "a.wav", audio)
    from_memory = load_ref(ref)
    from_disk = read_audio(ref.path)
    assert from_memory.sample_rate == from_disk.sample_rate == 48000
    assert np.array_equal(from_memory.samples, from_disk.samples)
    assert np.max(np.abs(from_disk.samples - np.clip(audio.samples, -1, 1))) <= 1 / 32768 + 1e-7
