"""Reviser ``rules``: turn a critique's issues into edits of the plan.

The plan stays the target, so only edits that help the generator realise it are
made:

- order: where the plan runs the two together, start the later event a gap after the
  earlier one ends, pushing what follows and squeezing it into the clip (shortening the
  earlier event if needed); where a stated time ties either down or the plan already keeps
  them apart, one render was heard under the other's name, so it gets another take;
- missing: a label the generator cannot render becomes the nearest one it can
  (substitute); one heard as a look-alike ("Clang" for a bell) gets another take
  (retake); otherwise, step by step over rounds: lengthen a too-short event, raise
  its level, turn down the level of the heard events covering it, try a related
  renderable label no round tried (once, while other events cover it), separate
  it in time from what covers it when no stated time ties either down, and last
  try another take. While planned sounds are heard over it (masked), they are turned
  down and it up: with their heard loudness, in one round to ``masked_margin_db`` over
  the loudest, never cutting one below ``audible_floor_db``; without it, a step each round
  (``lower_db``, ``raise_db``), all within ``max_cut_db`` and ``max_boost_db``;
- count (heard fewer): spread the repeats over a longer span so the gaps are heard,
  or, with no room left, raise their level;
- timing: lengthen an event too short to detect; nothing else, the plan is the target;
- loudness heard too faintly to be sure (weak): raise it ``weak_raise_db``.

Issues the user raised in interactive mode (``cause="user"``) are taken as told: another count
is planned (``recount``), a sound found too loud or too quiet is turned down or up one step, and a
sound the plan lacks is added over the span the user's words gave (``add``).

Other loudness, position and extra-sound issues leave the plan as it is. The plan
is never mutated; every change is both a typed ``PlanEdit`` in ``edits`` (its kind,
the issue kind it answers, a sentence) and, per issue, a "Revision: ..." sentence
in ``assumptions``. ``fixes`` names the edit kinds allowed, so each can be switched
off in an ablation (``--grid reviser.fixes=raise+separate+retime+retake+substitute``).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field
from ualm_agent.components.critics.matching import (
    LabelMatcher,
    labels_in,
    shared_matcher,
)

from ualm_agent.registry import BackendConfig, register
from ualm_agent.schema import (
    Critique,
    EditKind,
    Issue,
    LayoutEvent,
    PlanEdit,
    RichCaption,
)

EDIT_KINDS: tuple[EditKind, ...] = typing.get_args(EditKind)
_LOUDER = {"distant": "normal", "soft": "normal", "normal": "loud"}
_SOFTER = {"loud": "normal", "normal": "soft"}
# Edits that move events come first: later edits then see the new times.
_KIND_ORDER = ("order", "missing", "count", "timing", "loudness")


class RulesReviserConfig(BackendConfig):
    kind: Literal["rules"] = "rules"
    gap_s: float = Field(default=0.5, ge=0.0, description="silence put between events that must be heard one after the other")
    min_event_s: float = Field(default=1.0, gt=0.0, description="shortest event the listener detects reliably")
    min_repeat_slot_s: float = Field(default=1.6, gt=0.0, description="slot per repeat, so the gaps between repeats are heard")
    sequential_tolerance_s: float = Field(default=0.5, ge=0.0)
    match_threshold: float = Field(default=0.55, ge=0.0, le=1.0)
    use_minilm: bool = True
    related_tries_when_masked: int = Field(
        default=1, ge=0, description="related labels tried for a covered, unheard event before it is separated in time"
    )
    fixes: list[EditKind] = Field(
        default_factory=lambda: list(EDIT_KINDS), description="kinds of plan edit allowed (switch one off to ablate it)"
    )
    lower_db: float = Field(default=6.0, ge=0.0, le=40.0, description="a masking sound turned down this much per round")
    raise_db: float = Field(default=6.0, ge=0.0, le=24.0, description="a masked sound turned up this much per round")
    weak_raise_db: float = Field(default=4.0, ge=0.0, le=24.0, description="a faintly heard sound turned up this much")
    # Caps on the fine gain, so rounds of revisions cannot bury a sound or push one into clipping.
    max_cut_db: float = Field(default=12.0, ge=0.0, le=40.0, description="most a sound is turned down in all")
    max_boost_db: float = Field(default=12.0, ge=0.0, le=24.0, description="most a sound is turned up in all")
    masked_margin_db: float = Field(
        default=20.0, ge=0.0, le=60.0,
        description="how far above its loudest masker (planned level and gain) a masked sound is put in one round",
    )
    audible_floor_db: float = Field(
        default=-40.0, le=0.0, description="a masker is never turned down below this heard loudness, so it stays heard",
    )


@dataclass
class _Change:
    """One edit made to the layout: its kind, the event it changed and what was done (no final period)."""

    kind: EditKind
    label: str
    text: str


@register("rules", roles=("reviser",), config=RulesReviserConfig)
class RulesReviser:
    """Rule-based reviser: spaces events apart, raises masked events, swaps unrenderable labels, fixes counts."""

    def __init__(self, *, matcher: LabelMatcher | None = None, **settings) -> None:
        self.settings = RulesReviserConfig(**settings)
        s = self.settings
        self.matcher = matcher or shared_matcher(s.match_threshold, s.use_minilm)

    def revise(self, plan: RichCaption, critique: Critique, *, renderable: Sequence[str] | None = None) -> RichCaption:
        layout = [ev.model_copy() for ev in plan.layout]
        notes: list[str] = []
        edits: list[PlanEdit] = []
        done: set[tuple[str, int]] = set()
        issues = [
            i for i in critique.issues
            if i.kind in _KIND_ORDER and i.event_index is not None and (i.kind != "loudness" or i.cause in ("weak", "user"))
        ]
        # Sounds the user asked for that the plan lacks (interactive review) are added after the fixes.
        additions = [i for i in critique.issues if i.cause == "user" and i.kind == "missing" and i.event_index is None]
        issues.sort(key=lambda i: (_KIND_ORDER.index(i.kind), i.event_index, i.expected))
        # Events not heard this round: turning one down to let another through would only trade misses.
        unheard = {i.event_index for i in issues if i.kind == "missing"}
        # A sound masking several others is turned down once per round, not once for each.
        lowered: set[int] = set()
        for issue in issues:
            idx = issue.event_index
            if not 0 <= idx < len(layout) or (issue.kind, idx) in done:
                continue
            done.add((issue.kind, idx))
            if issue.kind == "order" and issue.cause == "user":
                changes = self._swap_as_told(layout, idx, issue)
            elif issue.kind == "order":
                changes = self._reorder(layout, idx, issue, plan)
            elif issue.kind == "missing":
                changes = self._make_audible(layout, idx, issue, renderable, plan, unheard, lowered)
            elif issue.kind == "count" and issue.cause == "user":
                changes = self._recount(layout, idx, issue)
            elif issue.kind == "count":
                changes = self._widen_repeats(layout, idx, issue, plan.duration_s)
            elif issue.kind == "loudness" and issue.cause == "user":
                changes = self._as_told(layout, idx, issue)
            elif issue.kind == "timing":
                changes = self._lengthen(layout, idx, plan.duration_s)
            else:
                changes = self._strengthen(layout, idx)
            if changes:
                notes.append("Revision: " + "; ".join(c.text for c in changes) + ".")
                edits += [
                    PlanEdit(kind=c.kind, label=c.label, answers=issue.kind, detail=c.text[:1].upper() + c.text[1:] + ".")
                    for c in changes
                ]
        for issue in additions:
            change = self._add(layout, issue, plan.duration_s)
            if change is not None:
                notes.append(f"Revision: {change.text}.")
                edits.append(PlanEdit(kind=change.kind, label=change.label, answers=issue.kind,
                                      detail=change.text[:1].upper() + change.text[1:] + "."))
        _keep_inside(layout, plan.layout, plan.duration_s, self.settings.min_event_s)
        return plan.model_copy(
            update={"layout": layout, "assumptions": [*plan.assumptions, *notes], "edits": [*plan.edits, *edits]}, deep=True
        )

    def _on(self, kind: EditKind) -> bool:
        return kind in self.settings.fixes

    # ------------------------------------------------------------------ edits
    def _earlier(self, layout: list[LayoutEvent], idx: int, issue: Issue) -> int | None:
        """The event that should come before ``idx``: the one the issue names, else the latest that ends before it."""
        tol = self.settings.sequential_tolerance_s
        ev = layout[idx]
        before = [j for j, o in enumerate(layout) if j != idx and o.start_s < ev.start_s and o.end_s <= ev.start_s + tol]
        named = [j for j in before if issue.expected.startswith(f"{layout[j].label} before ")]
        pool = named or before
        return max(pool, key=lambda j: (layout[j].end_s, -j)) if pool else None

    def _reorder(self, layout: list[LayoutEvent], idx: int, issue: Issue, plan: RichCaption) -> list[_Change]:
        """An order issue: move the later event after the earlier one where the plan leaves room to.

        Moving helps only when the two sounds ran into each other. Where a stated time ties
        either down, or the plan already puts a gap between them, the listener heard one sound
        under the other's name (a croak heard as crickets before the crickets begin): moving it
        later only takes it off its time, so the render that was misheard gets another take."""
        first = self._earlier(layout, idx, issue)
        if first is None:
            return []
        gap = layout[idx].start_s - layout[first].end_s
        swapped = issue.observed != "together"
        stated = time_stated(plan, idx) or time_stated(plan, first)
        if not stated and (gap < self.settings.gap_s - 1e-6 if not swapped else gap <= 1e-6):
            moved = self._separate(layout, idx, first, plan.duration_s) if self._on("retime") else ""
            return [_Change("retime", layout[idx].label, moved)] if moved else []
        if not self._on("retake"):
            return []
        # Heard before the earlier sound: that sound's render carries the later one's name.
        # Heard together though apart in the plan: the later render sounds over its time too.
        culprit = first if swapped else idx
        other = layout[idx if swapped else first].label
        return [self._retake(layout, culprit, f"it was heard as {other} out of order")]

    def _separate(self, layout: list[LayoutEvent], idx: int, first: int | None, duration: float) -> str:
        """Start ``idx`` a gap after ``first`` ends; push what follows and squeeze it into the clip."""
        if first is None:
            return ""
        s = self.settings
        a, b = layout[first], layout[idx]
        start = a.end_s + s.gap_s
        if start <= b.start_s:
            # Already apart in the plan; the render still blurred them, so widen the gap.
            start = b.start_s + s.gap_s
        room = duration - start
        if room < s.min_event_s:
            # No room after the first event: shorten it so both fit.
            new_a_end = max(a.start_s + s.min_event_s, duration - s.gap_s - max(s.min_event_s, min(b.duration_s, duration / 2)))
            if new_a_end >= a.end_s:
                return ""
            start = new_a_end + s.gap_s
            if duration - start < min(s.min_event_s, b.duration_s) - 1e-9:
                return ""  # the first event starts too late to make room
            layout[first] = a.model_copy(update={"end_s": round(new_a_end, 3)})
        shift = start - b.start_s
        _shift_from(layout, b.start_s, shift, skip={first})
        _fit_into(layout, start, duration, s.min_event_s)
        b = layout[idx]
        note = f"moved {b.label} to start after {layout[first].label} ({b.start_s:.1f}-{b.end_s:.1f} s)"
        if layout[first].end_s < a.end_s:
            note += f"; shortened {a.label} to end at {layout[first].end_s:.1f} s to make room"
        return note

    def _make_audible(
        self,
        layout: list[LayoutEvent],
        idx: int,
        issue: Issue,
        renderable: Sequence[str] | None,
        plan: RichCaption,
        unheard: set[int],
        lowered: set[int],
    ) -> list[_Change]:
        ev = layout[idx]
        if issue.observed == "not rendered" or (renderable is not None and not labels_in(renderable, ev.label)):
            if not renderable or not self._on("substitute"):
                return []
            pool = [r for r in renderable if not labels_in([ev.label], r)]
            new = self.matcher.nearest(ev.label, pool)
            if new is None:
                return []
            layout[idx] = ev.model_copy(update={"label": new, "phrase": ev.phrase or ev.label})
            return [_Change("substitute", new, f"replaced {ev.label}, which cannot be rendered, with {new}")]
        if issue.cause == "look-alike" and self._on("retake"):
            # Rendered and heard, as something near it: louder would only be a louder wrong sound.
            return [self._retake(layout, idx, f"it was heard as {issue.heard_as or 'another sound'}")]
        changes = self._lengthen(layout, idx, plan.duration_s) if self._on("retime") else []
        ev = layout[idx]
        maskers = [j for j, o in enumerate(layout) if j != idx and _overlap(ev, o) > 0]
        # The planned sounds the critic heard over it (not those unheard too: that would trade misses).
        heard_over = [j for j in issue.maskers if 0 <= j < len(layout) and j != idx and j not in unheard]
        # While what is heard over it can still be turned down, that is the fix: trying another sound
        # or moving it away would give up on the mix the plan asks for.
        cut_left = issue.cause == "masked" and self._on("lower") and any(
            layout[j].level in _SOFTER or layout[j].gain_db > 0.01 - self.settings.max_cut_db for j in heard_over
        )
        raised = separated = False
        # With the masker's heard loudness, _unmask sizes the cut itself (within the audible floor).
        sized = issue.cause == "masked" and bool(heard_over) and _heard_db(issue.message, layout[heard_over[0]].label) is not None
        if ev.level in _LOUDER and self._on("raise"):
            layout[idx] = ev.model_copy(update={"level": _LOUDER[ev.level]})
            reason = f" so it is not masked by {', '.join(layout[j].label for j in maskers)}" if maskers else ""
            changes.append(_Change("raise", ev.label, f"raised {ev.label} from {ev.level} to {_LOUDER[ev.level]}{reason}"))
            raised = True
        elif not sized and self._on("lower") and (
            lowerable := [j for j in maskers if j not in unheard and layout[j].level in _SOFTER]
        ):
            # Already loud: turn down what covers it, keeping the sounds together as planned.
            for j in lowerable:
                other = layout[j]
                layout[j] = other.model_copy(update={"level": _SOFTER[other.level]})
                lowered.add(j)  # one cut per round: its gain waits for the next
                changes.append(_Change(
                    "lower", other.label, f"lowered {other.label} from {other.level} to {_SOFTER[other.level]} so {ev.label} is heard"
                ))
        elif (
            self._on("substitute")
            and not cut_left
            and (not maskers or _tries(ev.label, plan.assumptions) < self.settings.related_tries_when_masked)
            and (tried := self._try_related(layout, idx, renderable, plan.assumptions))
        ):
            changes.append(_Change("substitute", layout[idx].label, tried))
        elif maskers and not cut_left and self._on("separate") and (moved := self._apart(layout, idx, maskers, plan)):
            changes.append(_Change("separate", ev.label, moved + " so it is not masked"))
            separated = True
        if issue.cause == "masked" and not separated:
            changes += self._unmask(layout, idx, issue, heard_over, lowered, raised)
        if not changes and self._on("retake"):
            # Nothing left to change in the plan: this take does not carry the sound, so try another.
            changes.append(self._retake(layout, idx, "it was not heard"))
        return changes

    def _unmask(self, layout: list[LayoutEvent], idx: int, issue: Issue, heard_over: list[int], lowered: set[int],
                raised: bool) -> list[_Change]:
        """Turn what was heard over ``idx`` down and ``idx`` up by what it lacks, in one round.

        What it lacks is ``masked_margin_db`` over its loudest masker in the plan's levels (every
        render is brought to one loudness before its level). The masker is cut first, but never
        below ``audible_floor_db`` as the critic heard it (a background must stay heard); the
        sound is raised by the rest. Where the plan already puts it that far ahead (the render is
        quieter than planned), or the critic measured no loudness, a fixed step each
        (``lower_db``, ``raise_db``)."""
        s = self.settings
        ev = layout[idx]
        names = ", ".join(layout[j].label for j in heard_over) or "what covers it"
        loudest = heard_over[0] if heard_over else None
        heard_db = _heard_db(issue.message, layout[loudest].label) if loudest is not None else None
        lacking = s.masked_margin_db - (_planned_db(ev) - _planned_db(layout[loudest])) if heard_db is not None else 0.0
        changes: list[_Change] = []
        if lacking <= 0.01:
            if not raised and self._on("raise"):
                changes += self._gain(layout, idx, s.raise_db, f"so it is heard over {names}")
            if self._on("lower"):
                for j in heard_over:
                    cut = [] if j in lowered else self._gain(layout, j, -s.lower_db, f"so {ev.label} is heard")
                    if cut:
                        changes += cut
                        lowered.add(j)
            return changes
        cut_by = 0.0
        if self._on("lower") and loudest not in lowered:
            room = heard_db - s.audible_floor_db
            before = _planned_db(layout[loudest])
            cut_by = max(0.0, min(lacking, room))
            for j in heard_over:
                # Every masker down as far as the loudest, so none is left above the sound.
                if j in lowered:
                    continue
                cut = self._cut(layout, j, cut_by, f"so {ev.label} is heard")
                if cut:
                    changes += cut
                    lowered.add(j)
            cut_by = before - _planned_db(layout[loudest])
        rest = lacking - cut_by
        if rest > 0.01 and self._on("raise"):
            changes += self._gain(layout, idx, rest, f"so it is heard over {names}")
        return changes

    def _cut(self, layout: list[LayoutEvent], idx: int, cut_db: float, why: str) -> list[_Change]:
        """Turn ``idx`` down ``cut_db`` in all: by its fine gain within ``max_cut_db``, and by a
        softer level where the gain alone cannot go that far."""
        s = self.settings
        ev = layout[idx]
        want = _planned_db(ev) - cut_db
        level = ev.level
        while want - _LEVEL_DB[level] < -s.max_cut_db - 1e-9 and level in _SOFTER:
            level = _SOFTER[level]
        gain = round(min(s.max_boost_db, max(-s.max_cut_db, want - _LEVEL_DB[level])), 2)
        done = _planned_db(ev) - (_LEVEL_DB[level] + gain)
        if done < 0.01:
            return []
        layout[idx] = ev.model_copy(update={"level": level, "gain_db": gain})
        how = f" and from {ev.level} to {level}" if level != ev.level else ""
        return [_Change("lower", ev.label, f"turned {ev.label} down {done:g} dB{how} ({gain:+g} dB gain) {why}")]

    def _apart(self, layout: list[LayoutEvent], idx: int, maskers: list[int], plan: RichCaption) -> str:
        """Move ``idx`` after the latest sound covering it, unless a stated time ties either down or
        that sound is the scene's background (cutting rain short to fit a bark after it is no fix)."""
        masker = max(maskers, key=lambda j: (layout[j].end_s, -j))
        if time_stated(plan, idx) or time_stated(plan, masker) or _background(plan, masker):
            return ""
        return self._separate(layout, idx, masker, plan.duration_s)

    def _gain(self, layout: list[LayoutEvent], idx: int, step_db: float, why: str) -> list[_Change]:
        """Turn ``idx`` up (or down) ``step_db`` on top of its level, within the caps."""
        s = self.settings
        ev = layout[idx]
        gain = round(min(s.max_boost_db, max(-s.max_cut_db, ev.gain_db + step_db)), 2)
        if abs(gain - ev.gain_db) < 0.01:
            return []
        layout[idx] = ev.model_copy(update={"gain_db": gain})
        kind: EditKind = "raise" if gain > ev.gain_db else "lower"
        way = "up" if kind == "raise" else "down"
        return [_Change(kind, ev.label, f"turned {ev.label} {way} {abs(gain - ev.gain_db):g} dB ({gain:+g} dB in all) {why}")]

    # ------------------------------------------------------------ the user's issues
    def _recount(self, layout: list[LayoutEvent], idx: int, issue: Issue) -> list[_Change]:
        """The user asked for another number of repeats: plan that many over the event's span."""
        count = _leading_int(issue.expected)
        ev = layout[idx]
        if count is None or count == ev.count or not 1 <= count <= 100 or not self._on("recount"):
            return []
        layout[idx] = ev.model_copy(update={"count": count})
        return [_Change("recount", ev.label, f"planned {ev.label} {count} time(s) instead of {ev.count}, as the user asked")]

    def _swap_as_told(self, layout: list[LayoutEvent], idx: int, issue: Issue) -> list[_Change]:
        """The user wants ``idx`` after the sound the issue names (planned later): they trade places."""
        first = next((j for j, o in enumerate(layout) if j != idx and issue.expected == f"{o.label} before {layout[idx].label}"), None)
        if first is None or layout[first].start_s <= layout[idx].start_s or not self._on("retime"):
            return []
        a, b = layout[first], layout[idx]
        layout[first] = a.model_copy(update={"start_s": b.start_s, "end_s": round(b.start_s + a.duration_s, 3)})
        start = max(layout[first].end_s + self.settings.gap_s, a.start_s) if a.start_s >= b.end_s else a.start_s
        layout[idx] = b.model_copy(update={"start_s": round(start, 3), "end_s": round(start + b.duration_s, 3)})
        return [_Change("retime", b.label, f"moved {b.label} after {a.label} ({layout[idx].start_s:.1f}-"
                                           f"{layout[idx].end_s:.1f} s), as the user asked")]

    def _as_told(self, layout: list[LayoutEvent], idx: int, issue: Issue) -> list[_Change]:
        """The user found a sound too loud or too quiet: turn it down or up one step."""
        s = self.settings
        if issue.expected == "softer" and self._on("lower"):
            return self._gain(layout, idx, -s.lower_db, "as the user found it too loud")
        if issue.expected == "louder" and self._on("raise"):
            return self._gain(layout, idx, s.raise_db, "as the user found it too quiet")
        return []

    def _add(self, layout: list[LayoutEvent], issue: Issue, duration: float) -> _Change | None:
        """A sound the user asked for that the plan lacks, over the span their words gave (else the clip)."""
        if not self._on("add") or any(ev.label == issue.label for ev in layout):
            return None
        span = re.fullmatch(r"\s*([\d.]+)\s*-\s*([\d.]+)\s*s?\s*", issue.expected)
        start, end = (float(span[1]), float(span[2])) if span else (0.0, duration)
        start, end = max(0.0, min(start, duration)), max(0.0, min(end, duration))
        if end - start < self.settings.min_event_s:
            start, end = max(0.0, min(start, duration - self.settings.min_event_s)), min(duration, start + self.settings.min_event_s)
        layout.append(LayoutEvent(label=issue.label, phrase=issue.label, start_s=round(start, 3), end_s=round(end, 3)))
        return _Change("add", issue.label, f"added {issue.label} at {start:.1f}-{end:.1f} s, as the user asked")

    def _retake(self, layout: list[LayoutEvent], idx: int, why: str) -> _Change:
        ev = layout[idx]
        layout[idx] = ev.model_copy(update={"take": ev.take + 1})
        return _Change("retake", ev.label, f"asked for another take of {ev.label} (take {ev.take + 1}), as {why}")

    def _strengthen(self, layout: list[LayoutEvent], idx: int) -> list[_Change]:
        """Heard too faintly to be sure: a few dB up, then a level up once the gain is at its cap."""
        if not self._on("raise"):
            return []
        changes = self._gain(layout, idx, self.settings.weak_raise_db, "as it was heard only faintly")
        ev = layout[idx]
        if not changes and ev.level in _LOUDER:
            layout[idx] = ev.model_copy(update={"level": _LOUDER[ev.level]})
            changes = [_Change("raise", ev.label, f"raised {ev.label} from {ev.level} to {_LOUDER[ev.level]}, as it was heard only faintly")]
        return changes

    def _try_related(
        self, layout: list[LayoutEvent], idx: int, renderable: Sequence[str] | None, history: Sequence[str]
    ) -> str:
        """Loud and still not heard: the generator's take on this label does not sound like it, so
        try a related label it renders that no earlier round tried."""
        if not renderable:
            return ""
        ev = layout[idx]
        tried = {r for r in renderable if any(f"tried {r} in place of " in n or f" in place of {r}, which" in n for n in history)}
        root = _first_label(ev.label, history)
        others = [o.label for j, o in enumerate(layout) if j != idx]
        # Related to the label first planned (no drift along a chain of relatives), and not
        # to another planned event (trying "Rain" for "Thunder" in a rain scene would cheat).
        pool = [
            r for r in renderable
            if r not in tried and not labels_in([ev.label, root], r)
            and self.matcher.matches(ev.label, r) and self.matcher.matches(root, r)
            and not any(self.matcher.matches(o, r) for o in others)
        ]
        new = self.matcher.nearest(ev.label, pool)
        if new is None:
            return ""
        layout[idx] = ev.model_copy(update={"label": new, "phrase": ev.phrase or ev.label})
        return f"tried {new} in place of {ev.label}, which was not heard"

    def _widen_repeats(self, layout: list[LayoutEvent], idx: int, issue: Issue, duration: float) -> list[_Change]:
        ev = layout[idx]
        heard = _leading_int(issue.observed)
        if heard is None or heard >= ev.count:
            return []  # heard more repeats than planned: the plan is already right
        s = self.settings
        needed = ev.count * s.min_repeat_slot_s
        if ev.duration_s >= needed:
            needed = ev.duration_s * 1.25  # already roomy: widen further
        old_end = ev.end_s
        follows = any(j != idx and o.start_s >= old_end - s.sequential_tolerance_s for j, o in enumerate(layout))
        # Leave room for what follows, or it would be pushed out of the clip.
        limit = duration - (s.gap_s + s.min_event_s if follows else 0.0)
        end = max(old_end, min(limit, ev.start_s + needed))
        start = ev.start_s
        if end - start < needed:
            # Grow backwards into silence, never over the events that end before this one.
            floor = max((o.end_s for j, o in enumerate(layout) if j != idx and o.end_s <= ev.start_s), default=0.0)
            start = max(floor, end - needed)
        if end - start <= ev.duration_s + 1e-6 or not self._on("retime"):
            # No room to spread them further: make each repeat louder instead, by level, then by gain.
            if not self._on("raise"):
                return []
            if ev.level not in _LOUDER:
                return self._gain(layout, idx, self.settings.raise_db, f"so each of its {ev.count} repeats is heard")
            layout[idx] = ev.model_copy(update={"level": _LOUDER[ev.level]})
            return [_Change(
                "raise", ev.label, f"raised {ev.label} from {ev.level} to {_LOUDER[ev.level]} so each of its {ev.count} repeats is heard"
            )]
        layout[idx] = ev.model_copy(update={"start_s": round(start, 3), "end_s": round(end, 3)})
        later = [j for j, o in enumerate(layout) if j != idx and o.start_s >= old_end - s.sequential_tolerance_s and o.start_s < end + s.gap_s]
        if later:
            first_later = min(layout[j].start_s for j in later)
            _shift_from(layout, first_later, end + s.gap_s - first_later, skip={idx})
            _fit_into(layout, end + s.gap_s, duration, s.min_event_s)
        ev = layout[idx]
        return [_Change("retime", ev.label, f"spread the {ev.count} {ev.label} repeats over {ev.start_s:.1f}-{ev.end_s:.1f} s so each is heard")]

    def _lengthen(self, layout: list[LayoutEvent], idx: int, duration: float) -> list[_Change]:
        """Stretch an event shorter than the listener can detect to ``min_event_s``."""
        ev = layout[idx]
        target = min(self.settings.min_event_s * ev.count, duration)
        if ev.duration_s >= target or not self._on("retime"):
            return []
        end = min(duration, ev.start_s + target)
        start = max(0.0, end - target)
        layout[idx] = ev.model_copy(update={"start_s": round(start, 3), "end_s": round(end, 3)})
        return [_Change("retime", ev.label, f"lengthened {ev.label} to {start:.1f}-{end:.1f} s so it can be detected")]


# ---------------------------------------------------------------------- helpers
def time_stated(plan: RichCaption, idx: int) -> bool:
    """Whether the user said when event ``idx`` happens, as far as the plan tells.

    A layout event carries no such mark, so this reads the rules planner's statements: a prompt
    with no time in it "gives no duration" (or asks for one), and a sound it spread under the rest
    "continues in the background"; neither time was the user's. A plan it wrote for a prompt that
    did give times ("...; N seconds in all.", with neither statement) does not say which event they
    belong to, so every event there keeps its place. A plan from elsewhere states nothing of the
    kind: its times are the planner's own.
    """
    if _background(plan, idx):
        return False
    untimed = any(a.startswith("The prompt gives no duration") for a in plan.assumptions)
    if untimed or any(q.key == "duration" for q in plan.questions):
        return False
    return plan.description.endswith("seconds in all.")


def _background(plan: RichCaption, idx: int) -> bool:
    """Whether the planner spread event ``idx`` under the whole scene."""
    phrase = plan.layout[idx].phrase
    return bool(phrase) and any(a.startswith(f'Assumed "{phrase}" continues in the background') for a in plan.assumptions)


# The composer's linear gain per level, in dB (every render is first brought to one loudness).
_LEVEL_DB = {"loud": 0.0, "normal": -6.0, "distant": -9.1, "soft": -14.0}


def _planned_db(ev: LayoutEvent) -> float:
    return _LEVEL_DB[ev.level] + ev.gain_db


def _heard_db(message: str, label: str) -> float | None:
    """The loudness the critic heard ``label`` at over a masked sound ("heard over it: Rain (-14 dB)")."""
    found = re.search(re.escape(label) + r" \((-?\d+(?:\.\d+)?) dB\)", message)
    return float(found.group(1)) if found else None


def _overlap(a: LayoutEvent, b: LayoutEvent) -> float:
    return max(0.0, min(a.end_s, b.end_s) - max(a.start_s, b.start_s))


def _shift_from(layout: list[LayoutEvent], t0: float, shift: float, skip: set[int]) -> None:
    """Move every event starting at or after ``t0`` by ``shift`` seconds."""
    for j, ev in enumerate(layout):
        if j in skip or ev.start_s < t0 - 1e-9:
            continue
        layout[j] = ev.model_copy(update={"start_s": round(ev.start_s + shift, 3), "end_s": round(ev.end_s + shift, 3)})


def _fit_into(layout: list[LayoutEvent], t0: float, duration: float, min_len: float) -> None:
    """Squeeze events starting at or after ``t0`` linearly into ``[t0, duration]``."""
    tail = [j for j, ev in enumerate(layout) if ev.start_s >= t0 - 1e-9]
    end = max((layout[j].end_s for j in tail), default=duration)
    if end <= duration + 1e-9:
        return
    # With less than min_len left, start the squeezed span earlier (over the tail of what
    # came before) rather than leave events too short to hear.
    lo = max(0.0, min(t0, duration - min_len))
    shortest = min(min_len, duration - lo)
    src_lo = min(layout[j].start_s for j in tail)
    scale = (duration - lo) / (end - src_lo) if end > src_lo else 0.0
    for j in tail:
        ev = layout[j]
        start = lo + (ev.start_s - src_lo) * scale
        stop = lo + (ev.end_s - src_lo) * scale
        if stop - start < shortest:
            start = max(lo, min(start, duration - shortest))
            stop = start + shortest
        layout[j] = ev.model_copy(update={"start_s": round(start, 3), "end_s": round(min(duration, max(stop, start + 1e-3)), 3)})


def _chain(label: str, history: Sequence[str]) -> list[str]:
    """The labels an event had, newest first, as earlier rounds tried relatives in its place."""
    chain = [label]
    while True:
        prefix = f"tried {chain[-1]} in place of "
        found = next((n.split(prefix, 1)[1] for n in history if prefix in n), None)
        if found is None or ", which was not heard" not in found:
            return chain
        previous = found.split(", which was not heard", 1)[0]
        if previous in chain:
            return chain
        chain.append(previous)


def _first_label(label: str, history: Sequence[str]) -> str:
    return _chain(label, history)[-1]


def _tries(label: str, history: Sequence[str]) -> int:
    return len(_chain(label, history)) - 1


def _keep_inside(layout: list[LayoutEvent], before: list[LayoutEvent], duration: float, min_len: float) -> None:
    """Pull back into the clip any event an edit pushed past its end (events the plan put there stay)."""
    for j, (ev, old) in enumerate(zip(layout, before)):
        if ev.end_s <= duration + 1e-9 or old.end_s > duration + 1e-9:
            continue
        length = min(max(old.duration_s, 1e-3), min_len, duration)
        end = duration
        start = max(0.0, min(ev.start_s, end - length))
        layout[j] = ev.model_copy(update={"start_s": round(start, 3), "end_s": round(end, 3)})


def _leading_int(text: str) -> int | None:
    digits = ""
    for ch in text.strip():
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else None
