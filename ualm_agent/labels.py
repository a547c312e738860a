"""The 521 AudioSet class names of the YAMNet class map, and name matching."""

from __future__ import annotations

import csv
import re
from functools import cache

from .modelpacks import YAMNET_CLASSES


@cache
def audioset_names() -> tuple[str, ...]:
    """Display names in model output order (index = YAMNet class index)."""
    with open(YAMNET_CLASSES.locate(), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return tuple(row["display_name"] for row in rows)


@cache
def _by_key() -> dict[str, str]:
    table: dict[str, str] = {}
    for name in audioset_names():
        table.setdefault(name_key(name), name)
        # "Vehicle horn, car horn, honking" is also found by each of its parts.
        for part in name.split(","):
            table.setdefault(name_key(part), name)
    return table


def name_key(text: str) -> str:
    """Case- and punctuation-insensitive key; plural 's' dropped."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def exact_audioset_name(text: str) -> str | None:
    """The AudioSet name ``text`` spells (or one of its comma parts), if any."""
    return _by_key().get(name_key(text))


def is_audioset_name(text: str) -> bool:
    return text in set(audioset_names())
