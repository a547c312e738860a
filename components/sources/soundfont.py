"""Source ``soundfont``: General MIDI instruments and drums playing short patterns.

Uses FluidR3 GM when it is installed (Debian's fluid-soundfont-gm), else the
TimGM6mb font that ships inside pretty-midi, or a font the user names.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np

from ualm_agent.errors import ConfigError
from ualm_agent.modelpacks import SOUNDFONT
from ualm_agent.registry import BackendConfig, register
from ualm_agent.roles import SoundRequest, SourceMatch

from ..generators.catalogue import CATALOGUE, catalogue_name
from .clips import take_rng

OWN_QUALITY = 0.6
STAND_IN_QUALITY = 0.35
# Richer General MIDI fonts preferred over the small one in pretty-midi, where installed.
SYSTEM_FONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",)


def default_font() -> str | None:
    for path in SYSTEM_FONTS:
        if Path(path).is_file():
            return path
    return None if SOUNDFONT.missing_reason() else str(SOUNDFONT.locate())


def _missing() -> str:
    return "" if default_font() else SOUNDFONT.missing_reason()


class SoundfontSourceSettings(BackendConfig):
    kind: Literal["soundfont"] = "soundfont"
    # A General MIDI .sf2 to use instead of the installed one.
    soundfont: str | None = None
    sample_rate: int = 16000


@register(
    "soundfont",
    roles=("source",),
    config=SoundfontSourceSettings,
    requires=("tinysoundfont",),
    install="pip install --no-deps tinysoundfont && pip install pretty-midi",
    check=_missing,
)
class SoundfontSource:
    """General MIDI instruments and drum kit playing a pattern suited to each label."""

    name = "soundfont"

    def __init__(self, soundfont: str | None = None, sample_rate: int = 16000) -> None:
        if soundfont and not Path(soundfont).expanduser().is_file():
            raise ConfigError(f"soundfont not found: {soundfont}")
        self.font = str(Path(soundfont).expanduser()) if soundfont else default_font()
        self.sample_rate = int(sample_rate)

    def labels(self) -> list[str]:
        return [n for n, r in CATALOGUE.items() if r.kind != "dsp"] if self.font else []

    def find(self, label: str, phrase: str = "") -> SourceMatch | None:
        if not self.font:
            return None
        for text in (label, phrase):
            name = catalogue_name(text) if text else None
            if name is not None and CATALOGUE[name].kind != "dsp":
                own = name == label
                takes = max(1, len(CATALOGUE[name].programs)) * 3
                return SourceMatch(name, OWN_QUALITY if own else STAND_IN_QUALITY, takes=takes, stand_in=not own)
        return None

    def render(self, match: SourceMatch, request: SoundRequest) -> np.ndarray:
        recipe = CATALOGUE[match.sound]
        sr = request.sample_rate
        rng = take_rng(request)
        if request.single and recipe.counted:
            # A lone counted hit is heard more surely from its DSP recipe (see Recipe.counted).
            from ..generators.dsp import RECIPES

            n = max(1, int(round(request.duration_s * sr)))
            return np.asarray(RECIPES[recipe.counted](request.duration_s, sr, rng, True), dtype=np.float64)[:n]
        from ..generators.phrases import PATTERNS
        from ..generators.soundfont import render_notes

        # The seed picks the first take's program (drawn from the take-0 stream, so every take
        # agrees on it); later takes step through the others, then repeat with new patterns.
        first_rng = rng if request.take == 0 else take_rng(replace(request, take=0))
        first = int(first_rng.integers(len(recipe.programs)))
        program = recipe.programs[(first + request.take) % len(recipe.programs)]
        notes = PATTERNS[recipe.pattern](request.duration_s, recipe.keys, rng, request.single)
        return render_notes(self.font, notes, request.duration_s, program=program,
                            drums=recipe.kind == "drums", sample_rate=sr)
