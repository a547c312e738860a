"""Tiny random diffusion text-to-audio pipelines, saved as the folders diffusers loads.

Each builder assembles the real pipeline class from tiny random parts and
``save_pretrained``s it, so the backends load it through their normal
``from_pretrained(folder)`` path. Tokenizers are trained here from a few
captions (no downloads). The signal layout follows the published models where
the tests check it:

- ``build_tiny_stable_audio``: 44.1 kHz stereo, an Oobleck VAE with Stable Audio
  Open's hop of 2,048 samples; 128 latent frames, so at most 5.9 s per clip
  (the real model's 1,024 give 47.6 s).
- ``build_tiny_audioldm2``: 16 kHz mono, a HiFi-GAN with AudioLDM 2's 160-sample
  hop (one mel frame per 10 ms), a two-level VAE (scale factor 2).
"""

from __future__ import annotations

import json
from pathlib import Path

from tiny_audio_models import tiny_t5_tokenizer
from tiny_listener_models import build_tiny_clap


def _tiny_t5(max_length: int):
    """A trained tiny T5 tokenizer and a random one-layer T5 encoder over its vocabulary."""
    from transformers import T5Config, T5EncoderModel

    tokenizer = tiny_t5_tokenizer()
    tokenizer.model_max_length = max_length
    encoder = T5EncoderModel(T5Config(
        vocab_size=len(tokenizer), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
        relative_attention_num_buckets=8, relative_attention_max_distance=16,
    ))
    return tokenizer, encoder.eval()


def build_tiny_stable_audio(folder: str | Path, *, latent_frames: int = 128) -> Path:
    import torch
    from diffusers import (
        AutoencoderOobleck,
        EDMDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )
    torch.manual_seed(0)
    tokenizer, text_encoder = _tiny_t5(max_length=64)
    latent_channels, conditioning = 4, 8
    vae = AutoencoderOobleck(
        encoder_hidden_size=2, downsampling_ratios=[2, 4, 4, 8, 8], channel_multiples=[1, 2, 2, 2, 2],
        decoder_channels=2, decoder_input_channels=latent_channels, audio_channels=2, sampling_rate=44100,
    )
    transformer = StableAudioDiTModel(
        sample_size=latent_frames, in_channels=latent_channels, out_channels=latent_channels, num_layers=1,
        attention_head_dim=8, num_attention_heads=2, num_key_value_attention_heads=1,
        cross_attention_dim=conditioning, cross_attention_input_dim=conditioning,
        # The start and end seconds' embeddings side by side.
        global_states_input_dim=2 * conditioning, time_proj_dim=8,
    )
    projection = StableAudioProjectionModel(
        text_encoder_dim=text_encoder.config.d_model, conditioning_dim=conditioning, min_value=0, max_value=512,
    )
    # The scheduler class the pipeline declares. Stable Audio Open ships CosineDPMSolverMultistepScheduler,
    # which needs torchsde (tests/test_diffusion.py checks that a missing torchsde is reported).
    scheduler = EDMDPMSolverMultistepScheduler(
        sigma_min=0.3, sigma_max=500.0, sigma_data=1.0, sigma_schedule="exponential", prediction_type="v_prediction",
        solver_order=2,
    )
    pipe = StableAudioPipeline(vae=vae, text_encoder=text_encoder, projection_model=projection, tokenizer=tokenizer,
                               transformer=transformer, scheduler=scheduler)
    folder = Path(folder)
    pipe.save_pretrained(folder)
    return folder


def build_tiny_audioldm2(folder: str | Path) -> Path:
    import torch
    from diffusers import (
        AudioLDM2Pipeline,
        AudioLDM2ProjectionModel,
        AudioLDM2UNet2DConditionModel,
        AutoencoderKL,
        DDIMScheduler,
    )
    from transformers import (
        ClapModel,
        ClapProcessor,
        GPT2Config,
        GPT2Model,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
    )

    folder = Path(folder)
    # CLAP (text tower, tokenizer and feature extractor) comes from the listener tests' tiny builder.
    clap_folder = build_tiny_clap(folder.with_name(folder.name + "-clap"))
    clap = ClapModel.from_pretrained(clap_folder).eval()
    processor = ClapProcessor.from_pretrained(clap_folder)
    torch.manual_seed(1)
    tokenizer_2, t5 = _tiny_t5(max_length=32)
    # AudioLDM 2 publishes its language model as GPT2Model; the backend loads it with its LM head.
    gpt2 = GPT2Model(GPT2Config(n_embd=16, n_head=2, n_layer=1, vocab_size=64, n_positions=64)).eval()
    gpt2.config.max_new_tokens = 8
    clap_dim = clap.config.projection_dim
    projection = AudioLDM2ProjectionModel(text_encoder_dim=clap_dim, text_encoder_1_dim=t5.config.d_model,
                                          langauge_model_dim=gpt2.config.n_embd)
    mel_bins, latent_channels = 8, 4
    vae = AutoencoderKL(
        block_out_channels=[8, 16], in_channels=1, out_channels=1, latent_channels=latent_channels,
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2, norm_num_groups=4,
    )
    unet = AudioLDM2UNet2DConditionModel(
        sample_size=512, in_channels=latent_channels, out_channels=latent_channels, block_out_channels=(8, 16),
        layers_per_block=1, norm_num_groups=4, attention_head_dim=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        # Per block: self-attention, then attention over the GPT-2 states, then over the T5 states.
        cross_attention_dim=([None, gpt2.config.n_embd, t5.config.d_model],) * 2,
    )
    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(
        model_in_dim=mel_bins, sampling_rate=16000, upsample_initial_channel=16, upsample_rates=[8, 5, 4],
        upsample_kernel_sizes=[16, 10, 8], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
        # Wider initial weights than the default 0.01, so the random vocoder's output is audible (peak about 0.02).
        normalize_before=False, initializer_range=0.1,
    )).eval()
    scheduler = DDIMScheduler(beta_start=0.0015, beta_end=0.0195, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False)
    pipe = AudioLDM2Pipeline(
        vae=vae, text_encoder=clap, text_encoder_2=t5, projection_model=projection, language_model=gpt2,
        tokenizer=processor.tokenizer, tokenizer_2=tokenizer_2, feature_extractor=processor.feature_extractor,
        unet=unet, scheduler=scheduler, vocoder=vocoder,
    )
    pipe.save_pretrained(folder)
    return folder


def pipeline_class(folder: str | Path) -> str:
    """The pipeline class a saved folder names."""
    return json.loads((Path(folder) / "model_index.json").read_text())["_class_name"]
