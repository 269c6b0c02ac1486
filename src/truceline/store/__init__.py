"""Stores: the Store protocol, the in-memory test double and the embedded SQLite store.

``open_store(location)`` picks the implementation from a path or URL.
"""

from __future__ import annotations

import os
from pathlib import Path

from truceline.model import Clock, UsageError
from truceline.store._records import register_record_type
from truceline.store.base import (
    LOG_NAMES,
    BatchResult,
    Conflict,
    LedgerVerification,
    LogName,
    ObservationQuery,
    PreparedObservation,
    SourceActivity,
    Store,
    StoredObservation,
    StoredRecord,
)
from truceline.store.errors import StoreFull
from truceline.store.memory import MemoryStore
from truceline.store.rows import ObservationRow, observation_row
from truceline.store.sqlite import SQLiteStore


def open_store(location: str | os.PathLike[str], *, clock: Clock | None = None) -> Store:
    """Open the store at ``location``: ``:memory:``, a SQLite file path, ``sqlite:///path`` or a
    ``postgresql://`` URL (the server store; its ledger key file is ``$TRUCELINE_LEDGER_KEY``)."""
    text = os.fspath(location)
    if text == ":memory:":
        return MemoryStore(clock=clock)
    if text.startswith(("postgresql://", "postgres://")):
        from truceline.store.postgres import PostgresStore

        return PostgresStore(text, clock=clock)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise UsageError(f"unsupported database URL scheme {scheme!r}: use a SQLite path or postgresql://…")
    path = Path(text)
    if path.exists() and path.is_dir():
        raise UsageError(f"{path} is a directory, not a database file")
    if not path.parent.exists():
        raise UsageError(f"{path.parent} does not exist; create it or choose another --db path")
    return SQLiteStore(path, clock=clock)


__all__ = [
    "LOG_NAMES",
    "BatchResult",
    "Conflict",
    "LedgerVerification",
    "LogName",
    "MemoryStore",
    "ObservationQuery",
    "ObservationRow",
    "PreparedObservation",
    "SQLiteStore",
    "SourceActivity",
    "Store",
    "StoreFull",
    "StoredObservation",
    "StoredRecord",
    "observation_row",
    "open_store",
    "register_record_type",
]
