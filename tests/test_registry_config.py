"""Registry, entry-point plugins, config loading and the instance-sharing builder."""

from __future__ import annotations

from typing import Literal

import pytest

from ualm_agent import builders, registry
from ualm_agent.config import AgentConfig
from ualm_agent.errors import ConfigError, ModelUnavailableError
from ualm_agent.registry import BackendConfig, register
from ualm_agent.schema import Critique, RichCaption


class SharedSettings(BackendConfig):
    kind: Literal["shared-test"] = "shared-test"
    size: int = 1


@register("shared-test", roles=("planner", "critic"), config=SharedSettings)
class SharedModel:
    """One model serving two roles (like the unified UALM model)."""

    loads = 0

    def __init__(self, *, size: int = 1) -> None:
        SharedModel.loads += 1
        self.size = size

    def plan(self, prompt, *, duration_s=None, answers=None):
        return RichCaption(description=prompt)

    def critique(self, plan, heard, observation, *, unrendered=()):
        return Critique(score=1.0, verdict="accept")


@pytest.fixture(autouse=True)
def _fresh_cache():
    builders.clear_cache()
    yield
    builders.clear_cache()


def test_one_backend_serving_two_roles_is_built_once():
    SharedModel.loads = 0
    cfg = AgentConfig.load(planner="shared-test", critic="shared-test")
    parts = builders.build_components(cfg)
    assert parts.planner is parts.critic
    assert SharedModel.loads == 1
    builders.build_components(cfg)  # later runs in the process reuse it
    assert SharedModel.loads == 1


def test_different_settings_give_different_instances():
    cfg = AgentConfig.model_validate({"planner": {"kind": "shared-test", "size": 2}, "critic": {"kind": "shared-test"}})
    parts = builders.build_components(cfg)
    assert parts.planner is not parts.critic and parts.planner.size == 2


def test_entry_point_plugins_register_backends():
    # tests/plugin holds a dist-info whose entry point names ualm_test_fakes.
    assert "tone" in registry.names("generator")
    backend = registry.get("listener", "tone")
    assert backend.origin == "ualm_test_fakes"


def test_unknown_backend_lists_valid_names():
    with pytest.raises(ConfigError, match="valid generators: .*composer"):
        registry.get("generator", "nope")


def test_settings_are_checked_against_the_backend_type():
    cfg = AgentConfig.model_validate({"listener": {"kind": "yamnet", "treshold": 0.3}})
    with pytest.raises(ConfigError, match="invalid settings for listener 'yamnet'.*treshold"):
        cfg.validate_components()


def test_missing_dependency_fails_with_the_install_hint():
    cfg = AgentConfig.load(listener="needs-missing")
    with pytest.raises(ModelUnavailableError, match="pip install ualm-agent-no-such-package"):
        builders.build_component("listener", cfg)


def test_toml_file_and_overrides(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('seed = 4\n[loop]\nreflect = 1\nselection = "last"\n[listener]\nkind = "yamnet"\nthreshold = 0.3\n')
    cfg = AgentConfig.load(path, **{"loop.reflect": 5, "generator": "tone"})
    assert cfg.seed == 4 and cfg.loop.reflect == 5 and cfg.loop.selection == "last"
    assert cfg.listener.settings() == {"threshold": 0.3}
    assert cfg.generator.kind == "tone"
    # The resolved config written to a run folder loads back to the same thing.
    again = tmp_path / "resolved.toml"
    again.write_text(cfg.to_toml())
    assert AgentConfig.load(again) == cfg


def test_switching_backend_drops_the_old_backend_settings(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('[listener]\nkind = "yamnet"\nthreshold = 0.3\n')
    cfg = AgentConfig.load(path, listener="tone")
    assert cfg.listener.kind == "tone" and cfg.listener.settings() == {}


@pytest.mark.parametrize(
    "overrides,needle",
    [
        ({"loop.reflect": -1}, "reflect must be 0 or more"),
        ({"loop.reflect": 4, "loop.max_reflect": 3}, "over the cap of 3"),
        ({"duration_s": 0}, "duration must be above 0"),
        ({"loop.selection": "worst"}, "selection"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_invalid_config_is_a_config_error(overrides, needle):
    with pytest.raises(ConfigError, match=needle):
        AgentConfig.load(**overrides)


def test_bad_toml_is_a_config_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[loop\nreflect = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        AgentConfig.load(path)
