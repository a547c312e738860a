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
# A recipe written for the label that the listener does not yet confirm: an honest
# attempt at the sound beats another class's sound (stand-ins: dsp 0.3, soundfont 0.35,
# recordings 0.4), but any confirmed render (dsp 0.5, soundfont 0.6, recordings) beats it.
LIKENESS_QUALITY = 0.42
# Each take is a fresh draw of the recipe's random parameters.
TAKES = 4


class DspSourceSettings(BackendConfig):
    kind: Literal["dsp"] = "dsp"
    sample_rate: int = 16000


@register("dsp", roles=("source",), config=DspSourceSettings, requires=("scipy",), install="pip install scipy")
class DspSource:
    """Synthesised sounds: alarms, weather, machines, impacts, voices."""

    name = "dsp"

    def __init__(self, sample_rate: int = 16000) -> None:
        self.sample_rate = int(sample_rate)

    def labels(self) -> list[str]:
        from . import families

        return list(dict.fromkeys([*families.labels(), *families.likenesses(),
                                   *(n for n, r in CATALOGUE.items() if r.kind == "dsp")]))

    def find(self, label: str, phrase: str = "") -> SourceMatch | None:
        from ualm_agent.labels import exact_audioset_name

        from . import families

        own = families.labels()
        for text in (label, phrase):
            exact = exact_audioset_name(text) if text else None
            if exact in own:
                return SourceMatch(exact, OWN_QUALITY if exact == label else STAND_IN_QUALITY, takes=TAKES,
                                   stand_in=exact != label)
            # The label's own likeness comes before the phrase's stand-in; one named only by
            # the phrase would be an unconfirmed sound of another class, no better than one.
            if text == label and label in families.likenesses():
                return SourceMatch(label, LIKENESS_QUALITY, takes=TAKES, stand_in=False)
        for text in (label, phrase):
            name = catalogue_name(text) if text else None
            if name is not None and CATALOGUE[name].kind == "dsp":
                return SourceMatch(name, OWN_QUALITY if name == label else STAND_IN_QUALITY, takes=TAKES,
                                   stand_in=name != label)
        return None

    def render(self, match: SourceMatch, request: SoundRequest) -> np.ndarray:
        from ..generators.dsp import RECIPES
        from . import families

        rng = take_rng(request)
        sr, n = request.sample_rate, max(1, int(round(request.duration_s * request.sample_rate)))
        filed = {**families.likenesses(), **families.labels()}
        if match.sound in filed:
            fn = families.recipes()[filed[match.sound]]
        else:
            recipe = CATALOGUE[match.sound]
            fn = RECIPES[recipe.counted if request.single and recipe.counted else recipe.dsp]
        return np.asarray(fn(request.duration_s, sr, rng, request.single), dtype=np.float64)[:n]
