"""An index on observations (kind, seq) but acoustic picks: "what of my kinds arrived since my cursor?".

Stages read their kinds after a cursor (attribute's claims, verify's sightings, assess's
indicators) while the bulk of the rows are acoustic picks. Without this index each such read
scanned every observation stored since the cursor — or since the beginning, for verify's history
— which beside a 5,000-a-second feed grew by a quarter of a million rows a minute. The picks are
left out of it (a partial index): fuse reads them by ``seq`` range, and indexing them cost ingest
a tenth of its rate at 5,000 reports a second (4,491/s against 4,902/s in one minute).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DDL = r"""
CREATE INDEX IF NOT EXISTS observations_kind ON @s@.observations (kind, seq) WHERE kind <> 'acoustic_arrival';
INSERT INTO @s@.truceline_schema (version) VALUES (4);
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    assert conn is not None
    schema = conn.execute("SELECT current_schema()").fetchone()[0]
    quoted = '"' + schema.replace('"', '""') + '"'
    conn.execute(DDL.replace("@s@", quoted))
