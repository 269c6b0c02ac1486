"""What one participant sees: each view picks rows of the snapshot through the policy layer.

Two gates are used, as elsewhere in Truceline:

- the day's lists (thousands of incidents and findings) are chosen with
  :meth:`Policy.visible_mask` — one vectorised pass over the markings, as the daily report does
  (``report._view.Viewer.keep``) — and each list leaves one ``read`` audit event in the policy's
  log with who asked and the number of records returned (:func:`audit_read`), the event
  :meth:`Policy.read_many` would leave. Asking ``read_many`` to copy 20,000 rows one by one would
  cost a second of the two the page may take, and would decide the same. The timeline's counts
  and the list of days are aggregates: they leave a :meth:`Policy.count` event;
- single records, their reports and versions, and the feed go through :meth:`Policy.read` and
  :meth:`Policy.read_many` like the ``/v1`` routes.

No figure counts a hidden record: every count is over the visible mask. The compact rows carry no
field markings because stored records have none today (``server.reads.marked`` gives none); when
field markings arrive, the day's lists must go through ``read_many`` with them, like the rest.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.attribute import ACOUSTIC_R50_M, STAGING_CLAUSE
from truceline.dashboard.directives import may_acknowledge
from truceline.dashboard.snapshot import Snapshot, Table
from truceline.model import Markings
from truceline.policy import AuditEvent, MarkedDocument, Policy, Principal, reading_as_requester
from truceline.store import ObservationQuery, Store

TIMELINE_DAYS = 14
"""Days the timeline shows, ending with the day on the map."""
MIN_YEAR, MAX_YEAR = 1900, 2999
FEED_LIMIT = 100
REPORTS_LIMIT = 500
"""Reports listed on an incident page (an incident rests on a handful, rarely hundreds)."""
SENSOR_PROBE = 300
"""Sensor reports read per hour of the day to find the sensors that worked (a day holds up to a million)."""
SENSOR_KINDS = ("acoustic_arrival", "radar_track")
FINDING_COLUMNS = ("id", "clause", "side", "confidence", "status", "sector", "lat", "lon", "a", "b", "az", "first",
                   "last", "incident", "n_incidents", "tlp")
INCIDENT_COLUMNS = ("id", "t", "lat", "lon", "a", "b", "az", "side", "p", "kind", "status", "sector", "weapon", "n",
                    "origins", "tlp")


class BadQuery(ValueError):
    """A query parameter the dashboard cannot use; the message is shown on the page as it is."""


def parse_day(value: str | None) -> date | None:
    """``YYYY-MM-DD`` or nothing.

    >>> parse_day("2026-09-02"), parse_day(None)
    (datetime.date(2026, 9, 2), None)
    >>> parse_day("2026-13-01")
    Traceback (most recent call last):
    ...
    truceline.dashboard.views.BadQuery: day '2026-13-01' is not a date; expected YYYY-MM-DD, e.g. 2026-09-02
    """
    if value is None or value == "":
        return None
    shown = value if len(value) <= 40 else value[:40] + "…"
    try:
        if len(value) != 10:
            raise ValueError
        parsed = date.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"day {shown!r} is not a date; expected YYYY-MM-DD, e.g. 2026-09-02") from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        # The timeline reaches back two weeks: the calendar's first days have no two weeks before them.
        raise BadQuery(f"day {shown!r} is out of range; expected a year from {MIN_YEAR} to {MAX_YEAR}")
    return parsed


def _iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def _doc(table: Table, i: int) -> MarkedDocument:
    return MarkedDocument(table.markings[i], table.rows[i])


def _read(policy: Policy, principal: Principal, collection: str, table: Table, rows: NDArray[np.intp] | Sequence[int]
          ) -> list[dict[str, Any]]:
    return policy.read_many(principal, collection, [_doc(table, int(i)) for i in rows])


def audit_read(policy: Policy, principal: Principal, ref: str, returned: int, now: datetime) -> None:
    """One ``read`` audit event for a list the policy chose with a mask, with who asked and how many.

    :meth:`Policy.read_many` writes the same event when it passes rows one by one; the day's lists
    are chosen with one vectorised :meth:`Policy.visible_mask` instead (see the module's note), so
    their event is written here, to the policy's own audit log.
    """
    policy.audit.record(AuditEvent(now, principal.participant, principal.subject, "read", ref, True, returned))


def _visible(policy: Policy, principal: Principal, collection: str, table: Table, where: NDArray[np.bool_],
             now: datetime) -> NDArray[np.intp]:
    """Rows selected by ``where`` that ``principal`` may read; one audited read of them."""
    rows = np.flatnonzero(policy.visible_mask(principal, table.table) & where)
    audit_read(policy, principal, f"dashboard/{collection}", int(rows.size), now)
    return rows


def _columns(table: Table, rows: NDArray[np.intp], keys: Sequence[str]) -> dict[str, list[Any]]:
    # Columns, not objects: 10,000 incidents as arrays are a third of the bytes and parse faster.
    picked = [table.rows[int(i)] for i in rows]
    return {k: [r[k] for r in picked] for k in keys}


@dataclass(frozen=True)
class DaySelection:
    """Which rows of a snapshot one principal sees for one day: every policy decision of a day view."""

    day: date
    visible: NDArray[np.bool_]
    """Incidents of every day the principal may see (for the list of days and the timeline)."""
    incidents: NDArray[np.intp]
    findings: NDArray[np.intp]
    assessments: NDArray[np.intp]

    def digest(self) -> bytes:
        """Equal for two principals who see the same rows: their day views are then equal too."""
        h = hashlib.blake2b(self.day.isoformat().encode(), digest_size=20)
        for part in (np.packbits(self.visible), self.incidents, self.findings, self.assessments):
            h.update(np.ascontiguousarray(part).tobytes())
            h.update(b"|")
        return h.digest()


def select_day(snapshot: Snapshot, policy: Policy, principal: Principal, day: date | None, now: datetime
               ) -> DaySelection:
    """Decide (and audit) what ``principal`` sees of ``day``: the latest visible day when ``day`` is None.

    The lists (incidents, findings, assessments with their escalation fits) each leave a ``read``
    event with the number of rows; the timeline's and the day list's figures are aggregates and
    leave a ``count`` event (:meth:`Policy.count`), also with the number counted.
    """
    inc = snapshot.incidents
    visible = policy.visible_mask(principal, inc.table)
    policy.count(principal, "dashboard/incident-days", inc.table)
    if day is None:
        seen = inc.first_day[visible]
        day = date.fromordinal(int(seen.max())) if seen.size else now.date()
    d = day.toordinal()
    fnd, asm = snapshot.findings, snapshot.assessments
    policy.count(principal, "dashboard/timeline", inc.table, where=_window(inc, d))
    return DaySelection(
        day=day,
        visible=visible,
        incidents=_visible(policy, principal, "incidents", inc, inc.first_day == d, now),
        findings=_visible(policy, principal, "findings", fnd, (fnd.first_day <= d) & (fnd.last_day >= d), now),
        assessments=_visible(policy, principal, "assessments", asm, _window(asm, d), now),
    )


def _window(table: Table, d: int) -> NDArray[np.bool_]:
    return (table.first_day > d - TIMELINE_DAYS) & (table.first_day <= d)


def day_view(snapshot: Snapshot, selection: DaySelection, stale: bool) -> dict[str, Any]:
    """The map and timeline of one UTC day: only the rows of ``selection``, nothing decided here."""
    inc, fnd, asm = snapshot.incidents, snapshot.findings, snapshot.assessments
    d = selection.day.toordinal()
    days, per_day = np.unique(inc.first_day[selection.visible], return_counts=True)
    return {
        "day": selection.day.isoformat(),
        "version": snapshot.version,
        "as_of": snapshot.built.isoformat(),
        "stale": stale,
        "days": [{"day": _iso(int(k)), "incidents": int(n)} for k, n in zip(days, per_day, strict=True)],
        "incidents": _columns(inc, selection.incidents, INCIDENT_COLUMNS),
        "findings": _columns(fnd, selection.findings, FINDING_COLUMNS),
        "clauses": {fnd.rows[int(i)]["clause"]: fnd.rows[int(i)]["text"] for i in selection.findings},
        "assessments": [asm.rows[int(i)] for i in selection.assessments],
        "timeline": _timeline(snapshot, selection.visible & _window(inc, d), d),
        "unreadable": sorted(snapshot.unreadable),
    }


def _timeline(snapshot: Snapshot, shown: NDArray[np.bool_], d: int) -> dict[str, Any]:
    """The ``shown`` incidents counted per day × sector × side × kind × status over the window.

    Sparse cells ``[day, sector, side, kind, status, n]`` (indexes into the vocabularies): the page
    sums them under its own filters, so a filter change redraws the timeline without a request.
    """
    inc = snapshot.incidents
    first = d - TIMELINE_DAYS + 1
    rows = np.flatnonzero(shown)
    vocab, codes = snapshot.vocab, snapshot.codes
    dims = [TIMELINE_DAYS, *(len(vocab[k]) for k in ("sector", "side", "kind", "status"))]
    cells: list[list[int]] = []
    if rows.size:
        key = np.ravel_multi_index(
            (inc.first_day[rows] - first, *(codes[k][rows] for k in ("sector", "side", "kind", "status"))), dims
        )
        keys, counts = np.unique(key, return_counts=True)
        parts = np.unravel_index(keys, dims)
        cells = np.column_stack([*parts, counts]).astype(int).tolist()
    return {
        "days": [_iso(first + k) for k in range(TIMELINE_DAYS)],
        "sectors": list(vocab["sector"]),
        "sides": list(vocab["side"]),
        "kinds": list(vocab["kind"]),
        "statuses": list(vocab["status"]),
        "cells": cells,
    }


def feed_view(snapshot: Snapshot, stale: bool, policy: Policy, principal: Principal, after: int | None
              ) -> dict[str, Any]:
    """The newest alerts, playbook activations and directive tasks ``principal`` may see."""
    feed = snapshot.feed
    mask = policy.visible_mask(principal, feed.table)
    if after is not None:
        mask &= np.array([r["t"] > after for r in feed.rows], dtype=bool)
    rows = np.flatnonzero(mask)[-FEED_LIMIT:][::-1]
    items = _read(policy, principal, "dashboard/feed", feed, rows)
    for item in items:
        if item.get("type") == "directive":
            item["may_acknowledge"] = may_acknowledge(policy, principal, item["owner"], item["status"])
    return {"version": snapshot.version, "stale": stale, "items": items}


def incident_view(store: Store, snapshot: Snapshot, policy: Policy, principal: Principal, incident_id: str
                  ) -> dict[str, Any]:
    """Everything behind one incident that ``principal`` may see; a hidden one is the same 404 as a missing one."""
    # On PostgreSQL every read below also runs as the requester, under row-level security.
    with reading_as_requester(store, policy, principal):
        stored = store.get_record("incident", incident_id)
        document = MarkedDocument(stored.record.markings, stored.record.model_dump(mode="json")) if stored else None  # type: ignore[attr-defined]
        body = policy.read(principal, f"incidents/{incident_id}", document)
        assert stored is not None  # policy.read raised for a missing one

        refs = body.get("observations", [])[:REPORTS_LIMIT]
        found = [store.get_observation(r["participant"], r["source"], r["key"]) for r in refs]
        reports = policy.read_many(
            principal,
            "observations",
            [MarkedDocument(s.observation.markings, s.observation.model_dump(mode="json")) for s in found if s],
        )

        cited = snapshot.findings_by_incident.get(incident_id, [])
        findings = _read(policy, principal, "findings", snapshot.findings, cited)
        claims = [f for f in findings if f["clause"] == STAGING_CLAUSE]
        other = [f for f in findings if f["clause"] != STAGING_CLAUSE]
        claim_docs = [store.get_record("finding", f["id"]) for f in claims]
        claims_full = policy.read_many(
            principal,
            "findings",
            [MarkedDocument(s.record.markings, s.record.model_dump(mode="json")) for s in claim_docs if s],  # type: ignore[attr-defined]
        )

        history = [
            MarkedDocument(
                s.record.markings,  # type: ignore[attr-defined]
                {
                    "version": s.version,
                    "stored": s.created.isoformat(),
                    "status": getattr(s.record, "evaluation_status", None),
                    "creation_info": s.record.creation_info.model_dump(mode="json"),  # type: ignore[attr-defined]
                },
            )
            for s in store.record_history("incident", incident_id)
        ]
    return {
        "incident": body,
        "version": stored.version,
        "reports": reports,
        "reports_listed": len(refs),
        "findings": other,
        "claims": claims_full,
        "history": policy.read_many(principal, "incident-history", history),
        "may_review": policy.may(principal, "review"),
        "participant": principal.participant,
    }


class SensorCache:
    """Which sensors reported on a day (found by probing each hour), kept until new reports arrive."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._days: dict[date, tuple[int, list[tuple[dict[str, Any], Markings]]]] = {}

    def sensors(self, day: date) -> list[tuple[dict[str, Any], Markings]]:
        seq = self._store.max_seq()
        with self._lock:
            cached = self._days.get(day)
            if cached is not None and cached[0] == seq:
                return cached[1]
            found = self._probe(day)
            self._days[day] = (seq, found)
            return found

    def _probe(self, day: date) -> list[tuple[dict[str, Any], Markings]]:
        # One row per sensor and distinct markings among its sampled reports: a participant sees
        # a sensor when it may see at least one of its reports, and learns nothing from the rest.
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        out: dict[tuple[str, str, Markings], dict[str, Any]] = {}
        for hour in range(24):
            begin = start + timedelta(hours=hour)
            query = ObservationQuery(kinds=SENSOR_KINDS, start=begin, end=begin + timedelta(hours=1),
                                     limit=SENSOR_PROBE)
            for stored in self._store.observations(query):
                o = stored.observation
                key = (o.participant, o.source, o.markings)
                row = out.get(key)
                if row is None:
                    kind = "acoustic" if o.kind == "acoustic_arrival" else "radar"  # type: ignore[attr-defined]
                    out[key] = row = {
                        "id": f"{o.participant}/{o.source}",
                        "participant": o.participant,
                        "kind": kind,
                        "lat": round(o.location.lat, 5),
                        "lon": round(o.location.lon, 5),
                        "reports": 0,
                        "hours": [],
                        "range_m": ACOUSTIC_R50_M["artillery_ge100"] if kind == "acoustic" else None,
                    }
                row["reports"] += 1
                if not row["hours"] or row["hours"][-1] != hour:
                    row["hours"].append(hour)
        return [(row, markings) for (_, _, markings), row in out.items()]


def sensors_view(cache: SensorCache, policy: Policy, principal: Principal, day: date) -> dict[str, Any]:
    found = cache.sensors(day)
    shown = policy.read_many(principal, "dashboard/sensors", [MarkedDocument(m, row) for row, m in found])
    merged: dict[str, dict[str, Any]] = {}
    for row in shown:
        seen = merged.get(row["id"])
        if seen is None:
            merged[row["id"]] = row
        else:  # the same sensor under several markings: the reports this participant may see, together
            seen["reports"] += row["reports"]
            seen["hours"] = sorted(set(seen["hours"]) | set(row["hours"]))
    return {
        "day": day.isoformat(),
        "probe_per_hour": SENSOR_PROBE,
        "acoustic_range_note": "half of 100 mm+ artillery blasts are heard within this range (arrays' specification)",
        "sensors": list(merged.values()),
    }
