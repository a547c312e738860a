"""``AgentConfig``: one typed entry per role plus the loop settings.

Loads from TOML, takes CLI overrides, and checks each component entry against
the backend's own typed settings class, so a typo fails before any work starts.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError, UsageError, validation_summary

MAX_DURATION_S = 60.0
MAX_PROMPT_CHARS = 2000
# Seeds are honoured in full up to 64 bits (what torch's generators take); larger ones are refused.
MAX_SEED = 2**64 - 1


class ComponentSpec(BaseModel):
    """``{"kind": "<backend name>", ...settings}`` for one role."""

    model_config = ConfigDict(extra="allow")
    kind: str = Field(min_length=1)

    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class LoopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # strict: "three" or true is not a number of rounds.
    reflect: int = Field(default=2, strict=True, description="maximum revisions after the first generation")
    max_reflect: int = Field(default=10, ge=0, le=100, strict=True, description="cap on --reflect")
    accept_score: float = Field(default=0.85, ge=0.0, le=1.0, strict=True, description="stop early when the critic accepts at this score or more")
    selection: Literal["best", "last"] = "best"
    enrich: bool = Field(default=True, strict=True, description="off: the prompt passes through as the caption")
    critique: bool = Field(default=True, strict=True, description="off: no critique, so no revision")
    interactive: bool = Field(
        default=False, strict=True,
        description="ask clarifying questions, and after each critique let the user accept, add issues or stop",
    )
    # With interactive on, the per-round review can be left out (only the clarifying questions asked).
    review: bool = Field(default=True, strict=True, description="with interactive: the user reviews each round")
    candidates: int = Field(
        default=1, ge=1, le=8, strict=True,
        description="takes generated and heard per round; the critic's best goes on (candidate search)",
    )
    hear_words: bool = Field(
        default=True, strict=True,
        description="when the plan has words to say and the listener transcribes none, Whisper hears them too",
    )

    @model_validator(mode="after")
    def _reflect_in_range(self) -> "LoopConfig":
        if self.reflect < 0:
            raise ValueError(f"reflect must be 0 or more, got {self.reflect}")
        if self.reflect > self.max_reflect:
            raise ValueError(f"reflect {self.reflect} is over the cap of {self.max_reflect} (loop.max_reflect)")
        if self.candidates > 1 and not self.critique:
            raise ValueError(f"candidates {self.candidates} needs the critique on to choose a take "
                             "(loop.critique = true), or use candidates = 1")
        return self

    @property
    def recursion_limit(self) -> int:
        # plan, clarify, then at most 9 nodes per round, plus finalize and slack.
        return 9 * (self.reflect + 1) + 10


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    planner: ComponentSpec = ComponentSpec(kind="rules")
    generator: ComponentSpec = ComponentSpec(kind="composer")
    codec: ComponentSpec | None = None
    vae: ComponentSpec = ComponentSpec(kind="resample")
    listener: ComponentSpec = ComponentSpec(kind="yamnet")
    captioner: ComponentSpec = ComponentSpec(kind="template")
    critic: ComponentSpec = ComponentSpec(kind="rules")
    reviser: ComponentSpec = ComponentSpec(kind="rules")
    loop: LoopConfig = LoopConfig()
    duration_s: float = Field(default=10.0, strict=True, description="clip length when the prompt gives none")
    seed: int = Field(default=0, strict=True)
    # The evaluator `eval` and `ablate` grade with when neither --evaluator-config nor --eval-listener
    # is given ([listener], [clap], thresholds; see evaluation/evaluator.py). The agent never reads it.
    evaluator: dict[str, Any] | None = Field(default=None, description="evaluator settings for eval and ablate")
    # Defaults for every torch backend that does not set its own.
    device: str | None = Field(default=None, description="auto, cpu, cuda or cuda:N")
    dtype: str | None = Field(default=None, description="auto, float32, float16 or bfloat16")

    @field_validator("device")
    @classmethod
    def _device_name(cls, v: str | None) -> str | None:
        from .devices import check_device_name

        return None if v is None else _as_value_error(check_device_name, v)

    @field_validator("dtype")
    @classmethod
    def _dtype_name(cls, v: str | None) -> str | None:
        from .devices import check_dtype_name

        return None if v is None else _as_value_error(check_dtype_name, v)

    @field_validator("evaluator")
    @classmethod
    def _evaluator_settings(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            from .evaluation.evaluator import EvaluatorConfig

            EvaluatorConfig.model_validate(v)  # its ValidationError reads as this field's
        return v

    @field_validator("seed")
    @classmethod
    def _seed_in_range(cls, v: int) -> int:
        if not 0 <= v <= MAX_SEED:
            raise ValueError(f"seed must be a whole number from 0 to {MAX_SEED} (64 bits), got {v}")
        return v

    @field_validator("duration_s")
    @classmethod
    def _duration_in_range(cls, v: float) -> float:
        if not (0 < v <= MAX_DURATION_S):
            raise ValueError(f"duration must be above 0 and at most {MAX_DURATION_S:g} s, got {v:g}")
        return v

    def spec(self, role: str) -> ComponentSpec | None:
        return getattr(self, role)

    def resolved(self, role: str):
        """The role's entry validated against its backend's settings class."""
        from . import registry

        spec = self.spec(role)
        if spec is None:
            return None
        backend = registry.get(role, spec.kind)
        settings = spec.settings()
        fields = backend.config_cls.model_fields
        for key in ("device", "dtype"):
            value = getattr(self, key)
            if value is not None and key in fields and key not in settings:
                settings[key] = value
        try:
            return backend.config_cls.model_validate({"kind": spec.kind, **settings})
        except ValidationError as exc:
            raise ConfigError(f"invalid settings for {role} {spec.kind!r}: {validation_summary(exc)}") from None

    def set_model(self, model: str, role: str | None = None) -> list[str]:
        """Point the ``model`` setting of one role, or of every selected backend that has one, at ``model``.

        Returns the roles changed; a role whose backend takes no model is a usage error.
        """
        from . import registry
        from .roles import ROLES

        if not model.strip():
            flag = f"--model {role}=" if role else "--model ''"
            raise ConfigError(f"{flag}: no model given; give a model id or folder, e.g. --model generator=facebook/musicgen-small")
        changed = []
        for name in (role,) if role else ROLES:
            if name not in ROLES:
                raise ConfigError(f"--model {name}=...: unknown role; roles are {', '.join(ROLES)}")
            spec = self.spec(name)
            if spec is None or "model" not in registry.get(name, spec.kind).config_cls.model_fields:
                if role:
                    kind = "no backend" if spec is None else f"{spec.kind!r}"
                    raise ConfigError(f"--model {role}=...: the {role} backend {kind} takes no model")
                continue
            setattr(self, name, ComponentSpec(**{**spec.settings(), "kind": spec.kind, "model": model}))
            changed.append(name)
        if not changed:
            raise ConfigError("--model: none of the selected backends takes a model; choose one, e.g. --generator musicgen")
        return changed

    def validate_components(self) -> None:
        from .roles import ROLES

        for role in ROLES:
            self.resolved(role)

    # ---- loading, overriding, saving -------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> "AgentConfig":
        data: dict[str, Any] = {}
        if path is not None:
            data = _read_toml(Path(path))
            try:  # the file is checked on its own: a flag overriding a bad value does not hide it
                cls.model_validate(data)
            except ValidationError as exc:
                raise ConfigError(f"invalid config file {path}: {validation_summary(exc)}") from None
        for key, value in overrides.items():
            if value is not None:
                _set_dotted(data, key, value)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"invalid config: {validation_summary(exc)}") from None

    def with_absolute_paths(self) -> "AgentConfig":
        """A copy whose component settings name existing files and folders by absolute path.

        Settings are read relative to the working directory; the run folder's config.toml must not
        be, so that `resume` works from anywhere. Only path-like settings (model, checkpoint,
        samples, ...) that name something that exists are changed: hub ids stay as they are.
        """
        updates = {}
        for role in _ROLE_FIELDS:
            spec = self.spec(role)
            if spec is not None:
                settings = _absolute_paths(spec.settings())
                updates[role] = ComponentSpec(kind=spec.kind, **settings)
        return self.model_copy(update=updates)

    def to_toml(self) -> str:
        import tomli_w

        return tomli_w.dumps(self.model_dump(mode="json", exclude_none=True))


_PATH_KEYS = {"model", "checkpoint", "samples", "backbone", "codec", "encoder", "path", "folder", "file"}


def _absolute_paths(value: Any, key: str = "", base: Path | None = None) -> Any:
    """Path-like settings that name something that exists, made absolute: looked up beside the
    config file (``base``) first, then in the working directory."""
    if isinstance(value, dict):
        return {k: _absolute_paths(v, k, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_absolute_paths(v, key, base) for v in value]
    path_like = key in _PATH_KEYS or key.endswith(("_path", "_dir", "_file", "_folder"))
    if path_like and isinstance(value, str) and value.strip() and not Path(value).expanduser().is_absolute():
        for path in ([base / value] if base is not None else []) + [Path(value)]:
            if path.exists():
                return str(path.resolve())
    return value


def _read_toml(p: Path) -> dict[str, Any]:
    """The config file's tables, checked for shape before any value is read."""
    if p.is_dir():
        raise ConfigError(f"--config {p} is a folder; give a TOML file, e.g. configs/ualm.toml")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
    for key in ("loop", "evaluator", *_ROLE_FIELDS):
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            example = {"loop": "reflect = 3", "evaluator": 'listener = { kind = "yamnet" }'}.get(key, 'kind = "..."')
            raise ConfigError(
                f"config file {p}: {key} = {_toml_value(value)} must be a table, e.g. [{key}] with {example} under it"
            )
        if key in _ROLE_FIELDS and isinstance(value, dict):
            default = AgentConfig.model_fields[key].default
            # A section without a kind sets the default backend's settings ([listener] threshold = 0.3).
            if "kind" not in value and default is not None:
                value = {"kind": default.kind, **value}
            data[key] = _absolute_paths(value, base=p.parent)
    return data


def _toml_value(value: Any) -> str:
    import tomli_w

    try:
        return tomli_w.dumps({"v": value}).strip().removeprefix("v = ")[:60]
    except (TypeError, ValueError):
        return repr(value)[:60]


def _as_value_error(check, value):
    # pydantic reports ValueErrors as validation errors; the check functions raise UsageError.
    try:
        return check(value)
    except UsageError as exc:
        raise ValueError(str(exc)) from None


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """``loop.reflect=3`` and ``listener=yamnet`` (a bare role name sets its kind)."""
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    last = parts[-1]
    if last in _ROLE_FIELDS and isinstance(value, str):
        current = node.get(last)
        # Switching backend drops the old backend's settings.
        if not isinstance(current, dict) or current.get("kind") != value:
            node[last] = {"kind": value}
    else:
        node[last] = value


_ROLE_FIELDS = {"planner", "generator", "codec", "vae", "listener", "captioner", "critic", "reviser"}
