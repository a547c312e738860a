"""Tiny random listener models, saved in the same folder layouts real ones use.

- ``build_tiny_clap(folder)``: a ``ClapModel`` + ``ClapProcessor`` folder
  (``from_pretrained`` loads it as it would ``laion/clap-htsat-unfused``). The
  feature extractor keeps CLAP's 48 kHz front end but takes 2 s inputs with 16
  mel bands, so the audio tower is small.
- ``build_tiny_whisper_ct2(folder)``: a random ``WhisperForConditionalGeneration``
  with a trained byte-level BPE tokenizer, Whisper's special tokens and the
  1,501 timestamp tokens, converted by CTranslate2's converter into the folder
  faster-whisper loads.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CORPUS = [
    "This is a sound of dog barking, a bell ringing, a man speaking and rain falling.",
    "This is a sound of silence, noise, speech, music, telephone, alarm clock, camera.",
    "hello there, good morning, the quick brown fox jumps over the lazy dog near the river bank",
    "tomorrow will be cloudy with light rain in the evening; the next train leaves from platform four",
]


def _bpe(vocab_size: int, special: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    return tok


def build_tiny_clap(folder: Path, seed: int = 0) -> Path:
    import torch
    from tokenizers import processors
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapProcessor,
        ClapTextConfig,
        RobertaTokenizerFast,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = _bpe(400, special)
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
    tokenizer = RobertaTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", model_max_length=64,
    )
    features = ClapFeatureExtractor(feature_size=16, max_length_s=2, truncation="rand_trunc")
    processor = ClapProcessor(feature_extractor=features, tokenizer=tokenizer)
    torch.manual_seed(seed)
    config = ClapConfig(
        text_config=ClapTextConfig(
            vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=37, max_position_embeddings=80, projection_dim=16, pad_token_id=1, bos_token_id=0,
            eos_token_id=2,
        ),
        audio_config=ClapAudioConfig(
            window_size=4, num_mel_bins=16, spec_size=64, patch_size=2, patch_stride=(2, 2), hidden_size=32,
            projection_dim=16, depths=(1, 1), num_attention_heads=(2, 2), patch_embeds_hidden_size=16,
            num_hidden_layers=2, enable_fusion=False,
        ),
        projection_dim=16,
    )
    ClapModel(config).eval().save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


WHISPER_SPECIAL = [
    "<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>",
    "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>",
]


def build_tiny_whisper_ct2(folder: Path, seed: int = 0) -> Path:
    """A converted tiny random Whisper in ``folder`` (the Transformers source goes beside it)."""
    import torch
    from ctranslate2.converters import TransformersConverter
    from tokenizers import AddedToken
    from transformers import PreTrainedTokenizerFast, WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

    folder = Path(folder)
    source = folder.with_name(folder.name + "-hf")
    source.mkdir(parents=True, exist_ok=True)
    tok = _bpe(300, [])
    timestamps = [f"<|{i * 0.02:.2f}|>" for i in range(1501)]
    tok.add_special_tokens([AddedToken(t, special=True) for t in WHISPER_SPECIAL + timestamps])
    ids = {t: tok.token_to_id(t) for t in WHISPER_SPECIAL}
    # faster-whisper finds timestamps as the ids right after <|notimestamps|>.
    assert tok.token_to_id(timestamps[0]) == ids["<|notimestamps|>"] + 1
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    tokenizer.save_pretrained(source)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(source)
    vocab = tok.get_vocab_size()
    torch.manual_seed(seed)
    config = WhisperConfig(
        vocab_size=vocab, num_mel_bins=80, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, d_model=32, encoder_ffn_dim=64, decoder_ffn_dim=64, max_source_positions=1500,
        max_target_positions=448, pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|endoftext|>"], decoder_start_token_id=ids["<|startoftranscript|>"],
        suppress_tokens=[], begin_suppress_tokens=[ids["<|endoftext|>"]],
    )
    model = WhisperForConditionalGeneration(config).eval()
    model.generation_config.no_timestamps_token_id = ids["<|notimestamps|>"]
    model.generation_config.lang_to_id = {"<|en|>": ids["<|en|>"]}
    model.generation_config.is_multilingual = False
    model.generation_config.alignment_heads = [[0, 0]]
    model.save_pretrained(source)
    if folder.exists():
        shutil.rmtree(folder)
    TransformersConverter(str(source), copy_files=["tokenizer.json", "preprocessor_config.json"]).convert(str(folder))
    return folder
