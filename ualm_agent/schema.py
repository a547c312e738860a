"""Typed data that flows through the reasoning loop.

Everything here is plain pydantic so it checkpoints, serialises to JSON and
validates model output. Audio never lives in these objects: an ``AudioRef``
points at a file on disk.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Position = Literal["left", "center", "right"]
Level = Literal["loud", "normal", "soft", "distant"]
IssueKind = Literal["missing", "extra", "order", "timing", "count", "loudness", "spatial", "quality"]
# What a reviser did to the plan. Each kind answers one kind of failure heard in a round.
EditKind = Literal[
    "lower",  # turn a masking event down
    "raise",  # turn an event up (masked, or heard too weakly to be sure)
    "separate",  # move an event out from under the sound that masks it
    "retime",  # re-place an event or its repeats (order, count, duration, timing)
    "retake",  # render another take (or source) of the same sound
    "substitute",  # render a related sound in place of one that cannot be made or heard
    "add",  # put in a sound the plan lacked (the user asked for it)
    "recount",  # change how many times a sound happens (the user asked for another count)
]
# What the user said of a round in interactive mode: take it as final, let the critic's verdict
# stand, revise with the user's own issues, or stop with the best round so far.
ReviewAction = Literal["accept", "continue", "revise", "stop"]
Verdict = Literal["accept", "revise"]

POSITIONS: tuple[Position, ...] = ("left", "center", "right")
LEVELS: tuple[Level, ...] = ("loud", "normal", "soft", "distant")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LayoutEvent(_Model):
    """One planned sound event: what, when, how often, where and how loud.

    ``label`` is an AudioSet class name where one fits; ``phrase`` keeps the
    user's own words for it. With ``count`` > 1 the occurrences are spread
    evenly over ``[start_s, end_s]``.
    """

    label: str = Field(min_length=1)
    phrase: str = ""
    start_s: float = Field(ge=0.0)
    end_s: float = Field(gt=0.0)
    count: int = Field(default=1, ge=1, le=100)
    position: Position = "center"
    level: Level = "normal"
    # Fine level change on top of ``level``, set by revisions (a masker turned down 6 dB).
    gain_db: float = Field(default=0.0, ge=-40.0, le=24.0)
    # Which take of the sound to render: a revision asks for another one by raising it.
    take: int = Field(default=0, ge=0, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> "LayoutEvent":
        if self.end_s <= self.start_s:
            raise ValueError(f"event {self.label!r} ends ({self.end_s}) before it starts ({self.start_s})")
        return self

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def occurrences(self) -> list[tuple[float, float]]:
        """(start, end) of each repeat: equal slots with a short gap between them."""
        if self.count == 1:
            return [(self.start_s, self.end_s)]
        slot = self.duration_s / self.count
        length = slot * 0.7
        return [(self.start_s + i * slot, self.start_s + i * slot + length) for i in range(self.count)]


class PlanEdit(_Model):
    """One typed change a reviser made to the plan, shown in the report."""

    kind: EditKind
    label: str
    # The failure it answers, in the critique's terms ("missing", "count", ...).
    answers: str = ""
    detail: str = ""
    round: int | None = Field(default=None, ge=0)


class Question(_Model):
    """A clarifying question the planner asks in dialogue mode."""

    key: str
    text: str
    choices: list[str] = Field(default_factory=list)
    default: str = ""


class RichCaption(_Model):
    """UALM-Reason's rich caption: keywords, a timed layout and a description."""

    keywords: list[str] = Field(default_factory=list)
    layout: list[LayoutEvent] = Field(default_factory=list)
    description: str = ""
    duration_s: float = Field(default=10.0, gt=0.0, le=600.0)
    assumptions: list[str] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    # Typed revisions made so far, oldest first (their sentences are also in ``assumptions``).
    edits: list[PlanEdit] = Field(default_factory=list)

    def to_text(self) -> str:
        """The text a text-conditioned generator receives; ``from_text`` reads it back."""
        lines = [f"Keywords: {'; '.join(self.keywords)}", "Layout:"]
        for ev in self.layout:
            phrase = f' "{ev.phrase}"' if ev.phrase and ev.phrase != ev.label else ""
            lines.append(
                f"- {ev.label}{phrase} from {ev.start_s:.3f} to {ev.end_s:.3f} s,"
                f" {ev.count}x, {ev.position}, {ev.level}"
            )
        lines.append(f"Description: {self.description}")
        lines.append(f"Duration: {self.duration_s:.3f} s")
        return "\n".join(lines)

    @classmethod
    def from_text(cls, text: str) -> "RichCaption":
        keywords: list[str] = []
        layout: list[LayoutEvent] = []
        description = ""
        duration = 10.0
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("Keywords:"):
                body = line[len("Keywords:"):].strip()
                keywords = [k.strip() for k in body.split(";") if k.strip()]
            elif line.startswith("- "):
                m = _EVENT_LINE.fullmatch(line)
                if not m:
                    raise ValueError(f"cannot parse layout line: {line!r}")
                layout.append(
                    LayoutEvent(
                        label=m["label"].strip(),
                        phrase=m["phrase"] or m["label"].strip(),
                        start_s=float(m["start"]),
                        end_s=float(m["end"]),
                        count=int(m["count"]),
                        position=m["position"],
                        level=m["level"],
                    )
                )
            elif line.startswith("Description:"):
                description = line[len("Description:"):].strip()
            elif line.startswith("Duration:"):
                duration = float(line[len("Duration:"):].strip().rstrip("s").strip())
        return cls(keywords=keywords, layout=layout, description=description, duration_s=duration)

    def labels(self) -> list[str]:
        return [ev.label for ev in self.layout]

    def has_sound(self) -> bool:
        """Whether the layout plans anything to hear (an event that is not silence)."""
        return any(ev.label.strip().lower() != "silence" for ev in self.layout)


_EVENT_LINE = re.compile(
    r'- (?P<label>[^"]+?)(?: "(?P<phrase>[^"]*)")? from (?P<start>[\d.]+) to (?P<end>[\d.]+) s,'
    r" (?P<count>\d+)x, (?P<position>left|center|right), (?P<level>loud|normal|soft|distant)"
)


class AudioRef(_Model):
    """A reference to an audio file; the graph passes these, never samples.

    ``path`` is relative to the run folder that holds the file, so a run folder can be
    moved or copied and still finds its own audio (and only its own).
    """

    path: str
    sample_rate: int = Field(gt=0)
    channels: int = Field(ge=1)
    duration_s: float = Field(ge=0.0)
    sha256: str

    def resolve(self, base: str | Path) -> Path:
        """The file inside the run folder ``base``.

        Runs recorded before paths were relative stored absolute ones; those are looked up by
        name in ``base`` too, so a copied folder never reads the original's files.
        """
        path = Path(self.path)
        return Path(base) / (path.name if path.is_absolute() else path)


class HeardEvent(_Model):
    label: str
    start_s: float = Field(ge=0.0)
    end_s: float = Field(ge=0.0)
    confidence: float = Field(ge=0.0, le=1.0)
    loudness_db: float | None = None
    balance: float | None = Field(default=None, ge=-1.0, le=1.0)


class SpeechSegment(_Model):
    start_s: float = Field(ge=0.0)
    end_s: float = Field(ge=0.0)
    text: str


class Observation(_Model):
    """What a listener heard in one clip."""

    events: list[HeardEvent] = Field(default_factory=list)
    speech: list[SpeechSegment] = Field(default_factory=list)
    loudness_lufs: float | None = None
    balance: float = Field(default=0.0, ge=-1.0, le=1.0)
    duration_s: float = Field(default=0.0, ge=0.0)
    listener: str = ""
    # True when a speech recogniser listened: then no speech text means no words were said.
    transcribed: bool = False

    def summary(self) -> str:
        """Each heard label once, with when it is first heard: "Bark (0.5s), Siren (2.0s)", or "nothing"."""
        first: dict[str, float] = {}
        for e in self.events:
            first.setdefault(e.label, e.start_s)
        return ", ".join(f"{label} ({start:.1f}s)" for label, start in first.items()) or "nothing"


class Issue(_Model):
    kind: IssueKind
    label: str = ""
    expected: str = ""
    observed: str = ""
    message: str
    event_index: int | None = None
    severity: float = Field(default=1.0, ge=0.0, le=1.0)
    # Why the event failed, where the critic can tell, so a reviser can pick the fix: "masked" (not
    # heard while louder planned sounds over it were), "look-alike" (a related class heard in its
    # place), "weak" (heard, but too faintly to be sure); "user" for one the user raised (--interactive).
    cause: Literal["", "masked", "look-alike", "weak", "user"] = ""
    # Plan indices of the planned sounds heard over a masked event, loudest first.
    maskers: list[int] = Field(default_factory=list)
    # The related class heard in a look-alike's place.
    heard_as: str = ""


class Critique(_Model):
    score: float = Field(ge=0.0, le=1.0)
    issues: list[Issue] = Field(default_factory=list)
    verdict: Verdict
    instructions: list[str] = Field(default_factory=list)
    # Graded aspects where the critic gives them, each 0..1 ("quality", "alignment", "aesthetics").
    ratings: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ratings_in_range(self) -> "Critique":
        for name, value in self.ratings.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"rating {name!r} must be between 0 and 1, got {value}")
        return self

    def to_text(self) -> str:
        """Line form a language model reads and writes; ``from_text`` reads it back."""
        lines = [f"Verdict: {self.verdict}", f"Score: {self.score:.2f}"]
        for issue in self.issues:
            lines.append(f"Issue: {issue.kind} | {issue.label} | {issue.message}")
        lines.extend(f"Instruction: {text}" for text in self.instructions)
        return "\n".join(lines)

    @classmethod
    def from_text(cls, text: str) -> "Critique":
        verdict: str | None = None
        score: float | None = None
        issues: list[Issue] = []
        instructions: list[str] = []
        for raw in text.splitlines():
            line = raw.strip()
            key, _, body = line.partition(":")
            body = body.strip()
            key = key.strip().lower()
            if key == "verdict":
                verdict = body.lower()
            elif key == "score":
                try:
                    score = float(body)
                except ValueError:
                    raise ValueError(f"score is not a number: {body!r}") from None
            elif key == "issue":
                parts = [p.strip() for p in body.split("|")]
                if len(parts) != 3:
                    raise ValueError(f"an issue line needs 'kind | label | message', got {body!r}")
                issues.append(Issue(kind=parts[0].lower(), label=parts[1], message=parts[2]))
            elif key == "instruction" and body:
                instructions.append(body)
        if verdict is None or score is None:
            raise ValueError("a critique needs 'Verdict:' and 'Score:' lines")
        return cls(verdict=verdict, score=score, issues=issues, instructions=instructions)


class _Take(_Model):
    """What one generation made and how it was heard and judged (a round, or one take of it)."""

    audio: AudioRef | None = None
    audio_out: AudioRef | None = None
    unrendered: list[str] = Field(default_factory=list)
    # What the generator changed or could not honour, stated to the user.
    notes: list[str] = Field(default_factory=list)
    observation: Observation | None = None
    heard: RichCaption | None = None
    critique: Critique | None = None
    failed: bool = False
    error: str = ""

    @property
    def score(self) -> float:
        if self.failed or self.critique is None:
            return -1.0
        return self.critique.score


class Candidate(_Take):
    """One of a round's takes in candidate search: how it was made, heard and scored."""

    take: int = Field(ge=0)
    seed: int = Field(ge=0)


class Review(_Model):
    """The user's word on a round (``--interactive``): the action, and their words as typed issues."""

    action: ReviewAction
    text: str = ""
    issues: list[Issue] = Field(default_factory=list)


class Round(_Take):
    """Everything one pass of generate → listen → critique produced.

    With candidate search the round's own fields are those of the chosen take, and
    ``candidates`` records every take (the chosen one included).
    """

    index: int = Field(ge=0)
    plan: RichCaption
    prompt_text: str
    timings: dict[str, float] = Field(default_factory=dict)
    # Candidate search: every take of this round, and which one the round's fields are.
    candidates: list[Candidate] = Field(default_factory=list)
    chosen: int | None = Field(default=None, ge=0)
    # The user's review of the round, in interactive mode.
    review: Review | None = None

    @property
    def user_action(self) -> ReviewAction:
        """What the user said of the round; "continue" (the critic decides) when they were not asked."""
        return self.review.action if self.review is not None else "continue"


class RunResult(_Model):
    prompt: str
    rounds: list[Round]
    best_index: int | None
    final: AudioRef | None = None
    accepted: bool = False
    run_dir: str = ""

    @model_validator(mode="after")
    def _best_is_a_round(self) -> "RunResult":
        if self.best_index is not None and not 0 <= self.best_index < len(self.rounds):
            raise ValueError(f"best_index {self.best_index} names no round (there are {len(self.rounds)})")
        return self

    @property
    def best(self) -> Round | None:
        return None if self.best_index is None else self.rounds[self.best_index]

    @property
    def final_path(self) -> Path | None:
        """The final audio file, resolved against ``run_dir``."""
        return None if self.final is None else self.final.resolve(self.run_dir)

    def edits_made(self, index: int) -> list[PlanEdit]:
        """The typed edits that made round ``index``'s plan: those its plan has beyond the round
        before (a plan carries every edit made so far, oldest first)."""
        by_index = {r.index: r for r in self.rounds}
        current = by_index.get(index)
        if current is None:
            return []
        before = by_index.get(index - 1)
        done = before.plan.edits if before is not None else []
        if current.plan.edits[: len(done)] == done:
            return current.plan.edits[len(done):]
        # Not a continuation of the round before (a plan made afresh): show what it carries.
        return list(current.plan.edits)
