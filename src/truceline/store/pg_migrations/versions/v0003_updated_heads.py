"""``records(type, after_seq)`` means records with a version stored after ``after_seq``.

Revision 0002's ``truceline_visible_heads`` (the reader's path under row-level security) kept a
record only if its *first* version came after ``after_seq``, as the writer's query did. A stage
that reads "what changed since my cursor" (attribute, verify) then never saw a record that an
earlier stage had rewritten — an incident fuse relocated kept no attribution. Both now keep a
record whose *latest* version is after ``after_seq``, still in order of first storage.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DDL = r"""
CREATE OR REPLACE FUNCTION @s@.truceline_visible_heads(record_type text, after_seq bigint)
    RETURNS TABLE (head_seq bigint, head_ord bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = @s@, pg_temp
    AS $$
        SELECT h.seq, row_number() OVER (ORDER BY h.first)
        FROM (
            SELECT r.seq, l.first, r.tlp, r.originator, r.releasable_to, r.sharing_group
            FROM @s@.records AS r
            JOIN (
                SELECT v.id, min(v.seq) AS first, max(v.version) AS latest, max(v.seq) AS last
                FROM @s@.records AS v WHERE v.type = $1 GROUP BY v.id
            ) AS l ON r.id = l.id AND r.version = l.latest
            WHERE r.type = $1 AND l.last > $2
        ) AS h
        WHERE @s@.truceline_may_read(h.tlp, h.originator, h.releasable_to, h.sharing_group)
    $$;

INSERT INTO @s@.truceline_schema (version) VALUES (3);
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    assert conn is not None
    schema = conn.execute("SELECT current_schema()").fetchone()[0]
    quoted = '"' + schema.replace('"', '""') + '"'
    conn.execute(DDL.replace("@s@", quoted))
