"""The in-memory store: the test double every stage's tests use (no disk, same contract)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from truceline.ledger import (
    LedgerKey,
    MemoryNodeStore,
    SignedTreeHead,
    audit_log,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)
from truceline.model import Clock, ObservationBase, Record, SystemClock
from truceline.store._common import (
    kind_counts_of,
    matches,
    observation_fields_of,
    parse_observation,
    record_id,
    record_type,
    same_report,
    serialise,
    source_activity_of,
    source_hours_of,
)
from truceline.store._ledgerlog import LedgerLog
from truceline.store.base import (
    BatchResult,
    Conflict,
    LedgerVerification,
    LogName,
    ObservationQuery,
    PreparedObservation,
    SourceActivity,
    StoredObservation,
    StoredRecord,
)
from truceline.store.rows import BODY, KEY, LEAF_HASH, PARTICIPANT, SOURCE, Row, observation_row


class MemoryStore:
    """A complete store held in memory; nothing survives the process.

    >>> store = MemoryStore()
    >>> store.max_seq()
    0
    """

    def __init__(self, *, clock: Clock | None = None, key: LedgerKey | None = None) -> None:
        self._clock = clock or SystemClock()
        self._key = key or LedgerKey.generate()
        self._lock = threading.Lock()
        self._observations: list[StoredObservation] = []
        self._bodies: list[bytes] = []
        self._by_key: dict[tuple[str, str, str], int] = {}
        self._records: list[StoredRecord] = []
        self._record_bodies: list[bytes] = []
        self._versions: dict[tuple[str, str], list[int]] = {}
        self._cursors: dict[str, int] = {}
        self._logs = {name: LedgerLog(name, self._key) for name in ("observations", "records")}
        self._nodes = {name: MemoryNodeStore() for name in ("observations", "records")}
        self._heads: dict[str, list[SignedTreeHead]] = {"observations": [], "records": []}

    # --- observations -------------------------------------------------------------------
    def add_observations(self, batch: Sequence[PreparedObservation]) -> BatchResult:
        return self._add([(observation_row(i.observation, i.body), i.observation) for i in batch])

    def add_rows(self, rows: Sequence[Row]) -> BatchResult:
        return self._add([(row, parse_observation(row[BODY])) for row in rows])

    def _add(self, items: Sequence[tuple[Row, ObservationBase]]) -> BatchResult:
        with self._lock:
            seqs: list[int | None] = []
            conflicts: list[Conflict] = []
            new_leaves: list[bytes] = []
            inserted = duplicates = 0
            now = self._clock.now()
            for i, (row, obs) in enumerate(items):
                k = (row[PARTICIPANT], row[SOURCE], row[KEY])
                existing = self._by_key.get(k)
                if existing is not None:
                    if same_report(self._bodies[existing - 1], obs, row[BODY]):
                        duplicates += 1
                        seqs.append(existing)
                    else:
                        conflicts.append(Conflict(i, existing, _CONFLICT_REASON))
                        seqs.append(None)
                    continue
                seq = len(self._observations) + 1
                self._observations.append(StoredObservation(seq, now, obs, row[LEAF_HASH]))
                self._bodies.append(row[BODY])
                self._by_key[k] = seq
                new_leaves.append(row[LEAF_HASH])
                seqs.append(seq)
                inserted += 1
            head = self._append_log("observations", new_leaves, now) if new_leaves else self.tree_head()
            return BatchResult(tuple(seqs), inserted, duplicates, tuple(conflicts), head)

    def _append_log(self, log: str, leaves: list[bytes], now: datetime) -> SignedTreeHead:
        """Append a batch's leaves and sign its head at ``now``, the batch's receipt or creation time."""
        nodes = self._nodes[log]
        start = self._logs[log].size
        persisted = self._logs[log].append(leaves)
        nodes.put_leaves(start, leaves)
        nodes.put_nodes(persisted)
        head = self._logs[log].sign(now)
        self._heads[log].append(head)
        return head

    def get_observation(self, participant: str, source: str, key: str) -> StoredObservation | None:
        seq = self._by_key.get((participant, source, key))
        return None if seq is None else self._observations[seq - 1]

    def get_observations(self, keys: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], StoredObservation]:
        found = {k: self._by_key.get(k) for k in keys}
        return {k: self._observations[seq - 1] for k, seq in found.items() if seq is not None}

    def observations(self, query: ObservationQuery | None = None) -> Iterator[StoredObservation]:
        q = query or ObservationQuery()
        n = 0
        for stored in list(self._observations[q.after_seq :]):
            if matches(q, stored.seq, stored.observation):
                if q.limit is not None and n >= q.limit:
                    return
                n += 1
                yield stored

    def count_observations(self, query: ObservationQuery | None = None) -> int:
        q = query or ObservationQuery()
        return sum(1 for s in self._observations if matches(q, s.seq, s.observation))

    def max_seq(self) -> int:
        return len(self._observations)

    def observation_fields(self, query: ObservationQuery, fields: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        return observation_fields_of(((s, self._bodies[s.seq - 1]) for s in self.observations(query)), fields)

    def kind_counts(self, after_seq: int, upto_seq: int) -> dict[str, int]:
        return kind_counts_of(self._observations[max(after_seq, 0) : max(upto_seq, 0)], after_seq, upto_seq)

    def source_activity(self, query: ObservationQuery) -> list[SourceActivity]:
        return source_activity_of(self.observations(replace(query, limit=None)))

    def source_hours(
        self, kind: str, start: datetime, end: datetime, bbox: tuple[float, float, float, float] | None = None
    ) -> list[SourceActivity]:
        return source_hours_of(self.observations(), kind, start, end, bbox)

    # --- derived records ------------------------------------------------------------------
    def put_record(self, record: Record, *, type: str | None = None) -> StoredRecord:
        return self.put_records([record], type=type)[0]

    def put_records(self, records: Sequence[Record], *, type: str | None = None) -> list[StoredRecord]:
        with self._lock:
            # Serialise everything first: a record that cannot be stored leaves nothing behind.
            prepared = [(record_type(r, type), record_id(r), serialise(r), r) for r in records]
            now = self._clock.now()
            out: list[StoredRecord] = []
            for rtype, rid, body, record in prepared:
                versions = self._versions.setdefault((rtype, rid), [])
                stored = StoredRecord(
                    seq=len(self._records) + 1,
                    type=rtype,
                    id=rid,
                    version=len(versions) + 1,
                    created=now,
                    record=record,
                    leaf_hash=leaf_hash(body),
                )
                self._records.append(stored)
                self._record_bodies.append(body)
                versions.append(stored.seq)
                out.append(stored)
            if out:
                self._append_log("records", [s.leaf_hash for s in out], now)
            return out

    def get_record(self, type: str, id: str, version: int | None = None) -> StoredRecord | None:
        versions = self._versions.get((type, id))
        if not versions:
            return None
        if version is None:
            return self._records[versions[-1] - 1]
        if 1 <= version <= len(versions):
            return self._records[versions[version - 1] - 1]
        return None

    def records(self, type: str, *, after_seq: int = 0) -> Iterator[StoredRecord]:
        changed = {s.id for s in list(self._records) if s.type == type and s.seq > after_seq}
        # In order of first appearance (the first version's seq), as the contract says — not of
        # the first version after the cursor, which differs when records are rewritten out of order.
        for rid in sorted(changed, key=lambda rid: self._versions[(type, rid)][0]):
            latest = self.get_record(type, rid)
            if latest is not None:
                yield latest

    def record_history(self, type: str, id: str) -> list[StoredRecord]:
        return [self._records[s - 1] for s in self._versions.get((type, id), [])]

    # --- cursors --------------------------------------------------------------------------
    def get_cursor(self, name: str) -> int:
        return self._cursors.get(name, 0)

    def set_cursor(self, name: str, value: int) -> None:
        self._cursors[name] = value

    # --- ledger ---------------------------------------------------------------------------
    def tree_head(self, log: LogName = "observations") -> SignedTreeHead | None:
        heads = self._heads[log]
        return heads[-1] if heads else None

    def tree_heads(self, log: LogName = "observations") -> list[SignedTreeHead]:
        return list(self._heads[log])

    def inclusion_proof(self, log: LogName, seq: int, tree_size: int | None = None) -> list[bytes]:
        size = self._logs[log].size if tree_size is None else tree_size
        return inclusion_proof(self._nodes[log], seq - 1, size)

    def consistency_proof(self, log: LogName, size1: int, size2: int) -> list[bytes]:
        return consistency_proof(self._nodes[log], size1, size2)

    def verify_ledger(self) -> LedgerVerification:
        result = LedgerVerification()
        obs_items = (
            (f"observation #{s.seq} ({'/'.join(s.observation.dedup_key)})", body, s.leaf_hash, s.received.timestamp())
            for s, body in zip(self._observations, self._bodies, strict=True)
        )
        result.reports["observations"] = audit_log(
            obs_items,
            self._heads["observations"],
            self._key.public_key,
            self._nodes["observations"],
            batches_signed=True,
        )
        rec_items = (
            (f"{s.type} {s.id} v{s.version} (#{s.seq})", body, s.leaf_hash, s.created.timestamp())
            for s, body in zip(self._records, self._record_bodies, strict=True)
        )
        result.reports["records"] = audit_log(
            rec_items, self._heads["records"], self._key.public_key, self._nodes["records"], batches_signed=True
        )
        return result

    def close(self) -> None:
        """Nothing to release; present for the protocol."""


_CONFLICT_REASON = "this participant, source and key already identify a different report"
