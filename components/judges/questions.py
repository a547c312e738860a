"""Yes/no questions a judge asks about a clip, built from hint labels or from a plan.

Each question names what it checks (``kind``) and which planned events it is about, so
the answers can be turned back into heard events and critic issues. The wording is
plain and always ends in "Answer yes or no." so that an audio-language model puts its
next-token mass on "Yes" or "No" (the answer is read from those two tokens' logits).

From a plan, per planned event (``event``: its index):

- presence: "Is there a sound of bark (a dog barks) in this audio?";
- timing, when the event does not fill the clip: "... between 2 and 4 seconds?";
- count, for a repeated event: "more than once?" and "exactly 3 times?";

and per pair of planned events (``other``: the second index):

- order, for events planned one after the other: "Is there ... before ...?";
- loudness, for events planned at different levels that sound together: "Is ... louder than ...?".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ualm_agent.schema import LayoutEvent, RichCaption

QuestionKind = Literal["presence", "timing", "more_than_once", "count", "order", "loudness", "rating"]
# Asked after every question, so that the next token is an answer word.
ANSWER_FORM = "Answer yes or no."
# An event this close to both ends of the clip fills it: a timing question would repeat the presence one.
WHOLE_CLIP_SLACK_S = 0.25
# Louder first: the order of planned levels.
LEVEL_RANK = {"distant": 0, "soft": 0, "normal": 1, "loud": 2}


@dataclass(frozen=True)
class Question:
    text: str
    kind: QuestionKind
    event: int | None = None
    other: int | None = None
    # The rating a "rating" question scores ("quality", "alignment", "aesthetics").
    aspect: str = ""


@dataclass(frozen=True)
class Answer:
    """A question with the model's P(yes) for it."""

    question: Question
    p_yes: float

    def yes(self, threshold: float) -> bool:
        return self.p_yes >= threshold


def sound_of(label: str, phrase: str = "") -> str:
    """How a question names a sound: its label, with the user's words where they say more."""
    name = " ".join(label.split()).lower()
    words = " ".join(phrase.split())
    if words and words.lower() != name:
        return f"a sound of {name} ({words})"
    return f"a sound of {name}"


def ask(body: str) -> str:
    return f"{body} {ANSWER_FORM}"


def presence_question(label: str, phrase: str = "", event: int | None = None) -> Question:
    return Question(ask(f"Is there {sound_of(label, phrase)} in this audio?"), "presence", event)


def hint_questions(labels: Sequence[str]) -> list[Question]:
    """One presence question per distinct hint label (``event`` is the label's index in ``labels``)."""
    return [presence_question(label, event=i) for i, label in enumerate(labels)]


def fills_clip(ev: LayoutEvent, duration_s: float) -> bool:
    return ev.start_s <= WHOLE_CLIP_SLACK_S and ev.end_s >= duration_s - WHOLE_CLIP_SLACK_S


def plan_questions(plan: RichCaption) -> list[Question]:
    """Every question the plan raises (see the module doc), event by event, then pairs."""
    questions: list[Question] = []
    for i, ev in enumerate(plan.layout):
        questions.extend(event_questions(i, ev, plan.duration_s))
    for a, b in ordered_pairs(plan.layout):
        first, then = sound_of(plan.layout[a].label, plan.layout[a].phrase), sound_of(plan.layout[b].label, plan.layout[b].phrase)
        questions.append(Question(ask(f"Is there {first} before {then} in this audio?"), "order", a, b))
    for a, b in louder_pairs(plan.layout):
        loud, soft = sound_of(plan.layout[a].label, plan.layout[a].phrase), sound_of(plan.layout[b].label, plan.layout[b].phrase)
        questions.append(Question(ask(f"Is {loud} louder than {soft} in this audio?"), "loudness", a, b))
    return questions


def event_questions(i: int, ev: LayoutEvent, duration_s: float) -> list[Question]:
    sound = sound_of(ev.label, ev.phrase)
    out = [presence_question(ev.label, ev.phrase, i)]
    if not fills_clip(ev, duration_s):
        out.append(Question(ask(f"Is there {sound} between {seconds(ev.start_s)} and {seconds(ev.end_s)} seconds?"), "timing", i))
    if ev.count > 1:
        out.append(Question(ask(f"Is {sound} heard more than once in this audio?"), "more_than_once", i))
        out.append(Question(ask(f"Is {sound} heard exactly {ev.count} times in this audio?"), "count", i))
    return out


def ordered_pairs(layout: Sequence[LayoutEvent]) -> list[tuple[int, int]]:
    """(a, b) for events planned one after the other: a ends before b starts (each pair once, b the next such event)."""
    pairs = []
    for a, ea in enumerate(layout):
        later = [b for b, eb in enumerate(layout) if b != a and eb.start_s >= ea.end_s]
        if later:
            # Only the nearest follower: a chain a < b < c is asked as two questions, not three.
            b = min(later, key=lambda j: (layout[j].start_s, j))
            pairs.append((a, b))
    return pairs


def louder_pairs(layout: Sequence[LayoutEvent]) -> list[tuple[int, int]]:
    """(a, b) for two events planned at different levels that sound together, a the louder one."""
    pairs = []
    for a, ea in enumerate(layout):
        for b, eb in enumerate(layout):
            together = ea.start_s < eb.end_s and eb.start_s < ea.end_s
            if together and LEVEL_RANK[ea.level] > LEVEL_RANK[eb.level]:
                pairs.append((a, b))
    return pairs


def rating_questions(plan: RichCaption) -> list[Question]:
    """AudioGenie-style graded aspects, each one question whose P(yes) is the 0-1 rating."""
    described = plan.description.strip() or "; ".join(sound_of(ev.label, ev.phrase) for ev in plan.layout)
    return [
        Question(ask("Is this audio of high quality, clean and free of noise or distortion?"), "rating", aspect="quality"),
        Question(ask(f'Does this audio match the description "{described}"?'), "rating", aspect="alignment"),
        Question(ask("Is this audio pleasant to listen to?"), "rating", aspect="aesthetics"),
    ]


def times_question(label: str, phrase: str = "") -> str:
    """The free-form question whose answer may state when a sound happens."""
    return f"When does {sound_of(label, phrase)} happen in this audio? Answer as start-end seconds, e.g. 1.5-3.0."


def seconds(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
