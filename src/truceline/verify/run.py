"""The stage's entry point: read a window of observations (with their history), write findings.

Findings are recomputed from every report up to ``upto_seq`` — a weapon's class and a storage
item's "missing since" depend on what was seen before the window — but only findings that some
report of the window touches, and that differ from what the store holds, are written, under ids
derived from their first report: running a window again changes nothing, and a finding that
changes gets a new version under the same id.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

import numpy as np

from truceline.agreement import Agreement
from truceline.model import (
    AirTrack,
    Finding,
    ForceDeclaration,
    Incident,
    MovementDenial,
    ObservationBase,
    SeaTrack,
    StorageSiteVisit,
    WeaponSighting,
)
from truceline.store import ObservationQuery, Store
from truceline.verify._common import Context, utcnow
from truceline.verify.airsea import airsea_findings
from truceline.verify.ceasefire import CEASEFIRE, ceasefire_findings
from truceline.verify.ceilings import ceiling_findings
from truceline.verify.check import check_agreement
from truceline.verify.disengagement import disengagement_findings, inside_areas
from truceline.verify.movement import movement_findings
from truceline.verify.sightings import KINDS as WEAPON_KINDS
from truceline.verify.sightings import Sightings
from truceline.verify.storage import storage_findings
from truceline.verify.withdrawal import withdrawal_findings
from truceline.verify.zones import ZoneChecker

__all__ = ["INCIDENT_CURSOR", "KINDS", "StoredFindings", "run", "verify"]

KINDS = (
    *WEAPON_KINDS,
    "storage_visit",
    "movement_denial",
    "air_track",
    "sea_track",
    "force_declaration",
)
"""The observation kinds verification reads."""

INCIDENT_CURSOR = "verify.incidents"
"""The store cursor: the last incident record (by record seq) turned into a cease-fire finding."""

T = TypeVar("T", bound=ObservationBase)

_checkers: dict[int, ZoneChecker] = {}


def _checker(agreement: Agreement) -> ZoneChecker:
    # Checking the agreement and preparing its zones take a moment: once per agreement and process.
    key = id(agreement)
    if key not in _checkers or _checkers[key].agreement is not agreement:
        check_agreement(agreement)
        _checkers[key] = ZoneChecker(agreement)
    return _checkers[key]


def verify(
    agreement: Agreement,
    observations: Iterable[tuple[int, ObservationBase]],
    incidents: Sequence[Incident] = (),
    *,
    after_seq: int = 0,
    now: datetime | None = None,
    existing: Mapping[str, Finding] | None = None,
) -> list[Finding]:
    """Every finding that reports after ``after_seq`` touch, from ``(seq, observation)`` pairs.

    The pure core of :func:`run` (no store): tests and tools call it directly. ``existing``
    maps ids to earlier findings (looked up by id only), so that a withdrawal finding the reports
    no longer support is closed.
    """
    checker = _checker(agreement)  # built and checked once per agreement and process
    ctx = Context(agreement, now or utcnow())
    by_kind: dict[str, list[tuple[int, ObservationBase]]] = defaultdict(list)
    for seq, o in observations:
        by_kind[str(getattr(o, "kind", ""))].append((seq, o))
    weapon_items = [item for kind in WEAPON_KINDS for item in by_kind.get(kind, [])]
    weapon_items.sort(key=lambda item: item[0])
    sightings = Sightings.from_observations(weapon_items)
    area = inside_areas(ctx, sightings.lon, sightings.lat)
    out: list[Finding] = []
    out += disengagement_findings(ctx, sightings, area, after_seq=after_seq)
    # A sighting inside a disengagement area is judged under that clause, not as a withdrawal.
    keep = (area < 0) | sightings.fire
    out += withdrawal_findings(
        ctx, sightings.subset(np.flatnonzero(keep)), checker, after_seq=after_seq, existing=existing
    )
    out += storage_findings(
        ctx,
        _typed(by_kind.get("storage_visit", []), StorageSiteVisit),
        _typed(by_kind.get("weapon_sighting", []), WeaponSighting),
        after_seq=after_seq,
    )
    out += movement_findings(ctx, _typed(by_kind.get("movement_denial", []), MovementDenial), after_seq=after_seq)
    plots: list[tuple[int, AirTrack | SeaTrack]] = [
        *_typed(by_kind.get("air_track", []), AirTrack),
        *_typed(by_kind.get("sea_track", []), SeaTrack),
    ]
    out += airsea_findings(ctx, plots, after_seq=after_seq)
    out += ceiling_findings(ctx, _typed(by_kind.get("force_declaration", []), ForceDeclaration), after_seq=after_seq)
    out += ceasefire_findings(ctx, incidents)
    return out


def run(store: Store, agreement: Agreement, *, after_seq: int, upto_seq: int) -> dict[str, int]:
    """Verify observations with seq in (``after_seq``, ``upto_seq``] (and new incidents); store findings."""
    history = ((s.seq, s.observation) for s in store.observations(ObservationQuery(kinds=KINDS)) if s.seq <= upto_seq)
    cursor = store.get_cursor(INCIDENT_CURSOR)
    incidents: list[Incident] = []
    last = cursor
    for rec in store.records("incident", after_seq=cursor):
        last = max(last, rec.seq)
        if isinstance(rec.record, Incident):
            incidents.append(rec.record)
    existing = StoredFindings(store)
    findings = verify(agreement, history, incidents, after_seq=after_seq, existing=existing)
    # A finding the window left as it was is not written again (a rerun of the same window is
    # then a no-op); one that changed gets a new version under its id.
    findings = [f for f in findings if f.clause_id == CEASEFIRE or not _unchanged(f, existing.get(f.id))]
    _put(store, findings)
    if last > cursor:
        store.set_cursor(INCIDENT_CURSOR, last)
    counts = Counter(f.clause_id.split(".")[0] for f in findings)
    withdrawn = sum(1 for f in findings if f.evidence and f.evidence[-1].kind == "withdrawn")
    out = {"findings": len(findings), **{f"findings.{k}": n for k, n in sorted(counts.items())}}
    return out | ({"findings.withdrawn": withdrawn} if withdrawn else {})


class StoredFindings(Mapping[str, Finding]):
    """The store's findings by id, looked up one by one (never a scan of every finding)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, Finding | None] = {}

    def __getitem__(self, finding_id: str) -> Finding:
        if finding_id not in self._cache:
            stored = self._store.get_record("finding", finding_id)
            self._cache[finding_id] = stored.record if stored and isinstance(stored.record, Finding) else None
        found = self._cache[finding_id]
        if found is None:
            raise KeyError(finding_id)
        return found

    def __iter__(self) -> Iterator[str]:
        return (r.id for r in self._store.records("finding"))

    def __len__(self) -> int:
        return sum(1 for _ in self._store.records("finding"))


def _unchanged(new: Finding, old: Finding | None) -> bool:
    if old is None:
        return False
    return new.model_dump(exclude={"creation_info"}) == old.model_dump(exclude={"creation_info"})


def _put(store: Store, findings: Sequence[Finding], batch: int = 5_000) -> None:
    """Write findings in transactions of ``batch`` (a day of cease-fire findings can be many thousands)."""
    for i in range(0, len(findings), batch):
        store.put_records(findings[i : i + batch], type="finding")


def _typed(items: list[tuple[int, ObservationBase]], cls: type[T]) -> list[tuple[int, T]]:
    return [(seq, o) for seq, o in items if isinstance(o, cls)]
