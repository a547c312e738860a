"""Atomic file writes with ordinary permissions.

A file appears whole or not at all (written beside its target, then renamed over it), and gets the
permissions a plain ``open()`` would give: every file of a run folder ends up alike.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp makes the file private; give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def umask() -> int:
    """The process umask, read without changing it where the system allows (Linux's /proc):
    setting it to read it would leave, for a moment, another thread's new files unprotected."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)  # the fallback sets a strict mask for that moment, never an open one
    os.umask(mask)
    return mask
