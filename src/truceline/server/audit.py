"""A durable audit log: every gated read and write of the server, in a SQLite file.

It implements :class:`truceline.policy.AuditLog`, so the policy's gates write to it directly. Each
event is committed before the gate returns (WAL, ``synchronous=NORMAL``: an event survives a
process crash; a power cut may lose the last few, which the store's own ledger does not).

Who may read it: an administrator, and only the events of its own participant. The log of one
nation's reads would tell another nation what it is interested in, so no role reads across
participants; operators reach the whole file through the database host, as for the store.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from truceline.model import UsageError
from truceline.policy import AuditEvent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    n INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    participant TEXT NOT NULL,
    subject TEXT,
    action TEXT NOT NULL,
    ref TEXT NOT NULL,
    allowed INTEGER NOT NULL,
    returned INTEGER
);
CREATE INDEX IF NOT EXISTS audit_by_participant ON audit (participant, n);
"""


class SQLiteAuditLog:
    """Audit events appended to a SQLite file (``:memory:`` for tests)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        if self.path != ":memory:" and not Path(self.path).parent.exists():
            raise UsageError(f"{Path(self.path).parent} does not exist; create it or choose another audit file")
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def record(self, event: AuditEvent) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO audit (time, participant, subject, action, ref, allowed, returned) VALUES (?,?,?,?,?,?,?)",
                (
                    event.time.isoformat(),
                    event.participant,
                    event.subject,
                    event.action,
                    event.ref,
                    int(event.allowed),
                    event.returned,
                ),
            )

    def events(self, participant: str, *, after: int = 0, limit: int = 100) -> list[tuple[int, AuditEvent]]:
        """The events of one participant after position ``after``, oldest first, with their positions."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT n, time, participant, subject, action, ref, allowed, returned FROM audit "
                "WHERE participant = ? AND n > ? ORDER BY n LIMIT ?",
                (participant, after, limit),
            ).fetchall()
        return [
            (int(n), AuditEvent(datetime.fromisoformat(t), p, s, a, r, bool(ok), ret))
            for n, t, p, s, a, r, ok, ret in rows
        ]

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM audit").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
