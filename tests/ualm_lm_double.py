"""A small stand-in with UalmLM's decoding interface (embed, forward_hidden, stream_logits), on a tiny Qwen2."""

from __future__ import annotations

import torch
from torch import nn

from ualm_agent.components.ualm.vocabulary import UalmVocabulary


class DoubleUalmLM(nn.Module):
    def __init__(self, *, text_size=64, num_streams=8, codebook_size=16, hidden=32, layers=2, feat_dim=12, seed=0):
        super().__init__()
        from transformers import Qwen2Config, Qwen2Model

        torch.manual_seed(seed)
        self.vocab = UalmVocabulary(text_size=text_size, num_streams=num_streams, codebook_size=codebook_size)
        self.num_streams, self.hidden_size = num_streams, hidden
        cfg = Qwen2Config(vocab_size=8, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096)
        self.backbone = Qwen2Model(cfg)
        self.embed_tokens = nn.Embedding(self.vocab.size, hidden, padding_idx=0)
        self.head = nn.Linear(hidden, self.vocab.size, bias=False)
        self.stream_emb = nn.Embedding(num_streams, hidden)
        self.adapter = nn.Linear(feat_dim, hidden)
        mask = torch.zeros(num_streams, self.vocab.size, dtype=torch.bool)
        mask[0] = True
        for n in range(1, num_streams):
            s, e = self.vocab.stream_interval(n)
            mask[n, s:e] = True
        self.register_buffer("allowed", mask)
        self.eval()

    @property
    def device(self):
        return self.head.weight.device

    @property
    def dtype(self):
        return self.head.weight.dtype

    def embed(self, seqs, continuous=None):
        out = self.embed_tokens(seqs).sum(dim=2)
        for b, start, feats in continuous or []:
            out = out.clone()
            out[b, start:start + feats.shape[0]] += self.adapter(feats.to(out.dtype))
        return out

    def forward_hidden(self, inputs_embeds, *, past_key_values=None, position_ids=None, attention_mask=None,
                       use_cache=False):
        o = self.backbone(inputs_embeds=inputs_embeds, cache=past_key_values, position_ids=position_ids,
                          attention_mask=attention_mask, use_cache=use_cache)
        return o.last_hidden_state, o.past_key_values

    def stream_logits(self, hidden):
        extra = self.stream_emb.weight.clone()
        extra[0] = 0
        logits = self.head(hidden.unsqueeze(-2) + extra)
        return logits.masked_fill(~self.allowed, float("-inf"))
