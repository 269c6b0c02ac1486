"""Storage, freedom of movement, air and sea, ceilings, cease-fire and disengagement findings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.unit.verify.conftest import T0, east_of_line, loc, numbered, report
from truceline.agreement import Agreement
from truceline.model import (
    Attribution,
    CreationInfo,
    ErrorEllipse,
    Finding,
    Incident,
    Location,
    Markings,
    ObservationBase,
    ObservationRef,
    Origin,
)
from truceline.verify import verify
from truceline.verify._common import Context
from truceline.verify.disengagement import quiet_days

NOW = datetime(2026, 9, 30, tzinfo=UTC)


def _by_clause(findings: list[Finding], prefix: str) -> list[Finding]:
    return [f for f in findings if f.clause_id.startswith(prefix)]


def _visit(hours: float, present: list[str], site: str = "UKR-S1", granted: bool = True) -> ObservationBase:
    return report(
        "storage_visit",
        "MVM",
        "inspection-team-1",
        hours=hours,
        tlp="amber",
        lon=29.0,
        lat=48.0,
        site_id=site,
        access_granted=granted,
        serials_present=present if granted else [],
    )


def test_a_missing_serial_is_open_until_seen_again_and_says_since_when(agreement: Agreement) -> None:
    visits = [_visit(0, ["A1", "A2", "A3"]), _visit(72, ["A1", "A2"]), _visit(144, ["A1", "A2"])]
    [open_finding] = _by_clause(verify(agreement, numbered(visits), now=NOW), "storage.")
    assert open_finding.clause_id == "storage.UKR-S1" and open_finding.side == "UKR"
    assert open_finding.status == "provisional"
    assert open_finding.first_seen == T0  # missing since the last visit that saw it
    assert open_finding.last_seen == T0 + timedelta(hours=144)
    missing_refs = {r.key for r in open_finding.evidence[0].refs}
    assert missing_refs == {visits[1].key, visits[2].key}
    back = [*visits, _visit(216, ["A1", "A2", "A3"])]
    [closed] = _by_clause(verify(agreement, numbered(back), now=NOW), "storage.")
    assert closed.id == open_finding.id and closed.status == "closed"


def test_a_declared_serial_seen_near_the_line_is_evidence_of_removal(agreement: Agreement) -> None:
    seen = report(
        "weapon_sighting",
        "MVM",
        "patrol-2",
        hours=10,
        lon=east_of_line(-20.0),
        lat=47.0,
        weapon_class="mlrs",
        serials=["A3"],
    )
    findings = verify(agreement, numbered([_visit(0, ["A1", "A2", "A3"]), seen]), now=NOW)
    [storage] = _by_clause(findings, "storage.")
    assert storage.location is not None and (storage.location.lon, storage.location.lat) == (29.0, 48.0)
    assert any(e.kind == "serial_seen_elsewhere" for e in storage.evidence)


def test_refused_and_undeclared_visits_are_findings_never_a_silent_pass(agreement: Agreement) -> None:
    refused = _visit(0, [], granted=False)
    unknown = _visit(5, ["X9"], site="UKR-S99")
    odd = _visit(10, ["A1", "A2", "A3", "Z1"])
    findings = verify(agreement, numbered([refused, unknown, odd]), now=NOW)
    assert [(f.clause_id, f.side) for f in _by_clause(findings, "freedom_of_movement")] == [
        ("freedom_of_movement", "UKR")
    ]
    declarations = _by_clause(findings, "declarations")
    assert {e.kind for f in declarations for e in f.evidence} == {"undeclared_site", "undeclared_serials"}


def test_each_movement_denial_is_a_finding_against_the_side_that_denied(agreement: Agreement) -> None:
    denial = report(
        "movement_denial",
        "OSCE",
        "patrol-OSCE-01",
        lon=east_of_line(8.0),
        lat=47.2,
        denied_by="RUS",
        intended_destination=loc(east_of_line(2.0), 47.2, 500.0),
        reason_given="road closed",
    )
    [f] = verify(agreement, numbered([denial]), now=NOW)
    assert (f.clause_id, f.side, f.sector) == ("freedom_of_movement", "RUS", "S1")
    assert "unobserved" in f.evidence[0].description and "road closed" in f.evidence[0].description


def _plots(
    participant: str,
    track: str,
    side: str | None,
    craft: str = "helicopter",
    military: bool = True,
    start: float = 0.0,
    step_h: float = 0.01,
    n: int = 8,
) -> list[ObservationBase]:
    # From 40 km behind the RUS side to 3 km from the line and back out.
    kms = [40, 25, 12, 6, 3, 6, 12, 40][:n]
    return [
        report(
            "air_track",
            participant,
            f"radar-{participant}",
            hours=start + k * step_h,
            lon=east_of_line(km),
            lat=47.5,
            track_id=track,
            military=military,
            aircraft_class=craft,
            identified_side=side,
            altitude_m=300.0,
        )
        for k, km in enumerate(kms)
    ]


def test_a_military_craft_in_a_restricted_zone_is_one_finding_however_many_nations_track_it(
    agreement: Agreement,
) -> None:
    us = _plots("USA", "USA-T1", "RUS")
    ua = _plots("UKR", "UKR-T7", "RUS")[::2]
    [f] = _by_clause(verify(agreement, numbered(us + ua), now=NOW), "air.")
    assert (f.clause_id, f.side) == ("air.band", "RUS")
    assert {r.key for e in f.evidence for r in e.refs} == {o.key for o in us + ua}


def test_exempt_civilian_and_unrestricted_craft_are_not_findings(agreement: Agreement) -> None:
    exempt = _plots("USA", "USA-T2", "USA", craft="uav")
    civilian = _plots("USA", "USA-T3", "RUS", military=False)
    transport = _plots("USA", "USA-T4", "RUS", craft="transport")
    assert _by_clause(verify(agreement, numbered(exempt + civilian + transport), now=NOW), "air.") == []


def test_declarations_over_the_ceiling_are_one_finding_with_the_trend(agreement: Agreement) -> None:
    strengths = [790_000, 799_000, 805_000, 812_000, 798_000]
    decls = [
        report(
            "force_declaration", "UKR", "mod", hours=24 * 7 * k, location=None, declaring_party="UKR", troop_strength=n
        )
        for k, n in enumerate(strengths)
    ]
    [f] = _by_clause(verify(agreement, numbered(decls), now=NOW), "ceiling.")
    assert (f.clause_id, f.side, f.status) == ("ceiling.UKR", "UKR", "closed")
    assert {r.key for r in f.evidence[0].refs} == {decls[2].key, decls[3].key}
    assert "812,000" in f.evidence[0].description and "a week" in f.evidence[1].description


def _incident(agreement: Agreement, origin_km: float, impact_km: float, p_rus: float, day: int = 0) -> Incident:
    info = CreationInfo(agent="test", created=T0)
    where = Location(lat=48.0, lon=east_of_line(origin_km, 48.0), error=ErrorEllipse(semi_major_m=50, semi_minor_m=50))
    return Incident(
        id=f"inc-{origin_km}-{day}",
        start=T0 + timedelta(days=day),
        end=T0 + timedelta(days=day, seconds=5),
        observations=(ObservationRef(participant="USA", source="cbr-1", key=f"x{origin_km}{day}"),),
        origins=(Origin(id="o1", location=where, time=T0, method="test", creation_info=info),),
        preferred_origin_id="o1",
        impacts=(Location(lat=48.0, lon=east_of_line(impact_km, 48.0), error=where.error),),
        attributions=(Attribution(id="a1", probabilities={"RUS": p_rus, "UKR": 1 - p_rus}, creation_info=info),),
        preferred_attribution_id="a1",
        weapon_class="mortar",
        markings=Markings(tlp="green", originator="USA"),
        creation_info=info,
    )


def test_every_fire_incident_is_a_ceasefire_finding_marked_across_the_line(agreement: Agreement) -> None:
    across = _incident(agreement, 3.0, -2.0, 0.9)
    [f] = verify(agreement, [], [across], now=NOW)
    assert (f.clause_id, f.side, f.incidents) == ("ceasefire", "RUS", (across.id,))
    assert abs(f.confidence - 0.9) < 1e-9 and "across the contact line" in f.evidence[0].description


def test_quiet_days_count_from_the_last_fire_in_a_disengagement_area(agreement: Agreement) -> None:
    ctx = Context(agreement, NOW)
    inside = _incident(agreement, 1.0, -1.0, 0.5, day=2)  # origin 1 km east at 48° N: inside DA-1
    outside = _incident(agreement, 20.0, 10.0, 0.5, day=5)
    today = (T0 + timedelta(days=6)).date()
    assert quiet_days(ctx, [inside, outside], today) == {"DA-1": 4}
    assert quiet_days(ctx, [], date(2026, 9, 7)) == {"DA-1": 7}  # effective 1 September
