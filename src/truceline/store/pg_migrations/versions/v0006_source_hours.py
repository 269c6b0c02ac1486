"""``source_hours``: each source's reports summarised per kind and UTC hour.

A claim's coverage asks which acoustic arrays reported within three hours of the claimed time.
Answered from the observations, that read is a scan of every report of the window (at 5,000
reports a second, over a million rows: 0.26–0.34 s a claim), its plan chosen from statistics that
end before the newest rows. The summary holds one row per (kind, hour, participant, source) —
the place of the hour's first report (in ledger order), the first and last time and the count.
Ingest does not write it (every batch would pay a statement under the writers' one lock): the
first reader after new reports folds in those past ``source_hours_mark`` (``PostgresStore.
_refresh_source_hours``), so the table starts empty and fills on the first read.
``Store.source_hours`` reads it; the window becomes whole hours.

The tables are the owner's: the reader role has no grant on them, so reads made for a participant
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

CREATE TABLE @s@.source_hours_mark (seq BIGINT NOT NULL);  -- reports up to here are summarised
INSERT INTO @s@.source_hours_mark (seq) VALUES (0);

INSERT INTO @s@.truceline_schema (version) VALUES (6);
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    assert conn is not None
    schema = conn.execute("SELECT current_schema()").fetchone()[0]
    quoted = '"' + schema.replace('"', '""') + '"'
    conn.execute(DDL.replace("@s@", quoted))
