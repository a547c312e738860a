"""The composer as a timeline mixer over sound sources: choice, takes, hand-over, stand-ins, gain."""

from __future__ import annotations

import numpy as np
import pytest
from ualm_test_fakes import ToneSource, tone_hz

from ualm_agent.components.generators.composer import Composer
from ualm_agent.errors import ConfigError, ModelUnavailableError
from ualm_agent.roles import GenerationRequest, SoundSource
from ualm_agent.schema import LayoutEvent, RichCaption

RATE = 16000


def _render(composer: Composer, *events: LayoutEvent, seed: int = 0, duration: float = 2.0):
    plan = RichCaption(layout=list(events), duration_s=duration)
    return composer.generate(GenerationRequest(caption=plan, text="", duration_s=duration, seed=seed))


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[int(np.argmax(spec))])


def _composer_with(*sources: ToneSource) -> Composer:
    composer = Composer(sources=["dsp"])
    composer.sources = list(sources)
    return composer


def test_a_registered_source_is_named_in_the_settings_and_renders():
    composer = Composer(sources=["tones"])
    assert [s.name for s in composer.sources] == ["tones"]
    assert isinstance(composer.sources[0], SoundSource)
    result = _render(composer, LayoutEvent(label="Siren", start_s=0.5, end_s=1.5))
    assert _peak_hz(result.audio.samples[0, int(0.6 * RATE) : int(1.4 * RATE)]) == pytest.approx(tone_hz("Siren"), abs=3)
    assert composer.can_render("Siren") and not composer.can_render("Quasar")


def test_the_best_quality_match_wins_whatever_the_order():
    low = ToneSource(repertoire=["Siren"], quality=0.2, takes=1)
    high = ToneSource(repertoire=["Siren"], quality=0.9, takes=1)
    composer = _composer_with(low, high)
    _render(composer, LayoutEvent(label="Siren", start_s=0.0, end_s=1.0))
    assert high.rendered and not low.rendered


def test_raising_take_walks_through_takes_then_to_the_next_source():
    best = ToneSource(repertoire=["Siren"], quality=0.9, takes=2)
    other = ToneSource(repertoire=["Siren"], quality=0.5, takes=2)
    composer = _composer_with(best, other)
    heard = []
    for take in range(5):
        best.rendered.clear(), other.rendered.clear()
        result = _render(composer, LayoutEvent(label="Siren", start_s=0.0, end_s=2.0, take=take))
        heard.append(("best" if best.rendered else "other", _peak_hz(result.audio.samples[0, RATE // 4 : RATE])))
    base = tone_hz("Siren")
    assert [who for who, _ in heard] == ["best", "best", "other", "other", "best"]
    assert [hz for _, hz in heard][:4] == pytest.approx([base, base + 50, base, base + 50], abs=3)


def test_a_take_that_cannot_render_hands_over_to_the_next_source():
    broken = ToneSource(repertoire=["Siren"], quality=0.9, takes=1, broken=["Siren"])
    spare = ToneSource(repertoire=["Siren"], quality=0.4, takes=1)
    composer = _composer_with(broken, spare)
    result = _render(composer, LayoutEvent(label="Siren", start_s=0.0, end_s=1.0))
    assert broken.rendered and spare.rendered and result.unrendered == ()


def test_a_label_no_source_renders_gets_its_nearest_ontology_relative_stated():
    # Bark's parent in the AudioSet ontology is Dog: the nearest relative the source renders.
    source = ToneSource(repertoire=["Dog", "Siren"], takes=1)
    composer = _composer_with(source)
    result = _render(composer, LayoutEvent(label="Bark", start_s=0.0, end_s=1.0))
    assert result.unrendered == ()
    assert result.notes == ("Bark cannot be rendered here, so the nearest sound the sources have, Dog, stands in for it.",)
    assert _peak_hz(result.audio.samples[0, RATE // 4 : RATE]) == pytest.approx(tone_hz("Dog"), abs=3)


def test_nothing_renderable_at_all_is_reported_unrendered():
    composer = _composer_with(ToneSource(repertoire=["Siren"], takes=1, broken=["Siren"]))
    result = _render(composer, LayoutEvent(label="Siren", start_s=0.0, end_s=1.0))
    assert result.unrendered == ("Siren",)
    assert float(np.max(np.abs(result.audio.samples))) == 0.0


def test_gain_db_changes_the_level_by_that_many_decibels():
    composer = _composer_with(ToneSource(repertoire=["Siren"], takes=1))

    def rms(gain_db: float) -> float:
        x = _render(composer, LayoutEvent(label="Siren", start_s=0.0, end_s=2.0, level="soft", gain_db=gain_db)).audio.samples[0]
        return float(np.sqrt(np.mean(x[RATE // 4 : RATE] ** 2)))

    assert 20 * np.log10(rms(-6.0) / rms(0.0)) == pytest.approx(-6.0, abs=0.1)
    assert 20 * np.log10(rms(4.0) / rms(0.0)) == pytest.approx(4.0, abs=0.1)


def test_each_seed_draws_another_recording_from_a_folder(tmp_path):
    import soundfile as sf

    t = np.arange(RATE) / RATE
    for i, hz in enumerate((300, 500, 700, 900)):
        sf.write(tmp_path / f"Siren_{i}.wav", (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32), RATE)
    composer = Composer(samples=str(tmp_path), sources=["samples"])
    picks = {round(_peak_hz(_render(composer, LayoutEvent(label="Siren", start_s=0.0, end_s=1.0), seed=s).audio.samples[0, 2000:14000]), -1)
             for s in range(8)}
    assert len(picks) >= 3 and picks <= {300, 500, 700, 900}


def test_source_settings_are_checked():
    with pytest.raises(ConfigError, match="unknown source 'nope'"):
        Composer(sources=["nope"])
    with pytest.raises(ConfigError, match="sources is empty"):
        Composer(sources=[])
    with pytest.raises(ConfigError, match="samples source needs a folder"):
        Composer(sources=["samples"])


def test_an_unavailable_source_named_explicitly_fails_with_its_reason(monkeypatch):
    from ualm_agent.components.sources import soundfont

    monkeypatch.setattr(soundfont, "default_font", lambda: None)
    monkeypatch.setattr(soundfont, "SOUNDFONT", type("Pack", (), {"missing_reason": staticmethod(lambda: "no font")})())
    with pytest.raises(ModelUnavailableError, match="source 'soundfont' is not available"):
        Composer(sources=["soundfont"])
    # By default, a missing source is skipped and the others still serve.
    assert "soundfont" not in [s.name for s in Composer().sources]


def test_overlapping_events_keep_their_own_sides():
    composer = _composer_with(ToneSource(repertoire=["Bark", "Siren"], takes=1))
    events = [LayoutEvent(label="Bark", start_s=0.0, end_s=2.0, position="left"),
              LayoutEvent(label="Siren", start_s=0.0, end_s=2.0, position="right")]
    x = _render(composer, *events).audio.samples
    assert x.shape[0] == 2
    left, right = x[0, RATE // 4 : RATE], x[1, RATE // 4 : RATE]
    assert _peak_hz(left) == pytest.approx(tone_hz("Bark"), abs=3)
    assert _peak_hz(right) == pytest.approx(tone_hz("Siren"), abs=3)


class _Faulty(ToneSource):
    """A source whose renders fail in one of the ways a plugin's might."""

    def __init__(self, fault: str, **kw) -> None:
        super().__init__(**kw)
        self.fault = fault

    def render(self, match, request):
        x = super().render(match, request)
        if self.fault == "raises":
            raise ValueError("operands could not be broadcast together")
        if self.fault == "silent":
            return np.zeros_like(x)
        return np.stack([x, x], axis=1)  # "stereo": (n, 2), not mono samples


@pytest.mark.parametrize("fault, said", [("raises", "failed (ValueError"), ("silent", "gave silence"),
                                         ("stereo", "not mono samples")])
def test_a_source_that_fails_raises_or_gives_silence_hands_over_with_a_note(fault, said):
    bad = _Faulty(fault, repertoire=["Siren"], quality=0.9, takes=1)
    spare = ToneSource(repertoire=["Siren"], quality=0.4, takes=1)
    result = _render(_composer_with(bad, spare), LayoutEvent(label="Siren", start_s=0.0, end_s=1.0))
    assert result.unrendered == () and spare.rendered
    assert any(said in n and "next source" in n for n in result.notes), result.notes
    assert _peak_hz(result.audio.samples[0, RATE // 4 : 3 * RATE // 4]) == pytest.approx(tone_hz("Siren"), abs=3)


def test_a_samples_folder_is_used_even_when_the_sources_named_leave_it_out(tmp_path):
    import soundfile as sf

    t = np.arange(RATE) / RATE
    sf.write(tmp_path / "Siren.wav", (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), RATE)
    composer = Composer(samples=str(tmp_path), sources=["dsp"])
    assert [s.name for s in composer.sources] == ["samples", "dsp"]


def test_the_sample_rate_is_bounded():
    with pytest.raises(ConfigError, match="8000-192000 Hz"):
        Composer(sources=["dsp"], sample_rate=10**9)


def test_soundfont_takes_step_through_the_recipes_programs(monkeypatch):
    import ualm_agent.components.generators.soundfont as midi
    from ualm_agent.components.generators.catalogue import CATALOGUE
    from ualm_agent.components.sources.soundfont import SoundfontSource
    from ualm_agent.roles import SoundRequest

    played = []
    real = midi.render_notes

    def spy(font, notes, duration_s, program=0, **kw):
        played.append(program)
        return real(font, notes, duration_s, program=program, **kw)

    monkeypatch.setattr(midi, "render_notes", spy)
    source = SoundfontSource()
    match = source.find("Electric guitar")
    programs = CATALOGUE["Electric guitar"].programs
    for take in range(len(programs)):
        source.render(match, SoundRequest("Electric guitar", 0.5, RATE, seed=(5, 0, 1, 0), take=take))
    assert sorted(played) == sorted(programs)  # every program once across the first takes
