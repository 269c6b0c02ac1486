"""Hand-made observations and stage records for the report's tests (the stages are built elsewhere)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from truceline.model import (
    Alert,
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
    Origin,
    observation_adapter,
)
from truceline.store import MemoryStore, PreparedObservation, Store

DAY = date(2026, 10, 2)
T0 = datetime(2026, 10, 2, tzinfo=UTC)
GREEN = Markings(tlp="green", originator="MVM")
USA_ONLY = Markings(tlp="amber", originator="USA")
"""Seen by USA alone: a UKR report must never show anything so marked."""
IN_CL06 = (37.25, 48.35)  # lon, lat just behind the line in the Pokrovsk sector
IN_CL07 = (37.95, 48.62)


def info(at: datetime = T0) -> CreationInfo:
    return CreationInfo(agent="test", created=at)


def ref(key: str) -> ObservationRef:
    return ObservationRef(participant="MVM", source="patrol-1", key=key)


def loc(lon: float, lat: float, err_m: float = 300.0) -> Location:
    return Location(lat=lat, lon=lon, error=ErrorEllipse(semi_major_m=err_m, semi_minor_m=err_m / 2))


def incident(
    iid: str,
    at: datetime,
    *,
    side: str = "RUS",
    p: float = 0.9,
    weapon: Any = "artillery_ge100",
    where: tuple[float, float] = IN_CL06,
    sector: str | None = "CL-06",
    markings: Markings = GREEN,
) -> Incident:
    other = "UKR" if side == "RUS" else "RUS"
    att = Attribution(id=f"{iid}-att", probabilities={side: p, other: round(1.0 - p, 6)}, creation_info=info(at))
    origin = Origin(id=f"{iid}-o", location=loc(*where), time=at, method="test", creation_info=info(at))
    return Incident(
        id=iid,
        start=at,
        end=at + timedelta(seconds=20),
        observations=(ref(f"{iid}-obs"),),
        origins=(origin,),
        preferred_origin_id=origin.id,
        attributions=(att,),
        preferred_attribution_id=att.id,
        weapon_class=weapon,
        sector=sector,
        markings=markings,
        creation_info=info(at),
    )


def finding(
    fid: str,
    clause: str,
    *,
    at: datetime = T0 + timedelta(hours=9),
    status: Any = "provisional",
    confidence: float = 0.9,
    markings: Markings = GREEN,
    side: str = "RUS",
    note: str = "",
) -> Finding:
    return Finding(
        id=fid,
        clause_id=clause,
        clause_text=f"text of {clause}",
        side=side,
        confidence=confidence,
        evidence=(Evidence(kind="sighting", description=f"evidence for {fid}", refs=(ref(f"{fid}-obs"),)),),
        location=loc(*IN_CL06),
        sector="CL-06",
        first_seen=at,
        last_seen=at,
        status=status,
        markings=markings,
        creation_info=CreationInfo(agent="test", created=at, note=note),
    )


def assessment(sector: str, day: date, level: int, *, markings: Markings = GREEN) -> Assessment:
    p = {1: 0.01, 2: 0.05, 3: 0.2, 4: 0.5, 5: 0.8}[level]
    return Assessment(
        id=f"assessment--{sector}--{day}",
        sector=sector,
        day=day.isoformat(),
        warning_level=level,
        p_offensive_7d=p,
        p_offensive_14d=min(1.0, p * 1.3),
        branching_ratio=0.4 + 0.1 * level,
        drivers=(Driver(indicator="fire_rate", value=3.0 * level, baseline=2.0, contribution=0.3 * level),),
        markings=markings,
        creation_info=info(datetime.combine(day, datetime.min.time(), tzinfo=UTC)),
    )


def alert(aid: str, headline: str, *, at: datetime = T0 + timedelta(hours=10), markings: Markings = GREEN) -> Alert:
    return Alert(
        id=aid,
        kind="warning_level",
        sent=at,
        headline=headline,
        severity="severe",
        sector="CL-06",
        markings=markings,
        creation_info=info(at),
    )


def observation(
    kind: str, key: str, at: datetime, where: tuple[float, float], markings: Markings = GREEN, **fields: Any
) -> PreparedObservation:
    doc: dict[str, Any] = {
        "kind": kind,
        "key": key,
        "participant": markings.originator,
        "source": f"src-{kind}",
        "time": at.isoformat(),
        "location": {"lat": where[1], "lon": where[0], "error": {"semi_major_m": 50.0, "semi_minor_m": 50.0}},
        "markings": markings.model_dump(mode="json"),
        **fields,
    }
    body = json.dumps(doc).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)  # type: ignore[arg-type]


def populated_store(*, hidden: bool, store: Store | None = None) -> Store:
    """A store with a day of green material, plus (``hidden=True``) material only USA may read."""
    store = store if store is not None else MemoryStore()
    obs = [
        observation("patrol_report", "p1", T0 + timedelta(hours=8), IN_CL06, explosions=12, bursts=3, shots=5),
        observation("patrol_report", "p0", T0 - timedelta(hours=15), IN_CL06, explosions=4),
        observation("movement_denial", "d1", T0 + timedelta(hours=7), IN_CL06, denied_by="RUS", reason_given="mines"),
        observation(
            "acoustic_arrival",
            "a1",
            T0 + timedelta(hours=3),
            IN_CL06,
        ),
    ]
    records: list[Any] = [
        incident("INC-1", T0 + timedelta(hours=1)),
        incident("INC-2", T0 + timedelta(hours=2), side="UKR", weapon="mortar"),
        incident("INC-3", T0 + timedelta(hours=3), p=0.5, where=IN_CL07, sector=None, weapon="small_arms"),
        incident("INC-0", T0 - timedelta(hours=5)),
        finding("F-WD-1", "withdrawal.mlrs"),
        finding("F-WD-0", "withdrawal.mortar", at=T0 - timedelta(days=1), status="closed"),
        finding("staging:RUS:mod:c1", "no_staging", confidence=0.8, side="RUS", note="verdict: contradicted"),
        assessment("CL-06", DAY, 4),
        assessment("CL-06", DAY - timedelta(days=1), 3),
        assessment("CL-07", DAY, 2),
        alert("AL-1", "Warning level 4 in the Pokrovsk sector"),
    ]
    if hidden:
        secret = USA_ONLY
        obs += [
            observation(
                "patrol_report",
                "s1",
                T0 + timedelta(hours=9),
                IN_CL07,
                markings=secret,
                explosions=999,
                note="CANARY-OBS",
            ),
            observation(
                "movement_denial",
                "s2",
                T0 + timedelta(hours=9),
                IN_CL07,
                markings=secret,
                denied_by="UKR",
                reason_given="CANARY-DENIAL",
            ),
            observation("acoustic_arrival", "s3", T0 + timedelta(hours=5), IN_CL07, markings=secret),
        ]
        records += [
            incident("INC-CANARY", T0 + timedelta(hours=4), markings=secret, side="UKR"),
            finding("F-CANARY", "withdrawal.canary", markings=secret),
            finding("staging:UKR:x:CANARY", "no_staging", markings=secret, confidence=0.99),
            assessment("CL-09", DAY, 5, markings=secret),
            alert("AL-CANARY", "CANARY alert headline", markings=secret),
        ]
    store.add_observations(obs)
    store.put_records(records)
    return store
