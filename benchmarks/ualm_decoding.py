"""UALM audio decoding on a tiny random model on CPU: KV cache, batched CFG and CFG cost, as ratios from one run.

Reports, for 500 decoding steps (delayed frames; 493 audio frames plus the 7-frame delay tail):
  - KV cache vs full recomputation every step (total time, and the per-step ratio at the end);
  - CFG with both branches batched in one forward vs two forwards per step;
  - CFG (batched) vs no CFG, per step.
Targets: CFG costs at most 1.3x no-CFG per step; the KV cache is at least 5x faster than recomputation
over 500 steps.

    python benchmarks/ualm_decoding.py [--steps 500] [--repeats 5] [--threads 1] [--out figures.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
CAPTION = "a dog barks twice then a car passes by while rain falls on a tin roof"
# The tiny backbone: small enough for a CPU, deep and wide enough that the backbone, not Python, dominates a step.
TINY_BACKBONE = dict(hidden_size=128, intermediate_size=384, num_hidden_layers=4, num_attention_heads=4,
                     num_key_value_heads=2)


class StepClock:
    """Delegates to the model and stamps the end of each decoding step's last forward pass.

    A step runs one forward when the branches are batched, two for two passes.
    """

    def __init__(self, lm, forwards_per_step: int = 1) -> None:
        self._lm, self.forwards_per_step, self.forwards, self.stamps = lm, forwards_per_step, 0, []

    def __getattr__(self, name):
        return getattr(self._lm, name)

    def forward_hidden(self, inputs_embeds, **kwargs):
        out = self._lm.forward_hidden(inputs_embeds, **kwargs)
        self.forwards += 1
        if self.forwards % self.forwards_per_step == 0:
            self.stamps.append(time.perf_counter())
        return out


def build_model(backbone: dict | None = None, *, seed: int = 0, device: str = "cpu", dtype: str = "float32",
                fast_init: bool = False):
    """A random UALM: a Qwen2 backbone of the given shape (default the tiny one above), the test suite's tiny
    codec and encoder (decoding does not use them), random stream embeddings; weights made on `device`.

    fast_init skips the initializers (minutes for a billion parameters on a CPU) and tiles one random block
    over every weight instead: values do not change the speed, they only need to be finite.
    """
    import contextlib

    import torch

    sys.path.insert(0, str(TESTS))
    from tiny_ualm import TEXT_SIZE, tiny_tokenizer, tiny_ualm_config
    from transformers import Qwen2Config
    from transformers.initialization import no_init_weights

    from ualm_agent.components.ualm.audio_io import codec_from_spec, encoder_from_spec
    from ualm_agent.components.ualm.model import UalmLM

    shape = {"vocab_size": TEXT_SIZE, "max_position_embeddings": 4096} | (backbone or TINY_BACKBONE)
    config = tiny_ualm_config().model_copy(update={"backbone": Qwen2Config(**shape).to_dict()})
    torch.manual_seed(seed)
    codec = codec_from_spec(config.codec, num_streams=config.num_streams)
    encoder = encoder_from_spec(config.encoder)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))
    try:
        with torch.device(device), (no_init_weights() if fast_init else contextlib.nullcontext()):
            lm = UalmLM(config, codec=codec.to(device), encoder=encoder.to(device), tokenizer=tiny_tokenizer())
    finally:
        torch.set_default_dtype(previous)
    lm = lm.eval().requires_grad_(False)
    with torch.no_grad():
        if fast_init:
            block = torch.randn(1 << 20, generator=torch.Generator().manual_seed(seed)).mul_(0.02)
            block = block.to(device=device, dtype=lm.dtype)
            for name, p in [*lm.model.named_parameters(), ("lm_head", lm.lm_head.weight), *lm.adaptor.named_parameters()]:
                if "norm" in name:
                    continue  # RMSNorm weights are built as ones
                flat = p.view(-1)
                for i in range(0, flat.numel(), block.numel()):
                    flat[i:i + block.numel()] = block[:flat.numel() - i]
        lm.stream_emb.weight.normal_(0, 0.5)
        lm.model.embed_tokens.weight[0].zero_()
    return lm


def timed_decode(lm, prompt, steps: int, **options) -> dict:
    """One decoding of exactly `steps` delayed frames; prefill and per-step times from the logits stamps."""
    from ualm_agent.components.ualm.decoding import decode_audio, fixed_length

    frames = steps - lm.num_streams + 1
    two_passes = options.get("cfg_scale", 3.0) != 1.0 and not options.get("batched_cfg", True)
    clock = StepClock(lm, forwards_per_step=2 if two_passes else 1)
    t0 = time.perf_counter()
    # A fixed length: the model must not end the audio early, or runs would time different step counts.
    out = decode_audio(clock, prompt, **fixed_length(frames, lm.num_streams), generator=0, **options)
    total = time.perf_counter() - t0
    assert out.delayed.shape[0] == steps, out.delayed.shape
    per_step = [b - a for a, b in zip(clock.stamps, clock.stamps[1:])]
    # Medians: on a shared machine a few steps catch another process's burst.
    return {"total_s": total, "prefill_s": clock.stamps[0] - t0, "step_s": statistics.median(per_step),
            "last50_step_s": statistics.median(per_step[-50:]), "steps": steps}


def run(steps: int, repeats: int) -> dict:
    from ualm_agent.components.ualm.sequence import build_sequence, text_to_audio_messages

    lm = build_model()
    prompt = build_sequence(lm.vocab, text_to_audio_messages(CAPTION), tokenizer=lm.tokenizer).ids
    configs = {
        "no_cfg": dict(cfg_scale=1.0),
        "cfg_batched": dict(cfg_scale=3.0),
        "cfg_two_passes": dict(cfg_scale=3.0, batched_cfg=False),
    }
    timed_decode(lm, prompt, 20)  # warm-up: first-call allocations and lazy imports
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    for _ in range(repeats):  # interleaved, so drift in machine load hits every configuration alike
        for name, options in configs.items():
            runs[name].append(timed_decode(lm, prompt, steps, **options))
    best = {name: min(rs, key=lambda r: r["step_s"]) for name, rs in runs.items()}
    recompute = timed_decode(lm, prompt, steps, cfg_scale=3.0, use_cache=False)
    cached = best["cfg_batched"]
    params = sum(p.numel() for p in lm.model.parameters()) + lm.lm_head.weight.numel()
    return {
        "model": {"backbone": TINY_BACKBONE, "vocab_size": lm.vocab.size, "lm_params": params,
                  "prompt_frames": int(prompt.shape[0])},
        "steps": steps, "repeats": repeats,
        "runs": {name: r for name, r in best.items()} | {"cfg_recompute": recompute},
        "ratios": {
            "cfg_over_no_cfg_per_step": cached["step_s"] / best["no_cfg"]["step_s"],
            "two_passes_over_batched_per_step": best["cfg_two_passes"]["step_s"] / cached["step_s"],
            "recompute_over_kv_cache_total": recompute["total_s"] / cached["total_s"],
            "recompute_over_kv_cache_last50_steps": recompute["last50_step_s"] / cached["last50_step_s"],
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500, help="decoding steps (delayed frames) per run")
    ap.add_argument("--repeats", type=int, default=5, help="runs of each cached configuration; the fastest counts")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 keeps a shared machine's figures steady)")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    figures = run(args.steps, args.repeats) | {"threads": args.threads, "torch": torch.__version__}
    r, q = figures["runs"], figures["ratios"]
    print(f"UALM decoding, tiny random model ({figures['model']['lm_params'] / 1e6:.1f} M LM parameters, "
          f"vocabulary {figures['model']['vocab_size']}), CPU, {args.threads} thread(s), {args.steps} steps")
    print(f"{'configuration':<28}{'per step':>12}{'last 50 steps':>16}{'total':>10}   (median step times)")
    for name, label in [("no_cfg", "no CFG, KV cache"), ("cfg_batched", "CFG batched, KV cache"),
                        ("cfg_two_passes", "CFG two passes, KV cache"), ("cfg_recompute", "CFG batched, recompute")]:
        print(f"{label:<28}{r[name]['step_s'] * 1e3:>9.2f} ms{r[name]['last50_step_s'] * 1e3:>13.2f} ms"
              f"{r[name]['total_s']:>9.2f} s")
    print(f"CFG / no CFG per step:          {q['cfg_over_no_cfg_per_step']:.2f}x (target <= 1.3x) "
          f"{'ok' if q['cfg_over_no_cfg_per_step'] <= 1.3 else 'MISSED'}")
    print(f"two passes / batched per step:  {q['two_passes_over_batched_per_step']:.2f}x")
    print(f"recompute / KV cache, {args.steps} steps: {q['recompute_over_kv_cache_total']:.1f}x (target >= 5x) "
          f"{'ok' if q['recompute_over_kv_cache_total'] >= 5 else 'MISSED'}; "
          f"per step over the last 50 steps: {q['recompute_over_kv_cache_last50_steps']:.1f}x")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2))
        print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
