"""The coordination hotline: a digital joint coordination centre with one shared, tamper-evident log.

The old joint centre failed partly because each side kept its own log. Here every query, answer,
coordination attempt and escalation is one :class:`HotlineEntry` in a single hash chain
(``hash = SHA-256(prev_hash || canonical JSON of the entry)``), and each entry is also a record in
the store, so it sits in the records ledger under signed tree heads. :meth:`Hotline.verify` finds
the first entry that was changed, removed or reordered.

>>> from datetime import UTC, datetime
>>> from truceline.store import MemoryStore
>>> line = Hotline(MemoryStore())
>>> t0 = datetime(2026, 9, 1, tzinfo=UTC)
>>> q = line.query("incident-1", sender="MVM", to="RUS", text="Explain fire at 04:10", at=t0)
>>> a = line.answer(q.thread, sender="RUS", text="Training exercise", at=datetime(2026, 9, 1, 2, tzinfo=UTC))
>>> [e.kind for e in line.entries()], line.verify()
(['query', 'answer'], None)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from truceline.act.records import HotlineEntry, register_records
from truceline.model import CreationInfo, Markings
from truceline.store import Store

__all__ = ["GENESIS", "Hotline", "entry_hash"]

GENESIS = "0" * 64
_TYPE = "hotlineentry"


def entry_hash(entry: HotlineEntry) -> str:
    """The chained hash of an entry: SHA-256 over its predecessor's hash and its own content."""
    body = entry.model_dump(mode="json", exclude={"hash", "creation_info"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(bytes.fromhex(entry.prev_hash) + canonical).hexdigest()


class Hotline:
    """The shared log over a store. ``markings`` default to GREEN from the mechanism (``MVM``)."""

    def __init__(self, store: Store, *, markings: Markings | None = None) -> None:
        register_records()
        self.store = store
        self.markings = markings or Markings(tlp="green", originator="MVM")

    def entries(self) -> list[HotlineEntry]:
        """Every entry, in chain order."""
        out = [s.record for s in self.store.records(_TYPE) if isinstance(s.record, HotlineEntry)]
        return sorted(out, key=lambda e: e.seq)

    def _append(self, *, markings: Markings | None = None, **fields: object) -> HotlineEntry:
        entries = self.entries()
        seq = len(entries) + 1
        prev = entries[-1].hash if entries else GENESIS
        at = fields["at"]
        assert isinstance(at, datetime)
        draft = HotlineEntry.model_validate(
            {
                "id": f"hotline--{seq:08d}",
                "seq": seq,
                "prev_hash": prev,
                "hash": "",
                "markings": markings or self.markings,
                "creation_info": CreationInfo(agent="truceline.act.hotline", created=at),
                **fields,
            }
        )
        entry = draft.model_copy(update={"hash": entry_hash(draft)})
        self.store.put_records([entry])
        return entry

    def query(
        self,
        incident: str | None,
        *,
        sender: str,
        to: str,
        text: str,
        at: datetime,
        deadline_hours: float = 2.0,
        sector: str | None = None,
        markings: Markings | None = None,
    ) -> HotlineEntry:
        """Put an incident to a party with a deadline for its answer (``markings``: the query's own)."""
        seq = len(self.entries()) + 1
        return self._append(
            kind="query", thread=f"thread--{seq:08d}", at=at, sender=sender, to=(to,), incident=incident,
            sector=sector, deadline=at + timedelta(hours=deadline_hours), text=text, markings=markings,
        )

    def answer(self, thread: str, *, sender: str, text: str, at: datetime) -> HotlineEntry:
        """Record a party's answer to a query; only the queried party may answer it."""
        query = self._query(thread)
        if sender not in query.to:
            raise ValueError(f"{sender} was not asked in {thread} (asked: {', '.join(query.to)})")
        return self._append(kind="answer", thread=thread, at=at, sender=sender, to=(query.sender,),
                            incident=query.incident, sector=query.sector, text=text, markings=query.markings)

    def coordination_attempt(
        self, *, sender: str, to: Sequence[str], text: str, at: datetime, sector: str | None = None
    ) -> HotlineEntry:
        """Log an attempt to settle something through the joint mechanism (a playbook precondition)."""
        seq = len(self.entries()) + 1
        return self._append(kind="coordination_attempt", thread=f"thread--{seq:08d}", at=at, sender=sender,
                            to=tuple(to), sector=sector, text=text)

    def _query(self, thread: str) -> HotlineEntry:
        for e in self.entries():
            if e.thread == thread and e.kind == "query":
                return e
        raise KeyError(f"no query {thread!r} on the hotline")

    def overdue(self, now: datetime) -> list[HotlineEntry]:
        """Queries past their deadline with neither an answer nor an escalation yet."""
        entries = self.entries()
        closed = {e.thread for e in entries if e.kind in ("answer", "escalation")}
        return [e for e in entries if e.kind == "query" and e.thread not in closed and e.deadline and e.deadline < now]

    def escalate_overdue(
        self, now: datetime, *, to: Sequence[str] = ("USA",), sender: str = "MVM"
    ) -> list[HotlineEntry]:
        """Escalate every overdue query (once), recording who it went to."""
        out = []
        for query in self.overdue(now):
            assert query.deadline is not None
            out.append(
                self._append(
                    kind="escalation", thread=query.thread, at=now, sender=sender, to=tuple(to),
                    incident=query.incident, sector=query.sector, markings=query.markings,
                    text=f"no answer from {', '.join(query.to)} by {query.deadline.isoformat()}",
                )
            )
        return out

    def verify(self) -> str | None:
        """``None`` if the chain is intact, else which entry breaks it and how."""
        prev = GENESIS
        for expected_seq, entry in enumerate(self.entries(), start=1):
            if entry.seq != expected_seq:
                return f"entry {expected_seq} is missing (found seq {entry.seq})"
            if entry.prev_hash != prev:
                return f"entry {entry.seq} does not follow entry {entry.seq - 1}"
            if entry_hash(entry) != entry.hash:
                return f"entry {entry.seq} was altered after it was logged"
            prev = entry.hash
        return None
