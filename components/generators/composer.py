"""Generator ``composer``: a timeline mixer over sound sources, no neural weights.

Each layout event is asked of every configured source (a user's recordings,
packaged recordings, speech, a General MIDI soundfont, DSP models: see
:mod:`..sources`); the best match renders each occurrence, and the mixer alone
places it at its onset, shapes, levels and pans it, and mixes to stereo. When
no source can render a label, the nearest renderable sound stands in and the
round's notes say so; only when no source renders anything is a label reported
``unrendered``.
"""

from __future__ import annotations

import zlib
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError

from ualm_agent.errors import ConfigError, ModelUnavailableError, validation_summary
from ualm_agent.registry import BackendConfig, register
from ualm_agent.roles import (
    GenerationRequest,
    GenerationResult,
    SoundRequest,
    SoundSource,
    SourceMatch,
)
from ualm_agent.schema import LayoutEvent
from ualm_agent.waveform import Waveform

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


# A render whose peak is below this is silence: the next source renders the event instead.
SILENT_PEAK = 1e-4
# Built-in sources, in the order asked when the settings name none; missing ones are skipped.
DEFAULT_SOURCES = ("samples", "recordings", "speech", "soundfont", "dsp")


class ComposerSettings(BackendConfig):
    kind: Literal["composer"] = "composer"
    # A folder of recordings (file stem or sub-folder name = label); these win over synthesis.
    samples: str | None = None
    # A General MIDI .sf2 to use instead of the installed one.
    soundfont: str | None = None
    sample_rate: int = Field(default=16000, ge=8000, le=192000)
    # Sources asked for each event, best match wins; None: every built-in source installed. An entry
    # is a source's name, or a table naming it with its settings: {kind = "stable-audio", steps = 50}.
    sources: list[str | dict[str, Any]] | None = None
    # How far "left"/"right" events are panned: 0 keeps all centred, 1 is hard left/right.
    pan: float = Field(default=0.8, ge=0.0, le=1.0)
    # Passed on to sources that run a model (the CLI's --device/--dtype fill these in); a source's
    # own table may set its own.
    device: str | None = None
    dtype: str | None = None


@register(
    "composer",
    roles=("generator",),
    config=ComposerSettings,
    requires=("scipy",),
    install="pip install scipy",
)
class Composer:
    """Recordings, speech, soundfont instruments and DSP models, mixed on the plan's timeline."""

    def __init__(self, samples: str | None = None, soundfont: str | None = None, sample_rate: int = 16000,
                 sources: list[str | dict[str, Any]] | None = None, pan: float = 0.8,
                 device: str | None = None, dtype: str | None = None) -> None:
        if not 8000 <= sample_rate <= 192000:
            raise ConfigError(f"composer sample_rate must be 8000-192000 Hz, got {sample_rate}")
        self.sample_rate = int(sample_rate)
        self.pan = float(np.clip(pan, 0.0, 1.0))
        self.sources = _build_sources(sources, samples=samples, soundfont=soundfont, sample_rate=self.sample_rate,
                                      device=device, dtype=dtype)
        self._labels: list[str] | None = None

    # --- KnowsRenderable ----------------------------------------------------

    def can_render(self, label: str) -> bool:
        return bool(self._matches(label, ""))

    def renderable_labels(self) -> list[str]:
        if self._labels is None:
            self._labels = list(dict.fromkeys(label for source in self.sources for label in source.labels()))
        return list(self._labels)

    # --- Generator ----------------------------------------------------------

    def generate(self, request: GenerationRequest) -> GenerationResult:
        sr = self.sample_rate
        duration = float(request.duration_s or request.caption.duration_s)
        total = max(1, int(round(duration * sr)))
        mix = np.zeros((2, total), dtype=np.float64)
        unrendered: list[str] = []
        notes: list[str] = []
        for index, event in enumerate(request.caption.layout):
            seed = _event_seed(request.seed, request.round_index, event.label, index)
            layer, choice = self._first_rendered(event, self._alternatives(event), seed, total, notes)
            if layer is None:
                # Nothing fails outright: the nearest sound the sources can make stands in, said in the notes.
                stand_in = self._nearest(event)
                if stand_in:
                    other = event.model_copy(update={"label": stand_in, "phrase": ""})
                    layer, choice = self._first_rendered(event, self._alternatives(other), seed, total, notes)
                    if layer is not None:
                        _say(notes, f"{event.label} cannot be rendered here, so the nearest sound the sources have, "
                                    f"{stand_in}, stands in for it.")
            if layer is None:
                if event.label not in unrendered:
                    unrendered.append(event.label)
                continue
            _source, match, _take = choice
            if match.stand_in:
                _say(notes, f"{event.label} has no sound of its own here; it was rendered with the nearest one, {match.sound}.")
            mix += _panned(layer, event.position, self.pan)
        for source in self.sources:
            for note in getattr(source, "skipped", ()):
                _say(notes, note)
        peak = float(np.max(np.abs(mix))) if mix.size else 0.0
        if peak > MIX_PEAK:
            mix *= MIX_PEAK / peak
        return GenerationResult(Waveform(mix.astype(np.float32), sr), tuple(unrendered), tuple(notes))

    # --- choosing a sound ---------------------------------------------------

    def _matches(self, label: str, phrase: str) -> list[tuple[SoundSource, SourceMatch]]:
        """Every source's match for the label, best first (stable: earlier sources win ties)."""
        found = [(src, m) for src in self.sources if (m := src.find(label, phrase)) is not None and m.takes > 0]
        return sorted(found, key=lambda pair: -pair[1].quality)

    def _alternatives(self, event: LayoutEvent) -> list[tuple[SoundSource, SourceMatch, int]]:
        """(source, match, take) to try for an event, the chosen one first.

        ``event.take`` walks through the best match's takes, then the next-best source's, so
        a revision can ask for another take; sources draw each take from the request's seed
        too, so every seed hears a different variant or recording. Should the chosen take
        fail to render, the sources after it follow, each with its first take."""
        matches = self._matches(event.label, event.phrase)
        if not matches:
            return []
        k = event.take % sum(m.takes for _, m in matches)
        for i, (source, match) in enumerate(matches):
            if k < match.takes:
                return [(source, match, k)] + [(s, m, 0) for s, m in matches[i + 1 :]]
            k -= match.takes
        return []  # unreachable: k is below the total of takes

    def _first_rendered(self, event: LayoutEvent, alternatives: list[tuple[SoundSource, SourceMatch, int]],
                        seed: list[int], total: int, notes: list[str]) -> tuple[np.ndarray | None, tuple | None]:
        """The event's track from the first alternative that renders (a broken file or NaN samples
        hand over to the next source), and that alternative."""
        for choice in alternatives:
            layer = self._layer(event, choice, seed, total, notes)
            if layer is not None:
                return layer, choice
        return None, None

    def _nearest(self, event: LayoutEvent) -> str | None:
        """The renderable sound nearest the event's: its closest relative in the AudioSet
        ontology that a source renders as its own sound, else the label closest in meaning.
        Nothing fails outright, and the round's notes say what stood in."""
        for relative in _relatives(event.label):
            if any(not m.stand_in for _, m in self._matches(relative, "")):
                return relative
        from ualm_agent.components.critics.matching import shared_matcher

        labels = [label for label in self.renderable_labels() if label != event.label]
        if not labels:
            return None
        matcher = shared_matcher(0.0, True)
        scored = [(max(matcher.similarity(text, label) for text in (event.label, event.phrase) if text), label)
                  for label in labels]
        return max(scored)[1]

    # --- placing ------------------------------------------------------------

    def _layer(self, event: LayoutEvent, choice: tuple[SoundSource, SourceMatch, int], seed: list[int], total: int,
               notes: list[str]) -> np.ndarray | None:
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
                shaped = self._shaped(event, choice, end - start, seed, single, notes)
                if shaped is None:
                    return None
                renders[end - start] = shaped
            clip = renders[end - start]
            stop = min(total, start + len(clip))
            layer[start:stop] += clip[: stop - start]
        if not np.all(np.isfinite(layer)):
            _say(notes, f"{event.label}: its render gave NaN or infinite samples, so it was left out.")
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

    def _shaped(self, event: LayoutEvent, choice: tuple[SoundSource, SourceMatch, int], n: int, seed: list[int],
                single: bool, notes: list[str]) -> np.ndarray | None:
        """One occurrence at the event's level (and distance), with its fine gain."""
        sr = self.sample_rate
        raw = self._occurrence(event, choice, n, seed, single, notes)
        if raw is None:
            return None
        gain = LEVEL_GAIN[event.level] * 10.0 ** (event.gain_db / 20.0)
        clip = _shape(raw, sr) * gain
        if event.level == "distant":
            clip = _distance(clip, sr, np.random.default_rng(seed + [1]))
        return clip

    def _occurrence(self, event: LayoutEvent, choice: tuple[SoundSource, SourceMatch, int], n: int, seed: list[int],
                    single: bool, notes: list[str]) -> np.ndarray | None:
        """``n`` frames of one occurrence (None when the source cannot render this take). Renders are
        never shorter than RENDER_MIN_S: a shorter one is cut from a longer render where its sound
        starts, so it is never silent."""
        sr = self.sample_rate
        source, match, take = choice
        length = max(n / sr, RENDER_MIN_S)
        request = SoundRequest(label=event.label, phrase=event.phrase, duration_s=length, sample_rate=sr,
                               seed=tuple(seed), take=take, single=single)
        try:
            rendered = source.render(match, request)
        except Exception as exc:  # a source's failure must not end the round: the next source takes over
            _say(notes, f"{event.label}: the {source.name} source failed ({type(exc).__name__}: {exc}), "
                        "so the next source rendered it.")
            return None
        if rendered is None:
            return None
        x = np.asarray(rendered, dtype=np.float64)
        if x.ndim != 1 or not x.size or float(np.max(np.abs(x))) < SILENT_PEAK:
            # Not one mono track, or silence: a take that cannot be used, as a broken file is.
            what = "silence" if x.ndim == 1 else f"an array of shape {x.shape}, not mono samples"
            _say(notes, f"{event.label}: the {source.name} source gave {what}, so the next source rendered it.")
            return None
        want = max(1, int(round(length * sr)))
        if x.size < want:
            x = np.pad(x, (0, want - x.size))
        if n >= RENDER_MIN_S * sr:
            return x[:n]
        return _from_onset(x, n)


def _build_sources(entries: list[str | dict[str, Any]] | None, **settings: object) -> list[SoundSource]:
    """The sources the entries name (each must be available), or every available built-in one.

    An entry is a source's name or a table of its settings with its name as ``kind``; the
    composer's own settings (sample rate, samples folder, soundfont) fill in what a source
    takes and its entry leaves unset."""
    from ualm_agent import registry

    explicit = entries is not None
    chosen = list(entries) if explicit else [n for n in DEFAULT_SOURCES if n != "samples" or settings.get("samples")]
    if explicit and settings.get("samples") and "samples" not in map(_source_kind, chosen):
        # A folder given (--samples DIR) is meant to be used, whatever sources a config names.
        chosen.insert(0, "samples")
    if explicit and not chosen:
        raise ConfigError("composer sources is empty; name at least one source, e.g. sources = [\"dsp\"]")
    built: list[SoundSource] = []
    for entry in _distinct(chosen):
        name = _source_kind(entry)
        if name == "samples" and not settings.get("samples") and not (isinstance(entry, dict) and entry.get("root")):
            raise ConfigError("the samples source needs a folder: set [generator] samples = \"DIR\" or --samples DIR")
        try:
            backend = registry.get("source", name)
        except ConfigError:
            if explicit:
                raise
            continue  # a built-in source whose module is not part of this install
        ok, reason = backend.availability()
        if not ok:
            if explicit:
                raise ModelUnavailableError(f"source {name!r} is not available: {reason}")
            continue
        instance = backend.build(_source_settings(backend.config_cls, entry, settings))
        if not isinstance(instance, SoundSource):
            raise ConfigError(f"source {name!r} does not implement the SoundSource interface")
        built.append(instance)
    if not built:
        raise ModelUnavailableError("no sound source is available to the composer; "
                                    "reinstall with `bash install.sh` to get the default ones")
    return built


def _source_kind(entry: object) -> str:
    """The source an entry names: the string itself, or a table's ``kind``."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        kind = entry.get("kind")
        if isinstance(kind, str) and kind:
            return kind
        raise ConfigError(f"composer source {entry!r} names no source; give it a kind, "
                          "e.g. {kind = \"stable-audio\", steps = 50}")
    raise ConfigError(f"composer source {entry!r} is neither a source name nor a table of its settings")


def _distinct(entries: list[str | dict[str, Any]]) -> list[str | dict[str, Any]]:
    """Entries in order with exact repeats dropped (a name given twice is one source)."""
    seen: list[object] = []
    for entry in entries:
        if entry not in seen:
            seen.append(entry)
    return seen  # type: ignore[return-value]


def _source_settings(config_cls: type, entry: str | dict[str, Any], shared: dict[str, object]):
    """A source's settings: its entry's own, then the composer's where the source takes them."""
    name = _source_kind(entry)
    own = {key: value for key, value in entry.items() if key != "kind"} if isinstance(entry, dict) else {}
    fields = config_cls.model_fields
    given = {"root" if key == "samples" else key: value for key, value in shared.items() if value is not None}
    inherited = {key: value for key, value in given.items() if key in fields and key != "kind" and key not in own}
    try:
        return config_cls.model_validate({"kind": name, **inherited, **own})
    except ValidationError as exc:
        raise ConfigError(f"invalid settings for composer source {name!r}: {validation_summary(exc)}") from None


def _panned(track: np.ndarray, position: str, width: float) -> np.ndarray:
    """A mono track placed in stereo with a constant-power pan (centre: -3 dB on each side)."""
    from ualm_agent.components.vaes.resample import PAN_DIRECTION

    theta = (PAN_DIRECTION[position] * width + 1.0) * np.pi / 4
    return np.stack([track * np.cos(theta), track * np.sin(theta)])


def _relatives(label: str) -> list[str]:
    """Ontology relatives nearest first: parents, siblings, children, then grandparents' other
    descendants; empty for a label that is no ontology node."""
    from ualm_agent import ontology
    from ualm_agent.labels import exact_audioset_name

    name = exact_audioset_name(label) or label
    try:
        parents = ontology.parents(name)
    except KeyError:
        return []
    found: list[str] = list(parents)
    found += [s for p in parents for s in ontology.children(p)]
    found += list(ontology.children(name))
    for parent in parents:
        for grand in ontology.parents(parent):
            found += [c for aunt in ontology.children(grand) for c in (aunt, *ontology.children(aunt))]
    return [n for n in dict.fromkeys(found) if n != name]


def _say(notes: list[str], note: str) -> None:
    if note not in notes:
        notes.append(note)


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
