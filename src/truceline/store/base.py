"""The Store protocol and the values it exchanges.

A store keeps observations (deduplicated for ever by participant + source + idempotency key),
derived records (incidents, findings, … as immutable versions), processing cursors, and the
evidence ledger over both. Every implementation passes the same contract suite
(``tests/contract``): the in-memory store, the embedded SQLite store, and later PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from truceline.ledger import AuditReport, SignedTreeHead
from truceline.model import ObservationBase, Record
from truceline.store.rows import Row

LogName = Literal["observations", "records"]
LOG_NAMES: tuple[LogName, ...] = ("observations", "records")


@dataclass(frozen=True, slots=True)
class PreparedObservation:
    """A validated observation and the exact bytes to store and enter in the ledger.

    ``body`` is the record's JSON as received (NDJSON) or as serialised by its reader (CSV,
    GeoJSON): the ledger commits to exactly these bytes.
    """

    observation: ObservationBase
    body: bytes


@dataclass(frozen=True, slots=True)
class StoredObservation:
    """An observation as stored: its ledger position, arrival time and leaf hash."""

    seq: int
    received: datetime
    observation: ObservationBase
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class Conflict:
    """A report whose key was already used for a *different* record; it was not stored."""

    index: int
    existing_seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one acknowledged batch did.

    ``seqs[i]`` is the sequence number now holding batch item ``i`` — new or, for a re-sent
    report, the one stored earlier — or ``None`` for an item refused as a conflict.
    """

    seqs: tuple[int | None, ...]
    inserted: int
    duplicates: int
    conflicts: tuple[Conflict, ...] = ()
    tree_head: SignedTreeHead | None = None


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A derived record version as stored."""

    seq: int
    type: str
    id: str
    version: int
    created: datetime
    record: Record
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class ObservationQuery:
    """Filters for reading observations; every field is optional and they combine with AND."""

    after_seq: int = 0
    kinds: tuple[str, ...] | None = None
    participants: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None  # (min_lon, min_lat, max_lon, max_lat)
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class SourceActivity:
    """One source's reports among those a query matches: where it was (its first match, in
    ledger order), when it first and last reported, and how often. Sensors' liveness ("which
    arrays were working around that time?") in one aggregate read instead of every report."""

    participant: str
    source: str
    lon: float
    lat: float
    first: datetime
    last: datetime
    count: int


@dataclass
class LedgerVerification:
    """The result of checking every log of a store."""

    reports: dict[str, AuditReport] = field(default_factory=dict)
    integrity_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.integrity_errors and all(r.ok for r in self.reports.values())


@runtime_checkable
class Store(Protocol):
    """What every store does. Writes are serialised (one writer); reads may run concurrently."""

    # --- observations -------------------------------------------------------------------
    def add_observations(self, batch: Sequence[PreparedObservation]) -> BatchResult:
        """Store a batch durably and enter it in the ledger; return only after the commit.

        Re-sent reports (same participant, source and key, same content) change nothing and
        report their existing ``seq``; a key reused for different content is a ``Conflict``.
        """
        ...

    def add_rows(self, rows: Sequence[Row]) -> BatchResult:
        """:meth:`add_observations` for rows already computed (by parallel ingest workers)."""
        ...

    def get_observation(self, participant: str, source: str, key: str) -> StoredObservation | None: ...

    def get_observations(self, keys: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], StoredObservation]:
        """The stored observations among ``keys`` (participant, source, key), in one read; absent keys are absent."""
        ...

    def observations(self, query: ObservationQuery | None = None) -> Iterator[StoredObservation]:
        """Observations in ``seq`` order matching ``query``."""
        ...

    def count_observations(self, query: ObservationQuery | None = None) -> int: ...

    def source_activity(self, query: ObservationQuery) -> list[SourceActivity]:
        """Per (participant, source) among the observations ``query`` matches (its ``limit``
        ignored), ordered by participant and source; computed where the rows are."""
        ...

    def source_hours(
        self, kind: str, start: datetime, end: datetime, bbox: tuple[float, float, float, float] | None = None
    ) -> list[SourceActivity]:
        """Per (participant, source), its reports of ``kind`` in the whole UTC hours that overlap
        ``[start, end)``, aggregated as :meth:`source_activity` does (place of the first in ledger
        order, first and last time, count), kept if that place lies in ``bbox``; ordered by
        participant and source. The window is widened to whole hours so that a server can answer
        from an hourly summary it keeps as reports arrive, at a cost that does not grow with the
        reports of the window: "which arrays were working around then?" asked once per claim
        while a busy feed is being stored. Under :meth:`reading_as` (PostgreSQL) it counts only
        the reports the reader may read."""
        ...

    def max_seq(self) -> int: ...

    def observation_fields(self, query: ObservationQuery, fields: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The observations ``query`` matches, in ``seq`` order, without building their records:
        ``(seq, participant, source, key, time in epoch seconds, lon, lat, *values)``, a value per
        name in ``fields`` — that top-level field of the stored report, JSON-decoded (``None``
        when absent). For a reader that needs a few fields of a great many reports (fuse
        following a busy feed); the bodies were validated when they were stored."""
        ...

    def kind_counts(self, after_seq: int, upto_seq: int) -> dict[str, int]:
        """How many observations of each kind have ``seq`` in (``after_seq``, ``upto_seq``]: a
        follower's "what arrived?" answered where the rows are, without reading a report."""
        ...

    # --- derived records ------------------------------------------------------------------
    def put_record(self, record: Record, *, type: str | None = None) -> StoredRecord:
        """Store a new version of a derived record (``record.id``); earlier versions remain."""
        ...

    def put_records(self, records: Sequence[Record], *, type: str | None = None) -> list[StoredRecord]:
        """:meth:`put_record` for many records in one transaction (all or none); same order back."""
        ...

    def get_record(self, type: str, id: str, version: int | None = None) -> StoredRecord | None: ...

    def records(self, type: str, *, after_seq: int = 0) -> Iterator[StoredRecord]:
        """The latest version of every record of ``type`` with a version stored after ``after_seq``
        (a record rewritten since a cursor is "new" to whoever holds the cursor), in order of
        first appearance."""
        ...

    def record_history(self, type: str, id: str) -> list[StoredRecord]: ...

    # --- processing cursors ---------------------------------------------------------------
    def get_cursor(self, name: str) -> int: ...

    def set_cursor(self, name: str, value: int) -> None: ...

    # --- ledger ---------------------------------------------------------------------------
    def tree_head(self, log: LogName = "observations") -> SignedTreeHead | None: ...

    def tree_heads(self, log: LogName = "observations") -> list[SignedTreeHead]: ...

    def inclusion_proof(self, log: LogName, seq: int, tree_size: int | None = None) -> list[bytes]: ...

    def consistency_proof(self, log: LogName, size1: int, size2: int) -> list[bytes]: ...

    def verify_ledger(self) -> LedgerVerification:
        """Recompute every leaf, node and tree head; name the first bad record of each log."""
        ...

    def close(self) -> None: ...
