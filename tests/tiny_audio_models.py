"""Tiny random audio models saved as Hugging Face-style folders, for offline tests.

Each builder writes a folder that the backends load through their normal
``from_pretrained(folder)`` path, exactly as they would load real weights.
Shapes are small so that building and running each takes well under a second
or two on a CPU; the structure (sampling rates, hops, codebook counts) matches
the real models wherever the tests check it.
"""

from __future__ import annotations

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


def build_tiny_xcodec(folder: str | Path) -> Path:
    """X-codec with the real signal layout (16 kHz, hop 320, 50 frames/s, 8 codebooks of 1,024 at 4 kbps)."""
    from transformers import XcodecConfig, XcodecModel

    _seeded(0)
    config = XcodecConfig(
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
    model = XcodecModel(config).eval()
    _randomize_codebooks(model, "codebook.embed")
    folder = Path(folder)
    model.save_pretrained(folder)
    return folder
