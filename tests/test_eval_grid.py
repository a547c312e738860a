"""Ablation grids: keys, values, names, baselines; every configuration validated before any work."""

from __future__ import annotations

import pytest

from ualm_agent.errors import UsageError
from ualm_agent.evaluation.grid import build_grid, parse_axis, parse_value


def test_values_parse_to_booleans_numbers_and_text():
    assert [parse_value(v) for v in ("on", "OFF", "true", "false", "yes", "no")] == [True, False, True, False, True, False]
    assert parse_value("3") == 3 and isinstance(parse_value("3"), int)
    assert parse_value("0.25") == 0.25 and parse_value("-1e-3") == -0.001
    assert parse_value("yamnet") == "yamnet"
    assert parse_value("1.2.3") == "1.2.3"


def test_shorthands_expand_to_loop_settings_and_the_grid_is_every_combination():
    grid = build_grid(["reflect=0,1", "critique=on,off", "enrich=off"])
    assert [a.path for a in grid.axes] == ["loop.reflect", "loop.critique", "loop.enrich"]
    # Single-valued keys set every configuration but stay out of the names.
    assert grid.names() == ["reflect=0,critique=on", "reflect=0,critique=off", "reflect=1,critique=on",
                            "reflect=1,critique=off"]
    loops = [(c.config.loop.reflect, c.config.loop.critique, c.config.loop.enrich) for c in grid.configs]
    assert loops == [(0, True, False), (0, False, False), (1, True, False), (1, False, False)]
    assert grid.baseline is grid.configs[0]


def test_full_dotted_paths_and_top_level_fields():
    grid = build_grid(["loop.accept_score=0.5,0.9", "duration_s=4", "selection=last"])
    assert [c.config.loop.accept_score for c in grid.configs] == [0.5, 0.9]
    assert {c.config.duration_s for c in grid.configs} == {4.0}
    assert {c.config.loop.selection for c in grid.configs} == {"last"}
    assert grid.names() == ["loop.accept_score=0.5", "loop.accept_score=0.9"]


def test_component_choice_and_backend_settings():
    grid = build_grid(["listener=yamnet,clap", "critic.speech_word_share=0.4,0.7"])
    kinds = [(c.config.listener.kind, c.config.critic.settings()) for c in grid.configs]
    assert kinds == [
        ("yamnet", {"speech_word_share": 0.4}),
        ("yamnet", {"speech_word_share": 0.7}),
        ("clap", {"speech_word_share": 0.4}),
        ("clap", {"speech_word_share": 0.7}),
    ]
    # A setting of the chosen backend goes on after the choice (which drops the old backend's settings).
    grid = build_grid(["listener.window_s=3", "listener=clap"])
    assert grid.configs[0].config.listener.settings() == {"window_s": 3}
    # A tuple setting takes its items joined by '+'; the codec can be switched off.
    grid = build_grid(["critic.revise_on=count+order,count", "codec=none,xcodec"])
    assert [c.config.critic.settings()["revise_on"] for c in grid.configs][::2] == [("count", "order"), ("count",)]
    assert [None if c.config.codec is None else c.config.codec.kind for c in grid.configs][:2] == [None, "xcodec"]


def test_unknown_key_lists_the_valid_keys():
    with pytest.raises(UsageError) as err:
        build_grid(["reflections=0,1"])
    message = str(err.value)
    assert "unknown grid key 'reflections'" in message
    for key in ("reflect", "critique", "enrich", "selection", "accept_score", "loop.max_reflect", "duration_s", "listener"):
        assert key in message
    assert "\n" not in message


def test_unknown_backend_setting_lists_that_backends_settings():
    with pytest.raises(UsageError) as err:
        build_grid(["critic.threshold=0.5"])
    message = str(err.value)
    assert "critic 'rules' has no setting 'threshold'" in message
    assert "speech_word_share" in message and "accept_threshold" in message
    # The backend is the one the configuration chose: yamnet has a threshold, the rules critic not.
    build_grid(["listener.threshold=0.2,0.3"])
    with pytest.raises(UsageError, match="clap' has no setting 'patch_hop_frames'"):
        build_grid(["listener=yamnet,clap", "listener.patch_hop_frames=24"])


def test_unknown_component_lists_the_registered_names():
    with pytest.raises(UsageError) as err:
        build_grid(["listener=yamnet,panns"])
    message = str(err.value)
    assert "unknown listener" in message and "panns" in message
    for name in ("yamnet", "clap", "whisper", "composite"):
        assert name in message


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("reflect=one", "--grid reflect=one: bad value"),
        ("reflect=0,20", "reflect 20 is over the cap"),
        ("selection=best,worst", "--grid selection=worst: bad value"),
        ("accept_score=1.5", "--grid accept_score=1.5: bad value"),
        ("critic.speech_word_share=high", "--grid critic.speech_word_share=high: bad value"),
        ("duration_s=0", "duration must be above 0"),
        ("reflect=0,,1", "a value is empty"),
        ("reflect=1,1", "a value is repeated"),
        ("reflect", "expected KEY=V1,V2"),
    ],
)
def test_bad_values_are_usage_errors(spec, needle):
    with pytest.raises(UsageError) as err:
        build_grid([spec])
    assert needle in str(err.value)
    assert err.value.exit_code == 2


def test_a_key_given_twice_is_rejected():
    with pytest.raises(UsageError, match="give each key once"):
        build_grid(["reflect=0,1", "loop.reflect=2"])


def test_baseline_by_name_in_any_order_and_spelling():
    specs = ["reflect=0,1", "critique=on,off"]
    assert build_grid(specs, baseline="reflect=1,critique=off").baseline.name == "reflect=1,critique=off"
    assert build_grid(specs, baseline="critique=false,loop.reflect=1").baseline.name == "reflect=1,critique=off"
    with pytest.raises(UsageError) as err:
        build_grid(specs, baseline="reflect=3")
    assert "reflect=0,critique=on" in str(err.value)  # the valid names are listed


def test_configurations_start_from_the_config_file(tmp_path):
    cfg = tmp_path / "agent.toml"
    cfg.write_text("duration_s = 4.0\n[loop]\nreflect = 1\n[listener]\nkind = 'yamnet'\nthreshold = 0.3\n")
    grid = build_grid(["critique=on,off"], config_file=cfg)
    assert {(c.config.duration_s, c.config.loop.reflect) for c in grid.configs} == {(4.0, 1)}
    assert grid.configs[0].config.listener.settings() == {"threshold": 0.3}
    # Switching the listener drops the file's yamnet settings, which clap does not have.
    grid = build_grid(["listener=clap"], config_file=cfg)
    assert grid.configs[0].config.listener.settings() == {}


def test_folder_names_are_safe_and_the_record_lists_every_configuration():
    grid = build_grid(["generator.samples=/data/a,/data/b"])
    assert [c.folder for c in grid.configs] == ["generator.samples=_data_a", "generator.samples=_data_b"]
    record = grid.describe()
    assert record["baseline"] == "generator.samples=/data/a"
    assert [c["name"] for c in record["configs"]] == grid.names()


def test_axis_keeps_the_written_key_and_values():
    axis = parse_axis("critique=on,off")
    assert (axis.key, axis.path, axis.texts, axis.values) == ("critique", "loop.critique", ("on", "off"), (True, False))
