"""UALM's network, vocabulary, audio IO and checkpoints, on a tiny random model."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from tiny_ualm import make_tiny_ualm, make_tiny_ualm_folder
from ualm_agent.components.ualm.checkpoint import build_ualm, load_pretrained
from ualm_agent.components.ualm.vocabulary import SPECIAL_TOKENS, UalmVocabulary
from ualm_agent.errors import ModelUnavailableError


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_tiny_ualm_folder(tmp_path_factory.mktemp("ualm") / "tiny-ualm")


@pytest.fixture(scope="module")
def sources(folder):
    root = folder.parent / f"{folder.name}-sources"
    return {"backbone": str(root / "backbone"), "codec": str(root / "xcodec"), "encoder": str(root / "omni")}


@pytest.fixture(scope="module")
def lm(folder):
    return load_pretrained(folder, device="cpu")


def _tokens(lm, batch=2, length=6, seed=0):
    """Frames mixing text in stream 0 with pads, and audio frames with every stream's codes."""
    gen = torch.Generator().manual_seed(seed)
    v = lm.vocab
    seqs = torch.zeros((batch, length, v.num_streams), dtype=torch.long)
    seqs[:, 0, 0] = v.special("bos")
    seqs[:, 1, 0] = torch.randint(v.text_start, v.audio_start, (batch,), generator=gen)
    codes = torch.randint(-1, v.codebook_size, (batch, length - 2, v.num_streams), generator=gen)
    seqs[:, 2:] = v.codes_to_ids(codes)
    return seqs


# ---------------------------------------------------------------- vocabulary


def test_vocabulary_has_the_published_layout_for_qwen2_5_1_5b():
    v = UalmVocabulary(text_size=151936)
    assert (v.text_start, v.audio_start, v.size) == (256, 152192, 160392)
    assert len(SPECIAL_TOKENS) == 256 and len(set(SPECIAL_TOKENS)) == 256
    assert [v.special(n) for n in ("pad", "bos", "eos", "eot", "assistant", "audio", "toolcall")] == [0, 1, 2, 3, 6, 8, 12]
    assert SPECIAL_TOKENS[13] == "<|unused_13|>" and SPECIAL_TOKENS[255] == "<|unused_255|>"
    # Stream pads seen in a batch printed by the recipe's trainer: 152192, 153217, 154242, ..., 157317.
    assert [v.stream_pad(n) for n in (0, 1, 2, 5)] == [152192, 153217, 154242, 157317]
    assert v.stream_interval(7) == (152192 + 7 * 1025, 160392)


def test_codes_and_ids_convert_both_ways_with_pads_as_minus_one():
    v = UalmVocabulary(text_size=151936)
    codes = torch.tensor([[0, 5, -1, 1023, 7, 0, 1, 2], [-1] * 8])
    ids = v.codes_to_ids(codes)
    assert ids[0, 0] == 152193 and ids[0, 1] == 153217 + 6 and ids[0, 2] == v.stream_pad(2)
    assert all(v.stream_interval(n)[0] <= int(ids[0, n]) < v.stream_interval(n)[1] for n in range(8))
    assert torch.equal(v.ids_to_codes(ids), codes)
    assert torch.equal(v.ids_to_codes(torch.zeros(1, 8, dtype=torch.long)), torch.full((1, 8), -1))
    wrong_stream = ids.clone()
    wrong_stream[0, 1] = ids[0, 0]  # stream 0's code id placed in stream 1
    with pytest.raises(ValueError, match="not an audio code"):
        v.ids_to_codes(wrong_stream)
    with pytest.raises(ValueError):
        v.codes_to_ids(torch.tensor([[1024] * 8]))


def test_text_ids_are_offset_by_the_special_slots_and_round_trip(lm):
    text = "a dog barks twice, then rain falls"
    tokens = lm.tokenizer.encode(text, add_special_tokens=False)
    ids = lm.vocab.text_ids(tokens)
    assert ids == [t + 256 for t in tokens]
    assert lm.tokenizer.decode(lm.vocab.text_tokens(ids)) == text
    assert torch.equal(lm.vocab.text_tokens(lm.vocab.text_ids(torch.tensor(tokens))), torch.tensor(tokens))


# ---------------------------------------------------------------- network


def test_frame_embedding_is_the_sum_of_its_stream_embeddings_and_pad_is_zero(lm):
    seqs = _tokens(lm)
    table = lm.model.embed_tokens.weight
    manual = sum(table[seqs[..., n]] for n in range(lm.num_streams))
    assert torch.allclose(lm.embed(seqs), manual, atol=1e-6)
    assert torch.count_nonzero(lm.embed(torch.zeros((1, 3, 8), dtype=torch.long))) == 0


def test_continuous_features_replace_the_frames_they_occupy(lm):
    seqs = _tokens(lm)
    feats = torch.randn(3, lm.encoder.feature_dim)
    out = lm.embed(seqs, [(1, 2, feats)])
    plain = lm.embed(seqs)
    assert torch.allclose(out[1, 2:5], lm.adapt(feats), atol=1e-6)
    assert torch.equal(out[0], plain[0]) and torch.equal(out[1, :2], plain[1, :2]) and torch.equal(out[1, 5:], plain[1, 5:])
    with pytest.raises(ValueError, match="do not fit"):
        lm.embed(seqs, [(0, 5, feats)])


def test_stream_logits_restrict_streams_to_their_interval_and_stream_zero_has_no_stream_embedding(lm):
    hidden, _ = lm.forward_hidden(lm.embed(_tokens(lm)))
    logits = lm.stream_logits(hidden)
    v = lm.vocab
    assert logits.shape == (2, 6, 8, v.size)
    head = lm.lm_head.weight
    assert torch.allclose(logits[..., 0, :], hidden @ head.T, atol=1e-5)
    assert torch.isfinite(logits[..., 0, :]).all()
    for n in range(1, 8):
        lo, hi = v.stream_interval(n)
        finite = torch.isfinite(logits[0, 0, n]).nonzero().flatten()
        assert finite.min() == lo and finite.max() == hi - 1 and len(finite) == hi - lo
        expected = (hidden + lm.stream_emb.weight[n]) @ head[lo:hi].T
        assert torch.allclose(logits[..., n, lo:hi], expected, atol=1e-5)
    # A non-zero learned stream_emb[0] must not reach stream 0.
    assert lm.stream_emb.weight[0].abs().sum() > 0


def test_kv_cache_gives_the_same_last_hidden_state_as_a_full_pass(lm):
    embeds = lm.embed(_tokens(lm, batch=1, length=8))
    full, _ = lm.forward_hidden(embeds)
    _, cache = lm.forward_hidden(embeds[:, :6], use_cache=True)
    step, cache = lm.forward_hidden(embeds[:, 6:7], past_key_values=cache, use_cache=True)
    assert cache is not None
    assert torch.allclose(step[:, 0], full[:, 6], atol=1e-5)


# ---------------------------------------------------------------- checkpoints


# Checkpoints of NVIDIA's recipe: tests/test_ualm_parity.py loads one NVIDIA's own code wrote.


def test_saved_folder_round_trips_exactly(lm, tmp_path):
    assert lm.config.backbone["dtype"] == "bfloat16"  # stored by the backbone, overridden by the loader
    assert {p.dtype for p in lm.parameters()} == {torch.float32}
    again = build_ualm(model=str(lm.save_pretrained(tmp_path / "copy")), device="cpu")
    seqs = _tokens(lm, seed=7)
    assert torch.equal(again(seqs), lm(seqs))
    mine, theirs = lm.state_dict(), again.state_dict()
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
    assert again.config == lm.config
    assert again.tokenizer.encode("thunder rumbles") == lm.tokenizer.encode("thunder rumbles")


def test_folder_loads_in_bfloat16_with_close_logits(lm, folder):
    half = load_pretrained(folder, device="cpu", dtype="bfloat16")
    assert {p.dtype for p in half.parameters()} == {torch.bfloat16} and half.dtype == torch.bfloat16
    seqs = _tokens(lm, seed=11)
    full, low = lm(seqs)[..., 0, :], half(seqs)[..., 0, :].float()
    assert torch.corrcoef(torch.stack([full.flatten(), low.flatten()]))[0, 1] > 0.99
    assert half.codec_encode(np.zeros(3200, dtype=np.float32)).shape == (10, 8)


def test_absent_model_fails_fast_offline_naming_it(tmp_path):
    start = time.monotonic()
    with pytest.raises(ModelUnavailableError, match="nobody/ualm-missing"):
        build_ualm(model="nobody/ualm-missing", device="cpu")
    with pytest.raises(ModelUnavailableError, match="mp_rank_00_model_states.pt"):
        build_ualm(checkpoint=str(tmp_path / "nothing-here"), device="cpu")
    (tmp_path / "mp_rank_00_model_states.pt").write_bytes(b"")
    with pytest.raises(ModelUnavailableError, match="Qwen/Qwen2.5-1.5B"):
        build_ualm(checkpoint=str(tmp_path), backbone="Qwen/Qwen2.5-1.5B", device="cpu")
    with pytest.raises(ModelUnavailableError, match="--model"):
        build_ualm(device="cpu")
    assert time.monotonic() - start < 10


# ---------------------------------------------------------------- audio


def test_codec_runs_at_50_frames_per_second_of_16k_audio(lm):
    wav = np.random.default_rng(1).normal(0, 0.1, 16000 + 100).astype(np.float32)
    codes = lm.codec_encode(wav)
    assert codes.shape == (50, 8) and codes.dtype == torch.long
    assert 0 <= int(codes.min()) and int(codes.max()) < 1024 and len(torch.unique(codes)) > 8
    audio = lm.codec_decode(codes)
    assert audio.shape == (16000,) and torch.isfinite(audio).all()
    padded = codes.clone()
    padded[:3] = -1
    zeros = codes.clone()
    zeros[:3] = 0
    assert torch.equal(lm.codec_decode(padded), lm.codec_decode(zeros))


def test_encoder_features_come_at_25_hz_and_clips_are_heard_up_to_the_front_end_s_length(lm):
    rng = np.random.default_rng(2)
    feats = lm.encode_audio(torch.from_numpy(rng.normal(0, 0.1, 32000).astype(np.float32)))
    assert feats.shape == (50, lm.encoder.feature_dim)
    # The Omni front end takes 300 s (its chunk_length), as the recipe hears it: 31 s is not cut.
    assert lm.encoder.max_seconds == 300
    assert lm.encode_audio(rng.normal(0, 0.1, 16000 * 31).astype(np.float32)).shape[0] == 775
    # A clip shorter than one 40 ms frame (a decode that stopped at once) still gives one frame.
    assert lm.encode_audio(np.zeros(320, dtype=np.float32)).shape == (1, lm.encoder.feature_dim)


def test_af_whisper_encoder_option_gives_25_hz_features():
    lm = make_tiny_ualm(encoder_kind="af-whisper")
    wav = np.random.default_rng(3).normal(0, 0.1, 24000).astype(np.float32)
    feats = lm.encode_audio(wav)
    assert feats.shape == (37, 16)  # 1.5 s -> 150 mel frames -> 75 -> 37
    assert lm.encoder.max_seconds == 2  # this tiny encoder's window; the real AF-Whisper's is 30 s
    assert lm.encode_audio(np.concatenate([wav, wav])).shape[0] == 50  # cut at its window
    assert "multimodal_io_dict.continuous_audio.model.conv1.weight" in lm.state_dict()


def test_pretrained_codec_and_omni_audio_tower_are_the_ones_in_their_folders(lm, sources):
    from pathlib import Path

    from safetensors import safe_open
    from safetensors.torch import load_file

    tower = lm.encoder.encoder.state_dict()
    shards = sorted(Path(sources["encoder"]).glob("model-*.safetensors"))
    seen = 0
    for shard in shards:
        with safe_open(str(shard), framework="pt") as f:
            for name in f.keys():
                if name.startswith("thinker.audio_tower."):
                    assert torch.equal(tower[name[len("thinker.audio_tower.") :]], f.get_tensor(name))
                    seen += 1
    assert seen == len(tower)
    codec = lm.codec.codec_model.state_dict()
    saved = load_file(str(Path(sources["codec"]) / "model.safetensors"))
    assert saved.keys() == codec.keys() and all(torch.equal(codec[k], saved[k]) for k in saved)
