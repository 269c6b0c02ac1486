"""Read one report day (and the days before it) out of the store, as the viewer may see it.

What is read:

- observations of the day and the day before, every kind but the two high-volume sensor kinds,
  as parsed records (patrol reports, claims, denials, imagery, …);
- for coverage, whether each contact-line sector's acoustic sensors were heard in each hour of
  the day, by probing the store (a full day holds about a million arrivals, and reading them
  all would take the whole time budget of the report);
- the derived records of every stage (incidents, findings, assessments, alerts, and the act
  stage's activations and directive tasks when their record types are registered), kept when
  they fall in the history window.

Everything passes the viewer's policy filter before it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.model import (
    Alert,
    Assessment,
    Finding,
    Incident,
    Markings,
    ObservationBase,
    Record,
)
from truceline.report._view import Viewer
from truceline.store import ObservationQuery, Store

HISTORY_DAYS = 14
"""How many days (ending with the report day) the escalation plots cover."""

DETAIL_KINDS: tuple[str, ...] = (
    "patrol_report",
    "claim",
    "movement_denial",
    "storage_visit",
    "imagery_detection",
    "uav_sighting",
    "weapon_sighting",
    "force_declaration",
)
"""Observation kinds the report reads one by one; the high-volume sensor kinds (acoustic, radar,
air, sea, met) reach it only through the stages' incidents and the coverage probe."""
SENSOR_BOX_DEG = 0.3
PROBE = 20
"""Reports read per sector-hour probe: enough that a few hidden ones do not hide a visible one."""

STAGE_OF_TYPE: dict[str, str] = {
    "incident": "fuse",
    "finding": "verify",
    "assessment": "assess",
    "alert": "act",
    "activation": "act",
    "directivetask": "act",
}
"""Which stage makes each record type the report reads (for "the … stage has not run")."""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of ``day``."""
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    return start, start + timedelta(days=1)


@dataclass
class SensorHours:
    """Which hours of the report day each contact-line sector's acoustic sensors were heard at all.

    ``heard[i, h]`` is True when at least one acoustic report the viewer may see came, in hour
    ``h``, from a sensor within the box around sector ``sectors[i]`` (its outline's bounds widened
    by :data:`SENSOR_BOX_DEG`). Found by probing the store for one visible report per sector-hour
    (an R*Tree lookup each) instead of reading the day's million arrivals.
    """

    sectors: tuple[str, ...]
    heard: NDArray[np.bool_]
    total: int | None
    """All acoustic reports of the day (full view only: the store's count is not masked)."""

    @classmethod
    def empty(cls) -> SensorHours:
        return cls((), np.zeros((0, 24), dtype=bool), 0)


@dataclass
class DayData:
    """Everything the report shows, already filtered for the viewer."""

    day: date
    viewer: Viewer
    details: list[ObservationBase] = field(default_factory=list)
    acoustic: SensorHours = field(default_factory=SensorHours.empty)
    incidents: list[Incident] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    activations: list[Any] = field(default_factory=list)
    directives: list[Any] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    """Record types the store could not read back, with the reason (e.g. act types not registered)."""
    types_in_store: frozenset[str] = frozenset()
    """Record types with at least one stored record, whoever may see them (used in the full view only)."""

    @property
    def start(self) -> datetime:
        return day_bounds(self.day)[0]

    @property
    def end(self) -> datetime:
        return day_bounds(self.day)[1]

    @property
    def previous_day(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def history_start(self) -> datetime:
        return self.start - timedelta(days=HISTORY_DAYS - 1)

    def details_on(self, day: date, kind: str) -> list[ObservationBase]:
        start, end = day_bounds(day)
        return [o for o in self.details if o.kind == kind and start <= o.time < end]  # type: ignore[attr-defined]

    def all_markings(self) -> list[Markings]:
        """The markings of every record and observation the report may show (for its banner)."""
        out: list[Markings] = [o.markings for o in self.details]
        for group in (self.incidents, self.findings, self.assessments, self.alerts):
            out.extend(r.markings for r in group)
        out.extend(r.markings for r in (*self.activations, *self.directives))
        return out


def collect(store: Store, agreement: Agreement, day: date, viewer: Viewer) -> DayData:
    """Read what the report for ``day`` needs, as ``viewer`` may see it."""
    data = DayData(day=day, viewer=viewer)
    prev_start = data.start - timedelta(days=1)
    details = [
        s.observation for s in store.observations(ObservationQuery(kinds=DETAIL_KINDS, start=prev_start, end=data.end))
    ]
    data.details = viewer.keep("observations", details, lambda o: o.markings)
    data.acoustic = _sensor_hours(store, data, viewer, agreement)

    present: set[str] = set()
    incidents = _read(store, "incident", Incident, data, present)
    data.incidents = viewer.keep(
        "incident", [r for r in incidents if data.history_start <= r.start < data.end], lambda r: r.markings
    )
    findings = _read(store, "finding", Finding, data, present)
    data.findings = viewer.keep("finding", [r for r in findings if r.first_seen < data.end], lambda r: r.markings)
    history_days = {(data.day - timedelta(days=k)).isoformat() for k in range(HISTORY_DAYS)}
    assessments = _read(store, "assessment", Assessment, data, present)
    data.assessments = viewer.keep(
        "assessment", [r for r in assessments if r.day in history_days], lambda r: r.markings
    )
    alerts = _read(store, "alert", Alert, data, present)
    data.alerts = viewer.keep(
        "alert", [r for r in alerts if data.history_start <= r.sent < data.end], lambda r: r.markings
    )
    activations = _read(store, "activation", None, data, present)
    data.activations = viewer.keep(
        "activation", [r for r in activations if r.activated < data.end], lambda r: r.markings
    )
    directives = _read(store, "directivetask", None, data, present)
    data.directives = viewer.keep(
        "directivetask", [r for r in directives if data.history_start <= r.issued < data.end], lambda r: r.markings
    )
    data.types_in_store = frozenset(present)
    return data


def _read(store: Store, type_name: str, cls: type[Record] | None, data: DayData, present: set[str]) -> list[Any]:
    """The latest version of every stored record of ``type_name`` (checked against ``cls`` when given)."""
    out: list[Any] = []
    try:
        for stored in store.records(type_name):
            record = stored.record
            if cls is not None and not isinstance(record, cls):
                continue
            out.append(record)
    except ValueError as exc:
        # The act stage's records read back only once that stage registered their types.
        data.unreadable[type_name] = str(exc)
        return []
    if out:
        present.add(type_name)
    return out


def _sensor_hours(store: Store, data: DayData, viewer: Viewer, agreement: Agreement) -> SensorHours:
    sectors = [sector for sector in agreement.sectors if sector.kind == "contact_line"]
    heard = np.zeros((len(sectors), 24), dtype=bool)
    for i, sector in enumerate(sectors):
        min_lon, min_lat, max_lon, max_lat = sector.geometry.bounds
        box = (min_lon - SENSOR_BOX_DEG, min_lat - SENSOR_BOX_DEG, max_lon + SENSOR_BOX_DEG, max_lat + SENSOR_BOX_DEG)
        for hour in range(24):
            begin = data.start + timedelta(hours=hour)
            query = ObservationQuery(
                kinds=("acoustic_arrival",), start=begin, end=begin + timedelta(hours=1), bbox=box, limit=PROBE
            )
            probe = [stored.observation for stored in store.observations(query)]
            # Unaudited on purpose: 288 probes would flood the audit log; the mask is the same rule.
            heard[i, hour] = bool(viewer.keep_reference(probe, lambda o: o.markings))
    total = None
    if viewer.is_full:
        total = store.count_observations(ObservationQuery(kinds=("acoustic_arrival",), start=data.start, end=data.end))
    return SensorHours(tuple(sector.id for sector in sectors), heard, total)
