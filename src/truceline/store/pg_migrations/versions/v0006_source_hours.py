"""``source_hours``: each source's reports summarised per kind and UTC hour, kept as they arrive.

A claim's coverage asks which acoustic arrays reported within three hours of the claimed time.
Answered from the observations, that read is a scan of every report of the window (at 5,000
reports a second, over a million rows: 0.26–0.34 s a claim), its plan chosen from statistics that
end before the newest rows. The summary holds one row per (kind, hour, participant, source) —
the place of the first report of that hour (in ledger order), the first and last time and the
count — written in the same statement that stores a batch, so it is exactly as durable as the
reports and never ahead of them. ``Store.source_hours`` reads it; the window becomes whole hours.

The table is the owner's: the reader role has no grant on it, so reads made for a participant
(under row-level security) take the observations themselves.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DDL = r"""
CREATE TABLE @s@.source_hours (
    kind        TEXT    NOT NULL,
    hour        BIGINT  NOT NULL,  -- floor(time / 3600): hours since the epoch, UTC
    participant TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    first_seq   BIGINT  NOT NULL,  -- the hour's first report in ledger order ...
    lon         DOUBLE PRECISION,  -- ... and where it was made
    lat         DOUBLE PRECISION,
    t0          DOUBLE PRECISION NOT NULL,
    t1          DOUBLE PRECISION NOT NULL,
    n           BIGINT  NOT NULL,
    PRIMARY KEY (kind, hour, participant, source)
);

INSERT INTO @s@.source_hours (kind, hour, participant, source, first_seq, lon, lat, t0, t1, n)
SELECT g.kind, g.hour, g.participant, g.source, g.first_seq, o.lon, o.lat, g.t0, g.t1, g.n
FROM (
    SELECT kind, floor(time / 3600)::bigint AS hour, participant, source,
           min(seq) AS first_seq, min(time) AS t0, max(time) AS t1, count(*) AS n
    FROM @s@.observations GROUP BY 1, 2, 3, 4
) AS g JOIN @s@.observations AS o ON o.seq = g.first_seq;

INSERT INTO @s@.truceline_schema (version) VALUES (6);
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    assert conn is not None
    schema = conn.execute("SELECT current_schema()").fetchone()[0]
    quoted = '"' + schema.replace('"', '""') + '"'
    conn.execute(DDL.replace("@s@", quoted))
