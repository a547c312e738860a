"""SQLite checkpoints that store the pydantic state types safely."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ualm_agent import schema

_SCHEMA_TYPES = (
    "RichCaption", "LayoutEvent", "Question", "AudioRef", "HeardEvent", "SpeechSegment",
    "Observation", "Issue", "Critique", "Round", "RunResult",
)


def serializer():
    """A serializer that revives our pydantic types (and nothing else unknown)."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=[(schema.__name__, name) for name in _SCHEMA_TYPES])


def sqlite_saver(path: str | Path):
    from langgraph.checkpoint.sqlite import SqliteSaver

    # Created here as a plain open() would, not with SQLite's fixed 0644: its -wal and -shm files copy
    # the database's mode, so the checkpoint's files match every other file of the run folder.
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o666))
    conn = sqlite3.connect(str(path), check_same_thread=False)
    # WAL without fsync per commit: a killed process loses nothing (the OS has the
    # pages); only a power cut could, and then only the last steps.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(conn, serde=serializer())


def memory_saver():
    from langgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver(serde=serializer())
