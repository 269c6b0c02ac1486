"""The dashboard's in-memory index of the stages' records, rebuilt when the store changes.

Reading a record back from the store means validating it as its model (about half a millisecond
for an incident), so 10,000 incidents cost seconds: far too slow to do on every page load. The
index reads every latest record once, keeps for each a *compact row* (what the map, timeline and
feed draw) with its markings, and is rebuilt in a background thread when the records ledger grows
(its tree size is the version). Requests meanwhile get the previous snapshot, flagged ``stale``.

The index decides nothing about visibility: it holds every record, and each request passes the
rows it would show through the policy layer (:mod:`truceline.dashboard.views`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.act import Activation, DirectiveTask
from truceline.model import Alert, Assessment, Finding, Incident, Location, Markings, Record
from truceline.policy import MarkingsTable
from truceline.report import escalation_of
from truceline.store import Store

log = logging.getLogger(__name__)

FIRST_BUILD_WAIT_S = 120.0
"""How long a request waits for the very first snapshot before it is told to try again."""

INCIDENT_KINDS: tuple[str, ...] = ("fire", "incursion", "air", "sea", "staging", "other")
INCIDENT_STATUSES: tuple[str, ...] = ("preliminary", "reviewed", "final", "rejected")
FINDING_STATUSES: tuple[str, ...] = ("provisional", "confirmed", "disputed", "closed")
UNATTRIBUTED = ""


class SnapshotUnavailable(RuntimeError):
    """No snapshot could be built (yet): the message says why, in words for the page."""


def _place(loc: Location | None) -> dict[str, Any]:
    if loc is None:
        return {"lat": None, "lon": None, "a": None, "b": None, "az": None}
    e = loc.error
    return {
        "lat": round(loc.lat, 5),
        "lon": round(loc.lon, 5),
        "a": round(e.semi_major_m, 1),
        "b": round(e.semi_minor_m, 1),
        "az": round(e.orientation_deg, 1),
    }


def incident_row(incident: Incident) -> dict[str, Any]:
    """What the map, the list and the timeline need of an incident."""
    origin = incident.preferred_origin
    location = origin.location if origin is not None else (incident.impacts[0] if incident.impacts else None)
    side, p = UNATTRIBUTED, None
    attribution = next((a for a in incident.attributions if a.id == incident.preferred_attribution_id), None)
    if attribution is None and incident.attributions:
        attribution = incident.attributions[-1]
    if attribution is not None and attribution.probabilities:
        side, p = max(attribution.probabilities.items(), key=lambda kv: kv[1])
    return {
        "id": incident.id,
        "t": int(incident.start.timestamp()),
        **_place(location),
        "side": side,
        "p": None if p is None else round(p, 3),
        "kind": incident.kind,
        "status": incident.evaluation_status,
        "sector": incident.sector or "",
        "weapon": incident.weapon_class or "",
        "n": len(incident.observations),
        "origins": len(incident.origins),
        "tlp": incident.markings.tlp,
    }


def finding_row(finding: Finding) -> dict[str, Any]:
    # The first incident and how many: a ceasefire finding per incident would otherwise send
    # every incident id twice.
    return {
        "id": finding.id,
        "clause": finding.clause_id,
        "text": finding.clause_text,
        "side": finding.side or "",
        "confidence": round(finding.confidence, 3),
        "status": finding.status,
        "sector": finding.sector or "",
        **_place(finding.location),
        "first": int(finding.first_seen.timestamp()),
        "last": int(finding.last_seen.timestamp()),
        "incident": finding.incidents[0] if finding.incidents else None,
        "n_incidents": len(finding.incidents),
        "tlp": finding.markings.tlp,
    }


def assessment_row(a: Assessment) -> dict[str, Any]:
    return {
        "id": a.id,
        "sector": a.sector,
        "day": a.day,
        "level": a.warning_level,
        "p7": round(a.p_offensive_7d, 4),
        "p14": round(a.p_offensive_14d, 4),
        "branching": None if a.branching_ratio is None else round(a.branching_ratio, 3),
        "escalation": escalation_of(a),
        "drivers": [
            {"indicator": d.indicator, "value": round(d.value, 3), "contribution": round(d.contribution, 3),
             "description": d.description}
            for d in a.drivers
        ],
        "tlp": a.markings.tlp,
    }


def feed_row(record: Record) -> dict[str, Any] | None:
    """An alert, playbook activation or directive task as one line of the live feed."""
    body: dict[str, Any]
    if isinstance(record, Alert):
        body = {"type": "alert", "time": record.sent, "title": record.headline, "severity": record.severity,
                "what": record.kind, "sector": record.sector, "text": record.description}
    elif isinstance(record, Activation):
        body = {"type": "activation", "time": record.activated, "title": record.name or record.scenario,
                "what": record.scenario, "sector": record.sector, "text": ", ".join(record.directives)}
    elif isinstance(record, DirectiveTask):
        body = {"type": "directive", "time": record.issued, "title": record.title or record.directive,
                "what": record.status, "sector": record.sector, "owner": record.owner,
                "deadline": record.deadline.isoformat(), "text": record.blocked_by, "status": record.status,
                "acknowledged_by": record.acknowledged_by,
                "acknowledged_at": record.acknowledged_at.isoformat() if record.acknowledged_at else None,
                "note": record.note}
    else:
        return None
    body["id"] = record.id
    body["t"] = int(body.pop("time").timestamp())
    body["tlp"] = record.markings.tlp
    return body


@dataclass(frozen=True)
class Table:
    """Compact rows of one record type, their markings as policy columns, and per-row UTC days."""

    rows: list[dict[str, Any]]
    markings: list[Markings]
    table: MarkingsTable
    first_day: NDArray[np.int64]
    last_day: NDArray[np.int64]

    @classmethod
    def of(cls, items: Iterable[tuple[dict[str, Any], Markings, int, int]]) -> Table:
        listed = list(items)
        return cls(
            rows=[r for r, _, _, _ in listed],
            markings=[m for _, m, _, _ in listed],
            table=MarkingsTable.from_markings(m for _, m, _, _ in listed),
            first_day=np.array([d for _, _, d, _ in listed], dtype=np.int64),
            last_day=np.array([d for _, _, _, d in listed], dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class Snapshot:
    """Every latest record the dashboard draws, as of records-ledger size ``version``."""

    version: int
    built: datetime
    incidents: Table
    findings: Table
    assessments: Table
    feed: Table
    findings_by_incident: dict[str, list[int]] = field(default_factory=dict)
    """Rows of ``findings`` citing each incident (for the incident page)."""
    codes: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    """Per-incident codes into ``vocab`` (sector, side, kind, status) for vectorised timeline counts."""
    vocab: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)


def utc_day(t: datetime) -> int:
    """The proleptic ordinal of ``t``'s UTC calendar day."""
    return int(t.timestamp() // 86_400) + date(1970, 1, 1).toordinal()


def _records(store: Store, type_name: str, unreadable: dict[str, str]) -> list[Any]:
    try:
        return [s.record for s in store.records(type_name)]
    except ValueError as exc:
        # A record type nobody registered in this process cannot be read back: show the rest.
        unreadable[type_name] = str(exc)
        return []


def build_snapshot(store: Store, version: int, now: datetime) -> Snapshot:
    """Read every latest incident, finding, assessment, alert, activation and directive task."""
    unreadable: dict[str, str] = {}
    incidents = [r for r in _records(store, "incident", unreadable) if isinstance(r, Incident)]
    incidents.sort(key=lambda i: i.start)
    inc = Table.of((incident_row(i), i.markings, utc_day(i.start), utc_day(i.start)) for i in incidents)
    findings = [r for r in _records(store, "finding", unreadable) if isinstance(r, Finding)]
    fnd = Table.of((finding_row(f), f.markings, utc_day(f.first_seen), utc_day(f.last_seen)) for f in findings)
    assessments = [r for r in _records(store, "assessment", unreadable) if isinstance(r, Assessment)]
    asm = Table.of(
        (assessment_row(a), a.markings, date.fromisoformat(a.day).toordinal(), date.fromisoformat(a.day).toordinal())
        for a in assessments
    )
    feed_items: list[tuple[dict[str, Any], Markings, int, int]] = []
    for type_name in ("alert", "activation", "directivetask"):
        for record in _records(store, type_name, unreadable):
            row = feed_row(record)
            if row is not None:
                day = int(row["t"] // 86_400) + date(1970, 1, 1).toordinal()
                feed_items.append((row, record.markings, day, day))
    feed_items.sort(key=lambda item: item[0]["t"])
    cited: dict[str, list[int]] = {}
    for i, f in enumerate(findings):
        for incident_id in f.incidents:
            cited.setdefault(incident_id, []).append(i)
    vocab, codes = _encode(inc.rows)
    return Snapshot(version, now, inc, fnd, asm, Table.of(feed_items), cited, codes, vocab, unreadable)


def _encode(rows: list[dict[str, Any]]) -> tuple[dict[str, tuple[str, ...]], dict[str, NDArray[np.int64]]]:
    vocab: dict[str, tuple[str, ...]] = {}
    codes: dict[str, NDArray[np.int64]] = {}
    fixed = {"kind": INCIDENT_KINDS, "status": INCIDENT_STATUSES}
    for key in ("sector", "side", "kind", "status"):
        values = fixed.get(key) or tuple(sorted({r[key] for r in rows}))
        index = {v: i for i, v in enumerate(values)}
        vocab[key] = values
        codes[key] = np.array([index[r[key]] for r in rows], dtype=np.int64)
    return vocab, codes


class DashboardIndex:
    """The current :class:`Snapshot` of a store, rebuilt in the background when the store changes."""

    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self._store = store
        self._now = now
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._building: int | None = None
        self._ready = threading.Event()
        self._error: str | None = None

    def store_version(self) -> int:
        head = self._store.tree_head("records")
        return 0 if head is None else int(head.tree_size)

    def current(self, wait_s: float = FIRST_BUILD_WAIT_S) -> tuple[Snapshot, bool]:
        """The latest snapshot and whether the store has moved on since (a rebuild is then under way)."""
        version = self.store_version()
        with self._lock:
            snapshot = self._snapshot
            fresh = snapshot is not None and snapshot.version == version
            if not fresh and self._building is None:
                self._start(version)
        if snapshot is not None:
            return snapshot, not fresh
        self._ready.wait(wait_s)
        with self._lock:
            if self._snapshot is not None:
                return self._snapshot, self._snapshot.version != version
            error = self._error
        raise SnapshotUnavailable(error or "the dashboard is still reading the store; try again in a moment")

    def warm(self) -> None:
        """Start building if nothing is built or building (called when someone opens the dashboard)."""
        version = self.store_version()
        with self._lock:
            if self._building is None and (self._snapshot is None or self._snapshot.version != version):
                self._start(version)

    def _start(self, version: int) -> None:
        self._building = version
        if self._snapshot is None:
            self._ready.clear()  # a retry after a failed first build waits for its own outcome
        threading.Thread(target=self._build, args=(version,), name="dashboard-index", daemon=True).start()

    def _build(self, version: int) -> None:
        try:
            snapshot = build_snapshot(self._store, version, self._now())
        except Exception as exc:  # a broken store must not kill the thread silently: the page shows it
            log.exception("dashboard index build failed")
            with self._lock:
                self._building = None
                self._error = f"the dashboard could not read the store: {type(exc).__name__}: {exc}"
            self._ready.set()
            return
        with self._lock:
            self._snapshot = snapshot
            self._building = None
            self._error = None
        self._ready.set()
