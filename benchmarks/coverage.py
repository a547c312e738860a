"""Coverage of the 527 AudioSet classes: does the offline stack render each one so it is heard?

Each class is rendered alone by the default generator (a 4 s clip, the event from 0.5 s
to 3.5 s, label and phrase = the class name) and heard by the YAMNet listener. The clip's
score for a class is its highest frame probability (max pooling over YAMNet's 0.96 s
patches, 0.48 s apart): a short sound then scores as well as a long one. A class is
covered when it, or one of its direct parents in the ontology, is among the clip's top 5.
The parent rule matters for the 6 classes YAMNet cannot name ("Male speech, man speaking"
is covered by "Speech") and for classes YAMNet confuses with their siblings. A class the
generator reports as unrendered is not covered and is not listened to.

    python benchmarks/coverage.py [--seed 0] [--limit N] [--classes "Bark;Siren"]
                                  [--json OUT] [--uncovered OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

TOP_K = 5
DURATION_S = 4.0
EVENT_S = (0.5, 3.5)


@dataclass
class ClassResult:
    """What happened to one class: rendered or not, what the listener heard, covered or not."""

    name: str
    category: str
    rendered: bool
    # The generator's own words about how it rendered the event (e.g. a stand-in sound).
    notes: list[str] = field(default_factory=list)
    error: str = ""
    # The generator's own answer to can_render (None when it cannot tell): False means the
    # sound heard, if any, is a stand-in chosen for the class.
    can_render: bool | None = None
    top: list[tuple[str, float]] = field(default_factory=list)
    covered: bool = False
    # The top-k name that covered it: the class itself or a direct parent.
    covered_by: str = ""
    # Rendered with a sound of its own, not a stand-in the generator chose for it (its notes say so).
    own_sound: bool = False


# How the composer's notes say that another sound stood in for a label.
STAND_IN_NOTES = ("cannot be rendered here", "has no sound of its own here")


def covering_name(target: str, top: Sequence[str]) -> str | None:
    """The name in ``top`` that covers ``target``: the class itself first, else a direct parent."""
    from ualm_agent import ontology

    if target in top:
        return target
    return next((p for p in ontology.parents(target) if p in top), None)


def is_covered(target: str, top: Sequence[str]) -> bool:
    """The benchmark's rule: ``target`` or one of its direct parents is among ``top``."""
    return covering_name(target, top) is not None


def top_classes(frame_probs: np.ndarray, names: Sequence[str], k: int = TOP_K,
                ignore: Iterable[str] = ()) -> list[tuple[str, float]]:
    """The ``k`` classes with the highest clip scores, max-pooled over frames ([frames, classes]),
    leaving out the names in ``ignore``. Ties keep the model's class order."""
    clip = frame_probs.max(axis=0)
    skipped = set(ignore)
    order = [i for i in np.argsort(-clip, kind="stable") if names[i] not in skipped][:k]
    return [(names[i], round(float(clip[i]), 4)) for i in order]


def one_event_request(name: str, seed: int):
    """The generation request for ``name`` alone: one event, label and phrase both the class name."""
    from ualm_agent.roles import GenerationRequest
    from ualm_agent.schema import LayoutEvent, RichCaption

    caption = RichCaption(
        keywords=[name],
        layout=[LayoutEvent(label=name, phrase=name, start_s=EVENT_S[0], end_s=EVENT_S[1])],
        description=name,
        duration_s=DURATION_S,
    )
    return GenerationRequest(caption=caption, text=caption.to_text(), duration_s=DURATION_S, seed=seed)


def default_generator():
    """The default stack's generator, built as a run builds it (no user config file)."""
    from ualm_agent.builders import build_component
    from ualm_agent.config import AgentConfig

    return build_component("generator", AgentConfig())


def yamnet_listener():
    """The yamnet listener with its default settings; only its frame scores are used here."""
    from ualm_agent import registry
    from ualm_agent.errors import ModelUnavailableError

    backend = registry.get("listener", "yamnet")
    ok, reason = backend.availability()
    if not ok:
        raise ModelUnavailableError(f"listener 'yamnet' is not available: {reason}")
    return backend.build(backend.config_cls(kind="yamnet"))


def measure_class(name: str, generator, listener, seed: int = 0, k: int = TOP_K) -> ClassResult:
    """Render ``name`` alone, listen, and judge coverage."""
    from ualm_agent import ontology
    from ualm_agent.labels import audioset_names
    from ualm_agent.roles import KnowsRenderable

    result = ClassResult(name=name, category=ontology.top_level(name), rendered=False)
    if isinstance(generator, KnowsRenderable):
        result.can_render = generator.can_render(name)
    try:
        generated = generator.generate(one_event_request(name, seed))
    except Exception as exc:  # one class the generator fails on must not end a 527-class run
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.notes = list(generated.notes)
    if name in generated.unrendered:
        return result
    result.rendered = True
    result.own_sound = result.can_render is not False and not any(
        name in note and any(mark in note for mark in STAND_IN_NOTES) for note in result.notes)
    # The labels the listener never reports are left out of the ranking: "Silence" would
    # otherwise take a top-5 place in nearly every clip, from the quiet before and after the event.
    ignored = getattr(getattr(listener, "settings", None), "ignore_labels", ())
    result.top = top_classes(listener.frame_probabilities(generated.audio), audioset_names(), k, ignored)
    hit = covering_name(name, [n for n, _ in result.top])
    result.covered, result.covered_by = hit is not None, hit or ""
    return result


def run_coverage(classes: Iterable[str], generator=None, listener=None, seed: int = 0) -> list[ClassResult]:
    """``measure_class`` over ``classes``, with one generator and one listener for all of them."""
    generator = generator if generator is not None else default_generator()
    listener = listener if listener is not None else yamnet_listener()
    return [measure_class(name, generator, listener, seed) for name in classes]


def summarise(results: Sequence[ClassResult]) -> dict:
    """Totals overall and per top-level category (each class counts in one, see ontology.top_level)."""
    by_category: dict[str, dict[str, int]] = {}
    for r in results:
        row = by_category.setdefault(r.category, {"covered": 0, "covered_own": 0, "rendered": 0, "total": 0})
        row["total"] += 1
        row["rendered"] += r.rendered
        row["covered"] += r.covered
        row["covered_own"] += r.covered and r.own_sound
    return {
        "covered": sum(r.covered for r in results),
        # Covered with the class's own sound; the rest of "covered" was a stated stand-in heard as it or its parent.
        "covered_own": sum(r.covered and r.own_sound for r in results),
        "rendered": sum(r.rendered for r in results),
        "total": len(results),
        "by_category": dict(sorted(by_category.items())),
    }


def select_classes(classes: str | None, limit: int | None) -> list[str]:
    from ualm_agent import ontology

    if classes:
        chosen = [c.strip() for c in classes.split(";") if c.strip()]
        unknown = [c for c in chosen if not ontology.is_class(c)]
        if unknown:
            raise SystemExit(f"not AudioSet classes: {'; '.join(unknown)}")
    else:
        chosen = list(ontology.classes())
    return chosen[:limit] if limit is not None else chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="only the first N classes (a quick run)")
    parser.add_argument("--classes", default=None, help='only these classes, separated by ";"')
    parser.add_argument("--json", type=Path, default=None, help="write per-class detail here")
    parser.add_argument("--uncovered", type=Path, default=None, help="write the uncovered class names here, sorted")
    args = parser.parse_args(argv)

    chosen = select_classes(args.classes, args.limit)
    t0 = time.perf_counter()
    results = run_coverage(chosen, seed=args.seed)
    elapsed = time.perf_counter() - t0
    summary = summarise(results)

    print(f"covered {summary['covered']} / {summary['total']} classes, {summary['covered_own']} of them with their "
          f"own sound, the rest through a stated stand-in (rendered {summary['rendered']}; top {TOP_K}, max pooling, "
          f"seed {args.seed}; {elapsed:.1f} s)")
    for category, row in summary["by_category"].items():
        print(f"  {category:<36} {row['covered']:>4} / {row['total']:<4} ({row['covered_own']} own sound)")
    if args.json:
        report = {"seed": args.seed, "top_k": TOP_K, "pooling": "max", "duration_s": DURATION_S,
                  "event_s": list(EVENT_S), **summary, "classes": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.uncovered:
        args.uncovered.write_text("".join(f"{n}\n" for n in sorted(r.name for r in results if not r.covered)),
                                  encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
