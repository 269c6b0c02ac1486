"""Schema migrations of the embedded SQLite store, applied in order, tracked in user_version."""

from __future__ import annotations

import sqlite3

from truceline.model import SchemaVersionError

MIGRATIONS: tuple[str, ...] = (
    # 1: observations with a permanent dedup key, an R*Tree, derived records, cursors, ledger.
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE observations (
        seq           INTEGER PRIMARY KEY,      -- ledger leaf index + 1
        participant   TEXT    NOT NULL,
        source        TEXT    NOT NULL,
        key           TEXT    NOT NULL,
        kind          TEXT    NOT NULL,
        time          REAL    NOT NULL,         -- epoch seconds, UTC
        lat           REAL,
        lon           REAL,
        tlp           TEXT    NOT NULL,
        sharing_group TEXT,
        received      REAL    NOT NULL,
        body          BLOB    NOT NULL,         -- the exact bytes the ledger commits to
        leaf_hash     BLOB    NOT NULL,
        UNIQUE (participant, source, key)
    );
    CREATE INDEX observations_time ON observations (time);

    -- The spatial index: an R*Tree over space-time buckets (the observations of one batch that
    -- fall in one grid cell), each listing its members. One R*Tree insert per bucket instead
    -- of per observation keeps durable ingest fast; queries refine on the exact columns.
    CREATE TABLE spatial_buckets (
        id    INTEGER PRIMARY KEY,
        seqs  BLOB    NOT NULL                  -- packed little-endian int64 sequence numbers
    );
    CREATE VIRTUAL TABLE observations_rtree USING rtree (
        id, min_lon, max_lon, min_lat, max_lat, min_time, max_time
    );

    CREATE TABLE records (
        seq       INTEGER PRIMARY KEY,          -- leaf index + 1 in the 'records' log
        type      TEXT    NOT NULL,
        id        TEXT    NOT NULL,
        version   INTEGER NOT NULL,
        created   REAL    NOT NULL,
        body      BLOB    NOT NULL,
        leaf_hash BLOB    NOT NULL,
        UNIQUE (type, id, version)
    );
    CREATE INDEX records_type ON records (type, seq);

    CREATE TABLE cursors (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE ledger_nodes (
        log   TEXT    NOT NULL,
        level INTEGER NOT NULL,
        idx   INTEGER NOT NULL,
        hash  BLOB    NOT NULL,
        PRIMARY KEY (log, level, idx)
    ) WITHOUT ROWID;

    CREATE TABLE tree_heads (
        log        TEXT    NOT NULL,
        tree_size  INTEGER NOT NULL,
        body       TEXT    NOT NULL,            -- the signed tree head as JSON
        PRIMARY KEY (log, tree_size)
    ) WITHOUT ROWID;
    """,
    # 2: "what of my kinds arrived since my cursor?" without scanning the acoustic picks.
    """
    CREATE INDEX IF NOT EXISTS observations_kind ON observations (kind, seq);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database up to :data:`SCHEMA_VERSION`; refuse one written by a newer release."""
    (current,) = conn.execute("PRAGMA user_version").fetchone()
    if current > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"database schema version {current} is newer than this Truceline understands "
            f"({SCHEMA_VERSION}); upgrade Truceline"
        )
    for version in range(current, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION


def _split(script: str) -> list[str]:
    # executescript() would COMMIT implicitly; run statements one by one inside our transaction.
    statements, buffer = [], ""
    for line in script.splitlines():
        code = line.split("--", 1)[0]
        buffer += code + "\n"
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
