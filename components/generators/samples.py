"""A user's folder of recordings, used before any synthesised recipe: a sound designer's own library.

Labels come from names first. A file's stem and each folder above it (up to the
library's root) give a label when ``name_label`` finds one in them ("dog bark
02.wav", "Dog/0001.wav", "Footsteps/gravel_01.wav" gives "gravel" and
"Footsteps"). A file whose name and folders give none ("take_07.wav",
"ZOOM0001.WAV") is labelled by listening: YAMNet's clip scores (see
``YamnetLabeller``). What was heard is kept in an index beside the files
(``LabelIndex``), so each file is listened to once.

Labels are compared by AudioSet name where they spell one, else by ``name_key``.
When a label has files labelled by name and files labelled by ear, only the
named ones are used: a name is the user's own word for the sound.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from ualm_agent.audio import read_audio, resample, to_mono
from ualm_agent.errors import AudioInputError, ConfigError
from ualm_agent.files import atomic_write_text
from ualm_agent.labels import exact_audioset_name, name_key

from ..sources.clips import unusable

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".mp3"}

# Words that recorders, phones and audio editors put in the names they make up
# ("Take 7", "ZOOM0001", "New Recording 3", "Audio 1_bounce"): they say nothing of the sound.
DEFAULT_NAME_WORDS = frozenset({
    "take", "track", "trk", "rec", "recording", "record", "audio", "sound", "clip", "file", "untitled",
    "unnamed", "new", "memo", "capture", "sample", "smpl", "sfx", "fx", "test", "default", "tmp", "temp",
    # editing steps and formats
    "mix", "bounce", "bounced", "export", "exported", "final", "copy", "edit", "edited", "master",
    "raw", "wav", "part", "version", "ver", "bit", "khz", "hz", "stereo", "mono",
    "left", "right", "ch", "channel", "output", "input", "mic",
    # recorders' and cameras' file prefixes
    "zoom", "tascam", "dsc", "img", "mov", "vid", "video", "ste", "ls", "dr", "dm", "ws", "sr", "vn",
})

# Quality of a match (see ``roles.SourceMatch``; the composer renders the best). A label the user
# named beats everything. The catalogue's reading of a free-form name ("dog barking" -> Bark) comes
# next, still above packaged recordings (0.9): a user's own library should usually win. A label
# heard by the listener scales with its score: a confident one (score above 2/3) still beats the
# packaged recordings, a doubtful one loses to them, and every one beats synthesis (0.6 and below).
NAME_QUALITY = 1.0
CATALOGUE_QUALITY = 0.95
HEARD_QUALITY = (0.8, 0.15)

Origin = Literal["name", "catalogue", "listener"]
_ORIGIN_RANK = {"name": 0, "catalogue": 1, "listener": 2}


@dataclass(frozen=True)
class FileLabel:
    """One label of one file, where it came from, and (for the listener's) its clip score."""

    name: str
    origin: Origin
    score: float = 1.0

    @property
    def quality(self) -> float:
        if self.origin == "name":
            return NAME_QUALITY
        if self.origin == "catalogue":
            return CATALOGUE_QUALITY
        base, slope = HEARD_QUALITY
        return base + slope * self.score


def label_key(text: str) -> str:
    return exact_audioset_name(text) or name_key(text)


def name_label(name: str) -> str | None:
    """The label a file stem or folder name gives, or None when it gives none.

    A name that spells an AudioSet class gives that class ("sirens" -> "Siren",
    "dog_bark_02" -> "dog bark"). Otherwise the name gives its own words, less
    numbers, dates, recorder codes ("ZOOM0001", "DSC_0042" -> none) and the words
    devices put in default names (``DEFAULT_NAME_WORDS``): "take_07", "ZOOM0001",
    "audio", "untitled", "rec 2024-05-01", "0001" and "New Recording 3" give none,
    "tractor_02" gives "tractor" and "Take 3 - rain on tin" gives "rain on tin".
    Any other word counts: a sound designer's own names ("Zorblax") are labels too.
    """
    # Trailing take numbers were always dropped ("dog_bark_02" is "dog bark").
    whole = re.sub(r"[\s_\-.]*\d+$", "", name).strip()
    exact = exact_audioset_name(whole) if whole else None
    if exact:
        return exact
    text = re.sub(r"voice\s*memo", " ", name, flags=re.IGNORECASE)
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)  # "DogBark" -> "Dog Bark"
    words = []
    for chunk in re.split(r"[\W_]+", text):
        # A counter after a word keeps the word ("take1", "ZOOM0001"); other mixes of letters and
        # digits ("H4n", "48k", "a3f9c2") are device names, settings or ids.
        counted = re.fullmatch(r"([^\W\d_]+)\d+", chunk)
        word = counted.group(1) if counted else chunk
        lower = word.lower()
        plain = lower not in DEFAULT_NAME_WORDS and not (lower.endswith("s") and lower[:-1] in DEFAULT_NAME_WORDS)
        if len(word) >= 2 and word.isalpha() and plain:
            words.append(word)
    if not words:
        return None
    label = " ".join(words)
    return exact_audioset_name(label) or label


def name_labels(path: Path, root: Path) -> tuple[FileLabel, ...]:
    """The labels ``path``'s stem and its folders below ``root`` give, the stem's first,
    each followed by the catalogue's reading of it where that is another sound."""
    from .catalogue import catalogue_name

    names = [path.stem, *(p.name for p in path.relative_to(root).parents if p.name)]
    found: dict[str, FileLabel] = {}
    for text in names:
        label = name_label(text)
        if label is None:
            continue
        found.setdefault(label_key(label), FileLabel(label, "name"))
        if exact_audioset_name(label) is None and (reading := catalogue_name(label)):
            found.setdefault(label_key(reading), FileLabel(reading, "catalogue"))
    return tuple(found.values())


class Labeller(Protocol):
    """Labels a recording by listening to it."""

    name: str
    # Bumped when the labels it gives change, so older indexes are relabelled.
    version: int

    def availability(self) -> tuple[bool, str]: ...

    # (AudioSet name, score in 0..1), best first; empty when it heard nothing it can name.
    # AudioInputError for a file it cannot read.
    def label(self, path: Path) -> list[tuple[str, float]]: ...


# Classes that describe the room, the recording or nothing at all: never a file's label.
UNLABELLED_CLASSES = frozenset({
    "Silence", "Sound effect", "Inside, small room", "Inside, large room or hall",
    "Outside, urban or manmade", "Outside, rural or natural",
})
# The top label needs this score; a further label this much, and half the top's score.
TOP_SCORE = 0.1
EXTRA_SCORE = 0.5
MAX_LABELS = 4
# Seconds scored at a time: a long field recording is never held whole.
LISTEN_BLOCK_S = 60


class YamnetLabeller:
    """Labels from YAMNet's clip scores: each class's highest patch probability over the file
    (max pooling, as the coverage benchmark does), so a short sound counts as much as a long one.

    The top label is the best-scoring class other than the listener's broad parents ("Animal",
    "Vehicle", "Music": ``yamnet.GENERIC_LABELS``), unless only those were heard; up to three more
    classes heard nearly as surely follow it ("Rain" then "Water", "Rain on surface"), so one
    file serves several related labels. Ties go to the narrower class ("Rain" before "Water").
    """

    name = "yamnet"
    version = 1

    def __init__(self) -> None:
        self._listener = None

    def availability(self) -> tuple[bool, str]:
        from ualm_agent import registry

        return registry.get("listener", "yamnet").availability()

    def label(self, path: Path) -> list[tuple[str, float]]:
        from ualm_agent.labels import audioset_names

        return pick_labels(self.clip_scores(path), audioset_names())

    def clip_scores(self, path: Path) -> np.ndarray:
        from ualm_agent.audio_stream import probe_audio, read_blocks
        from ualm_agent.waveform import Waveform

        if self._listener is None:
            from ..listeners.yamnet import YamnetListener

            self._listener = YamnetListener()
        source = probe_audio(path)
        best: np.ndarray | None = None
        for block in read_blocks(source, LISTEN_BLOCK_S * source.sample_rate):
            if not np.all(np.isfinite(block)):
                raise AudioInputError(f"{path.name} holds NaN or infinite samples")
            scores = self._listener.frame_probabilities(Waveform(block.T, source.sample_rate)).max(axis=0)
            best = scores if best is None else np.maximum(best, scores)
        if best is None:
            raise AudioInputError(f"audio file has no samples: {path}")
        return best


def pick_labels(clip: np.ndarray, names: Sequence[str]) -> list[tuple[str, float]]:
    """A file's labels from its clip scores (one per class in ``names``): see ``YamnetLabeller``."""
    from ..listeners.yamnet import GENERIC_LABELS

    generic = set(GENERIC_LABELS)
    # The quantised model's scores come in coarse steps, so ties are common.
    scores = np.round(clip.astype(np.float64), 4)
    ranked = sorted((i for i, n in enumerate(names) if n not in UNLABELLED_CLASSES),
                    key=lambda i: (-scores[i], names[i] in generic, -_depth(names[i])))
    heard = [i for i in ranked if scores[i] >= TOP_SCORE]
    if not heard:
        return []
    top = next((i for i in heard if names[i] not in generic), heard[0])
    floor = max(EXTRA_SCORE, scores[top] / 2)
    extras = [i for i in heard if i != top and scores[i] >= floor][: MAX_LABELS - 1]
    return [(names[i], float(scores[i])) for i in (top, *extras)]


@cache
def _depth(name: str) -> int:
    from ualm_agent import ontology

    try:
        return 1 + max((_depth(p) for p in ontology.parents(name)), default=0)
    except KeyError:
        return 0


def cache_folder() -> Path:
    """Where the indexes of read-only folders are kept: the project's cache dir."""
    from ..text.minilm import cache_dir

    return cache_dir() / "samples"


class LabelIndex:
    """The listener's labels of a folder's unnamed files, kept in ``FILE`` beside them.

    The file is JSON: ``{"version", "listener", "listener_version", "files": {relative path: {"size", "mtime_ns",
    "sha256", "labels": [{"label", "score"}], "skipped"?}}}``. A file whose size and mtime match
    its entry keeps its labels; one whose content hash matches an entry (touched, copied or moved)
    keeps them too, and only other files are listened to. Files that are gone are dropped, and
    the index is rewritten (atomically) only when it changed. A folder it cannot be written in
    keeps its index in ``cache_folder()`` instead.
    """

    FILE = ".ualm-samples.json"
    VERSION = 1

    def __init__(self, root: Path, labeller: Labeller, notes: list[str]) -> None:
        self.root = root
        self.labeller = labeller
        self.notes = notes
        self.path = root / self.FILE
        digest = hashlib.sha256(str(root.resolve()).encode("utf-8")).hexdigest()[:16]
        self.cache_path = cache_folder() / f"{digest}.json"

    def labels(self, paths: Iterable[Path]) -> dict[Path, tuple[FileLabel, ...]]:
        """The listener's labels of ``paths`` (files under ``root``), listening only where needed."""
        paths = list(paths)
        target = self.path if _writable(self.root) else self.cache_path
        known, stored = self._read(target)
        if not paths and stored is None:
            return {}
        entries: dict[str, dict] = {}
        pending: list[tuple[str, Path, os.stat_result]] = []
        for path in paths:
            try:
                rel, stat = path.relative_to(self.root).as_posix(), path.stat()
            except OSError:
                continue  # gone since the folder was scanned
            entry = known.get(rel)
            if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
                entries[rel] = entry
            else:
                pending.append((rel, path, stat))
        if pending:
            entries.update(self._listen(pending, known))
        document = {"version": self.VERSION, "listener": self.labeller.name, "listener_version": self.labeller.version,
                    "files": dict(sorted(entries.items()))}
        if target == self.cache_path:
            document["root"] = str(self.root.resolve())  # for whoever finds it in the cache
        if document != stored:
            self._write(target, document)
        out: dict[Path, tuple[FileLabel, ...]] = {}
        for rel, entry in entries.items():
            if entry.get("skipped"):
                self.notes.append(f"Skipped the recording {rel}: {entry['skipped']}.")
                continue
            out[self.root / rel] = tuple(FileLabel(x["label"], "listener", float(x["score"])) for x in entry["labels"])
        return out

    def _listen(self, pending: list[tuple[str, Path, os.stat_result]], known: dict[str, dict]) -> dict[str, dict]:
        by_hash = {e.get("sha256"): e for e in known.values()}
        made: dict[str, dict] = {}
        heard: list[str] = []
        ready, reason, left_out = None, "", 0
        if len(pending) >= 10:
            print(f"Listening to {len(pending)} recordings in {self.root} to label them (once).", file=sys.stderr)
        for rel, path, stat in pending:
            try:
                entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": _sha256(path)}
            except OSError as exc:
                self.notes.append(f"Skipped the recording {rel}: it could not be read ({exc}).")
                continue
            # The same content (touched, copied or moved) keeps what was heard in it.
            same = known.get(rel) if known.get(rel, {}).get("sha256") == entry["sha256"] else by_hash.get(entry["sha256"])
            if same is not None:
                made[rel] = {**same, **entry}
                continue
            if ready is None:
                ready, reason = self.labeller.availability()
            if not ready:
                left_out += 1
                continue
            try:
                found = self.labeller.label(path)
            except AudioInputError as exc:
                made[rel] = {**entry, "labels": [], "skipped": f"it could not be listened to: {exc}"}
                continue
            except Exception as exc:  # noqa: BLE001 - one file the listener fails on must not end a run
                # Not kept in the index: the failure may be the listener's, so the file is heard again next time.
                self.notes.append(f"Skipped the recording {rel}: the listener failed on it ({type(exc).__name__}: {exc}).")
                continue
            if not found:
                made[rel] = {**entry, "labels": [], "skipped": "the listener heard nothing it could name in it"}
                continue
            made[rel] = {**entry, "labels": [{"label": n, "score": round(float(s), 4)} for n, s in found]}
            heard.append(f"{rel} as {found[0][0]}")
        if left_out:
            self.notes.append(f"{left_out} recording(s) in {self.root} have no label in their names and the "
                              f"{self.labeller.name} listener is not available to label them ({reason}), "
                              "so they were left out.")
        if heard:
            shown = "; ".join(heard[:5]) + (f"; and {len(heard) - 5} more" if len(heard) > 5 else "")
            self.notes.append(f"Labelled {len(heard)} recording(s) in {self.root} by listening "
                              f"({self.labeller.name}): {shown}.")
        return made

    def _read(self, target: Path) -> tuple[dict[str, dict], dict | None]:
        """Entries from both index places (the cache's over the folder's), and ``target``'s document."""
        known: dict[str, dict] = {}
        stored = None
        for path in (self.path, self.cache_path):
            if not path.is_file():
                continue
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                self._set_aside(path, f"could not be read ({exc})")
                continue
            files = document.get("files") if isinstance(document, dict) else None
            if not isinstance(files, dict):
                self._set_aside(path, "is not a label index (it holds no table of files)")
                continue
            made_by = (document.get("version"), document.get("listener"), document.get("listener_version"))
            if made_by != (self.VERSION, self.labeller.name, self.labeller.version):
                continue  # another format, listener or labelling rule: its files are heard again
            # One malformed entry costs only its own file a second hearing, not the whole index.
            bad = [rel for rel, entry in files.items() if not _valid_entry(entry)]
            if bad:
                files = {rel: entry for rel, entry in files.items() if rel not in bad}
                self.notes.append(f"The label index {path} had {len(bad)} unreadable entr"
                                  f"{'y' if len(bad) == 1 else 'ies'} ({', '.join(bad[:3])}"
                                  f"{', ...' if len(bad) > 3 else ''}); those recordings are heard again.")
            known.update(files)
            if path == target:
                stored = document
        return known, stored

    def _set_aside(self, path: Path, why: str) -> None:
        """Moves a broken index to ``<name>.bad`` (replacing an older one) so that rebuilding it
        loses nothing the user may still want to recover."""
        bad = path.with_name(path.name + ".bad")
        try:
            os.replace(path, bad)
        except OSError:
            self.notes.append(f"The label index {path} {why}, so it was rebuilt.")
            return
        self.notes.append(f"The label index {path} {why}, so it was moved to {bad.name} and rebuilt.")

    def _write(self, target: Path, document: dict) -> None:
        text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        if target == self.path:
            try:
                _replace(self.path, text)
                self.cache_path.unlink(missing_ok=True)  # the folder's own index now holds everything
                return
            except OSError:
                document = {**document, "root": str(self.root.resolve())}
                text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        try:
            _replace(self.cache_path, text)
        except OSError as exc:
            self.notes.append(f"The labels heard in {self.root} could not be kept ({exc}); they will be heard again.")
            return
        self.notes.append(f"{self.root} cannot be written to, so the labels heard in its recordings are kept in "
                          f"{self.cache_path}.")


def _valid_entry(entry: object) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("labels"), list):
        return False
    numbers = all(isinstance(entry.get(k), int) for k in ("size", "mtime_ns")) and isinstance(entry.get("sha256"), str)
    labels = all(isinstance(x, dict) and isinstance(x.get("label"), str) and isinstance(x.get("score"), (int, float))
                 for x in entry["labels"])
    return numbers and labels


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK)


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)  # a reader never sees half an index


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SampleLibrary:
    """Labelled audio files under ``root``, labelled on first use and loaded lazily, resampled to ``sample_rate``.

    Files that cannot be labelled or loaded are skipped, and why goes to ``notes``.
    """

    def __init__(self, root: str | Path, sample_rate: int = 16000, *, labeller: Labeller | None = None,
                 notes: list[str] | None = None) -> None:
        self.root = Path(root).expanduser()
        self.sample_rate = sample_rate
        self.labeller = labeller if labeller is not None else YamnetLabeller()
        self.notes = notes if notes is not None else []
        if not self.root.is_dir():
            raise ConfigError(f"samples folder not found: {self.root}")
        self._files: dict[Path, tuple[FileLabel, ...]] | None = None
        self._by_key: dict[str, list[tuple[Path, FileLabel]]] = {}

    def files(self) -> dict[Path, tuple[FileLabel, ...]]:
        """Every usable file and its labels, best first. The first call scans the folder (and may listen)."""
        if self._files is None:
            self._files = {}
            unnamed = []
            for path in _audio_files(self.root):
                named = name_labels(path, self.root)
                if named:
                    self._files[path] = named
                else:
                    unnamed.append(path)
            self._files.update(LabelIndex(self.root, self.labeller, self.notes).labels(unnamed))
            for path, labels in sorted(self._files.items()):
                for label in labels:
                    self._by_key.setdefault(label_key(label.name), []).append((path, label))
        return self._files

    def labels(self) -> list[str]:
        self.files()
        return [self._best(key)[0][1].name for key in self._by_key]

    def has(self, label: str) -> bool:
        return bool(self._best(label_key(label)))

    def count(self, label: str) -> int:
        return len(self._best(label_key(label)))

    def quality(self, label: str) -> float:
        """How well the files for ``label`` match it: their mean quality (0 when there are none)."""
        best = self._best(label_key(label))
        return float(np.mean([fl.quality for _, fl in best])) if best else 0.0

    def origin(self, label: str) -> Origin | None:
        """Where the labels of the files used for ``label`` come from (None when there are none)."""
        best = self._best(label_key(label))
        return best[0][1].origin if best else None

    def _best(self, key: str) -> list[tuple[Path, FileLabel]]:
        """The files for ``key`` of the best origin only: named ones over the catalogue's, over heard ones."""
        self.files()
        found = self._by_key.get(key, [])
        if not found:
            return []
        rank = min(_ORIGIN_RANK[fl.origin] for _, fl in found)
        return [(p, fl) for p, fl in found if _ORIGIN_RANK[fl.origin] == rank]

    def take(self, label: str, index: int, *, skipped: list[str] | None = None) -> np.ndarray | None:
        """Recording number ``index`` (modulo their number) for ``label``; broken, silent or too
        short files are skipped for the next one, and why goes to ``skipped``."""
        paths = [p for p, _ in self._best(label_key(label))]
        for k in range(len(paths)):
            path = paths[(index + k) % len(paths)]
            try:
                clip = _load(str(path), self.sample_rate)
                # A silent or too short file would read as a failed round: handed over like a broken one.
                why = unusable(clip, self.sample_rate)
            except AudioInputError as exc:
                why = str(exc)
            if why is None:
                return clip
            note = f"Skipped the recording {path.name} for {label}: {why}."
            if skipped is not None and note not in skipped:
                skipped.append(note)
        return None


def _audio_files(root: Path) -> list[Path]:
    # Hidden files are left out: "._x.wav" is macOS's resource fork on a shared drive, not audio.
    return sorted(
        p for p in root.rglob("*")
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


@cache
def _load(path: str, rate: int) -> np.ndarray:
    audio = resample(to_mono(read_audio(path)), rate)
    if not np.all(np.isfinite(audio.samples)):
        raise AudioInputError(f"{path} holds NaN or infinite samples")
    out = audio.samples[0].astype(np.float32)
    out.setflags(write=False)
    return out
