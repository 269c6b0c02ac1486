"""The schema as the store created it before Alembic (its ``truceline_schema`` version 1).

The same tables as the SQLite store; positions also as a PostGIS point with a GiST index.
A database made by that earlier mechanism is stamped at this revision, not rebuilt.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS postgis;

-- The version table of the earlier mechanism, kept so that a Truceline older than Alembic
-- refuses a database newer than it understands instead of writing into it.
CREATE TABLE IF NOT EXISTS truceline_schema (version INTEGER NOT NULL);

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

INSERT INTO truceline_schema (version) VALUES (1);
"""


def upgrade() -> None:
    # On psycopg's own connection, in Alembic's transaction: one script, no parameters.
    conn = op.get_bind().connection.driver_connection
    assert conn is not None
    conn.execute(SCHEMA)
