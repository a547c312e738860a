"""A tiny random chat model saved as a Hugging Face folder, for the llm backend's tests.

A two-layer LlamaForCausalLM with a byte-level BPE tokenizer trained on the fly
and a ChatML chat template: it loads through the same ``from_pretrained`` path
as a real chat model, and writes random text (never valid JSON).
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_CORPUS = [
    '{"layout": [{"label": "Bark", "phrase": "a dog barks", "start_s": 0.0, "end_s": 1.5}], "description": "A dog."}',
    '{"verdict": "revise", "score": 0.3, "issues": [{"kind": "missing", "label": "Siren", "message": "not heard"}]}',
    "Clip: 10 s\nRequest: a doorbell rings, then footsteps\nSounds: a doorbell rings | footsteps\nHeard:\n- Knock 0.5-1.9 s",
    "system user assistant You plan sound clips. Write one JSON object. Planned: Labels allowed: Issues:",
]


def train_byte_bpe(corpus: list[str], special: list[str], vocab_size: int):
    """A byte-level BPE ``tokenizers.Tokenizer`` trained on ``corpus``, with ``special`` as its first ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    return tok


def tiny_chat_tokenizer(vocab_size: int = 320):
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=train_byte_bpe(_CORPUS * 4, SPECIAL, vocab_size), bos_token="<|im_start|>",
        eos_token="<|im_end|>", pad_token="<|endoftext|>",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def write_tiny_chat_model(folder: str | Path, *, seed: int = 0) -> Path:
    """Save the tiny model and its tokenizer into ``folder``; returns it."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    tokenizer = tiny_chat_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
