"""Ablation grids: ``--grid reflect=0,1 --grid listener=yamnet,clap`` into named, validated configurations.

A grid key is any ``AgentConfig`` field by dotted path: a loop setting (``loop.reflect``, or the
shorthands ``reflect``, ``critique``, ``enrich``, ``selection``, ``accept_score``), a top-level
setting (``duration_s``), a component choice (``listener``) or one of the chosen backend's settings
(``critic.speech_word_share``). Every configuration is built and checked before any work starts,
so a typo costs nothing.
"""

from __future__ import annotations

import itertools
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from ..config import AgentConfig, LoopConfig
from ..errors import ConfigError, UsageError
from ..roles import ROLES

SHORTHANDS = {name: f"loop.{name}" for name in ("reflect", "critique", "enrich", "selection", "accept_score", "candidates")}
# Top-level fields a grid may vary; the roles and the loop are keys of their own.
TOP_LEVEL = tuple(n for n in AgentConfig.model_fields if n not in ROLES and n != "loop")
# An optional role (the codec) can be switched off in a grid.
OFF_WORDS = ("none", "off")

_TRUE = {"on", "true", "yes"}
_FALSE = {"off", "false", "no"}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class GridAxis:
    """One ``--grid KEY=V1,V2`` option: the key as written, the config path it sets, its values."""

    key: str
    path: str
    texts: tuple[str, ...]
    values: tuple[Any, ...]

    @property
    def role(self) -> str | None:
        """The role whose backend this key chooses or configures, if any."""
        head = self.path.split(".")[0]
        return head if head in ROLES else None

    @property
    def is_choice(self) -> bool:
        return self.path in ROLES


@dataclass(frozen=True)
class GridConfig:
    """One point of the grid: its name, its settings and the validated agent config."""

    name: str
    settings: dict[str, Any]
    config: AgentConfig
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """A file-system-safe folder name for this configuration."""
        return safe_folder_name(self.name)


@dataclass(frozen=True)
class Grid:
    axes: list[GridAxis]
    configs: list[GridConfig]
    baseline: GridConfig

    def names(self) -> list[str]:
        return [c.name for c in self.configs]

    def describe(self) -> dict[str, Any]:
        """A JSON-ready record of the grid (written next to the results, checked on resume)."""
        return {
            "axes": [{"key": a.key, "path": a.path, "values": list(a.texts)} for a in self.axes],
            "configs": [{"name": c.name, "folder": c.folder, "settings": c.labels} for c in self.configs],
            "baseline": self.baseline.name,
        }


def valid_keys() -> list[str]:
    """Every key form a grid accepts, for error messages."""
    loop = [f"loop.{n}" for n in LoopConfig.model_fields]
    return [*SHORTHANDS, *loop, *TOP_LEVEL, *ROLES, "ROLE.SETTING (a setting of the role's backend)"]


def parse_value(text: str) -> Any:
    """``on``/``true``/``yes`` and ``off``/``false``/``no`` are booleans, numbers are numbers, the rest text."""
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    if _NUMBER.fullmatch(low):
        number = float(low)
        return int(low) if re.fullmatch(r"[+-]?\d+", low) else number
    return text.strip()


def parse_axis(spec: str) -> GridAxis:
    """``KEY=V1,V2,...`` into an axis; the key is checked here, values that need a backend later."""
    key, sep, rest = spec.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--grid {spec!r}: expected KEY=V1,V2,... e.g. reflect=0,1,3")
    texts = tuple(t.strip() for t in rest.split(","))
    if not rest.strip() or any(not t for t in texts):
        raise UsageError(f"--grid {key}: a value is empty in {rest!r}; give KEY=V1,V2,...")
    if len(set(texts)) != len(texts):
        raise UsageError(f"--grid {key}: a value is repeated in {rest!r}")
    path = _resolve_key(key)
    head, _, setting = path.partition(".")
    if path in ROLES:
        values = tuple(_component_choice(path, t) for t in texts)
    elif head in ROLES:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", setting):
            raise UsageError(f"--grid {key}: {setting!r} is not a setting name")
        values = tuple(parse_value(t) for t in texts)  # checked per configuration, against its backend
    else:
        info = LoopConfig.model_fields[setting] if head == "loop" else AgentConfig.model_fields[path]
        values = tuple(_checked_value(key, info, t) for t in texts)
    return GridAxis(key=key, path=path, texts=texts, values=values)


def build_grid(
    specs: list[str],
    *,
    config_file: str | Path | None = None,
    baseline: str | None = None,
) -> Grid:
    """Parse ``--grid`` options, build and validate every configuration, and pick the baseline.

    Any unknown key or value is a UsageError (exit 2) naming the valid ones; nothing runs before.
    """
    if not specs:
        raise UsageError("give at least one --grid KEY=V1,V2,... e.g. --grid reflect=0,1")
    axes = [parse_axis(s) for s in specs]
    seen: dict[str, str] = {}
    for axis in axes:
        if axis.path in seen:
            raise UsageError(f"--grid {axis.key} sets {axis.path}, as --grid {seen[axis.path]} does; give each key once")
        seen[axis.path] = axis.key
    # Component choices first: switching a backend drops its settings, so settings go on after.
    order = sorted(range(len(axes)), key=lambda i: (not axes[i].is_choice, i))
    varied = [a for a in axes if len(a.values) > 1] or axes
    configs = []
    for combo in itertools.product(*(range(len(a.values)) for a in axes)):
        labels = {axes[i].key: axes[i].texts[combo[i]] for i in range(len(axes))}
        name = ",".join(f"{a.key}={labels[a.key]}" for a in varied)
        settings = {axes[i].path: axes[i].values[combo[i]] for i in order}
        texts = {axes[i].path: axes[i].texts[combo[i]] for i in order}
        config = _build(name, settings, texts, config_file)
        configs.append(GridConfig(name=name, settings=settings, config=config, labels=labels))
    _check_folders(configs)
    return Grid(axes=axes, configs=configs, baseline=pick_baseline(configs, axes, baseline))


def pick_baseline(configs: list[GridConfig], axes: list[GridAxis], name: str | None) -> GridConfig:
    """The configuration called ``name`` (its settings in any order, keys and values in any spelling), or the first."""
    if name is None:
        return configs[0]
    for c in configs:
        if c.name == name:
            return c
    wanted = _labels_named(name, axes)
    matches = [] if wanted is None else [c for c in configs if all(c.labels[k] == t for k, t in wanted.items())]
    if len(matches) == 1:
        return matches[0]
    raise UsageError(f"--baseline {name!r} is not a configuration of the grid; configurations: {'; '.join(c.name for c in configs)}")


def _labels_named(name: str, axes: list[GridAxis]) -> dict[str, str] | None:
    by_path = {a.path: a for a in axes}
    wanted = {}
    for part in name.split(","):
        key, sep, text = (s.strip() for s in part.partition("="))
        try:
            axis = by_path.get(_resolve_key(key)) if sep else None
        except UsageError:
            axis = None
        if axis is None:
            return None
        value = parse_value(text)
        index = next((i for i, (t, v) in enumerate(zip(axis.texts, axis.values)) if t == text or _same(v, value)), None)
        if index is None:
            return None
        wanted[axis.key] = axis.texts[index]
    return wanted


def safe_folder_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=,+-]", "_", name)[:120] or "config"


# ---- internals ---------------------------------------------------------------------------


def _resolve_key(key: str) -> str:
    if key in SHORTHANDS:
        return SHORTHANDS[key]
    head, _, rest = key.partition(".")
    if head == "loop" and rest in LoopConfig.model_fields:
        return key
    if key in TOP_LEVEL or key in ROLES:
        return key
    if head in ROLES and rest and "." not in rest:
        return key
    raise UsageError(f"unknown grid key {key!r}; valid keys: {', '.join(valid_keys())}")


def _component_choice(role: str, text: str) -> str | None:
    from .. import registry

    if role == "codec" and text.lower() in OFF_WORDS:
        return None
    names = registry.names(role)
    if text not in names:
        extra = f", {'/'.join(OFF_WORDS)}" if role == "codec" else ""
        raise UsageError(f"--grid {role}={text}: unknown {role}; valid {role}s: {', '.join(names)}{extra}")
    return text


def _not_finite(text: str) -> bool:
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return False


def _checked_value(key: str, info: FieldInfo, text: str) -> Any:
    """The value for a typed field: parsed (numbers, booleans), or the text itself for text fields."""
    adapter = TypeAdapter(Annotated[info.annotation, *info.metadata]) if info.metadata else TypeAdapter(info.annotation)
    if _not_finite(text):  # no setting takes NaN or infinity
        raise UsageError(f"--grid {key}={text}: bad value (must be a finite number)")
    candidates = [_as_sequence(info, text), parse_value(text), text]
    first_error = None
    for candidate in candidates:
        if candidate is _NOT_A_SEQUENCE:
            continue
        try:
            return adapter.validate_python(candidate)
        except ValidationError as exc:
            first_error = first_error or exc
    message = "; ".join(e["msg"].removeprefix("Value error, ") for e in first_error.errors())
    raise UsageError(f"--grid {key}={text}: bad value ({message})")


_NOT_A_SEQUENCE = object()


def _as_sequence(info: FieldInfo, text: str) -> Any:
    # A tuple or list setting takes its items joined by '+', as commas separate the grid's values.
    origin = typing.get_origin(info.annotation)
    if origin not in (tuple, list):
        return _NOT_A_SEQUENCE
    return [] if text.lower() in ("none", "") else [t.strip() for t in text.split("+")]


def _build(name: str, settings: dict[str, Any], texts: dict[str, str], config_file: str | Path | None) -> AgentConfig:
    from .. import registry

    def is_backend_setting(path: str) -> bool:
        return path.partition(".")[0] in ROLES and "." in path

    overrides = {p: v for p, v in settings.items() if v is not None and not is_backend_setting(p)}
    try:
        config = AgentConfig.load(config_file, **overrides)
    except ConfigError as exc:
        if "config file" in str(exc):
            raise
        raise UsageError(f"configuration {name}: {exc}") from None
    for path, value in settings.items():
        if path == "codec" and value is None:
            config = config.model_copy(update={"codec": None})
    # Settings of a backend: the names come from the backend this configuration chose.
    for path in filter(is_backend_setting, settings):
        role, _, setting = path.partition(".")
        spec = config.spec(role)
        if spec is None:
            raise UsageError(f"--grid {path}: configuration {name} has no {role} (choose one, e.g. --grid {role}=NAME)")
        backend = registry.get(role, spec.kind)
        fields = {n: f for n, f in backend.config_cls.model_fields.items() if n != "kind"}
        if setting not in fields:
            raise UsageError(
                f"unknown grid key {path!r}: {role} {spec.kind!r} has no setting {setting!r}; "
                f"its settings: {', '.join(fields) or '(none)'}"
            )
        checked = _checked_value(path, fields[setting], texts[path])
        extra = {**spec.settings(), setting: checked}
        config = config.model_copy(update={role: type(spec)(kind=spec.kind, **extra)})
    try:
        config.validate_components()
    except ConfigError as exc:
        raise UsageError(f"configuration {name}: {exc}") from None
    return config


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _check_folders(configs: list[GridConfig]) -> None:
    folders: dict[str, str] = {}
    for c in configs:
        if c.folder in folders:
            raise UsageError(f"configurations {folders[c.folder]!r} and {c.name!r} map to the same folder {c.folder!r}")
        folders[c.folder] = c.name
