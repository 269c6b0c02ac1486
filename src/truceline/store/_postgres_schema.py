"""Schema migrations of the PostgreSQL + PostGIS store, tracked in ``truceline_schema``."""

from __future__ import annotations

from typing import Any

from truceline.model import SchemaVersionError

MIGRATIONS: tuple[str, ...] = (
    # 1: the same tables as the SQLite store; positions also as a PostGIS point with a GiST index.
    """
    CREATE EXTENSION IF NOT EXISTS postgis;

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE TABLE observations (
        seq           BIGINT PRIMARY KEY,
        participant   TEXT   NOT NULL,
        source        TEXT   NOT NULL,
        key           TEXT   NOT NULL,
        kind          TEXT   NOT NULL,
        time          DOUBLE PRECISION NOT NULL,
        lat           DOUBLE PRECISION,
        lon           DOUBLE PRECISION,
        tlp           TEXT   NOT NULL,
        sharing_group TEXT,
        received      DOUBLE PRECISION NOT NULL,
        body          BYTEA  NOT NULL,
        leaf_hash     BYTEA  NOT NULL,
        -- Derived from lat/lon by the database itself, so the two can never drift apart.
        geom          geometry(Point, 4326) GENERATED ALWAYS AS (
                          CASE WHEN lon IS NULL OR lat IS NULL THEN NULL
                               ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END
                      ) STORED,
        UNIQUE (participant, source, key)
    );
    CREATE INDEX observations_time ON observations (time);
    CREATE INDEX observations_geom ON observations USING GIST (geom);

    CREATE TABLE records (
        seq       BIGINT  PRIMARY KEY,
        type      TEXT    NOT NULL,
        id        TEXT    NOT NULL,
        version   INTEGER NOT NULL,
        created   DOUBLE PRECISION NOT NULL,
        body      BYTEA   NOT NULL,
        leaf_hash BYTEA   NOT NULL,
        UNIQUE (type, id, version)
    );
    CREATE INDEX records_type ON records (type, seq);

    CREATE TABLE cursors (
        name  TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );

    CREATE TABLE ledger_nodes (
        log   TEXT    NOT NULL,
        level INTEGER NOT NULL,
        idx   BIGINT  NOT NULL,
        hash  BYTEA   NOT NULL,
        PRIMARY KEY (log, level, idx)
    );

    CREATE TABLE tree_heads (
        log       TEXT   NOT NULL,
        tree_size BIGINT NOT NULL,
        body      TEXT   NOT NULL,
        PRIMARY KEY (log, tree_size)
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: Any) -> int:
    """Bring the database up to :data:`SCHEMA_VERSION` (one transaction per migration)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('truceline-migrate'))")
        conn.execute("CREATE TABLE IF NOT EXISTS truceline_schema (version INTEGER NOT NULL)")
        row = conn.execute("SELECT max(version) FROM truceline_schema").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        if current > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"database schema version {current} is newer than this Truceline understands "
                f"({SCHEMA_VERSION}); upgrade Truceline"
            )
        for version in range(current, SCHEMA_VERSION):
            conn.execute(MIGRATIONS[version])
            conn.execute("INSERT INTO truceline_schema (version) VALUES (%s)", (version + 1,))
    return SCHEMA_VERSION
