"""Source ``samples``: a user's folder of recordings, preferred over anything synthesised."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ualm_agent.registry import BackendConfig, register
from ualm_agent.roles import SoundRequest, SourceMatch

from ..generators.samples import SampleLibrary
from .clips import fit, take_index

# A recording of the very class asked for beats any other source.
QUALITY = 1.0


class FolderSourceSettings(BackendConfig):
    kind: Literal["samples"] = "samples"
    # The folder of recordings (labels from file or folder names).
    root: str
    sample_rate: int = 16000


@register("samples", roles=("source",), config=FolderSourceSettings)
class FolderSource:
    """Your own recordings: a file's label is its name, or its folder's."""

    name = "samples"

    def __init__(self, root: str, sample_rate: int = 16000) -> None:
        self.sample_rate = int(sample_rate)
        self.library = SampleLibrary(root, self.sample_rate)
        # Files that failed to load, said once in the generator's notes.
        self.skipped: list[str] = []

    def labels(self) -> list[str]:
        return self.library.labels()

    def find(self, label: str, phrase: str = "") -> SourceMatch | None:
        for text in (label, phrase):
            if text and self.library.has(text):
                return SourceMatch(text, QUALITY, takes=self.library.count(text))
        return None

    def render(self, match: SourceMatch, request: SoundRequest) -> np.ndarray | None:
        clip = self.library.take(match.sound, take_index(request, match.takes), skipped=self.skipped)
        if clip is None:
            return None
        n = max(1, int(round(request.duration_s * request.sample_rate)))
        return fit(clip, n, request.sample_rate, request.single)
