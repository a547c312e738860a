"""A user's folder of recordings with names that say nothing: labelled by listening, indexed beside the files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from cli_helpers import cli, run_dirs
from ualm_agent.components.generators import samples
from ualm_agent.components.generators.samples import (
    LabelIndex,
    SampleLibrary,
    YamnetLabeller,
    cache_folder,
    name_label,
    name_labels,
    pick_labels,
)
from ualm_agent.components.sources.folder import FolderSource

from ualm_agent.labels import audioset_names
from ualm_agent.roles import SoundRequest

RATE = 16000
MARK_HZ = 6000


FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")


def _siren(seconds: float = 3.0) -> np.ndarray:
    """A wailing siren (650 to 1500 Hz and back every 2 s) with a faint 6 kHz mark no other siren has."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(650 + 850 * (0.5 - 0.5 * np.cos(np.pi * t))) / RATE
    return 0.3 * sum(np.sin(k * phase) / k for k in (1, 2, 3)) + 0.1 * np.sin(2 * np.pi * MARK_HZ * t)


@pytest.fixture(scope="module")
def sounds(tmp_path_factory) -> dict[str, Path]:
    """A siren made here, and two real recordings: a phone ringing and a camera's shutter."""
    if not FREEDESKTOP.is_dir():
        pytest.skip("needs the recordings of Debian's sound-theme-freedesktop")
    folder = tmp_path_factory.mktemp("sounds")
    sf.write(folder / "siren.wav", _siren().astype(np.float32), RATE)
    for name, source in {"phone": "phone-incoming-call", "camera": "camera-shutter"}.items():
        x, rate = sf.read(FREEDESKTOP / f"{source}.oga", dtype="float32")
        sf.write(folder / f"{name}.wav", x, rate)
    return {name: folder / f"{name}.wav" for name in ("siren", "phone", "camera")}


@pytest.fixture
def heard(monkeypatch) -> list[str]:
    """The file names the listener is asked to label, in order."""
    calls: list[str] = []
    label = YamnetLabeller.label

    def counting(self, path):
        calls.append(Path(path).name)
        return label(self, path)

    monkeypatch.setattr(YamnetLabeller, "label", counting)
    return calls


def _library_folder(tmp_path: Path, sounds: dict[str, Path], files: dict[str, str]) -> Path:
    folder = tmp_path / "library"
    for name, sound in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sounds[sound], folder / name)
    return folder


def _index(folder: Path) -> dict:
    return json.loads((folder / LabelIndex.FILE).read_text())


@pytest.mark.parametrize(("name", "label"), [
    ("take_07", None), ("ZOOM0001", None), ("audio", None), ("untitled", None), ("rec 2024-05-01", None),
    ("0001", None), ("New Recording 3", None), ("DSC_0042", None), ("STE-001", None), ("a3f9c2e1", None),
    ("sirens", "Siren"), ("Dog", "Dog"), ("Footsteps", "Walk, footsteps"), ("dog_bark_02", "dog bark"),
    ("tractor_02", "tractor"), ("Take 3 - rain on tin", "rain on tin"), ("DogBark01", "Dog Bark"), ("Zorblax", "Zorblax"),
])
def test_a_name_gives_a_label_unless_a_device_made_it_up(name, label):
    assert name_label(name) == label


def test_a_files_stem_and_its_folders_each_give_a_label(tmp_path):
    labels = name_labels(tmp_path / "Footsteps" / "gravel_01.wav", tmp_path)
    assert [(x.name, x.origin) for x in labels] == [("gravel", "name"), ("Walk, footsteps", "name")]
    # A free-form name also serves the sound the catalogue reads in it, just below a name's quality.
    barking = name_labels(tmp_path / "Recordings" / "dog barking.wav", tmp_path)
    assert [(x.name, x.origin) for x in barking] == [("dog barking", "name"), ("Bark", "catalogue")]
    assert name_labels(tmp_path / "2024-05-01" / "ZOOM0001.WAV", tmp_path) == ()


def test_labels_are_picked_from_clip_scores_specific_first():
    names = audioset_names()
    clip = np.zeros(len(names))
    for name, score in {"Silence": 0.99, "Water": 0.9, "Rain": 0.9, "Rain on surface": 0.8, "Animal": 0.7,
                        "Wind": 0.3, "Sound effect": 0.95}.items():
        clip[names.index(name)] = score
    # Silence and "Sound effect" are never labels; Rain wins its tie with its parent Water; Wind is too doubtful.
    assert [n for n, _ in pick_labels(clip, names)] == ["Rain", "Water", "Rain on surface", "Animal"]
    only_generic = np.zeros(len(names))
    only_generic[names.index("Vehicle")] = 0.6
    assert pick_labels(only_generic, names) == [("Vehicle", 0.6)]
    assert pick_labels(np.zeros(len(names)), names) == []


def test_unnamed_files_are_labelled_by_listening_and_the_index_is_reused(tmp_path, sounds, heard):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren", "ZOOM0002.WAV": "phone", "Bark.wav": "camera"})
    notes: list[str] = []
    library = SampleLibrary(folder, notes=notes)
    assert heard == []  # nothing is heard until the library is first used
    assert library.has("Siren") and library.has("Telephone") and library.has("Bark")
    assert sorted(heard) == ["ZOOM0002.WAV", "take_01.wav"]  # Bark.wav is named: never listened to
    assert any(n.startswith(f"Labelled 2 recording(s) in {folder}") and "take_01.wav as Siren" in n for n in notes)
    index = _index(folder)
    assert (index["listener"], index["listener_version"]) == ("yamnet", YamnetLabeller.version)
    assert set(index["files"]) == {"take_01.wav", "ZOOM0002.WAV"}
    entry = index["files"]["take_01.wav"]
    assert entry["size"] == (folder / "take_01.wav").stat().st_size and len(entry["sha256"]) == 64
    assert entry["labels"][0]["label"] == "Siren" and 0 < entry["labels"][0]["score"] <= 1
    written = (folder / LabelIndex.FILE).stat().st_mtime_ns

    again = SampleLibrary(folder)
    assert again.has("Siren") and set(again.labels()) == set(library.labels())
    assert sorted(heard) == ["ZOOM0002.WAV", "take_01.wav"]  # the second load heard nothing
    assert (folder / LabelIndex.FILE).stat().st_mtime_ns == written  # and left the index as it was


def test_a_new_labelling_rule_hears_every_file_again(tmp_path, sounds, heard, monkeypatch):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren"})
    SampleLibrary(folder).labels()
    monkeypatch.setattr(YamnetLabeller, "version", YamnetLabeller.version + 1)
    assert SampleLibrary(folder).has("Siren")
    assert heard == ["take_01.wav", "take_01.wav"] and _index(folder)["listener_version"] == YamnetLabeller.version


def test_added_files_are_heard_removed_ones_dropped_and_touched_ones_kept(tmp_path, sounds, heard):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren", "take_02.wav": "phone"})
    SampleLibrary(folder).labels()
    heard.clear()
    (folder / "take_02.wav").unlink()
    shutil.copy(sounds["camera"], folder / "take_03.wav")
    os.utime(folder / "take_01.wav", ns=(1, 1))  # touched, same content: kept by its hash
    library = SampleLibrary(folder)
    assert library.has("Camera") and not library.has("Telephone") and library.has("Siren")
    assert heard == ["take_03.wav"]
    files = _index(folder)["files"]
    assert set(files) == {"take_01.wav", "take_03.wav"} and files["take_01.wav"]["mtime_ns"] == 1


def test_a_name_label_wins_over_the_listeners(tmp_path, sounds, heard):
    # "Siren.wav" holds a phone ringing, so which file plays says which label won.
    folder = _library_folder(tmp_path, sounds, {"Siren.wav": "phone", "take_01.wav": "siren"})
    source = FolderSource(str(folder))
    match = source.find("Siren")
    assert match.quality == 1.0 and match.takes == 1
    phone = source.library.take("Siren", 0)
    assert phone is not None and _mark_share(phone) < 1e-4
    assert heard == ["take_01.wav"] and "Siren" in source.labels()
    # The heard file still serves the labels only it has, below a name but above synthesis.
    alarm = source.find("Alarm")
    assert alarm is not None and 0.6 < alarm.quality < 1.0


def test_a_read_only_folder_keeps_its_index_in_the_cache(tmp_path, sounds, heard, monkeypatch):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren"})
    folder.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: the folder is made to look read-only
        monkeypatch.setattr(samples, "_writable", lambda path: False)
    try:
        notes: list[str] = []
        assert SampleLibrary(folder, notes=notes).has("Siren")
        cached = LabelIndex(folder, YamnetLabeller(), []).cache_path
        assert not (folder / LabelIndex.FILE).exists() and cached.parent == cache_folder() and cached.is_file()
        assert json.loads(cached.read_text())["root"] == str(folder.resolve())
        assert [n for n in notes if "cannot be written to" in n] == [
            f"{folder} cannot be written to, so the labels heard in its recordings are kept in {cached}."]
        again: list[str] = []
        assert SampleLibrary(folder, notes=again).has("Siren")
        assert heard == ["take_01.wav"] and not any("cannot be written to" in n for n in again)
    finally:
        folder.chmod(0o755)


BAD_ENTRY = ('{"version": 1, "listener": "yamnet", "listener_version": 1, "files": {"take_01.wav": '
             '{"size": 1, "mtime_ns": 1, "sha256": "x", "labels": [{"label": 3}]}}}')


@pytest.mark.parametrize(("text", "why"), [
    ("{ not json", "could not be read (Expecting"),
    ("[1, 2]", "is not a label index (it holds no table of files)"),
    ('{"version": 1, "files": ["take_01.wav"]}', "is not a label index (it holds no table of files)"),
])
def test_a_corrupt_index_is_set_aside_and_rebuilt_with_a_note(tmp_path, sounds, heard, text, why):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren"})
    bad = folder / (LabelIndex.FILE + ".bad")
    bad.write_text("an older broken index")
    (folder / LabelIndex.FILE).write_text(text)
    notes: list[str] = []
    assert SampleLibrary(folder, notes=notes).has("Siren")
    said = f"The label index {folder / LabelIndex.FILE} {why}"
    assert any(n.startswith(said) and n.endswith(f"so it was moved to {bad.name} and rebuilt.") for n in notes), notes
    assert not any("list indices" in n or "object has no attribute" in n for n in notes)
    assert bad.read_text() == text  # the newer broken index replaces the older one, kept for the user
    assert heard == ["take_01.wav"] and set(_index(folder)["files"]) == {"take_01.wav"}


def test_a_malformed_entry_is_heard_again_and_the_valid_ones_are_kept(tmp_path, sounds, heard):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren", "take_02.wav": "phone"})
    SampleLibrary(folder).files()
    assert sorted(heard) == ["take_01.wav", "take_02.wav"]
    document = _index(folder)
    document["files"]["take_02.wav"]["labels"] = [{"label": 3}]
    (folder / LabelIndex.FILE).write_text(json.dumps(document))
    heard.clear()
    notes: list[str] = []
    library = SampleLibrary(folder, notes=notes)
    assert library.has("Siren") and library.has("Telephone")
    assert heard == ["take_02.wav"], heard  # only the bad entry's file
    assert any("had 1 unreadable entry (take_02.wav)" in n for n in notes), notes
    assert not (folder / (LabelIndex.FILE + ".bad")).exists()
    assert _index(folder)["files"]["take_02.wav"]["labels"][0]["label"] != 3


def test_broken_and_silent_unnamed_files_are_skipped_with_a_note_and_not_heard_again(tmp_path, sounds, heard):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren"})
    (folder / "take_02.wav").write_bytes(b"not audio at all")
    sf.write(folder / "take_03.wav", np.zeros(RATE, np.float32), RATE)
    (folder / "._take_01.wav").write_bytes(b"macOS resource fork")  # hidden: not a recording at all
    for attempt in range(2):
        notes: list[str] = []
        library = SampleLibrary(folder, notes=notes)
        assert library.has("Siren") and len(library.files()) == 1
        assert any(n.startswith("Skipped the recording take_02.wav: it could not be listened to") for n in notes)
        assert "Skipped the recording take_03.wav: the listener heard nothing it could name in it." in notes
    assert sorted(heard) == ["take_01.wav", "take_02.wav", "take_03.wav"]


def test_a_listener_failure_skips_the_file_with_a_note_and_keeps_nothing(tmp_path, sounds, monkeypatch):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren", "Rain.wav": "phone"})

    def fails(self, path):
        raise RuntimeError("the model ran out of memory")

    monkeypatch.setattr(YamnetLabeller, "label", fails)
    notes: list[str] = []
    assert SampleLibrary(folder, notes=notes).labels() == ["Rain"]
    assert "Skipped the recording take_01.wav: the listener failed on it (RuntimeError: the model ran out of memory)." in notes
    assert _index(folder)["files"] == {}  # heard again next time: the fault may be the listener's


def test_without_a_listener_unnamed_files_are_left_out_and_said(tmp_path, sounds, monkeypatch):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren", "Rain.wav": "phone"})
    monkeypatch.setattr(YamnetLabeller, "availability", lambda self: (False, "no model here"))
    notes: list[str] = []
    library = SampleLibrary(folder, notes=notes)
    assert library.labels() == ["Rain"]
    assert any("1 recording(s)" in n and "not available to label them (no model here)" in n for n in notes), notes
    assert _index(folder)["files"] == {}  # nothing heard, nothing kept: the next load tries again


def test_the_composer_plays_the_users_heard_recording(tmp_path, sounds):
    from ualm_agent.components.generators.composer import Composer

    from ualm_agent.roles import GenerationRequest
    from ualm_agent.schema import LayoutEvent, RichCaption

    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren"})
    composer = Composer(samples=str(folder), sources=["samples", "dsp"])
    caption = RichCaption(layout=[LayoutEvent(label="Siren", start_s=0.0, end_s=2.0)], duration_s=2.0)
    result = composer.generate(GenerationRequest(caption=caption, text="", duration_s=2.0, seed=0))
    assert _mark_share(result.audio.samples[0]) > 0.01
    assert any("take_01.wav as Siren" in n for n in result.notes), result.notes


def _mark_share(x: np.ndarray) -> float:
    """Share of the clip's energy within 100 Hz of the mark (channels mixed down)."""
    x = x.mean(axis=1) if x.ndim == 2 else x
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    hz = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(spectrum[np.abs(hz - MARK_HZ) < 100].sum() / spectrum.sum())


def test_run_uses_a_recording_named_take_01_for_a_siren(tmp_path, sounds, cli_env):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren"})
    # Only the user's recordings and DSP: the test does not depend on which packaged sources are installed.
    config = tmp_path / "composer.toml"
    config.write_text('[generator]\nkind = "composer"\nsources = ["samples", "dsp"]\n')
    out = tmp_path / "runs"
    res = cli(["run", "a siren wails", "--samples", str(folder), "--config", str(config), "--reflect", "0",
               "--out", str(out), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    (run_dir,) = run_dirs(out)
    generated, rate = sf.read(run_dir / "round_00_gen.wav")
    assert rate == RATE and _mark_share(generated) > 0.01  # the user's siren, not a synthesised one
    assert "take_01.wav" in _index(folder)["files"]


def test_the_samples_command_lists_each_files_labels_and_refreshes_the_index(tmp_path, sounds, cli_env):
    folder = _library_folder(tmp_path, sounds, {"take_01.wav": "siren", "Dog/0001.wav": "camera"})
    res = cli(["samples", str(folder)], {**cli_env, "COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    rows = {line.split("│")[1].strip(): line for line in res.stdout.splitlines() if line.count("│") == 4}
    assert "Siren (0." in rows["take_01.wav"] and "listener" in rows["take_01.wav"]
    assert "Dog" in rows["Dog/0001.wav"] and "name" in rows["Dog/0001.wav"]
    assert "Labelled 1 recording(s)" in res.stderr and set(_index(folder)["files"]) == {"take_01.wav"}
    missing = cli(["samples", str(tmp_path / "nope")], cli_env)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1 and "is not a folder" in missing.stderr


class _HearsSpeech:
    """A listener that hears speech in every file."""

    name = "hears-speech"
    version = 1

    def availability(self):
        return True, ""

    def label(self, path):
        return [("Speech", 0.9)]


def _noise_file(path: Path, seconds: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.3 * np.random.default_rng(0).standard_normal(int(seconds * RATE))).astype(np.float32), RATE)
    return path


def test_a_file_heard_as_speech_does_not_say_quoted_words(tmp_path):
    _noise_file(tmp_path / "lib" / "take_01.wav")
    source = FolderSource(str(tmp_path / "lib"))
    source.library = SampleLibrary(tmp_path / "lib", labeller=_HearsSpeech(), notes=source.skipped)
    assert source.find("Speech") is not None  # wordless speech may still use it
    assert source.find("Male speech, man speaking", 'a man says "hello"') is None
    assert source.find("Speech", "someone says hello there") is None


def test_a_file_named_for_speech_still_says_quoted_words(tmp_path):
    _noise_file(tmp_path / "lib" / "Speech.wav")
    _noise_file(tmp_path / "lib" / "take_01.wav")
    source = FolderSource(str(tmp_path / "lib"))
    source.library = SampleLibrary(tmp_path / "lib", labeller=_HearsSpeech(), notes=source.skipped)
    match = source.find("Speech", 'a man says "hello"')
    assert match is not None and match.quality == 1.0


@pytest.mark.parametrize(("clip", "why"), [(np.zeros(RATE), "it is silent"), (np.full(80, 0.5), "it is too short")])
def test_a_silent_or_very_short_recording_is_handed_over_with_a_note(tmp_path, clip, why):
    (tmp_path / "lib").mkdir()
    sf.write(tmp_path / "lib" / "bark.wav", clip.astype(np.float32), RATE)
    source = FolderSource(str(tmp_path / "lib"))
    match = source.find("Bark")
    assert match is not None
    assert source.render(match, SoundRequest(label="Bark", duration_s=1.0, sample_rate=RATE)) is None
    assert any(n.startswith(f"Skipped the recording bark.wav for Bark: {why}") for n in source.skipped), source.skipped


def test_a_counted_repeat_plays_one_bark_of_a_file_that_holds_three(tmp_path):
    from test_clips import count_bursts, three_barks

    (tmp_path / "lib").mkdir()
    sf.write(tmp_path / "lib" / "dog_barks.wav", three_barks().astype(np.float32), RATE)
    source = FolderSource(str(tmp_path / "lib"))
    match = source.find("Bark", "a dog barks three times")
    assert match is not None
    renders = [source.render(match, SoundRequest(label="Bark", duration_s=1.5, sample_rate=RATE, seed=(0, k),
                                                 single=True, phrase="a dog barks three times")) for k in range(3)]
    assert sum(count_bursts(r) for r in renders) == 3  # not 9
