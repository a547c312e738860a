"""A tiny random UALM for offline tests: tiny Qwen2 backbone, tiny X-codec, tiny audio encoders.

The signal layout is the real one (16 kHz, X-codec hop 320 = 50 frames/s with
8 codebooks of 1,024 codes, encoder features at 25 Hz); only widths and depths
are small. Builders write Hugging Face-style folders that the product loads
through its normal code paths (a checkpoint NVIDIA's own code wrote is in
tests/data/ualm-nvidia-parity). Wrappers steer or count a model's forward
passes, so decoding tests can make the model stop or choose when they need it.
"""

from __future__ import annotations

import json
from pathlib import Path

TEXT_SIZE = 512  # the backbone's (padded) text vocabulary; the tokenizer uses fewer ids, as Qwen's does
HIDDEN = 64

_WORDS = (
    "a dog barks twice then a car passes by rain falls on a tin roof while thunder rumbles far away "
    "birds chirp in the morning a man says hello and a woman laughs footsteps on gravel a door creaks open "
    "glass shatters an engine idles water drips from a tap wind howls through trees a bell rings three times "
    "keywords layout description loud quiet soft near distant left right center start end seconds event "
    "generate audio for this caption caption for this audio critique plan heard missing extra order count "
    "music piano guitar drums violin trumpet brass percussion crowd applause cheering siren alarm beep "
    "the of and in on at to from with without before after during while then first second third again "
    "knock knock knocks typing keyboard clock ticking phone ringing baby crying cat meows cow moos sheep "
    "ocean waves seagulls train horn helicopter airplane overhead motorcycle revs gunshot explosion fireworks"
).split()


def tiny_tokenizer():
    """A byte-level BPE tokenizer trained on the fly, so any text round-trips."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = [" ".join(_WORDS[i : i + 12]) for i in range(0, len(_WORDS), 6)] * 3
    tok.train_from_iterator(corpus, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def tiny_backbone_config() -> dict:
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=TEXT_SIZE,
        hidden_size=HIDDEN,
        intermediate_size=2 * HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,  # like Qwen2.5-1.5B; UALM unties them
    ).to_dict()


def tiny_xcodec_config() -> dict:
    from tiny_audio_models import tiny_xcodec_config as xcodec_config

    return xcodec_config().to_dict()


def tiny_omni_audio_config() -> dict:
    from transformers.models.qwen2_5_omni.configuration_qwen2_5_omni import Qwen2_5OmniAudioEncoderConfig

    return Qwen2_5OmniAudioEncoderConfig(
        num_mel_bins=16,
        encoder_layers=1,
        encoder_attention_heads=2,
        encoder_ffn_dim=32,
        d_model=16,
        max_source_positions=1500,
        n_window=50,
        output_dim=24,
    ).to_dict()


def tiny_af_whisper_config() -> dict:
    from transformers import Qwen2AudioEncoderConfig

    # 100 positions = 200 mel frames: this tiny encoder takes at most 2 s (the real one 30 s).
    return Qwen2AudioEncoderConfig(
        num_mel_bins=16, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=32, d_model=16, max_source_positions=100
    ).to_dict()


# Qwen2.5-Omni-7B's front end: up to 300 s (chunk_length), which is as much of a clip as UALM hears.
FRONT_END = {"feature_size": 16, "sampling_rate": 16000, "hop_length": 160, "chunk_length": 300, "n_fft": 400, "padding_value": 0.0}


def tiny_ualm_config(encoder_kind: str = "qwen2.5-omni"):
    """A UalmConfig of the tiny shapes (random weights once built)."""
    from ualm_agent.components.ualm.model import UalmConfig

    encoder_config = tiny_omni_audio_config() if encoder_kind == "qwen2.5-omni" else tiny_af_whisper_config()
    front_end = dict(FRONT_END, chunk_length=300 if encoder_kind == "qwen2.5-omni" else 2)
    return UalmConfig(
        backbone=tiny_backbone_config(),
        codec={"kind": "xcodec", "source": "tiny-xcodec", "config": tiny_xcodec_config()},
        encoder={"kind": encoder_kind, "source": f"tiny-{encoder_kind}", "config": encoder_config, "feature_extractor": front_end},
    )


def _randomize(lm, seed: int, codebooks: bool = True) -> None:
    """Random values where a fresh model has constants (codebooks, stream embeddings); the pad row stays zero."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, buffer in lm.named_buffers():
            if codebooks and name.endswith("codebook.embed"):
                buffer.copy_(torch.randn(buffer.shape, generator=gen))
        lm.stream_emb.weight.copy_(torch.randn(lm.stream_emb.weight.shape, generator=gen) * 0.5)
        lm.model.embed_tokens.weight[0].zero_()


def make_tiny_ualm(seed: int = 0, encoder_kind: str = "qwen2.5-omni"):
    """A tiny random UalmLM (float32, CPU) with a trained tokenizer."""
    import torch

    from ualm_agent.components.ualm.model import UalmLM

    torch.manual_seed(seed)
    lm = UalmLM(tiny_ualm_config(encoder_kind), tokenizer=tiny_tokenizer())
    _randomize(lm, seed)
    lm.requires_grad_(False)
    return lm.eval()


# ---------------------------------------------------------------- source folders


def write_backbone_folder(folder: str | Path) -> Path:
    """A Qwen2-style backbone folder: config.json and tokenizer files (the weights are not needed by UALM)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    # Like Qwen2.5's config, it names bfloat16; the model must still build in the dtype asked for.
    config = dict(tiny_backbone_config(), architectures=["Qwen2ForCausalLM"], dtype="bfloat16")
    (out / "config.json").write_text(json.dumps(config, indent=2))
    tiny_tokenizer().save_pretrained(str(out))
    return out


def write_omni_folder(folder: str | Path, seed: int = 1) -> Path:
    """A Qwen2.5-Omni-style folder: the audio tower nested under thinker_config, its weights under thinker.audio_tower."""
    import torch
    from safetensors.torch import save_file
    from transformers.models.qwen2_5_omni.configuration_qwen2_5_omni import Qwen2_5OmniAudioEncoderConfig
    from transformers.models.qwen2_5_omni.modeling_qwen2_5_omni import Qwen2_5OmniAudioEncoder

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    audio = tiny_omni_audio_config()
    (out / "config.json").write_text(
        json.dumps({"model_type": "qwen2_5_omni", "thinker_config": {"audio_config": audio, "model_type": "qwen2_5_omni_thinker"}})
    )
    (out / "preprocessor_config.json").write_text(json.dumps(dict(FRONT_END, feature_extractor_type="WhisperFeatureExtractor")))
    torch.manual_seed(seed)
    tower = Qwen2_5OmniAudioEncoder(Qwen2_5OmniAudioEncoderConfig(**{k: v for k, v in audio.items() if k != "model_type"}))
    state = {f"thinker.audio_tower.{k}": v.contiguous() for k, v in tower.state_dict().items()}
    # Tensors of the rest of the Omni model sit beside the tower and must be left alone.
    state["thinker.lm_head.weight"] = torch.zeros(4, 4)
    half = len(state) // 2
    names = sorted(state)
    files = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
    weight_map = {}
    for file, keys in files.items():
        save_file({k: state[k] for k in keys}, str(out / file))
        weight_map.update({k: file for k in keys})
    (out / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return out


def write_source_folders(root: str | Path) -> dict[str, Path]:
    """Backbone, X-codec and Omni folders, as the hub ids of the recipe would provide them."""
    from tiny_audio_models import build_tiny_xcodec

    root = Path(root)
    return {
        "backbone": write_backbone_folder(root / "backbone"),
        "codec": build_tiny_xcodec(root / "xcodec"),
        "encoder": write_omni_folder(root / "omni"),
    }


def make_tiny_ualm_folder(path: str | Path, seed: int = 0) -> Path:
    """A tiny random UALM saved as a Hugging Face-style folder at ``path``; its source folders sit beside it."""
    import torch

    from ualm_agent.components.ualm.audio_io import load_codec, load_encoder
    from ualm_agent.components.ualm.checkpoint import config_from_sources, save_pretrained
    from ualm_agent.components.ualm.model import UalmLM

    path = Path(path)
    sources = write_source_folders(path.parent / f"{path.name}-sources")
    config, tokenizer = config_from_sources(
        backbone=str(sources["backbone"]), codec=str(sources["codec"]), encoder=str(sources["encoder"])
    )
    torch.manual_seed(seed)
    lm = UalmLM(
        config,
        codec=load_codec(str(sources["codec"])),
        encoder=load_encoder(str(sources["encoder"])),
        tokenizer=tokenizer,
    )
    _randomize(lm, seed, codebooks=False)  # the tiny X-codec folder has random codebooks already
    save_pretrained(lm, path)
    return path


# ---------------------------------------------------------------- steering and counting forward passes


class Boosted:
    """Delegates to a model; on forward passes `after` .. `until` - 1 (counted from 0, prefills included) it
    pushes the hidden state along one token's head row, so that token dominates stream 0 (whichever way
    the decoder reads the head). Wrappers nest: each counts the passes it sees."""

    def __init__(self, lm, token: int, after: int, until: int | None = None, strength: float = 200.0) -> None:
        self._lm, self.token, self.after, self.until, self.calls = lm, token, after, until, 0
        row = lm.lm_head.weight[token]
        self.push = row * (strength / float(row @ row))

    def __getattr__(self, name):
        return getattr(self._lm, name)

    def forward_hidden(self, inputs_embeds, **kwargs):
        hidden, cache = self._lm.forward_hidden(inputs_embeds, **kwargs)
        if self.after <= self.calls and (self.until is None or self.calls < self.until):
            hidden = hidden + self.push
        self.calls += 1
        return hidden, cache


class CountingForwards:
    """Delegates to a model and records the batch size and length of every forward pass."""

    def __init__(self, lm) -> None:
        self._lm, self.shapes = lm, []

    def __getattr__(self, name):
        return getattr(self._lm, name)

    def forward_hidden(self, inputs_embeds, **kwargs):
        self.shapes.append(tuple(inputs_embeds.shape[:2]))
        return self._lm.forward_hidden(inputs_embeds, **kwargs)
