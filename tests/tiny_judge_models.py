"""Tiny random audio-language models of the three judge families, saved as Hugging Face folders.

Each folder holds a real transformers model class with random weights (a one-layer
Whisper-style encoder, a two-layer Qwen2 decoder) and the files its loader reads: the
config, the weights, a byte-level BPE tokenizer trained here with the family's special
tokens, a Whisper feature extractor and a chat template. The feature extractor keeps the
real 16 kHz front end with 16 mel bands and a 4 s window (the real ones take 30 s), so
the encoders see 400 frames and the decoders about 100 audio tokens.

- ``build_tiny_qwen2_audio``: ``Qwen2AudioForConditionalGeneration`` + ``Qwen2AudioProcessor``;
- ``build_tiny_audio_flamingo3``: ``AudioFlamingo3ForConditionalGeneration`` + its processor;
- ``build_tiny_qwen25_omni``: ``Qwen2_5OmniThinkerForConditionalGeneration`` with its tokenizer
  and feature extractor; ``full=True`` writes it as the full Omni checkpoint does (config
  ``qwen2_5_omni`` with a ``thinker_config``, weights under ``thinker.``).
"""

from __future__ import annotations

import json
from pathlib import Path

WINDOW_S = 4
MEL_BANDS = 16
OMNI_TOKENS = {
    "audio_token": "<|AUDIO|>", "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>",
    "image_token": "<|IMAGE|>", "video_token": "<|VIDEO|>", "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
}
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *OMNI_TOKENS.values(), "<sound>"]
# Yes and No must come out as single tokens, as in the real vocabularies.
CORPUS = [
    "Is there a sound of bark (a dog barks) in this audio? Answer yes or no. Yes No yes no Yes. No.",
    "Is there a sound of siren between 2 and 4 seconds? Is it louder than rain? heard more than once, exactly 3 times",
    '{"layout": [{"label": "Rain", "start_s": 0.0, "end_s": 10.0}], "description": "Rain throughout."}',
    '{"verdict": "revise", "score": 0.3, "issues": [{"kind": "missing", "label": "Siren", "message": "not heard"}]}',
    "Listen to this clip and describe every sound you hear. When does it happen? Answer as start-end seconds, e.g. 1.5-3.0.",
]


def _template(audio: str, system: str | None = None) -> str:
    """A ChatML template that writes ``audio`` for each audio part (as the families' own templates do)."""
    default = f"{{% if messages[0]['role'] != 'system' %}}<|im_start|>system\n{system}<|im_end|>\n{{% endif %}}" if system else ""
    return (
        default + "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
        "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
        "{% if part['type'] == 'audio' %}" + audio + "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
        "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )


def judge_tokenizer(vocab_size: int = 360):
    from tiny_llm import train_byte_bpe
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=train_byte_bpe(CORPUS * 8, SPECIAL, vocab_size), eos_token="<|im_end|>",
        pad_token="<|endoftext|>", extra_special_tokens=OMNI_TOKENS,
    )


def feature_extractor():
    from transformers import WhisperFeatureExtractor

    return WhisperFeatureExtractor(feature_size=MEL_BANDS, sampling_rate=16000, hop_length=160, chunk_length=WINDOW_S, n_fft=400)


def _text_config(vocab_size: int, model_type: str = "qwen2") -> dict:
    return dict(
        model_type=model_type, vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        # Wider than the default init, so answers differ between questions and clips.
        initializer_range=0.3,
    )


def _encoder(**names) -> dict:
    """A one-layer encoder over the 4 s window: 400 mel frames, 200 positions after the strided conv."""
    return {**names, "num_mel_bins": MEL_BANDS, "max_source_positions": WINDOW_S * 50}


def _save(model, folder: Path, *parts) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    for part in parts:
        part.save_pretrained(folder)
    return folder


def build_tiny_qwen2_audio(folder: str | Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
    )

    tokenizer = judge_tokenizer()
    config = Qwen2AudioConfig(
        audio_config=_encoder(d_model=16, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=32),
        text_config=_text_config(len(tokenizer)),
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(seed)
    processor = Qwen2AudioProcessor(
        feature_extractor=feature_extractor(), tokenizer=tokenizer,
        chat_template=_template("Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n", "You are a helpful assistant."),
    )
    return _save(Qwen2AudioForConditionalGeneration(config), Path(folder), processor)


def build_tiny_audio_flamingo3(folder: str | Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        AudioFlamingo3Config,
        AudioFlamingo3ForConditionalGeneration,
        AudioFlamingo3Processor,
    )

    tokenizer = judge_tokenizer()
    config = AudioFlamingo3Config(
        audio_config=_encoder(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32),
        text_config=_text_config(len(tokenizer)),
        audio_token_id=tokenizer.convert_tokens_to_ids("<sound>"),
    )
    torch.manual_seed(seed)
    processor = AudioFlamingo3Processor(feature_extractor=feature_extractor(), tokenizer=tokenizer, chat_template=_template("<sound>"))
    return _save(AudioFlamingo3ForConditionalGeneration(config), Path(folder), processor)


def build_tiny_qwen25_omni(folder: str | Path, seed: int = 0, *, full: bool = False) -> Path:
    import torch
    from transformers import (
        Qwen2_5OmniThinkerConfig,
        Qwen2_5OmniThinkerForConditionalGeneration,
    )

    tokenizer = judge_tokenizer()
    tokenizer.chat_template = _template("<|audio_bos|><|AUDIO|><|audio_eos|>")
    ids = tokenizer.convert_tokens_to_ids
    config = Qwen2_5OmniThinkerConfig(
        audio_config=_encoder(d_model=16, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=32, n_window=50, output_dim=32),
        vision_config=dict(
            depth=1, embed_dim=16, hidden_size=16, intermediate_size=32, num_heads=2, out_hidden_size=32, patch_size=14,
            spatial_merge_size=1, temporal_patch_size=2, fullatt_block_indexes=[0],
        ),
        text_config={**_text_config(len(tokenizer), model_type="qwen2_5_omni_text"),
                     "rope_scaling": {"mrope_section": [2, 1, 1], "rope_type": "default"}},
        audio_token_index=ids("<|AUDIO|>"), image_token_index=ids("<|IMAGE|>"), video_token_index=ids("<|VIDEO|>"),
        audio_start_token_id=ids("<|audio_bos|>"), audio_end_token_id=ids("<|audio_eos|>"),
        vision_start_token_id=ids("<|vision_bos|>"), vision_end_token_id=ids("<|vision_eos|>"), user_token_id=ids("<|im_start|>"),
        initializer_range=0.3,
    )
    torch.manual_seed(seed)
    folder = _save(Qwen2_5OmniThinkerForConditionalGeneration(config), Path(folder), tokenizer, feature_extractor())
    if full:
        _as_full_omni_checkpoint(folder)
    return folder


def _as_full_omni_checkpoint(folder: Path) -> None:
    """Rewrite a thinker folder as the full Omni checkpoint lays it out: the thinker's config nested, its weights prefixed."""
    from safetensors.torch import load_file, save_file

    thinker = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({"model_type": "qwen2_5_omni", "architectures": ["Qwen2_5OmniModel"],
                                                    "thinker_config": thinker}, indent=1))
    weights = folder / "model.safetensors"
    save_file({f"thinker.{k}": v for k, v in load_file(weights).items()}, weights, metadata={"format": "pt"})
