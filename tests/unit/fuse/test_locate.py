"""Localisation: agreement with the plain twin, the CRLB against an independent formula, coverage."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from truceline.fuse import Picks, locate, locate_reference
from truceline.fuse._locate import (
    COLLINEAR,
    MIN_KEEP,
    OK,
    TOO_FEW,
    _leave_one_out,
    _plane,
    _rows,
    _system,
    deletion_chi2,
)

GEOD = pyproj.Geod(ellps="WGS84")
LON0, LAT0 = 37.5, 48.3


def _ring(n: int, radius_m: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    az = np.sort(rng.uniform(0, 360, n))
    lon, lat, _ = GEOD.fwd(np.full(n, LON0), np.full(n, LAT0), az, rng.uniform(0.5, 1.0, n) * radius_m)
    return np.asarray(lon), np.asarray(lat)


def _arrivals(
    src_lon: float, src_lat: float, slon: np.ndarray, slat: np.ndarray, c: float, we: float, wn: float, t0: float
) -> tuple[np.ndarray, np.ndarray]:
    az, back, d = GEOD.inv(np.full(len(slon), src_lon), np.full(len(slon), src_lat), slon, slat)
    a = np.radians(np.asarray(az))
    t = t0 + np.asarray(d) / (c + we * np.sin(a) + wn * np.cos(a))
    return t, np.asarray(back) % 360.0


def _events(
    k: int, n: int, sigma: float, rng: np.random.Generator, we: float = 0.0, wn: float = 0.0
) -> tuple[Picks, list[tuple[float, float, float]]]:
    ev: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    t: list[float] = []
    b: list[float] = []
    truth: list[tuple[float, float, float]] = []
    for e in range(k):
        slon, slat = _ring(n, 15_000.0, rng)
        sl, sa, _ = GEOD.fwd(LON0, LAT0, rng.uniform(0, 360), rng.uniform(0, 3_000))
        tt, bb = _arrivals(sl, sa, slon, slat, 340.0, we, wn, 100.0 * e)
        ev += [e] * n
        lon += slon.tolist()
        lat += slat.tolist()
        t += (tt + rng.normal(0, sigma, n)).tolist()
        b += ((bb + rng.normal(0, 3.0, n)) % 360.0).tolist()
        truth.append((sl, sa, 100.0 * e))
    picks = Picks(
        np.asarray(ev, dtype=np.intp),
        np.asarray(lon),
        np.asarray(lat),
        np.asarray(t),
        np.full(len(ev), sigma),
        np.asarray(b),
        np.full(len(ev), 3.0),
    )
    return picks, truth


def _start(picks: Picks, k: int) -> tuple[np.ndarray, np.ndarray]:
    cnt = np.bincount(picks.event, minlength=k)
    return np.bincount(picks.event, picks.lon, k) / cnt, np.bincount(picks.event, picks.lat, k) / cnt


def test_vectorised_locate_agrees_with_the_plain_reference() -> None:
    rng = np.random.default_rng(1)
    picks, _ = _events(4, 7, 0.01, rng, we=4.0, wn=-3.0)
    k = 4
    lon0, lat0 = _start(picks, k)
    # The reference has no outlier rejection and no bearings: compare like with like.
    no_bearing = Picks(
        picks.event,
        picks.lon,
        picks.lat,
        picks.time_s,
        picks.sigma_s,
        np.full(len(picks), np.nan),
        picks.bearing_sigma_deg,
    )
    sol = locate(no_bearing, k, np.full(k, 340.0), np.full(k, 4.0), np.full(k, -3.0), lon0, lat0, reject=False)
    for e in range(k):
        sel = picks.event == e
        lon, lat, t0, cov = locate_reference(
            picks.lon[sel].tolist(),
            picks.lat[sel].tolist(),
            picks.time_s[sel].tolist(),
            picks.sigma_s[sel].tolist(),
            340.0,
            4.0,
            -3.0,
            float(lon0[e]),
            float(lat0[e]),
            float(np.median(picks.time_s[sel])) - 20.0,
        )
        _, _, d = GEOD.inv(lon, lat, sol.lon[e], sol.lat[e])
        assert d < 0.05  # millimetres of plane approximation and the 1 cm stopping rule
        assert t0 == pytest.approx(sol.t0[e], abs=1e-5)
        assert np.allclose(np.asarray(cov), sol.cov[e], rtol=1e-3)


def test_fisher_covariance_matches_an_independent_crlb_formula() -> None:
    # Independent formula (as in the simulator): rows (u_x / c, u_y / c, 1) over σ², inverted.
    rng = np.random.default_rng(2)
    picks, truth = _events(1, 6, 0.01, rng)
    no_bearing = Picks(
        picks.event,
        picks.lon,
        picks.lat,
        picks.time_s,
        picks.sigma_s,
        np.full(len(picks), np.nan),
        picks.bearing_sigma_deg,
    )
    sol = locate(no_bearing, 1, np.array([340.0]), np.zeros(1), np.zeros(1), *_start(picks, 1), reject=False)
    sl, sa, _ = truth[0]
    az, _, _ = GEOD.inv(np.full(6, sl), np.full(6, sa), picks.lon, picks.lat)
    a = np.radians(np.asarray(az))
    rows = np.column_stack([-np.sin(a) / 340.0, -np.cos(a) / 340.0, np.ones(6)])
    crlb = np.linalg.inv(rows.T @ rows / 0.01**2)
    assert np.sqrt(np.trace(sol.cov[0][:2, :2])) == pytest.approx(np.sqrt(np.trace(crlb[:2, :2])), rel=0.01)


def test_ellipse_coverage_by_monte_carlo_is_near_95_percent() -> None:
    rng = np.random.default_rng(3)
    k = 400
    picks, truth = _events(k, 6, 0.01, rng, we=5.0, wn=0.0)
    sol = locate(picks, k, np.full(k, 340.0), np.full(k, 5.0), np.zeros(k), *_start(picks, k))
    inside = 0
    for e, (sl, sa, _) in enumerate(truth):
        az, _, d = GEOD.inv(sol.lon[e], sol.lat[e], sl, sa)
        v = np.array([d * np.sin(np.radians(az)), d * np.cos(np.radians(az))])
        inside += float(v @ np.linalg.solve(sol.cov[e][:2, :2], v)) <= 5.991
    assert 0.92 <= inside / k <= 0.98


def test_wind_corrected_range_bias_is_below_0_2_percent() -> None:
    rng = np.random.default_rng(4)
    k = 200
    picks, truth = _events(k, 8, 0.005, rng, we=5.0, wn=0.0)
    sol = locate(picks, k, np.full(k, 340.0), np.full(k, 5.0), np.zeros(k), *_start(picks, k))
    ranges, biases = [], []
    for e, (sl, sa, _) in enumerate(truth):
        sel = picks.event == e
        _, _, d_true = GEOD.inv(np.full(sel.sum(), sl), np.full(sel.sum(), sa), picks.lon[sel], picks.lat[sel])
        _, _, d_est = GEOD.inv(
            np.full(sel.sum(), sol.lon[e]), np.full(sel.sum(), sol.lat[e]), picks.lon[sel], picks.lat[sel]
        )
        ranges.append(np.mean(d_true))
        biases.append(np.mean(np.asarray(d_est) - np.asarray(d_true)))
    assert abs(np.mean(biases)) / np.mean(ranges) < 0.002


def test_an_outlier_pick_is_rejected() -> None:
    rng = np.random.default_rng(5)
    picks, truth = _events(1, 8, 0.01, rng)
    picks.time_s[3] += 0.3
    sol = locate(picks, 1, np.array([340.0]), np.zeros(1), np.zeros(1), *_start(picks, 1))
    assert sol.status[0] == OK
    assert not sol.used[3] and sol.used.sum() == 7
    _, _, d = GEOD.inv(sol.lon[0], sol.lat[0], truth[0][0], truth[0][1])
    assert d < 50.0


def test_bad_geometry_gives_a_reason_not_a_location() -> None:
    # Two stations only, and three stations on one straight line with no bearings.
    lon = np.array([37.0, 37.1, 37.0, 37.1, 37.2])
    lat = np.array([48.0, 48.0, 48.0, 48.0, 48.0])
    picks = Picks(
        np.array([0, 0, 1, 1, 1], dtype=np.intp),
        lon,
        lat,
        np.array([10.0, 12.0, 10.0, 30.0, 50.0]),
        np.full(5, 0.01),
        np.full(5, np.nan),
        np.full(5, np.nan),
    )
    sol = locate(picks, 2, np.full(2, 340.0), np.zeros(2), np.zeros(2), np.array([37.05, 37.1]), np.array([48.1, 48.1]))
    assert sol.status[0] == TOO_FEW
    assert sol.status[1] != OK
    assert sol.status[1] in (COLLINEAR, 4)


def _one_event(picks: Picks, keep: np.ndarray) -> Picks:
    return Picks(
        np.zeros(len(keep), dtype=np.intp),
        picks.lon[keep],
        picks.lat[keep],
        picks.time_s[keep],
        picks.sigma_s[keep],
        picks.bearing_deg[keep],
        picks.bearing_sigma_deg[keep],
    )


def test_deletion_chi2_agrees_with_refitting_without_each_pick() -> None:
    # The closed form (leave-one-out χ² from the hat matrix) against the plain way: refit without the pick.
    rng = np.random.default_rng(8)
    picks, _ = _events(1, 7, 0.01, rng)
    picks.time_s[2] += 0.08
    c, zero = np.array([340.0]), np.zeros(1)
    full = locate(picks, 1, c, zero, zero, *_start(picks, 1), reject=False)
    plane = _plane(picks, full.lon, full.lat)
    idx = np.arange(len(picks))
    w_t = 1.0 / picks.sigma_s**2
    w_b = 1.0 / np.radians(picks.bearing_sigma_deg) ** 2
    mat, _, _, _, chi2 = _system(picks, plane, idx, 1, zero, zero, full.t0, c, zero, zero, w_t, w_b)
    assert chi2[0] == pytest.approx(full.chi2[0], rel=1e-6)
    fast = deletion_chi2(mat, _rows(picks, plane, idx, zero, zero, full.t0, c, zero, zero), w_t, w_b)
    for i in range(len(picks)):
        rest = _one_event(picks, np.delete(idx, i))
        again = locate(rest, 1, c, zero, zero, full.lon, full.lat, full.t0, reject=False, retry=False)
        assert fast[i] == pytest.approx(full.chi2[0] - again.chi2[0], rel=0.02, abs=0.05)
    assert int(np.argmax(fast)) == 2


def test_deletion_finds_the_wrong_pick_that_hides_behind_a_good_one() -> None:
    # Few picks, one wrong: it drags the fit toward itself. Rejection keeps going while the χ² is
    # improbable and leaves four picks at least.
    rng = np.random.default_rng(9)
    hits = 0
    for _ in range(40):
        picks, truth = _events(1, 6, 0.01, rng)
        bad = int(rng.integers(0, 6))
        picks.time_s[bad] += rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.5)
        sol = locate(picks, 1, np.array([340.0]), np.zeros(1), np.zeros(1), *_start(picks, 1))
        assert sol.used.sum() >= MIN_KEEP
        if sol.status[0] == OK and not sol.used[bad]:
            hits += 1
            _, _, d = GEOD.inv(sol.lon[0], sol.lat[0], truth[0][0], truth[0][1])
            assert d < 100.0
    assert hits >= 36


def test_leave_one_out_restart_drops_a_wrong_pick_the_fit_absorbed() -> None:
    # The fit with the wrong pick kept (no rejection) is where the restarts begin: leaving each pick
    # out in turn finds the one whose time the others cannot explain.
    rng = np.random.default_rng(10)
    picks, truth = _events(1, 6, 0.01, rng)
    picks.time_s[4] += 0.25
    c, zero = np.array([340.0]), np.zeros(1)
    sol = locate(picks, 1, c, zero, zero, *_start(picks, 1), reject=False, retry=False)
    _, _, before = GEOD.inv(sol.lon[0], sol.lat[0], truth[0][0], truth[0][1])
    has_b = np.isfinite(picks.bearing_deg)
    _leave_one_out(picks, sol, c, zero, zero, has_b)
    assert not sol.used[4] and sol.used.sum() == 5 and sol.n_used[0] == 5
    _, _, after = GEOD.inv(sol.lon[0], sol.lat[0], truth[0][0], truth[0][1])
    assert after < min(before, 30.0)
    # A clean event keeps every pick.
    clean, _ = _events(1, 6, 0.01, rng)
    sol = locate(clean, 1, c, zero, zero, *_start(clean, 1), reject=False, retry=False)
    _leave_one_out(clean, sol, c, zero, zero, np.isfinite(clean.bearing_deg))
    assert sol.used.all()
