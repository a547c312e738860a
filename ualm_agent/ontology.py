"""The AudioSet ontology: its 632 nodes, their hierarchy and the 527 evaluation classes.

Read from ``data/audioset_ontology.tsv`` (derived from Google's ``ontology.json``, CC BY-SA 4.0;
the file's header and ``data/README.md`` say how). Nodes are named by their display names,
which are unique in the ontology and are what YAMNet and the plans use. A node may have
several parents ("Vehicle horn, car horn, honking" is both a car sound and an alarm).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

DATA_FILE = "audioset_ontology.tsv"


@dataclass(frozen=True)
class Node:
    """One ontology node; ``class_index`` is its index among the 527 classes, or None."""

    id: str
    name: str
    parent_ids: tuple[str, ...]
    class_index: int | None
    restrictions: tuple[str, ...]


@dataclass(frozen=True)
class _Ontology:
    by_name: dict[str, Node]
    by_id: dict[str, Node]
    children_ids: dict[str, tuple[str, ...]]
    classes: tuple[str, ...]


@cache
def _ontology() -> _Ontology:
    text = files("ualm_agent").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    nodes = []
    for line in lines[1:]:  # the first is the column header
        node_id, name, parents, index, restrictions = line.split("\t")
        nodes.append(
            Node(node_id, name, tuple(parents.split()), int(index) if index else None,
                 tuple(r for r in restrictions.split(",") if r))
        )
    children: dict[str, list[str]] = {n.id: [] for n in nodes}
    for n in nodes:
        for p in n.parent_ids:
            children[p].append(n.id)
    indexed = sorted((n.class_index, n.name) for n in nodes if n.class_index is not None)
    return _Ontology(
        by_name={n.name: n for n in nodes},
        by_id={n.id: n for n in nodes},
        children_ids={k: tuple(v) for k, v in children.items()},
        classes=tuple(name for _, name in indexed),
    )


def node(name: str) -> Node:
    """The node named ``name``; a KeyError names the unknown name."""
    try:
        return _ontology().by_name[name]
    except KeyError:
        raise KeyError(f"not an AudioSet ontology node: {name!r}") from None


def names() -> tuple[str, ...]:
    """All 632 node names, in the ontology's own order."""
    return tuple(_ontology().by_name)


def classes() -> tuple[str, ...]:
    """The 527 AudioSet evaluation classes, in class index order (as in class_labels_indices.csv)."""
    return _ontology().classes


def is_class(name: str) -> bool:
    """Whether ``name`` is one of the 527 classes (False for other nodes and for unknown names)."""
    found = _ontology().by_name.get(name)
    return found is not None and found.class_index is not None


def parents(name: str) -> tuple[str, ...]:
    """The names of the direct parents of ``name``; empty for a top-level category."""
    by_id = _ontology().by_id
    return tuple(by_id[p].name for p in node(name).parent_ids)


def children(name: str) -> tuple[str, ...]:
    """The names of the direct children of ``name``, in the ontology's order."""
    o = _ontology()
    return tuple(o.by_id[c].name for c in o.children_ids[node(name).id])


def top_level(name: str) -> str:
    """The top-level category above ``name``, reached through first parents (itself at the top).

    A node under two categories is given the one its first-listed parent leads to, so
    every node counts in exactly one category.
    """
    current = node(name)
    seen = {current.id}
    while current.parent_ids:
        current = _ontology().by_id[current.parent_ids[0]]
        if current.id in seen:  # the ontology has no cycles; this guards a hand-edited file
            raise ValueError(f"the ontology loops at {current.name!r}")
        seen.add(current.id)
    return current.name
