"""Withdrawal zones: weapons inside their class's distance become one finding per weapon."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from tests.unit.verify.conftest import east_of_line, numbered, report
from truceline.agreement import Agreement
from truceline.model import ObservationBase
from truceline.verify import verify
from truceline.verify.sightings import group_objects, group_objects_reference

NOW = datetime(2026, 9, 20, tzinfo=UTC)


def _radar(lon: float, lat: float, guess: str, hours: float, participant: str = "USA") -> ObservationBase:
    return report(
        "radar_track",
        participant,
        f"cbr-{participant}",
        hours=hours,
        tlp="amber",
        lon=31.0,
        lat=lat,
        origin={"lon": lon, "lat": lat, "error": {"semi_major_m": 60.0, "semi_minor_m": 30.0}},
        impact={"lon": east_of_line(5.0, lat), "lat": lat, "error": {"semi_major_m": 100.0, "semi_minor_m": 50.0}},
        weapon_class_guess=guess,
    )


def _withdrawal(findings: list) -> list:  # type: ignore[type-arg]
    return [f for f in findings if f.clause_id.startswith("withdrawal.")]


def test_one_weapon_seen_by_radar_imagery_and_two_nations_is_one_finding(agreement: Agreement) -> None:
    lon, lat = east_of_line(-20.0), 47.0  # MLRS 20 km behind the UKR side: inside its 35 km zone
    reports = [
        _radar(lon, lat, "mlrs", 1.0),
        _radar(lon + 0.001, lat, "mlrs", 5.0, participant="MVM"),
        _radar(lon, lat + 0.001, "tank", 9.0),  # a radar's wrong guess among right ones
        report(
            "imagery_detection",
            "FRA",
            "sat-FRA",
            hours=24.0,
            tlp="amber",
            lon=lon,
            lat=lat,
            object_class="mlrs",
            class_confidence=0.9,
            pass_id="p1",
        ),
        report("uav_sighting", "MVM", "uav-1", hours=30.0, lon=lon, lat=lat, object_class="mlrs"),
    ]
    found = _withdrawal(verify(agreement, numbered(reports), now=NOW))
    assert len(found) == 1
    f = found[0]
    assert f.clause_id == "withdrawal.mlrs" and f.side == "UKR" and f.confidence > 0.95
    cited = {(r.participant, r.source, r.key) for e in f.evidence for r in e.refs}
    assert cited == {o.dedup_key for o in reports}
    assert f.first_seen < f.last_seen and f.location is not None and f.sector == "S1"
    # Three originators: it may go only to those every amber source may reach.
    assert f.markings.tlp == "amber" and f.markings.sharing_group is None
    assert {f.markings.originator, *f.markings.releasable_to} == {"MVM", "FRA", "USA"}
    assert "35 km withdrawal zone" in f.evidence[-1].description


def test_a_weapon_beyond_its_distance_is_no_finding(agreement: Agreement) -> None:
    lon, lat = east_of_line(25.0), 47.0  # a tank 25 km back on the RUS side (limit 15 km)
    reports = [
        report("weapon_sighting", "MVM", "patrol-1", hours=h, lon=lon, lat=lat, weapon_class="tank") for h in (1.0, 2.0)
    ]
    assert _withdrawal(verify(agreement, numbered(reports), now=NOW)) == []
    near = [
        report(
            "weapon_sighting",
            "MVM",
            "patrol-1",
            hours=3.0,
            lon=east_of_line(10.0),
            lat=lat,
            weapon_class="tank",
            count=3,
        )
    ]
    found = _withdrawal(verify(agreement, numbered(near), now=NOW))
    assert [(f.clause_id, f.side) for f in found] == [("withdrawal.tank", "RUS")]


def test_a_weak_single_sighting_is_not_a_finding(agreement: Agreement) -> None:
    lon, lat = east_of_line(-20.0), 47.0
    weak = [
        report(
            "imagery_detection",
            "FRA",
            "sat-FRA",
            tlp="amber",
            lon=lon,
            lat=lat,
            object_class="mlrs",
            class_confidence=0.55,
            pass_id="p1",
        )
    ]
    assert _withdrawal(verify(agreement, numbered(weak), now=NOW)) == []


def test_a_shot_longer_than_a_class_can_fire_rules_that_class_out(agreement: Agreement) -> None:
    # A radar calls it a tank, but the shell flew 40 km: no tank does that; it is not a tank finding.
    lat = 47.0
    track = report(
        "radar_track",
        "USA",
        "cbr-1",
        tlp="amber",
        lon=31.0,
        lat=lat,
        origin={"lon": east_of_line(-10.0), "lat": lat, "error": {"semi_major_m": 60.0, "semi_minor_m": 30.0}},
        impact={"lon": east_of_line(30.0), "lat": lat, "error": {"semi_major_m": 60.0, "semi_minor_m": 30.0}},
        weapon_class_guess="tank",
    )
    assert all(f.clause_id != "withdrawal.tank" for f in verify(agreement, numbered([track]), now=NOW))


def test_only_objects_touched_by_the_window_are_written_and_ids_are_stable(agreement: Agreement) -> None:
    lon, lat = east_of_line(-20.0), 47.0
    early = [_radar(lon, lat, "mlrs", 1.0), _radar(lon, lat, "mlrs", 2.0)]
    later = [_radar(lon, lat, "mlrs", 30.0)]
    all_reports = numbered(early + later)
    first = _withdrawal(verify(agreement, all_reports[:2], now=NOW))
    assert _withdrawal(verify(agreement, all_reports[:2], after_seq=2, now=NOW)) == []
    again = _withdrawal(verify(agreement, all_reports, after_seq=2, now=NOW))
    assert [f.id for f in again] == [f.id for f in first]
    assert again[0].last_seen > first[0].last_seen


def test_a_sighting_inside_a_disengagement_area_is_judged_there_not_as_a_withdrawal(agreement: Agreement) -> None:
    tank = report("weapon_sighting", "MVM", "patrol-1", lon=31.99, lat=48.0, weapon_class="tank", count=3)
    found = verify(agreement, numbered([tank]), now=NOW)
    assert [(f.clause_id, f.side) for f in found] == [("disengagement.DA-1", "UKR")]


def test_a_finding_the_new_reports_no_longer_support_is_closed_not_left_standing(agreement: Agreement) -> None:
    lon, lat = east_of_line(-20.0), 47.0
    first = numbered([_radar(lon, lat, "mlrs", 1.0), _radar(lon, lat, "mlrs", 2.0)])
    [f] = _withdrawal(verify(agreement, first, now=NOW))
    # Then monitors look closely, again and again: it is an air-defence system, not an MLRS.
    closer = [
        report("weapon_sighting", "MVM", "patrol-1", hours=30.0 + k, lon=lon, lat=lat, weapon_class="air_defence")
        for k in range(4)
    ]
    later = first + numbered(closer, start=3)
    [withdrawn] = _withdrawal(verify(agreement, later, after_seq=2, now=NOW, existing={f.id: f}))
    assert (withdrawn.id, withdrawn.status, withdrawn.confidence) == (f.id, "closed", 0.0)
    assert withdrawn.evidence[-1].kind == "withdrawn"


def test_grouping_agrees_with_its_plain_twin() -> None:
    rng = np.random.default_rng(8)
    for _ in range(5):
        n = int(rng.integers(1, 300))
        x, y = rng.uniform(0, 20_000, n), rng.uniform(0, 20_000, n)
        err = rng.choice([20.0, 150.0, 400.0], n)
        fast = group_objects(x, y, 400.0, err)
        plain = group_objects_reference(x, y, 400.0, err)
        assert (fast == plain).all()
        assert 1 < fast.max() + 1 < n or n < 3  # the draw makes both single and shared objects
