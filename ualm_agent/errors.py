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
        given = err.get("input")
        # Name the bad value when it is a plain one (a value error's own message usually already does).
        if isinstance(given, (str, int, float, bool)) and not err["type"].startswith("value_error") and len(repr(given)) <= 80:
            what = f"{what}, got {given!r}"
        parts.append(f"{where}: {what}" if where else what)
    return "; ".join(parts)


def no_sound_event(prompt: str, why: str = "") -> UsageError:
    """The error for a prompt in which the planner finds nothing to play (exit code 2)."""
    shown = " ".join(prompt.split())
    if len(shown) > 60:
        shown = shown[:57].rstrip() + "..."
    reason = f" ({why})" if why else ""
    return UsageError(f'no sound event found in the prompt "{shown}"{reason}; describe a sound, e.g. "a dog barks three times"')


class AudioInputError(UsageError):
    """An audio file that is missing, empty, corrupt or not audio (exit code 2)."""


class DiskFullError(UalmAgentError):
    """The disk filled up while writing (exit code 1); the message says where and how to go on."""


def disk_full(exc: BaseException) -> bool:
    """True for a write that failed because the disk (or the user's quota) is full."""
    import errno
    import sqlite3

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower()


def no_space_message(exc: BaseException, folder) -> str:
    """'no space left on DEVICE (FOLDER)': the mount point that filled up and the folder being written."""
    import os

    filename = getattr(exc, "filename", None)
    where = os.path.dirname(os.path.abspath(filename)) if filename else os.path.abspath(folder)
    mount = where
    while not os.path.ismount(mount) and os.path.dirname(mount) != mount:
        mount = os.path.dirname(mount)
    return f"no space left on {mount} (writing in {where})"


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first non-empty line of an exception's message (at most ``limit`` characters), for one-line errors."""
    line = next((text.strip() for text in str(exc).splitlines() if text.strip()), "")
    return line[:limit] if line else type(exc).__name__
