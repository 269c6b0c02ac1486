"""A small mechanism on the real contact line for the browser tests: two days of records, all stages.

Incidents sit on the shipped contact line (their side is the controlled area they fall in), with
the acoustic reports behind them, findings (a withdrawal breach and a checked claim), the assess
stage's warning assessments with its escalation fits (over a simulated fire history) and a feed.
Most records are TLP:GREEN for everyone; a few are marked for one party only, so that the tests
can show each participant sees exactly its share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from truceline.act import DirectiveTask
from truceline.agreement import Agreement
from truceline.assess import FireEvents, assess_days
from truceline.geo import to_lonlat
from truceline.model import (
    AcousticArrival,
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
)
from truceline.sim.hawkes import HawkesParams, simulate_hawkes
from truceline.store import PreparedObservation, Store

DAY1 = datetime(2026, 9, 1, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
PER_DAY = 40
GREEN = Markings(tlp="green", originator="MVM")
FOR_UKR = Markings(tlp="amber", originator="USA", releasable_to=("UKR",))
FOR_RUS = Markings(tlp="amber", originator="USA", releasable_to=("RUS",))
CREATED = CreationInfo(agent="truceline.fuse", created=DAY2 + timedelta(days=1), version="1")
UKR_ONLY = "incident-for-ukr-only"
RUS_ONLY = "incident-for-rus-only"
REVIEW_ME = "incident-competing-origins"
CLAIMED = "incident-claimed"


@dataclass
class Seeded:
    """What was stored, for the tests' expectations."""

    common_per_day: dict[str, int] = field(default_factory=dict)
    kinds_day2: dict[str, int] = field(default_factory=dict)
    sector_day2: dict[str, int] = field(default_factory=dict)


def _point(agreement: Agreement, fraction: float, offset_m: float) -> tuple[float, float]:
    # A point ``offset_m`` off the contact line, perpendicular to it, at ``fraction`` of its length.
    line = agreement.contact_line_metric
    if line.geom_type == "MultiLineString":
        line = max(line.geoms, key=lambda g: g.length)
    d = fraction * line.length
    p = line.interpolate(d)
    q = line.interpolate(min(d + 200.0, line.length))
    dx, dy = q.x - p.x, q.y - p.y
    norm = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    lon, lat = to_lonlat(p.x - dy / norm * offset_m, p.y + dx / norm * offset_m)
    return float(lon), float(lat)


def _location(lon: float, lat: float, a: float = 180.0, b: float = 60.0, az: float = 40.0) -> Location:
    return Location(lat=lat, lon=lon, error=ErrorEllipse(semi_major_m=a, semi_minor_m=b, orientation_deg=az))


def _arrivals(incident_id: str, lon: float, lat: float, t: datetime, markings: Markings) -> list[AcousticArrival]:
    out = []
    for k, participant in enumerate(("USA", "GBR", "MVM")):
        out.append(
            AcousticArrival(
                key=f"{incident_id}-{k}",
                participant=participant,
                source=f"ac-{participant.lower()}-{k}",
                reliability="B",
                credibility=2,
                time=t + timedelta(seconds=10 + k),
                location=_location(lon + 0.05 * (k - 1), lat - 0.08, 5.0, 5.0, 0.0),
                markings=markings,
                phase="blast",
            )
        )
    return out


def _incident(
    incident_id: str,
    agreement: Agreement,
    lon: float,
    lat: float,
    t: datetime,
    markings: Markings,
    refs: list[ObservationRef],
    *,
    kind: str = "fire",
    competing: bool = False,
) -> Incident:
    side = str(agreement.side_of([lon], [lat])[0]) or "RUS"
    other = "UKR" if side == "RUS" else "RUS"
    p = 0.93 if not competing else 0.71
    origins = [
        Origin(id=f"{incident_id}/tdoa", location=_location(lon, lat), time=t, time_error_s=0.08, method="tdoa",
               n_observations=len(refs), rms_residual=0.02, creation_info=CREATED)
    ]
    if competing:
        origins.append(
            Origin(id=f"{incident_id}/radar", location=_location(lon + 0.01, lat + 0.004, 420.0, 150.0, 100.0),
                   time=t, time_error_s=0.5, method="radar", n_observations=1, creation_info=CREATED)
        )
    attribution = Attribution(
        id=f"{incident_id}:att",
        probabilities={side: p, other: round(1 - p, 6)},
        evidence=(
            Evidence(kind="origin_area", description=f"origin lies in the controlled area of {side}", weight=2.6,
                     refs=tuple(refs)),
        ),
        creation_info=CREATED,
    )
    return Incident(
        id=incident_id,
        kind=kind,  # type: ignore[arg-type]
        start=t,
        end=t + timedelta(seconds=30),
        observations=tuple(refs),
        origins=tuple(origins),
        preferred_origin_id=origins[0].id,
        attributions=(attribution,),
        preferred_attribution_id=attribution.id,
        weapon_class="artillery_ge100",
        sector=str(agreement.sector_of([lon], [lat])[0]) or None,
        markings=markings,
        creation_info=CREATED,
    )


def seed(store: Store, agreement: Agreement) -> Seeded:
    """Store two days of records; return the counts the tests expect for records everyone sees."""
    seeded = Seeded()
    incidents: list[Incident] = []
    observations: list[AcousticArrival] = []
    for day_index, day in enumerate((DAY1, DAY2)):
        for k in range(PER_DAY):
            fraction = 0.04 + 0.9 * ((k * 37 + day_index * 11) % PER_DAY) / PER_DAY
            lon, lat = _point(agreement, fraction, 4_000.0 if k % 2 else -4_000.0)
            t = day + timedelta(hours=(k * 5) % 24, minutes=k)
            incident_id = f"incident-{day:%m%d}-{k:03d}"
            if day is DAY2 and k == 0:
                incident_id = REVIEW_ME
            if day is DAY2 and k == 1:
                incident_id = CLAIMED
            kind = "air" if k % 10 == 9 else "fire"
            arrivals = _arrivals(incident_id, lon, lat, t, GREEN)
            observations.extend(arrivals)
            refs = [ObservationRef(participant=a.participant, source=a.source, key=a.key) for a in arrivals]
            incident = _incident(incident_id, agreement, lon, lat, t, GREEN, refs, kind=kind, competing=k == 0)
            incidents.append(incident)
            seeded.common_per_day[day.date().isoformat()] = seeded.common_per_day.get(day.date().isoformat(), 0) + 1
            if day is DAY2:
                seeded.kinds_day2[kind] = seeded.kinds_day2.get(kind, 0) + 1
                sector = incident.sector or ""
                seeded.sector_day2[sector] = seeded.sector_day2.get(sector, 0) + 1
    # One incident for each party alone, at the same place and time: neither may learn of the other's.
    lon, lat = _point(agreement, 0.5, 3_000.0)
    for incident_id, markings in ((UKR_ONLY, FOR_UKR), (RUS_ONLY, FOR_RUS)):
        arrivals = _arrivals(incident_id, lon, lat, DAY2 + timedelta(hours=13), markings)
        observations.extend(arrivals)
        refs = [ObservationRef(participant=a.participant, source=a.source, key=a.key) for a in arrivals]
        incidents.append(_incident(incident_id, agreement, lon, lat, DAY2 + timedelta(hours=13), markings, refs))
    store.add_observations([PreparedObservation(o, o.model_dump_json().encode()) for o in observations])
    store.put_records(incidents)
    store.put_records([*_findings(agreement), *_assessments(agreement), *_feed()])
    return seeded


def _findings(agreement: Agreement) -> list[Finding]:
    claim_ref = ObservationRef(participant="UKR", source="mod-ua", key="claim-1")
    return [
        Finding(
            id="finding-withdrawal-1",
            clause_id="withdrawal.artillery_ge100",
            clause_text="Artillery of 100 mm and above is withdrawn 25 km from the contact line.",
            side="RUS",
            confidence=0.88,
            evidence=(Evidence(kind="incident", description="fire from inside the withdrawal zone"),),
            incidents=(REVIEW_ME,),
            location=_location(*_point(agreement, 0.5, -9_000.0)),
            first_seen=DAY2,
            last_seen=DAY2 + timedelta(minutes=1),
            markings=GREEN,
            creation_info=CREATED,
        ),
        Finding(
            id="staging:UKR:mod-ua:claim-1",
            clause_id="no_staging",
            clause_text="No party stages an attack in order to blame the other side.",
            side="UKR",
            confidence=0.12,
            evidence=(
                Evidence(kind="verdict", description="UKR claims RUS (shelling) at the place: corroborated; "
                         "staging suspicion 0.12", weight=-2.0, refs=(claim_ref,)),
                Evidence(kind="accused_fire", description="an incident attributed to RUS lands within reach",
                         weight=-1.4),
            ),
            incidents=(CLAIMED,),
            first_seen=DAY2 + timedelta(hours=1),
            last_seen=DAY2 + timedelta(hours=1),
            markings=GREEN,
            creation_info=CREATED,
        ),
    ]


ESCALATING = "CL-07"
"""A sector whose fire feeds on itself (retaliation both ways); its assessments are released to UKR only."""
QUIET = "CL-03"
"""A sector with fire that answers little."""
FIRE_FROM = DAY1 - timedelta(days=22)
ESCALATION_PARAMS = {
    # Hawkes parameters per sector (events per hour, α[i][j]: j triggers i, decay per hour); type 0 is UKR's fire.
    ESCALATING: HawkesParams(mu=(0.4, 0.4), alpha=((0.2, 0.35), (0.4, 0.2)), beta=0.8),
    QUIET: HawkesParams(mu=(0.5, 0.5), alpha=((0.1, 0.05), (0.05, 0.1)), beta=0.8),
}


def fire_history() -> FireEvents:
    """Three weeks of simulated fire in two sectors, up to the end of DAY2 (the escalation model's input).

    It is not stored as incidents (some 1,800 of them would slow every test); the assess stage
    fits it, and its assessments are what the dashboard reads.
    """
    rng = np.random.default_rng(2026)
    horizon_h = (DAY2 + timedelta(days=1) - FIRE_FROM).total_seconds() / 3600.0
    times, sectors, p_ukr = [], [], []
    for sector, params in ESCALATION_PARAMS.items():
        events = simulate_hawkes(params, horizon_h, rng)
        times.append(FIRE_FROM.timestamp() + events.t * 3600.0)
        sectors.append(np.full(len(events.t), sector))
        p_ukr.append(np.where(events.type == 0, 0.9, 0.1))
    return FireEvents(np.concatenate(times), np.concatenate(sectors).astype(np.str_), np.concatenate(p_ukr))


def _assessments(agreement: Agreement) -> list[Assessment]:
    """The assess stage's own assessments of every sector over the timeline's 14 days to DAY2.

    With no reports, the stage marks them for the mechanism alone; here they are marked as if they
    rested on TLP:GREEN reports, except the escalating sector's, which rest on one released to UKR.
    """
    first = (DAY2 - timedelta(days=13)).date()
    records = assess_days(agreement, first, DAY2.date(), [], fire_history(), data_start=FIRE_FROM.date())
    return [a.model_copy(update={"markings": FOR_UKR if a.sector == ESCALATING else GREEN}) for a in records]


ALERT_FOR_UKR = "Heavy artillery in the withdrawal zone (for UKR)"
TASK_TITLE = "Query both parties on the hotline"
UKR_TASK = "task-ukr-withdraw"
UKR_TASK_TITLE = "Confirm the withdrawal of the battery near the line"


def _feed() -> list[Alert | DirectiveTask]:
    return [
        Alert(
            id="alert-1",
            kind="serious_violation",
            sent=DAY2 + timedelta(hours=14),
            headline=ALERT_FOR_UKR,
            severity="severe",
            sector="CL-07",
            markings=Markings(tlp="red", originator="MVM", releasable_to=("UKR",)),
            creation_info=CREATED,
        ),
        DirectiveTask(
            id="task-1",
            activation_id="activation-1",
            directive="D-HOTLINE-QUERY",
            title=TASK_TITLE,
            owner="MVM",
            sector="CL-07",
            issued=DAY2 + timedelta(hours=15),
            deadline=DAY2 + timedelta(hours=21),
            markings=GREEN,
            creation_info=CREATED,
        ),
        # Addressed to UKR: its reviewer acknowledges it from the feed.
        DirectiveTask(
            id=UKR_TASK,
            activation_id="activation-1",
            directive="D-WITHDRAW-CONFIRM",
            title=UKR_TASK_TITLE,
            owner="UKR",
            sector="CL-07",
            issued=DAY2 + timedelta(hours=15, minutes=5),
            deadline=DAY2 + timedelta(hours=27),
            markings=GREEN,
            creation_info=CREATED,
        ),
    ]
