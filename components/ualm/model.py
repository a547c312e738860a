"""The UALM network: a Qwen2-family decoder over UALM's multi-stream vocabulary.

A frame is ``num_streams`` token ids (stream 0 carries special and text tokens,
and audio codebook 0; streams 1.. carry the other codebooks). Its input
embedding is the sum of its streams' embeddings; continuous audio features,
through a linear adaptor, overwrite the frames they occupy. On output, stream
``n`` reads the shared head at ``hidden + stream_emb[n]`` (``stream_emb[0]`` is
taken as zero): stream 0 spans the whole vocabulary, stream ``n >= 1`` only its
own interval.

The module tree mirrors NVIDIA's UALM recipe (a subclass of the backbone's
causal-LM class with ``model``, ``lm_head``, ``stream_emb``,
``multimodal_io_dict`` and ``adaptor``), so that the recipe's DeepSpeed
``"module"`` state dict loads strictly with no renaming.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from .audio_io import ContinuousAudioIO, DiscreteAudioIO, codec_from_spec, encoder_from_spec
from .vocabulary import PAD_ID, UalmVocabulary

CODEC_IO = "discrete_audio"
ENCODER_IO = "continuous_audio"


class UalmConfig(BaseModel):
    """Everything needed to rebuild a UALM network without its weights."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_type: str = "ualm"
    backbone: dict[str, Any] = Field(description="the Hugging Face config of the Qwen2-family backbone")
    num_streams: int = 8
    codebook_size: int = 1024
    codec: dict[str, Any] = Field(description="DiscreteAudioIO.spec(): kind, source, X-codec config")
    encoder: dict[str, Any] = Field(description="ContinuousAudioIO.spec(): kind, source, encoder config, front end")
    attn_implementation: str = "sdpa"

    @property
    def text_size(self) -> int:
        return int(self.backbone["vocab_size"])

    @property
    def encoder_kind(self) -> str:
        return str(self.encoder["kind"])

    def vocabulary(self) -> UalmVocabulary:
        return UalmVocabulary(self.text_size, self.num_streams, self.codebook_size)

    def backbone_config(self):
        from transformers import AutoConfig

        values = {k: v for k, v in self.backbone.items() if k not in ("model_type", "transformers_version")}
        return AutoConfig.for_model(self.backbone["model_type"], **values)


def _backbone(config: UalmConfig, vocab_size: int) -> nn.Module:
    """The decoder stack (the causal LM's ``.model``), with its embedding sized for the UALM vocabulary."""
    from transformers import AutoModel

    cfg = config.backbone_config()
    # Built with the UALM vocabulary and pad id 0, the stack's own embedding is the one the recipe swaps in.
    cfg.vocab_size = vocab_size
    cfg.pad_token_id = PAD_ID
    cfg.tie_word_embeddings = False
    # A stored dtype (Qwen configs say bfloat16) would override the dtype the loader builds in.
    return AutoModel.from_config(cfg, attn_implementation=config.attn_implementation, dtype=torch.get_default_dtype())


class UalmLM(nn.Module):
    """The unified model. Weights come from :mod:`.checkpoint` (a saved folder or a DeepSpeed checkpoint)."""

    def __init__(
        self,
        config: UalmConfig,
        *,
        codec: DiscreteAudioIO | None = None,
        encoder: ContinuousAudioIO | None = None,
        tokenizer: Any = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.vocab = config.vocabulary()
        self.num_streams = config.num_streams
        self.tokenizer = tokenizer
        self.model = _backbone(config, self.vocab.size)
        hidden = int(self.model.config.hidden_size)
        self.hidden_size = hidden
        with torch.no_grad():
            self.model.embed_tokens.weight[PAD_ID].zero_()
        self.lm_head = nn.Linear(hidden, self.vocab.size, bias=False)
        self.stream_emb = nn.Embedding(self.num_streams, hidden)
        codec = codec if codec is not None else codec_from_spec(config.codec, num_streams=self.num_streams)
        encoder = encoder if encoder is not None else encoder_from_spec(config.encoder)
        if codec.codebook_size != config.codebook_size:
            raise ValueError(f"codec has {codec.codebook_size} codes per book; the config says {config.codebook_size}")
        self.multimodal_io_dict = nn.ModuleDict({CODEC_IO: codec, ENCODER_IO: encoder})
        self.adaptor = nn.ModuleDict({ENCODER_IO: nn.Linear(encoder.feature_dim, hidden)})
        # transformers renamed the backbones' KV-cache argument from past_key_values to cache.
        self._cache_arg = "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"
        self.eval()

    # ------------------------------------------------------------ properties

    @property
    def device(self) -> torch.device:
        return self.lm_head.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.lm_head.weight.dtype

    @property
    def codec(self) -> DiscreteAudioIO:
        return self.multimodal_io_dict[CODEC_IO]

    @property
    def encoder(self) -> ContinuousAudioIO:
        return self.multimodal_io_dict[ENCODER_IO]

    # ------------------------------------------------------------ input side

    def embed(
        self, seqs: torch.Tensor, continuous: list[tuple[int, int, torch.Tensor]] | None = None
    ) -> torch.Tensor:
        """Input embeddings [B, L, H] for token ids [B, L, S], with continuous features placed over their frames.

        Each ``(batch_index, start, feats)`` in ``continuous`` puts ``adapt(feats)`` (feats [T, D]) at
        positions ``start .. start + T`` of that sequence, replacing the token embeddings there.
        """
        if seqs.ndim != 3 or seqs.shape[-1] != self.num_streams:
            raise ValueError(f"expected token ids [B, L, {self.num_streams}], got shape {tuple(seqs.shape)}")
        embeds = self.model.embed_tokens(seqs.to(self.device)).sum(dim=2)
        for batch_index, start, feats in continuous or ():
            length = feats.shape[0]
            if start < 0 or start + length > embeds.shape[1] or not 0 <= batch_index < embeds.shape[0]:
                raise ValueError(
                    f"continuous features of {length} frames at ({batch_index}, {start}) do not fit a batch of shape "
                    f"{tuple(embeds.shape[:2])}"
                )
            embeds[batch_index, start : start + length] = self.adapt(feats).to(embeds.dtype)
        return embeds

    def adapt(self, feats: torch.Tensor) -> torch.Tensor:
        """Encoder features [T, D] mapped into the LM's hidden size [T, H]."""
        return self.adaptor[ENCODER_IO](feats.to(self.device, self.dtype))

    # ------------------------------------------------------------ backbone

    def forward_hidden(
        self,
        inputs_embeds: torch.Tensor,
        *,
        past_key_values: Any = None,
        position_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        use_cache: bool = False,
    ) -> tuple[torch.Tensor, Any]:
        """Last hidden states [B, L, H] of the backbone, and its KV cache when ``use_cache``."""
        out = self.model(
            inputs_embeds=inputs_embeds,
            position_ids=position_ids,
            attention_mask=attention_mask,
            use_cache=use_cache,
            **{self._cache_arg: past_key_values},
        )
        if not use_cache:
            return out.last_hidden_state, None
        cache = getattr(out, "cache", None)
        return out.last_hidden_state, cache if cache is not None else out.past_key_values

    def forward(self, seqs: torch.Tensor, continuous: list[tuple[int, int, torch.Tensor]] | None = None) -> torch.Tensor:
        """Per-stream logits [B, L, S, V] for token ids [B, L, S] (no cache; for checks and scoring)."""
        hidden, _ = self.forward_hidden(self.embed(seqs, continuous))
        return self.stream_logits(hidden)

    # ------------------------------------------------------------ output side

    def stream_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits [..., S, V] for hidden states [..., H].

        Stream 0 is ``head(hidden)`` over the whole vocabulary; stream ``n >= 1`` is
        ``head(hidden + stream_emb[n])`` inside its own interval and -inf elsewhere
        (only that interval's rows of the head are multiplied).
        """
        weight = self.lm_head.weight
        hidden = hidden.to(weight.dtype)
        S, V = self.num_streams, self.vocab.size
        out = hidden.new_full((*hidden.shape[:-1], S, V), float("-inf"))
        out[..., 0, :] = torch.nn.functional.linear(hidden, weight)
        if S > 1:
            start = self.vocab.audio_start
            size = self.vocab.stream_size
            rows = weight[start : start + S * size].view(S, size, -1)[1:]  # [S-1, size, H]
            shifted = hidden.unsqueeze(-2) + self.stream_emb.weight[1:]  # [..., S-1, H]
            audio = torch.einsum("...sh,svh->...sv", shifted, rows)  # [..., S-1, size]
            for n in range(1, S):
                lo, hi = self.vocab.stream_interval(n)
                out[..., n, lo:hi] = audio[..., n - 1, :]
        return out

    # ------------------------------------------------------------ audio

    def encode_audio(self, waveform_16k: Any) -> torch.Tensor:
        """Continuous features [T_frames, D] (25 Hz) of a 16 kHz mono waveform; past encoder.max_seconds is cut."""
        return self.encoder.encode(waveform_16k)

    def codec_encode(self, waveform_16k: Any) -> torch.Tensor:
        """X-codec codes LongTensor [T, num_streams] (50 frames/s) of a 16 kHz mono waveform."""
        return self.codec.encode(waveform_16k)

    def codec_decode(self, codes: torch.Tensor) -> torch.Tensor:
        """16 kHz samples [T * 320] for codes [T, num_streams]; negative codes are decoded as 0."""
        return self.codec.decode(codes)

    # ------------------------------------------------------------ persistence

    def save_pretrained(self, folder: str | Path) -> Path:
        from .checkpoint import save_pretrained

        return save_pretrained(self, folder)

    @classmethod
    def from_pretrained(cls, folder: str | Path, *, device: str = "auto", dtype: str = "auto") -> "UalmLM":
        from .checkpoint import load_pretrained

        return load_pretrained(folder, device=device, dtype=dtype)
