"""Evaluation items: a prompt, what a correct clip must contain, and a fixed seed.

One item per JSONL line: ``{"id": ..., "prompt": ..., "expected": {...}}``.
``expected`` lists the events the prompt fixes (label, and where the prompt says
so: count, onsets, spans, duration) and the order some of them must come in.
Importers turn the AudioTime test captions and AudioCaps captions into items.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ualm_agent.errors import UsageError, validation_summary
from ualm_agent.labels import exact_audioset_name, name_key
from ualm_agent.schema import Level, Position

AUDIOTIME_TASKS = ("ordering", "timestamp", "duration", "frequency")
AUDIOCAPS_COLUMNS = ("audiocap_id", "youtube_id", "start_time", "caption")
_SEED_RANGE = 2**31 - 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExpectedEvent(_Model):
    """One sound the clip must contain.

    ``label`` is the prompt's own name for it (an AudioSet name in the shipped
    set, free text from AudioTime); ``audioset`` is the AudioSet name it spells,
    where one does. ``spans`` are (start, end) seconds of each occurrence,
    ``onsets`` their start times, ``count`` how many times it sounds.
    """

    label: str = Field(min_length=1)
    audioset: str | None = None
    count: int | None = Field(default=None, ge=1)
    spans: list[tuple[float, float]] = Field(default_factory=list)
    onsets: list[float] = Field(default_factory=list)
    duration_s: float | None = Field(default=None, gt=0.0)
    position: Position | None = None
    level: Level | None = None

    @field_validator("spans")
    @classmethod
    def _spans_ordered(cls, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for start, end in spans:
            if start < 0 or end <= start:
                raise ValueError(f"span ({start}, {end}) must have 0 <= start < end")
        return sorted(spans)

    @field_validator("onsets")
    @classmethod
    def _onsets_valid(cls, onsets: list[float]) -> list[float]:
        if any(t < 0 for t in onsets):
            raise ValueError("onsets must be 0 or later")
        return sorted(onsets)

    @model_validator(mode="after")
    def _consistent(self) -> "ExpectedEvent":
        if self.count is not None and self.onsets and self.count != len(self.onsets):
            raise ValueError(f"count {self.count} but {len(self.onsets)} onsets for {self.label!r}")
        return self

    @property
    def match_label(self) -> str:
        """The name matched against heard labels: the AudioSet name where known."""
        return self.audioset or self.label

    def names(self) -> set[str]:
        return {name_key(self.label), name_key(self.match_label)}


class Expected(_Model):
    events: list[ExpectedEvent] = Field(default_factory=list)
    # Labels (of ``events``) in the order they must first sound.
    order: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _order_names_events(self) -> "Expected":
        for label in self.order:
            if self.index_of(label) is None:
                known = ", ".join(repr(e.label) for e in self.events) or "none"
                raise ValueError(f"order names {label!r}, which is not an expected event (events: {known})")
        if len(self.order) != len({self.index_of(label) for label in self.order}):
            raise ValueError("order names the same event twice")
        return self

    def index_of(self, label: str) -> int | None:
        """Index of the event ``label`` names (by its label or AudioSet name, up to spelling)."""
        key = name_key(label)
        for i, event in enumerate(self.events):
            if key in event.names():
                return i
        return None


class EvalItem(_Model):
    id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    expected: Expected | None = None
    seed: int | None = Field(default=None, ge=0, le=_SEED_RANGE)
    tags: list[str] = Field(default_factory=list)
    # Where the item came from (e.g. AudioCaps' youtube_id and start_time).
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_is_a_folder_name(cls, value: str) -> str:
        # Each item gets a run folder named by its id.
        if value.strip() != value or "/" in value or "\\" in value or value in {".", ".."}:
            raise ValueError(f"id {value!r} must be usable as a folder name (no slashes or surrounding spaces)")
        return value


def item_seed(item: EvalItem, base_seed: int = 0) -> int:
    """The item's own seed, else one derived from its id and ``base_seed`` (stable across runs and machines)."""
    if item.seed is not None:
        return item.seed
    digest = hashlib.sha256(f"{base_seed}:{item.id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _SEED_RANGE


# ---------------------------------------------------------------- JSONL


def load_items(path: str | Path) -> tuple[list[EvalItem], list[str]]:
    """Items of a JSONL file, and one message (with its line number) per line that is not a valid item.

    Blank lines are skipped; a repeated id is an error on the later line. AudioTime caption
    files (``<task>_caption.json``), or a folder of them, are imported whole instead.
    """
    p = Path(path)
    audiotime = audiotime_files(p)
    if audiotime:
        return [item for f in audiotime for item in import_audiotime(f)], []
    if p.is_dir():  # only an AudioTime folder is read whole; reading any other folder fails with EISDIR
        raise UsageError(f"{p} holds no AudioTime caption files ({', '.join(t + '_' for t in AUDIOTIME_TASKS[:-1])} "
                         f"or {AUDIOTIME_TASKS[-1]}_caption.json); give a JSONL file or such a folder")
    try:
        text = p.read_text(encoding="utf-8-sig")  # a byte-order mark some editors write is not part of line 1
    except FileNotFoundError:
        raise UsageError(f"prompt file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read prompt file {p}: {exc}") from None
    items: list[EvalItem] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{p}:{number}: not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(data, dict):
            errors.append(f"{p}:{number}: expected a JSON object, got {type(data).__name__}")
            continue
        try:
            item = EvalItem.model_validate(data)
        except ValidationError as exc:
            errors.append(f"{p}:{number}: {validation_summary(exc, root='item')}")
            continue
        if item.id in seen:
            errors.append(f"{p}:{number}: id {item.id!r} already used on line {seen[item.id]}")
            continue
        seen[item.id] = number
        items.append(item)
    return items, errors


def write_items(items: Iterable[EvalItem], path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(item.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False) for item in items]
    p.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return p


# ---------------------------------------------------------------- importers


def audioset_name_for(label: str) -> str | None:
    """The AudioSet name a free-text label spells, whole or by one of its comma parts."""
    found = exact_audioset_name(label)
    if found:
        return found
    # "Vehicle horn, car horn, honking, toot" spells a name part by part.
    for part in label.split(","):
        found = exact_audioset_name(part)
        if found:
            return found
    return None


def audiotime_files(path: Path) -> list[Path]:
    """The AudioTime caption files ``path`` is, or holds (a folder), in task order; [] for anything else."""
    def is_audiotime(f: Path) -> bool:
        return f.suffix == ".json" and f.name.split("_", 1)[0] in AUDIOTIME_TASKS and f.name.endswith("_caption.json")

    if path.is_dir():
        found = {f.name.split("_", 1)[0]: f for f in path.iterdir() if f.is_file() and is_audiotime(f)}
        return [found[t] for t in AUDIOTIME_TASKS if t in found]
    return [path] if path.is_file() and is_audiotime(path) else []


def import_audiotime(path: str | Path, task: str | None = None) -> list[EvalItem]:
    """Items from an AudioTime test-caption file (``{id: {"event": {...}, "caption": ...}}``).

    ``task`` (ordering, timestamp, duration, frequency) says what the event values
    are; by default it is read from the file name (``<task>_caption.json``).
    ordering and timestamp give (start, end) spans (ordering also the order of
    first onsets), duration one length in seconds, frequency the onsets.
    """
    p = Path(path)
    task = task or p.name.split("_", 1)[0]
    if task not in AUDIOTIME_TASKS:
        raise UsageError(f"unknown AudioTime task {task!r}; tasks are {', '.join(AUDIOTIME_TASKS)}")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"AudioTime file not found: {p}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"AudioTime file {p} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"AudioTime file {p}: expected an object of items keyed by id")
    items = []
    for key, entry in data.items():
        try:
            items.append(_audiotime_item(str(key), entry, task))
        except (ValueError, TypeError, KeyError) as exc:
            message = validation_summary(exc, root="item") if isinstance(exc, ValidationError) else str(exc)
            raise UsageError(f"AudioTime file {p}, item {key!r}: {message}") from None
    return items


def _longest_clip_s() -> float:
    """The longest clip a plan allows (RichCaption.duration_s's upper bound), read from the schema so the two agree."""
    from annotated_types import Le

    from ualm_agent.schema import RichCaption

    return next(float(m.le) for m in RichCaption.model_fields["duration_s"].metadata if isinstance(m, Le))


def _seconds(label: str, what: str, value: Any, shown: Any = None) -> float:
    """``value`` as seconds of event ``label``, or a ValueError naming ``what`` it should be and the JSON given."""
    # bool is an int to Python, and a string like "1" is not a number in JSON: refuse both.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        given = json.dumps(value if shown is None else shown, ensure_ascii=False)
        raise ValueError(f"event {label!r}: {what} is a number of seconds, got {given}")
    limit = _longest_clip_s()
    if value > limit:  # a far-off time (1e9 s) would swamp duration_l1 and onset errors
        raise ValueError(f"event {label!r}: {what} must be at most {limit:g} s (the longest clip), got {value:g}")
    return float(value)


def _audiotime_item(key: str, entry: Any, task: str) -> EvalItem:
    if not isinstance(entry, dict) or not isinstance(entry.get("event"), dict) or not isinstance(entry.get("caption"), str):
        raise ValueError("needs 'event' (an object) and 'caption' (a string)")
    events = []
    for label, values in entry["event"].items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"event {label!r}: expected a non-empty list")
        fields: dict[str, Any] = {"label": label, "audioset": audioset_name_for(label)}
        if task in ("ordering", "timestamp"):
            spans = []
            for span in values:
                if not isinstance(span, list) or len(span) != 2:
                    given = json.dumps(span, ensure_ascii=False)
                    raise ValueError(f"event {label!r}: each span is [start, end] in seconds, got {given}")
                spans.append((_seconds(label, "a span start", span[0], span), _seconds(label, "a span end", span[1], span)))
            fields["spans"] = spans
        elif task == "duration":
            if len(values) != 1:
                raise ValueError(f"event {label!r}: a duration item gives one length, got {len(values)}")
            fields["duration_s"] = _seconds(label, "the duration", values[0])
        else:
            fields["onsets"] = [_seconds(label, "each onset", t) for t in values]
            fields["count"] = len(values)
        events.append(ExpectedEvent(**fields))
    order = []
    if task == "ordering":
        order = [e.label for e in sorted(events, key=lambda e: e.spans[0][0])]
    return EvalItem(
        id=f"audiotime-{task}-{key}",
        prompt=entry["caption"],
        expected=Expected(events=events, order=order),
        tags=["audiotime", task],
    )


def import_audiocaps(csv_path: str | Path) -> list[EvalItem]:
    """Captions of an AudioCaps CSV (audiocap_id, youtube_id, start_time, caption) as items with no expectations."""
    p = Path(csv_path)
    try:
        with open(p, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in AUDIOCAPS_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise UsageError(f"AudioCaps file {p} lacks the column(s) {', '.join(missing)}")
            rows = list(reader)
    except FileNotFoundError:
        raise UsageError(f"AudioCaps file not found: {p}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"AudioCaps file {p} is not UTF-8: {exc}") from None
    items = []
    for number, row in enumerate(rows, start=2):
        caption = (row.get("caption") or "").strip()
        cap_id = (row.get("audiocap_id") or "").strip()
        if not caption or not cap_id:
            raise UsageError(f"AudioCaps file {p}:{number}: empty audiocap_id or caption")
        meta: dict[str, Any] = {"youtube_id": (row.get("youtube_id") or "").strip()}
        try:
            meta["start_time"] = float(row["start_time"])
        except (TypeError, ValueError):
            raise UsageError(f"AudioCaps file {p}:{number}: start_time {row.get('start_time')!r} is not a number") from None
        items.append(EvalItem(id=f"audiocaps-{cap_id}", prompt=caption, tags=["audiocaps"], meta=meta))
    return items

