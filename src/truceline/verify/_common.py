"""What every clause checker shares: references, markings, ids, locations and the finding builder.

A finding's id is derived from its clause and the permanent identity of the report that first
showed the breach (its *anchor*), so processing the same reports again writes a new version of
the same finding rather than a duplicate.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from truceline.agreement import Agreement
from truceline.geo import to_lonlat, to_metric
from truceline.model import (
    CreationInfo,
    ErrorEllipse,
    Evidence,
    Finding,
    FindingStatus,
    Location,
    Markings,
    ObservationBase,
    ObservationRef,
)
from truceline.policy import derived_markings

AGENT = "truceline.verify"
VERSION = "1"


def ref_of(obs: ObservationBase) -> ObservationRef:
    """The permanent reference to a stored observation."""
    return ObservationRef(participant=obs.participant, source=obs.source, key=obs.key)


def ref_text(ref: ObservationRef) -> str:
    return f"{ref.participant}/{ref.source}/{ref.key}"


def finding_id(clause_id: str, *parts: str) -> str:
    """A stable finding id: the clause and a digest of what identifies the breach."""
    digest = hashlib.sha256("\x1f".join((clause_id, *parts)).encode()).hexdigest()[:16]
    return f"finding-{clause_id}-{digest}"


def merge_markings(markings: Iterable[Markings]) -> Markings:
    """Markings of a finding derived from sources with ``markings``: the policy layer's one rule
    (:func:`truceline.policy.derived_markings`), never less restrictive than any source."""
    return derived_markings(markings)


def location_of_points(
    lon: Sequence[float] | np.ndarray[Any, Any],
    lat: Sequence[float] | np.ndarray[Any, Any],
    errors_m: Sequence[float] | np.ndarray[Any, Any],
) -> Location:
    """The mean position of several fixes of one object, with a 95 % ellipse of the mean and spread.

    Each fix's error (95 % radius) is turned into a standard deviation; the mean's uncertainty is
    the larger of the fixes' combined error and the observed scatter (a circle: no orientation
    is claimed from a handful of points).
    """
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    x, y = to_metric(lo, la)
    mx, my = float(np.mean(x)), float(np.mean(y))
    sigma_fix = np.asarray(errors_m, dtype=np.float64) / 2.4477
    sigma_mean = math.sqrt(float(np.sum(sigma_fix**2))) / max(len(sigma_fix), 1)
    scatter = math.sqrt(float(np.mean((x - mx) ** 2 + (y - my) ** 2)) / 2.0 / max(len(x), 1)) if len(x) > 1 else 0.0
    radius = min(max(2.4477 * max(sigma_mean, scatter), 1.0), 5_000_000.0)
    clon, clat = to_lonlat(mx, my)
    return Location(lat=float(clat), lon=float(clon), error=ErrorEllipse(semi_major_m=radius, semi_minor_m=radius))


def point_location(lon: float, lat: float, radius_m: float) -> Location:
    r = min(max(float(radius_m), 0.0), 5_000_000.0)
    return Location(lat=float(lat), lon=float(lon), error=ErrorEllipse(semi_major_m=r, semi_minor_m=r))


@dataclass(frozen=True, slots=True)
class Context:
    """What every checker needs: the agreement and the creation info of this run."""

    agreement: Agreement
    created: datetime

    def creation_info(self, note: str = "") -> CreationInfo:
        return CreationInfo(agent=AGENT, created=self.created, version=VERSION, note=note)

    def finding(
        self,
        *,
        clause_id: str,
        anchor: str,
        side: str | None,
        confidence: float,
        evidence: Sequence[Evidence],
        sources: Sequence[ObservationBase],
        first_seen: datetime,
        last_seen: datetime,
        location: Location | None = None,
        incidents: Sequence[str] = (),
        status: FindingStatus = "provisional",
        note: str = "",
        markings: Markings | None = None,
        id_scope: str | None = None,
        sector: str | None = None,
    ) -> Finding:
        """A finding under ``clause_id`` (its text taken from the agreement) with derived markings.

        The id comes from ``anchor`` and ``id_scope`` (default: the clause), so a finding whose
        clause is revised as evidence accumulates (a weapon's class) keeps its id.
        """
        clause = self.agreement.clauses.get(clause_id)
        text = clause.text if clause is not None else clause_id
        if sector is None and location is not None:
            sector = str(self.agreement.sector_of([location.lon], [location.lat])[0]) or None
        return Finding(
            id=finding_id(id_scope or clause_id, anchor),
            clause_id=clause_id,
            clause_text=text,
            side=side or None,
            confidence=float(min(max(confidence, 0.0), 1.0)),
            evidence=tuple(evidence),
            incidents=tuple(incidents),
            location=location,
            sector=sector,
            first_seen=first_seen,
            last_seen=max(last_seen, first_seen),
            status=status,
            markings=markings or merge_markings(o.markings for o in sources),
            creation_info=self.creation_info(note),
        )

    def finding_on(
        self,
        obs: ObservationBase,
        *,
        clause_id: str,
        side: str | None,
        confidence: float,
        kind: str,
        description: str,
        location: Location | None,
    ) -> Finding:
        """A finding that rests on one observation alone (a refusal, a denial, a stray visit):
        anchored on it, its one piece of evidence citing it, seen at its time."""
        ref = ref_of(obs)
        return self.finding(
            clause_id=clause_id,
            anchor=ref_text(ref),
            side=side,
            confidence=confidence,
            evidence=[Evidence(kind=kind, description=description, refs=(ref,))],
            sources=[obs],
            first_seen=obs.time,
            last_seen=obs.time,
            location=location,
        )


def utcnow() -> datetime:
    return datetime.now(UTC)


def chunks(refs: Sequence[ObservationRef], size: int = 500) -> list[tuple[ObservationRef, ...]]:
    """Refs split into pieces of ``size`` (one Evidence each), so a long-running breach stays readable."""
    return [tuple(refs[i : i + size]) for i in range(0, len(refs), size)] or [()]
