"""The one place that turns config into component instances.

Instances are cached per process by (backend, settings): a backend that serves
several roles with the same settings is built once and shared, and later runs
in the same process reuse loaded models.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from . import registry
from .config import AgentConfig
from .errors import ConfigError, ModelUnavailableError
from .roles import PROTOCOLS, ROLES, Captioner, Codec, Critic, Generator, Listener, Planner, Reviser, Vae

_CACHE: dict[tuple[int, str], Any] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Components:
    planner: Planner
    generator: Generator
    vae: Vae
    listener: Listener
    captioner: Captioner
    critic: Critic
    reviser: Reviser
    codec: Codec | None = None


def build_component(role: str, config: AgentConfig) -> Any:
    settings = config.resolved(role)
    if settings is None:
        return None
    backend = registry.get(role, settings.kind)
    key = (id(backend.factory), settings.model_dump_json(exclude={"kind"}))
    with _LOCK:
        if key not in _CACHE:
            ok, reason = backend.availability()
            if not ok:
                raise ModelUnavailableError(f"{role} {settings.kind!r} is not available: {reason}")
            _CACHE[key] = backend.build(settings)
        instance = _CACHE[key]
    protocol = PROTOCOLS[role]
    if not isinstance(instance, protocol):
        raise ConfigError(f"{role} {settings.kind!r} does not implement the {protocol.__name__} interface")
    return instance


def build_components(config: AgentConfig) -> Components:
    return Components(**{role: build_component(role, config) for role in ROLES})


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
