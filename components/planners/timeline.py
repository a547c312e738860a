"""Place planned events on the clip's timeline.

Events form groups: members of a group sound together ("while", "as",
"with"), groups follow one another ("then", commas) with a short gap, and a
silence widens the gap before the next group. Stated times anchor a group;
the groups between anchors share the free time. Background textures that
no order word ties down span the whole clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# The shortest clip and the shortest event the planner makes.
MIN_CLIP_S = 0.5
MIN_EVENT_S = 0.05
# The least time per repeat for repeats to be heard apart rather than run together.
MIN_REPEAT_SLOT_S = 0.25
# Natural time per repeat of an untimed counted sound: real recordings space repeats ~0.5-1.5 s
# apart, and 1.1 s stays well above MIN_REPEAT_SLOT_S so the listener still hears them apart.
REPEAT_SLOT_S = 1.1
# A counted call that is not an impulse (an owl's hoot, a goose's honk) takes longer per repeat.
CALL_SLOT_S = 1.5
# The least an open-ended sound ("at 1 s") is cut to when the next sound's stated start follows it.
MIN_OPEN_S = 0.5


@dataclass
class Slot:
    """What the timeline needs to know about one event."""

    relation: str  # first | seq | pre | par | and (as resolved by the planner)
    start: float | None = None
    end: float | None = None
    dur: float | None = None
    impulse: bool = False
    brief: bool = False  # an impulse over in a fraction of a second (a click)
    count: int = 1
    background: bool = False
    gap_before: float | None = None  # a stated silence before this event
    # Filled in by place():
    span: tuple[float, float] = (0.0, 0.0)


@dataclass
class _Group:
    members: list[int] = field(default_factory=list)
    gap_before: float | None = None


def _natural_length(slot: Slot, clip: float) -> float:
    """How long an event with no stated length lasts when it has a fixed start."""
    if slot.count > 1 and not slot.brief:
        return min(clip, _repeats_length(slot))
    if slot.brief:
        return min(clip, max(0.5, 0.5 * slot.count))
    if slot.impulse:
        return min(clip, max(1.0, 0.9 * slot.count))
    return min(clip, 3.0)


def _repeats_length(slot: Slot) -> float:
    """The span an untimed counted sound takes in a real recording: a natural slot per repeat."""
    return slot.count * (REPEAT_SLOT_S if slot.impulse or slot.brief else CALL_SLOT_S)


def _timed_span(slot: Slot, clip: float) -> tuple[float, float]:
    if slot.start is not None and slot.end is not None:
        return slot.start, slot.end
    if slot.start is not None:
        return slot.start, slot.start + (slot.dur or _natural_length(slot, clip))
    assert slot.end is not None
    length = slot.dur or slot.end
    return max(0.0, slot.end - length), slot.end


def build_groups(slots: list[Slot]) -> tuple[list[_Group], list[int]]:
    """Groups in time order, and the events that form the background."""
    background = [i for i, s in enumerate(slots) if s.background]
    groups: list[_Group] = []
    last: int | None = None  # index (into groups) of the previous event's group
    for i, slot in enumerate(slots):
        if slot.background:
            continue
        if slot.relation == "par" and last is not None and slot.gap_before is None:
            groups[last].members.append(i)
            continue
        group = _Group(members=[i], gap_before=slot.gap_before)
        if slot.relation == "pre" and last is not None:
            # "X after Y": Y goes before X's group.
            groups.insert(last, group)
        else:
            groups.append(group)
            last = len(groups) - 1
    return groups, background


def required_clip(slots: list[Slot], gap: float) -> float:
    """The clip length the stated times and durations need."""
    need = 0.0
    sequential = 0.0
    groups, _ = build_groups(slots)
    for k, group in enumerate(groups):
        spans = [_timed_span(slots[i], 1e9) for i in group.members if slots[i].start is not None or slots[i].end is not None]
        if spans:
            need = max(need, max(e for _, e in spans))
            sequential = max(sequential, max(e for _, e in spans))
            continue
        if k:
            sequential += group.gap_before if group.gap_before is not None else gap
        # As place() will size it: a stated length, a lone knock's short length, else the least share.
        sequential += _group_length(group, slots) or 0.5
    for slot in slots:
        if slot.dur:
            need = max(need, slot.dur)
    return max(need, sequential if any(s.dur for s in slots) else 0.0)


def place(slots: list[Slot], clip: float, gap: float) -> None:
    """Fill ``span`` of every slot, inside [0, clip]."""
    groups, background = build_groups(slots)
    anchors: dict[int, tuple[float, float]] = {}
    for k, group in enumerate(groups):
        spans = [_timed_span(slots[i], clip) for i in group.members if slots[i].start is not None or slots[i].end is not None]
        if spans:
            anchors[k] = (min(s for s, _ in spans), max(e for _, e in spans))

    group_span: dict[int, tuple[float, float]] = dict(anchors)
    k = 0
    while k < len(groups):
        if k in anchors:
            k += 1
            continue
        run = [k]
        while run[-1] + 1 < len(groups) and run[-1] + 1 not in anchors:
            run.append(run[-1] + 1)
        prev_end = anchors[k - 1][1] if k - 1 in anchors else None
        next_start = anchors[run[-1] + 1][0] if run[-1] + 1 in anchors else None
        for g, span in zip(run, _share(groups, run, slots, prev_end, next_start, clip, gap)):
            group_span[g] = span
        k = run[-1] + 1

    for k, group in enumerate(groups):
        g_start, g_end = group_span[k]
        next_start = anchors[k + 1][0] if k + 1 in anchors else None
        for i in group.members:
            slot = slots[i]
            if slot.start is not None or slot.end is not None:
                s, e = _timed_span(slot, clip)
                if slot.end is None and slot.dur is None and next_start is not None and next_start - s >= MIN_OPEN_S:
                    # "starts at 1 s, then revs from 2 to 5 s": an open-ended sound lasts until the next one.
                    e = min(e, next_start)
            elif slot.dur:
                # Its stated length, unless its group was squeezed to fit the clip.
                s, e = g_start, min(g_start + slot.dur, g_end)
            else:
                s, e = g_start, g_end
                if slot.impulse and slot.count == 1:
                    e = min(e, s + 1.5)  # a single knock is short, not a whole slot
            slot.span = _clamp(s, e, clip)
    for i in background:
        slots[i].span = (0.0, clip)


def _share(groups, run, slots, prev_end, next_start, clip, gap) -> list[tuple[float, float]]:
    """Spans for consecutive free groups between two anchors (or the clip's ends)."""
    lo = 0.0 if prev_end is None else prev_end
    hi = clip if next_start is None else next_start
    gaps = []
    for j, g in enumerate(run):
        stated = groups[g].gap_before
        if j == 0 and prev_end is None:
            gaps.append(stated or 0.0)
        else:
            gaps.append(stated if stated is not None else gap)
    if next_start is not None:
        hi -= gap
    # Counted repeats that nothing follows keep the rest of the clip: spaced wider, the listener
    # hears them apart more surely, and no later sound needs their time.
    fixed = [_group_length(groups[g], slots, counted=j < len(run) - 1 or next_start is not None) for j, g in enumerate(run)]
    total_fixed = sum(f for f in fixed if f)
    flexible = sum(1 for f in fixed if not f)
    free = hi - lo - sum(gaps) - total_fixed
    share = free / flexible if flexible else 0.0
    if flexible and share < 0.5:
        # No room between the anchors: keep the order but let the run overlap them.
        lo = max(0.0, min(lo, clip - total_fixed - sum(gaps) - 0.5 * flexible))
        share = max(0.5, (clip - lo - sum(gaps) - total_fixed) / flexible)
    spans = []
    cursor = lo
    for j, g in enumerate(run):
        cursor += gaps[j]
        length = fixed[j] if fixed[j] else share
        spans.append((cursor, cursor + length))
        # Short sounds follow one another after the gap, as in a recording, not spread over the clip.
        cursor += length
    overflow = spans[-1][1] - clip if spans else 0.0
    if overflow > 1e-9:
        # Squeeze the run into the clip, keeping its order and proportions.
        first = spans[0][0]
        scale = (clip - first) / max(1e-9, spans[-1][1] - first)
        if scale <= 0.05:
            first, scale = 0.0, clip / max(1e-9, spans[-1][1])
        spans = [(first + (s - spans[0][0]) * scale, first + (e - spans[0][0]) * scale) for s, e in spans]
    return spans


def _group_length(group: _Group, slots: list[Slot], counted: bool = True) -> float | None:
    """A stated duration, the short length of a lone one-off impulse, or the natural span of counted
    repeats (so what follows starts after them); None when the group is flexible."""
    stated = [slots[i].dur for i in group.members if slots[i].dur]
    if stated:
        return max(stated)
    natural = []
    for i in group.members:
        slot = slots[i]
        if slot.count > 1 and counted:
            natural.append(_repeats_length(slot))
        elif slot.impulse and slot.count == 1:
            natural.append(1.5)
        else:
            return None
    return max(natural) if natural else None


def _clamp(start: float, end: float, clip: float) -> tuple[float, float]:
    start = min(max(0.0, start), max(0.0, clip - MIN_EVENT_S))
    end = min(max(end, start + MIN_EVENT_S), clip)
    if end - start < MIN_EVENT_S:
        start = max(0.0, end - MIN_EVENT_S)
    return round(start, 3), round(end, 3)


def round_clip(seconds: float) -> float:
    return math.ceil(seconds * 10 - 1e-6) / 10
