"""Generator ``composer``: renders a plan's layout with no neural weights.

Each layout event becomes its occurrences, each rendered from (in order of
preference) a user's labelled recording, a General MIDI soundfont program with
a short musical pattern, or a DSP recipe; then scaled by level, placed at its
onset and mixed to mono. Position is left to the vae.
"""

from __future__ import annotations

import zlib
from typing import Literal

import numpy as np

from ualm_agent.errors import ConfigError
from ualm_agent.modelpacks import SOUNDFONT
from ualm_agent.registry import BackendConfig, register
from ualm_agent.roles import GenerationRequest, GenerationResult
from ualm_agent.schema import LayoutEvent
from ualm_agent.waveform import Waveform

from .catalogue import CATALOGUE, Recipe, catalogue_name

# Linear gains per level: loud 0 dB, normal -6 dB, soft -14 dB, distant -9 dB (and filtered).
LEVEL_GAIN = {"loud": 1.0, "normal": 0.5, "soft": 0.2, "distant": 0.35}
# Each clip is brought to this RMS (over its active part) before the level gain.
CLIP_RMS = 0.25
# The mix is scaled down only when it would exceed this peak, so levels stay as planned.
MIX_PEAK = 0.9
FADE_IN_S = 0.005
FADE_OUT_S = 0.03
DISTANT_TAIL_S = 0.3
DC_CUTOFF_HZ = 20.0
OPENING_LEAD_S = 0.2
# Recipes and patterns are never asked for less than this (a speech syllable needs about 0.2 s);
# a shorter occurrence is cut from such a render, starting where its sound starts.
RENDER_MIN_S = 0.25
# An occurrence shorter than this is lengthened to it, so it is heard at all.
SHORTEST_SOUND_S = 0.02
# Where a render's sound starts: the first sample this close to its peak.
ONSET_OF_PEAK = 0.05


class ComposerSettings(BackendConfig):
    kind: Literal["composer"] = "composer"
    # A folder of labelled recordings (file stem or sub-folder name = label); these win over synthesis.
    samples: str | None = None
    # A General MIDI .sf2 to use instead of the TimGM6mb font shipped with pretty-midi.
    soundfont: str | None = None
    sample_rate: int = 16000


@register(
    "composer",
    roles=("generator",),
    config=ComposerSettings,
    requires=("tinysoundfont", "scipy"),
    install="pip install --no-deps tinysoundfont && pip install scipy pretty-midi",
    check=SOUNDFONT.missing_reason,
)
class Composer:
    """Soundfont instruments, DSP recipes and your own samples, laid out on the plan's timeline."""

    def __init__(self, samples: str | None = None, soundfont: str | None = None, sample_rate: int = 16000) -> None:
        from pathlib import Path

        from .samples import SampleLibrary

        if sample_rate < 8000:
            raise ConfigError(f"composer sample_rate must be at least 8000 Hz, got {sample_rate}")
        if soundfont and not Path(soundfont).expanduser().is_file():
            raise ConfigError(f"soundfont not found: {soundfont}")
        self.sample_rate = int(sample_rate)
        self.samples = SampleLibrary(samples, self.sample_rate) if samples else None
        self._soundfont_override = str(Path(soundfont).expanduser()) if soundfont else None

    # --- KnowsRenderable ----------------------------------------------------

    def can_render(self, label: str) -> bool:
        if self.samples is not None and self.samples.has(label):
            return True
        name = catalogue_name(label)
        return name is not None and self._recipe_usable(CATALOGUE[name])

    def renderable_labels(self) -> list[str]:
        names = [n for n, r in CATALOGUE.items() if self._recipe_usable(r)]
        if self.samples is not None:
            names = list(dict.fromkeys(self.samples.labels() + names))
        return names

    # --- Generator ----------------------------------------------------------

    def generate(self, request: GenerationRequest) -> GenerationResult:
        sr = self.sample_rate
        duration = float(request.duration_s or request.caption.duration_s)
        total = max(1, int(round(duration * sr)))
        mix = np.zeros(total, dtype=np.float64)
        unrendered: list[str] = []
        notes: list[str] = []
        for index, event in enumerate(request.caption.layout):
            seed = _event_seed(request.seed, request.round_index, event.label, index)
            source = self._source(event)
            if isinstance(source, str):
                recording = self.samples.pick(source, np.random.default_rng(seed), skipped=notes) if self.samples else None
                source = recording if recording is not None else self._source(event, use_samples=False)
            layer = None if source is None else self._layer(event, source, seed, total, notes)
            if layer is None:
                if event.label not in unrendered:
                    unrendered.append(event.label)
                continue
            stand_in = self._stand_in(event)
            if stand_in and stand_in not in notes:
                notes.append(stand_in)
            mix += layer
        peak = float(np.max(np.abs(mix))) if mix.size else 0.0
        if peak > MIX_PEAK:
            mix *= MIX_PEAK / peak
        return GenerationResult(Waveform(mix.astype(np.float32)[None, :], sr), tuple(unrendered), tuple(notes))

    # --- internals ----------------------------------------------------------

    def _stand_in(self, event: LayoutEvent) -> str:
        """A note when the event is rendered with another sound's recipe: its label has none of its own."""
        if self.samples is not None and self.samples.has(event.label):
            return ""
        for text in (event.label, event.phrase):
            name = catalogue_name(text) if text else None
            if name is not None and self._recipe_usable(CATALOGUE[name]):
                return "" if name == event.label else (
                    f"{event.label} has no sound of its own here; it was rendered with the nearest one, {name}.")
        return ""

    def _source(self, event: LayoutEvent, use_samples: bool = True) -> str | Recipe | None:
        """A sample label (str), a catalogue recipe, or None when nothing can render it."""
        for text in (event.label, event.phrase):
            if not text:
                continue
            if use_samples and self.samples is not None and self.samples.has(text):
                return text
            name = catalogue_name(text)
            if name is not None and self._recipe_usable(CATALOGUE[name]):
                return CATALOGUE[name]
        return None

    def _layer(self, event: LayoutEvent, source: np.ndarray | Recipe, seed: list[int], total: int, notes: list[str]) -> np.ndarray | None:
        """One event's occurrences on a clip-long track; None when its render is unusable (NaN or infinite)."""
        sr = self.sample_rate
        layer = np.zeros(total, dtype=np.float64)
        single = event.count > 1
        shortest = max(1, int(round(SHORTEST_SOUND_S * sr)))
        lengthened = beyond = 0
        # Every occurrence draws from the same seed, so equal lengths render alike: render each length once.
        renders: dict[int, np.ndarray] = {}
        for start_s, end_s in event.occurrences():
            if single and start_s < OPENING_LEAD_S:
                # YAMNet's first window would see only the onset edge of a burst at 0 s
                # and rarely names it; a short lead puts the whole burst inside it.
                start_s = max(start_s, min(OPENING_LEAD_S, end_s - 0.01))
            start = int(round(start_s * sr))
            if start >= total:
                beyond += 1
                continue
            end = min(total, int(round(end_s * sr)))
            if end - start < shortest:
                lengthened += 1
                end = min(total, start + shortest)
                start = max(0, end - shortest)
            if end - start not in renders:
                renders[end - start] = self._shaped(event, source, end - start, seed, single)
            clip = renders[end - start]
            stop = min(total, start + len(clip))
            layer[start:stop] += clip[: stop - start]
        if not np.all(np.isfinite(layer)):
            notes.append(f"{event.label}: its render gave NaN or infinite samples, so it was left out.")
            return None
        if lengthened:
            notes.append(
                f"{event.label}: {_occurrences(lengthened)} shorter than {SHORTEST_SOUND_S:g} s, the shortest sound "
                f"the composer makes, {'was' if lengthened == 1 else 'were'} rendered at {SHORTEST_SOUND_S:g} s."
            )
        if beyond:
            notes.append(f"{event.label}: {_occurrences(beyond)} starting after the clip's end ({total / sr:g} s) "
                         f"{'was' if beyond == 1 else 'were'} left out.")
        return layer

    def _shaped(self, event: LayoutEvent, source: np.ndarray | Recipe, n: int, seed: list[int], single: bool) -> np.ndarray:
        """One occurrence at the event's level (and distance)."""
        sr = self.sample_rate
        clip = _shape(self._occurrence(source, n, seed, single), sr) * LEVEL_GAIN[event.level]
        if event.level == "distant":
            clip = _distance(clip, sr, np.random.default_rng(seed + [1]))
        return clip

    def _occurrence(self, source: np.ndarray | Recipe, n: int, seed: list[int], single: bool) -> np.ndarray:
        """``n`` frames of one occurrence. Renders are never shorter than RENDER_MIN_S: a shorter
        one is cut from a longer render where its sound starts, so it is never silent."""
        sr = self.sample_rate
        rng = np.random.default_rng(seed)
        if n >= RENDER_MIN_S * sr:
            return self._render(source, n / sr, rng, single)[:n]
        return _from_onset(self._render(source, RENDER_MIN_S, rng, single), n)

    def _recipe_usable(self, recipe: Recipe) -> bool:
        return recipe.kind == "dsp" or self._soundfont() is not None

    def _soundfont(self) -> str | None:
        if self._soundfont_override:
            return self._soundfont_override
        return None if SOUNDFONT.missing_reason() else str(SOUNDFONT.locate())

    def _render(self, source: np.ndarray | Recipe, duration_s: float, rng: np.random.Generator, single: bool) -> np.ndarray:
        sr = self.sample_rate
        n = max(1, int(round(duration_s * sr)))
        if isinstance(source, np.ndarray):  # a user's recording
            return _fill(source, n, sr, single)
        if source.kind == "dsp" or (single and source.counted):
            from .dsp import RECIPES

            name = source.counted if single and source.counted else source.dsp
            return np.asarray(RECIPES[name](duration_s, sr, rng, single), dtype=np.float64)[:n]
        from .phrases import PATTERNS
        from .soundfont import render_notes

        program = int(rng.choice(source.programs))
        notes = PATTERNS[source.pattern](duration_s, source.keys, rng, single)
        font = self._soundfont()
        assert font is not None
        return render_notes(font, notes, duration_s, program=program, drums=source.kind == "drums", sample_rate=sr)


def _event_seed(seed: int, round_index: int, label: str, index: int) -> list[int]:
    """Entropy for one event: stable across runs (crc32, not ``hash``), different per seed and round.

    numpy's SeedSequence takes integers of any size, so every bit of a 64-bit seed counts.
    """
    return [int(seed), int(round_index), zlib.crc32(label.encode("utf-8")), index]


def _occurrences(k: int) -> str:
    return "1 occurrence" if k == 1 else f"{k} occurrences"


def _from_onset(x: np.ndarray, n: int) -> np.ndarray:
    """``n`` frames of ``x`` from where its sound starts (its first sample near the peak)."""
    loud = np.abs(x) >= ONSET_OF_PEAK * (float(np.max(np.abs(x))) if x.size else 0.0)
    onset = int(np.argmax(loud)) if x.size and loud.any() else 0
    onset = max(0, min(onset, len(x) - n))
    return x[onset : onset + n]


def _fill(sample: np.ndarray, n: int, sr: int, single: bool) -> np.ndarray:
    """A recording trimmed to ``n`` frames, or repeated with a short gap when it is shorter."""
    out = np.zeros(n)
    if sample.size == 0:
        return out
    if single or sample.size >= n:
        m = min(n, sample.size)
        out[:m] = sample[:m]
        return out
    gap = int(0.25 * sr)
    for at in range(0, n, sample.size + gap):
        m = min(n - at, sample.size)
        out[at : at + m] = sample[:m]
    return out


def _shape(clip: np.ndarray, sr: int) -> np.ndarray:
    """Fades against clicks, then a common loudness so recipes mix at comparable levels."""
    x = np.asarray(clip, dtype=np.float64).copy()
    if x.size > sr // 10:
        x = _remove_dc(x, sr)
    fi, fo = min(len(x), int(FADE_IN_S * sr)), min(len(x), int(FADE_OUT_S * sr))
    if fi:
        x[:fi] *= np.linspace(0, 1, fi)
    if fo:
        x[-fo:] *= np.linspace(1, 0, fo)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak < 1e-9:
        return x
    # RMS over the active part only, so sparse sounds (a few knocks) are not boosted into clipping.
    frame = max(1, int(0.02 * sr))
    usable = len(x) // frame * frame
    energy = (x[:usable].reshape(-1, frame) ** 2).mean(axis=1) if usable else np.zeros(0)
    active = energy[energy > energy.max() * 1e-3] if energy.size and energy.max() > 0 else energy[:0]
    # No active whole frame (the sound sits in the last partial frame): the plain RMS.
    rms = float(np.sqrt(active.mean())) if active.size else float(np.sqrt(np.mean(x**2)))
    return x * min(CLIP_RMS / max(rms, 1e-9), 1.0 / peak)


def _remove_dc(x: np.ndarray, sr: int) -> np.ndarray:
    """Offset removed by a gentle high-pass, not by subtracting the mean: a sparse
    clip (one bark, then silence) would otherwise keep a constant step after its
    sound, which the listener hears as a faint tail lasting to the clip's end."""
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(2, DC_CUTOFF_HZ / (sr / 2), btype="highpass", output="sos"), x)


def _distance(clip: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Far away: high frequencies absorbed and the sound smeared by a short diffuse tail."""
    from scipy.signal import butter, fftconvolve, sosfilt

    dry = sosfilt(butter(2, 2500 / (sr / 2), output="sos"), clip)
    m = int(DISTANT_TAIL_S * sr)
    t = np.arange(m) / sr
    ir = rng.standard_normal(m) * np.exp(-t / 0.08)
    ir *= 0.5 / np.sqrt(np.sum(ir**2))
    wet = fftconvolve(dry, ir)
    out = np.zeros(len(wet))
    out[: len(dry)] += 0.7 * dry
    out += wet
    return out
