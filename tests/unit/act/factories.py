"""Hand-made findings, assessments and incidents (the verify/assess stages are built elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from truceline.model import (
    Assessment,
    Attribution,
    CreationInfo,
    Driver,
    ErrorEllipse,
    Evidence,
    Finding,
    Incident,
    Location,
    Markings,
    ObservationRef,
)

T0 = datetime(2026, 9, 1, tzinfo=UTC)
GREEN = Markings(tlp="green", originator="MVM")


def info(at: datetime = T0) -> CreationInfo:
    return CreationInfo(agent="test", created=at)


def ref(key: str) -> ObservationRef:
    return ObservationRef(participant="MVM", source="patrol-1", key=key)


def loc(lat: float = 48.3, lon: float = 37.5, err_m: float = 500.0) -> Location:
    return Location(lat=lat, lon=lon, error=ErrorEllipse(semi_major_m=err_m, semi_minor_m=err_m / 2))


def assessment(sector: str, day: str, level: int, *, p7: float | None = None, markings: Markings = GREEN,
               drivers: tuple[Driver, ...] = ()) -> Assessment:
    p = p7 if p7 is not None else {1: 0.01, 2: 0.05, 3: 0.2, 4: 0.5, 5: 0.8}[level]
    return Assessment(
        id=f"assessment--{sector}--{day}", sector=sector, day=day, warning_level=level, p_offensive_7d=p,
        p_offensive_14d=min(1.0, p * 1.3), drivers=drivers, markings=markings, creation_info=info(),
    )


def finding(fid: str, clause: str, *, at: datetime = T0, sector: str | None = "CL-06", side: str | None = "RUS",
            confidence: float = 0.95, status: Any = "confirmed", markings: Markings = GREEN) -> Finding:
    return Finding(
        id=fid, clause_id=clause, clause_text=f"text of {clause}", side=side, confidence=confidence,
        evidence=(Evidence(kind="sighting", description=f"seen for {fid}", refs=(ref(f"{fid}-obs"),)),),
        location=loc(), sector=sector, first_seen=at, last_seen=at, status=status, markings=markings,
        creation_info=info(at),
    )


def strike(iid: str, at: datetime, *, side: str = "RUS", weapon: Any = "heavy_mlrs_missile", sector: str = "CL-06",
           impact: Location | None = None, status: Any = "reviewed") -> Incident:
    att = Attribution(id=f"{iid}-att", probabilities={side: 0.9, ("UKR" if side == "RUS" else "RUS"): 0.1},
                      creation_info=info(at))
    return Incident(
        id=iid, kind="fire", start=at, end=at + timedelta(seconds=30), observations=(ref(f"{iid}-o1"),),
        impacts=(impact,) if impact else (), attributions=(att,), preferred_attribution_id=att.id,
        weapon_class=weapon, sector=sector, markings=GREEN, creation_info=info(at), evaluation_status=status,
    )
