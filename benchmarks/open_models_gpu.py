"""The open stack's models at their real sizes with random weights: load time, speed and peak memory on a GPU.

Each model is built from its real classes at its released size (configs below, each value with its source),
with random bf16 weights, saved with safetensors into a scratch folder, then loaded and run through the
agent's own backends (``build_component`` with ``model=<folder>``), one model at a time:

  - generators (``stable-audio``, ``audioldm2``): seconds per generated second of a 10 s clip at the backend's
    default steps (a warm-up clip first, then a timed one);
  - judges (``qwen2-audio``, ``qwen2.5-omni``, ``audio-flamingo3``): seconds per judged 10 s clip: the
    listener's ``listen_for`` with a typical plan's questions, then a critique (warm-up, then timed);
  - load time (``build_component`` from the folder: both backends load their weights there), the first
    (warm-up) call apart, and the peak GPU memory (``torch.cuda.max_memory_allocated``, reset for each model).

Only compute and memory are measured: the weights are random and the tokenizers are tiny ones trained here
on a few sentences, so no download is needed and what the models say means nothing. The tokenizers keep the
real special tokens, and each model keeps its real vocabulary size (embedding and output layer). Random
weights never stop early nor write parseable JSON, so every written answer (caption, critique) runs to its
token cap, once (retries off): the most one real answer costs.

    python benchmarks/open_models_gpu.py [--only stable-audio,qwen2-audio] [--json figures.json]
    python benchmarks/open_models_gpu.py --params            # real-size parameter counts, no GPU, no weights
    python benchmarks/open_models_gpu.py --tiny --device cpu  # the same path with tiny models (the tests)

Without CUDA the default invocation prints one line and exits 0. Scratch folders go to /dev/shm when it has
room (else the system temp folder; ``--workdir`` picks another), so the load time is a load from the page
cache: add size / disk read speed for a cold load from disk. On a CPU the GPU memory fields are None (null in
the JSON). ``ualm_agent`` and its needs (pydantic, diffusers, torchsde, soundfile, soxr) must be importable.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GIB = 2**30
# The --params estimate: bf16 weights plus this share for activations, KV cache and allocator slack (at
# least 1 GiB). A rule of thumb, stated as one; the GPU run measures the real peak.
ALLOWANCE_SHARE, ALLOWANCE_MIN_GIB = 0.2, 1.0
CLIP_S = 10.0
# The judges' cap on a written answer (the backend's default): random weights always write this many tokens.
WRITTEN_TOKENS = 256
# --tiny's defaults: a handful of diffusion steps and written tokens keep the code path and make it quick.
TINY_STEPS, TINY_TOKENS = 4, 8
# A typical request of the default stack's benchmarks: three events, a count, an order.
PROMPT = "brass followed by percussion, then a dog barks three times"

# --- tokenizers ------------------------------------------------------------------------------------------

# Sentences the tiny tokenizers are trained on: the judges' prompt words and answers. Words they never saw
# split into more pieces than with the real 150,000-token vocabularies, so text prompts come out somewhat
# longer (the audio tokens, which the processors count from the clip, are exact): prefill is not underestimated.
CORPUS = [
    "Listen to the clip. Is there a dog barking between 0.0 and 3.0 seconds? Answer yes or no.",
    "Yes. No. yes no Yes No. Does the brass play before the percussion? Is the sound loud, soft or distant?",
    "You are a helpful assistant. Describe the audio in detail: which sounds, when, how loud, how many times.",
    "Rate the quality, the alignment with the description and the aesthetics from 0 to 1. Verdict: accept, revise.",
    "brass followed by percussion, then a dog barks three times; a bell rings; rain falls on a tin roof.",
    "Keywords: Layout: - Bark from 6.000 to 9.300 s, 3x, center, normal Description: Duration: 10.000 s",
    "Transcribe the speech. The man says come here, good boy. Music, speech, noise, silence, animal, vehicle.",
]
QWEN_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def _bpe(special: list[str], vocab_size: int = 600):
    """A byte-level BPE trained on CORPUS with ``special`` first (ids 0..n-1)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    return tok


def qwen_tokenizer(extra: dict[str, str], chat_template: str):
    """A Qwen-style tokenizer: ChatML specials plus the model's media tokens, named (``audio_token`` ...)
    so processors find them as attributes, as they do on the released tokenizers."""
    from transformers import PreTrainedTokenizerFast

    tok = _bpe(QWEN_SPECIAL + list(extra.values()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   extra_special_tokens=extra, model_max_length=32768)
    fast.chat_template = chat_template
    return fast


def t5_tokenizer(max_length: int):
    """A T5 tokenizer (unigram, <pad>=0 </s>=1 <unk>=2 as T5's) trained on CORPUS."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Tokenizer

    trainer = trainers.UnigramTrainer(vocab_size=300, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>",
                                      show_progress=False)
    unigram = Tokenizer(models.Unigram())
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    unigram.train_from_iterator(CORPUS * 4, trainer)
    vocab = [tuple(piece) for piece in json.loads(unigram.to_str())["model"]["vocab"]]
    tokenizer = T5Tokenizer(vocab=vocab, extra_ids=0)
    tokenizer.model_max_length = max_length
    return tokenizer


def roberta_tokenizer(max_length: int):
    """CLAP's text tokenizer layout (RoBERTa: <s>=0 <pad>=1 </s>=2), trained on CORPUS."""
    from tokenizers import processors
    from transformers import RobertaTokenizerFast

    tok = _bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
    return RobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                model_max_length=max_length)


# Chat templates in the released processors' form: ChatML, and each audio item replaced by the model's
# audio placeholder (Qwen2-Audio: "Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n"; AF3: "<sound>" ahead of
# the text; Omni: "<|audio_bos|><|AUDIO|><|audio_eos|>").
def _chatml(audio: str) -> str:
    return (
        "{% for message in messages %}"
        "{% if loop.first and message['role'] != 'system' %}"
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
        "<|im_start|>{{ message['role'] }}\n"
        "{% if message['content'] is string %}{{ message['content'] }}"
        "{% else %}{% for part in message['content'] %}"
        "{% if part['type'] == 'audio' or 'audio' in part or 'audio_url' in part %}" + audio +
        "{% elif 'text' in part %}{{ part['text'] }}{% endif %}"
        "{% endfor %}{% endif %}<|im_end|>\n"
        "{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )


QWEN2_AUDIO_TEMPLATE = _chatml("Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n")
OMNI_TEMPLATE = _chatml("<|audio_bos|><|AUDIO|><|audio_eos|>")
AF3_TEMPLATE = _chatml("<sound>")

# --- model definitions -----------------------------------------------------------------------------------
#
# Sizes come from the released configs (hub config.json files, quoted below) or from library defaults that
# equal them; TINY_* are the same classes at toy widths for --tiny.

# stabilityai/stable-audio-open-1.0. transformer/config.json and vae/config.json equal diffusers'
# StableAudioDiTModel() and AutoencoderOobleck() defaults (24 layers, 24 heads of 64, 12 KV heads, 64 latent
# channels, 1,024 latent frames = 47.55 s at 44.1 kHz; Oobleck 128 channels, strides 2,4,4,8,8).
# text_encoder is t5-base: d_model 768, d_ff 3072, 12 layers, 12 heads, ReLU (T5Config's defaults are t5-small).
# projection_model/config.json: text_encoder_dim 768, conditioning_dim 768, min_value 0, max_value 512.
# scheduler/scheduler_config.json: CosineDPMSolverMultistepScheduler, sigma_min 0.3, sigma_max 500,
# sigma_data 1, exponential, order 2, v-prediction, midpoint, rho 7 (= diffusers' defaults).
STABLE_AUDIO = dict(dit={}, vae={},
                    t5=dict(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12,
                            feed_forward_proj="relu"),
                    projection=dict(text_encoder_dim=768, conditioning_dim=768, min_value=0, max_value=512),
                    # The prompt is padded to the tokenizer's length: 128, the T5 conditioner's max_length in the
                    # release's model_config.json.
                    max_length=128)
TINY_STABLE_AUDIO = dict(
    # 32 latent frames x 2,048 samples = 1.49 s at 44.1 kHz: a tiny run makes a short clip (its VAE decodes the whole
    # window, which on a CPU costs more than the rest).
    dit=dict(sample_size=32, in_channels=4, out_channels=4, num_layers=1, attention_head_dim=8,
             num_attention_heads=2, num_key_value_attention_heads=1, cross_attention_dim=8,
             cross_attention_input_dim=8, global_states_input_dim=16, time_proj_dim=8),
    # The real hop of 2,048 samples (2*4*4*8*8) at toy widths.
    vae=dict(encoder_hidden_size=2, downsampling_ratios=[2, 4, 4, 8, 8], channel_multiples=[1, 2, 2, 2, 2],
             decoder_channels=2, decoder_input_channels=4, audio_channels=2, sampling_rate=44100),
    t5=dict(d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2, relative_attention_num_buckets=8,
            relative_attention_max_distance=16),
    projection=dict(text_encoder_dim=16, conditioning_dim=8, min_value=0, max_value=512),
    max_length=64)

# cvssp/audioldm2. unet/config.json: AudioLDM2UNet2DConditionModel, block_out_channels 128,256,384,640,
# attention_head_dim 8, layers_per_block 2, in/out 8 channels, sample_size 256, DownBlock2D then 3x
# CrossAttnDownBlock2D (and mirrored up), cross_attention_dim [null, 768, 1024] per block (self-attention,
# then GPT-2's states, then FLAN-T5's). vae/config.json: AutoencoderKL 128,256,512, 8 latent channels, 1 in/out
# channel, scaling_factor 0.4110932946205139. text_encoder/config.json: ClapModel (laion/clap-htsat-unfused):
# audio depths 2,2,12,2, hidden 1024, patch embeds 128; text tower RoBERTa-base (ClapTextConfig defaults);
# projection 512. text_encoder_2/config.json: FLAN-T5-large encoder, d_model 1024, d_ff 2816, d_kv 64, 24 layers,
# 16 heads, gated-gelu. language_model/config.json: GPT2Model = gpt2 (GPT2Config defaults: 768 wide, 12 layers),
# max_new_tokens 8. projection_model/config.json: text_encoder_dim 512, text_encoder_1_dim 1024,
# langauge_model_dim 768. vocoder/config.json: SpeechT5HifiGan, 64 mels, 16 kHz, upsample 5,4,2,2,2 (kernels
# 16,16,8,4,4), 1,024 initial channels, resblocks 3,7,11 dilations 1,3,5, normalize_before false.
# The scheduler is DDIM with the original betas (0.0015..0.0195 scaled-linear, convert_original_audioldm2_to_diffusers.py).
AUDIOLDM2 = dict(
    unet=dict(sample_size=256, in_channels=8, out_channels=8, block_out_channels=(128, 256, 384, 640),
              attention_head_dim=8, layers_per_block=2,
              down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
              up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
              cross_attention_dim=([None, 768, 1024],) * 4),
    vae=dict(block_out_channels=(128, 256, 512), in_channels=1, out_channels=1, latent_channels=8,
             down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
             sample_size=1024, scaling_factor=0.4110932946205139, force_upcast=True),
    clap=dict(audio=dict(depths=[2, 2, 12, 2], hidden_size=1024, patch_embeds_hidden_size=128), text={},
              projection_dim=512),
    t5=dict(vocab_size=32128, d_model=1024, d_kv=64, d_ff=2816, num_layers=24, num_heads=16,
            feed_forward_proj="gated-gelu"),
    gpt2={},
    vocoder=dict(model_in_dim=64, sampling_rate=16000, upsample_initial_channel=1024, upsample_rates=[5, 4, 2, 2, 2],
                 upsample_kernel_sizes=[16, 16, 8, 4, 4], resblock_kernel_sizes=[3, 7, 11],
                 resblock_dilation_sizes=[[1, 3, 5]] * 3, normalize_before=False),
    # CLAP's prompt is padded to its tokenizer's 512 (RoBERTa's model_max_length); FLAN-T5's is cut at 128
    # ("hard-coded in the original implementation", the conversion script).
    clap_features=dict(), clap_max_length=512, t5_max_length=128)
TINY_AUDIOLDM2 = dict(
    # 64 latent frames x 2 (VAE) x 10 ms per mel frame = 1.28 s (the real model's 256 x 4 = 10.24 s).
    unet=dict(sample_size=64, in_channels=4, out_channels=4, block_out_channels=(8, 16), attention_head_dim=4,
              layers_per_block=1, norm_num_groups=4,
              down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
              cross_attention_dim=([None, 16, 16],) * 2),
    vae=dict(block_out_channels=(8, 16), in_channels=1, out_channels=1, latent_channels=4, norm_num_groups=4,
             down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2),
    clap=dict(audio=dict(window_size=4, num_mel_bins=16, spec_size=64, patch_size=2, patch_stride=(2, 2),
                         hidden_size=32, depths=(1, 1), num_attention_heads=(2, 2), patch_embeds_hidden_size=16,
                         num_hidden_layers=2, enable_fusion=False),
              text=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                        max_position_embeddings=80),
              projection_dim=16),
    t5=dict(d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2, relative_attention_num_buckets=8,
            relative_attention_max_distance=16),
    gpt2=dict(n_embd=16, n_head=2, n_layer=1, vocab_size=64, n_positions=64),
    # AudioLDM 2's 160-sample hop (8*5*4) at 16 kHz, on 8 mels.
    vocoder=dict(model_in_dim=8, sampling_rate=16000, upsample_initial_channel=16, upsample_rates=[8, 5, 4],
                 upsample_kernel_sizes=[16, 10, 8], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
                 normalize_before=False),
    clap_features=dict(feature_size=16, max_length_s=2, truncation="rand_trunc"), clap_max_length=64, t5_max_length=128)

# Qwen/Qwen2-Audio-7B-Instruct config.json: audio_config = Qwen2AudioEncoderConfig defaults (Whisper-large-v3's
# encoder: 32 layers, d_model 1280, 20 heads, FFN 5120, 128 mels); text_config: Qwen2Config defaults (4096 wide,
# 32 layers, 32 heads, 32 KV heads) with vocab_size 156032, intermediate_size 11008, max_position_embeddings 8192,
# rms_norm_eps 1e-5, rope_theta 10000 (Qwen2Config's default intermediate of 22016 is not the released one).
QWEN2_AUDIO = dict(audio={}, text=dict(vocab_size=156032, intermediate_size=11008, max_position_embeddings=8192,
                                       rms_norm_eps=1e-5, rope_theta=10000.0))
# Qwen/Qwen2.5-Omni-7B config.json, thinker_config: text = Qwen2_5OmniThinkerConfig's defaults (Qwen2.5-7B:
# 3584 wide, 28 layers, 28 heads, 4 KV heads, FFN 18944, vocab 152064) with tie_word_embeddings false; audio =
# defaults (32 layers, d_model 1280, output 3584); vision: depth 32, hidden_size 1280 (the library's default of
# 3584 would make a 3.1 B tower; the released one is Qwen2.5-VL's 675 M), FFN 3420, 16 heads, out 3584;
# rope_scaling mrope_section 16, 24, 24.
# vocab_size is written out because the tiny tokenizer's length fills it where a config leaves it out.
# Only the thinker is built: the talker and token2wav speak, and the judge never loads them.
QWEN25_OMNI = dict(audio={}, vision=dict(hidden_size=1280),
                   text=dict(vocab_size=152064, tie_word_embeddings=False,
                             rope_parameters=dict(rope_type="default", rope_theta=1e6, mrope_section=[16, 24, 24])))
# nvidia/audio-flamingo-3-hf (transformers' convert_audioflamingo3_to_hf.py): text_config = Qwen2.5-7B (hidden 3584,
# FFN 18944, 28 layers, 28 heads, 4 KV heads, rope_theta 1e6, vocab 151672); audio_config = the defaults
# (Whisper-large-v3's encoder); a 2-layer GELU projector 1280 -> 3584 -> 3584.
AUDIO_FLAMINGO3 = dict(audio={}, text=dict(vocab_size=151672, hidden_size=3584, intermediate_size=18944,
                                           num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
                                           rope_theta=1000000.0, max_position_embeddings=32768))
# Judges at toy widths: 2 encoder layers on the real 128 mels and 1,500 positions, a 2-layer LM.
TINY_AUDIO = dict(d_model=32, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64)
TINY_TEXT = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2)
TINY_QWEN2_AUDIO = dict(audio=TINY_AUDIO, text=TINY_TEXT)
TINY_QWEN25_OMNI = dict(audio=dict(TINY_AUDIO, output_dim=32),
                        vision=dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=2, out_hidden_size=32,
                                    fullatt_block_indexes=[0]),
                        # Multimodal RoPE's three sections must add up to half a head (8 / 2 here).
                        text=dict(TINY_TEXT, tie_word_embeddings=False,
                                  rope_parameters=dict(rope_type="default", rope_theta=1e6, mrope_section=[2, 1, 1])))
TINY_AUDIO_FLAMINGO3 = dict(audio=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64),
                            text=TINY_TEXT)


def _whisper_features():
    """Whisper-large-v3's front end, as the three judges' processors use it: 128 mels, 16 kHz, 30 s windows."""
    from transformers import WhisperFeatureExtractor

    return WhisperFeatureExtractor(feature_size=128, sampling_rate=16000, hop_length=160, chunk_length=30, n_fft=400,
                                   return_attention_mask=True)


def stable_audio_parts(c: dict) -> dict:
    from diffusers import (
        AutoencoderOobleck,
        StableAudioDiTModel,
        StableAudioProjectionModel,
    )
    from transformers import T5Config, T5EncoderModel

    return {"transformer": StableAudioDiTModel(**c["dit"]), "vae": AutoencoderOobleck(**c["vae"]),
            "text_encoder": T5EncoderModel(T5Config(**{"vocab_size": 32128, **c["t5"]})),
            "projection_model": StableAudioProjectionModel(**c["projection"])}


def save_pipeline(pipeline_cls, folder: Path, scheduler: tuple[str, dict], **components) -> None:
    """``save_pretrained`` of the real pipeline class, the scheduler written as its config file: building
    CosineDPMSolverMultistepScheduler needs torchsde, which only loading it (in the backend) should need."""
    from diffusers.utils import logging as diffusers_logging

    level = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()  # it says the scheduler (None here) cannot be saved
    try:
        pipeline_cls(scheduler=None, **components).save_pretrained(folder)
    finally:
        diffusers_logging.set_verbosity(level)
    name, settings = scheduler
    (folder / "scheduler").mkdir(exist_ok=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps({"_class_name": name, **settings}, indent=2))
    index = json.loads((folder / "model_index.json").read_text())
    index["scheduler"] = ["diffusers", name]
    (folder / "model_index.json").write_text(json.dumps(index, indent=2))


def stable_audio_scheduler() -> tuple[str, dict]:
    """The released scheduler, CosineDPMSolverMultistepScheduler, where torchsde is installed (diffusers needs it
    for that class); else EDMDPMSolverMultistepScheduler on the same sigmas, which also calls the transformer once
    per step (2nd-order multistep), so the time per step is the same."""
    import importlib.util

    settings = dict(sigma_min=0.3, sigma_max=500, sigma_data=1.0, sigma_schedule="exponential", num_train_timesteps=1000,
                    solver_order=2, prediction_type="v_prediction", rho=7.0, solver_type="midpoint",
                    lower_order_final=True, euler_at_final=False, final_sigmas_type="zero")
    if importlib.util.find_spec("torchsde") is not None:
        return "CosineDPMSolverMultistepScheduler", settings
    return "EDMDPMSolverMultistepScheduler", settings


def stable_audio_save(parts: dict, c: dict, folder: Path) -> None:
    from diffusers import StableAudioPipeline

    save_pipeline(StableAudioPipeline, folder, stable_audio_scheduler(), tokenizer=t5_tokenizer(c["max_length"]), **parts)


def audioldm2_parts(c: dict) -> dict:
    from diffusers import (
        AudioLDM2ProjectionModel,
        AudioLDM2UNet2DConditionModel,
        AutoencoderKL,
    )
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapModel,
        ClapTextConfig,
        GPT2Config,
        GPT2Model,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        T5Config,
        T5EncoderModel,
    )

    clap = ClapConfig(audio_config=ClapAudioConfig(**c["clap"]["audio"], projection_dim=c["clap"]["projection_dim"]),
                      text_config=ClapTextConfig(**c["clap"]["text"], projection_dim=c["clap"]["projection_dim"]),
                      projection_dim=c["clap"]["projection_dim"])
    t5 = T5Config(**{"vocab_size": 32128, **c["t5"]})
    gpt2 = GPT2Config(**c["gpt2"])
    return {
        "unet": AudioLDM2UNet2DConditionModel(**c["unet"]), "vae": AutoencoderKL(**c["vae"]),
        "text_encoder": ClapModel(clap), "text_encoder_2": T5EncoderModel(t5), "language_model": GPT2Model(gpt2),
        "projection_model": AudioLDM2ProjectionModel(text_encoder_dim=clap.projection_dim, text_encoder_1_dim=t5.d_model,
                                                     langauge_model_dim=gpt2.n_embd),
        "vocoder": SpeechT5HifiGan(SpeechT5HifiGanConfig(**c["vocoder"])),
    }


def audioldm2_save(parts: dict, c: dict, folder: Path) -> None:
    from diffusers import AudioLDM2Pipeline
    from transformers import ClapFeatureExtractor

    # The released language model config says how many states GPT-2 generates (8).
    parts["language_model"].config.max_new_tokens = 8
    scheduler = dict(beta_start=0.0015, beta_end=0.0195, beta_schedule="scaled_linear", num_train_timesteps=1000,
                     steps_offset=1, clip_sample=False, set_alpha_to_one=False, prediction_type="epsilon")
    save_pipeline(AudioLDM2Pipeline, folder, ("DDIMScheduler", scheduler),
                  tokenizer=roberta_tokenizer(c["clap_max_length"]), tokenizer_2=t5_tokenizer(c["t5_max_length"]),
                  feature_extractor=ClapFeatureExtractor(**c["clap_features"]), **parts)


def _token_ids(tokenizer, **names: str) -> dict:
    return {key: tokenizer.convert_tokens_to_ids(token) for key, token in names.items()}


AUDIO_SPECIAL = {"audio_token": "<|AUDIO|>", "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>"}
OMNI_SPECIAL = {**AUDIO_SPECIAL, "image_token": "<|IMAGE|>", "video_token": "<|VIDEO|>",
                "vision_bos_token": "<|vision_bos|>", "vision_eos_token": "<|vision_eos|>"}


def qwen2_audio_config(c: dict):
    from transformers import Qwen2AudioConfig

    tok = qwen_tokenizer(AUDIO_SPECIAL, QWEN2_AUDIO_TEMPLATE)
    text = {"vocab_size": len(tok), **c["text"]}
    return Qwen2AudioConfig(audio_config=c["audio"], text_config=text,
                            audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>")), tok


def qwen2_audio_files(tok) -> list:
    from transformers import Qwen2AudioProcessor

    return [Qwen2AudioProcessor(feature_extractor=_whisper_features(), tokenizer=tok, chat_template=QWEN2_AUDIO_TEMPLATE)]


def omni_config(c: dict):
    from transformers import Qwen2_5OmniThinkerConfig

    tok = qwen_tokenizer(OMNI_SPECIAL, OMNI_TEMPLATE)
    ids = _token_ids(tok, audio_token_index="<|AUDIO|>", image_token_index="<|IMAGE|>", video_token_index="<|VIDEO|>",
                     audio_start_token_id="<|audio_bos|>", audio_end_token_id="<|audio_eos|>",
                     vision_start_token_id="<|vision_bos|>", vision_end_token_id="<|vision_eos|>",
                     user_token_id="<|im_start|>")
    text = {"vocab_size": len(tok), **c["text"]}
    return Qwen2_5OmniThinkerConfig(audio_config=c["audio"], vision_config=c["vision"], text_config=text, **ids), tok


def omni_files(tok) -> list:
    # The tokenizer (chat template included) and the Whisper features: what the judge reads. The released
    # folder's full processor also holds image and video processors, whose classes need torchvision.
    return [tok, _whisper_features()]


def af3_config(c: dict):
    from transformers import AudioFlamingo3Config

    tok = qwen_tokenizer({"audio_token": "<sound>"}, AF3_TEMPLATE)
    text = {"model_type": "qwen2", "vocab_size": len(tok), **c["text"]}
    return AudioFlamingo3Config(audio_config=c["audio"], text_config=text,
                                audio_token_id=tok.convert_tokens_to_ids("<sound>")), tok


def af3_files(tok) -> list:
    from transformers import AudioFlamingo3Processor

    return [AudioFlamingo3Processor(feature_extractor=_whisper_features(), tokenizer=tok, chat_template=AF3_TEMPLATE,
                                    audio_token="<sound>")]


def judge(model_class: str, make_config: Callable, files: Callable) -> tuple[Callable, Callable]:
    """A judge's (parts, save): ``model_class`` built from ``make_config(c)``'s config, saved with the files
    ``files(tokenizer)`` lists (processor, or tokenizer and feature extractor)."""

    def parts(c: dict) -> dict:
        import transformers

        return {"model": getattr(transformers, model_class)(make_config(c)[0])}

    def save(parts: dict, c: dict, folder: Path) -> None:
        _, tok = make_config(c)
        parts["model"].save_pretrained(folder)
        for saved in files(tok):
            saved.save_pretrained(folder)

    return parts, save


@dataclass(frozen=True)
class OpenModel:
    name: str  # the backend's registry name
    title: str
    role: str  # "generator" or "judge"
    real: dict
    tiny: dict
    parts: Callable[[dict], dict]  # weighted parts, built under the caller's device and dtype
    save: Callable[[dict, dict, Path], None]

    def config(self, tiny: bool) -> dict:
        return self.tiny if tiny else self.real


MODELS = [
    OpenModel("stable-audio", "Stable Audio Open 1.0", "generator", STABLE_AUDIO, TINY_STABLE_AUDIO,
              stable_audio_parts, stable_audio_save),
    OpenModel("audioldm2", "AudioLDM 2", "generator", AUDIOLDM2, TINY_AUDIOLDM2, audioldm2_parts, audioldm2_save),
    OpenModel("qwen2-audio", "Qwen2-Audio-7B-Instruct", "judge", QWEN2_AUDIO, TINY_QWEN2_AUDIO,
              *judge("Qwen2AudioForConditionalGeneration", qwen2_audio_config, qwen2_audio_files)),
    OpenModel("qwen2.5-omni", "Qwen2.5-Omni-7B (thinker)", "judge", QWEN25_OMNI, TINY_QWEN25_OMNI,
              *judge("Qwen2_5OmniThinkerForConditionalGeneration", omni_config, omni_files)),
    OpenModel("audio-flamingo3", "Audio Flamingo 3", "judge", AUDIO_FLAMINGO3, TINY_AUDIO_FLAMINGO3,
              *judge("AudioFlamingo3ForConditionalGeneration", af3_config, af3_files)),
]
BY_NAME = {m.name: m for m in MODELS}


# --- parameter counts ------------------------------------------------------------------------------------

def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())  # parameters() yields a tied weight once


def _towers(module) -> dict[str, int]:
    """A judge's size by tower (audio encoder, projector, language model with its embedding, LM head, vision):
    the conditional-generation classes keep their towers on ``.model`` and the LM head beside it."""
    towers = {**dict(module.model.named_children()), **{k: v for k, v in module.named_children() if k != "model"}}
    return {name: n for name, tower in towers.items() if (n := _count(tower))}


def count_params(model: OpenModel, tiny: bool = False) -> dict:
    """Parameter counts per part, built on the meta device: no memory, no weights, a second or two."""
    import torch

    with torch.device("meta"):
        parts = model.parts(model.config(tiny))
    rows: dict[str, int] = {}
    for name, module in parts.items():
        rows.update(_towers(module) if model.role == "judge" else {name: _count(module)})
    total = sum(_count(m) for m in parts.values())
    weights_gib = total * 2 / GIB
    return {"name": model.name, "title": model.title, "parts": rows, "params": total, "bf16_weights_gib": weights_gib,
            "bf16_estimate_gib": weights_gib + max(ALLOWANCE_MIN_GIB, ALLOWANCE_SHARE * weights_gib)}


def print_params(counts: list[dict]) -> None:
    print(f"Parameters at real size (meta device) and bf16 memory: weights x 2 bytes, estimate = weights + "
          f"max({ALLOWANCE_MIN_GIB:g} GiB, {ALLOWANCE_SHARE:.0%}) for activations, KV cache and allocator slack")
    print(f"{'model / part':<44} {'params':>14} {'bf16 GiB':>9} {'estimate':>9}")
    for c in counts:
        print(f"{c['title'] + ' [' + c['name'] + ']':<44} {c['params']:>14,} {c['bf16_weights_gib']:>9.2f} "
              f"{c['bf16_estimate_gib']:>9.2f}")
        for part, n in c["parts"].items():
            print(f"  {part:<42} {n:>14,} {n * 2 / GIB:>9.2f}")


# --- the GPU run -----------------------------------------------------------------------------------------

@contextlib.contextmanager
def default_dtype(dtype):
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def write_random(model: OpenModel, tiny: bool, folder: Path, device: str, dtype_name: str) -> float:
    """Build the model with random weights straight on ``device`` in ``dtype`` and save it; returns seconds."""
    import torch

    t0 = time.perf_counter()
    torch.manual_seed(0)
    with torch.device(device), default_dtype(getattr(torch, dtype_name)):
        parts = model.parts(model.config(tiny))
    for module in parts.values():
        module.eval()
    model.save(parts, model.config(tiny), folder)
    del parts
    free_memory(device)
    return time.perf_counter() - t0


def free_memory(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()


def scratch_root(asked: Path | None, need_bytes: int) -> Path:
    """Where model folders go: --workdir, else /dev/shm when it has room (a tmpfs: writes and loads at memory
    speed), else the system temp folder."""
    if asked is not None:
        return asked
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 1.2 * need_bytes:
        return shm
    return Path(tempfile.gettempdir())


def default_steps(model: OpenModel) -> int | None:
    """The backend's default number of diffusion steps (its settings class), which the run uses."""
    from ualm_agent import registry

    field = registry.get("generator", model.name).config_cls.model_fields.get("steps")
    return None if field is None else field.default


def typical_plan():
    """The rules planner's plan for PROMPT at 10 s, written out (the planner's label index needs a model pack
    the GPU machine may lack): three events in a row, the last counted, so the judges ask presence, timing,
    count and order questions."""
    from ualm_agent.schema import LayoutEvent, RichCaption

    return RichCaption(
        keywords=["brass", "percussion", "a dog barks"],
        layout=[LayoutEvent(label="Brass instrument", phrase="brass", start_s=0.0, end_s=3.133),
                LayoutEvent(label="Percussion", phrase="percussion", start_s=3.433, end_s=6.567),
                LayoutEvent(label="Bark", phrase="a dog barks", start_s=6.867, end_s=10.0, count=3)],
        description="Brass, then percussion, then a dog barks (three times); 10 seconds in all.", duration_s=CLIP_S)


def plan_question_count(plan) -> int | None:
    """How many yes/no questions the judges ask about ``plan`` (None where the judge module is not there)."""
    try:
        from ualm_agent.components.judges.questions import plan_questions
    except ImportError:
        return None
    return len(plan_questions(plan))


def release_weights(device: str) -> float | None:
    """Drop every loaded model and return the GPU memory still allocated (GiB), so that each model's peak is
    its own. The builder caches instances, and the two backends share weights per folder in module-level
    caches; those are cleared by name, and the figure returned shows if anything was still held."""
    from ualm_agent.builders import clear_cache

    clear_cache()
    for module, cache in (("ualm_agent.components.generators.diffusion", "_PIPELINES"),
                          ("ualm_agent.components.judges.models", "_LOADED")):
        held = getattr(sys.modules.get(module), cache, None)
        if isinstance(held, dict):
            held.clear()
    free_memory(device)
    if device.startswith("cuda"):
        import torch

        return torch.cuda.memory_allocated(device) / GIB
    return None


def noise_clip(seed: int, rate: int = 44100):
    """10 s of stereo noise at the generators' 44.1 kHz: the judges resample it as they would a real clip."""
    import numpy as np

    from ualm_agent.waveform import Waveform

    return Waveform(np.random.default_rng(seed).normal(0.0, 0.1, (2, int(rate * CLIP_S))).astype(np.float32), rate)


class Clock:
    def __init__(self, device: str) -> None:
        import torch

        self.sync = (lambda: torch.cuda.synchronize(device)) if device.startswith("cuda") else (lambda: None)

    def time(self, fn):
        self.sync()
        t0 = time.perf_counter()
        out = fn()
        self.sync()
        return time.perf_counter() - t0, out


def run_generator(model: OpenModel, folder: Path, args, clock: Clock) -> dict:
    from ualm_agent.builders import build_component
    from ualm_agent.config import AgentConfig, ComponentSpec
    from ualm_agent.roles import GenerationRequest

    steps = args.steps or default_steps(model)
    spec = ComponentSpec(kind=model.name, model=str(folder), device=args.device, dtype=args.dtype, steps=steps)
    config = AgentConfig(generator=spec)
    build_s, generator = clock.time(lambda: build_component("generator", config))
    plan = typical_plan()
    # 10 s, or less where the model makes less (the tiny ones).
    duration = min(CLIP_S, float(getattr(generator, "max_duration_s", CLIP_S)))
    # Two seeds: the backend keeps rendered clips, so the same request twice would time its cache.
    first, timed = (GenerationRequest(caption=plan, text=plan.to_text(), duration_s=duration, seed=seed) for seed in (0, 1))
    first_s, _ = clock.time(lambda: generator.generate(first))
    call_s, result = clock.time(lambda: generator.generate(timed))
    audio_s = result.audio.duration_s
    scheduler = type(getattr(getattr(generator, "pipe", None), "scheduler", None)).__name__
    return {"steps": steps, "scheduler": scheduler, "load_s": build_s, "first_call_s": first_s, "call_s": call_s,
            "audio_s": audio_s,
            "s_per_generated_s": call_s / audio_s, "sample_rate": result.audio.sample_rate}


def run_judge(model: OpenModel, folder: Path, args, clock: Clock) -> dict:
    """listen_for (the plan's yes/no questions, batch by batch), caption and critique of one clip.

    Random weights never write parseable JSON nor stop early, so each written answer (the caption, the
    critique's text) runs to its token cap: with one try (max_retries 0) that is the most one real try costs,
    and the caption's parse error is caught here. The critique's yes/no part reuses listen_for's scores of the
    same clip, as in the loop, and adds the three rating questions."""
    from ualm_agent.builders import build_component
    from ualm_agent.config import AgentConfig, ComponentSpec
    from ualm_agent.structured import ModelOutputError

    tokens = args.tokens or WRITTEN_TOKENS
    spec = ComponentSpec(kind=model.name, model=str(folder), device=args.device, dtype=args.dtype, max_retries=0,
                         max_new_tokens=tokens)
    config = AgentConfig(listener=spec, captioner=spec, critic=spec)
    build_s, listener = clock.time(lambda: build_component("listener", config))
    captioner, critic = build_component("captioner", config), build_component("critic", config)
    plan = typical_plan()

    def caption(observation, audio):
        try:
            return captioner.caption(observation, audio=audio)
        except ModelOutputError:
            return plan  # what a caption of the planned clip would say; the critique's cost hardly depends on it

    def judge(audio):
        observation = listener.listen_for(audio, plan)
        return critic.critique(plan, plan, observation)

    # The warm-up (listen_for and critique: both kinds of call, not the caption, to save a written answer) hears
    # another clip, so no score kept from it can shorten the timed calls.
    first_s, _ = clock.time(lambda: judge(noise_clip(0)))
    clip = noise_clip(1)
    listen_s, observation = clock.time(lambda: listener.listen_for(clip, plan))
    caption_s, heard = clock.time(lambda: caption(observation, clip))
    critique_s, _ = clock.time(lambda: critic.critique(plan, heard, observation))
    return {"questions": plan_question_count(plan), "written_tokens": tokens, "load_s": build_s,
            "first_call_s": first_s, "listen_for_s": listen_s, "caption_s": caption_s, "critique_s": critique_s,
            "call_s": listen_s + critique_s, "s_per_judged_clip": listen_s + critique_s}


def run_model(model: OpenModel, args, root: Path) -> dict:
    import torch

    cuda = args.device.startswith("cuda")
    counts = count_params(model, args.tiny)
    folder = Path(tempfile.mkdtemp(prefix=f"open-{model.name}-", dir=root))
    try:
        write_s = write_random(model, args.tiny, folder, args.device, args.dtype)
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        if cuda:
            # What the random build left allocated (should be ~0): the peak below counts it too.
            before = torch.cuda.memory_allocated(args.device) / GIB
            torch.cuda.reset_peak_memory_stats(args.device)
        clock = Clock(args.device)
        run = (run_generator if model.role == "generator" else run_judge)(model, folder, args, clock)
        peak = torch.cuda.max_memory_allocated(args.device) / GIB if cuda else None
    finally:
        # Or a 16 GiB judge would stay on the GPU under the next model.
        held = release_weights(args.device)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return {"name": model.name, "title": model.title, "role": model.role, "params": counts["params"],
            "folder_gib": size / GIB, "write_s": write_s, **run, "peak_gpu_gib": peak,
            "held_before_gib": before if cuda else None, "held_after_gib": held}


def print_header(device_name: str, dtype: str, tiny: bool) -> None:
    size = "tiny configs" if tiny else "real sizes, random weights"
    print(f"Open models on {device_name} ({dtype}, {size}), a {CLIP_S:g} s clip. load: build_component from the saved "
          f"folder; first: the first (warm-up) call; judged clip: listen_for + critique (with its written answer); "
          f"the caption is timed apart")
    print(f"{'model':<16} {'params':>7} {'load s':>7} {'first s':>7} {'peak GiB':>8}  figure", flush=True)


def print_row(r: dict) -> None:
    if r.get("error"):
        print(f"{r['name']:<16} failed: {r['error']}", flush=True)
        return
    if r["role"] == "generator":
        figure = (f"{r['s_per_generated_s']:.3f} s per generated second ({r['call_s']:.2f} s per clip, "
                  f"{r['steps']} steps, {r['scheduler']})")
    else:
        asked = "" if r.get("questions") is None else f", {r['questions']} questions"
        figure = (f"{r['s_per_judged_clip']:.2f} s per judged clip (listen_for {r['listen_for_s']:.2f}{asked}; "
                  f"critique {r['critique_s']:.2f}, {r['written_tokens']} tokens written); caption {r['caption_s']:.2f}")
    peak = "-" if r["peak_gpu_gib"] is None else f"{r['peak_gpu_gib']:.2f}"
    size = f"{r['params'] / 1e9:.2f}B" if r["params"] >= 1e8 else f"{r['params'] / 1e6:.2f}M"
    print(f"{r['name']:<16} {size:>7} {r['load_s']:>7.2f} {r['first_call_s']:>7.2f} {peak:>8}  {figure}",
          flush=True)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("torch", "transformers", "diffusers", "tokenizers", "safetensors"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = ""
    return found


def pick(only: str | None) -> list[OpenModel]:
    if not only:
        return list(MODELS)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        sys.exit(f"open_models_gpu: unknown model {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    return [BY_NAME[n] for n in names]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu (cpu only with --tiny makes sense)")
    ap.add_argument("--dtype", choices=["bfloat16", "float16", "float32"],
                    help="weights and compute (default bfloat16 on CUDA, float32 on a CPU)")
    ap.add_argument("--tiny", action="store_true",
                    help=f"tiny configs, the same code path (the tests run this on a CPU); {TINY_STEPS} steps and "
                         f"{TINY_TOKENS} written tokens unless given")
    ap.add_argument("--steps", type=int, help="diffusion steps (default: each backend's own default)")
    ap.add_argument("--tokens", type=int, help=f"judges' cap on a written answer (default {WRITTEN_TOKENS})")
    ap.add_argument("--params", action="store_true", help="count parameters at real size on the meta device and exit")
    ap.add_argument("--only", help="comma-separated models: " + ", ".join(BY_NAME))
    ap.add_argument("--json", type=Path, help="write the figures as JSON here")
    ap.add_argument("--workdir", type=Path, help="where to save the models (default /dev/shm when it has room)")
    ap.add_argument("--keep", action="store_true", help="keep the saved model folders")
    args = ap.parse_args(argv)
    models = pick(args.only)
    # Oobleck's weight_norm warns on every build, torchsde on every Stable Audio step; the table is the output.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", module="torchsde")

    if args.params:
        counts = [count_params(m, args.tiny) for m in models]
        print_params(counts)
        if args.json:
            args.json.write_text(json.dumps({"tiny": args.tiny, "models": counts}, indent=2))
        return 0

    import torch

    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print("open_models_gpu: no CUDA device is available; run it on a GPU machine "
              "(or try the code path with --tiny --device cpu, or count parameters with --params)")
        return 0
    args.dtype = args.dtype or ("bfloat16" if cuda else "float32")
    if args.tiny:
        args.steps, args.tokens = args.steps or TINY_STEPS, args.tokens or TINY_TOKENS
    device_name = torch.cuda.get_device_name(args.device) if cuda else "CPU"
    need = max(count_params(m, args.tiny)["params"] for m in models) * getattr(torch, args.dtype).itemsize
    root = scratch_root(args.workdir, need)
    root.mkdir(parents=True, exist_ok=True)

    results = []
    t_all = time.perf_counter()
    print_header(device_name, args.dtype, args.tiny)
    for model in models:
        t0 = time.perf_counter()
        try:
            result = run_model(model, args, root)
        except Exception as exc:  # noqa: BLE001 -- one model failing (a backend missing, out of memory) ends only its run
            result = {"name": model.name, "title": model.title, "role": model.role,
                      "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        result["wall_s"] = time.perf_counter() - t0
        results.append(result)
        print_row(result)
        if args.json:
            # After every model, so a run stopped at a time limit keeps what it measured.
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"device": device_name, "dtype": args.dtype, "tiny": args.tiny,
                                             "clip_s": CLIP_S, "prompt": PROMPT, "versions": versions(),
                                             "models": results}, indent=2))
    walls = ", ".join(f"{r['name']} {r['wall_s']:.0f} s" for r in results)
    print(f"scratch folder {root}; whole run {time.perf_counter() - t_all:.1f} s ({walls})")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
