"""Injected faults in a PostgreSQL store, and the check that ``verify_ledger`` catches each one.

The SQLite proof (tests/prove/tamper.py) done again on the server store. One template database is
built once: reports of every kind under test (some with a sharing group, some with no position)
and derived records with several versions each, in batches of uneven sizes, each batch a second
after the last, so signed tree heads fall at many sizes and ledger nodes of several levels exist.
Each fault is made in a fresh copy (``CREATE DATABASE … TEMPLATE …``) as the tables' owner, and
the copy is then opened by a new :class:`PostgresStore` with the same ledger key and verified
from scratch, as ``truceline ledger verify --db postgresql://…`` would. Faults come from a seeded
generator: a fault number and the seed replay it.

What is changed, in SQL, and how:

* **bit flips** in report and record bodies, leaf hashes, ledger node hashes; one-character
  changes in the text columns (identity, kind, TLP, sharing group, type, id), the signed tree
  heads and the frontier; small changes to the numbers (time, receipt, position, version);
* **the generated columns** (the PostGIS point and the markings that row-level security reads):
  PostgreSQL refuses to write them, so the owner first turns them into plain columns
  (``ALTER TABLE … ALTER COLUMN … DROP EXPRESSION``) and then changes them;
* **truncations** of bodies, leaf hashes, node hashes, tree heads;
* **deletions** of rows: a report or record in the middle and the last one, a ledger node, the
  latest and an older tree head, the frontier;
* **reorderings**: two rows trade places (their sequence numbers), or trade bodies and leaves;
  two ledger nodes trade hashes;
* **duplications**: one row's content copied over another, or appended as a new row; a ledger
  node or a signed tree head filed again under another place;
* **rewrites**: a body changed and its leaf hash recomputed to match (only the signed heads and
  the stored nodes can tell).

A fault that PostgreSQL itself refuses (a flipped or cut body that the generated markings columns
can no longer read as JSON, a UNIQUE key) is counted apart as "refused by the database": it never
reached the store. The ``… (generated columns dropped)`` classes make the same body faults after
the owner has turned the generated columns into plain ones, so that every body fault is also
tried where the database cannot refuse it.
"""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import NOW, OBSERVATION_KINDS_UNDER_TEST, POSTGRES_ADMIN_URL, observation_dict
from tests.prove.tamper import CRASH, Fault, _change_char, _flip_bit, incident
from truceline.ledger import LedgerKey, leaf_hash
from truceline.model import FixedClock, StoreError, observation_adapter
from truceline.store import PreparedObservation
from truceline.store.postgres import PostgresStore

# Batch sizes of the template: uneven, so heads land at odd sizes and nodes of several levels exist.
OBSERVATION_BATCHES = (1, 7, 16, 3, 21, 2, 14, 40, 33, 5, 60)
RECORD_BATCHES = (1, 5, 9, 2, 13)
GENERATED = {
    "observations": ("geom", "originator", "releasable_to"),
    "records": ("tlp", "originator", "releasable_to", "sharing_group"),
}
_OBS_COLUMNS = "participant, source, key, kind, time, lat, lon, tlp, sharing_group, received, body, leaf_hash"
_REC_COLUMNS = "type, id, version, created, body, leaf_hash"
REFUSED = "refused by the database: "


def _prepared(i: int) -> PreparedObservation:
    kind = OBSERVATION_KINDS_UNDER_TEST[i % len(OBSERVATION_KINDS_UNDER_TEST)]
    doc = observation_dict(i, kind)
    if i % 5 == 2:  # some reports shared within a group only (the sharing_group column is set)
        doc["markings"] = {**doc["markings"], "sharing_group": "jcc-east"}
    if i % 3 == 1:  # some reports without a position (lat, lon and the point NULL), where the kind allows it
        without = {k: v for k, v in doc.items() if k != "location"}
        body = json.dumps(without, separators=(",", ":")).encode()
        try:
            return PreparedObservation(observation_adapter.validate_json(body), body)
        except ValueError:
            pass
    body = json.dumps(doc, separators=(",", ":")).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)


def _url(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> str:
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


@dataclass
class PgTemplate:
    """The template database and what it holds, read once so the generator can pick rows that exist."""

    name: str
    key: LedgerKey
    key_path: Path  # the key's file (mode 0600), for ``truceline ledger verify`` (``$TRUCELINE_LEDGER_KEY``)
    admin_url: str = POSTGRES_ADMIN_URL
    observations: int = 0
    records: int = 0
    nodes: list[tuple[str, int, int]] = field(default_factory=list)
    heads: list[tuple[str, int]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return _url(self.name, self.admin_url)

    def read(self) -> None:
        import psycopg

        with psycopg.connect(self.url) as conn:
            (self.observations,) = conn.execute("SELECT count(*) FROM observations").fetchall()[0]
            (self.records,) = conn.execute("SELECT count(*) FROM records").fetchall()[0]
            self.nodes = [
                (r[0], r[1], r[2]) for r in conn.execute("SELECT log, level, idx FROM ledger_nodes ORDER BY 1, 2, 3")
            ]
            self.heads = [(r[0], r[1]) for r in conn.execute("SELECT log, tree_size FROM tree_heads ORDER BY 1, 2")]


def build_template(template: PgTemplate) -> None:
    """Fill the (new, empty) template database; every connection to it is closed on return."""
    clock = FixedClock(NOW)
    store = PostgresStore(template.url, clock=clock, key=template.key)
    try:
        i = 0
        for size in OBSERVATION_BATCHES:
            clock.advance(seconds=1)  # each batch received a second after the last
            store.add_observations([_prepared(i + j) for j in range(size)])
            i += size
        n = 0
        for size in RECORD_BATCHES:
            clock.advance(seconds=1)
            # A few ids recur, so the records log holds several versions of one incident.
            store.put_records([incident(f"incident--{(n + j) % 11}", n + j) for j in range(size)])
            n += size
        assert store.verify_ledger().ok, "the template must verify"
    finally:
        store.close()
    template.read()


@contextmanager
def pg_template(admin_url: str = POSTGRES_ADMIN_URL, database: str | None = None) -> Iterator[PgTemplate]:
    """A template database with its ledger key (in a temporary file).

    ``database`` is a new, empty database to fill (its owner drops it); without it one is created
    here and dropped afterwards.
    """
    import psycopg

    with tempfile.TemporaryDirectory(prefix="pg-tamper-") as tmp:
        key_path = Path(tmp) / "ledger.key"
        name = database or f"truceline_tamper_tpl_{uuid.uuid4().hex[:10]}"
        template = PgTemplate(name, LedgerKey.load_or_create(key_path), key_path, admin_url)
        if database is None:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {name}")
        try:
            build_template(template)
            yield template
        finally:
            if database is None:
                with psycopg.connect(admin_url, autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- the faults -------------------------------------------------------------------------------

# A fault reads what it needs from the copy, then says what it changes: (detail, log, seq, exact)
# (the first record it touches, and whether the audit must name exactly that record) and the SQL
# statements that make the change, run in one transaction; the database may refuse them.
_Result = tuple[str, str | None, int | None, bool]
_Statements = list[tuple[str, Sequence[Any]]]
_Plan = tuple[_Result, _Statements]
_Apply = Callable[[PgTemplate, Any, random.Random], _Plan]


def _count(t: PgTemplate, log: str) -> int:
    return t.observations if log == "observations" else t.records


def _drop_generated(table: str, columns: Sequence[str] | None = None) -> _Statements:
    """Turn generated columns into plain ones, as the owner may: then they can be written."""
    return [(f"ALTER TABLE {table} ALTER COLUMN {c} DROP EXPRESSION", ()) for c in columns or GENERATED[table]]


def _blob_flip(table: str, column: str, *, plain: bool = False) -> _Apply:
    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        seq = rng.randint(1, _count(t, table))
        (value,) = conn.execute(f"SELECT {column} FROM {table} WHERE seq = %s", (seq,)).fetchone()
        new, where = _flip_bit(bytes(value), rng)
        pre = _drop_generated(table) if plain else []
        return (f"row #{seq} {where}", table, seq, True), [
            *pre,
            (f"UPDATE {table} SET {column} = %s WHERE seq = %s", (new, seq)),
        ]

    return run


def _rewrite(table: str) -> _Apply:
    """A body changed and its leaf hash recomputed to match, as someone who knows the hashing would:
    only the signed tree heads (and the nodes) can tell."""

    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        seq = rng.randint(1, _count(t, table))
        (value,) = conn.execute(f"SELECT body FROM {table} WHERE seq = %s", (seq,)).fetchone()
        new, where = _flip_bit(bytes(value), rng)
        return (f"row #{seq} {where}, leaf hash recomputed", table, seq, False), [
            *_drop_generated(table),
            (f"UPDATE {table} SET body = %s, leaf_hash = %s WHERE seq = %s", (new, leaf_hash(new), seq)),
        ]

    return run


def _blob_truncate(table: str, column: str, *, plain: bool = False) -> _Apply:
    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        seq = rng.randint(1, _count(t, table))
        (value,) = conn.execute(f"SELECT {column} FROM {table} WHERE seq = %s", (seq,)).fetchone()
        cut = rng.randrange(len(value))
        pre = _drop_generated(table) if plain else []
        return (f"row #{seq} cut to {cut} of {len(value)} bytes", table, seq, True), [
            *pre,
            (f"UPDATE {table} SET {column} = %s WHERE seq = %s", (bytes(value)[:cut], seq)),
        ]

    return run


def _column_change(table: str, column: str) -> _Apply:
    """A changed indexed column (a plain one, or a generated one made plain first)."""

    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        seq = rng.randint(1, _count(t, table))
        pre: _Statements = []
        if column == "geom":
            step = rng.choice([-1.0, 1.0]) * rng.choice([1e-6, 1e-3, 0.5])
            axis = rng.choice(["x", "y"])
            dx, dy = (step, 0.0) if axis == "x" else (0.0, step)
            # A report without a position gets one; a report with one sees it moved.
            expr = (
                "CASE WHEN geom IS NULL THEN ST_SetSRID(ST_MakePoint(37.8, 48.0), 4326) "
                "ELSE ST_Translate(geom, %s, %s) END"
            )
            return (f"row #{seq} point moved {step} in {axis}", table, seq, False), [
                *_drop_generated(table, ["geom"]),
                (f"UPDATE {table} SET geom = {expr} WHERE seq = %s", (dx, dy, seq)),
            ]
        if column in GENERATED[table]:
            pre = _drop_generated(table, [column])
        (value,) = conn.execute(f"SELECT {column} FROM {table} WHERE seq = %s", (seq,)).fetchone()
        new: Any
        if isinstance(value, list):  # releasable_to
            if value and rng.random() < 0.7:
                k = rng.randrange(len(value))
                changed, where = _change_char(value[k], rng)
                new = [*value[:k], changed, *value[k + 1 :]]
            else:
                new, where = [*value, "XYZ"], "a participant added"
            where = f"{value}→{new} ({where})"
        elif isinstance(value, float):
            # The audit allows a millisecond between the indexed time and the signed one, so times
            # move by more; positions must match to 1e-9 degrees.
            steps = [0.5, 60.0, 3600.0] if column in ("time", "received", "created") else [1e-6, 1e-3, 0.5]
            new = value + rng.choice([-1.0, 1.0]) * rng.choice(steps)
            where = f"{value!r}→{new!r}"
        elif isinstance(value, int):
            new = value + rng.choice([-1, 1, 2])
            where = f"{value}→{new}"
        elif value is None and column in ("lat", "lon"):
            new, where = 48.5, "NULL→48.5"
        else:
            new, where = _change_char(str(value or "x"), rng)
        statements: _Statements = [*pre, (f"UPDATE {table} SET {column} = %s WHERE seq = %s", (new, seq))]
        unique = {"observations": ("participant", "source", "key"), "records": ("type", "id", "version")}[table]
        if column in unique:
            # The change may collide with a UNIQUE key (another row already has it): tamper anyway by
            # moving the colliding row out of the way first, as an attacker could.
            others = [c for c in unique if c != column]
            (row,) = conn.execute(f"SELECT {', '.join(others)} FROM {table} WHERE seq = %s", (seq,)).fetchall()
            bump = f"{column} = {column} + 100000" if isinstance(new, int) else f"{column} = {column} || '~'"
            match = " AND ".join(f"{c} = %s" for c in others)
            statements.insert(len(pre), (f"UPDATE {table} SET {bump} WHERE {column} = %s AND {match}", (new, *row)))
        return (f"row #{seq} {column} {where}", table, seq, False), statements

    return run


def _node_key(t: PgTemplate, rng: random.Random) -> tuple[str, int, int]:
    return rng.choice(t.nodes)


_NODE = "log = %s AND level = %s AND idx = %s"


def _node_flip(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    key = _node_key(t, rng)
    (value,) = conn.execute(f"SELECT hash FROM ledger_nodes WHERE {_NODE}", key).fetchone()
    new, where = _flip_bit(bytes(value), rng)
    return (f"node {key} {where}", key[0], None, False), [
        (f"UPDATE ledger_nodes SET hash = %s WHERE {_NODE}", (new, *key))
    ]


def _node_truncate(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    key = _node_key(t, rng)
    (value,) = conn.execute(f"SELECT hash FROM ledger_nodes WHERE {_NODE}", key).fetchone()
    cut = rng.randrange(len(value))
    return (f"node {key} cut to {cut}", key[0], None, False), [
        (f"UPDATE ledger_nodes SET hash = %s WHERE {_NODE}", (bytes(value)[:cut], *key))
    ]


def _node_idx(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    log, level, idx = key = _node_key(t, rng)
    taken = set(t.nodes)
    new = idx + rng.choice([1, 2, 1000])
    while (log, level, new) in taken:
        new += 1
    return (f"node {key} moved to index {new}", log, None, False), [
        (f"UPDATE ledger_nodes SET idx = %s WHERE {_NODE}", (new, *key))
    ]


def _node_level(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    log, level, idx = key = _node_key(t, rng)
    taken = set(t.nodes)
    new = level + rng.choice([-1, 1, 4])
    while (log, new, idx) in taken:
        new += 1
    return (f"node {key} moved to level {new}", log, None, False), [
        (f"UPDATE ledger_nodes SET level = %s WHERE {_NODE}", (new, *key))
    ]


def _node_append(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    """A copy of a stored node filed where the store keeps none: past the log's end, or at a level
    the store does not keep."""
    log, level, idx = key = _node_key(t, rng)
    taken = set(t.nodes)
    if rng.random() < 0.5:
        new_level, new = level, idx + rng.choice([1, 2, 1000])
        while (log, level, new) in taken:
            new += 1
    else:
        new_level, new = level + rng.choice([-1, 1, 2]), idx
    return (f"node {key} copied to level {new_level} index {new}", log, None, False), [
        (
            "INSERT INTO ledger_nodes (log, level, idx, hash) "
            f"SELECT log, %s, %s, hash FROM ledger_nodes WHERE {_NODE}",
            (new_level, new, *key),
        )
    ]


def _node_delete(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    key = _node_key(t, rng)
    return (f"node {key} deleted", key[0], None, False), [(f"DELETE FROM ledger_nodes WHERE {_NODE}", key)]


def _node_swap(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    a, b = rng.sample(t.nodes, 2)
    ha = conn.execute(f"SELECT hash FROM ledger_nodes WHERE {_NODE}", a).fetchone()[0]
    hb = conn.execute(f"SELECT hash FROM ledger_nodes WHERE {_NODE}", b).fetchone()[0]
    return (f"nodes {a} and {b} swapped", a[0], None, False), [
        (f"UPDATE ledger_nodes SET hash = %s WHERE {_NODE}", (hb, *a)),
        (f"UPDATE ledger_nodes SET hash = %s WHERE {_NODE}", (ha, *b)),
    ]


def _node_overwrite(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    a, b = rng.sample(t.nodes, 2)
    return (f"node {b} overwritten with node {a}", b[0], None, False), [
        (f"UPDATE ledger_nodes SET hash = (SELECT hash FROM ledger_nodes WHERE {_NODE}) WHERE {_NODE}", (*a, *b))
    ]


def _head(t: PgTemplate, conn: Any, rng: random.Random) -> tuple[str, int, str]:
    log, size = rng.choice(t.heads)
    (body,) = conn.execute("SELECT body FROM tree_heads WHERE log = %s AND tree_size = %s", (log, size)).fetchone()
    return log, size, body


_HEAD_UPDATE = "UPDATE tree_heads SET body = %s WHERE log = %s AND tree_size = %s"


def _head_text(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    log, size, body = _head(t, conn, rng)
    # Not in the ISO "timestamp", which the head carries for people beside the signed timestamp_ms
    # (a class of its own, below).
    start = body.index('"timestamp": "')
    informative = range(start, body.index('"', start + 14) + 1)
    new, where = _change_char(body, rng)
    while any(a != b and i in informative for i, (a, b) in enumerate(zip(body, new, strict=True))):
        new, where = _change_char(body, rng)
    return (f"head {log}/{size} {where}", log, None, False), [(_HEAD_UPDATE, (new, log, size))]


def _head_iso_time(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    log, size, body = _head(t, conn, rng)
    doc = json.loads(body)
    doc["timestamp"] = "1999-01-01T00:00:00+00:00"
    return (f"head {log}/{size} ISO timestamp rewritten", log, None, False), [
        (_HEAD_UPDATE, (json.dumps(doc, sort_keys=True), log, size))
    ]


def _head_truncate(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    log, size, body = _head(t, conn, rng)
    cut = rng.randrange(len(body))
    return (f"head {log}/{size} cut to {cut}", log, None, False), [(_HEAD_UPDATE, (body[:cut], log, size))]


def _head_size(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    log, size = rng.choice(t.heads)
    sizes = {s for lg, s in t.heads if lg == log}
    new = size + rng.choice([-1, 1, 5])
    while new in sizes:
        new += 1
    return (f"head {log}/{size} relabelled {new}", log, None, False), [
        ("UPDATE tree_heads SET tree_size = %s WHERE log = %s AND tree_size = %s", (new, log, size))
    ]


def _head_delete(latest: bool) -> _Apply:
    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        log = rng.choice(["observations", "records"])
        sizes = sorted(s for lg, s in t.heads if lg == log)
        size = sizes[-1] if latest else rng.choice(sizes[:-1])
        return (f"head {log}/{size} deleted", log, None, False), [
            ("DELETE FROM tree_heads WHERE log = %s AND tree_size = %s", (log, size))
        ]

    return run


def _head_log(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    log, size = rng.choice(t.heads)
    other = {"observations": "records", "records": "observations"}[log]
    new = other if rng.random() < 0.5 else _change_char(log, rng)[0]
    clash = [s for lg, s in t.heads if lg == new and s == size]
    statements: _Statements = (
        [("DELETE FROM tree_heads WHERE log = %s AND tree_size = %s", (new, size))] if clash else []
    )
    statements.append(("UPDATE tree_heads SET log = %s WHERE log = %s AND tree_size = %s", (new, log, size)))
    return (f"head {log}/{size} filed under log {new!r}", log, None, False), statements


def _head_append(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    """A copy of a signed head filed again under another size (a tree head row duplicated)."""
    log, size = rng.choice(t.heads)
    sizes = {s for lg, s in t.heads if lg == log}
    new = size + rng.choice([1, 2, 7, 1000])
    while new in sizes:
        new += 1
    return (f"head {log}/{size} copied as size {new}", log, None, False), [
        (
            "INSERT INTO tree_heads (log, tree_size, body) SELECT log, %s, body FROM tree_heads "
            "WHERE log = %s AND tree_size = %s",
            (new, log, size),
        )
    ]


def _frontier_change(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    log = rng.choice(["observations", "records"])
    (value,) = conn.execute("SELECT value FROM meta WHERE key = %s", (f"frontier:{log}",)).fetchone()
    new, where = _change_char(value, rng)
    return (f"frontier:{log} {where}", log, None, False), [
        ("UPDATE meta SET value = %s WHERE key = %s", (new, f"frontier:{log}"))
    ]


def _frontier_delete(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
    log = rng.choice(["observations", "records"])
    return (f"frontier:{log} deleted", log, None, False), [("DELETE FROM meta WHERE key = %s", (f"frontier:{log}",))]


def _delete(table: str, *, last: bool) -> _Apply:
    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        n = _count(t, table)
        seq = n if last else rng.randint(1, n - 1)
        return (f"row #{seq} deleted", table, seq, False), [(f"DELETE FROM {table} WHERE seq = %s", (seq,))]

    return run


def _swap_seqs(table: str) -> _Apply:
    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        a, b = sorted(rng.sample(range(1, _count(t, table) + 1), 2))
        # Park row a at seq 0, move b to a, then a to b: the two rows trade places in the log.
        return (f"rows #{a} and #{b} swapped", table, a, False), [
            (f"UPDATE {table} SET seq = 0 WHERE seq = %s", (a,)),
            (f"UPDATE {table} SET seq = %s WHERE seq = %s", (a, b)),
            (f"UPDATE {table} SET seq = %s WHERE seq = 0", (b,)),
        ]

    return run


def _swap_bodies(table: str) -> _Apply:
    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        a, b = sorted(rng.sample(range(1, _count(t, table) + 1), 2))
        return (f"rows #{a} and #{b} traded bodies and leaf hashes", table, a, False), [
            (
                f"UPDATE {table} AS x SET body = y.body, leaf_hash = y.leaf_hash FROM {table} AS y "
                "WHERE (x.seq, y.seq) IN ((%s, %s), (%s, %s))",
                (a, b, b, a),
            )
        ]

    return run


def _overwrite(table: str) -> _Apply:
    """Row b takes row a's content (bytes and leaf), under its own identity: a duplicated report."""

    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        a, b = rng.sample(range(1, _count(t, table) + 1), 2)
        return (f"row #{b} overwritten with row #{a}", table, b, False), [
            (
                f"UPDATE {table} SET body = (SELECT body FROM {table} WHERE seq = %s), "
                f"leaf_hash = (SELECT leaf_hash FROM {table} WHERE seq = %s) WHERE seq = %s",
                (a, a, b),
            )
        ]

    return run


def _append(table: str) -> _Apply:
    def run(t: PgTemplate, conn: Any, rng: random.Random) -> _Plan:
        n = _count(t, table)
        a = rng.randint(1, n)
        if table == "observations":
            select = _OBS_COLUMNS.replace("key,", "key || '-copy',")
            sql = f"INSERT INTO observations (seq, {_OBS_COLUMNS}) SELECT %s, {select} FROM observations WHERE seq = %s"
        else:
            select = _REC_COLUMNS.replace("version,", "version + 1000,")
            sql = f"INSERT INTO records (seq, {_REC_COLUMNS}) SELECT %s, {select} FROM records WHERE seq = %s"
        return (f"row #{a} appended again as #{n + 1}", table, n + 1, False), [(sql, (n + 1, a))]

    return run


PLAIN = " (generated columns dropped)"

#: Fault classes ``verify_ledger`` is known to miss, with why: they run with the rest and count as
#: missed. Empty since the audit checks that the store holds no ledger node its records do not
#: complete (``_checks.stray_node``): a node planted past the log's end, or at a level the store
#: never keeps, passed before and then blocked the batch that completes that node.
KNOWN_MISSED: dict[tuple[str, str], str] = {}

FAULTS: dict[tuple[str, str], _Apply] = {
    ("bit-flip", "observations.body"): _blob_flip("observations", "body"),
    ("bit-flip", "observations.body" + PLAIN): _blob_flip("observations", "body", plain=True),
    ("bit-flip", "observations.leaf_hash"): _blob_flip("observations", "leaf_hash"),
    ("bit-flip", "records.body"): _blob_flip("records", "body"),
    ("bit-flip", "records.body" + PLAIN): _blob_flip("records", "body", plain=True),
    ("bit-flip", "records.leaf_hash"): _blob_flip("records", "leaf_hash"),
    ("bit-flip", "ledger_nodes.hash"): _node_flip,
    ("bit-flip", "ledger_nodes.idx"): _node_idx,
    ("bit-flip", "ledger_nodes.level"): _node_level,
    ("bit-flip", "tree_heads.log"): _head_log,
    ("bit-flip", "tree_heads.body"): _head_text,
    ("bit-flip", "tree_heads.timestamp"): _head_iso_time,
    ("bit-flip", "tree_heads.tree_size"): _head_size,
    ("bit-flip", "meta.frontier"): _frontier_change,
    **{
        ("bit-flip", f"observations.{c}"): _column_change("observations", c)
        for c in (
            "participant",
            "source",
            "key",
            "kind",
            "tlp",
            "sharing_group",
            "time",
            "received",
            "lat",
            "lon",
            "geom",
            "originator",
            "releasable_to",
        )
    },
    **{
        ("bit-flip", f"records.{c}"): _column_change("records", c)
        for c in ("type", "id", "version", "created", "tlp", "originator", "releasable_to", "sharing_group")
    },
    ("truncate", "observations.body"): _blob_truncate("observations", "body"),
    ("truncate", "observations.body" + PLAIN): _blob_truncate("observations", "body", plain=True),
    ("truncate", "observations.leaf_hash"): _blob_truncate("observations", "leaf_hash"),
    ("truncate", "records.body"): _blob_truncate("records", "body"),
    ("truncate", "records.body" + PLAIN): _blob_truncate("records", "body", plain=True),
    ("truncate", "records.leaf_hash"): _blob_truncate("records", "leaf_hash"),
    ("truncate", "ledger_nodes.hash"): _node_truncate,
    ("truncate", "tree_heads.body"): _head_truncate,
    ("delete", "observations"): _delete("observations", last=False),
    ("delete", "observations.last"): _delete("observations", last=True),
    ("delete", "records"): _delete("records", last=False),
    ("delete", "records.last"): _delete("records", last=True),
    ("delete", "ledger_nodes"): _node_delete,
    ("delete", "tree_heads.latest"): _head_delete(latest=True),
    ("delete", "tree_heads.older"): _head_delete(latest=False),
    ("delete", "meta.frontier"): _frontier_delete,
    ("reorder", "observations.seq"): _swap_seqs("observations"),
    ("reorder", "observations.body"): _swap_bodies("observations"),
    ("reorder", "records.seq"): _swap_seqs("records"),
    ("reorder", "records.body"): _swap_bodies("records"),
    ("reorder", "ledger_nodes"): _node_swap,
    ("rewrite", "observations.body+leaf_hash"): _rewrite("observations"),
    ("rewrite", "records.body+leaf_hash"): _rewrite("records"),
    ("duplicate", "observations"): _overwrite("observations"),
    ("duplicate", "records"): _overwrite("records"),
    ("duplicate", "ledger_nodes"): _node_overwrite,
    ("duplicate", "append.ledger_nodes"): _node_append,
    ("duplicate", "append.tree_heads"): _head_append,
    ("duplicate", "append.observations"): _append("observations"),
    ("duplicate", "append.records"): _append("records"),
}


@dataclass
class PgOutcome:
    fault: Fault
    detected: bool
    named: str  # what the audit named first ("" when nothing)
    named_exactly: bool | None = None  # for faults with a known record: was it the one named?
    refused: str = ""  # the database refused the change (nothing was tampered with)


class PgFaultGenerator:
    """Seeded faults over a :class:`PgTemplate`; ``faults(n)`` cycles through every fault class."""

    def __init__(self, template: PgTemplate, seed: int = 20261127) -> None:
        self.t = template
        self.rng = random.Random(seed)
        self.classes: list[tuple[str, str]] = list(FAULTS)

    def faults(self, n: int) -> Iterator[tuple[int, str, str, int]]:
        """``n`` faults as (number, kind, target, seed); :func:`run_fault` applies one."""
        for number in range(n):
            kind, target = self.classes[number % len(self.classes)]
            yield number, kind, target, self.rng.getrandbits(64)

    def one(self, kind: str, target: str, number: int = 0) -> tuple[int, str, str, int]:
        return number, kind, target, self.rng.getrandbits(64)


# --- running one fault ------------------------------------------------------------------------


def verify_copy(url: str, key: LedgerKey) -> tuple[bool, str]:
    """Open the store afresh on ``url`` and verify it: (detected, what was named first)."""
    try:
        store = PostgresStore(url, clock=FixedClock(NOW), key=key)
    except StoreError as exc:  # refusing to open a damaged database is a detection too
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
    return named.startswith(f"{fault.log}: {noun} #{fault.seq} (")


def run_fault(template: PgTemplate, admin: Any, number: int, kind: str, target: str, seed: int) -> PgOutcome:
    """Copy the template, make the fault in the copy as its owner, verify it, drop it.

    ``admin`` is an autocommit connection to the server's maintenance database (never to the
    template, which must have no connection while it is copied).
    """
    import psycopg

    victim = f"truceline_tamper_v_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {victim} TEMPLATE {template.name}")
    try:
        url = _url(victim, template.admin_url)
        refused = ""
        with psycopg.connect(url) as conn:
            (detail, log, seq, exact), statements = FAULTS[(kind, target)](template, conn, random.Random(seed))
            try:
                with conn.transaction():
                    for sql, params in statements:
                        conn.execute(sql, params)
            except psycopg.Error as exc:
                refused = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        fault = Fault(number, kind, target, detail, log, seq, exact)
        if refused:
            return PgOutcome(fault, False, "", None, refused)
        detected, named = verify_copy(url, template.key)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {victim} WITH (FORCE)")
    exact_named = _named_exactly(fault, named) if fault.exact and detected else None
    return PgOutcome(fault, detected, named, exact_named)


def untouched(template: PgTemplate, admin: Any) -> tuple[bool, str]:
    """A copy with no fault: it must verify (the check that the harness itself detects nothing)."""
    victim = f"truceline_tamper_v_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {victim} TEMPLATE {template.name}")
    try:
        return verify_copy(_url(victim, template.admin_url), template.key)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {victim} WITH (FORCE)")
