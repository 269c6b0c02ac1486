"""Read paths: every list is filtered by the policy *before* it is paginated or counted.

Page sizes, ``total`` and cursors come from the visible rows only, so that no figure in a
response counts a record the requester may not see. Observation cursors are encrypted: they hold
store positions, and a bare position would tell a client how many hidden reports lie between two
it can see.

When the store is PostgreSQL, each read below also runs as the requester in the database
(:func:`truceline.policy.reading_as_requester`): row-level security there is a second wall behind the policy,
which still filters everything exactly as it would without it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence

import numpy as np
from cryptography.fernet import Fernet, InvalidToken

from truceline.model import Markings, ObservationBase, Record
from truceline.policy import MarkedDocument, MarkingsTable, Policy, Principal, reading_as_requester
from truceline.server.schemas import ObservationPage, RecordPage
from truceline.store import ObservationQuery, Store, StoredRecord

RECORD_COLLECTIONS: dict[str, str] = {
    "incidents": "incident",
    "findings": "finding",
    "assessments": "assessment",
    "alerts": "alert",
}
"""URL collection name → the store's record type."""

_SCAN_CHUNK = 2_000


class BadCursor(ValueError):
    """A cursor this server did not issue (or issued under another key)."""


def marked(record: Record) -> MarkedDocument:
    """A stored record as the policy sees it: its markings and its JSON body."""
    markings: Markings = record.markings  # type: ignore[attr-defined]
    return MarkedDocument(markings, record.model_dump(mode="json"))


def _sector(stored: StoredRecord) -> str | None:
    value = getattr(stored.record, "sector", None)
    return value if isinstance(value, str) else None


def list_records(
    store: Store,
    policy: Policy,
    principal: Principal,
    collection: str,
    *,
    offset: int,
    limit: int,
    sector: str | None = None,
) -> RecordPage:
    """One page of the latest versions of ``collection`` the principal may see."""
    with reading_as_requester(store, policy, principal):
        stored = list(store.records(RECORD_COLLECTIONS[collection]))
    if sector is not None:
        # Safe only because ``sector`` carries no field marking of its own: a filter on a
        # withheld field would let a client probe its hidden value.
        stored = [s for s in stored if _sector(s) == sector]
    table = MarkingsTable.from_markings(marked(s.record).markings for s in stored)
    visible_rows = np.flatnonzero(policy.visible_mask(principal, table))
    page = visible_rows[offset : offset + limit]
    items = policy.read_many(principal, collection, [marked(stored[int(i)].record) for i in page])
    return RecordPage(items=items, total=int(visible_rows.size), offset=offset, limit=limit)


def read_record(
    store: Store, policy: Policy, principal: Principal, collection: str, record_id: str
) -> dict[str, object]:
    """One record, or the same :class:`NotFoundOrHidden` for a missing and a hidden one."""
    with reading_as_requester(store, policy, principal):
        stored = store.get_record(RECORD_COLLECTIONS[collection], record_id)
    document = marked(stored.record) if stored is not None else None
    return policy.read(principal, f"{collection}/{record_id}", document)


class CursorCodec:
    """Opaque, authenticated observation cursors (Fernet under the server's cursor key)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the cursor key must be 32 bytes")
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encode(self, seq: int) -> str:
        return self._fernet.encrypt(str(seq).encode("ascii")).decode("ascii")

    def decode(self, cursor: str) -> int:
        try:
            return int(self._fernet.decrypt(cursor.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeEncodeError):
            raise BadCursor("cursor is not one this server issued; start again without it") from None


def _scan(store: Store, query: ObservationQuery) -> Iterator[tuple[int, ObservationBase]]:
    after = query.after_seq
    while True:
        chunk = list(
            store.observations(
                ObservationQuery(after_seq=after, kinds=query.kinds, participants=query.participants, limit=_SCAN_CHUNK)
            )
        )
        for stored in chunk:
            yield stored.seq, stored.observation
        if len(chunk) < _SCAN_CHUNK:
            return
        after = chunk[-1].seq


def list_observations(
    store: Store,
    policy: Policy,
    principal: Principal,
    codec: CursorCodec,
    *,
    cursor: str | None,
    limit: int,
    kinds: Sequence[str] | None,
    participants: Sequence[str] | None,
) -> ObservationPage:
    """Visible observations in arrival order, ``limit`` at a time."""
    after = codec.decode(cursor) if cursor else 0
    query = ObservationQuery(
        after_seq=after,
        kinds=tuple(kinds) if kinds else None,
        participants=tuple(participants) if participants else None,
    )
    shown: list[MarkedDocument] = []
    last_seq = after
    more = False
    with reading_as_requester(store, policy, principal):
        for seq, obs in _scan(store, query):
            if not policy.visible(principal, obs.markings):
                continue
            if len(shown) == limit:
                more = True
                break
            shown.append(MarkedDocument(obs.markings, obs.model_dump(mode="json")))
            last_seq = seq
    items = policy.read_many(principal, "observations", shown)
    return ObservationPage(items=items, next=codec.encode(last_seq) if more else None)


def read_observation(
    store: Store, policy: Policy, principal: Principal, participant: str, source: str, key: str
) -> dict[str, object]:
    """One observation by its permanent identity; missing and hidden look the same."""
    with reading_as_requester(store, policy, principal):
        stored = store.get_observation(participant, source, key)
    ref = f"observation/{participant}/{source}/{key}"
    if stored is None:
        return policy.read(principal, ref, None)
    obs = stored.observation
    return policy.read(principal, ref, MarkedDocument(obs.markings, obs.model_dump(mode="json")))


__all__ = [
    "RECORD_COLLECTIONS",
    "BadCursor",
    "CursorCodec",
    "list_observations",
    "list_records",
    "marked",
    "read_observation",
    "read_record",
]
