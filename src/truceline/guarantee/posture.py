"""Where the reassurance force stands: distance from the contact line and the basing area.

:func:`check_positions` is the check itself, vectorised over any number of positions, so verify
(the reassurance-force clause) runs exactly the same rule on reported unit positions:

* every position of a unit declared ``in_ukraine``, and every position on Ukraine's territory
  whatever was declared, must be at least ``reassurance_force.min_distance_km`` from the line;
* every position on Ukraine's territory must lie inside the basing area (western oblasts).

A unit abroad (an air-defence battery at Rzeszów) or at sea is not subject to the basing rule:
the agreement governs where the force is based *in Ukraine*. A breach is a :class:`PostureFinding`
citing the agreement's clause (``reassurance.distance`` or ``reassurance.basing``), never a
load error, and :meth:`PostureFinding.to_finding` turns it into the shared
:class:`truceline.model.Finding`.

>>> from truceline.agreement import default_agreement
>>> c = check_positions(default_agreement(), [24.03, 34.55], [49.84, 49.59])  # Lviv, Poltava
>>> c.too_close.tolist(), c.outside_basing.tolist()
([False, True], [False, True])
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from truceline.agreement import Agreement
from truceline.geo import points_in, to_metric
from truceline.guarantee.coalition import Coalition
from truceline.guarantee.records import Position, ReassuranceUnit
from truceline.model import CreationInfo, ErrorEllipse, Evidence, Finding, Location, Markings

__all__ = [
    "CLAUSE_BASING",
    "CLAUSE_DISTANCE",
    "PositionChecks",
    "PostureFinding",
    "PostureRow",
    "check_positions",
    "posture",
]

CLAUSE_DISTANCE = "reassurance.distance"
CLAUSE_BASING = "reassurance.basing"

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PositionChecks:
    """The rule's verdict per position (arrays of the positions' length)."""

    min_distance_km: float
    distance_km: FloatArray
    on_ukraine: BoolArray
    in_basing_area: BoolArray
    subject: BoolArray
    too_close: BoolArray
    outside_basing: BoolArray

    @property
    def ok(self) -> BoolArray:
        return np.asarray(~(self.too_close | self.outside_basing), dtype=np.bool_)


def check_positions(
    agreement: Agreement, lon: ArrayLike, lat: ArrayLike, *, declared_in_ukraine: ArrayLike = True
) -> PositionChecks:
    """Check many positions at once against the agreement's reassurance-force clauses."""
    lo = np.ravel(np.asarray(lon, dtype=np.float64))
    la = np.ravel(np.asarray(lat, dtype=np.float64))
    declared = np.broadcast_to(np.asarray(declared_in_ukraine, dtype=np.bool_), lo.shape)
    rf = agreement.reassurance_force
    distance_km = agreement.distance_to_line_m(lo, la) / 1000.0
    on_ukraine = agreement.side_of(lo, la) != ""
    x, y = to_metric(lo, la)
    in_basing = points_in(rf.basing_area_metric, x, y) if lo.size else np.zeros(0, dtype=np.bool_)
    subject = declared | on_ukraine
    return PositionChecks(
        min_distance_km=rf.min_distance_km,
        distance_km=np.asarray(distance_km, dtype=np.float64),
        on_ukraine=on_ukraine,
        in_basing_area=in_basing,
        subject=subject,
        too_close=subject & (distance_km < rf.min_distance_km),
        outside_basing=on_ukraine & ~in_basing,
    )


@dataclass(frozen=True)
class PostureFinding:
    """A unit position in breach of a reassurance-force clause."""

    unit: str
    participant: str
    which: str  # "planned" or "actual"
    clause_id: str
    clause_text: str
    lon: float
    lat: float
    place: str
    distance_km: float
    reason: str
    reported: datetime | None = None

    def to_finding(
        self, finding_id: str, *, created: datetime, markings: Markings, agent: str = "truceline.guarantee.posture"
    ) -> Finding:
        """The shared :class:`~truceline.model.Finding` (side: the contributing nation)."""
        seen = self.reported or created
        return Finding(
            id=finding_id,
            clause_id=self.clause_id,
            clause_text=self.clause_text,
            side=self.participant,
            # A declared (planned) position is the contributor's own word: certain. A reported one
            # is as good as the report; the caller may lower it.
            confidence=1.0,
            evidence=(Evidence(kind=f"unit_position.{self.which}", description=f"{self.unit}: {self.reason}"),),
            location=Location(lat=self.lat, lon=self.lon, error=ErrorEllipse(semi_major_m=0.0, semi_minor_m=0.0)),
            first_seen=seen,
            last_seen=seen,
            markings=markings,
            creation_info=CreationInfo(agent=agent, created=created),
        )


@dataclass(frozen=True)
class PostureRow:
    unit: ReassuranceUnit
    which: str
    position: Position
    distance_km: float
    on_ukraine: bool
    in_basing_area: bool
    findings: tuple[PostureFinding, ...]

    @property
    def status(self) -> str:
        if self.findings:
            return "; ".join(f.reason for f in self.findings)
        if not self.on_ukraine:
            return "ok (outside Ukraine)"
        return "ok"


def posture(coalition: Coalition) -> list[PostureRow]:
    """Every unit's planned and (where reported) actual position, checked."""
    entries: list[tuple[ReassuranceUnit, str, Position]] = []
    for unit in coalition.units:
        entries.append((unit, "planned", unit.planned))
        if unit.actual is not None:
            entries.append((unit, "actual", unit.actual))
    agreement = coalition.agreement
    checks = check_positions(
        agreement,
        [e[2].lon for e in entries],
        [e[2].lat for e in entries],
        declared_in_ukraine=[e[0].basing == "in_ukraine" for e in entries],
    )
    minimum = checks.min_distance_km
    rows = []
    for i, (unit, which, pos) in enumerate(entries):
        distance = float(checks.distance_km[i])
        found = []
        if checks.too_close[i]:
            reason = f"{distance:.0f} km from the contact line (minimum {minimum:.0f} km)"
            found.append(_finding(agreement, unit, which, pos, distance, CLAUSE_DISTANCE, reason))
        if checks.outside_basing[i]:
            found.append(_finding(agreement, unit, which, pos, distance, CLAUSE_BASING, "outside the basing area"))
        rows.append(
            PostureRow(
                unit, which, pos, distance, bool(checks.on_ukraine[i]), bool(checks.in_basing_area[i]), tuple(found)
            )
        )
    return rows


def _finding(
    agreement: Agreement,
    unit: ReassuranceUnit,
    which: str,
    pos: Position,
    distance_km: float,
    clause_id: str,
    reason: str,
) -> PostureFinding:
    try:
        text = agreement.clause(clause_id).text
    except KeyError:  # an agreement without the clause still has the rule in its reassurance_force
        text = f"reassurance force: {clause_id}"
    reported = None
    if pos.reported is not None:
        reported = datetime(pos.reported.year, pos.reported.month, pos.reported.day, tzinfo=UTC)
    return PostureFinding(
        unit.id, unit.participant, which, clause_id, text, pos.lon, pos.lat, pos.place, distance_km, reason, reported
    )
