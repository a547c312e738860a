"""P(yes) of a yes/no question, read from the next-token logits after the assistant prompt.

As in AQAScore, the model is not asked to write an answer: one forward pass over a batch
of left-padded prompts gives, at the last position, the distribution of the answer's
first token. The answer words have several spellings ("Yes", "yes", " Yes"); each that
the tokenizer writes as one token counts, their probabilities summed, so

    P(yes) = sum p(yes ids) / (sum p(yes ids) + sum p(no ids)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

YES_WORDS = ("Yes", "yes", " Yes", " yes", "YES", " YES")
NO_WORDS = ("No", "no", " No", " no", "NO", " NO")


def single_token_ids(tokenizer: Any, words: Sequence[str]) -> list[int]:
    """The ids of those ``words`` the tokenizer writes as exactly one token."""
    ids: set[int] = set()
    for word in words:
        encoded = tokenizer.encode(word, add_special_tokens=False)
        if len(encoded) == 1:
            ids.add(int(encoded[0]))
    return sorted(ids)


def answer_ids(tokenizer: Any) -> tuple[list[int], list[int]]:
    """(yes ids, no ids); ValueError when either is empty or they share a token."""
    yes, no = single_token_ids(tokenizer, YES_WORDS), single_token_ids(tokenizer, NO_WORDS)
    if not yes or not no:
        missing = "Yes" if not yes else "No"
        raise ValueError(f"its tokenizer has no single token for {missing!r}, so yes/no answers cannot be scored")
    if set(yes) & set(no):
        raise ValueError("its tokenizer writes yes and no with the same token")
    return yes, no


def yes_probabilities(last_logits: torch.Tensor, yes_ids: Sequence[int], no_ids: Sequence[int]) -> list[float]:
    """P(yes) per row of ``last_logits`` ([batch, vocab]), computed in float32."""
    import torch

    logp = torch.log_softmax(last_logits.float(), dim=-1)
    yes = torch.logsumexp(logp[:, list(yes_ids)], dim=-1)
    no = torch.logsumexp(logp[:, list(no_ids)], dim=-1)
    # sigmoid(log P(yes) - log P(no)) = P(yes) / (P(yes) + P(no)), without underflow.
    return [float(p) for p in torch.sigmoid(yes - no)]


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]
