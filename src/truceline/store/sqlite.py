"""The embedded default store on SQLite.

Why it is built this way:

* **WAL, one writer, ``synchronous=FULL``** — a batch is acknowledged only when its commit has
  reached the disk, so an acknowledged report survives a crash or power loss; readers do not
  block the writer.
* **A permanent UNIQUE key** (participant, source, key) — re-sending a report changes nothing,
  whenever it is re-sent (a broker's dedup window would forget).
* **One transaction per batch** holds the rows, the R*Tree entries, the ledger nodes, the
  frontier and the signed tree head: after a crash either all of a batch is there or none of it.
* **Fast path first** — a batch is inserted with ``INSERT OR IGNORE``; only when SQLite reports
  fewer rows than sent (a re-send or a conflict) is the batch rolled back to a savepoint and
  replayed row by row to tell duplicates from conflicts.
* **No ledger state held between writes** — each write reads the next sequence number and the
  frontier inside its own transaction, and checks the frontier against the latest signed tree
  head before extending it. An error at any point (even after ``COMMIT`` reached the disk) cannot
  leave the process out of step with the file, and the store never signs a head over a frontier
  that was changed behind its back.
* **Clean write errors** — a full disk or an I/O error during a batch is a :class:`StoreError`
  naming the database, the batch and the cause, and saying whether the batch is in (it is all or
  nothing either way).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from truceline.ledger import (
    Frontier,
    LedgerKey,
    SignedTreeHead,
    audit_log,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)
from truceline.model import Clock, LedgerError, Record, StoreCorrupt, StoreError, SystemClock
from truceline.store._checks import first_problem, frontier_value, ledger_state, read_frontier, stray_node
from truceline.store._common import (
    HOUR_S,
    from_epoch,
    hours_overlapping,
    in_bbox,
    parse_observation,
    record_id,
    record_type,
    same_report,
    serialise,
)
from truceline.store._ledgerlog import LedgerLog
from truceline.store._records import parse_record
from truceline.store._spatial import buckets_of, pack, unpack
from truceline.store._sqlite_schema import migrate
from truceline.store.base import (
    BatchResult,
    Conflict,
    LedgerVerification,
    LogName,
    ObservationQuery,
    PreparedObservation,
    SourceActivity,
    StoredObservation,
    StoredRecord,
)
from truceline.store.errors import StoreFull
from truceline.store.rows import BODY, KEY, LEAF_HASH, PARTICIPANT, SOURCE, Row, observation_row

PAGE_SIZE = 8192
WAL_AUTOCHECKPOINT_PAGES = 8192  # 64 MiB of WAL between checkpoints
_CONFLICT_REASON = "this participant, source and key already identify a different report"
_INSERT_OBSERVATION = (
    "INSERT OR IGNORE INTO observations "
    "(seq, participant, source, key, kind, time, lat, lon, tlp, sharing_group, received, body, leaf_hash) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _numbered(first: int, received: float, rows: Sequence[Row]) -> Iterator[tuple[Any, ...]]:
    for seq, r in enumerate(rows, start=first):
        yield (seq, *r[:BODY], received, r[BODY], r[LEAF_HASH])


_KEYS_PER_QUERY = 300  # three parameters a key: well under SQLite's limit of 32,766 a statement


class _NodeReader:
    """Serves leaf and stored node hashes of one log to the ledger's proof functions."""

    def __init__(self, conn: sqlite3.Connection, log: str) -> None:
        self._conn = conn
        self._log = log
        self._table = "observations" if log == "observations" else "records"

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        rows = self._conn.execute(
            f"SELECT leaf_hash FROM {self._table} WHERE seq > ? AND seq <= ? ORDER BY seq", (start, end)
        ).fetchall()
        return [bytes(r[0]) for r in rows]

    def node(self, level: int, index: int) -> bytes | None:
        row = self._conn.execute(
            "SELECT hash FROM ledger_nodes WHERE log = ? AND level = ? AND idx = ?", (self._log, level, index)
        ).fetchone()
        return None if row is None else bytes(row[0])


class SQLiteStore:
    """The embedded store. ``path`` is the database file; the ledger key lives beside it.

    The signing key is kept outside the database (``<db>.key``, mode 0600) so that whoever can
    rewrite the database cannot also forge the signed tree heads.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock | None = None,
        key: LedgerKey | None = None,
        key_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self._clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._local = threading.local()
        try:
            self._conn = self._connect()
            migrate(self._conn)
        except sqlite3.OperationalError as exc:  # cannot open, full, locked, I/O: not damage
            raise StoreError(f"{self.path}: cannot open the database: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreCorrupt(f"{self.path}: cannot open the database: {exc}") from exc
        if key is None:
            key = LedgerKey.load_or_create(Path(key_path) if key_path else self.path.with_name(self.path.name + ".key"))
        self._key = key
        for name in ("observations", "records"):
            self._read_frontier(self._conn, name)  # an unreadable frontier refuses the store at once

    # --- connections ----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60.0)
        # Larger pages and rarer checkpoints: a report is ~500 bytes, and each checkpoint costs
        # an extra fsync of the main file. page_size only takes effect on a new database.
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")
        return conn

    def _reader(self) -> sqlite3.Connection:
        # Each thread reads through its own connection so that reads run beside the writer.
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = self._conn.execute(sql, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _read_frontier(self, conn: sqlite3.Connection, log: str) -> Frontier:
        """The stored right edge of ``log`` (``meta`` row ``frontier:<log>``), or StoreCorrupt."""
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"frontier:{log}",)).fetchone()
        return read_frontier(str(self.path), log, None if row is None else row[0])

    def _ledger_state(self, log: str) -> tuple[int, LedgerLog]:
        """Inside the write transaction: the next sequence number and the log to extend.

        Read from the file each time, never kept between writes, and checked before use (see
        :func:`~truceline.store._checks.ledger_state`).
        """
        conn = self._conn
        table = "observations" if log == "observations" else "records"
        size = self._scalar(f"SELECT COALESCE(MAX(seq), 0) FROM {table}")
        frontier = self._read_frontier(conn, log)
        head = conn.execute(
            "SELECT tree_size, body FROM tree_heads WHERE log = ? ORDER BY tree_size DESC LIMIT 1", (log,)
        ).fetchone()
        return size + 1, ledger_state(str(self.path), log, size, frontier, head, self._key)

    def _write_error(self, exc: sqlite3.Error, table: str, first: int, count: int, noun: str) -> StoreError:
        """A clean error for a write that failed: the database, the batch, the cause, and whether it is in."""
        batch = f"a batch of {count:,} {noun}" + (f" (from #{first:,})" if first else "")
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary result code
        text = str(exc)
        full = code == sqlite3.SQLITE_FULL or "full" in text
        kind: type[StoreError] = StoreFull if full else StoreError
        if full:
            cause, advice = f"disk full while writing {batch} ({text})", "free space and run it again"
        elif code == sqlite3.SQLITE_IOERR or "I/O" in text:
            cause = f"disk I/O error while writing {batch} ({text})"
            advice = "check the disk and its free space, then run it again"
        else:
            cause, advice = f"cannot write {batch} ({text})", "run it again"
        try:  # all or nothing: the batch is in if its first sequence number is
            stored = first > 0 and self._reader().execute(f"SELECT 1 FROM {table} WHERE seq = ?", (first,)).fetchone()
        except sqlite3.Error:
            return kind(
                f"{self.path}: {cause}; whether the batch is in could not be read back (it is all or nothing); "
                f"{advice}: sending it again stores nothing twice"
            )
        if stored:
            return StoreError(
                f"{self.path}: {cause}, reported after the batch was committed: it is stored whole; "
                "sending it again stores nothing twice"
            )
        return kind(f"{self.path}: {cause}; nothing half-written (the batch is not stored); {advice}")

    # --- observations -------------------------------------------------------------------
    def add_observations(self, batch: Sequence[PreparedObservation]) -> BatchResult:
        return self.add_rows([observation_row(item.observation, item.body) for item in batch])

    def add_rows(self, rows: Sequence[Row]) -> BatchResult:
        if not rows:
            return BatchResult((), 0, 0, (), self.tree_head())
        with self._lock:
            now = self._clock.now()  # the batch's receipt time is the time its tree head is signed
            received = now.timestamp()
            conn = self._conn
            first = 0
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    first, log = self._ledger_state("observations")
                    cur = conn.executemany(_INSERT_OBSERVATION, _numbered(first, received, rows))
                    if cur.rowcount == len(rows):
                        seqs: list[int | None] = list(range(first, first + len(rows)))
                        new_rows: Sequence[Row] = rows
                        duplicates, conflicts = 0, list[Conflict]()
                    else:
                        # Some keys were already taken: undo and replay one by one.
                        conn.execute("ROLLBACK")
                        conn.execute("BEGIN IMMEDIATE")
                        first, log = self._ledger_state("observations")
                        seqs, new_rows, duplicates, conflicts = self._replay(first, rows)
                        if new_rows:
                            conn.executemany(_INSERT_OBSERVATION, _numbered(first, received, new_rows))
                    head = None
                    if new_rows:
                        self._index_spatially(first, new_rows)
                        head = self._extend_log(log, [r[LEAF_HASH] for r in new_rows], now)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._write_error(exc, "observations", first, len(rows), "observations") from exc
            return BatchResult(tuple(seqs), len(new_rows), duplicates, tuple(conflicts), head or self.tree_head())

    def _index_spatially(self, first: int, rows: Sequence[Row]) -> None:
        buckets = buckets_of(first, rows)
        if not buckets:
            return
        start = self._scalar("SELECT COALESCE(MAX(id), 0) FROM spatial_buckets") + 1
        ids = range(start, start + len(buckets))
        self._conn.executemany(
            "INSERT INTO spatial_buckets (id, seqs) VALUES (?, ?)", zip(ids, (pack(b[0]) for b in buckets), strict=True)
        )
        self._conn.executemany(
            "INSERT INTO observations_rtree (id, min_lon, max_lon, min_lat, max_lat, min_time, max_time) "
            "VALUES (?,?,?,?,?,?,?)",
            ((i, *b[1:]) for i, b in zip(ids, buckets, strict=True)),
        )

    def _replay(self, first: int, rows: Sequence[Row]) -> tuple[list[int | None], list[Row], int, list[Conflict]]:
        seqs: list[int | None] = []
        new_rows: list[Row] = []
        conflicts: list[Conflict] = []
        duplicates = 0
        in_batch: dict[tuple[str, str, str], tuple[int, bytes]] = {}
        next_seq = first
        for i, row in enumerate(rows):
            k = (row[PARTICIPANT], row[SOURCE], row[KEY])
            found: tuple[int, bytes] | None = in_batch.get(k)
            if found is None:
                hit = self._conn.execute(
                    "SELECT seq, body FROM observations WHERE participant = ? AND source = ? AND key = ?", k
                ).fetchone()
                if hit is not None:
                    found = (int(hit[0]), bytes(hit[1]))
            if found is not None:
                if same_report(found[1], parse_observation(row[BODY]), row[BODY]):
                    duplicates += 1
                    seqs.append(found[0])
                else:
                    conflicts.append(Conflict(i, found[0], _CONFLICT_REASON))
                    seqs.append(None)
                continue
            new_rows.append(row)
            in_batch[k] = (next_seq, row[BODY])
            seqs.append(next_seq)
            next_seq += 1
        return seqs, new_rows, duplicates, conflicts

    def _extend_log(self, log: LedgerLog, leaves: list[bytes], now: datetime) -> SignedTreeHead:
        """Inside the open transaction: append leaves, persist nodes, frontier and a signed head."""
        conn = self._conn
        nodes = log.append(leaves)
        if nodes:
            conn.executemany(
                "INSERT INTO ledger_nodes (log, level, idx, hash) VALUES (?,?,?,?)",
                ((log.name, *node) for node in nodes),
            )
        head = log.sign(now)
        conn.execute(
            "INSERT OR REPLACE INTO tree_heads (log, tree_size, body) VALUES (?,?,?)",
            (log.name, head.tree_size, head.to_json()),
        )
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (f"frontier:{log.name}", frontier_value(log.frontier)),
        )
        return head

    def _stored_observation(self, row: Sequence[Any]) -> StoredObservation:
        seq, received, body, lh = row
        try:
            obs = parse_observation(bytes(body))
        except ValueError as exc:
            raise StoreCorrupt(f"observation #{seq}: stored body no longer parses: {exc}") from exc
        return StoredObservation(int(seq), from_epoch(received), obs, bytes(lh))

    def get_observation(self, participant: str, source: str, key: str) -> StoredObservation | None:
        row = (
            self._reader()
            .execute(
                "SELECT seq, received, body, leaf_hash FROM observations "
                "WHERE participant = ? AND source = ? AND key = ?",
                (participant, source, key),
            )
            .fetchone()
        )
        return None if row is None else self._stored_observation(row)

    def get_observations(self, keys: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], StoredObservation]:
        unique = list(dict.fromkeys(keys))
        out: dict[tuple[str, str, str], StoredObservation] = {}
        reader = self._reader()
        for i in range(0, len(unique), _KEYS_PER_QUERY):
            chunk = unique[i : i + _KEYS_PER_QUERY]
            # Row values against the UNIQUE (participant, source, key) index: one read per chunk.
            rows = reader.execute(
                "SELECT participant, source, key, seq, received, body, leaf_hash FROM observations "
                f"WHERE (participant, source, key) IN (VALUES {','.join(['(?,?,?)'] * len(chunk))})",
                [part for k in chunk for part in k],
            ).fetchall()
            for participant, source, key, *row in rows:
                out[(participant, source, key)] = self._stored_observation(row)
        return out

    @staticmethod
    def _where(query: ObservationQuery) -> tuple[str, list[Any]]:
        clauses = ["o.seq > ?"]
        params: list[Any] = [query.after_seq]
        if query.kinds is not None:
            clauses.append(f"o.kind IN ({','.join('?' * len(query.kinds))})")
            params.extend(query.kinds)
        if query.participants is not None:
            clauses.append(f"o.participant IN ({','.join('?' * len(query.participants))})")
            params.extend(query.participants)
        if query.start is not None:
            clauses.append("o.time >= ?")
            params.append(query.start.timestamp())
        if query.end is not None:
            clauses.append("o.time < ?")
            params.append(query.end.timestamp())
        if query.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = query.bbox
            clauses.append("o.lon >= ? AND o.lon <= ? AND o.lat >= ? AND o.lat <= ?")
            params.extend([min_lon, max_lon, min_lat, max_lat])
        return " WHERE " + " AND ".join(clauses), params

    def _bbox_candidates(self, conn: sqlite3.Connection, query: ObservationQuery) -> list[int]:
        """Sequence numbers the R*Tree says may lie in the query's box and time window."""
        assert query.bbox is not None
        min_lon, min_lat, max_lon, max_lat = query.bbox
        t0 = query.start.timestamp() if query.start is not None else -1e18
        t1 = query.end.timestamp() if query.end is not None else 1e18
        seqs: set[int] = set()
        for (blob,) in conn.execute(
            "SELECT b.seqs FROM observations_rtree r JOIN spatial_buckets b ON b.id = r.id "
            "WHERE r.max_lon >= ? AND r.min_lon <= ? AND r.max_lat >= ? AND r.min_lat <= ? "
            "AND r.max_time >= ? AND r.min_time <= ?",
            (min_lon, max_lon, min_lat, max_lat, t0, t1),
        ):
            seqs.update(s for s in unpack(bytes(blob)) if s > query.after_seq)
        return sorted(seqs)

    def observations(self, query: ObservationQuery | None = None) -> Iterator[StoredObservation]:
        q = query or ObservationQuery()
        conn = self._reader()
        where, params = self._where(q)
        columns = "SELECT o.seq, o.received, o.body, o.leaf_hash FROM observations o"
        if q.bbox is None:
            sql = f"{columns}{where} ORDER BY o.seq"
            if q.limit is not None:
                sql += " LIMIT ?"
                params.append(q.limit)
            cur = conn.execute(sql, params)
            while True:
                chunk = cur.fetchmany(1000)
                if not chunk:
                    return
                for row in chunk:
                    yield self._stored_observation(row)
        # Spatial: candidates from the R*Tree, refined on the exact columns, in seq order.
        candidates = self._bbox_candidates(conn, q)
        n = 0
        for i in range(0, len(candidates), 500):
            chunk_seqs = candidates[i : i + 500]
            sql = f"{columns}{where} AND o.seq IN ({','.join('?' * len(chunk_seqs))}) ORDER BY o.seq"
            for row in conn.execute(sql, [*params, *chunk_seqs]).fetchall():
                if q.limit is not None and n >= q.limit:
                    return
                n += 1
                yield self._stored_observation(row)

    def count_observations(self, query: ObservationQuery | None = None) -> int:
        q = query or ObservationQuery()
        if q.bbox is not None:
            return sum(1 for _ in self.observations(q))
        where, params = self._where(q)
        row = self._reader().execute(f"SELECT COUNT(*) FROM observations o{where}", params).fetchone()
        return int(row[0])

    def max_seq(self) -> int:
        row = self._reader().execute("SELECT COALESCE(MAX(seq), 0) FROM observations").fetchone()
        return int(row[0])

    def observation_fields(self, query: ObservationQuery, fields: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        # ``->`` gives each field's JSON text (NULL when absent), decoded here: one C parse per row.
        values = "".join(", CAST(o.body AS TEXT) -> ?" for _ in fields)
        select = f"SELECT o.seq, o.participant, o.source, o.key, o.time, o.lon, o.lat{values} FROM observations o"
        paths = ["$." + name for name in fields]
        if query.bbox is not None:  # the R*Tree finds the rows; the same columns are read for them
            seqs = [s.seq for s in self.observations(query)]
            chunks = [seqs[i : i + 500] for i in range(0, len(seqs), 500)]
            statements = [
                (f"{select} WHERE o.seq IN ({','.join('?' * len(c))}) ORDER BY o.seq", [*paths, *c]) for c in chunks
            ]
        else:
            where, params = self._where(query)
            sql = f"{select}{where} ORDER BY o.seq"
            params = [*paths, *params]
            if query.limit is not None:
                sql += " LIMIT ?"
                params.append(query.limit)
            statements = [(sql, params)]
        loads = json.loads
        for sql, params in statements:
            cur = self._reader().execute(sql, params)
            while True:
                chunk = cur.fetchmany(2000)
                if not chunk:
                    break
                for row in chunk:
                    yield (*row[:7], *(None if v is None else loads(v) for v in row[7:]))

    def kind_counts(self, after_seq: int, upto_seq: int) -> dict[str, int]:
        rows = (
            self._reader()
            .execute(
                "SELECT kind, COUNT(*) FROM observations WHERE seq > ? AND seq <= ? GROUP BY kind",
                (after_seq, upto_seq),
            )
            .fetchall()
        )
        return {str(kind): int(n) for kind, n in rows}

    def source_hours(
        self, kind: str, start: datetime, end: datetime, bbox: tuple[float, float, float, float] | None = None
    ) -> list[SourceActivity]:
        # The time index narrows to the hours (with a second to spare either side); the hour
        # itself is computed as _common.hour_of does (positive epochs: the cast is the floor).
        lo, hi = hours_overlapping(start, end)
        if hi <= lo:
            return []
        conn = self._reader()
        groups = conn.execute(
            "SELECT participant, source, MIN(seq), MIN(time), MAX(time), COUNT(*) FROM observations "
            "WHERE kind = ? AND time >= ? AND time < ? "
            "AND CAST(time / 3600.0 AS INTEGER) >= ? AND CAST(time / 3600.0 AS INTEGER) < ? "
            "GROUP BY participant, source ORDER BY participant, source",
            (kind, lo * HOUR_S - 1.0, hi * HOUR_S + 1.0, lo, hi),
        ).fetchall()
        where_first = self._places([int(g[2]) for g in groups])
        out = [
            SourceActivity(p, src, *where_first[int(first)], from_epoch(t0), from_epoch(t1), int(n))
            for p, src, first, t0, t1, n in groups
        ]
        return [a for a in out if in_bbox(a.lon, a.lat, bbox)]

    def _places(self, seqs: Sequence[int]) -> dict[int, tuple[float, float]]:
        """(lon, lat) of the observations ``seqs``, read in chunks of 500."""
        conn = self._reader()
        where: dict[int, tuple[float, float]] = {}
        for i in range(0, len(seqs), 500):
            chunk = list(seqs[i : i + 500])
            rows = conn.execute(
                f"SELECT seq, lon, lat FROM observations WHERE seq IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            where.update((int(seq), (float(lon), float(lat))) for seq, lon, lat in rows)
        return where

    def source_activity(self, query: ObservationQuery) -> list[SourceActivity]:
        # The box is compared on the columns (not through the R*Tree): the time index narrows first.
        where, params = self._where(replace(query, limit=None))
        conn = self._reader()
        groups = conn.execute(
            "SELECT o.participant, o.source, MIN(o.seq), MIN(o.time), MAX(o.time), COUNT(*) "
            f"FROM observations o{where} GROUP BY o.participant, o.source ORDER BY o.participant, o.source",
            params,
        ).fetchall()
        where_first = self._places([int(g[2]) for g in groups])
        return [
            SourceActivity(p, src, *where_first[int(first)], from_epoch(t0), from_epoch(t1), int(n))
            for p, src, first, t0, t1, n in groups
        ]

    # --- derived records ------------------------------------------------------------------
    def put_record(self, record: Record, *, type: str | None = None) -> StoredRecord:
        return self.put_records([record], type=type)[0]

    def put_records(self, records: Sequence[Record], *, type: str | None = None) -> list[StoredRecord]:
        prepared = [(record_type(r, type), record_id(r), serialise(r), r) for r in records]
        if not prepared:
            return []
        with self._lock:
            conn = self._conn
            now = self._clock.now()  # the records' creation time is the time their tree head is signed
            seq = first = 0
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    first, log = self._ledger_state("records")
                    latest: dict[tuple[str, str], int] = {}
                    rows, out = [], []
                    seq = first
                    for rtype, rid, body, record in prepared:
                        if (rtype, rid) not in latest:
                            latest[(rtype, rid)] = self._scalar(
                                "SELECT COALESCE(MAX(version), 0) FROM records WHERE type = ? AND id = ?", (rtype, rid)
                            )
                        latest[(rtype, rid)] += 1
                        lh = leaf_hash(body)
                        rows.append((seq, rtype, rid, latest[(rtype, rid)], now.timestamp(), body, lh))
                        out.append(StoredRecord(seq, rtype, rid, latest[(rtype, rid)], now, record, lh))
                        seq += 1
                    conn.executemany(
                        "INSERT INTO records (seq, type, id, version, created, body, leaf_hash) VALUES (?,?,?,?,?,?,?)",
                        rows,
                    )
                    self._extend_log(log, [r[6] for r in rows], now)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._write_error(exc, "records", first, len(prepared), "records") from exc
        return out

    def _stored_record(self, row: Sequence[Any]) -> StoredRecord:
        seq, rtype, rid, version, created, body, lh = row
        try:
            record = parse_record(rtype, bytes(body))
        except ValueError as exc:
            raise StoreCorrupt(f"{rtype} {rid} v{version}: stored body no longer parses: {exc}") from exc
        return StoredRecord(int(seq), rtype, rid, int(version), from_epoch(created), record, bytes(lh))

    _RECORD_COLUMNS = "seq, type, id, version, created, body, leaf_hash"

    def get_record(self, type: str, id: str, version: int | None = None) -> StoredRecord | None:
        if version is None:
            sql = f"SELECT {self._RECORD_COLUMNS} FROM records WHERE type = ? AND id = ? ORDER BY version DESC LIMIT 1"
            row = self._reader().execute(sql, (type, id)).fetchone()
        else:
            sql = f"SELECT {self._RECORD_COLUMNS} FROM records WHERE type = ? AND id = ? AND version = ?"
            row = self._reader().execute(sql, (type, id, version)).fetchone()
        return None if row is None else self._stored_record(row)

    def records(self, type: str, *, after_seq: int = 0) -> Iterator[StoredRecord]:
        # The latest version of each id with a version after after_seq, ordered by first appearance:
        # the changed ids from the (type, seq) index, each one's latest and first version from the
        # (type, id, version) one, so a follower's read costs what changed, not every version.
        # Both spelled so that SQLite, which has no statistics here, cannot pick another index:
        # MIN(seq) per id went through (type, seq), a scan of the type per id (a day's 68,202
        # incidents took minutes to read); without INDEXED BY the ids came from a scan of the type.
        sql = (
            f"SELECT {', '.join('r.' + c for c in self._RECORD_COLUMNS.split(', '))} FROM "
            "(SELECT c.id, (SELECT MAX(version) FROM records WHERE type = :t AND id = c.id) AS latest, "
            "(SELECT seq FROM records WHERE type = :t AND id = c.id ORDER BY version LIMIT 1) AS first "
            "FROM (SELECT DISTINCT id FROM records INDEXED BY records_type WHERE type = :t AND seq > :a) c) l "
            "JOIN records r ON r.type = :t AND r.id = l.id AND r.version = l.latest ORDER BY l.first"
        )
        for row in self._reader().execute(sql, {"t": type, "a": after_seq}).fetchall():
            yield self._stored_record(row)

    def record_history(self, type: str, id: str) -> list[StoredRecord]:
        sql = f"SELECT {self._RECORD_COLUMNS} FROM records WHERE type = ? AND id = ? ORDER BY version"
        return [self._stored_record(r) for r in self._reader().execute(sql, (type, id)).fetchall()]

    # --- cursors --------------------------------------------------------------------------
    def get_cursor(self, name: str) -> int:
        row = self._reader().execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_cursor(self, name: str, value: int) -> None:
        with self._lock:
            try:
                self._conn.execute("INSERT OR REPLACE INTO cursors (name, value) VALUES (?, ?)", (name, value))
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot save the cursor {name!r} = {value} ({exc})") from exc

    # --- ledger ---------------------------------------------------------------------------
    def tree_head(self, log: LogName = "observations") -> SignedTreeHead | None:
        row = (
            self._reader()
            .execute("SELECT body FROM tree_heads WHERE log = ? ORDER BY tree_size DESC LIMIT 1", (log,))
            .fetchone()
        )
        return None if row is None else SignedTreeHead.from_json(row[0])

    def tree_heads(self, log: LogName = "observations") -> list[SignedTreeHead]:
        rows = self._reader().execute("SELECT body FROM tree_heads WHERE log = ? ORDER BY tree_size", (log,)).fetchall()
        return [SignedTreeHead.from_json(r[0]) for r in rows]

    def inclusion_proof(self, log: LogName, seq: int, tree_size: int | None = None) -> list[bytes]:
        conn = self._reader()
        if tree_size is None:
            table = "observations" if log == "observations" else "records"
            tree_size = int(conn.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {table}").fetchone()[0])
        return inclusion_proof(_NodeReader(conn, log), seq - 1, tree_size)

    def consistency_proof(self, log: LogName, size1: int, size2: int) -> list[bytes]:
        return consistency_proof(_NodeReader(self._reader(), log), size1, size2)

    def verify_ledger(self) -> LedgerVerification:
        from truceline.store._sqlite_audit import (
            frontier_mismatch,
            head_rows,
            observation_items,
            record_items,
        )

        result = LedgerVerification()
        conn = self._connect()  # a private connection: a consistent snapshot for the whole audit
        try:
            conn.execute("BEGIN")
            try:
                problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall() if r[0] != "ok"]
            except sqlite3.DatabaseError as exc:
                problems = [str(exc)]
            if problems:
                result.integrity_errors.extend(problems[:20])
                return result
            for log, items in (("observations", observation_items), ("records", record_items)):
                rows: list[LedgerError] = []  # the first row that disagrees with its bytes, in log order
                ledger: list[LedgerError] = []  # tree-head rows and the frontier that disagree with the log
                heads = head_rows(conn, log, ledger)
                report = audit_log(
                    items(conn, rows),
                    heads,
                    self._key.public_key,
                    _NodeReader(conn, log),
                    batches_signed=True,  # every batch signs its head in its own transaction
                )
                frontier = frontier_mismatch(conn, log, report)
                if frontier is not None:
                    ledger.append(frontier)
                nodes = conn.execute("SELECT level, idx FROM ledger_nodes WHERE log = ? ORDER BY level, idx", (log,))
                stray = stray_node(nodes, report.records_checked)
                if stray is not None:
                    ledger.append(stray)
                result.reports[log] = first_problem(report, rows, ledger)
            return result
        except sqlite3.DatabaseError as exc:
            result.integrity_errors.append(str(exc))
            return result
        finally:
            conn.close()

    def check_open(self) -> None:
        if self._conn is None:  # pragma: no cover
            raise StoreError("store is closed")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()
                self._local.conn = None
