"""Injected faults in a SQLite store, and the check that ``verify_ledger`` catches each one.

One small store is built once (observations and derived records in batches of uneven sizes, so
the signed tree heads fall at many sizes and the store keeps ledger nodes of several levels).
Each fault is applied to a fresh copy of it and the copy is verified from scratch, as
``truceline ledger verify`` would after a restart. Faults are drawn from a seeded generator, so a
finding can be replayed from its number alone.

What is corrupted, and how:

* **bit flips** in stored bytes (report and record bodies, leaf hashes, ledger node hashes,
  spatial-index blobs), one-character changes in the text the store keeps (indexed columns, signed
  tree heads, the frontier) and small changes to the numbers (time, position, R*Tree boxes);
* **truncations** of those values;
* **deletions** of rows (reports, records, ledger nodes, tree heads, spatial buckets);
* **reorderings**: two rows' contents swapped;
* **duplications**: one row's content copied over another, or appended as a new row;
* **the file itself**: a bit flipped inside a page the database uses, or the file cut short.

Every column and row of the store is covered. :data:`ONCE_UNCOVERED` lists the fault classes the
first version of this generator found the audit missed (G1–G11 in docs/proofs.md), with the check
that now catches each; they are part of every run like the rest, and
tests/prove/test_tamper.py also runs each of them on its own.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from tests.conftest import NOW, observation_dict
from truceline.model import (
    CreationInfo,
    FixedClock,
    Incident,
    Markings,
    ObservationRef,
    StoreError,
    observation_adapter,
)
from truceline.store import PreparedObservation, SQLiteStore

# Batch sizes of the template store: uneven so heads land at odd sizes and nodes of levels 1–5 exist.
OBSERVATION_BATCHES = (1, 7, 16, 3, 21, 2, 14)
RECORD_BATCHES = (1, 5, 9, 2, 13)
KINDS = ("acoustic_arrival", "radar_track", "uav_sighting", "claim", "patrol_report", "movement_denial")

# Fault classes the audit once missed (each was a strict xfail test), and what catches them now.
ONCE_UNCOVERED: dict[tuple[str, str], str] = {
    ("bit-flip", "observations.received"): "G1: a batch's receipt time is the time its tree head was signed, "
    "so the signature covers it",
    ("bit-flip", "observations.sharing_group"): "G2: the indexed sharing group is compared with the stored bytes",
    ("bit-flip", "records.created"): "G3: a batch's creation time is the time its tree head was signed",
    ("bit-flip", "records.type"): "G4: the type must be a known record type the stored bytes parse as",
    ("bit-flip", "records.id"): "G5: the indexed id is compared with the stored bytes",
    ("bit-flip", "records.version"): "G6: a version must be its place among the versions of its id, in log order",
    ("duplicate", "append.records"): "G7: the store signs a head in every batch's transaction, so a record past the "
    "latest head is an error",
    ("delete", "tree_heads"): "G8: the same rule: deleting the latest head leaves records no head covers",
    ("bit-flip", "tree_heads.tree_size"): "G9: the tree_size column is compared with the size inside the signed head",
    ("bit-flip", "tree_heads.timestamp"): "G10: the ISO timestamp of a head is compared with its signed timestamp_ms",
    ("bit-flip", "meta.frontier"): "G11: the stored frontier is compared with the one the records rebuild (and a "
    "write refuses to extend a frontier that does not rebuild the latest signed head)",
}


def prepared(i: int, kind: str) -> PreparedObservation:
    body = json.dumps(observation_dict(i, kind), separators=(",", ":")).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)


def incident(rid: str, n: int) -> Incident:
    return Incident(
        id=rid,
        start=NOW,
        end=NOW + timedelta(seconds=n),
        observations=(ObservationRef(participant="USA", source="ac-017", key=f"acoustic_arrival-{n:07d}"),),
        markings=Markings(tlp="green", originator="USA"),
        creation_info=CreationInfo(agent="prove", created=NOW),
    )


def build_template(path: Path) -> None:
    """The store every fault starts from: reports of several kinds, records with several versions."""
    store = SQLiteStore(path, clock=FixedClock(NOW))
    try:
        i = 0
        for size in OBSERVATION_BATCHES:
            store.add_observations([prepared(i + j, KINDS[(i + j) % len(KINDS)]) for j in range(size)])
            i += size
        n = 0
        for size in RECORD_BATCHES:
            # A few ids recur, so the records log holds several versions of one incident.
            store.put_records([incident(f"incident--{(n + j) % 17}", n + j) for j in range(size)])
            n += size
    finally:
        store.close()
    assert not path.with_name(path.name + "-wal").exists(), "the template must be checkpointed"


@dataclass(frozen=True)
class Fault:
    """One injected fault. ``log``/``seq`` name the first record it touches, when one does."""

    number: int
    kind: str  # bit-flip, truncate, delete, reorder, duplicate, file-bit-flip, file-truncate
    target: str  # table.column, table (a whole row), or "file"
    detail: str
    log: str | None = None
    seq: int | None = None
    exact: bool = False  # the audit must name exactly this record (its bytes or leaf changed)

    def __str__(self) -> str:
        return f"fault {self.number}: {self.kind} of {self.target} ({self.detail})"


@dataclass
class Outcome:
    fault: Fault
    detected: bool
    named: str  # what the audit named first ("" when nothing)
    named_exactly: bool | None = None  # for faults with a known record: was it the one named?
    no_op: bool = False  # a file-level flip that changed no value SQLite returns (e.g. free space in a page)


@dataclass
class Template:
    """What the template holds, read once so the generator can pick rows that exist."""

    path: Path
    observations: int = 0
    records: int = 0
    nodes: list[tuple[str, int, int]] = field(default_factory=list)
    heads: list[tuple[str, int]] = field(default_factory=list)
    buckets: list[int] = field(default_factory=list)
    file_size: int = 0
    body_spans: list[tuple[int, int]] = field(default_factory=list)  # where report bodies sit in the file
    _dump: list[str] | None = None

    def dump(self) -> list[str]:
        if self._dump is None:
            self._dump = logical_dump(self.path)
        return self._dump

    @classmethod
    def read(cls, path: Path) -> Template:
        t = cls(path)
        with sqlite3.connect(path) as conn:
            t.observations = conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
            t.records = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
            t.nodes = [tuple(r) for r in conn.execute("SELECT log, level, idx FROM ledger_nodes ORDER BY 1,2,3")]
            t.heads = [tuple(r) for r in conn.execute("SELECT log, tree_size FROM tree_heads ORDER BY 1,2")]
            t.buckets = [r[0] for r in conn.execute("SELECT id FROM spatial_buckets ORDER BY id")]
            bodies = [bytes(r[0]) for r in conn.execute("SELECT body FROM observations")]
        conn.close()
        raw = path.read_bytes()
        t.file_size = len(raw)
        for body in bodies:
            at = raw.find(body)
            if at >= 0:
                t.body_spans.append((at, at + len(body)))
        return t


# --- the faults -------------------------------------------------------------------------------

# What a SQL fault reports: a description, and the log and record it touches first (if any), and
# whether the audit must name exactly that record.
_Result = tuple[str, str | None, int | None, bool]
_Apply = Callable[["Template", sqlite3.Connection, random.Random], _Result]


def _flip_bit(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    i = rng.randrange(len(data))
    bit = rng.randrange(8)
    out = bytearray(data)
    out[i] ^= 1 << bit
    return bytes(out), f"byte {i} bit {bit}"


def _change_char(text: str, rng: random.Random) -> tuple[str, str]:
    """A one-character change that keeps the text printable (a bit flip in a TEXT column)."""
    i = rng.randrange(len(text))
    pool = string.hexdigits.lower() if text[i] in string.hexdigits else string.ascii_letters + string.digits
    new = rng.choice([c for c in pool if c != text[i]])
    return text[:i] + new + text[i + 1 :], f"char {i} {text[i]!r}→{new!r}"


class FaultGenerator:
    """Seeded faults over a :class:`Template`; ``faults(n)`` cycles through every fault class."""

    def __init__(self, template: Template, seed: int = 20261127) -> None:
        self.t = template
        self.rng = random.Random(seed)
        self.classes: list[tuple[str, str]] = [
            ("bit-flip", "observations.body"),
            ("bit-flip", "observations.leaf_hash"),
            ("bit-flip", "records.body"),
            ("bit-flip", "records.leaf_hash"),
            ("bit-flip", "ledger_nodes.hash"),
            ("bit-flip", "tree_heads.body"),
            ("bit-flip", "spatial_buckets.seqs"),
            ("bit-flip", "observations.participant"),
            ("bit-flip", "observations.source"),
            ("bit-flip", "observations.key"),
            ("bit-flip", "observations.kind"),
            ("bit-flip", "observations.tlp"),
            ("bit-flip", "observations.time"),
            ("bit-flip", "observations.lat"),
            ("bit-flip", "observations.lon"),
            ("bit-flip", "observations_rtree.box"),
            ("bit-flip", "ledger_nodes.idx"),
            ("truncate", "observations.body"),
            ("truncate", "observations.leaf_hash"),
            ("truncate", "records.body"),
            ("truncate", "records.leaf_hash"),
            ("truncate", "ledger_nodes.hash"),
            ("truncate", "tree_heads.body"),
            ("delete", "observations"),
            ("delete", "records"),
            ("delete", "ledger_nodes"),
            ("delete", "spatial_buckets"),
            ("reorder", "observations"),
            ("reorder", "records"),
            ("reorder", "ledger_nodes"),
            ("duplicate", "observations"),
            ("duplicate", "records"),
            ("duplicate", "ledger_nodes"),
            ("file-bit-flip", "file"),
            ("file-truncate", "file"),
        ]
        self.classes.append(("duplicate", "append.observations"))
        self.classes += list(ONCE_UNCOVERED)

    def faults(self, n: int) -> Iterator[tuple[Fault, Callable[[Path], None]]]:
        """``n`` faults, each with the function that applies it to a copy of the template."""
        for number in range(n):
            kind, target = self.classes[number % len(self.classes)]
            seed = self.rng.getrandbits(64)
            yield self._make(number, kind, target, seed)

    def one(self, kind: str, target: str, number: int = 0) -> tuple[Fault, Callable[[Path], None]]:
        """A single fault of one class (for the tests of one class)."""
        return self._make(number, kind, target, self.rng.getrandbits(64))

    def _make(self, number: int, kind: str, target: str, seed: int) -> tuple[Fault, Callable[[Path], None]]:
        # SQL faults pick live rows when applied; the description is filled in then (see
        # _DeferredFault), from the same seed, so a fault number always replays the same change.
        if kind.startswith("file-"):
            return self._file_fault(number, kind, seed)
        info: dict[str, _Result] = {}

        def apply(path: Path) -> None:
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                conn.execute("BEGIN")
                info["d"] = _SQL_FAULTS[(kind, target)](self.t, conn, random.Random(seed))
                conn.execute("COMMIT")
            finally:
                conn.close()

        fault = _DeferredFault(number, kind, target, "", info=info)
        return fault, apply

    def _file_fault(self, number: int, kind: str, seed: int) -> tuple[Fault, Callable[[Path], None]]:
        rng = random.Random(seed)
        if kind == "file-bit-flip":
            # Half inside a report's stored bytes, half anywhere in a page that holds one (cell
            # headers, pointers, free space). A flip that changes no stored value is a no-op and
            # run_fault says so; the 100-byte file header is left alone.
            start, end = rng.choice(self.t.body_spans)
            if rng.random() < 0.5:
                offset = rng.randrange(start, end)
            else:
                page = 8192
                lo = max(start // page * page, 100)
                offset = rng.randrange(lo, min(end // page * page + page, self.t.file_size))
            bit = rng.randrange(8)
            detail = f"offset {offset} bit {bit}"

            def apply(path: Path) -> None:
                with path.open("r+b") as f:
                    f.seek(offset)
                    b = f.read(1)[0]
                    f.seek(offset)
                    f.write(bytes([b ^ (1 << bit)]))

        else:
            size = rng.randrange(1, self.t.file_size)
            detail = f"cut to {size} of {self.t.file_size} bytes"

            def apply(path: Path) -> None:
                with path.open("r+b") as f:
                    f.truncate(size)

        return Fault(number, kind, "file", detail), apply


@dataclass(frozen=True)
class _DeferredFault(Fault):
    """A fault whose description is filled in when it is applied (the SQL faults pick live rows)."""

    info: dict[str, _Result] = field(default_factory=dict, compare=False)

    def resolved(self) -> Fault:
        detail, log, seq, exact = self.info.get("d", ("not applied", None, None, False))
        return Fault(self.number, self.kind, self.target, detail, log, seq, exact)


# --- the SQL faults: each returns (detail, log, seq, exact) -------------------------------------


def _row_seq(t: Template, rng: random.Random, log: str) -> int:
    return rng.randint(1, t.observations if log == "observations" else t.records)


def _blob_flip(table: str, column: str, log: str) -> _Apply:
    def run(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
        seq = _row_seq(t, rng, log)
        (value,) = conn.execute(f"SELECT {column} FROM {table} WHERE seq = ?", (seq,)).fetchone()
        new, where = _flip_bit(bytes(value), rng)
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE seq = ?", (new, seq))
        return f"row #{seq} {where}", log, seq, True

    return run


def _blob_truncate(table: str, column: str, log: str) -> _Apply:
    def run(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
        seq = _row_seq(t, rng, log)
        (value,) = conn.execute(f"SELECT {column} FROM {table} WHERE seq = ?", (seq,)).fetchone()
        cut = rng.randrange(len(value))
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE seq = ?", (bytes(value)[:cut], seq))
        return f"row #{seq} cut to {cut} of {len(value)} bytes", log, seq, True

    return run


def _text_change(table: str, column: str, log: str) -> _Apply:
    def run(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
        seq = _row_seq(t, rng, log)
        (value,) = conn.execute(f"SELECT {column} FROM {table} WHERE seq = ?", (seq,)).fetchone()
        if value is None or value == "":
            value = "x"
        if isinstance(value, float):
            # The audit allows a millisecond between the indexed time and the signed one (float
            # rounding), so times move by more; positions must match to 1e-9 degrees.
            steps = [0.5, 60.0, 3600.0] if column in ("time", "received", "created") else [1e-6, 1e-3, 0.5]
            new: object = value + rng.choice([-1.0, 1.0]) * rng.choice(steps)
            where = f"{value!r}→{new!r}"
        elif isinstance(value, int):
            new = value + rng.choice([-1, 1, 2])
            where = f"{value}→{new}"
        else:
            new, where = _change_char(str(value), rng)
        try:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE seq = ?", (new, seq))
        except sqlite3.IntegrityError:
            # The change collides with a UNIQUE key (another row already has it): tamper anyway
            # by moving the colliding row out of the way first, as an attacker could.
            conn.execute(f"UPDATE {table} SET {column} = {column} || '~' WHERE {column} = ?", (new,))
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE seq = ?", (new, seq))
        return f"row #{seq} {column} {where}", log, seq, False

    return run


def _node_flip(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    log, level, idx = rng.choice(t.nodes)
    key = (log, level, idx)
    (value,) = conn.execute("SELECT hash FROM ledger_nodes WHERE log=? AND level=? AND idx=?", key).fetchone()
    new, where = _flip_bit(bytes(value), rng)
    conn.execute("UPDATE ledger_nodes SET hash = ? WHERE log=? AND level=? AND idx=?", (new, *key))
    return f"node {key} {where}", log, None, False


def _node_truncate(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    log, level, idx = rng.choice(t.nodes)
    key = (log, level, idx)
    (value,) = conn.execute("SELECT hash FROM ledger_nodes WHERE log=? AND level=? AND idx=?", key).fetchone()
    cut = rng.randrange(len(value))
    conn.execute("UPDATE ledger_nodes SET hash = ? WHERE log=? AND level=? AND idx=?", (bytes(value)[:cut], *key))
    return f"node {key} cut to {cut}", log, None, False


def _node_idx(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    log, level, idx = rng.choice(t.nodes)
    taken = {(lg, lv, ix) for lg, lv, ix in t.nodes}
    new = idx + rng.choice([1, 2, 1000])
    while (log, level, new) in taken:
        new += 1
    conn.execute("UPDATE ledger_nodes SET idx = ? WHERE log=? AND level=? AND idx=?", (new, log, level, idx))
    return f"node {(log, level, idx)} moved to index {new}", log, None, False


def _head_text(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    log, size = rng.choice(t.heads)
    (body,) = conn.execute("SELECT body FROM tree_heads WHERE log=? AND tree_size=?", (log, size)).fetchone()
    # Not in the ISO "timestamp", which the head carries for people beside the signed timestamp_ms.
    iso = body.index('"timestamp": "')
    informative = range(iso, body.index('"', iso + 14) + 1)
    new, where = _change_char(body, rng)
    while body.index('"timestamp": "') in informative and any(
        a != b and i in informative for i, (a, b) in enumerate(zip(body, new, strict=True))
    ):
        new, where = _change_char(body, rng)
    conn.execute("UPDATE tree_heads SET body = ? WHERE log=? AND tree_size=?", (new, log, size))
    return f"head {log}/{size} {where}", log, None, False


def _head_iso_time(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    log, size = rng.choice(t.heads)
    (body,) = conn.execute("SELECT body FROM tree_heads WHERE log=? AND tree_size=?", (log, size)).fetchone()
    doc = json.loads(body)
    doc["timestamp"] = "1999-01-01T00:00:00+00:00"
    conn.execute("UPDATE tree_heads SET body = ? WHERE log=? AND tree_size=?", (json.dumps(doc), log, size))
    return f"head {log}/{size} ISO timestamp rewritten", log, None, False


def _head_truncate(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    log, size = rng.choice(t.heads)
    (body,) = conn.execute("SELECT body FROM tree_heads WHERE log=? AND tree_size=?", (log, size)).fetchone()
    cut = rng.randrange(len(body))
    conn.execute("UPDATE tree_heads SET body = ? WHERE log=? AND tree_size=?", (body[:cut], log, size))
    return f"head {log}/{size} cut to {cut}", log, None, False


def _head_size(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    log, size = rng.choice(t.heads)
    sizes = {s for lg, s in t.heads if lg == log}
    new = size + rng.choice([-1, 1, 5])
    while new in sizes:
        new += 1
    conn.execute("UPDATE tree_heads SET tree_size = ? WHERE log=? AND tree_size=?", (new, log, size))
    return f"head {log}/{size} relabelled {new}", log, None, False


def _frontier(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    log = rng.choice(["observations", "records"])
    (value,) = conn.execute("SELECT value FROM meta WHERE key = ?", (f"frontier:{log}",)).fetchone()
    new, where = _change_char(value, rng)
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (new, f"frontier:{log}"))
    return f"frontier:{log} {where}", log, None, False


def _bucket_flip(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    bid = rng.choice(t.buckets)
    (value,) = conn.execute("SELECT seqs FROM spatial_buckets WHERE id = ?", (bid,)).fetchone()
    new, where = _flip_bit(bytes(value), rng)
    conn.execute("UPDATE spatial_buckets SET seqs = ? WHERE id = ?", (new, bid))
    return f"bucket {bid} {where}", "observations", None, False


def _rtree_box(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    # The box is moved (both edges), since the R*Tree itself refuses a box with min > max.
    bid = rng.choice(t.buckets)
    axis = rng.choice(["lon", "lat", "time"])
    step = rng.choice([-1.0, 1.0]) * (7200.0 if axis == "time" else 0.5)
    conn.execute(
        f"UPDATE observations_rtree SET min_{axis} = min_{axis} + ?, max_{axis} = max_{axis} + ? WHERE id = ?",
        (step, step, bid),
    )
    return f"bucket {bid} box moved by {step} in {axis}", "observations", None, False


def _delete(table: str, log: str) -> _Apply:
    def run(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
        seq = _row_seq(t, rng, log)
        conn.execute(f"DELETE FROM {table} WHERE seq = ?", (seq,))
        return f"row #{seq} deleted", log, seq, False

    return run


def _delete_node(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    key = rng.choice(t.nodes)
    conn.execute("DELETE FROM ledger_nodes WHERE log=? AND level=? AND idx=?", key)
    return f"node {key} deleted", key[0], None, False


def _delete_head(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    # The latest head of a log: deleting an older one leaves a log the remaining heads still vouch
    # for, which a store-local audit cannot tell from a log that never had it.
    log = rng.choice(["observations", "records"])
    key = (log, max(size for lg, size in t.heads if lg == log))
    conn.execute("DELETE FROM tree_heads WHERE log=? AND tree_size=?", key)
    return f"head {key} deleted", key[0], None, False


def _delete_bucket(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    bid = rng.choice(t.buckets)
    conn.execute("DELETE FROM spatial_buckets WHERE id = ?", (bid,))
    conn.execute("DELETE FROM observations_rtree WHERE id = ?", (bid,))
    return f"bucket {bid} deleted", "observations", None, False


def _swap(table: str, log: str) -> _Apply:
    columns = (
        "participant, source, key, kind, time, lat, lon, tlp, sharing_group, received, body, leaf_hash"
        if table == "observations"
        else "type, id, version, created, body, leaf_hash"
    )

    def run(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
        n = t.observations if log == "observations" else t.records
        a, b = sorted(rng.sample(range(1, n + 1), 2))
        # Park row a at seq 0, move b to a, then a to b: the two rows trade places in the log.
        conn.execute(f"UPDATE {table} SET seq = 0 WHERE seq = ?", (a,))
        conn.execute(f"UPDATE {table} SET seq = ? WHERE seq = ?", (a, b))
        conn.execute(f"UPDATE {table} SET seq = ? WHERE seq = 0", (b,))
        return f"rows #{a} and #{b} swapped ({columns.count(',') + 1} columns)", log, a, False

    return run


def _swap_nodes(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    a, b = rng.sample(t.nodes, 2)
    ha = conn.execute("SELECT hash FROM ledger_nodes WHERE log=? AND level=? AND idx=?", a).fetchone()[0]
    hb = conn.execute("SELECT hash FROM ledger_nodes WHERE log=? AND level=? AND idx=?", b).fetchone()[0]
    conn.execute("UPDATE ledger_nodes SET hash = ? WHERE log=? AND level=? AND idx=?", (hb, *a))
    conn.execute("UPDATE ledger_nodes SET hash = ? WHERE log=? AND level=? AND idx=?", (ha, *b))
    return f"nodes {a} and {b} swapped", a[0], None, False


def _overwrite(table: str, log: str) -> _Apply:
    """Row b takes row a's content (bytes and leaf), under its own identity: a duplicated report."""

    def run(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
        n = t.observations if log == "observations" else t.records
        a, b = rng.sample(range(1, n + 1), 2)
        conn.execute(
            f"UPDATE {table} SET body = (SELECT body FROM {table} WHERE seq = ?), "
            f"leaf_hash = (SELECT leaf_hash FROM {table} WHERE seq = ?) WHERE seq = ?",
            (a, a, b),
        )
        return f"row #{b} overwritten with row #{a}", log, b, False

    return run


def _duplicate_node(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
    a, b = rng.sample(t.nodes, 2)
    conn.execute(
        "UPDATE ledger_nodes SET hash = (SELECT hash FROM ledger_nodes WHERE log=? AND level=? AND idx=?) "
        "WHERE log=? AND level=? AND idx=?",
        (*a, *b),
    )
    return f"node {b} overwritten with node {a}", b[0], None, False


def _append(table: str, log: str) -> _Apply:
    def run(t: Template, conn: sqlite3.Connection, rng: random.Random) -> _Result:
        n = t.observations if log == "observations" else t.records
        a = rng.randint(1, n)
        if table == "observations":
            conn.execute(
                "INSERT INTO observations SELECT ?, participant, source, key || '-copy', kind, time, lat, lon, tlp, "
                "sharing_group, received, body, leaf_hash FROM observations WHERE seq = ?",
                (n + 1, a),
            )
        else:
            conn.execute(
                "INSERT INTO records SELECT ?, type, id, version + 1000, created, body, leaf_hash "
                "FROM records WHERE seq = ?",
                (n + 1, a),
            )
        return f"row #{a} appended again as #{n + 1}", log, n + 1, False

    return run


_SQL_FAULTS: dict[tuple[str, str], _Apply] = {
    ("bit-flip", "observations.body"): _blob_flip("observations", "body", "observations"),
    ("bit-flip", "observations.leaf_hash"): _blob_flip("observations", "leaf_hash", "observations"),
    ("bit-flip", "records.body"): _blob_flip("records", "body", "records"),
    ("bit-flip", "records.leaf_hash"): _blob_flip("records", "leaf_hash", "records"),
    ("bit-flip", "ledger_nodes.hash"): _node_flip,
    ("bit-flip", "tree_heads.body"): _head_text,
    ("bit-flip", "meta.frontier"): _frontier,
    ("bit-flip", "spatial_buckets.seqs"): _bucket_flip,
    ("bit-flip", "observations_rtree.box"): _rtree_box,
    ("bit-flip", "tree_heads.tree_size"): _head_size,
    ("bit-flip", "ledger_nodes.idx"): _node_idx,
    **{
        ("bit-flip", f"observations.{c}"): _text_change("observations", c, "observations")
        for c in ("participant", "source", "key", "kind", "tlp", "time", "lat", "lon", "received", "sharing_group")
    },
    **{
        ("bit-flip", f"records.{c}"): _text_change("records", c, "records")
        for c in ("type", "id", "version", "created")
    },
    ("truncate", "observations.body"): _blob_truncate("observations", "body", "observations"),
    ("truncate", "observations.leaf_hash"): _blob_truncate("observations", "leaf_hash", "observations"),
    ("truncate", "records.body"): _blob_truncate("records", "body", "records"),
    ("truncate", "records.leaf_hash"): _blob_truncate("records", "leaf_hash", "records"),
    ("truncate", "ledger_nodes.hash"): _node_truncate,
    ("truncate", "tree_heads.body"): _head_truncate,
    ("delete", "observations"): _delete("observations", "observations"),
    ("delete", "records"): _delete("records", "records"),
    ("delete", "ledger_nodes"): _delete_node,
    ("delete", "tree_heads"): _delete_head,
    ("bit-flip", "tree_heads.timestamp"): _head_iso_time,
    ("delete", "spatial_buckets"): _delete_bucket,
    ("reorder", "observations"): _swap("observations", "observations"),
    ("reorder", "records"): _swap("records", "records"),
    ("reorder", "ledger_nodes"): _swap_nodes,
    ("duplicate", "observations"): _overwrite("observations", "observations"),
    ("duplicate", "records"): _overwrite("records", "records"),
    ("duplicate", "ledger_nodes"): _duplicate_node,
    ("duplicate", "append.records"): _append("records", "records"),
    ("duplicate", "append.observations"): _append("observations", "observations"),
}


CRASH = "CRASH (not a clean error) in "

# --- running one fault ------------------------------------------------------------------------


def verify_copy(path: Path) -> tuple[bool, str]:
    """Open the store afresh and verify it: (detected, what was named first)."""
    try:
        store = SQLiteStore(path, clock=FixedClock(NOW))
    except StoreError as exc:  # refusing to open a damaged file is a detection too
        return True, f"open refused: {exc}"
    except Exception as exc:
        return True, f"{CRASH}open: {type(exc).__name__}: {exc}"
    try:
        result = store.verify_ledger()
    except Exception as exc:
        return True, f"{CRASH}verify: {type(exc).__name__}: {exc}"
    finally:
        store.close()
    if result.integrity_errors:
        return True, f"integrity: {result.integrity_errors[0]}"
    for log, report in result.reports.items():
        if not report.ok:
            return True, f"{log}: {report.first_error}"
    return False, ""


def _named_exactly(fault: Fault, named: str) -> bool:
    noun = "observation" if fault.log == "observations" else "record"
    return f"{fault.log}: {noun} #{fault.seq} " in named + " " or named.startswith(
        f"{fault.log}: {noun} #{fault.seq} ("
    )


def run_fault(template: Template, fault: Fault, apply: Callable[[Path], None], workdir: Path) -> Outcome:
    copy = workdir / "victim.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template.path, copy)
    key = workdir / "victim.db.key"
    shutil.copyfile(template.path.with_name(template.path.name + ".key"), key)
    key.chmod(0o600)
    apply(copy)
    if isinstance(fault, _DeferredFault):
        fault = fault.resolved()
    detected, named = verify_copy(copy)
    exact = _named_exactly(fault, named) if fault.exact and detected else None
    no_op = not detected and fault.kind.startswith("file-") and logical_dump(copy) == template.dump()
    return Outcome(fault, detected, named, exact, no_op)


def logical_dump(path: Path) -> list[str]:
    """Every value the database holds, as SQL; equal dumps mean a flip touched no stored value."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    except sqlite3.DatabaseError as exc:
        return [f"unreadable: {exc}"]
    finally:
        conn.close()
