"""Find a pretrained model's files: a local folder, or a Hugging Face id.

Every torch backend goes through :func:`local_model_dir` before calling
``from_pretrained``, so loading never touches the network by surprise: an id
already in the Hugging Face cache loads from there; a missing one is downloaded
only when the hub is reachable (checked once, in a few seconds), and otherwise
fails at once with a message naming the model and how to supply it.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

from .errors import ModelUnavailableError, UsageError

HUB_PROBE_TIMEOUT_S = 3.0


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def hub_offline() -> bool:
    return _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("TRANSFORMERS_OFFLINE"))


@cache
def hub_reachable() -> bool:
    """One TCP connect to the hub endpoint, so an unreachable hub costs seconds, not retries."""
    if hub_offline():
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme != "http" else 80)
    try:
        with socket.create_connection((host, port), timeout=HUB_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def how_to_supply(model: str, *, setting: str = "model") -> str:
    return (
        f"pass a local folder with --model (or the `{setting}` setting), or download it into the"
        f" Hugging Face cache (HF_HOME) on a machine with hub access: `hf download {model}`"
    )


def local_model_dir(
    model: str,
    *,
    what: str,
    setting: str = "model",
    must_contain: tuple[str, ...] = (),
    allow_patterns: tuple[str, ...] | None = None,
) -> Path:
    """A local folder holding ``model``'s files, or ModelUnavailableError.

    ``model`` is a path or a hub id. ``must_contain`` names files the folder
    needs (for instance ``config.json``); a folder without them is rejected
    with the same kind of message instead of a loader's traceback.
    ``allow_patterns`` limits a download to the files needed (e.g. only the
    configs and tokenizer of a backbone whose weights come from elsewhere).
    """
    if not model.strip():
        raise UsageError(f"{what}: no model given; set --model (or the `{setting}` setting) to a model id or folder")
    path = Path(model).expanduser()
    # A path the user named is their mistake to fix (exit 2), not a download to suggest.
    if path.exists():
        missing = [name for name in must_contain if not (path / name).exists()]
        if not path.is_dir() or missing:
            lacks = f"it lacks {', '.join(missing)}" if path.is_dir() else "it is a file"
            raise UsageError(
                f"{what}: {path} is not a model folder ({lacks}); give --model (or the `{setting}` setting) the folder"
                " that holds the model's files"
            )
        return path
    # Hub ids are "name" or "owner/name"; anything else is meant as a path.
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise UsageError(
            f"{what}: no such folder {model}; give --model (or the `{setting}` setting) an existing model folder,"
            " or a Hugging Face id such as owner/name"
        )
    folder = _cached_snapshot(model)
    if folder is None:
        if not hub_reachable():
            state = "offline (HF_HUB_OFFLINE is set)" if hub_offline() else "the hub is unreachable"
            raise ModelUnavailableError(
                f"{what}: model {model!r} is not in the Hugging Face cache and {state}; " + how_to_supply(model, setting=setting)
            )
        folder = _download(model, what=what, setting=setting, allow_patterns=allow_patterns)
    missing = [name for name in must_contain if not (folder / name).exists()]
    if missing:
        raise ModelUnavailableError(
            f"{what}: the cached copy of {model!r} lacks {', '.join(missing)}; " + how_to_supply(model, setting=setting)
        )
    return folder


def cache_status(model: str) -> str:
    """Where ``model`` stands without touching the network: a local folder, cached, or not downloaded."""
    if Path(model).expanduser().exists():
        return f"{model}: local folder"
    if _cached_snapshot(model) is not None:
        return f"{model}: in the Hugging Face cache"
    return f"{model}: not downloaded" + (" (offline)" if hub_offline() else "") + f"; get it with `hf download {model}`"


def _cached_snapshot(model: str) -> Path | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(model, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError, OSError):
        return None
    except Exception as exc:  # e.g. a malformed id
        if type(exc).__name__ in ("HFValidationError", "RepositoryNotFoundError"):
            return None
        raise


def _download(model: str, *, what: str, setting: str, allow_patterns: tuple[str, ...] | None = None) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(model, allow_patterns=list(allow_patterns) if allow_patterns else None))
    except Exception as exc:
        raise ModelUnavailableError(
            f"{what}: could not download {model!r} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            + how_to_supply(model, setting=setting)
        ) from None
