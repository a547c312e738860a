"""Source ``dsp``: synthesised sounds (physical and signal models), no data files."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ualm_agent.registry import BackendConfig, register
from ualm_agent.roles import SoundRequest, SourceMatch

from ..generators.catalogue import CATALOGUE, catalogue_name
from .clips import take_rng

# A recipe of the label's own is a likeness, not a recording; one borrowed from
# a related class ranks lower still.
OWN_QUALITY = 0.5
STAND_IN_QUALITY = 0.3


class DspSourceSettings(BackendConfig):
    kind: Literal["dsp"] = "dsp"
    sample_rate: int = 16000


@register("dsp", roles=("source",), config=DspSourceSettings, requires=("scipy",), install="pip install scipy")
class DspSource:
    """Synthesised sounds: alarms, weather, machines, impacts, voices."""

    name = "dsp"

    def __init__(self, sample_rate: int = 16000) -> None:
        self.sample_rate = int(sample_rate)

    def _recipes(self) -> dict[str, str]:
        """AudioSet name -> recipe name, for every catalogue entry a DSP recipe makes."""
        return {name: r.dsp for name, r in CATALOGUE.items() if r.kind == "dsp"}

    def labels(self) -> list[str]:
        return list(self._recipes())

    def find(self, label: str, phrase: str = "") -> SourceMatch | None:
        for text in (label, phrase):
            name = catalogue_name(text) if text else None
            if name is not None and CATALOGUE[name].kind == "dsp":
                own = name == label
                return SourceMatch(name, OWN_QUALITY if own else STAND_IN_QUALITY, takes=4, stand_in=not own)
        return None

    def render(self, match: SourceMatch, request: SoundRequest) -> np.ndarray:
        from ..generators.dsp import RECIPES

        recipe = CATALOGUE[match.sound]
        rng = take_rng(request)
        name = recipe.counted if request.single and recipe.counted else recipe.dsp
        n = max(1, int(round(request.duration_s * request.sample_rate)))
        return np.asarray(RECIPES[name](request.duration_s, request.sample_rate, rng, request.single), dtype=np.float64)[:n]
