"""Zone membership and distances: the grid agrees with its plain twin; distances are geodesic."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from truceline.agreement import Agreement, default_agreement
from truceline.geo import geodesic_distance_m
from truceline.model import WEAPON_CLASSES
from truceline.verify import ZoneChecker


@pytest.fixture(scope="module")
def real() -> ZoneChecker:
    return ZoneChecker(default_agreement(), grid_threshold=0)  # always the grid route


def _near_the_line(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    coords = shapely.get_coordinates(default_agreement().contact_line)
    i = rng.integers(0, len(coords), n)
    lon = coords[i, 0] + rng.normal(0.0, 0.4, n)
    lat = coords[i, 1] + rng.normal(0.0, 0.25, n)
    return lon, lat, rng.integers(0, len(WEAPON_CLASSES), n)


def test_grid_route_agrees_with_the_plain_twin_on_the_real_line(real: ZoneChecker) -> None:
    lon, lat, codes = _near_the_line(4_000, seed=3)
    fast = real.zone_of(lon, lat, codes)
    plain = real.zone_of_reference(lon, lat, codes)
    assert (fast == plain).all()
    assert 0.1 < (fast != "").mean() < 0.9  # the sample exercises both answers


def test_names_and_codes_give_the_same_answer(real: ZoneChecker) -> None:
    lon, lat, codes = _near_the_line(500, seed=4)
    names = np.array(WEAPON_CLASSES)[codes]
    assert (real.zone_of(lon, lat, names) == real.zone_of(lon, lat, codes)).all()


def test_small_inputs_skip_the_grid_and_agree(agreement: Agreement) -> None:
    small = ZoneChecker(agreement)
    grid = ZoneChecker(agreement, grid_threshold=0, cell_deg=0.1)
    lon = np.array([31.9, 32.1, 31.6, 32.4, 31.0, 33.0, 31.85])
    lat = np.full(lon.size, 47.0)
    for cls in ("tank", "mlrs", "small_arms"):
        assert small.zone_of(lon, lat, cls).tolist() == grid.zone_of(lon, lat, cls).tolist()
    # Tanks: 15 km each side; 0.1° of longitude at 47° N is ~7.6 km, 0.4° ~30 km.
    assert small.zone_of(lon, lat, "tank").tolist() == ["UKR", "RUS", "", "", "", "", "UKR"]
    assert small.zone_of(lon, lat, "mlrs").tolist() == ["UKR", "RUS", "UKR", "RUS", "", "", "UKR"]
    assert (small.zone_of(lon, lat, "small_arms") == "").all()


def test_an_unknown_weapon_class_is_an_error_not_a_pass(agreement: Agreement) -> None:
    checker = ZoneChecker(agreement)
    with pytest.raises(ValueError, match="unknown weapon class 'railgun'"):
        checker.zone_of([31.9], [47.0], ["railgun"])
    with pytest.raises(ValueError, match="codes"):
        checker.zone_of([31.9], [47.0], [99])
    with pytest.raises(ValueError, match="2 weapon classes for 3 positions"):
        checker.zone_of([31.9, 32.0, 32.1], [47.0, 47.0, 47.0], ["tank", "mlrs"])


def test_distances_to_the_line_are_geodesic_within_a_tenth_of_a_percent(real: ZoneChecker) -> None:
    lon, lat, _ = _near_the_line(300, seed=5)
    fast = real.distance_m(lon, lat)
    plain = real.distance_reference_m(lon, lat)
    far = plain > 1_000.0  # relative error means little within a few metres of the line
    assert far.sum() > 200
    assert np.max(np.abs(fast[far] - plain[far]) / plain[far]) < 1e-3


def test_distance_to_a_meridian_matches_pyproj(agreement: Agreement) -> None:
    # The line is the 32° E meridian: the nearest point is due west or east, on the same parallel
    # to within metres, so the geodesic to (32°, lat) is the true distance.
    lon = np.array([31.0, 31.5, 32.8, 33.5, 29.0])
    lat = np.array([47.0, 48.5, 46.5, 49.5, 48.0])
    fast = ZoneChecker(agreement).distance_m(lon, lat)
    exact = geodesic_distance_m(lon, lat, np.full(5, 32.0), lat)
    assert np.max(np.abs(fast - exact) / exact) < 1e-3
