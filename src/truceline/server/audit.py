"""A durable audit log: every gated read and write of the server, in a SQLite file.

It implements :class:`truceline.policy.AuditLog`, so the policy's gates write to it directly. Each
event is committed before the gate returns (WAL, ``synchronous=NORMAL``: an event survives a
process crash; a power cut may lose the last few, which the store's own ledger does not).

Tamper-evident: each row carries ``chain = SHA-256(previous chain ‖ the row's canonical bytes)``,
so an edited, deleted or reordered event breaks every later link; :meth:`SQLiteAuditLog.verify`
names the first bad row. (It proves the file was not edited in place; an operator who rewrites the
whole chain from the altered row on is caught only by comparing with a copy or a published head.)

Who may read it: an administrator, and only the events of its own participant. The log of one
nation's reads would tell another nation what it is interested in, so no role reads across
participants; operators reach the whole file through the database host, as for the store.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
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
    returned INTEGER,
    chain BLOB
);
CREATE INDEX IF NOT EXISTS audit_by_participant ON audit (participant, n);
"""


_FIELDS = "time, participant, subject, action, ref, allowed, returned"
GENESIS = b"\x00" * 32


def _link(previous: bytes, n: int, fields: Sequence[object]) -> bytes:
    """The chain value of row ``n``: its position and fields, unambiguously encoded, after ``previous``."""
    body = "\x1f".join("\x00" if f is None else str(f) for f in (n, *fields)).encode()
    return hashlib.sha256(previous + body).digest()


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
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(audit)")}
        if "chain" not in columns:  # a file from before the chain: link its rows once, in order
            self._conn.execute("ALTER TABLE audit ADD COLUMN chain BLOB")
            self._rechain()
        last = self._conn.execute("SELECT chain FROM audit ORDER BY n DESC LIMIT 1").fetchone()
        self._last: bytes = bytes(last[0]) if last and last[0] is not None else GENESIS

    def _rechain(self) -> None:
        link = GENESIS
        rows = self._conn.execute(f"SELECT n, {_FIELDS} FROM audit ORDER BY n").fetchall()
        for n, *fields in rows:
            link = _link(link, n, fields)
            self._conn.execute("UPDATE audit SET chain = ? WHERE n = ?", (link, n))

    def record(self, event: AuditEvent) -> None:
        self.record_many((event,))

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` in one transaction, each chained to the one before."""
        if not events:
            return
        rows = [
            [e.time.isoformat(), e.participant, e.subject, e.action, e.ref, int(e.allowed), e.returned] for e in events
        ]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute("SELECT coalesce(max(n), 0) FROM audit").fetchone()
                n, link, linked = int(row[0]), self._last, []
                for fields in rows:
                    n += 1
                    link = _link(link, n, fields)
                    linked.append((n, *fields, link))
                self._conn.executemany(f"INSERT INTO audit (n, {_FIELDS}, chain) VALUES (?,?,?,?,?,?,?,?,?)", linked)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._last = link

    def verify(self) -> int | None:
        """The position of the first event whose link does not follow from the ones before; None if all do."""
        with self._lock:
            rows = self._conn.execute(f"SELECT n, {_FIELDS}, chain FROM audit ORDER BY n").fetchall()
        link, expected_n = GENESIS, 1
        for n, *fields, chain in rows:
            link = _link(link, expected_n, fields)
            if n != expected_n or chain is None or bytes(chain) != link:
                return int(n) if n == expected_n else expected_n
            expected_n += 1
        return None

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
