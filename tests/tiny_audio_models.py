"""Tiny random audio models saved as Hugging Face-style folders, for offline tests.

Each builder writes a folder that the backends load through their normal
``from_pretrained(folder)`` path, exactly as they would load real weights.
Shapes are small so that building and running each takes well under a second
or two on a CPU; the structure (sampling rates, hops, codebook counts) matches
the real models wherever the tests check it.
"""

from __future__ import annotations

import warnings
from pathlib import Path


def _seeded(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def _randomize_codebooks(model, *names: str) -> None:
    """RVQ codebooks start as zeros in transformers; random ones make codes differ between inputs."""
    import torch

    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name.endswith(names):
                buffer.copy_(torch.randn_like(buffer))


def _probe_audio(rate: int, channels: int):
    """One second each of loud noise, a chirp and quiet noise: [3, channels, rate]."""
    import numpy as np
    import torch

    t = torch.arange(rate) / rate
    probe = torch.stack([0.3 * torch.randn(rate), 0.5 * torch.sin(2 * np.pi * (100 + 2000 * t) * t), 0.05 * torch.randn(rate)])
    return probe[:, None].expand(-1, channels, -1).contiguous()


def _fit_codebooks(state: dict, embeddings, suffix: str) -> None:
    """Draw RVQ codebooks around an encoder's outputs ([batch, dim, frames]), in place.

    Trained codebooks sit where the encoder's outputs are; random ones far from
    them quantize every frame to the same code. Each residual stage covers half
    the spread of the one before.
    """
    import re

    import torch

    frames = embeddings.transpose(1, 2).reshape(-1, embeddings.shape[1])
    mean, std = frames.mean(0), frames.std(0)
    for name, value in state.items():
        if name.endswith(suffix):
            layer = int(re.search(r"layers\.(\d+)\.", name).group(1))
            centre = mean if layer == 0 else torch.zeros_like(mean)
            value.copy_(centre + std * torch.randn_like(value) * 0.5**layer)


def tiny_xcodec_config():
    """X-codec's config with the real signal layout and tiny widths."""
    from transformers import XcodecConfig

    return XcodecConfig(
        acoustic_model_config=dict(
            model_type="dac",
            encoder_hidden_size=4,
            decoder_hidden_size=16,
            hidden_size=8,
            downsampling_ratios=[8, 5, 4, 2],
            upsampling_ratios=[8, 5, 4, 2],
            codebook_size=16,
            codebook_dim=4,
            n_codebooks=2,
        ),
        # HuBERT's convolutional front end has a total stride of 320, like the acoustic encoder.
        semantic_model_config=dict(
            model_type="hubert",
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            conv_dim=(8,) * 7,
            num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=4,
        ),
    )


def build_tiny_xcodec(folder: str | Path) -> Path:
    """X-codec with the real signal layout (16 kHz, hop 320, 50 frames/s, 8 codebooks of 1,024 at 4 kbps)."""
    from transformers import XcodecModel

    _seeded(0)
    config = tiny_xcodec_config()
    model = XcodecModel(config).eval()
    _randomize_codebooks(model, "codebook.embed")
    folder = Path(folder)
    model.save_pretrained(folder)
    return folder


def tiny_encodec_config(**overrides):
    """EnCodec 24 kHz layout (hop 320, 75 frames/s, 1,024-code books, 1.5-24 kbps = 2-32 codebooks), tiny widths."""
    from transformers import EncodecConfig

    settings = dict(
        sampling_rate=24000,
        audio_channels=1,
        target_bandwidths=[1.5, 3.0, 6.0, 12.0, 24.0],
        hidden_size=16,
        num_filters=4,
        num_residual_layers=1,
        num_lstm_layers=1,
        upsampling_ratios=[8, 5, 4, 2],
        codebook_size=1024,
        codebook_dim=16,
    )
    settings.update(overrides)
    return EncodecConfig(**settings)


def build_tiny_encodec(folder: str | Path, **overrides) -> Path:
    """A tiny transformers EncodecModel folder."""
    from transformers import EncodecModel

    import torch

    _seeded(1)
    model = EncodecModel(tiny_encodec_config(**overrides)).eval()
    with torch.no_grad():
        embeddings = model.encoder(_probe_audio(model.config.sampling_rate, model.config.audio_channels))
        _fit_codebooks(dict(model.named_buffers()), embeddings, "codebook.embed")
    folder = Path(folder)
    model.save_pretrained(folder)
    return folder


def write_random_encodec_package_checkpoint(path: str | Path, variant: str = "24khz") -> Path:
    """A full-size ``encodec`` package state dict with random weights, saved like the published .th files.

    Freshly built codebooks are zeros waiting for k-means; here they are drawn
    around the random encoder's own outputs, so different inputs give different codes.
    """
    import torch

    from ualm_agent.components.codecs.encodec import PACKAGE_MODELS, import_encodec

    _seeded(2)
    constructor, _ = PACKAGE_MODELS[variant]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*weight_norm")
        model = getattr(import_encodec().EncodecModel, constructor)(pretrained=False)
    with torch.no_grad():
        embeddings = model.encoder(_probe_audio(model.sample_rate, model.channels))
    state = model.state_dict()
    _fit_codebooks(state, embeddings, "_codebook.embed")
    for name, value in state.items():
        if name.endswith("_codebook.inited"):
            value.fill_(1.0)
    path = Path(path)
    torch.save(state, path)
    return path


CAPTION_CORPUS = [
    "a dog barks three times",
    "brass followed by percussion",
    "calm piano with soft rain in the background",
    "upbeat electronic dance music with loud drums",
    "a man says hello, then a door closes",
    "keywords: dog, bark. layout: dog barking from 0.0 to 2.0 s, loud, left",
]


def tiny_t5_tokenizer(vocab_size: int = 64):
    """A T5 tokenizer on a unigram vocabulary trained here from a few captions (no downloads)."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Tokenizer

    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    unigram = Tokenizer(models.Unigram())
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    unigram.train_from_iterator(CAPTION_CORPUS * 4, trainer)
    # T5's layout: <pad> = 0, </s> = 1, <unk> = 2, then the pieces with their log-probabilities.
    vocab = [tuple(piece) for piece in json.loads(unigram.to_str())["model"]["vocab"]]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def build_tiny_musicgen(folder: str | Path) -> Path:
    """MusicGen with musicgen-small's audio layout (32 kHz, 50 frames/s, 4 codebooks of 2,048) at tiny widths.

    The folder holds the model, its generation config and a processor
    (EnCodec feature extractor + T5 tokenizer), so ``AutoProcessor`` loads it.
    """
    from transformers import (
        EncodecFeatureExtractor,
        GenerationConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
    )

    _seeded(3)
    tokenizer = tiny_t5_tokenizer()
    text = T5Config(
        vocab_size=len(tokenizer), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
        relative_attention_num_buckets=8, relative_attention_max_distance=16,
    )
    # 2.2 kbps at 50 frames/s with 11-bit codes = 4 codebooks, which must equal the decoder's num_codebooks.
    audio = tiny_encodec_config(sampling_rate=32000, upsampling_ratios=[8, 5, 4, 4], codebook_size=2048, target_bandwidths=[2.2])
    decoder = MusicgenDecoderConfig(
        vocab_size=2048, max_position_embeddings=1024, num_hidden_layers=1, ffn_dim=32, num_attention_heads=2,
        hidden_size=16, num_codebooks=audio.num_quantizers, pad_token_id=2048, bos_token_id=2048,
    )
    model = MusicgenForConditionalGeneration(MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)).eval()
    _randomize_codebooks(model, "codebook.embed")
    model.generation_config = GenerationConfig(
        decoder_start_token_id=2048, pad_token_id=2048, bos_token_id=2048, do_sample=True, top_k=250,
        guidance_scale=3.0, max_length=1500,
    )
    folder = Path(folder)
    model.save_pretrained(folder)
    feature_extractor = EncodecFeatureExtractor(feature_size=1, sampling_rate=audio.sampling_rate)
    MusicgenProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer).save_pretrained(folder)
    return folder
