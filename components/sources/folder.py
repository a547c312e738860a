"""Source ``samples``: a user's folder of recordings, preferred over anything synthesised.

Files are labelled by their names, or by listening where the names say nothing
("take_07.wav"); see :mod:`..generators.samples` for the rules, the index that
keeps what was heard, and the quality each kind of label gets.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ualm_agent.registry import BackendConfig, register
from ualm_agent.roles import SoundRequest, SourceMatch

from ..generators.samples import SampleLibrary
from .clips import fit, loudest_hit, take_index
from .speech import is_speech, lines


class FolderSourceSettings(BackendConfig):
    kind: Literal["samples"] = "samples"
    # The folder of recordings (labels from file or folder names, else heard by the listener).
    root: str
    sample_rate: int = 16000


@register("samples", roles=("source",), config=FolderSourceSettings)
class FolderSource:
    """Your own recordings: a file's label is its name, or its folder's, or what the listener hears in it."""

    name = "samples"

    def __init__(self, root: str, sample_rate: int = 16000) -> None:
        self.sample_rate = int(sample_rate)
        # What the folder has to say (files skipped, files labelled by ear, where their labels are
        # kept), said once in the generator's notes.
        self.skipped: list[str] = []
        # The folder is scanned (and unnamed files heard) when first asked for a sound, not here.
        self.library = SampleLibrary(root, self.sample_rate, notes=self.skipped)

    def labels(self) -> list[str]:
        return self.library.labels()

    def find(self, label: str, phrase: str = "") -> SourceMatch | None:
        # Words to say go to the speech source: a file the listener merely heard as speech says
        # other words, yet its quality (above the speech source's) would win. A file the user named
        # for the label still may: they asked for it.
        words = bool(phrase) and bool(lines(phrase))
        for text in (label, phrase):
            if text and self.library.has(text):
                if words and (is_speech(label) or is_speech(text)) and self.library.origin(text) == "listener":
                    continue
                return SourceMatch(text, self.library.quality(text), takes=self.library.count(text))
        return None

    def render(self, match: SourceMatch, request: SoundRequest) -> np.ndarray | None:
        clip = self.library.take(match.sound, take_index(request, match.takes), skipped=self.skipped)
        if clip is None:
            return None
        if request.single:
            # A counted repeat is one sound: a file of three barks would otherwise give three per count.
            clip = loudest_hit(clip, request.sample_rate)
        n = max(1, int(round(request.duration_s * request.sample_rate)))
        return fit(clip, n, request.sample_rate, request.single)
