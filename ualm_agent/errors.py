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


class AudioInputError(UsageError):
    """An audio file that is missing, empty, corrupt or not audio (exit code 2)."""
