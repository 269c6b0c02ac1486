"""Crater analyses: joined by their back-bearing, refused when ambiguous, fused as lines, crossed."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np

from truceline.fuse import Solutions
from truceline.fuse._craters import (
    REASON_ALONE,
    REASON_NONE,
    CraterReports,
    fuse_bearings,
    join_craters,
)
from truceline.fuse._locate import GEOD
from truceline.fuse._observers import PatrolPoints
from truceline.fuse._run import EPOCH
from truceline.model import ErrorEllipse, Location, Markings, PatrolReport

T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
ORIGIN = (37.70, 48.40)
CHI2_95 = -2.0 * math.log(0.05)


def _offset(lon: float, lat: float, east: float, north: float) -> tuple[float, float]:
    lo, la, _ = GEOD.fwd(lon, lat, math.degrees(math.atan2(east, north)), math.hypot(east, north))
    return float(lo), float(la)


def _crater(
    key: str,
    crater: tuple[float, float],
    toward: tuple[float, float],
    *,
    noise_deg: float = 0.0,
    sigma_deg: float = 15.0,
    dt_s: float = 0.0,
    guess: str = "artillery_ge100",
    source: str = "crater-MVM-00",
) -> PatrolReport:
    az, _, _ = GEOD.inv(crater[0], crater[1], toward[0], toward[1])
    return PatrolReport(
        key=key,
        participant="MVM",
        source=source,
        time=T0 + timedelta(seconds=dt_s),
        time_error_s=5_400.0,
        location=Location(lon=crater[0], lat=crater[1], error=ErrorEllipse(semi_major_m=12.0, semi_minor_m=12.0)),
        markings=Markings(tlp="green", originator="MVM"),
        explosions=1,
        direction="incoming",
        impact_bearing_deg=round((az + noise_deg) % 360.0, 1) % 360.0,
        bearing_error_deg=sigma_deg,
        weapon_class_guess=guess,  # type: ignore[arg-type]
        note="crater analysis",
    )


def _solutions(points: list[tuple[float, float, float]], sd_m: float = 30.0) -> Solutions:
    n = len(points)
    cov = np.zeros((n, 3, 3))
    cov[:, 0, 0] = cov[:, 1, 1] = sd_m**2
    cov[:, 2, 2] = 0.01
    return Solutions(
        np.array([p[0] for p in points]),
        np.array([p[1] for p in points]),
        np.array([(T0 - EPOCH).total_seconds() + p[2] for p in points]),
        cov,
        np.full(n, 8),
        np.full(n, 0.01),
        np.full(n, 5.0),
        np.zeros(n, dtype=np.intp),
        np.ones(8 * n, dtype=bool),
    )


CRATER = _offset(*ORIGIN, 2_000.0, -15_000.0)  # 15 km south of the gun


def test_a_crater_joins_the_incident_its_back_bearing_points_at() -> None:
    east = _offset(*ORIGIN, 25_000.0, 0.0)  # 57° off the bearing seen from the crater
    late = _offset(*ORIGIN, -300.0, 200.0)  # on the bearing but 12 h later
    sol = _solutions([(*east, 600.0), (*ORIGIN, 900.0), (*late, 12 * 3600.0)])
    cr = CraterReports.from_records([_crater("c1", CRATER, ORIGIN, noise_deg=8.0, dt_s=3_000.0)], EPOCH)
    links = join_craters(cr, sol)
    assert links.event_of.tolist() == [1]
    assert links.candidates.tolist() == [1]
    assert links.reason == [""]


def test_a_battery_firing_for_hours_makes_the_crater_ambiguous_and_it_joins_nothing() -> None:
    beside = _offset(*ORIGIN, 150.0, 80.0)
    sol = _solutions([(*ORIGIN, -1_800.0), (*beside, 2_400.0)])
    links = join_craters(CraterReports.from_records([_crater("c1", CRATER, ORIGIN)], EPOCH), sol)
    assert links.event_of.tolist() == [-1]
    assert links.ambiguous.tolist() == [True]
    assert links.reason[0].startswith("ambiguous: 2 located incidents")


def test_a_radar_impact_settles_which_round_made_the_crater() -> None:
    """Two rounds of one battery fit the bearing equally; the radar saw one land at the crater and
    the other 3 km away: the crater is the first's, and the second is no candidate at all."""
    beside = _offset(*ORIGIN, 150.0, 80.0)
    sol = _solutions([(*ORIGIN, -1_800.0), (*beside, 2_400.0)])
    cr = CraterReports.from_records([_crater("c1", CRATER, ORIGIN)], EPOCH)
    here = _offset(*CRATER, 60.0, -40.0)
    away = _offset(*CRATER, 3_000.0, 0.0)
    impact_cov = np.diag([120.0**2, 80.0**2])
    links = join_craters(cr, sol, {0: (*away, impact_cov), 1: (*here, impact_cov)})
    assert links.event_of.tolist() == [1]
    assert links.candidates.tolist() == [1]
    # A radar impact elsewhere for the only round along the bearing: the crater is not that round's.
    alone = join_craters(cr, _solutions([(*ORIGIN, 0.0)]), {0: (*away, impact_cov)})
    assert alone.event_of.tolist() == [-1] and alone.candidates.tolist() == [0]


def test_a_gross_bearing_error_is_rejected_by_the_gate() -> None:
    sol = _solutions([(*ORIGIN, 600.0)])
    for noise in (70.0, 120.0, -95.0, 180.0):
        links = join_craters(CraterReports.from_records([_crater("c1", CRATER, ORIGIN, noise_deg=noise)], EPOCH), sol)
        assert links.event_of.tolist() == [-1], noise
        assert links.reason == [REASON_ALONE]  # nothing else crosses it: no incident either
    # Inside the gate (3.29 σ of 15° is 49°), it joins.
    ok = join_craters(CraterReports.from_records([_crater("c1", CRATER, ORIGIN, noise_deg=40.0)], EPOCH), sol)
    assert ok.event_of.tolist() == [0]


def test_the_guessed_weapon_bounds_the_range_and_the_time_error_the_period() -> None:
    far = _offset(*CRATER, 0.0, 60_000.0)  # 60 km up the bearing: beyond a howitzer's reach
    sol = _solutions([(*far, 0.0)])
    assert join_craters(CraterReports.from_records([_crater("c1", CRATER, far)], EPOCH), sol).event_of.tolist() == [-1]
    heavy = _crater("c1", CRATER, far, guess="heavy_mlrs_missile")
    assert join_craters(CraterReports.from_records([heavy], EPOCH), sol).event_of.tolist() == [0]
    # 6 h after the estimated time of impact (σ 1.5 h): outside the 99.9 % time gate.
    late = _solutions([(*ORIGIN, 6 * 3600.0)])
    assert join_craters(CraterReports.from_records([_crater("c1", CRATER, ORIGIN)], EPOCH), late).reason == [
        REASON_ALONE
    ]


def test_a_crater_whose_time_error_the_window_does_not_hold_waits() -> None:
    sol = _solutions([(*ORIGIN, 0.0)])
    cr = CraterReports.from_records([_crater("c1", CRATER, ORIGIN)], EPOCH)
    start = (T0 - EPOCH).total_seconds()
    links = join_craters(cr, sol, complete=(start - 3_600.0, start + 3_600.0))
    assert links.event_of.tolist() == [-1] and links.reason[0].startswith("pending")
    assert join_craters(cr, sol, complete=(start - 86_400.0, start + 86_400.0)).event_of.tolist() == [0]


def test_crater_reports_are_not_observers_logs() -> None:
    """A crater analysis has no bearing and distance from an observer: the observers' join leaves
    it out (fuse passes it to the craters' join only)."""
    report = _crater("c1", CRATER, ORIGIN)
    assert PatrolPoints.from_records([report], EPOCH).reason[0].startswith("no bearing and distance")
    assert len(CraterReports.from_records([report], EPOCH)) == 1
    plain = report.model_copy(update={"impact_bearing_deg": None})
    assert len(CraterReports.from_records([plain], EPOCH)) == 0


def test_the_back_bearing_is_a_line_constraint_in_information_form() -> None:
    """Fused into a 2 km × 1 km origin, a bearing from 15 km adds rank-one information across the
    line of sight: the information along the line is unchanged, across it grows, and the mean and
    covariance equal an independent Kalman update of the linearised bearing."""
    prior = np.array([[2_000.0**2, 0.4 * 2_000.0 * 1_000.0], [0.4 * 2_000.0 * 1_000.0, 1_000.0**2]])
    gun = _offset(*ORIGIN, 900.0, 300.0)  # the truth; the origin estimate is ORIGIN
    cr = CraterReports.from_records([_crater("c1", CRATER, gun, sigma_deg=2.0)], EPOCH)
    lon, lat, cov = fuse_bearings(ORIGIN[0], ORIGIN[1], prior.tolist(), cr, [0])
    post = np.asarray(cov)
    # Independently: azimuth h(x) from the crater, linearised at the origin; Kalman form.
    az, _, d = GEOD.inv(CRATER[0], CRATER[1], ORIGIN[0], ORIGIN[1])
    a = math.radians(az)
    u = np.array([math.sin(a), math.cos(a)])  # along the line of sight
    n = np.array([math.cos(a), -math.sin(a)])  # across it
    jac = n / d  # ∂az/∂(e, n) at the origin
    var = math.radians(2.0) ** 2 + (12.0 / 2.4477) ** 2 / d**2
    resid = (math.radians(cr.bearing[0]) - a + math.pi) % (2 * math.pi) - math.pi
    gain = prior @ jac / (jac @ prior @ jac + var)
    expected_cov = prior - np.outer(gain, jac @ prior)
    expected_step = gain * resid
    assert np.allclose(post, expected_cov, rtol=1e-6)
    baz, _, moved = GEOD.inv(ORIGIN[0], ORIGIN[1], lon, lat)
    step = np.array([moved * math.sin(math.radians(baz)), moved * math.cos(math.radians(baz))])
    assert np.allclose(step, expected_step, atol=0.05)
    info_before, info_after = np.linalg.inv(prior), np.linalg.inv(post)
    assert abs(u @ info_after @ u - u @ info_before @ u) < 1e-9 * (u @ info_before @ u)
    assert n @ info_after @ n > 2.0 * (n @ info_before @ n)
    assert np.linalg.matrix_rank(info_after - info_before, tol=1e-12) == 1
    # The update pulls the origin toward the line through the true gun, not along it.
    assert abs(step @ u) < abs(step @ n)


def test_crossing_back_bearings_fix_a_gun_no_array_heard_and_one_crater_alone_does_not() -> None:
    a = _offset(*ORIGIN, -9_000.0, -12_000.0)
    b = _offset(*ORIGIN, 11_000.0, -10_000.0)
    lone = _offset(*ORIGIN, 60_000.0, 0.0)
    reports = [
        _crater("c1", a, ORIGIN, noise_deg=5.0),
        _crater("c2", b, ORIGIN, noise_deg=-4.0, dt_s=2_400.0, source="crater-OSCE-01"),
        _crater("c3", lone, _offset(*lone, 0.0, 15_000.0), source="crater-MVM-02"),
    ]
    links = join_craters(CraterReports.from_records(reports, EPOCH), _solutions([]))
    assert len(links.fixes) == 1
    fix = links.fixes[0]
    assert sorted(fix.members) == [0, 1] and fix.reason == ""
    _, _, err = GEOD.inv(ORIGIN[0], ORIGIN[1], fix.lon, fix.lat)
    assert err < 3_000.0
    assert links.reason[2] == REASON_ALONE
    # Two craters of one place cross at a shallow angle: no fix.
    near = _offset(*a, 800.0, 300.0)
    shallow = [_crater("c1", a, ORIGIN, noise_deg=3.0), _crater("c4", near, ORIGIN, noise_deg=-3.0)]
    links = join_craters(CraterReports.from_records(shallow, EPOCH), _solutions([]))
    assert links.fixes == [] and links.reason == [REASON_ALONE, REASON_ALONE]
    assert REASON_NONE  # the reason before the crossing step looked at them


def test_the_crossing_fix_ellipse_covers_95_percent_by_monte_carlo() -> None:
    """Three craters 12–16 km from one gun, bearings drawn with the errors they state (10, 15,
    20°): the fix's 95 % ellipse holds the gun about 95 % of the time."""
    rng = np.random.default_rng(11)
    places = [
        (_offset(*ORIGIN, -8_000.0, -11_000.0), 10.0),
        (_offset(*ORIGIN, 10_000.0, -9_000.0), 15.0),
        (_offset(*ORIGIN, 1_000.0, -14_000.0), 20.0),
    ]
    inside = trials = 0
    for _ in range(400):
        reports = [
            _crater(f"c{k}", p, ORIGIN, noise_deg=float(rng.normal(0.0, s)), sigma_deg=s, source=f"crater-MVM-{k:02d}")
            for k, (p, s) in enumerate(places)
        ]
        links = join_craters(CraterReports.from_records(reports, EPOCH), _solutions([]))
        fixes = [f for f in links.fixes if not f.reason]
        if len(fixes) != 1 or len(fixes[0].members) != 3:
            continue
        f = fixes[0]
        az, _, d = GEOD.inv(f.lon, f.lat, ORIGIN[0], ORIGIN[1])
        off = np.array([d * math.sin(math.radians(az)), d * math.cos(math.radians(az))])
        trials += 1
        inside += float(off @ np.linalg.inv(f.cov) @ off) <= CHI2_95
    assert trials >= 300
    assert 0.90 <= inside / trials <= 0.985
