"""Captioner ``template``: a rich caption of what a listener heard, by rule.

Heard events become layout events: pieces of the same label that touch are
merged, repeated bursts of one label become one event with a count, generic
labels give way to specific ones covering them, and position and level come
from the measured balance and loudness. The description is a template
sentence over the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ualm_agent.components.critics.matching import related

from ualm_agent.registry import BackendConfig, register
from ualm_agent.schema import HeardEvent, LayoutEvent, Observation, RichCaption
from ualm_agent.waveform import Waveform

GENERIC_LABELS: tuple[str, ...] = (
    "Music",
    "Musical instrument",
    "Silence",
    "Sound effect",
    "Noise",
    "Inside, small room",
    "Inside, large room or hall",
    "Outside, urban or manmade",
    "Outside, rural or natural",
    "Environmental noise",
)


class TemplateSettings(BackendConfig):
    kind: Literal["template"] = "template"
    merge_gap_s: float = 0.1
    burst_gap_s: float = 1.5
    max_labels_per_sound: int = 2
    same_sound_overlap: float = 0.5
    drop_generic: bool = True
    generic_labels: tuple[str, ...] = GENERIC_LABELS
    generic_cover: float = 0.5
    left_below: float = -0.3
    right_above: float = 0.3
    loud_above_db: float = 5.0
    soft_below_db: float = 10.0


@dataclass
class _Group:
    label: str
    pieces: list[HeardEvent]

    @property
    def start(self) -> float:
        return self.pieces[0].start_s

    @property
    def end(self) -> float:
        return max(p.end_s for p in self.pieces)

    def loudness(self) -> float | None:
        levels = [p.loudness_db for p in self.pieces if p.loudness_db is not None]
        return max(levels) if levels else None

    def balance(self) -> float:
        values = [p.balance for p in self.pieces if p.balance is not None]
        return sum(values) / len(values) if values else 0.0


@register("template", roles=("captioner",), config=TemplateSettings)
class TemplateCaptioner:
    """Rich caption of heard events by rule: merged bursts with counts, position and level."""

    name = "template"

    def __init__(self, **settings: object) -> None:
        self.settings = TemplateSettings(**settings)

    def caption(self, observation: Observation, *, audio: Waveform | None = None) -> RichCaption:
        s = self.settings
        heard = [e for e in observation.events if e.end_s > e.start_s]
        keywords = list(dict.fromkeys(e.label for e in sorted(heard, key=lambda e: e.start_s)))
        events = self._specific(heard)
        events = _fewest_labels_per_sound(events, s.max_labels_per_sound, s.same_sound_overlap)
        groups = self._groups(events)
        layout = self._layout(groups)
        duration = observation.duration_s if observation.duration_s > 0 else max([g.end for g in groups] + [1.0])
        return RichCaption(
            keywords=keywords,
            layout=layout,
            description=_describe(layout, observation.loudness_lufs),
            duration_s=min(600.0, duration),
        )

    def _specific(self, events: list[HeardEvent]) -> list[HeardEvent]:
        s = self.settings
        if not s.drop_generic:
            return list(events)
        generic = set(s.generic_labels)
        specific = [e for e in events if e.label not in generic]
        return [e for e in events if e.label not in generic or _covered(e, specific) < s.generic_cover]

    def _groups(self, events: list[HeardEvent]) -> list[_Group]:
        s = self.settings
        by_label: dict[str, list[HeardEvent]] = {}
        for e in sorted(events, key=lambda e: (e.start_s, e.end_s)):
            by_label.setdefault(e.label, []).append(e)
        groups: list[_Group] = []
        for label, items in by_label.items():
            merged = _merge_touching(items, s.merge_gap_s)
            current = [merged[0]]
            for piece in merged[1:]:
                if piece.start_s - current[-1].end_s <= s.burst_gap_s:
                    current.append(piece)
                else:
                    groups.append(_Group(label, current))
                    current = [piece]
            groups.append(_Group(label, current))
        groups.sort(key=lambda g: (g.start, g.label))
        return groups

    def _layout(self, groups: Sequence[_Group]) -> list[LayoutEvent]:
        s = self.settings
        levels = sorted(v for v in (g.loudness() for g in groups) if v is not None)
        loudest = levels[-1] if levels else None
        median = levels[len(levels) // 2] if levels else None
        layout = []
        for g in groups:
            balance = g.balance()
            position = "left" if balance < s.left_below else "right" if balance > s.right_above else "center"
            level = "normal"
            value = g.loudness()
            if value is not None and len(levels) > 1:
                if value <= loudest - s.soft_below_db:
                    level = "soft"
                elif value - median >= s.loud_above_db:
                    level = "loud"
            layout.append(
                LayoutEvent(
                    label=g.label,
                    phrase=g.label,
                    start_s=round(g.start, 3),
                    end_s=round(max(g.end, g.start + 0.01), 3),
                    count=min(100, len(g.pieces)),
                    position=position,
                    level=level,
                )
            )
        return layout


def _merge_touching(items: list[HeardEvent], gap: float) -> list[HeardEvent]:
    out = [items[0]]
    for e in items[1:]:
        last = out[-1]
        if e.start_s - last.end_s <= gap:
            louder = max((last.loudness_db, e.loudness_db), key=lambda v: -1e9 if v is None else v)
            out[-1] = last.model_copy(
                update={
                    "end_s": max(last.end_s, e.end_s),
                    "confidence": max(last.confidence, e.confidence),
                    "loudness_db": louder,
                }
            )
        else:
            out.append(e)
    return out


def _overlap(a: HeardEvent, b: HeardEvent) -> float:
    """Shared time as a fraction of the shorter event."""
    inter = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    shorter = min(a.end_s - a.start_s, b.end_s - b.start_s)
    return 0.0 if inter <= 0 or shorter <= 0 else inter / shorter


def _fewest_labels_per_sound(events: list[HeardEvent], limit: int, overlap: float) -> list[HeardEvent]:
    """Keep the ``limit`` most confident related labels for one sound (events sharing ``overlap``
    of their time).

    YAMNet names one sound with several related classes (Telephone, Telephone
    bell ringing, Ringtone); the layout should hold the sound, not every synonym.
    Only related labels compete: a bark heard under rain ("Rain", "Water", "Dog")
    is another sound, not a third name for the rain, so it stays.
    """
    if limit <= 0:
        return list(events)
    kept: list[HeardEvent] = []
    for e in sorted(events, key=lambda e: (-e.confidence, e.start_s, e.label)):
        rivals = {k.label for k in kept if k.label != e.label and _overlap(k, e) >= overlap and related(k.label, e.label)}
        if len(rivals) < limit:
            kept.append(e)
    return kept


def _covered(event: HeardEvent, others: list[HeardEvent]) -> float:
    length = event.end_s - event.start_s
    pieces = sorted((max(o.start_s, event.start_s), min(o.end_s, event.end_s)) for o in others)
    covered, reach = 0.0, event.start_s
    for a, b in pieces:
        a = max(a, reach)
        if b > a:
            covered += b - a
            reach = b
    return covered / length if length > 0 else 1.0


def _describe(layout: list[LayoutEvent], lufs: float | None) -> str:
    if not layout:
        text = "Nothing distinct is heard"
    else:
        parts = []
        for i, ev in enumerate(layout):
            piece = f"{ev.label} from {ev.start_s:.1f} to {ev.end_s:.1f} s"
            extras = []
            if ev.count > 1:
                extras.append(f"{ev.count} times")
            if ev.position != "center":
                extras.append(f"on the {ev.position}")
            if ev.level != "normal":
                extras.append(ev.level)
            if extras:
                piece += f" ({', '.join(extras)})"
            if i == 0:
                parts.append(piece)
            else:
                joiner = "while" if ev.start_s < max(p.end_s for p in layout[:i]) else "then"
                parts.append(f"{joiner} {piece}")
        text = ", ".join(parts)
    if lufs is not None:
        text += f"; overall {lufs:.0f} LUFS"
    return text + "."
