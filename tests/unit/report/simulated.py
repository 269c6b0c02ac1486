"""Stand-ins for the stages' records, made from a simulated run's truth (tests and benchmarks only).

The stages (fuse, attribute, verify, assess, act) are being built beside the report; until they
run on a simulated day, the report is exercised on records made from the truth the simulator
wrote: one incident per firing event (attributed to its true side with probability 0.85), one
finding per observed violation, one staging check per claim, one assessment per sector and day
and an alert for each assessment at level 4 or above. The report itself never reads the truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from truceline.model import (
    Alert,
    Assessment,
    Attribution,
    CreationInfo,
    ErrorEllipse,
    Evidence,
    Finding,
    Incident,
    Location,
    Markings,
    ObservationRef,
    Origin,
    Record,
    observation_adapter,
)
from truceline.store import PreparedObservation, Store

GREEN = Markings(tlp="green", originator="MVM")
AGENT = "truth-stand-in"


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _loc(lon: float, lat: float, err: float = 400.0) -> Location:
    return Location(lat=lat, lon=lon, error=ErrorEllipse(semi_major_m=err, semi_minor_m=err / 2))


def _ref(triple: list[str]) -> ObservationRef:
    return ObservationRef(participant=triple[0], source=triple[1], key=triple[2])


def ingest_file(store: Store, path: Path, batch: int = 20_000) -> int:
    """Store every report of an NDJSON file (the simulator's output) without the ingest package."""
    n = 0
    pending: list[PreparedObservation] = []
    with path.open("rb") as f:
        for line in f:
            body = line.rstrip(b"\n")
            if not body:
                continue
            pending.append(PreparedObservation(observation_adapter.validate_json(body), body))  # type: ignore[arg-type]
            if len(pending) >= batch:
                n += store.add_observations(pending).inserted
                pending = []
    if pending:
        n += store.add_observations(pending).inserted
    return n


def records_from_truth(truth: dict[str, Any], *, created: datetime) -> Iterator[Record]:
    """The stand-in records of a whole run (see the module's docstring)."""
    info = CreationInfo(agent=AGENT, created=created)
    for event in truth["events"]:
        at = _t(event["time"])
        side = event["side"]
        other = "UKR" if side == "RUS" else "RUS"
        att = Attribution(id=f"{event['id']}-a", probabilities={side: 0.85, other: 0.15}, creation_info=info)
        origin = Origin(
            id=f"{event['id']}-o",
            location=_loc(event["origin"]["lon"], event["origin"]["lat"]),
            time=at,
            method=AGENT,
            creation_info=info,
        )
        yield Incident(
            id=event["id"],
            start=at,
            end=at,
            observations=tuple(_ref(r) for r in event["observations"][:3]),
            origins=(origin,),
            preferred_origin_id=origin.id,
            attributions=(att,),
            preferred_attribution_id=att.id,
            weapon_class=event["weapon_class"],
            sector=event["sector"],
            markings=GREEN,
            creation_info=info,
        )
    for v in truth["violations"]:
        if not v.get("observed"):
            continue
        yield Finding(
            id=f"finding-{v['id']}",
            clause_id=v["clause"],
            clause_text=v["clause"],
            side=v["side"],
            confidence=0.9,
            evidence=(
                Evidence(kind="truth", description=v["kind"], refs=tuple(_ref(r) for r in v["observations"][:3])),
            ),
            location=_loc(v["lon"], v["lat"]) if "lon" in v else None,
            first_seen=_t(v["start"]),
            last_seen=_t(v.get("end") or v["start"]),
            markings=GREEN,
            creation_info=info,
        )
    for c in truth["claims"]:
        yield Finding(
            id=f"staging:{c['ref'][0]}:{c['ref'][1]}:{c['ref'][2]}",
            clause_id="no_staging",
            clause_text="No party stages an attack in order to blame the other side.",
            side=c["claimant"],
            confidence=0.8 if c["staged"] else 0.1,
            evidence=(Evidence(kind="truth", description=c["kind"], refs=(_ref(c["ref"]),)),),
            location=_loc(c["lon"], c["lat"]),
            first_seen=_t(c["claimed_time"]),
            last_seen=_t(c["claimed_time"]),
            markings=GREEN,
            creation_info=CreationInfo(agent=AGENT, created=created, note="verdict: " + c["kind"]),
        )
    start = date.fromisoformat(truth["window"]["start"][:10])
    spiral = truth["escalation"]["spiral_sector"]
    buildup = truth["buildup"]["sector"]
    for k in range(int(truth["window"]["days"])):
        day = start + timedelta(days=k)
        for sector in truth["hawkes"]:
            level = 4 if sector == spiral else 3 if sector == buildup else 1
            yield Assessment(
                id=f"assessment--{sector}--{day}",
                sector=sector,
                day=day.isoformat(),
                warning_level=level,
                p_offensive_7d=0.1 * level,
                p_offensive_14d=0.12 * level,
                markings=GREEN,
                creation_info=info,
            )
            if level >= 4:
                yield Alert(
                    id=f"alert--{sector}--{day}",
                    kind="warning_level",
                    sent=datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6),
                    headline=f"Warning level {level} in {sector}",
                    severity="severe",
                    sector=sector,
                    markings=GREEN,
                    creation_info=info,
                )


def load_truth_doc(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc
