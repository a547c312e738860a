"""Backends register by name for one or more roles.

Built-in backends are listed here by module path and imported only when used,
so ``ualm-agent --help`` stays fast. Third-party packages add backends through
the entry-point group ``ualm_agent.components``: each entry point names a module
(or an object in it) whose import calls :func:`register`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from .errors import ConfigError
from .roles import PART_ROLES, ROLES

ENTRY_POINT_GROUP = "ualm_agent.components"


class BackendConfig(BaseModel):
    """Base for a backend's typed settings; ``kind`` names the backend.

    NaN and infinity are refused everywhere: a NaN threshold compares false with every value,
    so it would silently switch a check off instead of failing.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    kind: str


@dataclass(frozen=True)
class Backend:
    name: str
    roles: tuple[str, ...]
    config_cls: type[BackendConfig]
    factory: Callable[..., Any]
    requires: tuple[str, ...] = ()
    install: str = ""
    description: str = ""
    # Extra availability check (e.g. a model file is present); returns a reason or "".
    check: Callable[[], str] | None = None
    # Where the default settings' weights stand (never blocks: a user may supply other weights).
    weights: Callable[[], str] | None = None
    origin: str = "builtin"

    def availability(self) -> tuple[bool, str]:
        missing = [m for m in self.requires if importlib.util.find_spec(m) is None]
        if missing:
            return False, f"missing {', '.join(missing)}; install with: {self.install or 'pip install ' + ' '.join(missing)}"
        if self.check is not None:
            reason = self.check()
            if reason:
                return False, reason
        return True, ""

    def default_weights(self) -> str:
        """A short note on the default model's weights: present, not downloaded, or none needed."""
        if self.weights is not None:
            return self.weights()
        field = self.config_cls.model_fields.get("model")
        if field is not None and isinstance(field.default, str) and field.default:
            from .model_sources import cache_status

            return cache_status(field.default)
        return ""

    def build(self, config: BackendConfig) -> Any:
        return self.factory(**config.model_dump(exclude={"kind"}))


# (role, name) -> module that registers it. Imported lazily.
BUILTIN_MODULES: dict[tuple[str, str], str] = {
    ("planner", "rules"): "ualm_agent.components.planners.rules",
    ("generator", "composer"): "ualm_agent.components.generators.composer",
    ("source", "samples"): "ualm_agent.components.sources.folder",
    ("source", "soundfont"): "ualm_agent.components.sources.soundfont",
    ("source", "speech"): "ualm_agent.components.sources.speech",
    ("source", "dsp"): "ualm_agent.components.sources.synthesis",
    ("source", "recordings"): "ualm_agent.components.sources.recordings",
    ("vae", "resample"): "ualm_agent.components.vaes.resample",
    ("vae", "identity"): "ualm_agent.components.vaes.resample",
    ("listener", "yamnet"): "ualm_agent.components.listeners.yamnet",
    ("listener", "clap"): "ualm_agent.components.listeners.clap",
    ("listener", "whisper"): "ualm_agent.components.listeners.whisper",
    ("listener", "composite"): "ualm_agent.components.listeners.composite",
    ("captioner", "template"): "ualm_agent.components.captioners.template",
    ("critic", "rules"): "ualm_agent.components.critics.rules",
    ("reviser", "rules"): "ualm_agent.components.revisers.rules",
    ("codec", "xcodec"): "ualm_agent.components.codecs.xcodec",
    ("codec", "encodec"): "ualm_agent.components.codecs.encodec",
    ("generator", "musicgen"): "ualm_agent.components.generators.musicgen",
    ("planner", "llm"): "ualm_agent.components.llm.backend",
    ("captioner", "llm"): "ualm_agent.components.llm.backend",
    ("critic", "llm"): "ualm_agent.components.llm.backend",
    ("reviser", "llm"): "ualm_agent.components.llm.backend",
    **{(role, "ualm"): "ualm_agent.components.ualm.backend" for role in ("planner", "generator", "captioner", "critic", "listener")},
    # Diffusion text-to-audio: whole-clip generators and per-event sources of the mixer.
    **{(role, name): "ualm_agent.components.generators.diffusion"
       for role in ("generator", "source") for name in ("stable-audio", "audioldm2")},
    # Audio-language judges: one model serves as listener, captioner and critic.
    **{(role, name): "ualm_agent.components.judges.backend"
       for role in ("listener", "captioner", "critic") for name in ("qwen2-audio", "qwen2.5-omni", "audio-flamingo3")},
}

_BACKENDS: dict[tuple[str, str], Backend] = {}
_loaded_builtins = False
_loaded_plugins = False

T = TypeVar("T")


def register(
    name: str,
    *,
    roles: Iterable[str],
    config: type[BackendConfig],
    requires: Iterable[str] = (),
    install: str = "",
    description: str = "",
    check: Callable[[], str] | None = None,
    weights: Callable[[], str] | None = None,
) -> Callable[[T], T]:
    """Class decorator: make ``cls(**settings)`` available as backend ``name``."""
    roles = tuple(roles)
    unknown = [r for r in roles if r not in ROLES + PART_ROLES]
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; roles are {', '.join(ROLES + PART_ROLES)}")

    def deco(factory: T) -> T:
        module = getattr(factory, "__module__", "")
        origin = "builtin" if module.startswith("ualm_agent.") else module
        backend = Backend(
            name=name,
            roles=roles,
            config_cls=config,
            factory=factory,  # type: ignore[arg-type]
            requires=tuple(requires),
            install=install,
            description=description or _first_line(factory.__doc__),
            check=check,
            weights=weights,
            origin=origin,
        )
        for role in roles:
            _BACKENDS[(role, name)] = backend
        return factory

    return deco


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""


def _load_builtins() -> None:
    global _loaded_builtins
    if _loaded_builtins:
        return
    _loaded_builtins = True
    for module in dict.fromkeys(BUILTIN_MODULES.values()):
        importlib.import_module(module)


_PLUGIN_FAILURES: list[str] = []


def _load_plugins() -> None:
    global _loaded_plugins
    if _loaded_plugins:
        return
    _loaded_plugins = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must not take the toolkit down, nor vanish unseen
            _PLUGIN_FAILURES.append(f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}")


def plugin_failures() -> list[str]:
    """One line per entry-point plugin that failed to load (``components`` lists them)."""
    _load_plugins()
    return list(_PLUGIN_FAILURES)


def get(role: str, name: str) -> Backend:
    """The backend ``name`` for ``role``; a ConfigError lists the valid names."""
    if role not in ROLES + PART_ROLES:
        raise ConfigError(f"unknown role {role!r}; roles are: {', '.join(ROLES + PART_ROLES)}")
    if (role, name) not in _BACKENDS and (role, name) in BUILTIN_MODULES:
        importlib.import_module(BUILTIN_MODULES[(role, name)])
    if (role, name) not in _BACKENDS:
        _load_plugins()
    if (role, name) not in _BACKENDS:
        _load_builtins()
    try:
        return _BACKENDS[(role, name)]
    except KeyError:
        valid = ", ".join(names(role)) or "(none installed)"
        broken = "".join(f"; {line}" for line in _PLUGIN_FAILURES)
        raise ConfigError(f"unknown {role} {name!r}; valid {role}s: {valid}{broken}") from None


def names(role: str) -> list[str]:
    _load_builtins()
    _load_plugins()
    return sorted(n for (r, n) in _BACKENDS if r == role)


def all_backends() -> dict[str, list[Backend]]:
    _load_builtins()
    _load_plugins()
    return {role: [_BACKENDS[(role, n)] for n in names(role)] for role in ROLES + PART_ROLES}
