"""Reading as a participant under PostgreSQL row-level security: the second wall.

The policy layer (:mod:`truceline.policy`) decides what a requester may read; it is the first
wall and stays the only one that shapes responses. Behind it, when the store is PostgreSQL, the
reads made for a requester run as the role ``truceline_reader`` with the requester's participant
and groups set for the transaction (``SET LOCAL``). Row-level security (revision 0002 of the
store's migrations) then lets the database return only rows that
:func:`truceline.policy.rules.participant_sees` would allow, so a read path that forgot to filter
still cannot hand out a row its requester may not read.

What it guards against is a mistake in the application, not a hostile database session: a
session that can run arbitrary SQL can also set ``truceline.participant`` to whatever it likes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

READER_ROLE = "truceline_reader"
"""The role reads for a participant run as; created (if missing) by the store's migrations."""


@dataclass(frozen=True)
class ActingReader:
    """Whom a read is made for, as the database is told it.

    ``participant`` is None unless the policy context confirms a *current* participant (a
    departed or unknown one may read TLP:CLEAR only); ``groups`` are the sharing groups the
    context confirms the requester acts in.
    """

    participant: str | None
    groups: frozenset[str]

    @classmethod
    def of(cls, participant: str | None, groups: Iterable[str] = ()) -> ActingReader:
        return cls(participant or None, frozenset(groups))


ACTING: ContextVar[tuple[object, ActingReader] | None] = ContextVar("truceline_pg_acting_reader", default=None)
"""The store whose reads are being made for someone in this context, and for whom."""


def enter_reader(conn: Any, reader: ActingReader) -> None:
    """Inside a transaction on ``conn``: act as ``reader`` until the transaction ends."""
    conn.execute(f"SET LOCAL ROLE {READER_ROLE}")
    conn.execute(
        "SELECT set_config('truceline.participant', %s, true), set_config('truceline.groups', %s, true)",
        (reader.participant or "", json.dumps(sorted(reader.groups))),
    )
