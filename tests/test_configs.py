"""The example configs in configs/ name real backends with valid settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ualm_agent.config import AgentConfig

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))


def test_there_are_example_configs():
    assert {p.name for p in CONFIGS} >= {"ualm.toml", "ualm-recipe.toml", "hub-models.toml", "offline-llm.toml"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_example_config_validates_against_every_backend(path):
    cfg = AgentConfig.load(path)
    cfg.validate_components()
    for member in (cfg.listener.settings().get("members") or []) if cfg.listener.kind == "composite" else []:
        AgentConfig.model_validate({"listener": member}).validate_components()


def test_ualm_config_shares_one_model_across_roles():
    cfg = AgentConfig.load(CONFIGS[0].parent / "ualm.toml")
    cfg.set_model("/elsewhere/ualm")
    settings = {role: cfg.resolved(role).model_dump_json() for role in ("planner", "generator", "captioner", "critic")}
    # The generator carries its decoding settings, which are the defaults: one instance for all.
    assert len(set(settings.values())) == 1
