"""A user's folder of labelled recordings, used before any synthesised recipe.

A file's label is its stem ("dog bark.wav", trailing numbers dropped:
"dog_bark_02.wav") or, for files inside sub-folders, the folder's name
("Dog/0001.wav"). Labels are compared by AudioSet name where they spell one,
else by ``name_key``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np

from ualm_agent.audio import read_audio, resample, to_mono
from ualm_agent.errors import AudioInputError, ConfigError
from ualm_agent.labels import exact_audioset_name, name_key

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3"}


def label_key(text: str) -> str:
    return exact_audioset_name(text) or name_key(text)


def _file_label(path: Path, root: Path) -> str:
    if path.parent != root:
        return path.parent.name
    return re.sub(r"[\s_\-]*\d+$", "", path.stem) or path.stem


class SampleLibrary:
    """Labelled audio files under ``root``, loaded lazily and resampled to ``sample_rate``."""

    def __init__(self, root: str | Path, sample_rate: int = 16000) -> None:
        self.root = Path(root).expanduser()
        self.sample_rate = sample_rate
        self._files: dict[str, list[Path]] = {}
        self._names: dict[str, str] = {}
        if not self.root.is_dir():
            raise ConfigError(f"samples folder not found: {self.root}")
        for path in sorted(p for p in self.root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()):
            label = _file_label(path, self.root)
            key = label_key(label)
            self._files.setdefault(key, []).append(path)
            self._names.setdefault(key, exact_audioset_name(label) or label)

    def labels(self) -> list[str]:
        return list(self._names.values())

    def has(self, label: str) -> bool:
        return label_key(label) in self._files

    def count(self, label: str) -> int:
        return len(self._files.get(label_key(label), ()))

    def take(self, label: str, index: int, *, skipped: list[str] | None = None) -> np.ndarray | None:
        """Recording number ``index`` (modulo their number) for ``label``; broken files are
        skipped for the next one, and why goes to ``skipped``."""
        paths = self._files.get(label_key(label), [])
        for k in range(len(paths)):
            path = paths[(index + k) % len(paths)]
            try:
                return _load(str(path), self.sample_rate)
            except AudioInputError as exc:
                note = f"Skipped the recording {path.name} for {label}: {exc}."
                if skipped is not None and note not in skipped:
                    skipped.append(note)
        return None


@cache
def _load(path: str, rate: int) -> np.ndarray:
    audio = resample(to_mono(read_audio(path)), rate)
    if not np.all(np.isfinite(audio.samples)):
        raise AudioInputError(f"{path} holds NaN or infinite samples")
    out = audio.samples[0].astype(np.float32)
    out.setflags(write=False)
    return out
