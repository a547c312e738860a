"""The AudioSet ontology shipped as package data, read through ualm_agent.ontology."""

from __future__ import annotations

import fnmatch
import tomllib

import pytest

from conftest import ROOT
from ualm_agent import ontology
from ualm_agent.labels import audioset_names


def test_the_527_classes_in_class_index_order():
    classes = ontology.classes()
    assert len(classes) == 527 == len(set(classes))
    # The first and last rows of AudioSet's class_labels_indices.csv.
    assert classes[0] == "Speech"
    assert classes[1] == "Male speech, man speaking"
    assert classes[-1] == "Field recording"
    assert all(ontology.node(name).class_index == i for i, name in enumerate(classes))


def test_the_whole_ontology_is_there():
    names = ontology.names()
    assert len(names) == 632 == len(set(names))
    assert set(ontology.classes()) < set(names)


def test_bark_is_a_dog_sound():
    assert ontology.parents("Bark") == ("Dog",)
    assert "Bark" in ontology.children("Dog")
    assert ontology.parents("Dog") == ("Domestic animals, pets",)


def test_a_node_can_have_several_parents():
    assert set(ontology.parents("Vehicle horn, car horn, honking")) == {"Car", "Alarm"}
    assert "Vehicle horn, car horn, honking" in ontology.children("Alarm")


def test_parents_and_children_agree_everywhere():
    for name in ontology.names():
        for parent in ontology.parents(name):
            assert name in ontology.children(parent)
        for child in ontology.children(name):
            assert name in ontology.parents(child)


def test_the_seven_top_level_categories():
    tops = {name for name in ontology.names() if not ontology.parents(name)}
    assert tops == {"Human sounds", "Animal", "Music", "Natural sounds", "Sounds of things",
                    "Source-ambiguous sounds", "Channel, environment and background"}
    assert ontology.top_level("Bark") == "Animal"
    assert ontology.top_level("Music") == "Music"
    # Every class reaches one of them.
    assert {ontology.top_level(name) for name in ontology.classes()} == tops


def test_is_class_tells_classes_from_other_nodes():
    assert ontology.is_class("Bark")
    # Nodes of the ontology that are not among the 527 evaluation classes.
    assert not ontology.is_class("Human voice")
    assert not ontology.is_class("Human sounds")
    assert not ontology.is_class("no such sound")


def test_every_yamnet_name_is_a_class():
    yamnet = audioset_names()
    assert all(ontology.is_class(name) for name in yamnet)
    # YAMNet leaves out 6 of the 527; a benchmark reaches those only through their parents.
    missing = set(ontology.classes()) - set(yamnet)
    assert missing == {"Male speech, man speaking", "Female speech, woman speaking", "Battle cry",
                       "Male singing", "Female singing", "Funny music"}
    reachable = {name for name in missing if set(ontology.parents(name)) & set(yamnet)}
    # "Funny music" hangs under "Music mood", a node that is no class: YAMNet can never cover it.
    assert missing - reachable == {"Funny music"}
    assert ontology.parents("Funny music") == ("Music mood",) and not ontology.is_class("Music mood")


def test_an_unknown_name_is_refused_by_name():
    with pytest.raises(KeyError, match="Barkk"):
        ontology.parents("Barkk")
    with pytest.raises(KeyError, match="Barkk"):
        ontology.children("Barkk")


def test_the_data_file_is_declared_as_package_data():
    # The wheel carries only what package-data names: the data file must match one of its patterns.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["ualm_agent"]
    data_file = f"data/{ontology.DATA_FILE}"
    assert (ROOT / "ualm_agent" / data_file).is_file()
    assert any(fnmatch.fnmatch(data_file, p) for p in patterns)


def test_the_data_file_names_its_source_and_licence():
    head = (ROOT / "ualm_agent" / "data" / ontology.DATA_FILE).read_text(encoding="utf-8")[:2000]
    assert "CC BY-SA 4.0" in head and "ontology.json" in head
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    assert "AudioSet ontology" in notice and "CC BY-SA 4.0" in notice
