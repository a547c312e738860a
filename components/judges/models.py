"""Loading the three audio-language model families and running them: yes/no scores and free text.

Weights are loaded once per (folder, device, dtype) in this process, under a lock, whatever
role or settings ask for them. Loading goes through ``local_model_dir`` (a missing model
fails at once, offline, naming the model and how to supply it) and checks what it finds:
the config's ``model_type`` must be the family's, the tokenizer must be a real one (an
empty tokenizer is what transformers builds from a folder without its files), and it must
write "Yes" and "No" as single tokens.

Prompts are chat turns with the audio first and the question after, through the model's
own chat template; the processor expands the audio placeholder to one token per encoder
frame. Qwen2.5-Omni's processor also holds an image and a video processor, whose class
needs torchvision; the judge hears audio only, so for that family the same audio steps
(Whisper features padded to the window, ``((n - 1) // 2 + 1 - 2) // 2 + 1`` placeholder
tokens) are done here with its tokenizer and feature extractor.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ualm_agent.errors import ModelUnavailableError

from . import scoring

if TYPE_CHECKING:
    import torch

# A tokenizer this small is what transformers builds when its files are missing, not a real vocabulary.
MIN_VOCAB = 16
# The judges hear at most this much of a clip (one Whisper window); the rest is cut with a note.
MAX_AUDIO_S = 30.0
# Omni's chat template as the model was trained with it, for folders that ship none.
CHATML_AUDIO = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'audio' %}<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
OMNI_SYSTEM = (
    "You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of perceiving auditory"
    " and visual inputs, as well as generating text and speech."
)


@dataclass(frozen=True)
class Family:
    """One model family: the backend name, its default weights and the transformers class that runs it."""

    name: str
    title: str
    default_model: str
    model_types: tuple[str, ...]
    model_class: str
    # A system turn to start every chat with (None: the chat template's own default).
    system: str | None = None
    # Whether the processor takes one Whisper window per clip (longer audio is cut to it).
    one_window: bool = True


QWEN2_AUDIO = Family("qwen2-audio", "Qwen2-Audio", "Qwen/Qwen2-Audio-7B-Instruct", ("qwen2_audio",),
                     "Qwen2AudioForConditionalGeneration")
# The full Omni checkpoint ("qwen2_5_omni") holds the thinker, talker and token2wav; only the thinker is loaded.
QWEN25_OMNI = Family("qwen2.5-omni", "Qwen2.5-Omni", "Qwen/Qwen2.5-Omni-7B", ("qwen2_5_omni", "qwen2_5_omni_thinker"),
                     "Qwen2_5OmniThinkerForConditionalGeneration", system=OMNI_SYSTEM)
AUDIO_FLAMINGO3 = Family("audio-flamingo3", "Audio Flamingo 3", "nvidia/audio-flamingo-3-hf", ("audioflamingo3",),
                         "AudioFlamingo3ForConditionalGeneration", one_window=False)
FAMILIES = {f.name: f for f in (QWEN2_AUDIO, QWEN25_OMNI, AUDIO_FLAMINGO3)}


class LoadedJudge:
    """A loaded model with its prompt builder: ``yes_scores`` and ``generate`` on one clip."""

    def __init__(
        self, family: Family, model: Any, prompter: Prompter, tokenizer: Any, device: torch.device,
        answers: tuple[list[int], list[int]],
    ) -> None:
        self.family = family
        self.model = model
        self.prompter = prompter
        self.tokenizer = tokenizer
        self.device = device
        self.sample_rate = prompter.sample_rate
        self.max_audio_s = min(MAX_AUDIO_S, prompter.window_s) if family.one_window else MAX_AUDIO_S
        self.yes_ids, self.no_ids = answers
        self._keep_last = "logits_to_keep" in inspect.signature(model.forward).parameters
        self._lock = threading.Lock()

    def yes_scores(self, audio: np.ndarray, questions: Sequence[str], batch_size: int) -> list[float]:
        """P(yes) per question, one forward pass per batch of questions."""
        import torch

        scores: list[float] = []
        for batch in scoring.batches(list(questions), batch_size):
            inputs = self._on_device(self.prompter.inputs([self.prompter.chat(q, self.family.system) for q in batch], audio))
            with self._lock, torch.inference_mode():
                logits = self._last_logits(inputs)
            # Left padding: every row's last position is its prompt's last token.
            scores.extend(scoring.yes_probabilities(logits, self.yes_ids, self.no_ids))
        return scores

    def _last_logits(self, inputs) -> "torch.Tensor":
        """Next-token logits at the last position only: a full [batch, length, vocabulary] tensor is
        gigabytes for a 7B model's 150k vocabulary and a clip's hundreds of audio positions."""
        if self._keep_last:
            return self.model(**inputs, use_cache=False, logits_to_keep=1).logits[:, -1, :]
        # Qwen2-Audio's head takes no logits_to_keep: run its backbone, then the head on the last position.
        hidden = self.model.model(**inputs, use_cache=False).last_hidden_state
        return self.model.lm_head(hidden[:, -1, :])

    def generate(self, audio: np.ndarray, request: str, *, prefix: str = "", max_new_tokens: int = 256) -> str:
        """The model's greedy answer to ``request`` about the clip; ``prefix`` starts the answer and is part of it."""
        import torch

        inputs = self._on_device(self.prompter.inputs([self.prompter.chat(request, self.family.system) + prefix], audio))
        with self._lock, torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        new = out[0, inputs["input_ids"].shape[1]:]
        return prefix + self.tokenizer.decode(new, skip_special_tokens=True)

    def _on_device(self, inputs):
        inputs = inputs.to(self.device)
        # Features in the weights' precision (a bf16 model given float32 features fails in its first layer).
        inputs["input_features"] = inputs["input_features"].to(self.model.dtype)
        return inputs


class Prompter:
    """Chat text and model inputs through the model's own processor (Qwen2-Audio, Audio Flamingo 3)."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        self.sample_rate = int(processor.feature_extractor.sampling_rate)
        self.window_s = float(processor.feature_extractor.chunk_length)

    def chat(self, question: str, system: str | None) -> str:
        text = self.processor.apply_chat_template(_turns(question, system), add_generation_prompt=True, tokenize=False)
        return with_audio_placeholder(text, getattr(self.processor, "audio_token", None))

    def inputs(self, texts: list[str], audio: np.ndarray):
        """One batch: every text asks about the same clip. Its features are computed once and repeated
        per row, and each text's placeholder is expanded as the processor expands it for this clip."""
        # Padding is a text setting only: the audio features keep the processor's own (the window).
        single = self.processor(text=texts[:1], audio=[audio], sampling_rate=self.sample_rate, return_tensors="pt")
        token = getattr(self.processor, "audio_token", None)
        audio_keys = [k for k in single if k not in ("input_ids", "attention_mask")]
        if len(texts) == 1 or token is None or any(single[k].shape[0] != 1 for k in audio_keys):
            # One text, or a clip in several windows: the processor's own batching.
            return single if len(texts) == 1 else self.processor(
                text=texts, audio=[audio] * len(texts), sampling_rate=self.sample_rate, return_tensors="pt",
                text_kwargs={"padding": True, "padding_side": "left"},
            )
        tokenizer = self.processor.tokenizer
        count = int((single["input_ids"][0] == tokenizer.convert_tokens_to_ids(token)).sum())
        text = tokenizer([t.replace(token, token * count) for t in texts], padding=True, padding_side="left",
                         return_tensors="pt")
        from transformers import BatchFeature

        return BatchFeature({**text, **{k: single[k].repeat(len(texts), *([1] * (single[k].dim() - 1))) for k in audio_keys}})


class OmniPrompter(Prompter):
    """Qwen2.5-Omni's audio steps without its vision processors (see the module doc)."""

    def __init__(self, tokenizer: Any, feature_extractor: Any, chat_template: str, config: Any) -> None:
        self.tokenizer = tokenizer
        self.feature_extractor = feature_extractor
        self.chat_template = chat_template
        self.audio_token = tokenizer.convert_ids_to_tokens(int(config.audio_token_index))
        self.sample_rate = int(feature_extractor.sampling_rate)
        self.window_s = float(feature_extractor.chunk_length)

    def chat(self, question: str, system: str | None) -> str:
        text = self.tokenizer.apply_chat_template(
            _turns(question, system), chat_template=self.chat_template, add_generation_prompt=True, tokenize=False
        )
        return with_audio_placeholder(text, self.audio_token)

    def inputs(self, texts: list[str], audio: np.ndarray):
        from transformers import BatchFeature

        features = self.feature_extractor(
            [audio] * len(texts), sampling_rate=self.sample_rate, padding="max_length", return_attention_mask=True,
            return_tensors="pt",
        )
        mask = features.pop("attention_mask")
        frames = int(mask[0].sum())
        tokens = ((frames - 1) // 2 + 1 - 2) // 2 + 1
        expanded = [t.replace(self.audio_token, self.audio_token * tokens) for t in texts]
        text = self.tokenizer(expanded, padding=True, padding_side="left", return_tensors="pt")
        return BatchFeature({**text, "input_features": features["input_features"], "feature_attention_mask": mask})


def with_audio_placeholder(text: str, audio_token: str | None) -> str:
    """The chat text, checked to hold the clip's placeholder: a template that leaves it out would have
    the model answer about no audio at all, so that is refused in one line."""
    if audio_token and audio_token not in text:
        from ualm_agent.errors import ModelUnavailableError

        raise ModelUnavailableError(f"the model's chat template puts no {audio_token} placeholder in the prompt, so the"
                                    " clip would not be heard; give a model folder whose chat template takes audio")
    return text


def _turns(question: str, system: str | None) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    # Templates test either the part's type or an "audio" key (Qwen2-Audio's released one does the
    # latter); the key's value is never read, the clip goes to the processor separately.
    turns.append({"role": "user", "content": [{"type": "audio", "audio": "clip"}, {"type": "text", "text": question}]})
    return turns


# ---- loading ---------------------------------------------------------------------------------------

_LOADED: dict[tuple[str, str, str], LoadedJudge] = {}
_LOAD_LOCK = threading.Lock()


def load(family: Family, model: str, device: torch.device, dtype: torch.dtype) -> LoadedJudge:
    """The loaded model for ``model`` (hub id or folder), shared by every judge in this process."""
    from ualm_agent.model_sources import local_model_dir

    what = f"judge {family.name}"
    folder = local_model_dir(model, what=what, must_contain=("config.json",))
    check_model_type(family, folder, model, what)
    key = (str(folder.resolve()), str(device), str(dtype))
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(family, folder, model, what, device, dtype)
        return _LOADED[key]


def check_model_type(family: Family, folder: Path, model: str, what: str) -> None:
    from ualm_agent.model_sources import how_to_supply

    try:
        model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError):
        raise ModelUnavailableError(f"{what}: the config.json of {model} does not parse; " + how_to_supply(model)) from None
    if model_type not in family.model_types:
        raise ModelUnavailableError(
            f"{what}: {model} is a {model_type!r} model, not {family.title} ({', '.join(family.model_types)}); "
            + how_to_supply(family.default_model)
        )


def _load(family: Family, folder: Path, model: str, what: str, device: torch.device, dtype: torch.dtype) -> LoadedJudge:
    import transformers

    from ualm_agent.model_sources import how_to_supply

    def unusable(problem: str) -> ModelUnavailableError:
        return ModelUnavailableError(f"{what}: {model} {problem}; " + how_to_supply(model))

    model_class = getattr(transformers, family.model_class, None)
    if model_class is None:
        raise ModelUnavailableError(
            f"{what}: this transformers ({transformers.__version__}) has no {family.model_class};"
            " install a newer one: pip install -U transformers"
        )
    try:
        config = model_class.config_class.from_pretrained(folder)
        prompter, tokenizer = _prompter(family, folder, config)
    except Exception as exc:
        raise unusable(f"has no usable processor/tokenizer files ({type(exc).__name__})") from None
    if tokenizer is None or len(tokenizer) < MIN_VOCAB:
        raise unusable("has a missing or empty tokenizer")
    try:
        answers = scoring.answer_ids(tokenizer)
    except ValueError as exc:
        raise unusable(str(exc)) from None
    # Weights last: a folder that cannot be prompted fails before gigabytes are read.
    try:
        loaded = model_class.from_pretrained(folder, config=config, dtype=dtype).to(device).eval()
    except (OSError, ValueError) as exc:
        first = str(exc).splitlines()[0][:160] if str(exc) else ""
        raise unusable(f"has no loadable weights ({type(exc).__name__}: {first})") from None
    loaded.requires_grad_(False)
    return LoadedJudge(family, loaded, prompter, tokenizer, device, answers)


def _prompter(family: Family, folder: Path, config: Any) -> tuple[Prompter, Any]:
    if family is QWEN25_OMNI:
        from transformers import AutoFeatureExtractor, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder)
        extractor = AutoFeatureExtractor.from_pretrained(folder)
        return OmniPrompter(tokenizer, extractor, chat_template(tokenizer, folder), config), tokenizer
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(folder)
    return Prompter(processor), processor.tokenizer


def chat_template(tokenizer: Any, folder: Path) -> str:
    """The folder's chat template (the tokenizer's, or the processor's file), else ChatML with audio."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.chat_template
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    saved = folder / "chat_template.json"
    if saved.is_file():
        template = json.loads(saved.read_text(encoding="utf-8")).get("chat_template")
        if isinstance(template, str) and template:
            return template
    return CHATML_AUDIO
