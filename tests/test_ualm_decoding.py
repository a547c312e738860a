"""UALM decoding on a tiny random model: delay pattern, CFG against a reference, KV cache, seeds, sequences,
the recipe's free sampling and stopping, and answers continued after <|eot|>."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from conftest import ROOT
from tiny_ualm import Boosted, CountingForwards
from ualm_agent.components.ualm import decoding, sampling, sequence
from ualm_agent.components.ualm.decoding import AudioOptions, TextOptions, fixed_length
from ualm_agent.components.ualm.delay import apply_delay, delay_region, invert_delay
from ualm_agent.components.ualm.sequence import Message, build_sequence
from ualm_agent.components.ualm.vocabulary import UalmVocabulary


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    """The tiny random UALM, saved and loaded back through the product's folder loader (float32, CPU)."""
    from tiny_ualm import make_tiny_ualm_folder

    from ualm_agent.components.ualm.model import UalmLM

    folder = make_tiny_ualm_folder(tmp_path_factory.mktemp("ualm") / "tiny-ualm")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model gains nothing from more, and loses much on a busy machine
    yield UalmLM.from_pretrained(folder, device="cpu", dtype="float32")
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def vocab(lm):
    return lm.vocab


def _prompt(vocab, n_text=5):
    return build_sequence(vocab, [Message("user", "text", list(range(1, n_text + 1)))]).ids


# --- delay pattern ---------------------------------------------------------------------------------

def test_delay_round_trips_and_shifts_each_stream_by_its_index():
    codes = torch.randint(0, 1024, (11, 8))
    pads = [1000 + n for n in range(8)]
    delayed = apply_delay(codes, pads)
    assert delayed.shape == (11 + 7, 8)
    for n in range(8):
        assert delayed[:n, n].tolist() == [pads[n]] * n
        assert torch.equal(delayed[n:n + 11, n], codes[:, n])
        assert delayed[n + 11:, n].tolist() == [pads[n]] * (7 - n)
    assert torch.equal(invert_delay(delayed), codes)
    batch = torch.randint(0, 1024, (3, 5, 4))
    assert torch.equal(invert_delay(apply_delay(batch, 0)), batch)
    assert invert_delay(delayed[:6]).shape == (0, 8)  # fewer than S - 1 frames hold no whole frame


def test_delay_region_marks_the_leading_and_trailing_pads():
    assert delay_region(0, 4) == [False, True, True, True]
    assert delay_region(2, 4) == [False, False, False, True]
    assert delay_region(5, 4, num_frames=5) == [True, False, False, False]
    assert delay_region(7, 4, num_frames=5) == [True, True, True, False]


# --- sampling helpers ------------------------------------------------------------------------------

def test_cfg_combine_remasks_what_both_branches_forbid():
    cond = torch.tensor([[1.0, 2.0, float("-inf")]])
    uncond = torch.tensor([[0.5, 3.0, float("-inf")]])
    out = sampling.cfg_combine(cond, uncond, 3.0)
    assert torch.allclose(out[0, :2], torch.tensor([3 * 1.0 - 2 * 0.5, 3 * 2.0 - 2 * 3.0]))
    assert out[0, 2] == float("-inf")  # NaN without the re-mask
    mask = torch.tensor([[True, False, False]])
    assert sampling.cfg_combine(cond, uncond, 3.0, mask)[0, 1] == float("-inf")


def test_top_k_sampling_stays_in_the_top_k_and_follows_the_generator():
    logits = torch.arange(50, dtype=torch.float32).repeat(200, 1)
    gen = torch.Generator().manual_seed(3)
    drawn = sampling.top_k_sample(logits, top_k=5, temperature=0.8, generator=gen)
    assert drawn.shape == (200,) and set(drawn.tolist()) <= set(range(45, 50)) and len(set(drawn.tolist())) > 1
    again = sampling.top_k_sample(logits, top_k=5, temperature=0.8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(drawn, again)
    masked = logits.clone()
    masked[:, 1:] = float("-inf")  # fewer allowed tokens than k
    assert set(sampling.top_k_sample(masked, top_k=20, generator=gen).tolist()) == {0}
    assert torch.equal(sampling.top_k_sample(logits, temperature=0), torch.full((200,), 49))


def test_masks_follow_the_vocabulary_layout():
    v = UalmVocabulary(text_size=10, num_streams=3, codebook_size=4)
    audio = sampling.audio_mask(v, 3)
    s1, e1 = v.stream_interval(1)
    assert audio[1].nonzero().flatten().tolist() == list(range(s1, e1))
    s0, e0 = v.stream_interval(0)
    assert set(audio[0].nonzero().flatten().tolist()) == set(range(s0, e0)) | {v.special("eos"), v.special("eot")}
    text = sampling.text_mask(v, 3)
    assert set(text[0].nonzero().flatten().tolist()) == set(range(256, 266)) | {v.special("eos"), v.special("eot")}
    assert text[1:].nonzero()[:, 1].tolist() == [0, 0]


# --- sequences -------------------------------------------------------------------------------------

def _word_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["!", "<|text", "to", "audio|>", "Generate", "for", "this", "caption.", "a", "dog", "barks",
             "<|audio", "caption|>", "audio.", "audio", "[UNK]"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")


def test_sequence_layout_roles_modalities_and_closing_tokens():
    v = UalmVocabulary(text_size=20, num_streams=4, codebook_size=8)
    sp = v.special
    feats = torch.randn(6, 3)
    codes = torch.randint(0, 8, (3, 4))
    seq = build_sequence(v, [
        Message("system", "text", [5]),
        Message("user", "text", [7, 0, 9]),
        Message("user", "audio", feats),
        Message("assistant", "audio", codes),
    ])
    col = seq.ids[:, 0].tolist()
    expected = ([sp("bos"), sp("system"), sp("text"), 256 + 5, sp("eos"),
                 sp("user"), sp("text"), 256 + 7, 0, 256 + 9, sp("eot"),  # tokenizer id 0 is <|pad|>, as in the recipe
                 sp("user"), sp("audio")] + [0] * 6 + [sp("eos"),
                 sp("assistant"), sp("audio")])
    assert col[:len(expected)] == expected
    # The model's own audio: stream ids in the delay pattern, then <|eot|> since the reply continues the turn.
    audio = seq.ids[len(expected):len(expected) + 3 + 3]
    assert torch.equal(audio, apply_delay(v.codes_to_ids(codes), [v.stream_pad(n) for n in range(4)]))
    assert col[len(expected) + 6:] == [sp("eot"), sp("assistant")]
    # Special and text tokens sit in stream 0 only; the audio placeholder is all <|pad|>.
    non_audio = [i for i in range(len(col)) if not len(expected) <= i < len(expected) + 6]
    assert seq.ids[non_audio, 1:].abs().sum() == 0
    assert seq.placeholders == [(13, 6)]
    (b, start, given), = seq.continuous(batch_index=1)
    assert (b, start) == (1, 13) and given is feats


def test_inference_prompt_ends_with_assistant_and_the_task_templates_come_from_prompts():
    v = UalmVocabulary(text_size=20, num_streams=4, codebook_size=8)
    tok = _word_tokenizer()
    seq = build_sequence(v, sequence.text_to_audio_messages("a dog barks"), tokenizer=tok, modality="audio")
    col = seq.ids[:, 0].tolist()
    words = "<|text to audio|> Generate audio for this caption. a dog barks".split()
    assert col == ([v.special("bos"), v.special("user"), v.special("text")]
                   + [256 + tok.convert_tokens_to_ids(w) for w in words]
                   + [v.special("eos"), v.special("assistant"), v.special("audio")])
    assert sequence.task_prompts()["audio_to_caption"] == "<|audio to caption|> Generate caption for this audio."
    cap = build_sequence(v, sequence.audio_to_caption_messages(12), tokenizer=tok)
    col = cap.ids[:, 0].tolist()
    assert col[col.index(v.special("eot")) + 1:col.index(v.special("eot")) + 3] == [v.special("user"), v.special("audio")]
    assert cap.placeholders == [(col.index(v.special("eot")) + 3, 12)] and col[-2:] == [v.special("eos"), v.special("assistant")]
    with pytest.raises(ValueError, match="no audio features"):
        cap.continuous()
    assert sequence.decode_text(v, tok, [v.text_ids([9])[0], v.special("eos"), v.text_ids([10])[0]]) == "dog barks"


# --- CFG -------------------------------------------------------------------------------------------

def _full_logits(lm, ids, continuous=None):
    with torch.inference_mode():
        hidden, _ = lm.forward_hidden(lm.embed(ids.unsqueeze(0), continuous=continuous))
        return lm.stream_logits(hidden[0, -1])


def test_cfg_logits_equal_separate_conditional_and_unconditional_forwards(lm, vocab):
    feats = torch.randn(4, lm.encoder.feature_dim, generator=torch.Generator().manual_seed(0))
    seq = build_sequence(vocab, [Message("user", "text", [3, 4]), Message("user", "audio", feats)], modality="audio")
    prompt = seq.ids
    frames = decoding.decode_audio(lm, prompt, continuous=seq.continuous(), **fixed_length(12, 8),
                                   generator=0).delayed
    assert frames.shape == (12 + 7, 8)
    scale = 3.0
    allowed = torch.zeros(8, vocab.size, dtype=torch.bool)
    for n in range(8):
        allowed[n, slice(*vocab.stream_interval(n))] = True
    allowed[0, [vocab.special("eos"), vocab.special("eot")]] = True
    uncond_prompt = torch.zeros_like(prompt)
    uncond_prompt[-1, 0] = vocab.special("audio")
    with torch.inference_mode():
        head = decoding.AudioHead(lm)
        # The compact head covers exactly the allowed ids.
        assert sorted(head.table[head.valid].tolist()) == allowed.nonzero()[:, 1].tolist()
        branches = decoding._branches(lm, prompt, seq.continuous(), scale, use_cache=True, batched_cfg=True,
                                      head=head)
        got = branches.start()
        for step in range(11):
            if step in (0, 1, 4, 10):
                cond = _full_logits(lm, torch.cat([prompt, frames[:step]]), seq.continuous())
                uncond = _full_logits(lm, torch.cat([uncond_prompt, frames[:step]]))
                want = (scale * cond + (1 - scale) * uncond).masked_fill(~allowed, float("-inf"))
                combined = decoding._guided(got, scale, head.valid)
                assert torch.isfinite(combined[head.valid]).all()
                assert torch.allclose(combined[head.valid], want.gather(1, head.table)[head.valid],
                                      atol=1e-4, rtol=1e-4), step
                assert not torch.allclose(cond[allowed], uncond[allowed])  # the branches do differ
            got = branches.step(frames[step])


def test_cfg_runs_both_branches_in_one_forward_per_step_and_none_at_scale_one(lm, vocab):
    prompt = _prompt(vocab)
    counted = CountingForwards(lm)
    codes = decoding.generate_audio(counted, prompt, **fixed_length(6, 8), generator=0)
    assert codes.shape == (6, 8)
    L = prompt.shape[0] + 1  # <|audio|> appended
    assert counted.shapes == [(2, L)] + [(2, 1)] * (6 + 7 - 1)
    counted.shapes.clear()
    decoding.generate_audio(counted, prompt, **fixed_length(6, 8), generator=0, cfg_scale=1.0)
    assert counted.shapes == [(1, L)] + [(1, 1)] * (6 + 7 - 1)


def test_batched_cfg_gives_the_same_tokens_as_two_passes(lm, vocab):
    prompt = _prompt(vocab)
    kw = dict(fixed_length(25, 8), generator=5)
    batched = decoding.generate_audio(lm, prompt, **kw)
    two = decoding.generate_audio(lm, prompt, batched_cfg=False, **kw)
    assert batched.shape == (25, 8) and torch.equal(batched, two)


# --- KV cache, seeds, delay, stopping --------------------------------------------------------------

def test_kv_cached_decoding_gives_the_same_tokens_as_full_recomputation(lm, vocab):
    prompt = _prompt(vocab)
    for cfg in (3.0, 1.0):
        kw = dict(fixed_length(20, 8), generator=7, cfg_scale=cfg)
        cached = decoding.decode_audio(lm, prompt, **kw).delayed
        full = decoding.decode_audio(lm, prompt, use_cache=False, **kw).delayed
        assert cached.shape == (27, 8) and torch.equal(cached, full)
    text_kw = dict(max_tokens=15, greedy=False, generator=2, stop=())
    assert decoding.generate_text(lm, prompt, **text_kw) == decoding.generate_text(lm, prompt, use_cache=False, **text_kw)


def test_same_seed_same_codes_and_another_seed_other_codes(lm, vocab):
    prompt = _prompt(vocab)
    kw = fixed_length(20, 8)
    a = decoding.generate_audio(lm, prompt, generator=11, **kw)
    b = decoding.generate_audio(lm, prompt, generator=torch.Generator().manual_seed(11), **kw)
    c = decoding.generate_audio(lm, prompt, generator=12, **kw)
    assert torch.equal(a, b)
    assert (a != c).float().mean() > 0.5
    assert int(a.min()) >= -1 and int(a.max()) < vocab.codebook_size


def test_delay_regions_are_sampled_freely_and_the_codes_keep_each_stream_s_own_span(lm, vocab):
    out = decoding.decode_audio(lm, _prompt(vocab), **fixed_length(5, 8), generator=1)
    assert out.stop is None and out.delayed.shape == (5 + 7, 8)
    leading = [int(out.delayed[step, n]) for n in range(1, 8) for step in range(n)]
    pads = [vocab.stream_pad(n) for n in range(1, 8) for step in range(n)]
    # As in the recipe, a stream that has not started yet is sampled like any other: it rarely picks its pad.
    assert sum(a != b for a, b in zip(leading, pads)) > len(leading) // 2
    for n in range(8):
        start, end = vocab.stream_interval(n)
        assert ((out.delayed[:, n] >= start) & (out.delayed[:, n] < end)).all()
    codes = out.codes(vocab)
    assert codes.shape == (5, 8)
    for n in range(8):  # stream n's codes are its delayed frames n .. n + 4; the rest is dropped
        assert codes[:, n].tolist() == vocab.ids_to_codes(out.delayed[n:n + 5]).T[n].tolist()


def test_forcing_the_delay_pads_is_an_option(lm, vocab):
    out = decoding.decode_audio(lm, _prompt(vocab), **fixed_length(5, 8), force_delay_pads=True, generator=1)
    assert out.stop is None and out.delayed.shape == (5 + 7, 8)
    for n in range(8):
        column = out.delayed[:, n]
        start, end = vocab.stream_interval(n)
        assert column[:n].tolist() == [start] * n  # not started yet
        assert column[n + 5:].tolist() == [start] * (7 - n)  # already finished
        assert ((column >= start) & (column < end)).all()
    assert out.codes(vocab).shape == (5, 8)
    free = decoding.decode_audio(lm, _prompt(vocab), **fixed_length(5, 8), generator=1)
    assert not torch.equal(out.delayed, free.delayed)


def test_the_model_ends_the_audio_with_eos_or_eot_and_nothing_holds_it_back(lm, vocab):
    for name in ("eos", "eot"):
        token = vocab.special(name)
        # As published, a stop may come at any frame, even the first.
        first = decoding.decode_audio(Boosted(lm, token, after=0), _prompt(vocab), generator=0)
        assert first.stop == token and first.delayed.shape == (0, 8) and first.codes(vocab).shape == (0, 8)
        late = decoding.decode_audio(Boosted(lm, token, after=14), _prompt(vocab), generator=0)
        assert late.stop == token and late.delayed.shape == (14, 8) and late.codes(vocab).shape == (14 - 7, 8)
    plain = decoding.decode_audio(lm, _prompt(vocab), max_steps=14, generator=0)
    assert torch.equal(late.delayed, plain.delayed)  # the same draws up to the stop
    # A stop before the delay tail is complete leaves fewer delayed frames than S - 1: no whole frame.
    early = decoding.generate_audio(Boosted(lm, vocab.special("eos"), after=5), _prompt(vocab), generator=0)
    assert early.shape == (0, 8)


def test_the_step_cap_ends_audio_the_model_does_not_end(lm, vocab):
    counted = CountingForwards(lm)
    capped = decoding.decode_audio(counted, _prompt(vocab), max_steps=9, generator=3)
    assert capped.stop is None and capped.delayed.shape == (9, 8) and capped.codes(vocab).shape == (2, 8)
    assert len(counted.shapes) == 9  # the prefill and 8 steps; the last frame is not fed back
    assert decoding.RECIPE_AUDIO_STEPS == 1024 and AudioOptions().max_steps == 1024
    assert AudioOptions().min_frames == 0 and not AudioOptions().force_delay_pads


def test_min_frames_holds_the_stop_back_for_a_fixed_length(lm, vocab):
    eos = vocab.special("eos")
    held = decoding.decode_audio(Boosted(lm, eos, after=0), _prompt(vocab), max_steps=50, min_frames=3, generator=0)
    assert held.stop == eos and held.delayed.shape == (3 + 7, 8) and held.codes(vocab).shape == (3, 8)
    fixed = decoding.decode_audio(Boosted(lm, eos, after=0), _prompt(vocab), **fixed_length(4, 8), generator=0)
    assert fixed.stop is None and fixed.codes(vocab).shape == (4, 8)


def test_kept_logits_are_the_guided_masked_logits_the_tokens_were_drawn_from(lm, vocab):
    out = decoding.decode_audio(lm, _prompt(vocab), max_steps=6, temperature=0, keep_logits=True)
    assert out.logits.shape == (6, 8, vocab.size)
    assert torch.equal(out.logits.argmax(-1), out.delayed)  # greedy: each frame is the argmax
    allowed = sampling.audio_mask(vocab, 8)
    assert torch.isfinite(out.logits[:, allowed]).all() and not torch.isfinite(out.logits[:, ~allowed]).any()


def test_text_generation_is_greedy_masked_to_text_and_stops_at_eos(lm, vocab):
    prompt = _prompt(vocab)
    free = decoding.generate_text(lm, prompt, max_tokens=8, stop=())
    assert len(free) == 8 and all(vocab.is_text(t) for t in free)
    # Greedy: each token is the argmax of the text-masked stream-0 logits of the sequence so far.
    seq = torch.cat([prompt, torch.zeros(1, 8, dtype=torch.long)])
    seq[-1, 0] = vocab.special("text")
    allowed = torch.zeros(vocab.size, dtype=torch.bool)
    allowed[vocab.text_start:vocab.audio_start] = True
    for token in free[:3]:
        logits = _full_logits(lm, seq)[0].masked_fill(~allowed, float("-inf"))
        assert int(logits.argmax()) == token
        seq = torch.cat([seq, torch.zeros(1, 8, dtype=torch.long)])
        seq[-1, 0] = token
    eos = vocab.special("eos")
    stopped = decoding.generate_text(Boosted(lm, eos, after=3), prompt, max_tokens=8)
    assert stopped == free[:3]


def test_choose_modality_takes_the_argmax_over_allowed_modalities(lm, vocab):
    prompt = _prompt(vocab)
    assert decoding.choose_modality(Boosted(lm, vocab.special("text"), after=0), prompt) == "text"
    assert decoding.choose_modality(Boosted(lm, vocab.special("audio"), after=0), prompt) == "audio"
    boosted_text = Boosted(lm, vocab.special("text"), after=0)
    assert decoding.choose_modality(boosted_text, prompt, allowed=("audio",)) == "audio"
    with pytest.raises(ValueError, match="assistant"):
        decoding.choose_modality(lm, prompt[:-1])


# --- answers of several segments -------------------------------------------------------------------

def _row(vocab, name):
    return sequence.special_row(vocab, name, 8)


def test_an_audio_segment_ending_in_eot_is_continued_by_another_assistant_segment(lm, vocab):
    prompt = _prompt(vocab)
    eot = vocab.special("eot")
    # Passes: 0 the prefill, 1..5 steps, so the sixth frame is <|eot|>; pass 6 is the next segment's prefill.
    steered = CountingForwards(Boosted(lm, eot, after=5, until=6))
    segments = decoding.generate_segments(steered, prompt, first="audio", then=("audio",),
                                          audio=AudioOptions(max_steps=12), generator=4)
    assert [s.modality for s in segments] == ["audio", "audio"]
    assert segments[0].stop == eot and segments[0].decoded.delayed.shape == (5, 8)
    assert segments[1].stop is None and segments[1].decoded.delayed.shape == (12, 8)
    # The answer so far, in the training format: <|audio|> frames <|eot|> <|assistant|>, then <|audio|> again.
    continued = torch.cat([prompt, _row(vocab, "<|audio|>"), segments[0].decoded.delayed, _row(vocab, "<|eot|>"),
                           _row(vocab, "<|assistant|>")])
    assert steered.shapes[6] == (2, continued.shape[0] + 1)
    gen = torch.Generator().manual_seed(4)
    decoding.decode_audio(Boosted(lm, eot, after=5, until=6), prompt, max_steps=12, generator=gen)
    again = decoding.decode_audio(lm, continued, max_steps=12, generator=gen)
    assert torch.equal(again.delayed, segments[1].decoded.delayed)


def test_the_model_chooses_what_follows_an_eot_and_text_continues_too(lm, vocab):
    eot, text, audio = vocab.special("eot"), vocab.special("text"), vocab.special("audio")
    for chosen, token in (("text", text), ("audio", audio)):
        # Pass 3 makes the fourth text token <|eot|>; pass 4 is the modality choice, steered to `token`.
        steered = Boosted(Boosted(lm, eot, after=3, until=4), token, after=4, until=5)
        segments = decoding.generate_segments(steered, _prompt(vocab), first="text", then=("text", "audio"),
                                              text=TextOptions(max_tokens=5), audio=AudioOptions(max_steps=9),
                                              generator=0)
        assert [s.modality for s in segments] == ["text", chosen]
        assert segments[0].stop == eot and len(segments[0].decoded.ids) == 3
        assert segments[1].stop is None  # its own cap: 5 tokens, 9 audio steps
    assert len(segments[1].decoded.delayed) == 9


def test_max_segments_bounds_an_answer_that_keeps_continuing(lm, vocab):
    eot = vocab.special("eot")
    segments = decoding.generate_segments(Boosted(lm, eot, after=0), _prompt(vocab), first="text", then=("text",),
                                          max_segments=3)
    assert len(segments) == 3 and all(s.stop == eot and s.decoded.ids == [] for s in segments)


# --- the two published tasks end to end ------------------------------------------------------------

def test_text_to_audio_and_audio_to_caption_run_through_the_model_io(lm, vocab):
    import numpy as np

    prompt = build_sequence(vocab, sequence.text_to_audio_messages("a dog barks twice"), tokenizer=lm.tokenizer)
    codes = decoding.generate_audio(lm, prompt.ids, **fixed_length(10, 8), generator=0)
    assert codes.shape == (10, 8)
    wave = lm.codec_decode(codes)
    assert wave.shape == (10 * 320,) and torch.isfinite(wave).all()

    feats = lm.encode_audio(np.asarray(wave, dtype=np.float32))
    heard = build_sequence(vocab, sequence.audio_to_caption_messages(feats), tokenizer=lm.tokenizer)
    (start, length), = heard.placeholders
    assert length == feats.shape[0] > 0 and heard.ids[start:start + length].abs().sum() == 0
    assert decoding.choose_modality(lm, heard.ids, continuous=heard.continuous()) in ("text", "audio")
    ids = decoding.generate_text(lm, heard.ids, continuous=heard.continuous(), max_tokens=6, stop=())
    assert len(ids) == 6 and isinstance(sequence.decode_text(vocab, lm.tokenizer, ids), str)
    # The features reach the model: other audio gives other logits after the same prompt.
    other = heard.with_features([torch.randn_like(feats) * 3])
    assert not torch.equal(_full_logits(lm, heard.ids, heard.continuous())[0],
                           _full_logits(lm, other.ids, other.continuous())[0])


# --- benchmarks ------------------------------------------------------------------------------------

def _bench(script: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown where no CUDA device exists")
def test_gpu_benchmark_says_in_one_line_that_cuda_is_missing():
    res = _bench("ualm_gpu.py")
    assert res.returncode != 0
    assert res.stderr.strip().splitlines() == [
        "ualm_gpu: no CUDA device is available; run this on a GPU machine (or smoke-test it with --device cpu --layers 2)"]


def test_cpu_decoding_benchmark_reports_its_ratios(tmp_path):
    out = tmp_path / "figures.json"
    res = _bench("ualm_decoding.py", "--steps", "24", "--repeats", "1", "--out", str(out))
    assert res.returncode == 0, res.stderr
    import json

    figures = json.loads(out.read_text())
    assert set(figures["ratios"]) == {"cfg_over_no_cfg_per_step", "two_passes_over_batched_per_step",
                                      "recompute_over_kv_cache_total", "recompute_over_kv_cache_last50_steps"}
    assert all(r["steps"] == 24 for r in figures["runs"].values())
    assert "CFG / no CFG per step" in res.stdout


@pytest.mark.slow
def test_gpu_benchmark_smoke_on_cpu_with_two_layers(tmp_path):
    out = tmp_path / "gpu.json"
    res = _bench("ualm_gpu.py", "--device", "cpu", "--layers", "2", "--out", str(out))
    assert res.returncode == 0, res.stderr
    import json

    figures = json.loads(out.read_text())
    assert figures["vocab_size"] == 160392 and figures["batch"] == 2 and figures["dtype"] == "bfloat16"
    assert figures["run"]["steps"] == figures["run"]["frames"] + 7
    # 2 layers of Qwen2.5-1.5B (46.8 M weights each) and the head's 8,202 audio rows, in bf16.
    layer = 2 * 1536 * (1536 + 256) + 256 * 2 + 1536 + 3 * 1536 * 8960 + 2 * 1536
    expected = 2 * (2 * layer + 1536 + (8 * 1025 + 2) * 1536 + 8 * 1536)
    assert figures["weight_bytes_per_step"] == expected and figures["floor_step_s"] > 0


def test_a_seed_past_64_bits_wraps_instead_of_failing():
    import torch

    from ualm_agent.components.ualm.sampling import make_generator

    big, small = make_generator(2**64 + 5, "cpu"), make_generator(5, "cpu")
    assert torch.equal(torch.rand(4, generator=big), torch.rand(4, generator=small))
    assert make_generator(2**64 - 1, "cpu").initial_seed() == 2**64 - 1
