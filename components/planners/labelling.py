"""Name a sound phrase with an AudioSet class.

Order of trust: the phrase spells an AudioSet name; the lexicon's sound words;
an AudioSet name spelled by some of its words; then, only when none of those
fits, the nearest AudioSet name by MiniLM similarity above a threshold. When
nothing fits, the phrase itself stays the label.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from ualm_agent.labels import audioset_names, exact_audioset_name

from .lexicon import find_hits

Source = Literal["exact", "lexicon", "words", "minilm", "phrase"]

# AudioSet names that single everyday words spell by accident ("run", "fly", "hands").
_WEAK_NAMES = frozenset(
    {
        "Run", "Fly, housefly", "Hands", "Tools", "Wood", "Arrow", "Pulse", "Harmonic", "Liquid", "Glass",
        "Roll", "Inside, small room", "Outside, urban or manmade", "Outside, rural or natural", "Vehicle",
        "Animal", "Sound effect", "Field recording", "Mechanisms", "Squish", "Stir", "Fill (with liquid)",
        "Silence", "Television", "Radio", "Echo", "Song", "Music", "Noise", "Crack", "Chop", "Whip", "Hiss",
        "Speech", "Water", "Wind", "Bird", "Dog", "Cat", "Pig", "Goat", "Sheep", "Horse", "Insect", "Snake",
        "Frog", "Owl", "Duck", "Goose", "Turkey", "Crow", "Bus", "Car", "Truck", "Train", "Engine", "Door",
    }
)
_STOPWORDS = frozenset(
    "a an the of in on at to from with by and or some is are was were be been it its this that his her their "
    "into onto over under near through while as then for".split()
)


@dataclass(frozen=True)
class Labelled:
    label: str
    source: Source
    score: float = 1.0


class Labeller:
    """Maps phrases to AudioSet names; MiniLM results are memoised per phrase."""

    def __init__(self, *, use_minilm: bool = True, threshold: float = 0.5) -> None:
        self.use_minilm = use_minilm
        self.threshold = threshold
        self._memo: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._wanted: set[str] | None = None

    def lexical(self, phrase: str, context: frozenset[str]) -> Labelled | None:
        """The label the words themselves give, or None."""
        phrase = phrase.strip()
        if not phrase:
            return None
        exact = exact_audioset_name(phrase)
        if exact:
            return Labelled(exact, "exact")
        words = [w for w in re.findall(r"[a-z0-9'-]+", phrase) if w not in _STOPWORDS]
        if words:
            exact = exact_audioset_name(" ".join(words))
            if exact:
                return Labelled(exact, "exact")
        hits = find_hits(phrase, context)
        best = hits[0] if hits else None
        spelled = self._spelled(words)
        if spelled and (best is None or spelled[1] > best.priority):
            return Labelled(spelled[0], "words")
        if best is not None:
            return Labelled(best.label, "lexicon", best.priority)
        return None

    @staticmethod
    def _spelled(words: list[str]) -> tuple[str, float] | None:
        """An AudioSet name spelled by 3, 2 or 1 consecutive words."""
        for n in (3, 2, 1):
            for i in range(len(words) - n + 1):
                name = exact_audioset_name(" ".join(words[i : i + n]))
                if name and not (n == 1 and name in _WEAK_NAMES):
                    # Multi-word names are specific; a single word ranks just below the sound verbs.
                    return name, (3.5 if n > 1 else 1.95)
        return None

    @contextmanager
    def collecting(self) -> Iterator[set[str]]:
        """Within the block, phrases that would need MiniLM are gathered instead of embedded."""
        wanted: set[str] = set()
        self._wanted = wanted
        try:
            yield wanted
        finally:
            self._wanted = None

    def prefetch(self, phrases: list[str]) -> None:
        """Embed many phrases in batches and memoise their nearest AudioSet names."""
        keys = [k for k in dict.fromkeys(p.strip().lower() for p in phrases) if k and k not in self._memo]
        if not keys:
            return
        from ualm_agent.components.text.minilm import shared_minilm

        model = shared_minilm()
        scores = model.embed(keys) @ model.audioset_matrix().T
        names = audioset_names()
        with self._lock:
            for key, row in zip(keys, scores):
                index = int(row.argmax())
                self._memo[key] = (names[index], float(row[index]))

    def nearest(self, phrase: str) -> tuple[str, float]:
        """The closest AudioSet name by MiniLM and its cosine similarity."""
        key = phrase.strip().lower()
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        from ualm_agent.components.text.minilm import shared_minilm

        model = shared_minilm()
        matrix = model.audioset_matrix()
        scores = matrix @ model.embed([key])[0]
        index = int(scores.argmax())
        result = (audioset_names()[index], float(scores[index]))
        with self._lock:
            self._memo[key] = result
        return result

    def has_words(self, text: str) -> bool:
        """Whether ``text`` holds a real word besides stopwords: punctuation, numbers and gibberish do not.

        Real words come from MiniLM's vocabulary; without MiniLM any word of two letters or more counts.
        """
        words = [w for w in re.findall(r"[a-z]{2,}", text.lower()) if w not in _STOPWORDS]
        if not words or not self.use_minilm:
            return bool(words)
        try:
            from ualm_agent.components.text.minilm import shared_minilm

            model = shared_minilm()
            return any(model.is_word(w) for w in words)
        except Exception:  # the model pack may be missing: do not refuse a prompt for that
            return True

    def label(self, phrase: str, context: frozenset[str] = frozenset()) -> Labelled:
        found = self.lexical(phrase, context)
        if found is not None:
            return found
        if self.use_minilm and re.search(r"[a-z]{3}", phrase):
            if self._wanted is not None and phrase.strip().lower() not in self._memo:
                self._wanted.add(phrase)
                return Labelled(clean_phrase_label(phrase), "phrase", 0.0)
            try:
                name, score = self.nearest(phrase)
            except Exception:  # the model pack may be missing; the phrase still works as a label
                name, score = "", 0.0
            if name and score >= self.threshold:
                return Labelled(name, "minilm", score)
        return Labelled(clean_phrase_label(phrase), "phrase", 0.0)


def clean_phrase_label(phrase: str) -> str:
    """The user's words as a label that survives the caption text format."""
    text = re.sub(r'["“”;\n\r]', " ", phrase)
    text = re.sub(r"\bfrom(?=\s+[\d.])", "", text)  # "from 3" would read as a time range
    text = re.sub(r"\s+", " ", text).strip(" ,.-")
    if len(text) > 60:
        text = text[:60].rsplit(" ", 1)[0]
    return text or "Sound effect"
