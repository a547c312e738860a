"""Planner ``rules``: a deterministic parser for English sound prompts.

"a dog barks three times on the left, then a man talks quietly" becomes a
RichCaption whose layout has a Bark (3x, left) followed by Speech (soft).
Pure Python and regular expressions; MiniLM only names phrases the word
tables do not know. What the prompt leaves open (order, length) is stated
in ``assumptions`` and asked in ``questions``; ``answers`` settle it. What
cannot be planned as written (a time past the longest clip, a span that ends
before it starts, a count over 100 or too dense to hear apart, a clip shorter
than the shortest, order words the stated times contradict) is planned as near
as it can be and stated there too, quoting the user's words in the order
written. A prompt that names no sound is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from ualm_agent.errors import UsageError, no_sound_event
from ualm_agent.prompts import dialogue
from ualm_agent.registry import BackendConfig, register
from ualm_agent.schema import LayoutEvent, Question, RichCaption

from .clauses import MAX_COUNT, Clause, Timing, again_in, normalise, protect_quotes, restore_quotes, split_clauses
from .labelling import Labelled, Labeller
from .lexicon import BRIEF, IMPULSES, TEXTURES, contexts_in
from .timeline import MIN_CLIP_S, MIN_EVENT_S, MIN_REPEAT_SLOT_S, Slot, place, required_clip, round_clip


_PERSON_ONLY = re.compile(
    r"(?:a|an|the|some|two|three|several)?\s*(?:man|men|woman|women|person|people|guy|lady|boy|girl|child|children|"
    r"kid|kids|baby|someone|male|female|adult|adults)"
)
_TOGETHER_ANSWER = re.compile(r"\b(?:together|same\s+time|simultaneous\w*|overlap\w*|at\s+once|parallel)\b")
_JOINERS = {"seq": " then ", "pre": " after ", "par": " as ", "and": " and ", "first": " "}
_COUNT_TEXT = {1: "once", 2: "twice"}
# Words that say two sounds happen at once. "With", "over", "along with" and the like only say a sound
# has company: captions use them for sounds at times of their own ("an engine from 0 to 6 s, with a
# door closing from 6.5 to 7.2 s"), so times that keep such sounds apart contradict nothing.
_AT_ONCE = re.compile(r"^,?\s*(?:while|whilst|as|during|meanwhile|simultaneously with|at the same time (?:as|with)|amidst|amid)$")
# A planned time this close to the stated one honours it (spans are rounded to the millisecond).
_TIME_TOLERANCE_S = 0.01


class RulesPlannerSettings(BackendConfig):
    kind: Literal["rules"] = "rules"
    use_minilm: bool = True  # name unknown phrases by MiniLM similarity
    minilm_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    gap_s: float = Field(default=0.3, ge=0.0, le=5.0)  # between events in sequence
    silence_s: float = Field(default=1.0, ge=0.0, le=10.0)  # "a moment of silence"
    max_duration_s: float = Field(default=60.0, gt=0.0, le=600.0)
    default_duration_s: float = Field(default=10.0, gt=0.0, le=600.0)


@dataclass
class _Event:
    clause: Clause
    labelled: Labelled
    phrase: str
    context: frozenset[str]
    gap_before: float | None = None
    notes: list[str] = field(default_factory=list)


@register("rules", roles=("planner",), config=RulesPlannerSettings)
class RulesPlanner:
    """Deterministic English prompt parser: events, counts, order, timing, position, level."""

    def __init__(
        self,
        use_minilm: bool = True,
        minilm_threshold: float = 0.5,
        gap_s: float = 0.3,
        silence_s: float = 1.0,
        max_duration_s: float = 60.0,
        default_duration_s: float = 10.0,
    ) -> None:
        self.labeller = Labeller(use_minilm=use_minilm, threshold=minilm_threshold)
        self.gap_s = gap_s
        self.silence_s = silence_s
        self.max_duration_s = max_duration_s
        self.default_duration_s = default_duration_s

    # ---- public -------------------------------------------------------------------------

    def plan(
        self, prompt: str, *, duration_s: float | None = None, answers: Mapping[str, str] | None = None
    ) -> RichCaption:
        if not prompt or not prompt.strip():
            raise UsageError("the prompt is empty; describe the sound you want")
        answers = {str(k).strip().lower(): str(v) for k, v in (answers or {}).items()}
        base = duration_s if duration_s and duration_s > 0 else self.default_duration_s
        try:
            return self._plan(prompt, base, answers)
        except UsageError:
            raise
        except Exception as exc:  # never fail on odd English: plan the whole prompt as one sound
            return self._single_sound(prompt, base, f"The prompt could not be parsed into events ({type(exc).__name__}); "
                                      "planned it as one sound.")

    def plan_many(self, prompts: list[str], *, duration_s: float | None = None) -> list[RichCaption]:
        """Plan several prompts; phrases that need MiniLM are embedded in batches, not one by one."""
        prompts = list(prompts)
        if self.labeller.use_minilm:
            with self.labeller.collecting() as wanted:
                for prompt in prompts:
                    if prompt and prompt.strip():
                        try:
                            self.plan(prompt, duration_s=duration_s)
                        except UsageError:
                            pass  # labels are not known yet while collecting; the real pass decides
            self.labeller.prefetch(sorted(wanted))
        return [self.plan(prompt, duration_s=duration_s) for prompt in prompts]

    # ---- steps --------------------------------------------------------------------------

    def _plan(self, prompt: str, base: float, answers: dict[str, str]) -> RichCaption:
        clauses, stated_clip = split_clauses(prompt)
        events, trailing_silence = self._events(clauses)
        if not events:
            return self._single_sound(prompt, base, "No separate sound events were found; planned the prompt as one sound.")
        _require_sound(prompt, [e.labelled for e in events], self.labeller)
        quotes = protect_quotes(prompt)[1]
        for e in events:
            e.phrase = restore_quotes(e.phrase, quotes)

        assumptions: list[str] = []
        questions: list[Question] = []
        together = bool(_TOGETHER_ANSWER.search(answers.get("order", "").lower()))
        slots = [self._slot(e, together) for e in events]
        self._mark_background(events, slots)

        if trailing_silence:
            # The silence that ends the clip: a last, soundless slot after it, dropped once placed.
            slots.append(Slot(relation="seq", dur=MIN_EVENT_S, gap_before=trailing_silence))
        unordered = _unordered_events(events, slots)
        if unordered >= 2:
            if "order" not in answers:
                assumptions.append(
                    f"No order was given for {unordered} events; assumed they happen one after another in the order written."
                )
                asked = dialogue()["order"]
                questions.append(
                    Question(key="order", text=asked["text"], choices=list(asked["choices"]), default=asked["choices"][0])
                )

        asked = _clip_asked(_seconds_in(answers.get("duration", "")), stated_clip, events, trailing_silence)
        timed = any(e.clause.timed or e.clause.dur for e in events) or stated_clip is not None
        clip, clip_note = self._bounded_clip(*(asked or (base, "")))
        if clip_note:
            # Stated first: the extensions below start from this clip.
            assumptions.append(clip_note)
        no_duration_at: int | None = None
        if asked is None and not timed and "duration" not in answers:
            if not clip_note:  # that note already says how long the clip is
                no_duration_at = len(assumptions)
            asked_question = dialogue()["duration"]
            choices = list(dict.fromkeys([f"{clip:g} s", *asked_question["choices"]]))
            questions.append(Question(key="duration", text=asked_question["text"], choices=choices, default=choices[0]))
        need = required_clip(slots, self.gap_s)
        if need > clip + 1e-9:
            clip = min(self.max_duration_s, round_clip(need))
            assumptions.append(self._extended(need, clip))

        place(slots, clip, self.gap_s)
        unspaced_clip = clip
        clip, widened = self._space_repeats(slots, clip)
        if no_duration_at is not None:
            # Worded from the prompt alone: the length may come from --duration or the config's default,
            # which look the same here; and it is the final length, after any lengthening stated below.
            assumptions.insert(no_duration_at, f"The prompt gives no duration; the clip is {clip:g} s.")
        if trailing_silence:
            assumptions.extend(_trailing_silence_change(trailing_silence, slots, clip))
        layout = [
            LayoutEvent(
                label=restore_quotes(e.labelled.label, quotes).strip("“”") or e.labelled.label,
                phrase=e.phrase,
                start_s=s.span[0],
                end_s=s.span[1],
                count=max(1, min(MAX_COUNT, e.clause.count or 1)),
                position=e.clause.position,  # type: ignore[arg-type]
                level=e.clause.level,  # type: ignore[arg-type]
            )
            for e, s in zip(events, slots)
        ]
        for i, (e, s) in enumerate(zip(events, slots)):
            assumptions.extend(e.notes)
            assumptions.extend(_asked(e.clause.written(e.phrase, words), what) for words, what in e.clause.changes)
            assumptions.extend(
                note for note in (
                    self._time_change(e, s, clip),
                    self._repeat_change(e, s, widened=i in widened, clip_before=unspaced_clip, clip=clip),
                ) if note
            )
            if s.background:
                assumptions.append(f'Assumed "{e.phrase}" continues in the background for the whole clip.')
        assumptions.extend(_order_conflicts(events, slots))
        order = sorted(range(len(layout)), key=lambda i: (layout[i].start_s, i))
        layout = [layout[i] for i in order]
        keywords = list(dict.fromkeys(e.phrase for e in events))
        return RichCaption(
            keywords=keywords,
            layout=layout,
            description=_describe(layout, [slots[i].background for i in order], clip),
            duration_s=clip,
            assumptions=list(dict.fromkeys(assumptions)),
            questions=questions,
        )

    def _events(self, clauses: list[Clause]) -> tuple[list[_Event], float]:
        """The sound events, and the seconds of silence asked for after the last of them."""
        events: list[_Event] = []
        pending_gap: float | None = None
        clauses = list(clauses)
        for i, clause in enumerate(clauses):
            if clause.silence:
                pending_gap = (pending_gap or 0.0) + (clause.dur if clause.dur else self.silence_s)
                continue
            core = clause.core()
            nxt = clauses[i + 1] if i + 1 < len(clauses) else None
            if not core and (clause.timed or clause.dur):
                prev = events[-1] if events else None
                if prev is not None and _ends(prev.clause, clause):
                    # "a siren starts at 2 s and ends at 8 s": when the sound before stops.
                    _inherit(prev.clause, clause)
                    continue
                if _leads(clause, nxt):
                    # "from 1 to 3 s, a woman laughs; from 5 to 7 s, a child giggles": each time leads its sound.
                    _merge_into_next(nxt, clause)
                    continue
                if prev is not None and prev.clause.timed and clause.timed:
                    # "a dog barks at 1 s and again at 4 s": the same sound once more.
                    _inherit(clause, prev.clause, timing=False)
                    events.append(_Event(clause, prev.labelled, prev.phrase, prev.context, gap_before=pending_gap))
                    pending_gap = None
                    continue
                if prev is None and nxt is not None and not nxt.silence:
                    # "starting at 3 seconds, a bell rings": the time belongs to what follows.
                    _merge_into_next(nxt, clause)
                    continue
            if nxt is not None and nxt.relation == "and" and not nxt.silence and _PERSON_ONLY.fullmatch(core):
                # "a man and a woman talking": one event, named by what they do.
                _merge_into_next(nxt, clause, f"{clause.words} and {nxt.words}")
                continue
            prev = events[-1] if events else None
            if (
                nxt is not None
                and not nxt.silence
                and core
                and len(clause.words) < 120  # bounds the work on run-on input
                and self.labeller.lexical(core, contexts_in(core)) is None
            ):
                content = _content_words(core)
                # "food and oil sizzle", "a short, sharp beep": words that belong to the next sound.
                if nxt.relation == "and" or (nxt.after_comma and len(content) <= 2 and not clause.subjectless()):
                    nxt.after_comma = clause.after_comma
                    _merge_into_next(nxt, clause, f"{clause.words}{' and ' if nxt.relation == 'and' else ', '}{nxt.words}")
                    continue
            context = contexts_in(core)
            subjectless = clause.subjectless()
            if subjectless and prev is not None:
                context = context | prev.context
            labelled = self.labeller.lexical(core, context) if core else None
            if labelled is None:
                attached = clause.joiner in ("with", "over") and clause.relation == "par"
                if prev is not None and (subjectless or attached or not core or _modifier_only(core, clause.relation)):
                    # "... and drives away", "... then stops": more about the previous sound.
                    if clause.words:
                        joiner = f" {clause.joiner} " if attached else _JOINERS.get(clause.relation, " ")
                        prev.phrase = f"{prev.phrase}{joiner}{clause.words}"
                    _inherit(prev.clause, clause)
                    continue
                if not core:
                    continue
                labelled = self.labeller.label(core, context)
            if prev is not None and clause.joiner in ("with", "over") and labelled.label == prev.labelled.label:
                # "a man speaks with a deep voice": the same sound, described further.
                prev.phrase = f"{prev.phrase} {clause.joiner} {clause.words}"
                _inherit(prev.clause, clause)
                continue
            event = _Event(clause, labelled, _phrase(clause, labelled), context, gap_before=pending_gap)
            pending_gap = None
            if labelled.source == "minilm":
                event.notes.append(f'Read "{event.phrase}" as the AudioSet class "{labelled.label}".')
            elif labelled.source == "phrase":
                event.notes.append(f'No AudioSet class fits "{event.phrase}"; kept the words as the label.')
            for note in clause.notes:
                event.notes.append(f"Read {note} as {clause.count} repeats.")
            events.append(event)
        return events, (pending_gap or 0.0) if events else 0.0

    def _slot(self, event: _Event, together: bool) -> Slot:
        c = event.clause
        relation = c.relation
        if relation == "and":
            relation = "par" if together else "seq"
        start, end, dur = c.start, c.end, c.dur
        if start is not None and end is not None and end <= start:
            end = None
        if start is not None and start >= self.max_duration_s:
            start, end = None, None
        return Slot(
            relation=relation,
            start=start,
            end=end,
            dur=dur if dur and dur > 0 else None,
            impulse=event.labelled.label in IMPULSES,
            brief=event.labelled.label in BRIEF,
            count=max(1, min(MAX_COUNT, c.count or 1)),
            gap_before=event.gap_before,
        )

    # ---- what could not be planned as asked ---------------------------------------------------

    def _bounded_clip(self, seconds: float, words: str = "") -> tuple[float, str]:
        """The clip length nearest ``seconds`` that the planner makes, and a statement when it differs,
        naming ``words`` (the user's words for the length) where there are any."""
        if seconds < MIN_CLIP_S:
            bound, which = MIN_CLIP_S, "shortest"
        elif seconds > self.max_duration_s:
            bound, which = self.max_duration_s, "longest"
        else:
            return seconds, ""
        return bound, _asked(words or f"a {seconds:g} s clip", f"the {which} clip is {bound:g} s, so the clip is {bound:g} s")

    def _extended(self, need: float, clip: float) -> str:
        if need > self.max_duration_s + 1e-9:
            return f"The stated times need {need:g} s, more than the longest clip ({self.max_duration_s:g} s); the clip is {clip:g} s."
        return f"The stated times need {need:g} s; the clip was extended to {clip:g} s."

    def _space_repeats(self, slots: list[Slot], clip: float) -> tuple[float, set[int]]:
        """Give repeats too close to be heard apart the room they need, lengthening the clip up to the
        longest; repeats whose span the prompt states keep it. Returns the clip and the widened slots."""
        widened = {
            i for i, s in enumerate(slots)
            if s.count > 1 and s.end is None and s.dur is None and _repeat_slot(s) < MIN_REPEAT_SLOT_S - 1e-9
        }
        if not widened:
            return clip, widened
        for i in widened:
            slots[i].dur = slots[i].count * MIN_REPEAT_SLOT_S
        need = required_clip(slots, self.gap_s)
        if need > clip + 1e-9:
            clip = min(self.max_duration_s, round_clip(need))
        place(slots, clip, self.gap_s)
        return clip, widened

    def _repeat_change(self, event: _Event, slot: Slot, *, widened: bool, clip_before: float, clip: float) -> str:
        if slot.count < 2:
            return ""
        a, b = slot.span
        each = _repeat_slot(slot)
        c = event.clause
        # Once widened, the stated times no longer bound the repeats: only the count is named.
        subject = c.written(event.phrase, c.count_words, *([] if widened else c.time_words))
        if each >= MIN_REPEAT_SLOT_S - 1e-9:
            if not widened:
                return ""
            they = "they" if _counted_as_asked(c) else f"the {slot.count} planned"
            what = (f"to be heard apart {they} need {slot.count * MIN_REPEAT_SLOT_S:g} s ({MIN_REPEAT_SLOT_S:g} s each), "
                    f"so they are planned at {a:g}-{b:g} s")
            if clip > clip_before + 1e-9:
                what += f" and the clip was lengthened from {clip_before:g} s to {clip:g} s"
            return _asked(subject, what)
        where = f" even in the longest clip ({self.max_duration_s:g} s)" if widened else ""
        return _asked(subject, f"that leaves {each:.2g} s each{where}, too little to hear them apart "
                               f"({MIN_REPEAT_SLOT_S:g} s each is needed), so they will run together")

    def _time_change(self, event: _Event, slot: Slot, clip: float) -> str:
        """A statement when the event's planned span differs from the times the prompt states."""
        c = event.clause
        a, b = slot.span
        asked = [(c.start, a), (c.end, b), (c.dur, b - a)]
        if all(want is None or abs(got - want) <= _TIME_TOLERANCE_S for want, got in asked):
            return ""
        longest = self.max_duration_s
        if (c.start is not None and c.start >= longest) or any(v is not None and v > longest for v in (c.end, c.dur)):
            reason = f"the longest clip is {longest:g} s"
        elif c.start is not None and c.end is not None and c.end <= c.start:
            reason = "it ends before it starts"
        elif (c.dur if c.dur is not None else _length(c.start, c.end)) < MIN_EVENT_S:
            reason = f"the shortest event is {MIN_EVENT_S:g} s"
        else:
            reason = f"it had to fit the {clip:g} s clip"
        return _asked(c.written(event.phrase, *c.time_words), f"{reason}, so it is planned at {a:g}-{b:g} s")

    @staticmethod
    def _mark_background(events: list[_Event], slots: list[Slot]) -> None:
        """Textures not tied down by an order word or a time span the clip ("rain and thunder")."""
        if len(events) < 2:
            return
        for i, (event, slot) in enumerate(zip(events, slots)):
            c = event.clause
            if c.timed or c.dur or (c.count or 1) > 1 or event.gap_before is not None:
                continue
            if not (event.labelled.label in TEXTURES or c.background):
                continue
            own_tied = c.relation in ("seq", "pre") and i > 0
            next_tied = i + 1 < len(events) and events[i + 1].clause.relation in ("seq", "pre")
            if not own_tied and not next_tied:
                slot.background = True
        if all(s.background for s in slots):
            for s in slots:
                s.background = False

    def _single_sound(self, prompt: str, base: float, note: str) -> RichCaption:
        text = normalise(prompt)
        labelled = self.labeller.label(text, contexts_in(text))
        _require_sound(prompt, [labelled], self.labeller)
        clip, clip_note = self._bounded_clip(base)
        phrase = _clean_phrase(text) or labelled.label
        event = LayoutEvent(label=labelled.label, phrase=phrase, start_s=0.0, end_s=clip)
        return RichCaption(
            keywords=[phrase],
            layout=[event],
            description=f"{phrase[:1].upper()}{phrase[1:]}; {clip:g} seconds in all.",
            duration_s=clip,
            assumptions=[note, clip_note] if clip_note else [note],
        )


def _require_sound(prompt: str, labelled: list[Labelled], labeller: Labeller) -> None:
    """Refuse a prompt with nothing this planner can name: only silence, or no sound class fits.

    Real words no class fits ("a spaceship lands", "good morning") are refused too: this planner
    plans AudioSet sounds. The message says how to hand such words to a text-to-audio generator as
    written (enrichment off); without real words it only asks for a sound.
    """
    if all(found.label == "Silence" for found in labelled):
        raise no_sound_event(prompt, "it asks only for silence")
    if any(found.source != "phrase" for found in labelled):
        return
    if not labeller.has_words(prompt):
        raise no_sound_event(prompt, "it has no words that describe a sound")
    raise no_sound_event(prompt, "no sound class fits its words; for a text-to-audio generator, "
                                 "[loop] enrich = false passes the words as written")


def _trailing_silence_change(asked: float, slots: list[Slot], clip: float) -> list[str]:
    """A statement when the silence asked for at the end is shorter than asked (the clip was full)."""
    *sounds, end = slots
    last = max((s.span[1] for s in sounds if not s.background), default=0.0)
    kept = round(end.span[0] - last, 3)
    if kept >= asked - _TIME_TOLERANCE_S:
        return []
    return [_asked(f"{asked:g} s of silence at the end", f"it had to fit the {clip:g} s clip, so it lasts {max(kept, 0.0):g} s")]


def _clip_asked(
    answered: float | None, stated: Timing | None, events: list[_Event], trailing_silence: float
) -> tuple[float, str] | None:
    """The clip length the answers or the prompt ask for, with the user's words for it (none for an answer)."""
    if answered:
        return answered, ""
    if stated is not None:
        return stated.a, stated.words
    return _filled_clip(events, trailing_silence)


def _filled_clip(events: list[_Event], trailing_silence: float) -> tuple[float, str] | None:
    """"5 seconds of rain" as the whole prompt asks for a clip of that sound, that long."""
    if len(events) != 1 or trailing_silence:
        return None
    event = events[0]
    c = event.clause
    if not (c.fills and c.dur) or c.timed or event.gap_before is not None:
        return None
    return c.dur, c.written(event.phrase, *c.time_words)


def _counted_as_asked(clause: Clause) -> bool:
    """Whether the user's count words give the number of repeats planned (not clamped, rounded or
    read from a vague word such as "several")."""
    return not clause.count_vague and all(words != clause.count_words for words, _ in clause.changes)


def _order_conflicts(events: list[_Event], slots: list[Slot]) -> list[str]:
    """Statements for order words the planned times contradict ("a siren at 4 s followed by a bark at
    1 s"): stated times are the more specific request, so they are kept and the conflict is stated."""
    notes = []
    for i in range(1, len(events)):
        if not events[i].clause.order_words or slots[i].background:
            continue
        # The order words relate the event to the sound written before it (not to a background bed).
        j = max((k for k in range(i) if not slots[k].background), default=None)
        if j is not None:
            notes.append(_order_conflict(events[j], slots[j], events[i], slots[i]))
    return [note for note in notes if note]


def _order_conflict(before: _Event, a: Slot, after: _Event, b: Slot) -> str:
    """A statement when the plan does not keep the order words that relate ``after`` to ``before``
    (the event written just before it), else ""."""
    names = _names(before.phrase, after.phrase)
    both_timed = all(s.start is not None or s.end is not None for s in (a, b))
    if b.relation == "par":
        broken = _apart(a, b, names, both_timed) if _AT_ONCE.match(after.clause.order_words) else ""
    elif b.relation == "pre":  # "X after Y": Y, written second, starts first
        broken = _out_of_order(b, a, names[::-1], both_timed)
    else:
        broken = _out_of_order(a, b, names, both_timed)
    return _asked(_order_subject(before, after), broken) if broken else ""


def _apart(a: Slot, b: Slot, names: tuple[str, str], both_timed: bool) -> str:
    """Why and where two sounds said to play at once play apart, or "" when they overlap."""
    if min(a.span[1], b.span[1]) > max(a.span[0], b.span[0]):
        return ""
    reason = "the stated times do not overlap" if both_timed else "the stated time leaves no room for both at once"
    return f"{reason}, so {names[0]} plays at {_span(a)} and {names[1]} at {_span(b)}"


def _out_of_order(early: Slot, late: Slot, names: tuple[str, str], both_timed: bool) -> str:
    """Why and where ``late`` does not start after ``early`` as the order words ask, or "" when it does.
    ``names`` names them in that order."""
    t1, t2 = early.span[0], late.span[0]
    if t1 < t2 - 1e-9:
        return ""
    together = abs(t1 - t2) <= 1e-9
    if not both_timed:
        reason = f"the stated time leaves no room for {names[0]} before {names[1]}"
    else:
        reason = f"the stated times {'start them together' if together else 'put them the other way round'}"
    planned = f"both start at {t1:g} s" if together else f"{names[1]} plays at {t2:g} s and {names[0]} at {t1:g} s"
    return f"{reason}, so {planned}"


def _order_subject(before: _Event, after: _Event) -> str:
    """Two sounds, their times and the order words between them, as the user wrote them."""
    c = after.clause
    first = before.clause.written(before.phrase, *before.clause.time_words)
    second = c.written(after.phrase, *c.time_words)
    if c.order_leads:
        return f"{c.order_words} {first}, {second}"  # "after a bell at 4 s, a siren at 1 s"
    return f"{first}{'' if c.order_words.startswith(',') else ' '}{c.order_words} {second}"


def _span(slot: Slot) -> str:
    return f"{slot.span[0]:g}-{slot.span[1]:g} s"


def _names(first: str, second: str) -> tuple[str, str]:
    """How statements name two events: by their words, or by place when the words are the same."""
    if first == second:
        return "the first", "the second"
    return f'"{first}"', f'"{second}"'


def _asked(subject: str, what: str) -> str:
    """How the plan states a request it could not take as written."""
    return f"Asked for {subject}: {what}."


def _length(start: float | None, end: float | None) -> float:
    """A stated span's length; infinite when only one end is stated (any length fits)."""
    return end - start if start is not None and end is not None else float("inf")


def _repeat_slot(slot: Slot) -> float:
    return (slot.span[1] - slot.span[0]) / max(1, slot.count)


def _merge_into_next(nxt: Clause, clause: Clause, words: str | None = None) -> None:
    """Make ``clause``, written just before ``nxt``, part of it: its place in the order, what it states
    and, given ``words`` (the two clauses' words joined), where the sound's words start."""
    if words is not None:
        nxt.words, nxt.at = words, clause.at
    nxt.relation, nxt.order_words, nxt.order_leads = clause.relation, clause.order_words, clause.order_leads
    _inherit(nxt, clause)


def _inherit(target: Clause, source: Clause, *, timing: bool = True) -> None:
    """Give ``target`` what ``source`` states and ``target`` does not."""
    took_time = False
    # Each end on its own: "starting at 2 s, a baby cries until 7 s" states the start apart from the end.
    if timing and target.start is None and source.start is not None and (target.end is None or source.start < target.end):
        target.start = source.start
        took_time = True
    if timing and target.end is None and source.end is not None and (target.start is None or target.start < source.end):
        target.end = source.end
        took_time = True
    if timing and target.dur is None and source.dur:
        target.dur, target.fills = source.dur, source.fills
        took_time = True
    if took_time:
        target.time_words.extend(w for w in source.time_words if w not in target.time_words)
    target.changes.extend(c for c in source.changes if c not in target.changes)
    # Where the source's words were written, so statements about them keep the user's order.
    for words, mark in source.marks.items():
        target.marks.setdefault(words, mark)
    if target.count is None and source.count:
        target.count, target.count_vague, target.count_words = source.count, source.count_vague, source.count_words
        target.notes.extend(source.notes)
    if target.position == "center":
        target.position = source.position
    if target.level == "normal":
        target.level = source.level


def _ends(target: Clause, clause: Clause) -> bool:
    """Whether ``clause`` states only an end that ``target``, started but not ended, can take."""
    return (
        clause.start is None and clause.end is not None and target.end is None and target.dur is None
        and (target.start is None or target.start < clause.end)
    )


def _leads(clause: Clause, nxt: Clause | None) -> bool:
    """Whether a time standing alone before a bare comma belongs to the sound named after it (not a repeat)."""
    return (
        nxt is not None and not nxt.silence and nxt.after_comma and not (nxt.timed or nxt.dur)
        and bool(nxt.core()) and not nxt.subjectless() and not again_in(clause.raw)
    )


def _unordered_events(events: list[_Event], slots: list[Slot]) -> int:
    """How many events are joined only by "and" (no order word, no times)."""
    involved: set[int] = set()
    for i in range(1, len(events)):
        c = events[i].clause
        if c.relation != "and" or slots[i].background:
            continue
        j = i - 1
        while j >= 0 and slots[j].background:
            j -= 1
        if j < 0 or c.timed or events[j].clause.timed:
            continue
        involved.update((i, j))
    return len(involved)


_STOP = frozenset("a an the some of in on at to from with by and or then more into onto".split())


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9'-]+", text) if w not in _STOP]


_MODIFIERS = frozenset(
    "far near again more less brief short long light rapid continuous constant intermittent slow fast loud soft "
    "steady sharp quick repeated".split()
)


def _modifier_only(core: str, relation: str) -> bool:
    """One stray word left by a split ("near and far", "then faster"): not a sound of its own."""
    words = _content_words(core)
    if len(words) != 1:
        return False
    word = words[0]
    return relation in ("and", "par") or word in _MODIFIERS or word.endswith(("ly", "er", "est"))


def _seconds_in(answer: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)\s*(ms|milliseconds?|min|minutes?|h|hrs?|hours?|s|sec|secs|seconds?)?", answer.lower())
    if not m:
        return None
    value = float(m.group(1))
    unit = m.group(2) or "s"
    if unit.startswith("m") and not unit.startswith("ms") and not unit.startswith("milli"):
        value *= 60.0
    elif unit.startswith("h"):
        value *= 3600.0
    elif unit.startswith("ms") or unit.startswith("milli"):
        value /= 1000.0
    return value if value > 0 else None


def _clean_phrase(text: str) -> str:
    text = re.sub(r'["“”;\n\r]', " ", text)
    return re.sub(r"\s+", " ", text).strip(" ,.")


def _phrase(clause: Clause, labelled: Labelled) -> str:
    return _clean_phrase(clause.core()) or _clean_phrase(clause.words) or labelled.label


_NUMBER_TEXT = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
_LEVEL_TEXT = {"loud": "loud", "soft": "soft", "distant": "in the distance"}


def _describe(layout: list[LayoutEvent], background: list[bool], clip: float) -> str:
    """One plain sentence: what happens in what order, how often, how loud and where; then the length."""
    parts: list[str] = []
    bed: list[str] = []
    prev_end: float | None = None
    for event, is_bed in zip(layout, background):
        attrs = []
        if event.count > 1:
            attrs.append(_COUNT_TEXT.get(event.count) or f"{_NUMBER_TEXT.get(event.count, event.count)} times")
        if event.level in _LEVEL_TEXT:
            attrs.append(_LEVEL_TEXT[event.level])
        if event.position != "center":
            attrs.append(f"on the {event.position}")
        words = (event.phrase or event.label) + (f" ({', '.join(attrs)})" if attrs else "")
        if is_bed:
            bed.append(words)
            continue
        if not parts:
            parts.append(words)
        elif prev_end is not None and event.start_s < prev_end - 1e-6:
            parts.append(f" while {words}")
        else:
            parts.append(f", then {words}")
        prev_end = event.end_s if prev_end is None else max(prev_end, event.end_s)
    text = "".join(parts)
    if bed:
        text = f"{text}, over {' and '.join(bed)} throughout" if text else f"{' and '.join(bed)} throughout"
    text = text[:1].upper() + text[1:]
    return f"{text}; {clip:g} seconds in all."
