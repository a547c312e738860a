"""Errors the CLI turns into one-line messages and exit codes."""


class UalmAgentError(Exception):
    """A runtime failure with a message a person can act on (exit code 1)."""

    exit_code = 1


class UsageError(UalmAgentError):
    """Bad input from the user (exit code 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """An invalid configuration or component name (exit code 2)."""


class ModelUnavailableError(UalmAgentError):
    """A backend's weights or dependency are missing; the message says how to supply them."""


def validation_summary(exc, *, root: str = "") -> str:
    """A pydantic ValidationError as one line: ``where: what`` per error, joined by "; ".

    An error at the top level is named ``root`` (or given bare when ``root`` is empty).
    """
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err["loc"]) or root
        what = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {what}" if where else what)
    return "; ".join(parts)


class AudioInputError(UsageError):
    """An audio file that is missing, empty, corrupt or not audio (exit code 2)."""
