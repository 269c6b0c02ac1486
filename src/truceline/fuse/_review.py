"""Analyst review of incidents, and staged bulletins (automatic now, reviewed later).

Every action writes *new versions* of incidents — the automatic solution stays in the store's
history and in the incident's origins — and records who acted, when and why in the new
version's creation info (mode ``manual``). The actions, as a seismic analyst has them:

- **accept**: the incident is reviewed; the preferred origin is copied as a manual origin
  (``…/reviewed``) that becomes preferred; the automatic origins remain beside it.
- **reject**: not a real event (a false association); status ``rejected``.
- **merge**: two incidents are one event; the first takes the union of reports and origins, the
  second is rejected with a note naming the first.
- **split**: some reports of an incident belong to another event; they leave for a new incident
  (id derived from the old one and the reports moved), which has no origin until relocated.

A **bulletin** lists incidents at a stage — ``automatic`` (every incident, as fused) or
``reviewed`` (only those an analyst accepted) — with the time it was issued and, per incident,
the latency from the arrival of its last report in the store to the version listed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from truceline.model import CreationInfo, Incident, ObservationRef, Origin, UsageError
from truceline.store import Store

Action = Literal["accept", "reject", "merge", "split"]
ACTIONS: tuple[str, ...] = ("accept", "reject", "merge", "split")


def _manual(analyst: str, participant: str | None, when: datetime, why: str) -> CreationInfo:
    return CreationInfo(agent=analyst, created=when, mode="manual", participant=participant, note=why)


def _get(store: Store, incident_id: str) -> Incident:
    stored = store.get_record("incident", incident_id)
    if stored is None or not isinstance(stored.record, Incident):
        raise UsageError(f"no incident {incident_id!r}")
    return stored.record


def _require_reason(why: str) -> None:
    if not why.strip():
        raise UsageError("a review action needs a reason (--why)")


def accept(
    store: Store, incident_id: str, *, analyst: str, why: str, when: datetime, participant: str | None = None
) -> Incident:
    """Mark an incident reviewed, adding a manual copy of its preferred origin as the preferred one."""
    _require_reason(why)
    inc = _get(store, incident_id)
    info = _manual(analyst, participant, when, why)
    origins = list(inc.origins)
    preferred = inc.preferred_origin
    new_pref = inc.preferred_origin_id
    if preferred is not None:
        reviewed = preferred.model_copy(
            update={"id": f"{inc.id}/reviewed", "creation_info": info, "evaluation_status": "reviewed"}
        )
        origins = [o for o in origins if o.id != reviewed.id] + [Origin.model_validate(reviewed.model_dump())]
        new_pref = reviewed.id
    new = inc.model_copy(
        update={
            "origins": tuple(origins),
            "preferred_origin_id": new_pref,
            "evaluation_status": "reviewed",
            "creation_info": info,
        }
    )
    new = Incident.model_validate(new.model_dump())
    store.put_record(new, type="incident")
    return new


def reject(
    store: Store, incident_id: str, *, analyst: str, why: str, when: datetime, participant: str | None = None
) -> Incident:
    """Mark an incident as not a real event."""
    _require_reason(why)
    inc = _get(store, incident_id)
    new = inc.model_copy(
        update={"evaluation_status": "rejected", "creation_info": _manual(analyst, participant, when, why)}
    )
    store.put_record(new, type="incident")
    return new


def merge(
    store: Store, keep_id: str, other_id: str, *, analyst: str, why: str, when: datetime, participant: str | None = None
) -> tuple[Incident, Incident]:
    """``other`` is the same event as ``keep``: ``keep`` takes its reports and origins; ``other`` is rejected."""
    _require_reason(why)
    if keep_id == other_id:
        raise UsageError("cannot merge an incident with itself")
    keep, other = _get(store, keep_id), _get(store, other_id)
    info = _manual(analyst, participant, when, why)
    refs = list(dict.fromkeys([*keep.observations, *other.observations]))
    ids = {o.id for o in keep.origins}
    origins = [*keep.origins, *(o for o in other.origins if o.id not in ids)]
    merged = Incident.model_validate(
        keep.model_copy(
            update={
                "observations": tuple(refs),
                "origins": tuple(origins),
                "start": min(keep.start, other.start),
                "end": max(keep.end, other.end),
                "evaluation_status": "reviewed",
                "creation_info": info,
            }
        ).model_dump()
    )
    gone = other.model_copy(
        update={
            "evaluation_status": "rejected",
            "creation_info": _manual(analyst, participant, when, f"merged into {keep_id}: {why}"),
        }
    )
    store.put_records([merged, gone], type="incident")
    return merged, gone


def split(
    store: Store,
    incident_id: str,
    refs: Sequence[ObservationRef],
    *,
    analyst: str,
    why: str,
    when: datetime,
    participant: str | None = None,
) -> tuple[Incident, Incident]:
    """Move ``refs`` out of an incident into a new one (no origin until it is relocated)."""
    _require_reason(why)
    inc = _get(store, incident_id)
    moving = set(refs)
    unknown = moving - set(inc.observations)
    if unknown:
        raise UsageError(f"{len(unknown)} report(s) to split off are not in {incident_id}")
    rest = tuple(r for r in inc.observations if r not in moving)
    if not rest:
        raise UsageError("a split must leave at least one report in the incident")
    info = _manual(analyst, participant, when, why)
    digest = hashlib.sha256(
        "\x1f".join([inc.id, *sorted(f"{r.participant}/{r.source}/{r.key}" for r in moving)]).encode()
    ).hexdigest()[:16]
    new = Incident(
        id=f"incident-fire-{digest}",
        kind=inc.kind,
        start=inc.start,
        end=inc.end,
        observations=tuple(r for r in inc.observations if r in moving),
        markings=inc.markings,
        sector=inc.sector,
        creation_info=_manual(analyst, participant, when, f"split from {inc.id}: {why}"),
        evaluation_status="reviewed",
    )
    # The old origins stay (they are what the machine said), but none is preferred any more: they
    # were computed with the reports that have now left.
    kept = inc.model_copy(
        update={
            "observations": rest,
            "preferred_origin_id": None,
            "creation_info": info,
            "evaluation_status": "reviewed",
        }
    )
    store.put_records([kept, new], type="incident")
    return kept, new


@dataclass(frozen=True)
class BulletinEntry:
    incident: Incident
    latency_s: float | None
    """From the arrival in the store of the incident's last report to the creation of the version
    listed (None when no report of it is in the store)."""


@dataclass(frozen=True)
class Bulletin:
    stage: Literal["automatic", "reviewed"]
    issued: datetime
    entries: tuple[BulletinEntry, ...]

    @property
    def median_latency_s(self) -> float | None:
        lat = sorted(e.latency_s for e in self.entries if e.latency_s is not None)
        if not lat:
            return None
        mid = len(lat) // 2
        return lat[mid] if len(lat) % 2 else (lat[mid - 1] + lat[mid]) / 2.0


def bulletin(
    store: Store,
    stage: Literal["automatic", "reviewed"],
    *,
    issued: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Bulletin:
    """The incidents of a stage whose events fall in [start, end), each with its latency."""
    entries = []
    for stored in store.records("incident"):
        inc = stored.record
        if not isinstance(inc, Incident) or inc.kind != "fire":
            continue
        if (start is not None and inc.end < start) or (end is not None and inc.start >= end):
            continue
        if stage == "reviewed" and inc.evaluation_status not in ("reviewed", "final"):
            continue
        if inc.evaluation_status == "rejected":
            continue
        received = [
            got.received
            for r in inc.observations
            if (got := store.get_observation(r.participant, r.source, r.key)) is not None
        ]
        latency = (inc.creation_info.created - max(received)).total_seconds() if received else None
        entries.append(BulletinEntry(inc, latency))
    entries.sort(key=lambda e: e.incident.start)
    return Bulletin(stage, issued, tuple(entries))
