"""Candidate search: a round made of several takes, of which the critic's best goes on.

Take j renders the plan with every event's ``take`` moved on by j and its own seed, so a mixer
over sound sources draws other recordings or other sources for each event, and a model-based
generator samples again. Each take is a ``Candidate``. The round's own fields (audio, observation, critique, ...) always
mirror one take, the lead: the best-scored take once the critic has scored them, before that the
first take still usable. With one take per round nothing but the round's fields is recorded, so a
run without candidate search looks as it always did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ualm_agent.schema import Candidate, RichCaption, Round

# Take j > 0 of round i is seeded seed + i + j * STRIDE: far from every other round's seed, so no two
# takes of a run share one, and take 0 keeps the seed a run without candidate search uses.
STRIDE = 1_000_003
# LayoutEvent.take's upper bound.
MAX_TAKE = 1000
_FIELDS = ("audio", "audio_out", "unrendered", "notes", "observation", "heard", "critique", "failed", "error")


def take_seed(seed: int, round_index: int, take: int) -> int:
    return (seed + round_index + take * STRIDE) % 2**64


def take_plan(plan: RichCaption, take: int) -> RichCaption:
    """The plan take ``take`` renders: each event's own take moved on by ``take``."""
    if take == 0:
        return plan
    layout = [ev.model_copy(update={"take": min(MAX_TAKE, ev.take + take)}) for ev in plan.layout]
    return plan.model_copy(update={"layout": layout})


def takes_of(cur: Round) -> list[Candidate]:
    """The round's takes; a round without candidate search is its own single take (whose seed is
    not recorded: only the round's fields are)."""
    if cur.candidates:
        return list(cur.candidates)
    return [Candidate(take=0, seed=0, **{name: getattr(cur, name) for name in _FIELDS})]


def each_usable(cur: Round, work: Callable[[Candidate], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work`` on every take of the round not failed so far; the dict it returns updates that
    take. Returns the round's fields for the takes, as ``settle`` does."""
    takes = takes_of(cur)
    for j, take in enumerate(takes):
        if not take.failed:
            takes[j] = take.model_copy(update=work(take))
    return settle(takes)


def lead(takes: list[Candidate]) -> int:
    """The take the round goes on with: the best score (ties: the earliest), else the first usable."""
    usable = [t for t in takes if not t.failed]
    if not usable:
        return 0
    return takes.index(max(usable, key=lambda t: (t.score, -t.take)))


def settle(takes: list[Candidate]) -> dict[str, Any]:
    """The round's fields for its takes: the lead take's, plus the takes when there are several."""
    index = lead(takes)
    pick = takes[index]
    update: dict[str, Any] = {name: getattr(pick, name) for name in _FIELDS}
    if len(takes) > 1:
        update.update(candidates=takes, chosen=index)
    return update
