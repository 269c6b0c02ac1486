"""The reassurance force's posture checks (shared with verify) and the coverage of skies and seas."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from truceline.agreement import default_agreement
from truceline.geo import Gazetteer
from truceline.guarantee import (
    CLAUSE_BASING,
    CLAUSE_DISTANCE,
    EXAMPLE_COALITION,
    check_positions,
    coverage,
    load_coalition,
    posture,
)
from truceline.model import Finding, Markings

Write = Callable[[dict[str, Any] | str], Path]


def _point_at_distance(km: float) -> tuple[float, float]:
    """A point on the way from Lviv to Kharkiv at ``km`` from the contact line (bisection)."""
    a = default_agreement()
    (lviv,), (kharkiv,) = Gazetteer.default().resolve("Lviv"), Gazetteer.default().resolve("Kharkiv")
    lo, hi = 0.0, 1.0  # fraction of the way; distance falls as we go east
    for _ in range(60):
        mid = (lo + hi) / 2
        lon, lat = lviv.lon + mid * (kharkiv.lon - lviv.lon), lviv.lat + mid * (kharkiv.lat - lviv.lat)
        if float(a.distance_to_line_m(lon, lat)[0]) / 1000 > km:
            lo = mid
        else:
            hi = mid
    return lon, lat


def test_a_unit_150_km_from_the_line_with_a_200_km_minimum_is_a_finding() -> None:
    a = default_agreement()
    assert a.reassurance_force.min_distance_km == 200
    lon, lat = _point_at_distance(150.0)
    checks = check_positions(a, [lon], [lat])
    assert checks.distance_km[0] == pytest.approx(150.0, abs=0.01)
    assert checks.too_close.tolist() == [True]
    assert checks.outside_basing.tolist() == [True]  # Poltava oblast is not western Ukraine either


def test_a_unit_in_lviv_is_fine() -> None:
    (lviv,) = Gazetteer.default().resolve("Lviv", limit=1)
    checks = check_positions(default_agreement(), [lviv.lon], [lviv.lat])
    assert checks.ok.tolist() == [True] and checks.in_basing_area.tolist() == [True]
    assert checks.distance_km[0] > 600


def test_units_abroad_are_not_bound_by_the_basing_area_but_are_by_distance_when_declared_in_ukraine() -> None:
    a = default_agreement()
    rzeszow, black_sea = (22.019, 50.110), (30.9, 45.7)
    checks = check_positions(a, [rzeszow[0], black_sea[0]], [rzeszow[1], black_sea[1]], declared_in_ukraine=False)
    assert checks.ok.tolist() == [True, True] and not checks.on_ukraine.any()
    declared = check_positions(a, [black_sea[0]], [black_sea[1]], declared_in_ukraine=True)
    assert declared.too_close.tolist() == [True] and declared.outside_basing.tolist() == [False]


def test_many_positions_at_once_match_one_by_one() -> None:
    a = default_agreement()
    rng = np.random.default_rng(6)
    lon, lat = rng.uniform(22, 40, 300), rng.uniform(44.5, 52.3, 300)
    together = check_positions(a, lon, lat)
    for i in range(0, 300, 37):
        alone = check_positions(a, lon[i : i + 1], lat[i : i + 1])
        assert alone.too_close[0] == together.too_close[i] and alone.outside_basing[0] == together.outside_basing[i]


def test_planned_and_actual_positions_are_both_checked(doc: dict[str, Any], write: Write) -> None:
    rows = posture(load_coalition(write(doc)))
    assert [(r.unit.id, r.which) for r in rows] == [("GBR-BG", "planned"), ("GBR-BG", "actual"), ("FRA-AD", "planned")]
    planned, actual, _ = rows
    assert not planned.findings and planned.status == "ok"
    assert {f.clause_id for f in actual.findings} == {CLAUSE_DISTANCE, CLAUSE_BASING}
    assert "136 km from the contact line (minimum 200 km)" in actual.status


def test_a_posture_finding_becomes_a_shared_finding_record(doc: dict[str, Any], write: Write) -> None:
    (_, actual, _) = posture(load_coalition(write(doc)))
    f = actual.findings[0]
    created = datetime(2026, 11, 15, tzinfo=UTC)
    record = f.to_finding("finding--1", created=created, markings=Markings(tlp="amber", originator="MVM"))
    assert isinstance(record, Finding)
    assert record.clause_id == CLAUSE_DISTANCE and record.side == "GBR"
    assert record.clause_text == default_agreement().clause(CLAUSE_DISTANCE).text
    assert record.first_seen == datetime(2026, 11, 10, tzinfo=UTC)
    assert record.location is not None and record.location.lon == pytest.approx(f.lon)


def test_the_example_has_its_deliberate_findings_only() -> None:
    rows = posture(load_coalition(EXAMPLE_COALITION))
    found = sorted((f.unit, f.which, f.clause_id) for r in rows for f in r.findings)
    assert found == [
        ("CAN-MTT", "actual", CLAUSE_BASING),
        ("CAN-MTT", "actual", CLAUSE_DISTANCE),
        ("FRA-SAMPT-2", "actual", CLAUSE_BASING),
        ("GBR-CELL", "planned", CLAUSE_BASING),
    ]


def test_one_ring_covers_its_disc_of_the_target(doc: dict[str, Any], write: Write) -> None:
    c = load_coalition(write(doc))
    air = coverage(c, "air")
    (ring,) = air.rings
    assert ring.unit.id == "FRA-AD" and ring.range_km == 100
    # Lutsk is well inside Ukraine except towards the Belarusian border: most of a 100 km disc counts.
    disc = math.pi * 100.0**2
    assert 0.8 * disc < air.covered_km2 <= 1.002 * disc
    assert air.percent == pytest.approx(100 * air.covered_km2 / air.target_km2)
    volyn = dict(air.by_area)["Volyn Oblast"]
    assert 50 < volyn <= 100
    assert coverage(c, "sea").percent == 0.0 and not coverage(c, "sea").rings


def test_units_without_an_actual_position_drop_out_of_actual_coverage() -> None:
    c = load_coalition(EXAMPLE_COALITION)
    planned, actual = coverage(c, "air", "planned"), coverage(c, "air", "actual")
    assert len(actual.rings) == len(planned.rings) - 1  # the Typhoons are not deployed yet
    assert actual.percent < planned.percent
    sea = coverage(c, "sea")
    assert 50 < sea.percent <= 100
    with pytest.raises(ValueError, match="domain"):
        coverage(c, "space")
