"""Sentence embeddings from all-MiniLM-L6-v2 (the copy shipped in a wheel).

Used to compare sound labels whose names differ ("percussion" vs "Drum kit").
Embeddings of the 521 AudioSet names are cached on disk, so comparing two
AudioSet names needs no model at all after the first use.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import cache
from pathlib import Path

import numpy as np

from ualm_agent.labels import audioset_names
from ualm_agent.modelpacks import MINILM


def cache_dir() -> Path:
    root = os.environ.get("UALM_AGENT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ualm-agent"
    )
    return Path(root)


class MiniLM:
    """Mean-pooled, L2-normalised MiniLM embeddings on CPU."""

    def __init__(self, model_dir: str | None = None) -> None:
        self._dir = Path(model_dir) if model_dir else MINILM.locate()
        self._lock = threading.Lock()
        self._model = None
        self._tokenizer = None
        self._memo: dict[str, np.ndarray] = {}

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the CLI's own progress is on stderr
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
        self._tokenizer = self._tokenizer or AutoTokenizer.from_pretrained(self._dir)
        self._model = AutoModel.from_pretrained(self._dir).eval()

    def is_word(self, word: str) -> bool:
        """Whether the vocabulary knows ``word``: whole, or a stem with a short ending ("activate" "##s"),
        rather than only in pieces it spells out ("as" "##df" "##gh" for "asdfgh")."""
        if self._tokenizer is None:
            with self._lock:
                from transformers import AutoTokenizer

                self._tokenizer = self._tokenizer or AutoTokenizer.from_pretrained(self._dir)
        pieces = self._tokenizer.tokenize(word.lower())
        return bool(pieces) and len(pieces[0]) >= 0.6 * len(word)

    def embed(self, texts: list[str]) -> np.ndarray:
        """[len(texts), 384] unit vectors."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            with self._lock:
                self._load()
                import torch

                with torch.inference_mode():
                    for i in range(0, len(todo), 64):
                        batch = todo[i : i + 64]
                        enc = self._tokenizer(batch, padding=True, truncation=True, max_length=64, return_tensors="pt")
                        hidden = self._model(**enc).last_hidden_state
                        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                        pooled = torch.nn.functional.normalize(pooled, dim=-1).numpy()
                        for text, vec in zip(batch, pooled):
                            self._memo[text] = vec.astype(np.float32)
        return np.stack([self._memo[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def audioset_matrix(self) -> np.ndarray:
        """[521, 384] embeddings of the AudioSet names, cached on disk."""
        names = list(audioset_names())
        digest = hashlib.sha256(("\n".join(names) + str(self._dir)).encode()).hexdigest()[:16]
        path = cache_dir() / f"audioset-minilm-{digest}.npy"
        if path.exists():
            matrix = np.load(path)
            if matrix.shape == (len(names), 384):
                for name, vec in zip(names, matrix):
                    self._memo.setdefault(name, vec)
                return matrix
        matrix = self.embed(names)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, matrix)
        os.replace(tmp, path)
        return matrix

    def similarity(self, a: str, b: str) -> float:
        va, vb = self.embed([a, b])
        return float(np.dot(va, vb))


@cache
def shared_minilm() -> MiniLM:
    """One MiniLM per process, shared by every backend that compares labels."""
    return MiniLM()
