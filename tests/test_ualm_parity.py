"""Parity with NVIDIA's own UALM code, on the checkpoint and reference numbers it produced.

tests/data/ualm-nvidia-parity/ (README there) holds a checkpoint written by NVIDIA's recipe on tiny random
models, with reference logits and token arrays computed by that code. The checkpoint loads here through
the recipe-checkpoint loader a user's checkpoint takes, and the forward pass, the encoder, CFG audio
decoding, text decoding and the prompt sequences are held to the README's tolerances. A weight moved by
1e-3 breaks the comparison, while argmaxes alone would not notice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from ualm_agent.components.ualm import decoding, sequence
from ualm_agent.components.ualm.checkpoint import build_ualm, read_deepspeed_module
from ualm_agent.errors import ModelUnavailableError

DATA = Path(__file__).resolve().parent / "data" / "ualm-nvidia-parity"
CAPTION = "a dog barks twice then a car passes by"
ALL_MODALITIES = ("text", "audio", "image", "video", "toolcall")
# The README's tolerances: the LM alone (CFG and text steps included), through the encoder, adapted features.
LM_TOLERANCE = 1e-5
ENCODER_TOLERANCE = 2e-6
FEATURES_TOLERANCE = 1e-6
DOWN_PROJ = "model.layers.1.mlp.down_proj.weight"
CONV1 = "multimodal_io_dict.continuous_audio.model.audio_tower.conv1.weight"


def load_nvidia_checkpoint(attn_implementation: str, checkpoint: Path = DATA / "checkpoint"):
    return build_ualm(checkpoint=str(checkpoint), backbone=str(DATA / "backbone"), codec=str(DATA / "xcodec"),
                      encoder=str(DATA / "encoder"), device="cpu", dtype="float32",
                      attn_implementation=attn_implementation)


@pytest.fixture(scope="module")
def refs():
    with np.load(DATA / "refs.npz") as data:
        return {name: torch.from_numpy(data[name]) for name in data.files}


@pytest.fixture(scope="module")
def models():
    """One loaded model per attention implementation, loaded on first use."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model gains nothing from more threads on a shared machine
    loaded: dict[str, object] = {}

    def load(attn_implementation: str):
        if attn_implementation not in loaded:
            loaded[attn_implementation] = load_nvidia_checkpoint(attn_implementation)
        return loaded[attn_implementation]

    yield load
    torch.set_num_threads(threads)


# Eager attention is what NVIDIA's numbers were made with; sdpa meets the same tolerances.
@pytest.fixture(scope="module", params=["eager", "sdpa"])
def lm(request, models):
    return models(request.param)


@pytest.fixture(scope="module")
def eager(models):
    return models("eager")


# ---------------------------------------------------------------- comparing reduced logits


@dataclass
class Gap:
    """How our logits differ from a reference stored reduced (values at vocab_ids, maxima, argmaxes)."""

    largest: float  # over the values at the stored ids and the maxima
    argmax_equal: bool
    layout_equal: bool  # the same ids are masked (-inf) or not

    def within(self, tolerance: float) -> bool:
        return self.layout_equal and self.argmax_equal and self.largest <= tolerance


def gap(ours: torch.Tensor, refs: dict, name: str, *, per_stream: bool = False, stream: int | None = None) -> Gap:
    """Compare logits [..., V] with the reference `name`.

    per_stream (the raw a2c and t2a_train logits): our streams n >= 1 cover only their own interval, as the
    recipe's loss and decoding do, so they meet the reference at the stored ids inside it and its
    per-stream maxima and argmaxes. stream picks one stream of the reference (text steps: stream 0).
    """
    at_ids, top, best = (refs[f"{name}_at_ids"], refs[f"{name}_stream_max" if per_stream else f"{name}_max"],
                         refs[f"{name}_stream_argmax" if per_stream else f"{name}_argmax"])
    if stream is not None:
        at_ids, top, best = at_ids[:, stream], top[:, stream], best[:, stream]
    ours = ours.float()
    mine = ours[..., refs["vocab_ids"]]
    shown = torch.isfinite(mine)
    layout = bool(torch.equal(shown, torch.isfinite(at_ids) & shown if per_stream else torch.isfinite(at_ids)))
    largest = max(float((mine[shown] - at_ids[shown]).abs().max()), float((ours.max(-1).values - top).abs().max()))
    return Gap(largest, bool(torch.equal(ours.argmax(-1), best)), layout)


def interval_layout_is_the_recipe_s(lm, logits: torch.Tensor) -> bool:
    """Stream 0 spans the vocabulary, stream n >= 1 exactly its own interval."""
    finite = torch.isfinite(logits.reshape(-1, *logits.shape[-2:])[0])
    expected = torch.zeros_like(finite)
    expected[0] = True
    for n in range(1, lm.num_streams):
        expected[n, slice(*lm.vocab.stream_interval(n))] = True
    return bool(torch.equal(finite, expected))


@contextlib.contextmanager
def perturbed(lm, name: str, delta: float = 1e-3):
    """One element of the weight `name` moved by `delta`, then restored bit for bit."""
    weight = lm.state_dict()[name]
    index = (0,) * weight.ndim
    saved = weight[index].clone()
    with torch.no_grad():
        weight[index] += delta
    try:
        yield
    finally:
        with torch.no_grad():
            weight[index] = saved


# ---------------------------------------------------------------- the passes the references come from


def _with_assistant(rows: torch.Tensor) -> torch.Tensor:
    assistant = torch.zeros(1, rows.shape[1], dtype=torch.long)
    assistant[0, 0] = 6
    return torch.cat([rows, assistant])


def t2a_train_logits(lm, refs) -> torch.Tensor:
    with torch.inference_mode():
        return lm(refs["t2a_train_ids"])


def a2c_logits_lm_only(lm, refs) -> torch.Tensor:
    """The a2c pass with NVIDIA's adapted features placed over the placeholder rows."""
    (_, start, length), = refs["a2c_indices"].tolist()
    with torch.inference_mode():
        embeds = lm.embed(_with_assistant(refs["a2c_seqs"][0]).unsqueeze(0))
        embeds[0, start:start + length] = refs["a2c_adapted"]
        hidden, _ = lm.forward_hidden(embeds)
        return lm.stream_logits(hidden)


def a2c_prompt(lm, refs) -> sequence.UalmSequence:
    """The a2c prompt built by the product: the task text, then the wav heard through encoder and adaptor."""
    with torch.inference_mode():
        feats = lm.encode_audio(refs["wav"].numpy())
    return sequence.build_sequence(lm.vocab, sequence.audio_to_caption_messages(feats), tokenizer=lm.tokenizer)


def a2c_logits_through_encoder(lm, refs) -> torch.Tensor:
    prompt = a2c_prompt(lm, refs)
    with torch.inference_mode():
        return lm(prompt.ids.unsqueeze(0), prompt.continuous())


def adapted_features(lm, refs) -> torch.Tensor:
    with torch.inference_mode():
        return lm.adapt(lm.encode_audio(refs["wav"].numpy()))


def cfg_decoding(lm, refs, **options) -> decoding.AudioDecoding:
    """The recipe's audio decoding, greedy, 12 steps, CFG 3: the product's batched branches and AudioHead."""
    prompt = _with_assistant(refs["t2a_seqs"][0])
    return decoding.decode_audio(lm, prompt, max_steps=12, cfg_scale=3.0, temperature=0, keep_logits=True,
                                 generator=0, **options)


def text_decoding(lm, refs) -> decoding.TextDecoding:
    prompt = a2c_prompt(lm, refs)
    return decoding.decode_text_tokens(lm, prompt.ids, continuous=prompt.continuous(), max_tokens=8,
                                       keep_logits=True)


# ---------------------------------------------------------------- the data and the checkpoint


def test_the_data_is_the_one_the_manifest_describes():
    manifest = json.loads((DATA / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        blob = (DATA / name).read_bytes()
        assert len(blob) == entry["bytes"] and hashlib.sha256(blob).hexdigest() == entry["sha256"], name


def test_nvidia_s_checkpoint_loads_strictly_into_the_recipe_s_vocabulary(eager):
    state = read_deepspeed_module(DATA / "checkpoint")
    assert len(state) == 332 and set(state) == set(eager.state_dict())
    v = eager.vocab
    assert (v.text_start, v.audio_start, v.size) == (256, 768, 8968)
    assert [v.stream_interval(n) for n in (0, 7)] == [(768, 1793), (7943, 8968)]
    assert torch.equal(eager.lm_head.weight, state["lm_head.weight"])
    assert not torch.equal(eager.lm_head.weight, eager.model.embed_tokens.weight)  # untied
    assert eager.model.embed_tokens.weight[0].abs().sum() == 0
    assert eager.encoder.max_seconds == 300  # the front end's chunk_length


def test_prompt_sequences_and_codec_ids_are_nvidia_s(eager, refs):
    tok, v = eager.tokenizer, eager.vocab
    a2c = sequence.build_sequence(v, sequence.audio_to_caption_messages(25), tokenizer=tok)
    assert torch.equal(a2c.ids, _with_assistant(refs["a2c_seqs"][0]))
    assert [[0, *a2c.placeholders[0]]] == refs["a2c_indices"].tolist()
    t2a = sequence.build_sequence(v, sequence.text_to_audio_messages(CAPTION), tokenizer=tok)
    assert torch.equal(t2a.ids, _with_assistant(refs["t2a_seqs"][0]))
    codes = eager.codec_encode(refs["wav"].numpy())
    assert codes.shape == (50, 8)
    heard_and_made = sequence.text_to_audio_messages(CAPTION) + [sequence.Message("assistant", "audio", codes)]
    train = sequence.build_sequence(v, heard_and_made, tokenizer=tok, add_assistant=False)
    assert torch.equal(train.ids, refs["t2a_train_ids"][0])
    assert torch.equal(train.ids[47:104], refs["codec_ids"][0])


# ---------------------------------------------------------------- logits


def test_training_style_text_to_audio_logits(lm, refs):
    logits = t2a_train_logits(lm, refs)
    assert interval_layout_is_the_recipe_s(lm, logits)
    assert gap(logits, refs, "t2a_train_logits", per_stream=True).within(LM_TOLERANCE)


def test_audio_to_caption_logits_of_the_lm_alone(lm, refs):
    logits = a2c_logits_lm_only(lm, refs)
    assert gap(logits, refs, "a2c_logits", per_stream=True).within(LM_TOLERANCE)


def test_audio_to_caption_through_the_encoder_and_the_modality_choice(lm, refs):
    found = adapted_features(lm, refs)
    assert found.shape == (25, 64) and float((found - refs["a2c_adapted"]).abs().max()) <= FEATURES_TOLERANCE
    assert gap(a2c_logits_through_encoder(lm, refs), refs, "a2c_logits", per_stream=True).within(ENCODER_TOLERANCE)
    prompt = a2c_prompt(lm, refs)
    modality = decoding.modality_logits(lm, prompt.ids, continuous=prompt.continuous(), allowed=ALL_MODALITIES)
    assert torch.isfinite(modality).sum() == 5
    found = modality[refs["modality_ids"]]
    assert float((found - refs["modality_logits_at_modality_ids"]).abs().max()) <= ENCODER_TOLERANCE
    assert decoding.choose_modality(lm, prompt.ids, continuous=prompt.continuous(), allowed=ALL_MODALITIES) == "text"
    assert int(refs["modality_argmax"]) == lm.vocab.special("<|text|>")


# ---------------------------------------------------------------- decoding


def test_cfg_audio_decoding_gives_nvidia_s_frames_and_guided_logits(lm, refs):
    out = cfg_decoding(lm, refs)
    # The recipe samples the delay regions freely: its raw greedy frames come out as they are.
    assert out.stop is None and torch.equal(out.delayed, refs["cfg_tokens"])
    assert gap(out.logits, refs, "cfg_logits").within(LM_TOLERANCE)
    forced = cfg_decoding(lm, refs, force_delay_pads=True)
    assert not torch.equal(forced.delayed, refs["cfg_tokens"])  # the option departs from the recipe


def test_greedy_text_decoding_gives_nvidia_s_tokens_and_logits(lm, refs):
    out = text_decoding(lm, refs)
    tokens = refs["text_tokens"]
    assert out.ids == tokens[:-1, 0].tolist() and out.stop == int(tokens[-1, 0]) == lm.vocab.special("<|eos|>")
    assert (tokens[:, 1:] == 0).all()  # the other streams carry <|pad|>, which our decoding writes unscored
    assert gap(out.logits, refs, "text_logits", stream=0).within(ENCODER_TOLERANCE)
    prompt = a2c_prompt(lm, refs)
    segments = decoding.generate_segments(lm, prompt.ids, continuous=prompt.continuous(), first="text",
                                          then=("text",))
    assert len(segments) == 1 and segments[0].decoded.ids == out.ids  # <|eos|> ends the answer


# ---------------------------------------------------------------- the comparison catches a defect


def test_a_backbone_weight_moved_by_1e_3_fails_the_comparison_though_argmaxes_agree(eager, refs):
    with perturbed(eager, DOWN_PROJ):
        moved = [gap(t2a_train_logits(eager, refs), refs, "t2a_train_logits", per_stream=True),
                 gap(a2c_logits_lm_only(eager, refs), refs, "a2c_logits", per_stream=True)]
    assert all(not g.within(LM_TOLERANCE) and g.argmax_equal and g.layout_equal for g in moved), moved
    assert gap(t2a_train_logits(eager, refs), refs, "t2a_train_logits", per_stream=True).within(LM_TOLERANCE)


def test_an_encoder_weight_moved_by_1e_3_fails_the_comparison_though_argmaxes_agree(eager, refs):
    with perturbed(eager, CONV1):
        features = float((adapted_features(eager, refs) - refs["a2c_adapted"]).abs().max())
        logits = gap(a2c_logits_through_encoder(eager, refs), refs, "a2c_logits", per_stream=True)
    assert features > FEATURES_TOLERANCE
    assert not logits.within(ENCODER_TOLERANCE) and logits.argmax_equal and logits.layout_equal, logits
    assert float((adapted_features(eager, refs) - refs["a2c_adapted"]).abs().max()) <= FEATURES_TOLERANCE


# ---------------------------------------------------------------- DeepSpeed files as the recipe writes them


def _deepspeed_file(state: dict, folder: Path) -> Path:
    """A model-states file with the bookkeeping entries DeepSpeed writes beside "module"."""
    from collections import OrderedDict

    folder.mkdir(parents=True)
    saved = {
        "module": state, "buffer_names": [], "optimizer": None,
        "param_shapes": [OrderedDict((k, v.shape) for k, v in state.items())], "frozen_param_shapes": None,
        "shared_params": {}, "frozen_param_fragments": None, "lr_scheduler": {"last_epoch": 1},
        "data_sampler": None, "random_ltd": None, "sparse_tensor_module_names": set(), "skipped_steps": 0,
        "global_steps": 1, "global_samples": 16, "dp_world_size": 1, "mp_world_size": 1,
        "ds_config": {"bf16": {"enabled": True}, "zero_optimization": {"stage": 2}}, "ds_version": "0.16.4",
    }
    torch.save(saved, folder / "mp_rank_00_model_states.pt")
    return folder


def test_a_deepspeed_file_with_its_bookkeeping_in_the_recipe_s_folders_loads(eager, refs, tmp_path):
    state = read_deepspeed_module(DATA / "checkpoint")
    # <exp>/checkpoints/step_N/global_stepN/mp_rank_00_model_states.pt, found from the step folder.
    _deepspeed_file(state, tmp_path / "step_1" / "global_step1")
    again = load_nvidia_checkpoint("eager", tmp_path / "step_1")
    ids = refs["t2a_train_ids"][:, :20]
    assert torch.equal(again(ids), eager(ids))


def test_a_checkpoint_with_a_missing_key_fails_with_one_clear_line(tmp_path):
    state = read_deepspeed_module(DATA / "checkpoint")
    del state["stream_emb.weight"]
    state["extra.weight"] = torch.zeros(1)
    folder = _deepspeed_file(state, tmp_path / "global_step1")
    with pytest.raises(ModelUnavailableError) as err:
        load_nvidia_checkpoint("eager", folder)
    message = str(err.value)
    assert "\n" not in message
    assert "1 missing (stream_emb.weight)" in message and "1 unexpected (extra.weight)" in message
