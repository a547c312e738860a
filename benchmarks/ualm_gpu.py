"""UALM audio decoding speed at Qwen2.5-1.5B size (random weights, bf16) on a GPU, against the memory-bandwidth floor.

Decodes 500 audio frames (10 s at 50 frames/s; 507 steps with the delay tail) with CFG, i.e. batch 2, and
reports steps/s, the real-time factor, and the floor set by memory bandwidth: every step reads all weights
the step uses (the backbone, the head rows of the audio tokens, the stream embeddings; the input embedding
only by the rows it gathers) plus the KV cache, so a step takes at least bytes / bandwidth.

    python benchmarks/ualm_gpu.py [--frames 500] [--bandwidth-gbs 3350 | --measure-bandwidth] [--out figures.json]
    python benchmarks/ualm_gpu.py --device cpu --layers 2   # smoke test without a GPU (2 frames)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ualm_decoding import CAPTION, StepClock, build_model  # noqa: E402

# Qwen/Qwen2.5-1.5B's shape; its 151,936 text ids give a UALM vocabulary of 160,392.
QWEN25_1_5B = dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                   num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6)
FRAME_RATE = 50.0
# Peak HBM bandwidth in GB/s by device name (vendor figures); other devices are measured.
KNOWN_BANDWIDTH_GBS = {"H200": 4800.0, "H100 PCIe": 2000.0, "H100 NVL": 3900.0, "H100": 3350.0, "A100": 2039.0}


def measure_bandwidth_gbs(device: str, megabytes: int = 2048, repeats: int = 10) -> float:
    """Copy bandwidth (bytes read + written per second) of one big device-to-device copy, in GB/s."""
    import torch

    n = megabytes * 2**20
    src = torch.empty(n, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        dst.copy_(src)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * n * repeats / (time.perf_counter() - t0) / 1e9


def known_bandwidth_gbs(name: str) -> float | None:
    return next((bw for key, bw in KNOWN_BANDWIDTH_GBS.items() if key in name), None)


def weight_bytes_per_step(lm) -> int:
    """Bytes of the weights one audio step reads: the backbone (its input embedding only by the gathered rows,
    left out), the stream embeddings, and the head rows of the audio intervals and <|eos|>/<|eot|>, which is
    all of the head audio decoding multiplies (decoding.AudioHead)."""
    skip = lm.model.embed_tokens.weight
    backbone = sum(p.numel() * p.element_size() for p in lm.model.parameters() if p is not skip)
    head_rows = lm.num_streams * lm.vocab.stream_size + 2
    head = head_rows * lm.lm_head.weight.shape[1] * lm.lm_head.weight.element_size()
    return backbone + head + lm.stream_emb.weight.numel() * lm.stream_emb.weight.element_size()


def kv_bytes_per_step(lm, batch: int, length: float) -> float:
    cfg = lm.model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * head_dim * lm.dtype.itemsize * batch * length


def decode_once(lm, prompt, frames: int, cfg_scale: float, sync) -> dict:
    from ualm_agent.components.ualm.decoding import decode_audio, fixed_length

    clock = StepClock(lm)
    sync()
    t0 = time.perf_counter()
    # A fixed length, so every run times the same number of steps whatever the random model samples.
    out = decode_audio(clock, prompt, **fixed_length(frames, lm.num_streams), cfg_scale=cfg_scale, generator=0)
    sync()
    wall = time.perf_counter() - t0
    steps = int(out.delayed.shape[0])
    per_step = [b - a for a, b in zip(clock.stamps, clock.stamps[1:])]
    step_s = statistics.median(per_step) if per_step else wall
    return {"frames": frames, "steps": steps, "wall_s": wall, "prefill_s": clock.stamps[0] - t0, "step_s": step_s,
            "steps_per_s": 1.0 / step_s, "audio_s": frames / FRAME_RATE,
            "x_real_time": (frames / FRAME_RATE) / wall, "real_time_factor": wall / (frames / FRAME_RATE)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    ap.add_argument("--layers", type=int, default=QWEN25_1_5B["num_hidden_layers"])
    ap.add_argument("--frames", type=int, help="audio frames to decode, 50 per second (default 500; 2 on a CPU, a smoke test)")
    ap.add_argument("--cfg", type=float, default=3.0, help="CFG scale; above 1 decodes a batch of 2")
    ap.add_argument("--also-no-cfg", action="store_true", help="also time decoding without CFG (batch 1)")
    ap.add_argument("--bandwidth-gbs", type=float, help="memory bandwidth for the floor (default: by device name, else measured)")
    ap.add_argument("--measure-bandwidth", action="store_true", help="measure the bandwidth with a big device copy")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = ap.parse_args()

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("ualm_gpu: no CUDA device is available; run this on a GPU machine "
                 "(or smoke-test it with --device cpu --layers 2)")
    cuda = args.device.startswith("cuda")
    if args.frames is None:
        args.frames = 500 if cuda else 2
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    name = torch.cuda.get_device_name(args.device) if cuda else "CPU"

    from ualm_agent.components.ualm.sequence import build_sequence, text_to_audio_messages

    t0 = time.perf_counter()
    lm = build_model(dict(QWEN25_1_5B, num_hidden_layers=args.layers), device=args.device, dtype=args.dtype,
                     fast_init=True)
    build_s = time.perf_counter() - t0
    prompt = build_sequence(lm.vocab, text_to_audio_messages(CAPTION), tokenizer=lm.tokenizer).ids
    batch = 2 if args.cfg > 1 else 1

    if cuda:
        decode_once(lm, prompt, min(args.frames, 8), args.cfg, sync)  # warm-up: kernels, allocator, lazy imports
        torch.cuda.reset_peak_memory_stats(args.device)
    run = decode_once(lm, prompt, args.frames, args.cfg, sync)
    peak_gib = torch.cuda.max_memory_allocated(args.device) / 2**30 if cuda else None
    no_cfg = decode_once(lm, prompt, args.frames, 1.0, sync) if args.also_no_cfg else None

    measured = measure_bandwidth_gbs(args.device, 2048 if cuda else 256) if args.measure_bandwidth else None
    bandwidth = args.bandwidth_gbs or (known_bandwidth_gbs(name) if cuda else None) or measured
    if bandwidth is None:
        measured = measure_bandwidth_gbs(args.device, 2048 if cuda else 256)
        bandwidth = measured
    weights = weight_bytes_per_step(lm)
    kv = kv_bytes_per_step(lm, batch, prompt.shape[0] + 1 + run["steps"] / 2)
    floor_s = (weights + kv) / (bandwidth * 1e9)
    figures = {
        "device": name, "dtype": args.dtype, "layers": args.layers, "vocab_size": lm.vocab.size,
        "lm_params": sum(p.numel() for p in [*lm.model.parameters(), lm.lm_head.weight, lm.stream_emb.weight]),
        "batch": batch, "cfg": args.cfg, "prompt_frames": int(prompt.shape[0]), "build_s": build_s,
        "run": run, "no_cfg_run": no_cfg, "peak_memory_gib": peak_gib,
        "bandwidth_gbs": bandwidth, "bandwidth_measured_gbs": measured,
        "weight_bytes_per_step": weights, "kv_bytes_per_step_mean": kv,
        "floor_step_s": floor_s, "floor_steps_per_s": 1.0 / floor_s,
        "floor_x_real_time": run["audio_s"] / (floor_s * run["steps"]),
        "share_of_floor": floor_s / run["step_s"],
    }
    print(f"UALM decoding at Qwen2.5-1.5B shape ({args.layers} layers, vocabulary {lm.vocab.size}, "
          f"{figures['lm_params'] / 1e9:.2f} B parameters, {args.dtype}) on {name}")
    print(f"{run['frames']} frames = {run['audio_s']:.1f} s of audio, {run['steps']} steps, batch {batch} (CFG {args.cfg})")
    print(f"  prefill {run['prefill_s'] * 1e3:.1f} ms; {run['step_s'] * 1e3:.2f} ms per step = {run['steps_per_s']:.1f} steps/s")
    print(f"  wall {run['wall_s']:.2f} s: {run['x_real_time']:.2f}x real time (real-time factor {run['real_time_factor']:.3f})")
    if no_cfg:
        print(f"  without CFG (batch 1): {no_cfg['step_s'] * 1e3:.2f} ms per step; "
              f"CFG costs {run['step_s'] / no_cfg['step_s']:.2f}x per step")
    source = "given" if args.bandwidth_gbs else ("measured" if bandwidth == measured else "vendor figure for this device")
    print(f"memory-bandwidth floor: {weights / 1e9:.2f} GB of weights + {kv / 1e6:.1f} MB of KV cache per step "
          f"at {bandwidth:.0f} GB/s ({source}) = {floor_s * 1e3:.3f} ms per step = {1 / floor_s:.0f} steps/s, "
          f"{figures['floor_x_real_time']:.1f}x real time")
    print(f"  measured step time is {1 / figures['share_of_floor']:.1f}x the floor")
    if peak_gib is not None:
        print(f"peak GPU memory {peak_gib:.2f} GiB")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2))
        print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
