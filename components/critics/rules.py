"""Critic ``rules``: compare the plan with what the listener heard.

Each planned event is matched to the heard events (label similarity first, then
time overlap). From the matches come typed issues (missing, extra, order,
timing, count, loudness, spatial, quality) and a score in [0, 1].

Score: a weighted mean of aspect scores, each 1.0 when that aspect is right
(default weights in parentheses, settings ``weight_*``):

- coverage (0.40): share of planned events heard;
- order (0.15): share of planned one-after-the-other pairs heard in order and apart;
- timing (0.10), count (0.10), level (0.05), position (0.05): per planned event,
  1 - the severity of its issue, averaged (an unheard event counts as neutral
  here, coverage already charges for it);
- extras (0.05): 1 - ``extra_penalty`` per unplanned specific sound;
- quality (0.10): 1 - the severity of a too-quiet or clipped clip;
- words (0.10, only when checked): per planned speech event with words (quoted,
  or after "says"), the share of its content words heard; checked only when the
  listener transcribes speech (a speech recogniser listened, even if it heard no words).

A counted event (``count`` > 1) is judged per occurrence: the listener's pieces of
its label family (Dog, Bark, Bow-wow) are merged into distinct bursts (pieces that
touch, or a much quieter piece ringing on after a burst), the count is the number
of bursts, and each burst's onset is compared with the planned occurrence it is
nearest. Faint, brief unplanned labels heard only during a planned burst or at a
counted sound's planned onsets name that burst ("Plop" on a bark) and are not extras.

Where it can tell, an issue says why (``cause``), for the reviser to pick its fix: an unheard
event is "masked" when planned sounds were heard over it (``maskers``, loudest first, their level
in the message), or a "look-alike" when a related class claimed by no planned sound was heard
over most of its time in its place (``heard_as``: "Clang" for a bell; then it is no extra too); a
heard event whose pieces all fall below ``weak_confidence`` is a "weak" loudness issue.

Each severe issue (severity >= ``severe_severity``: a missing event, a wrong
order, an event heard only outside its planned span) multiplies the score by
``severe_penalty`` (0.8), so a clip with one scores below the accept threshold. The verdict is "accept" when no issue is severe, none
is of a kind in ``revise_on`` (a count shortfall), and the score reaches
``accept_threshold`` (0.85).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field
from ualm_agent.components.critics import words as spoken
from ualm_agent.components.critics.matching import (
    LabelMatcher,
    families_of,
    is_generic,
    labels_in,
    shared_matcher,
)

from ualm_agent.registry import BackendConfig, register
from ualm_agent.schema import Critique, Issue, LayoutEvent, Observation, RichCaption

_LEVEL_RANK = {"soft": 0, "distant": 0, "normal": 1, "loud": 2}
_SIDE = {"left": -1, "center": 0, "right": 1}


class RulesCriticConfig(BackendConfig):
    kind: Literal["rules"] = "rules"
    # Label matching.
    match_threshold: float = Field(default=0.55, ge=0.0, le=1.0, description="MiniLM similarity that counts as the same sound")
    use_minilm: bool = True
    # Tolerances. YAMNet scores 0.96 s windows every 0.48 s, so heard offsets run late by up to a window.
    timing_tolerance_s: float = Field(default=0.5, ge=0.0)
    frame_resolution_s: float = Field(default=0.48, ge=0.0)
    timing_scale_s: float = Field(default=2.0, gt=0.0, description="error beyond tolerance that scores 0")
    order_overlap_fraction: float = Field(default=0.6, gt=0.0, le=1.0, description="overlap of the shorter event that counts as 'together'")
    extra_min_confidence: float = Field(default=0.3, ge=0.0, le=1.0)
    co_label_max_confidence: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="an unplanned label below this confidence, heard only during a planned sound, names that sound",
    )
    co_label_max_s: float = Field(
        default=1.0, gt=0.0, description="only bursts this short (and co-labels this brief) are named that way",
    )
    burst_gap_s: float = Field(default=0.3, ge=0.0, description="heard pieces closer than this are one occurrence")
    tail_drop_db: float = Field(
        default=12.0, ge=0.0, description="a later piece this much quieter than the burst before it is that burst's decay"
    )
    tail_s: float = Field(default=3.0, ge=0.0, description="how long after its onset a burst may still ring")
    extra_penalty: float = Field(default=0.25, ge=0.0, le=1.0, description="score lost per extra event in the extras aspect")
    # What a reviser needs to pick a fix.
    weak_confidence: float = Field(
        default=0.2, ge=0.0, le=1.0,
        description="a planned sound heard only below this confidence is reported as weak (0: never)",
    )
    look_alike_overlap: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="share of the shorter span a related class must cover at an unheard sound's time to be its look-alike",
    )
    look_alike_cosine: float = Field(
        default=0.45, ge=0.0, le=1.0, description="MiniLM similarity that makes labels the family table does not know related",
    )
    quiet_lufs: float = -40.0
    clipping_lufs: float = -5.0
    # Score: weights of the aspects (normalised by their sum).
    weight_coverage: float = Field(default=0.40, ge=0.0)
    weight_order: float = Field(default=0.15, ge=0.0)
    weight_timing: float = Field(default=0.10, ge=0.0)
    weight_count: float = Field(default=0.10, ge=0.0)
    weight_level: float = Field(default=0.05, ge=0.0)
    weight_position: float = Field(default=0.05, ge=0.0)
    weight_extras: float = Field(default=0.05, ge=0.0)
    weight_quality: float = Field(default=0.10, ge=0.0)
    weight_words: float = Field(default=0.10, ge=0.0, description="counts only when a speech recogniser listened")
    speech_word_share: float = Field(
        default=0.6, ge=0.0, le=1.0, description="share of a planned utterance's content words that must be heard"
    )
    # Verdict.
    accept_threshold: float = Field(default=0.85, ge=0.0, le=1.0)
    severe_severity: float = Field(default=0.75, ge=0.0, le=1.0, description="an issue this severe forces 'revise'")
    severe_penalty: float = Field(default=0.8, ge=0.0, le=1.0, description="score factor per severe issue")
    # A user who asks for three barks and hears two wants another take, even though
    # the clip is otherwise right; these kinds force "revise" without a score penalty.
    revise_on: tuple[str, ...] = Field(default=("count",), description="issue kinds that always force 'revise'")


@dataclass
class _Heard:
    index: int
    event: LayoutEvent
    confidence: float


@dataclass
class _Match:
    primary: _Heard
    similarity: float
    # Every heard event close enough to the planned label (siblings such as "Trumpet").
    related: list[_Heard] = field(default_factory=list)
    # The primary event's span widened by the siblings sounding with it: YAMNet splits one
    # sound among related classes, each covering part of it.
    start_s: float = 0.0
    end_s: float = 0.0
    along: list[LayoutEvent] = field(default_factory=list)
    # Distinct occurrences of the sound (siblings merged), from the listener's own pieces;
    # None when the observation is coarser than the caption (then the caption's counts speak).
    bursts: list[tuple[float, float]] | None = None


@register("rules", roles=("critic",), config=RulesCriticConfig)
class RulesCritic:
    """Rule-based critic: missing/extra events, order, timing, counts, level, position, quality."""

    def __init__(self, *, matcher: LabelMatcher | None = None, **settings) -> None:
        self.settings = RulesCriticConfig(**settings)
        s = self.settings
        self.matcher = matcher or shared_matcher(s.match_threshold, s.use_minilm)

    # ------------------------------------------------------------------ public
    def critique(
        self,
        plan: RichCaption,
        heard: RichCaption,
        observation: Observation,
        *,
        unrendered: Sequence[str] = (),
    ) -> Critique:
        s = self.settings
        heard_events = _heard_events(heard, observation)
        heard_events += self._uncaptioned(plan.layout, heard_events, observation)
        matches = self._match(plan.layout, heard_events)
        for i, m in matches.items():
            m.bursts = self._bursts(plan.layout[i], m, observation)
        issues: list[Issue] = []
        aspects = {"timing": [], "count": [], "level": [], "position": []}

        contrast = len({_LEVEL_RANK[e.level] for e in plan.layout}) > 1
        # Heard events that are an unheard planned sound under another name: not extras as well.
        look_alikes: set[int] = set()
        for i, ev in enumerate(plan.layout):
            m = matches.get(i)
            if m is None:
                issue = self._missing(i, ev, plan.layout, unrendered, matches, heard_events, observation, look_alikes)
                issues.append(issue)
                continue
            for aspect, check in (
                ("timing", self._timing),
                ("count", self._count),
                ("level", lambda j, e, mm: self._level(j, e, mm, contrast) or self._weak(j, e, mm, observation)),
                ("position", self._position),
            ):
                issue = check(i, ev, m)
                aspects[aspect].append(1.0 - (issue.severity if issue else 0.0))
                if issue:
                    issues.append(issue)

        order_issues, order_pairs = self._order(plan.layout, matches)
        issues.extend(order_issues)
        extras = self._extras(plan.layout, heard_events, matches, observation, look_alikes)
        issues.extend(extras)
        quality = self._quality(plan, observation)
        issues.extend(quality)
        said = self._words(plan.layout, matches, observation)
        issues.extend(issue for _, issue in said if issue is not None)

        n = len(plan.layout)
        # Unmatched events are neutral in the per-event aspects: coverage already counts them.
        def mean(values: list[float]) -> float:
            return (sum(values) + (n - len(values))) / n if n else 1.0

        parts = {
            "coverage": (len(matches) / n) if n else 1.0,
            "order": 1.0 - (len(order_issues) / order_pairs if order_pairs else 0.0),
            "timing": mean(aspects["timing"]),
            "count": mean(aspects["count"]),
            "level": mean(aspects["level"]),
            "position": mean(aspects["position"]),
            "extras": max(0.0, 1.0 - s.extra_penalty * len(extras)),
            "quality": 1.0 - max((q.severity for q in quality), default=0.0),
        }
        if said:
            parts["words"] = sum(share for share, _ in said) / len(said)
        weights = {k: getattr(s, f"weight_{k}") for k in parts}
        total = sum(weights.values()) or 1.0
        score = sum(weights[k] * parts[k] for k in parts) / total
        # Each severe issue (a missing event, a wrong order) scales the score down, so a clip
        # with one stays below the accept threshold even when everything else is right.
        n_severe = sum(issue.severity >= s.severe_severity for issue in issues)
        score = round(min(1.0, max(0.0, score * s.severe_penalty**n_severe)), 4)
        blocking = n_severe > 0 or any(issue.kind in s.revise_on for issue in issues)
        verdict = "accept" if score >= s.accept_threshold and not blocking else "revise"
        issues.sort(key=_issue_order)
        return Critique(score=score, issues=issues, verdict=verdict, instructions=_instructions(issues))

    # ---------------------------------------------------------------- matching
    def _match(self, layout: list[LayoutEvent], heard: list[_Heard]) -> dict[int, _Match]:
        """Plan index -> its heard event. Greedy on (label similarity, time overlap, confidence)."""
        sims = {(i, h.index): self.matcher.similarity(ev.label, h.event.label) for i, ev in enumerate(layout) for h in heard}
        candidates = []
        for i, ev in enumerate(layout):
            for h in heard:
                sim = sims[(i, h.index)]
                if sim >= self.matcher.threshold:
                    overlap = _iou((ev.start_s, ev.end_s), (h.event.start_s, h.event.end_s))
                    candidates.append((round(sim, 3), overlap, h.confidence, -i, -h.index, i, h))
        candidates.sort(key=lambda c: c[:5], reverse=True)
        matches: dict[int, _Match] = {}
        used: set[int] = set()
        for sim, _, _, _, _, i, h in candidates:
            if i in matches or h.index in used:
                continue
            matches[i] = _Match(primary=h, similarity=sim)
            used.add(h.index)
        # The heard caption merges same-label sounds, so two planned events may share one heard
        # event; allow it only where the two overlap in time, so a lone heard event cannot hide a miss.
        for sim, overlap, _, _, _, i, h in candidates:
            if i not in matches and overlap > 0.0:
                matches[i] = _Match(primary=h, similarity=sim)
        primaries = {m.primary.index for m in matches.values()}
        for i, m in matches.items():
            m.related = [h for h in heard if sims[(i, h.index)] >= self.matcher.threshold]
            p, ev = m.primary.event, layout[i]
            # Fragments of the same sound: siblings sounding with the primary, and pieces of a
            # long planned sound that the listener split up (both not claimed by another event).
            m.along = [
                h.event for h in m.related
                if h.index == m.primary.index
                or (h.index not in primaries and (
                    _overlap((p.start_s, p.end_s), (h.event.start_s, h.event.end_s)) > 0
                    or _overlap((ev.start_s, ev.end_s), (h.event.start_s, h.event.end_s)) > 0))
            ]
            m.start_s = min(e.start_s for e in m.along)
            m.end_s = max(e.end_s for e in m.along)
        return matches

    def _uncaptioned(self, layout: list[LayoutEvent], heard: list[_Heard], observation: Observation) -> list[_Heard]:
        """Pieces of planned sounds that the listener heard but the caption left out.

        The captioner keeps a couple of labels per stretch of time, so a short bark under rain
        named "Rain" and "Water" is dropped from the caption; the evaluator grades every piece,
        so a sound the listener named (confidently enough) is heard, not missing to be fixed."""
        s = self.settings
        shown = [(h.event.label, h.event.start_s, h.event.end_s) for h in heard]
        pieces: dict[str, list[list[float]]] = {}
        for e in sorted(observation.events, key=lambda e: (e.label, e.start_s)):
            if e.confidence < max(s.weak_confidence, 1e-9) or is_generic(e.label):
                continue
            if any(label == e.label and _overlap((a, b), (e.start_s, e.end_s)) > 0 for label, a, b in shown):
                continue
            if not any(self.matcher.matches(ev.label, e.label) for ev in layout):
                continue
            runs = pieces.setdefault(e.label, [])
            if runs and e.start_s <= runs[-1][1] + s.burst_gap_s:
                runs[-1][1] = max(runs[-1][1], e.end_s)
                runs[-1][2] = max(runs[-1][2], e.confidence)
            else:
                runs.append([e.start_s, max(e.end_s, e.start_s + 1e-3), e.confidence])
        out: list[_Heard] = []
        for label, runs in pieces.items():
            for a, b, confidence in runs:
                out.append(_Heard(len(heard) + len(out), LayoutEvent(label=label, start_s=a, end_s=b), confidence))
        return out

    # ------------------------------------------------------------------ issues
    def _missing(
        self,
        i: int,
        ev: LayoutEvent,
        layout: list[LayoutEvent],
        unrendered: Sequence[str],
        matches: dict[int, _Match],
        heard: list[_Heard],
        observation: Observation,
        look_alikes: set[int],
    ) -> Issue:
        """An unheard planned sound, with what the reviser needs: the planned sounds heard over it
        (loudest first, with their level) and a related class heard in its place."""
        span = _span(ev)
        if _is_unrendered(ev, unrendered):
            return _not_rendered(i, ev)
        planned = (ev.start_s, ev.end_s)
        overlapping = [o.label for j, o in enumerate(layout) if j != i and _overlap(planned, (o.start_s, o.end_s)) > 0]
        # Planned sounds heard while this one should have sounded: what drowned it.
        loud = {
            j: self._loudness_over(layout[j].label, planned, observation)
            for j, m in matches.items() if j != i and _overlap(planned, (m.start_s, m.end_s)) > 0
        }
        maskers = sorted(loud, key=lambda j: (-(loud[j] if loud[j] is not None else -math.inf), j))
        like = self._look_alike(ev, matches, heard)
        observed = f"not heard (overlaps {', '.join(overlapping)})" if overlapping else "not heard"
        message = f"{ev.label} was planned at {span} but not heard" + (f"; it overlaps {', '.join(overlapping)}" if overlapping else "")
        cause = ""
        if like is not None:
            look_alikes.add(like.index)
            cause, observed = "look-alike", f"heard as {like.event.label}"
            message += f"; {like.event.label} was heard in its place"
        elif maskers:
            cause = "masked"
            over = ", ".join(layout[j].label + (f" ({loud[j]:.0f} dB)" if loud[j] is not None else "") for j in maskers)
            message += f"; heard over it: {over}"
        return Issue(
            kind="missing", label=ev.label, expected=f"{ev.label} at {span}", observed=observed, message=message + ".",
            event_index=i, severity=1.0, cause=cause, maskers=maskers, heard_as=like.event.label if like else "",
        )

    def _loudness_over(self, label: str, span: tuple[float, float], observation: Observation) -> float | None:
        """The loudest the listener heard ``label``'s family during ``span`` (dB), if it measured it."""
        levels = [
            e.loudness_db for e in observation.events
            if e.loudness_db is not None and _overlap(span, (e.start_s, e.end_s)) > 0 and self.matcher.matches(label, e.label)
        ]
        return max(levels, default=None)

    def _look_alike(self, ev: LayoutEvent, matches: dict[int, _Match], heard: list[_Heard]) -> _Heard | None:
        """A heard class related to the unheard ``ev`` covering its planned time, claimed by no
        other planned sound: the render was heard, as something near it (a bell as "Clang")."""
        s = self.settings
        claimed = {h.index for m in matches.values() for h in [m.primary, *m.related]}
        planned = (ev.start_s, ev.end_s)
        found = []
        for h in heard:
            span = (h.event.start_s, h.event.end_s)
            shorter = min(ev.duration_s, span[1] - span[0])
            covered = _overlap(planned, span) / shorter if shorter > 0 else 0.0
            if h.index in claimed or covered < s.look_alike_overlap:
                continue
            if self.matcher.looks_like(ev.label, h.event.label, s.look_alike_cosine):
                found.append((covered, h.confidence, -h.index, h))
        return max(found, key=lambda f: f[:3])[3] if found else None

    def _weak(self, i: int, ev: LayoutEvent, m: _Match, observation: Observation) -> Issue | None:
        """Heard, but only at a confidence too low to be sure it is there: a level the reviser can raise."""
        s = self.settings
        pieces = [
            e.confidence for e in observation.events
            if _overlap((m.start_s, m.end_s), (e.start_s, e.end_s)) > 0 and self.matcher.matches(ev.label, e.label)
        ]
        confidence = max(pieces, default=m.primary.confidence)
        if confidence >= s.weak_confidence:
            return None
        return Issue(
            kind="loudness", label=ev.label, expected="heard clearly", observed=f"faint (confidence {confidence:.2f})",
            message=f"{ev.label} was heard only faintly (confidence {confidence:.2f}), too weakly to be sure.",
            event_index=i, severity=0.3, cause="weak",
        )

    def _bursts(self, ev: LayoutEvent, m: _Match, observation: Observation) -> list[tuple[float, float]] | None:
        """The planned sound's distinct heard occurrences: the listener's pieces of every label of
        its family (Dog, Bark, Bow-wow name one burst) starting within its planned occurrences,
        merged where they overlap or nearly touch, or where a much quieter piece follows a burst
        (a bell's ringing, split up by the listener, is still one strike)."""
        s = self.settings
        if ev.count == 1:
            return None
        slots = ev.occurrences()
        lo, hi = slots[0][0] - s.timing_tolerance_s, slots[-1][1] + s.timing_tolerance_s
        family = sorted(
            (e.start_s, e.end_s, e.loudness_db) for e in observation.events
            if lo <= e.start_s <= hi and self.matcher.matches(ev.label, e.label)
        )
        # A caption that counts more pieces than the observation holds was not made from these
        # pieces (or they were summarised): trust its counts instead.
        if not family or len(family) < sum(e.count for e in m.along):
            return None
        bursts: list[list] = []  # [start, end, loudest dB or None]
        for a, b, db in family:
            last = bursts[-1] if bursts else None
            touching = last is not None and a <= last[1] + s.burst_gap_s
            ringing = (
                last is not None and db is not None and last[2] is not None
                and db <= last[2] - s.tail_drop_db and a - last[0] <= s.tail_s
            )
            if touching or ringing:
                last[1] = max(last[1], b)
                if db is not None and touching:
                    last[2] = db if last[2] is None else max(last[2], db)
            else:
                bursts.append([a, b, db])
        return [(a, b) for a, b, _ in bursts]

    def _timing(self, i: int, ev: LayoutEvent, m: _Match) -> Issue | None:
        if m.bursts:
            return self._occurrence_timing(i, ev, m.bursts)
        s = self.settings
        planned_end = ev.occurrences()[-1][1]
        onset_err = m.start_s - ev.start_s
        offset_err = m.end_s - planned_end
        excess = max(
            abs(onset_err) - s.timing_tolerance_s,
            abs(offset_err) - (s.timing_tolerance_s + s.frame_resolution_s),
            0.0,
        )
        if excess <= 0.0:
            return None
        if abs(onset_err) >= abs(offset_err) - s.frame_resolution_s:
            what = f"started {abs(onset_err):.1f} s {'late' if onset_err > 0 else 'early'}"
        else:
            what = f"ended {abs(offset_err):.1f} s {'late' if offset_err > 0 else 'early'}"
        # Heard only outside its planned span: as wrong as not heard there at all.
        elsewhere = _overlap((ev.start_s, ev.end_s), (m.start_s, m.end_s)) <= 0.0
        severity = 0.8 if elsewhere else min(0.7, 0.2 + 0.5 * excess / s.timing_scale_s)
        return Issue(
            kind="timing", label=ev.label, expected=_span(ev), observed=_fmt(m.start_s, m.end_s),
            message=f"{ev.label} {what}: planned {_span(ev)}, heard {_fmt(m.start_s, m.end_s)}.",
            event_index=i, severity=round(severity, 3),
        )

    def _occurrence_timing(self, i: int, ev: LayoutEvent, bursts: list[tuple[float, float]]) -> Issue | None:
        """A counted sound is on time when each heard occurrence starts near its planned one.

        Each planned occurrence is paired with the heard onset nearest its start among those
        inside its slot; the worst pairing decides. How many were heard is the count's concern.
        """
        s = self.settings
        onsets = [a for a, _ in bursts]
        slots = ev.occurrences()
        errors: list[tuple[float, int, float]] = []
        starts = [a for a, _ in slots]
        for k, (a, b) in enumerate(slots, start=1):
            # Each onset belongs to the planned occurrence whose start it is nearest.
            inside = [
                o for o in onsets
                if a - s.timing_tolerance_s <= o <= b + s.timing_tolerance_s
                and min(range(len(starts)), key=lambda j: abs(o - starts[j])) == k - 1
            ]
            if inside:
                onset = min(inside, key=lambda o: abs(o - a))
                errors.append((onset - a, k, onset))
        heard = ", ".join(f"{o:.1f}" for o in onsets)
        observed = f"onsets {heard} s"
        if not errors:
            return Issue(
                kind="timing", label=ev.label, expected=_span(ev), observed=observed,
                message=f"{ev.label} was heard at {heard} s, outside its planned occurrences in {_span(ev)}.",
                event_index=i, severity=0.8,
            )
        err, k, onset = max(errors, key=lambda e: abs(e[0]))
        excess = abs(err) - s.timing_tolerance_s
        if excess <= 0.0:
            return None
        planned = slots[k - 1][0]
        return Issue(
            kind="timing", label=ev.label, expected=_span(ev), observed=observed,
            message=(
                f"{ev.label} occurrence {k} of {ev.count} started {abs(err):.1f} s {'late' if err > 0 else 'early'}: "
                f"planned at {planned:.1f} s, heard at {onset:.1f} s."
            ),
            event_index=i, severity=round(min(0.7, 0.2 + 0.5 * excess / s.timing_scale_s), 3),
        )

    def _count(self, i: int, ev: LayoutEvent, m: _Match) -> Issue | None:
        if ev.count == 1:
            return None  # one continuous sound: the listener splits drums or notes into many pieces
        if m.bursts is not None:
            heard = len(m.bursts)
        else:
            # Pieces of one label add up; siblings ("Dog", "Bark") are split differently by the
            # listener, so the label whose count comes closest speaks for the sound.
            per_label: dict[str, int] = {}
            for e in m.along:
                per_label[e.label] = per_label.get(e.label, 0) + e.count
            heard = min(per_label.values(), key=lambda c: (abs(c - ev.count), c))
        if heard == ev.count:
            return None
        return Issue(
            kind="count", label=ev.label, expected=f"{ev.count}x", observed=f"{heard}x",
            message=f"{ev.label} was planned {_times(ev.count)} but heard {_times(heard)}.",
            event_index=i, severity=round(abs(heard - ev.count) / max(heard, ev.count), 3),
        )

    def _level(self, i: int, ev: LayoutEvent, m: _Match, contrast: bool) -> Issue | None:
        heard = m.primary.event.level
        diff = _LEVEL_RANK[heard] - _LEVEL_RANK[ev.level]
        # The heard level is relative to the rest of the clip, so a one-step difference means
        # something only when the plan itself contrasts levels.
        if diff == 0 or (abs(diff) == 1 and not contrast):
            return None
        return Issue(
            kind="loudness", label=ev.label, expected=ev.level, observed=heard,
            message=f"{ev.label} was planned {ev.level} but heard {heard}.",
            event_index=i, severity=0.5 if abs(diff) >= 2 else 0.3,
        )

    def _position(self, i: int, ev: LayoutEvent, m: _Match) -> Issue | None:
        heard = m.primary.event.position
        if heard == ev.position:
            return None
        far = abs(_SIDE[heard] - _SIDE[ev.position]) >= 2
        return Issue(
            kind="spatial", label=ev.label, expected=ev.position, observed=heard,
            message=f"{ev.label} was planned {_where(ev.position)} but heard {_where(heard)}.",
            event_index=i, severity=0.6 if far else 0.35,
        )

    def _order(self, layout: list[LayoutEvent], matches: dict[int, _Match]) -> tuple[list[Issue], int]:
        """Pairs planned one after the other must be heard in that order and not on top of each other."""
        s = self.settings
        issues: list[Issue] = []
        pairs = 0
        for a, ea in enumerate(layout):
            for b, eb in enumerate(layout):
                if a == b or not ea.end_s <= eb.start_s + s.timing_tolerance_s or ea.start_s >= eb.start_s:
                    continue
                if a not in matches or b not in matches:
                    continue
                ma, mb = matches[a], matches[b]
                if ma.primary.index == mb.primary.index:
                    continue  # one merged heard event: nothing to order
                pairs += 1
                shorter = min(ma.end_s - ma.start_s, mb.end_s - mb.start_s)
                together = shorter > 0 and _overlap((ma.start_s, ma.end_s), (mb.start_s, mb.end_s)) >= s.order_overlap_fraction * shorter
                swapped = mb.start_s < ma.start_s - s.timing_tolerance_s
                if not (swapped or together):
                    continue
                if swapped:
                    observed = f"{eb.label} before {ea.label}"
                    message = f"{eb.label} was heard before {ea.label}; {ea.label} should come first."
                else:
                    observed = "together"
                    message = f"{ea.label} and {eb.label} played together; {ea.label} should come first."
                issues.append(
                    Issue(
                        kind="order", label=eb.label, expected=f"{ea.label} before {eb.label}", observed=observed,
                        message=message, event_index=b, severity=0.9,
                    )
                )
        return issues, pairs

    def _extras(
        self,
        layout: list[LayoutEvent],
        heard: list[_Heard],
        matches: dict[int, _Match],
        observation: Observation,
        look_alikes: set[int] | frozenset[int] = frozenset(),
    ) -> list[Issue]:
        s = self.settings
        explained = {h.index for m in matches.values() for h in [m.primary, *m.related]} | set(look_alikes)
        sounding = [
            (a, b) for a, b in _planned_sound_spans(matches, observation, self.matcher, layout) if b - a <= s.co_label_max_s
        ]
        # A counted sound is short bursts at planned onsets: what is heard right there, briefly
        # and faintly, is the burst under another name even when its own label was missed.
        reach = s.timing_tolerance_s + s.frame_resolution_s
        sounding += [(a - s.timing_tolerance_s, a + reach) for ev in layout if ev.count > 1 for a, _ in ev.occurrences()]
        issues = []
        for h in heard:
            if h.index in explained or h.confidence < s.extra_min_confidence or is_generic(h.event.label):
                continue
            # A heard sound close to any planned label is a sibling, not an intruder.
            if any(self.matcher.matches(ev.label, h.event.label) for ev in layout):
                continue
            # A faint, brief other name heard only while a short planned sound plays ("Plop" on a
            # bark) is how the listener describes that burst, not a second sound. Over a long
            # planned sound (rain) it may well be a second sound, so it stays an extra.
            brief = h.event.end_s - h.event.start_s <= s.co_label_max_s
            if brief and h.confidence < s.co_label_max_confidence and _inside(h.event, sounding, s.burst_gap_s):
                continue
            issues.append(
                Issue(
                    kind="extra", label=h.event.label, expected="not planned", observed=f"{h.event.label} at {_span(h.event)}",
                    message=f"{h.event.label} was heard at {_span(h.event)} but is not in the plan.",
                    severity=round(min(0.5, 0.2 + 0.3 * h.confidence), 3),
                )
            )
        return issues

    def _words(
        self, layout: list[LayoutEvent], matches: dict[int, _Match], observation: Observation
    ) -> list[tuple[float, Issue | None]]:
        """Per planned speech event with words: the share of them heard, and an issue when too few were.

        Only a listener that transcribes can tell; without one, nothing is said about words.
        """
        s = self.settings
        transcript = [seg for seg in observation.speech if seg.text.strip()]
        if not transcript and not observation.transcribed:
            return []
        out: list[tuple[float, Issue | None]] = []
        for i, ev in enumerate(layout):
            words = spoken.words_to_say(ev.label, ev.phrase)
            if not words:
                continue
            m = matches.get(i)
            lo = min(ev.start_s, m.start_s if m else ev.start_s) - s.timing_tolerance_s
            hi = max(ev.end_s, m.end_s if m else ev.end_s) + s.timing_tolerance_s
            heard = " ".join(seg.text.strip() for seg in transcript if seg.end_s > lo and seg.start_s < hi)
            share = spoken.said_share(words, heard)
            issue = None
            if share < s.speech_word_share:
                observed = f'"{heard}"' if heard else "no words"
                none_heard = share == 0.0
                issue = Issue(
                    kind="missing" if none_heard else "quality", label=ev.label, expected=f'says "{words}"',
                    observed=observed,
                    message=f'speech should say "{words}"; heard {observed}.',
                    event_index=i, severity=0.8 if none_heard else round(min(0.7, 0.3 + 0.5 * (1.0 - share)), 3),
                )
            out.append((share, issue))
        return out

    def _quality(self, plan: RichCaption, observation: Observation) -> list[Issue]:
        s = self.settings
        lufs = observation.loudness_lufs
        if lufs is None:
            return []
        if lufs <= s.quiet_lufs:
            severity = 1.0 if not observation.events else 0.5
            return [
                Issue(
                    kind="quality", expected=f"above {s.quiet_lufs:.0f} LUFS", observed=f"{lufs:.1f} LUFS",
                    message=f"The clip is very quiet ({lufs:.1f} LUFS).", severity=severity,
                )
            ]
        if lufs >= s.clipping_lufs:
            return [
                Issue(
                    kind="quality", expected=f"below {s.clipping_lufs:.0f} LUFS", observed=f"{lufs:.1f} LUFS",
                    message=f"The clip is so loud ({lufs:.1f} LUFS) that it is likely clipped.", severity=0.5,
                )
            ]
        return []


# ---------------------------------------------------------------------- helpers
def _is_unrendered(ev: LayoutEvent, unrendered: Sequence[str]) -> bool:
    return labels_in(unrendered, ev.label) or bool(ev.phrase and labels_in(unrendered, ev.phrase))


def _not_rendered(i: int, ev: LayoutEvent) -> Issue:
    return Issue(
        kind="missing", label=ev.label, expected=f"{ev.label} at {_span(ev)}", observed="not rendered",
        message=f"{ev.label} could not be rendered by the generator, so it was not heard.",
        event_index=i, severity=1.0,
    )


def _heard_events(heard: RichCaption, observation: Observation) -> list[_Heard]:
    """Heard caption events with the listener's confidence attached."""
    events = list(heard.layout)
    if not events:
        # A caption without a layout: fall back on the raw detections.
        return [
            _Heard(i, LayoutEvent(label=e.label, start_s=e.start_s, end_s=max(e.end_s, e.start_s + 1e-3)), e.confidence)
            for i, e in enumerate(observation.events)
        ]
    out = []
    for i, ev in enumerate(events):
        same = [e for e in observation.events if e.label == ev.label]
        near = [e for e in same if _overlap((e.start_s, e.end_s), (ev.start_s, ev.end_s)) > 0] or same
        confidence = max((e.confidence for e in near), default=1.0)
        out.append(_Heard(i, ev, confidence))
    return out


def _planned_sound_spans(
    matches: dict[int, _Match], observation: Observation, matcher: LabelMatcher, layout: list[LayoutEvent]
) -> list[tuple[float, float]]:
    """Where the planned sounds were heard: their bursts, else the listener's pieces of their family."""
    spans: list[tuple[float, float]] = []
    for i, m in matches.items():
        if m.bursts:
            spans.extend(m.bursts)
            continue
        pieces = [
            (e.start_s, e.end_s) for e in observation.events
            if _overlap((e.start_s, e.end_s), (m.start_s, m.end_s)) > 0 and matcher.matches(layout[i].label, e.label)
        ]
        spans.extend(pieces or [(m.start_s, m.end_s)])
    return spans


def _inside(event: LayoutEvent, spans: list[tuple[float, float]], margin: float) -> bool:
    """Whether ``event`` lies within one of ``spans`` (widened by ``margin``)."""
    return any(a - margin <= event.start_s and event.end_s <= b + margin for a, b in spans)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = _overlap(a, b)
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def _span(ev: LayoutEvent) -> str:
    return _fmt(ev.start_s, ev.end_s)


def _fmt(start: float, end: float) -> str:
    return f"{start:.1f}-{end:.1f} s"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _where(position: str) -> str:
    return "in the center" if position == "center" else f"on the {position}"


_KIND_ORDER = ("missing", "order", "count", "timing", "loudness", "spatial", "extra", "quality")


def _issue_order(issue: Issue) -> tuple:
    return (_KIND_ORDER.index(issue.kind), -1 if issue.event_index is None else issue.event_index, issue.label)


def _instructions(issues: list[Issue]) -> list[str]:
    """One revision instruction per issue, most important first."""
    out: list[str] = []
    for issue in issues:
        if issue.expected.startswith("says "):
            text = f"Make {issue.label} {issue.expected.replace('says', 'say', 1)} clearly (heard {issue.observed})."
        elif issue.kind == "missing" and issue.observed == "not rendered":
            text = f"Replace {issue.label} with a sound the generator can render."
        elif issue.cause == "look-alike":
            text = f"Render {issue.label} from another take or source; it was heard as {issue.heard_as}."
        elif issue.cause == "masked":
            text = f"Make {issue.label} audible at {issue.expected.split(' at ', 1)[-1]} over the sounds that cover it."
        elif issue.cause == "weak":
            text = f"Make {issue.label} louder; it was heard only faintly."
        elif issue.kind == "missing":
            text = f"Make {issue.label} audible at {issue.expected.split(' at ', 1)[-1]}."
        elif issue.kind == "order":
            text = issue.message
        elif issue.kind == "count":
            text = f"Make {issue.label} occur {issue.expected} with clear gaps (heard {issue.observed})."
        elif issue.kind == "timing":
            text = f"Keep {issue.label} at {issue.expected} (heard {issue.observed})."
        elif issue.kind == "loudness":
            text = f"Make {issue.label} {issue.expected} (heard {issue.observed})."
        elif issue.kind == "spatial":
            text = f"Place {issue.label} {_where(issue.expected)} (heard {_where(issue.observed)})."
        elif issue.kind == "extra":
            text = f"Remove {issue.label}, which was not planned."
        else:
            text = issue.message
        if text not in out:
            out.append(text)
    return out
