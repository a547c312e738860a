"""benchmarks/open_models_gpu.py: real-size parameter counts, the no-CUDA exit, and the tiny run through the backends.

The GPU run itself needs a GPU; here the same code path runs with tiny configs on the CPU, through the real
backends (build_component with model=<folder>), and the real sizes are counted on the meta device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "open_models_gpu.py"
GENERATORS = ("stable-audio", "audioldm2")
JUDGES = ("qwen2-audio", "qwen2.5-omni", "audio-flamingo3")


def run(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], check=False, capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def test_params_at_real_size_are_the_released_sizes(tmp_path):
    out = tmp_path / "params.json"
    res = run("--params", "--json", str(out), timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    counts = {m["name"]: m for m in json.loads(out.read_text())["models"]}
    assert set(counts) == {*GENERATORS, *JUDGES}
    parts = {name: m["parts"] for name, m in counts.items()}
    # Published sizes: Stable Audio Open's DiT ~1.06 B (1.2 B with T5-base and the VAE); AudioLDM 2's UNet
    # 350 M of 1.1 B; Qwen2-Audio 8.4 B; the Omni thinker ~8.9 B (7.6 B LM, 0.68 B vision, 0.64 B audio);
    # Audio Flamingo 3 ~8.3 B (Qwen2.5-7B).
    assert 1.0e9 < parts["stable-audio"]["transformer"] < 1.2e9
    assert 1.2e9 < counts["stable-audio"]["params"] < 1.4e9
    assert 0.30e9 < parts["audioldm2"]["unet"] < 0.40e9
    assert 1.0e9 < counts["audioldm2"]["params"] < 1.2e9
    assert 7e9 < counts["qwen2-audio"]["params"] < 9e9
    assert 8.5e9 < counts["qwen2.5-omni"]["params"] < 9.5e9
    assert 0.6e9 < parts["qwen2.5-omni"]["visual"] < 0.75e9
    assert 7.5e9 < counts["audio-flamingo3"]["params"] < 9e9
    for judge in JUDGES:
        # Whisper-large-v3's encoder in every judge.
        assert 0.6e9 < parts[judge]["audio_tower"] < 0.68e9
    for m in counts.values():
        assert m["bf16_weights_gib"] == m["params"] * 2 / 2**30
        assert m["bf16_estimate_gib"] >= m["bf16_weights_gib"] + 1.0
        assert m["title"] in res.stdout


def test_without_cuda_one_line_says_so_and_exits_0():
    # No visible GPU whatever the machine has.
    res = run(env={**os.environ, "CUDA_VISIBLE_DEVICES": ""}, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 and "no CUDA device" in lines[0]


def test_unknown_model_is_refused_in_one_line():
    res = run("--params", "--only", "stable-audio,musicgen-huge", timeout=120)
    assert res.returncode != 0
    assert res.stderr.strip().splitlines()[-1].startswith("open_models_gpu: unknown model musicgen-huge")


def test_tiny_run_goes_through_every_backend(tmp_path):
    out, scratch = tmp_path / "tiny.json", tmp_path / "scratch"
    res = run("--tiny", "--device", "cpu", "--json", str(out), "--workdir", str(scratch))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["tiny"] and figures["device"] == "CPU" and figures["clip_s"] == 10.0
    by_name = {m["name"]: m for m in figures["models"]}
    assert set(by_name) == {*GENERATORS, *JUDGES}
    for m in by_name.values():
        assert "error" not in m
        assert m["load_s"] > 0 and m["first_call_s"] > 0 and m["write_s"] > 0
        # GPU memory is not measured on a CPU: the fields are there, as null.
        assert m["peak_gpu_gib"] is None and m["held_after_gib"] is None
    for name in GENERATORS:
        g = by_name[name]
        assert g["steps"] == 4 and g["audio_s"] > 0
        assert g["s_per_generated_s"] == g["call_s"] / g["audio_s"] > 0
    for name in JUDGES:
        j = by_name[name]
        # The written plan's questions: 2 for each timed event, 2 more for the counted barks, 2 for the order.
        assert j["questions"] == 10 and j["written_tokens"] == 8
        assert j["s_per_judged_clip"] == j["listen_for_s"] + j["critique_s"] > 0 and j["caption_s"] > 0
    # Each model's folder is removed once it has run.
    assert not any(scratch.iterdir())
    assert "s per generated second" in res.stdout and "s per judged clip" in res.stdout
