"""Device/dtype settings, --model, model folders that fail fast, and validated model output."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Literal

import pytest

from ualm_agent import builders, registry
from ualm_agent.config import AgentConfig
from ualm_agent.devices import TorchSettings, resolve, resolve_device
from ualm_agent.errors import ConfigError, ModelUnavailableError, UsageError
from ualm_agent.model_sources import local_model_dir
from ualm_agent.registry import register
from ualm_agent.schema import Critique, Issue, LayoutEvent, RichCaption
from ualm_agent.structured import ModelOutputError, extract_json, generate_validated, parse_critique, parse_rich_caption


class DeviceProbeSettings(TorchSettings):
    kind: Literal["device-probe"] = "device-probe"
    model: str = "none"


@register("device-probe", roles=("generator",), config=DeviceProbeSettings)
class DeviceProbe:
    """Records the settings it was built with."""

    def __init__(self, *, device: str = "auto", dtype: str = "auto", model: str = "none") -> None:
        self.device, self.dtype, self.model = device, dtype, model

    def generate(self, request):  # pragma: no cover - never run
        raise NotImplementedError


@pytest.fixture(autouse=True)
def _fresh_cache():
    builders.clear_cache()
    yield
    builders.clear_cache()


# ---- device and dtype ---------------------------------------------------------------------------


def test_cpu_resolves_to_float32_and_auto_to_what_is_present():
    import torch

    device, dtype = resolve("cpu", "auto")
    assert device.type == "cpu" and dtype == torch.float32
    assert resolve("cpu", "bf16")[1] == torch.bfloat16
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_cuda_without_a_gpu_is_a_usage_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this check is about machines without CUDA")  # CI machines have none
    with pytest.raises(UsageError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_config_device_and_dtype_reach_torch_backends_only_where_unset():
    cfg = AgentConfig.load(None, generator="device-probe", device="cpu", dtype="bfloat16")
    settings = cfg.resolved("generator")
    assert settings.device == "cpu" and settings.dtype == "bfloat16"
    # A backend's own setting wins over the global default.
    cfg = AgentConfig.model_validate({"generator": {"kind": "device-probe", "device": "cuda:1"}, "device": "cpu"})
    assert cfg.resolved("generator").device == "cuda:1"
    # Backends without torch settings are untouched (and do not reject the keys).
    assert not hasattr(cfg.resolved("listener"), "device")


@pytest.mark.parametrize("key,value", [("device", "gpu"), ("dtype", "int3")])
def test_unknown_device_or_dtype_is_a_config_error(key, value):
    with pytest.raises(ConfigError, match=value):
        AgentConfig.load(None, **{key: value})


def test_model_flag_sets_the_model_of_backends_that_take_one():
    cfg = AgentConfig.load(None, generator="device-probe")
    assert cfg.set_model("some/model") == ["generator"]
    assert builders.build_component("generator", cfg).model == "some/model"
    cfg.set_model("/local/folder", "generator")
    assert cfg.resolved("generator").model == "/local/folder"
    with pytest.raises(ConfigError, match="takes no model"):
        cfg.set_model("x", "listener")
    with pytest.raises(ConfigError, match="none of the selected backends"):
        AgentConfig.load(None).set_model("x")


def test_cli_rejects_a_bad_device_with_exit_code_2(tmp_path, cli_env):
    proc = subprocess.run(
        [sys.executable, "-m", "ualm_agent.cli", "run", "a dog barks", "--device", "tpu", "-o", str(tmp_path)],
        capture_output=True, text=True, env=cli_env, timeout=120,
    )
    assert proc.returncode == 2
    assert "unknown device 'tpu'" in proc.stderr and "Traceback" not in proc.stderr
    assert not any(tmp_path.iterdir())


# ---- model folders ------------------------------------------------------------------------------


def test_a_local_folder_is_used_as_is(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert local_model_dir(str(tmp_path), what="x", must_contain=("config.json",)) == tmp_path


def test_a_folder_without_the_model_files_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not a model folder .it lacks config.json"):
        local_model_dir(str(tmp_path), what="generator test", must_contain=("config.json",))


def test_a_missing_path_is_a_usage_error_that_names_it_and_suggests_no_download(tmp_path):
    with pytest.raises(UsageError, match="no such folder .*--model") as err:
        local_model_dir(str(tmp_path / "nope"), what="generator test")
    assert "hf download" not in str(err.value)


def test_an_uncached_hub_id_fails_fast_offline():
    start = time.monotonic()
    with pytest.raises(ModelUnavailableError) as err:
        local_model_dir("facebook/musicgen-small", what="generator musicgen")
    assert time.monotonic() - start < 5
    message = str(err.value)
    for part in ("facebook/musicgen-small", "--model", "HF_HOME", "offline"):
        assert part in message


def test_a_hub_id_in_the_cache_is_found_without_network(tmp_path, monkeypatch):
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    snapshot = cache / "models--org--tiny" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (cache / "models--org--tiny" / "refs").mkdir()
    (cache / "models--org--tiny" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    found = local_model_dir("org/tiny", what="x", must_contain=("config.json",))
    assert found.resolve() == snapshot.resolve()


# ---- validated model output ----------------------------------------------------------------------


def test_retries_pass_feedback_and_stop_at_the_first_valid_answer():
    answers = iter(["no idea", '{"score": 2, "verdict": "accept"}', '{"score": 0.9, "verdict": "accept"}'])
    seen = []

    def produce(feedback):
        seen.append(feedback)
        return next(answers)

    critique = generate_validated(produce, parse_critique, retries=2, what="critique")
    assert critique.score == 0.9
    assert seen[0] is None and "Verdict" in seen[1] and "score" in seen[2]


def test_bounded_retries_end_in_a_clear_error():
    calls = []

    def produce(feedback):
        calls.append(feedback)
        return "garbage words"

    with pytest.raises(ModelOutputError, match=r"tiny-model did not produce a valid critique in 3 tries.*garbage words"):
        generate_validated(produce, parse_critique, retries=2, what="critique", model="tiny-model")
    assert len(calls) == 3


def test_json_is_found_inside_prose_and_fences():
    text = 'Sure! ```json\n{"a": "brace } in a string", "b": {"c": 1}}\n``` done {not json}'
    assert extract_json(text) == {"a": "brace } in a string", "b": {"c": 1}}
    with pytest.raises(ValueError):
        extract_json("nothing here")


def test_rich_captions_parse_from_json_and_from_the_line_form():
    caption = RichCaption(
        keywords=["dog"],
        layout=[LayoutEvent(label="Dog", start_s=0.0, end_s=2.0), LayoutEvent(label="Car", start_s=3.0, end_s=6.0)],
        description="a dog then a car",
        duration_s=8.0,
    )
    assert parse_rich_caption(caption.to_text()) == caption.model_copy(
        update={"layout": [e.model_copy(update={"phrase": e.label}) for e in caption.layout]}
    )
    parsed = parse_rich_caption("Here: " + caption.model_dump_json(exclude={"duration_s"}), duration_s=8.0)
    assert parsed == caption
    with pytest.raises(ValueError):
        parse_rich_caption("a dog and a car")
    with pytest.raises(ValueError):  # a layout event that ends before it starts
        parse_rich_caption('{"layout": [{"label": "Dog", "start_s": 3, "end_s": 1}]}')


def test_critiques_parse_from_the_line_form():
    critique = Critique(
        score=0.4, verdict="revise", issues=[Issue(kind="order", label="Brass", message="brass should come first")],
        instructions=["move brass to the start"],
    )
    assert parse_critique(critique.to_text()) == critique
    with pytest.raises(ValueError, match="issue line"):
        parse_critique("Verdict: revise\nScore: 0.2\nIssue: order only")


def test_cli_asking_for_cuda_without_one_fails_before_any_work(tmp_path, cli_env):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this check is about machines without CUDA")  # CI machines have none
    proc = subprocess.run(
        [sys.executable, "-m", "ualm_agent.cli", "run", "a dog barks", "--device", "cuda", "-o", str(tmp_path)],
        capture_output=True, text=True, env=cli_env, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "no CUDA GPU" in proc.stderr and "Traceback" not in proc.stderr
    assert not any(tmp_path.iterdir())
