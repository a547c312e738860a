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


def test_open_models_config_sets_every_role_to_an_open_model():
    cfg = AgentConfig.load(CONFIGS[0].parent / "open-models.toml")
    # One judge model serves as listener, captioner and critic: the same settings, so one instance.
    judged = {role: cfg.resolved(role) for role in ("listener", "captioner", "critic")}
    assert {s.kind for s in judged.values()} == {"qwen2-audio"}
    assert len({s.model_dump_json(exclude={"kind"}) for s in judged.values()}) == 1
    # Stable Audio renders each event for the mixer; Piper speaks quoted words.
    sources = cfg.resolved("generator").sources
    assert sources[0] == "speech" and sources[1]["kind"] == "stable-audio"
    assert cfg.planner.kind == "llm" and cfg.loop.candidates >= 1
    # The evaluator grades with CLAP and YAMNet, not with the agent's own judge.
    assert cfg.evaluator["clap"]["kind"] == "clap" and cfg.evaluator["listener"]["kind"] == "yamnet"


def test_open_models_config_fails_fast_offline_naming_a_model(monkeypatch):
    import time

    from ualm_agent.builders import build_component, clear_cache
    from ualm_agent.errors import ModelUnavailableError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = AgentConfig.load(CONFIGS[0].parent / "open-models.toml", device="cpu", dtype="float32")
    clear_cache()
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="Qwen/Qwen2-Audio-7B-Instruct"):
        build_component("listener", cfg)
    assert time.perf_counter() - started < 10


def test_eval_grades_with_the_config_files_evaluator_table(tmp_path, cli_env):
    import json

    from cli_helpers import cli

    config = tmp_path / "agent.toml"
    config.write_text('duration_s = 4.0\n[loop]\nreflect = 0\n[evaluator]\nlistener = { kind = "composite", '
                      'members = [{ kind = "yamnet" }] }\nmatch_threshold = 0.6\n')
    prompts = tmp_path / "set.jsonl"
    prompts.write_text(json.dumps({"id": "bell", "prompt": "a church bell rings",
                                   "expected": {"events": [{"label": "Church bell"}]}}) + "\n")
    out = tmp_path / "eval"
    res = cli(["eval", str(prompts), "--out", str(out), "--config", str(config)], cli_env, timeout=300)
    assert res.returncode == 0, res.stderr
    (row,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert row["graded_by"] == "composite(yamnet)"
    # --eval-listener still wins over the table.
    res = cli(["eval", str(prompts), "--out", str(tmp_path / "eval2"), "--config", str(config), "--eval-listener", "yamnet"],
              cli_env, timeout=300)
    assert res.returncode == 0, res.stderr
    (row,) = [json.loads(line) for line in (tmp_path / "eval2" / "results.jsonl").read_text().splitlines()]
    assert row["graded_by"] == "yamnet"
