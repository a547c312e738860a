"""Teach a tiny random UALM to answer given prompts with given text.

A random model writes noise, which cannot exercise the parsing of model text
into rich captions and critiques. A few hundred optimiser steps on a handful of
(prompt, answer) pairs make the tiny model answer them, so role tests run the
product's whole path: sequence building, decoding, detokenising, parsing.
"""

from __future__ import annotations


def answer_rows(lm, text: str):
    """The target frames: the answer's text tokens, then <|eos|>."""
    import torch

    from ualm_agent.components.ualm.sequence import encode_text, special_row, text_rows

    rows = text_rows(lm.vocab, encode_text(lm.tokenizer, text), lm.num_streams)
    return torch.cat([rows, special_row(lm.vocab, "<|eos|>", lm.num_streams)])


def teach(lm, examples, *, steps: int = 200, lr: float = 1e-2, seed: int = 0) -> float:
    """Fit stream 0 of ``lm`` to ``examples``: (UalmSequence ending in <|assistant|> <|text|>, answer text).

    Returns the final mean loss. Only the language model learns; codec and encoder stay frozen.
    """
    import torch

    torch.manual_seed(seed)
    batch = []
    for sequence, answer in examples:
        target = answer_rows(lm, answer)
        ids = torch.cat([sequence.ids, target]).unsqueeze(0)
        first = len(sequence)  # logits at position p predict the token at p + 1
        # Features computed under inference_mode cannot take part in autograd: copy them.
        continuous = [(b, start, feats.clone()) for b, start, feats in sequence.continuous(0) or []] or None
        batch.append((ids, continuous, first, target[:, 0]))
    params = [p for name, p in lm.named_parameters() if not name.startswith("multimodal_io_dict")]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr)
    lm.train()
    loss_value = float("nan")
    for step in range(steps):
        opt.zero_grad()
        total = 0.0
        exact = True
        for ids, continuous, first, target in batch:
            hidden, _ = lm.forward_hidden(lm.embed(ids, continuous))
            # Stream 0 has no stream embedding and the full vocabulary: the head alone.
            logits = lm.lm_head(hidden[0, first - 1 : first - 1 + len(target)])
            loss = torch.nn.functional.cross_entropy(logits.float(), target)
            loss.backward()
            total += float(loss.detach())
            exact = exact and bool((logits.argmax(-1) == target).all())
        loss_value = total / len(batch)
        # Greedy decoding reproduces every answer once each next token is the argmax.
        if exact and loss_value < 0.05:
            break
        opt.step()
    lm.taught_steps = step + 1
    for p in params:
        p.requires_grad_(False)
    lm.eval()
    return loss_value
