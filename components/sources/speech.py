"""Source ``speech``: a speech event's quoted words, spoken by a Piper voice.

The voice is the packaged ``en_US-joe-medium`` (one adult male US English
speaker), loaded once per process. A speech-family event whose phrase holds the
words (``a man says "come here, good boy"``) is matched above the DSP babble;
one without words is left to the other sources. Each quoted line is a sentence,
a short pause apart; a line too long for its slot is spoken faster, then cut,
and the notes say so, as they say what the voice cannot do (a woman's or a
child's voice, several speakers told apart).

Piper draws its noise inside the ONNX graph, unseeded, so the same words would
sound different on every call. The graph is rewritten in memory to take that
noise as inputs instead, drawn here from the request's seed and take: a seed
renders the same speech every time, and each take a different one.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np

from ualm_agent.audio import resample
from ualm_agent.labels import name_key
from ualm_agent.modelpacks import PIPER_VOICE
from ualm_agent.registry import BackendConfig, register
from ualm_agent.roles import SoundRequest, SourceMatch
from ualm_agent.waveform import Waveform

from ..critics.words import expected_words, speaks
from .clips import take_rng

# Spoken words beat the DSP babble (0.5), which has none.
QUALITY = 0.8
# Per take: (length scale, noise scale, duration noise); take 0 is the voice's own pace.
TAKES = ((1.0, 0.667, 0.8), (0.92, 0.55, 0.7), (1.1, 0.75, 0.9), (0.85, 0.6, 0.6))
# Between two quoted lines.
LINE_GAP_S = 0.35
# Words longer than their slot are spoken at most this much faster before being cut.
FASTEST = 0.75
# Noise buffers are sized for this many frames per phoneme (a phoneme is 3-10 at Piper's
# 86 frames/s); a render that needs more retries with twice as many.
FRAMES_PER_PHONEME = 24
NOISE_CHANNELS = 256

_FEMALE_KEYS = frozenset(name_key(n) for n in ("Female speech", "woman speaking"))
_CHILD_KEYS = frozenset(name_key(n) for n in ("Child speech", "kid speaking", "Children shouting"))
_FEMALE = re.compile(r"\b(?:woman|women|girl|girls|lady|ladies|female|mother|mom|mum|grandmother)\b")
_CHILD = re.compile(r"\b(?:child|children|kid|kids|boy|boys|girl|girls|toddler|baby)\b")
_SEVERAL = re.compile(r"\b(?:people|two|three|several|conversation|dialogue|each other|both|group|crowd)\b")
_QUOTES = re.compile(r'"([^"]+)"|“([^”]+)”')


def _missing() -> str:
    reason = PIPER_VOICE.missing_reason()
    if reason:
        return reason
    config = _config_path(PIPER_VOICE.locate())
    return "" if config.is_file() else f"{PIPER_VOICE.name}: its config {config.name} is missing beside the model"


def _config_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


class SpeechSourceSettings(BackendConfig):
    kind: Literal["speech"] = "speech"
    sample_rate: int = 16000


@register(
    "speech",
    roles=("source",),
    config=SpeechSourceSettings,
    requires=("piper",),
    install="pip install piper-tts==1.8.0 && " + PIPER_VOICE.install,
    check=_missing,
    weights=PIPER_VOICE.status,
)
class SpeechSource:
    """Quoted words spoken by a Piper voice (en_US joe, one male speaker)."""

    name = "speech"

    def __init__(self, sample_rate: int = 16000) -> None:
        self.sample_rate = int(sample_rate)
        self._notes: list[str] = []
        self._lock = threading.Lock()

    @property
    def skipped(self) -> list[str]:
        """What this generation's speech could not honour; the composer reads it once after each
        generation, so reading empties it (a later plan must not inherit these notes)."""
        with self._lock:
            notes, self._notes = self._notes, []
        return notes

    def labels(self) -> list[str]:
        # Nothing is renderable from a label alone: without words there is nothing to say.
        return []

    def find(self, label: str, phrase: str = "") -> SourceMatch | None:
        if not is_speech(label) or not lines(phrase):
            return None
        return SourceMatch(_voice_name(), QUALITY, takes=len(TAKES))

    def render(self, match: SourceMatch, request: SoundRequest) -> np.ndarray | None:
        said = lines(request.phrase)
        if not said:
            return None
        voice = load_voice(str(PIPER_VOICE.locate()))
        self._note_limits(voice, request, said)
        pace, noise, noise_w = TAKES[request.take % len(TAKES)]
        n = max(1, int(round(request.duration_s * request.sample_rate)))
        try:
            speech = voice.speak(said, pace, noise, noise_w, take_rng(request), request.sample_rate)
            if speech.size > n:
                # Faster, as far as still sounds natural; then cut to the slot.
                faster = max(FASTEST, pace * n / speech.size * 0.97)
                if faster < pace:
                    speech = voice.speak(said, faster, noise, noise_w, take_rng(request), request.sample_rate)
        except RuntimeError as exc:
            # The mixer hands the event to the next source (the wordless babble); the notes say why.
            self._note(f"{request.label}: the speech voice could not say its words ({exc}).")
            return None
        if speech.size > n:
            self._note(f'{request.label}: the words "{" / ".join(said)}" need {speech.size / request.sample_rate:.1f} s '
                       f"even spoken faster, longer than the {request.duration_s:.1f} s planned for them, so they "
                       f"were cut short.")
        out = np.zeros(n)
        out[: min(n, speech.size)] = speech[:n]
        return out

    def _note_limits(self, voice: Voice, request: SoundRequest, said: list[str]) -> None:
        if voice.speakers > 1:
            return
        # The quoted words themselves ("good boy") say nothing about who speaks them.
        who = _QUOTES.sub(" ", request.phrase.lower())
        kind = ("a child's" if _named(request.label, _CHILD_KEYS) or _CHILD.search(who)
                else "a woman's" if _named(request.label, _FEMALE_KEYS) or _FEMALE.search(who) else "")
        if kind:
            self._note(f"{request.label}: {kind} voice was asked for, but the speech voice ({voice.name}) has one "
                       f"adult male speaker, so he says the words.")
        if len(said) > 1 or name_key(request.label) == name_key("Conversation") or _SEVERAL.search(who):
            self._note(f"{request.label}: several speakers cannot be told apart: the speech voice ({voice.name}) has "
                       f"one speaker, who says every line.")

    def _note(self, note: str) -> None:
        with self._lock:
            if note not in self._notes:
                self._notes.append(note)


def is_speech(label: str) -> bool:
    """The critic's rule for events that say words (see critics.words.speaks)."""
    return speaks(label)


def _named(label: str, keys: frozenset[str]) -> bool:
    """Whether the label, or one of its comma parts ("Female speech, woman speaking"), is in ``keys``."""
    return any(name_key(part) in keys for part in (label, *label.split(",")))


def lines(phrase: str) -> list[str]:
    """The words a phrase asks to be said: each quoted line, else the words after a verb of saying."""
    quoted = [next(g for g in m.groups() if g is not None).strip() for m in _QUOTES.finditer(phrase)]
    quoted = [q for q in quoted if q]
    if quoted:
        return quoted
    words = expected_words(phrase)
    return [words] if words else []


def _voice_name() -> str:
    return Path(PIPER_VOICE.relpath).stem


@dataclass
class Voice:
    """A Piper voice whose noise is fed in (see the module doc)."""

    piper: object  # piper.PiperVoice: its phonemizer and config
    session: object  # onnxruntime.InferenceSession of the rewritten graph
    noise_inputs: tuple[str, ...]
    name: str

    @property
    def speakers(self) -> int:
        return int(self.piper.config.num_speakers)

    def speak(self, said: list[str], pace: float, noise: float, noise_w: float, rng: np.random.Generator,
              sample_rate: int) -> np.ndarray:
        """The lines at ``sample_rate``, each sentence synthesised on its own, lines a pause apart."""
        rate = int(self.piper.config.sample_rate)
        gap = np.zeros(int(LINE_GAP_S * rate), dtype=np.float32)
        parts: list[np.ndarray] = []
        for i, line in enumerate(said):
            if parts:
                parts.append(gap)
            # Where the voice has several speakers, each line gets the next one.
            speaker = i % self.speakers if self.speakers > 1 else None
            for phonemes in self.piper.phonemize(line):
                if phonemes:
                    parts.append(self._sentence(self.piper.phonemes_to_ids(phonemes), pace, noise, noise_w, rng, speaker))
        if not parts:
            return np.zeros(0)
        audio = np.concatenate(parts).astype(np.float32)
        peak = float(np.max(np.abs(audio)))
        if peak > 1e-8:
            audio = audio / peak
        return resample(Waveform(audio[None, :], rate), sample_rate).samples[0].astype(np.float64)

    def _sentence(self, ids: list[int], pace: float, noise: float, noise_w: float, rng: np.random.Generator,
                  speaker: int | None) -> np.ndarray:
        feeds = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([noise, pace, noise_w], dtype=np.float32),
        }
        if speaker is not None:
            feeds["sid"] = np.array([speaker], dtype=np.int64)
        frames = FRAMES_PER_PHONEME * len(ids) * max(1.0, pace) + 64
        for _attempt in range(3):
            # Drawn afresh from the take's stream each try, so a retry is as reproducible as the first.
            for name in self.noise_inputs:
                feeds[name] = rng.standard_normal((1, NOISE_CHANNELS, int(frames))).astype(np.float32)
            try:
                return np.asarray(self.session.run(None, feeds)[0], dtype=np.float32).reshape(-1)
            except Exception as exc:  # onnxruntime raises its own Fail when the noise is too short
                error = exc
                frames *= 2
        raise RuntimeError(f"speech: the voice could not render {len(ids)} phonemes ({error})")


_LOAD_LOCK = threading.Lock()


def load_voice(model: str) -> Voice:
    """The voice at ``model`` (its config beside it), loaded once per process."""
    with _LOAD_LOCK:
        return _load(model)


@cache
def _load(model: str) -> Voice:
    import onnx
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    path = Path(model)
    graph = onnx.load(str(path))
    noise_inputs = _feed_noise(graph)
    options = onnxruntime.SessionOptions()
    # A retry after too short a noise buffer is expected; its error log is not news.
    options.log_severity_level = 4
    session = onnxruntime.InferenceSession(graph.SerializeToString(), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    config = PiperConfig.from_dict(json.loads(_config_path(path).read_text(encoding="utf-8")))
    return Voice(PiperVoice(session=session, config=config), session, noise_inputs, path.stem)


def _feed_noise(graph) -> tuple[str, ...]:
    """Replace each RandomNormalLike(x) by a graph input sliced to x's shape; their names, in order."""
    from onnx import TensorProto, helper, numpy_helper

    g = graph.graph
    names: list[str] = []
    nodes = []
    for node in g.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        name = f"noise_{len(names)}"
        names.append(name)
        g.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, f"{name}_c", f"{name}_t"]))
        nodes.append(helper.make_node("Shape", [node.input[0]], [f"{name}_shape"]))
        nodes.append(helper.make_node("Slice", [name, "noise_starts", f"{name}_shape"], [node.output[0]]))
    if names:
        g.initializer.append(numpy_helper.from_array(np.zeros(3, dtype=np.int64), "noise_starts"))
    del g.node[:]
    g.node.extend(nodes)
    return tuple(names)
