"""Freedom of movement: every denial of the monitors' access is a finding against the side that denied it.

The finding is placed where the monitors were stopped and says what went unobserved: the
destination they meant to reach, how far it lay, and the sector.
"""

from __future__ import annotations

from collections.abc import Sequence

from truceline.geo import geodesic_distance_m
from truceline.model import Finding, MovementDenial
from truceline.verify._common import Context

__all__ = ["FREEDOM_OF_MOVEMENT", "movement_findings"]

FREEDOM_OF_MOVEMENT = "freedom_of_movement"


def movement_findings(
    ctx: Context, denials: Sequence[tuple[int, MovementDenial]], *, after_seq: int = 0
) -> list[Finding]:
    out = []
    for seq, d in denials:
        if seq <= after_seq:
            continue
        what = "its destination"
        if d.intended_destination is not None:
            dest = d.intended_destination
            km = geodesic_distance_m(d.location.lon, d.location.lat, dest.lon, dest.lat) / 1000.0
            sector = str(ctx.agreement.sector_of([dest.lon], [dest.lat])[0]) or "no sector"
            what = f"the area around {dest.lat:.4f} N {dest.lon:.4f} E ({km:.1f} km on, {sector})"
        reason = f"; reason given: {d.reason_given}" if d.reason_given else ""
        out.append(
            ctx.finding_on(
                d,
                clause_id=FREEDOM_OF_MOVEMENT,
                side=d.denied_by,
                confidence=0.95,
                kind="movement_denial",
                description=f"{d.participant} monitors ({d.source}) turned back by {d.denied_by}; "
                f"{what} went unobserved{reason}",
                location=d.location,
            )
        )
    return out
