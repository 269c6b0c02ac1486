"""Row-level checks that feed the ledger audit of a SQLite store.

The Merkle audit proves the bytes; these checks make sure that everything else the store keeps
is what the bytes and the signed heads say:

* the columns the store *queries* — an observation's participant, source, key, kind, time,
  position, TLP and sharing group; a record's type, id and version — agree with the stored bytes
  (a record's version is its place among the versions of its id, in log order), and the spatial
  index holds each observation in a box that contains it;
* no row is missing between two others;
* the receipt and creation times are handed to the audit, which checks them against the signed
  time of each batch's tree head;
* the tree-head rows agree with the signed heads they hold (the ``tree_size`` column orders them;
  the ISO ``timestamp`` is for people but must say what ``timestamp_ms`` says);
* the stored frontier, which the next batch extends, is the one the records rebuild.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import numpy as np
from pydantic import ValidationError

from truceline.ledger import AuditReport, SignedTreeHead
from truceline.model import LedgerError
from truceline.store._checks import frontier_mismatch as _frontier_mismatch
from truceline.store._checks import head_rows as _head_rows
from truceline.store._checks import record_mismatch, seconds
from truceline.store._common import parse_observation

AuditItem = tuple[str, bytes, bytes, float]

_SLACK = 1e-3  # the R*Tree keeps 32-bit floats, rounded outward; allow for that


class _SpatialIndex:
    """Which bucket each observation is in, and each bucket's box, loaded once for the audit."""

    def __init__(self, conn: sqlite3.Connection, max_seq: int, problems: list[LedgerError]) -> None:
        self.bucket_of = np.full(max_seq + 1, -1, dtype=np.int64)
        boxes: list[tuple[float, float, float, float, float, float]] = []
        rows = conn.execute(
            "SELECT b.id, b.seqs, r.min_lon, r.max_lon, r.min_lat, r.max_lat, r.min_time, r.max_time "
            "FROM spatial_buckets b LEFT JOIN observations_rtree r ON r.id = b.id ORDER BY b.id"
        )
        for bucket_id, blob, *box in rows:
            if box[0] is None:
                problems.append(LedgerError(f"spatial bucket {bucket_id}", "has no R*Tree entry"))
                box = [np.nan] * 6
            seqs = np.frombuffer(bytes(blob), dtype="<i8")
            seqs = seqs[(seqs > 0) & (seqs <= max_seq)]
            if np.any(self.bucket_of[seqs] >= 0):
                problems.append(LedgerError(f"spatial bucket {bucket_id}", "lists an observation twice"))
            self.bucket_of[seqs] = len(boxes)
            boxes.append(tuple(box))
        self.boxes = np.array(boxes, dtype=float).reshape(-1, 6)

    def mismatch(self, seq: int, lon: float, lat: float, time: float) -> str | None:
        b = self.bucket_of[seq] if seq < len(self.bucket_of) else -1
        if b < 0:
            return "missing from the spatial index"
        min_lon, max_lon, min_lat, max_lat, min_t, max_t = self.boxes[b]
        eps_t = max(abs(time) * 1e-6, 1.0)
        if not (
            min_lon - _SLACK <= lon <= max_lon + _SLACK
            and min_lat - _SLACK <= lat <= max_lat + _SLACK
            and min_t - eps_t <= time <= max_t + eps_t
        ):
            return "spatial index entry does not contain the observation"
        return None


def observation_items(conn: sqlite3.Connection, problems: list[LedgerError]) -> Iterator[AuditItem]:
    """The observations log for :func:`~truceline.ledger.audit_log`; row problems go to ``problems``."""
    max_seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM observations").fetchone()[0]
    index = _SpatialIndex(conn, int(max_seq), problems)
    expected = 1
    cur = conn.execute(
        "SELECT seq, participant, source, key, kind, time, lat, lon, tlp, sharing_group, received, body, leaf_hash "
        "FROM observations ORDER BY seq"
    )
    for seq, participant, source, key, kind, time, lat, lon, tlp, group, received, body, lh in cur:
        name = f"observation #{seq} ({participant}/{source}/{key})"
        if seq != expected and not problems:
            missing = f"#{expected}" if seq == expected + 1 else f"#{expected}…#{seq - 1}"
            problems.append(LedgerError(f"observation {missing}", f"missing: the sequence jumps to #{seq}"))
        expected = seq + 1
        if not problems:
            reason = _column_mismatch(bytes(body), participant, source, key, kind, time, lat, lon, tlp, group)
            if reason is None and lat is not None and lon is not None:
                reason = index.mismatch(seq, lon, lat, time)
            if reason:
                problems.append(LedgerError(name, reason))
        yield name, bytes(body), bytes(lh), seconds(received)


def _column_mismatch(
    body: bytes,
    participant: str,
    source: str,
    key: str,
    kind: str,
    time: float,
    lat: float | None,
    lon: float | None,
    tlp: str,
    sharing_group: str | None,
) -> str | None:
    try:
        obs = parse_observation(body)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"][1:]) or "record"
        return f"stored bytes no longer parse as an observation ({where}: {err['msg']})"
    except ValueError as exc:
        return f"stored bytes no longer parse as an observation ({exc})"
    if (obs.participant, obs.source, obs.key, obs.kind) != (participant, source, key, kind):  # type: ignore[attr-defined]
        return "indexed identity columns disagree with the stored bytes"
    if abs(obs.time.timestamp() - time) > 1e-3:
        return "indexed time disagrees with the stored bytes"
    if obs.markings.tlp != tlp:
        return "indexed TLP marking disagrees with the stored bytes"
    if obs.markings.sharing_group != sharing_group:
        return "indexed sharing group disagrees with the stored bytes"
    loc = obs.location
    if loc is None:
        if lat is not None or lon is not None:
            return "indexed position present for a record without a location"
        return None
    if lat is None or lon is None or abs(loc.lat - lat) > 1e-9 or abs(loc.lon - lon) > 1e-9:
        return "indexed position disagrees with the stored bytes"
    return None


def record_items(conn: sqlite3.Connection, problems: list[LedgerError]) -> Iterator[AuditItem]:
    """The records log for :func:`~truceline.ledger.audit_log`; row problems go to ``problems``."""
    expected = 1
    # nth: the record's place among the versions of its (type, id) in log order, which its
    # version must be. The database sorts for it (spilling to disk if need be), not Python.
    for seq, rtype, rid, version, created, body, lh, nth in conn.execute(
        "SELECT seq, type, id, version, created, body, leaf_hash, "
        "ROW_NUMBER() OVER (PARTITION BY type, id ORDER BY seq) FROM records ORDER BY seq"
    ):
        name = f"record #{seq} ({rtype} {rid} v{version})"
        if seq != expected and not problems:
            missing = f"#{expected}" if seq == expected + 1 else f"#{expected}…#{seq - 1}"
            problems.append(LedgerError(f"record {missing}", f"missing: the sequence jumps to #{seq}"))
        expected = seq + 1
        if not problems:
            reason = record_mismatch(rtype, rid, version, nth, bytes(body))
            if reason:
                problems.append(LedgerError(name, reason))
        yield name, bytes(body), bytes(lh), seconds(created)


def head_rows(conn: sqlite3.Connection, log: str, problems: list[LedgerError]) -> list[SignedTreeHead]:
    """The signed tree heads of ``log``; a row at odds with the head it holds goes to ``problems``."""
    rows = conn.execute("SELECT tree_size, body FROM tree_heads WHERE log = ? ORDER BY tree_size", (log,))
    return _head_rows(rows, problems)


def frontier_mismatch(conn: sqlite3.Connection, log: str, report: AuditReport) -> LedgerError | None:
    """Whether the stored frontier of ``log`` is the one its records rebuild."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"frontier:{log}",)).fetchone()
    return _frontier_mismatch(log, None if row is None else row[0], report)
