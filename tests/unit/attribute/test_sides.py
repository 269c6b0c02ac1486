"""P(side) over the error ellipse: the vectorised route against its Monte-Carlo twin and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from scipy.special import ndtr

from truceline.agreement import Agreement
from truceline.attribute import SideAreas, covariance_arrays, side_probabilities_monte_carlo
from truceline.geo import to_lonlat, to_metric
from truceline.model import ErrorEllipse


def test_covariance_arrays_match_the_model_ellipse() -> None:
    for major, minor, theta in [(300.0, 100.0, 0.0), (500.0, 50.0, 37.0), (80.0, 80.0, 120.0)]:
        (cee, cen), (_, cnn) = ErrorEllipse(semi_major_m=major, semi_minor_m=minor, orientation_deg=theta).covariance()
        ae, an_, ann = covariance_arrays([major], [minor], [theta])
        assert (ae[0], an_[0], ann[0]) == pytest.approx((cee, cen, cnn), rel=1e-9, abs=1e-9)


def _points_near_line(agreement: Agreement, n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    line = agreement.contact_line_metric
    pts = shapely.line_interpolate_point(line, rng.uniform(0, shapely.length(line), n))
    x = shapely.get_x(pts) + rng.normal(0, 800, n)
    y = shapely.get_y(pts) + rng.normal(0, 800, n)
    lon, lat = to_lonlat(x, y)
    major = rng.uniform(200, 2_500, n)
    minor = major * rng.uniform(0.2, 1.0, n)
    return lon, lat, *covariance_arrays(major, minor, rng.uniform(0, 180, n))


def test_vectorised_side_probabilities_agree_with_monte_carlo(agreement: Agreement) -> None:
    lon, lat, cee, cen, cnn = _points_near_line(agreement, 40, seed=3)
    fast = SideAreas.from_agreement(agreement).probabilities(lon, lat, cee, cen, cnn)
    slow = side_probabilities_monte_carlo(agreement, lon, lat, cee, cen, cnn, samples=6_000, seed=9)
    assert fast.corrected.any()  # these points straddle the line: the near-boundary route ran
    # Monte-Carlo standard error is at most 0.0065 here; allow about four of them.
    assert np.max(np.abs(fast.inside - slow.inside)) < 0.03
    assert np.mean(np.abs(fast.inside - slow.inside)) < 0.01


def test_far_from_the_line_the_answer_is_certain(agreement: Agreement) -> None:
    areas = SideAreas.from_agreement(agreement)
    p = areas.probabilities([30.52, 37.80], [50.45, 48.00], [400.0, 400.0], [0.0, 0.0], [400.0, 400.0])
    assert p.of("UKR").tolist() == pytest.approx([1.0, 0.0])
    assert p.of("RUS").tolist() == pytest.approx([0.0, 1.0])
    assert not p.corrected.any()


def test_straight_boundary_gives_the_closed_form() -> None:
    # Two halves of a square 200 km wide in theatre metres, split along x = x0: P = Φ(d / σ).
    x0, y0 = to_metric(35.0, 48.0)
    west = shapely.box(x0 - 100_000, y0 - 100_000, x0, y0 + 100_000)
    east = shapely.box(x0, y0 - 100_000, x0 + 100_000, y0 + 100_000)
    areas = SideAreas(("AAA", "BBB"), [west, east])
    d = np.array([-3_000.0, -500.0, 0.0, 400.0, 2_000.0])
    lon, lat = to_lonlat(x0 + d, np.full(d.size, y0))
    sigma = 1_000.0
    p = areas.probabilities(lon, lat, np.full(d.size, sigma**2), np.zeros(d.size), np.full(d.size, sigma**2))
    # The projection's scale factor and grid convergence shift σ by well under 1 %.
    assert p.of("BBB") == pytest.approx(ndtr(d / sigma), abs=0.01)
    assert p.of("AAA") + p.of("BBB") == pytest.approx(np.ones(d.size), abs=1e-6)
    assert p.outside == pytest.approx(np.zeros(d.size), abs=1e-6)


def test_mass_beyond_both_areas_is_reported_as_outside() -> None:
    x0, y0 = to_metric(35.0, 48.0)
    only = shapely.box(x0 - 100_000, y0 - 100_000, x0, y0 + 100_000)
    areas = SideAreas(("AAA",), [only])
    lon, lat = to_lonlat(np.array([x0]), np.array([y0]))
    p = areas.probabilities(lon, lat, [250_000.0], [0.0], [250_000.0])
    assert p.of("AAA")[0] == pytest.approx(0.5, abs=0.01)
    assert p.outside[0] == pytest.approx(0.5, abs=0.01)
    assert math.isclose(p.of("AAA")[0] + p.outside[0], 1.0, abs_tol=1e-9)
