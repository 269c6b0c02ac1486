"""Patrol reports: joined to the incident they describe, fused, or fixed by several observers."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from truceline import fuse
from truceline.agreement import default_agreement
from truceline.fuse import Solutions
from truceline.fuse._locate import GEOD
from truceline.fuse._observers import (
    REASON_BEARING_ONLY,
    REASON_NO_MATCH,
    PatrolPoints,
    fuse_points,
    join_patrols,
)
from truceline.fuse._run import EPOCH
from truceline.ingest import ContextChecks, ingest_paths
from truceline.model import ErrorEllipse, Incident, Location, Markings, PatrolReport
from truceline.sim import scenario, simulate
from truceline.store import MemoryStore

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
ORIGIN = (37.70, 48.40)
CHI2_95 = -2.0 * math.log(0.05)


def _report(
    key: str,
    observer: tuple[float, float],
    target: tuple[float, float] | None,
    *,
    source: str = "patrol-MVM-00",
    direction: str = "outgoing",
    distance: bool = True,
    bearing_noise: float = 0.0,
    distance_factor: float = 1.0,
    start: datetime = T0,
) -> PatrolReport:
    bearing = dist = None
    if target is not None:
        az, _, d = GEOD.inv(observer[0], observer[1], target[0], target[1])
        bearing = (az + bearing_noise) % 360.0
        dist = d * distance_factor if distance else None
    return PatrolReport(
        key=key,
        participant="MVM",
        source=source,
        time=start,
        time_error_s=60.0,
        location=Location(lon=observer[0], lat=observer[1], error=ErrorEllipse(semi_major_m=50.0, semi_minor_m=50.0)),
        markings=Markings(tlp="green", originator="MVM"),
        explosions=1,
        duration_s=3600.0,
        bearing_deg=bearing,
        bearing_error_deg=15.0 if bearing is not None else None,
        distance_m=dist,
        distance_error_m=None if dist is None else round(0.4 * dist, -2),
        direction=direction,  # type: ignore[arg-type]
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


def _offset(lon: float, lat: float, east: float, north: float) -> tuple[float, float]:
    lo, la, _ = GEOD.fwd(lon, lat, math.degrees(math.atan2(east, north)), math.hypot(east, north))
    return float(lo), float(la)


def test_a_report_joins_the_incident_it_points_at_and_not_one_outside_the_period() -> None:
    observer = _offset(*ORIGIN, -6_000.0, -2_000.0)
    elsewhere = _offset(*ORIGIN, 15_000.0, 9_000.0)
    sol = _solutions([(*ORIGIN, 1200.0), (*elsewhere, 1300.0), (*ORIGIN, 7300.0)])  # the 3rd: after the period
    pts = PatrolPoints.from_records([_report("r1", observer, ORIGIN, bearing_noise=6.0, distance_factor=1.2)], EPOCH)
    links = join_patrols(pts, sol)
    assert links.event_of.tolist() == [0]
    assert links.reason == [""]


def test_the_fused_origin_is_the_information_sum() -> None:
    acoustic = np.diag([900.0, 400.0])
    pts = PatrolPoints.from_records([_report("r1", _offset(*ORIGIN, -5_000.0, 0.0), ORIGIN)], EPOCH)
    lon, lat, cov = fuse_points(ORIGIN[0], ORIGIN[1], acoustic.tolist(), [(pts.lon[0], pts.lat[0], pts.cov[0])])
    expected = np.linalg.inv(np.linalg.inv(acoustic) + np.linalg.inv(pts.cov[0]))
    assert np.allclose(cov, expected)
    _, _, moved = GEOD.inv(ORIGIN[0], ORIGIN[1], lon, lat)
    assert moved < 1.0  # a kilometre-wide observer ellipse barely moves a 30 m acoustic origin


def test_a_battery_firing_all_hour_makes_the_report_ambiguous_and_it_joins_nothing() -> None:
    near = _offset(*ORIGIN, 80.0, 40.0)
    sol = _solutions([(*ORIGIN, 600.0), (*near, 2400.0)])
    pts = PatrolPoints.from_records([_report("r1", _offset(*ORIGIN, 0.0, -7_000.0), ORIGIN)], EPOCH)
    links = join_patrols(pts, sol)
    assert links.event_of.tolist() == [-1]
    assert links.ambiguous.tolist() == [True]
    assert links.reason[0].startswith("ambiguous: 2 located incidents")


def test_bearings_without_distance_never_make_a_location() -> None:
    a, b = _offset(*ORIGIN, -6_000.0, 0.0), _offset(*ORIGIN, 0.0, -6_000.0)
    reports = [
        _report("r1", a, ORIGIN, distance=False),
        _report("r2", b, ORIGIN, distance=False, source="patrol-OSCE-00"),
        _report("r3", a, None, direction="undetermined"),
    ]
    links = join_patrols(PatrolPoints.from_records(reports, EPOCH), _solutions([]))
    assert links.event_of.tolist() == [-1, -1, -1]
    assert links.fixes == []
    assert links.reason[:2] == [REASON_BEARING_ONLY, REASON_BEARING_ONLY]
    assert links.reason[2].startswith("no bearing and distance")


def test_an_incoming_report_is_compared_with_impacts_only() -> None:
    impact = _offset(*ORIGIN, 0.0, 6_000.0)
    observer = _offset(*impact, 3_000.0, 0.0)
    sol = _solutions([(*ORIGIN, 900.0)])
    report = _report("r1", observer, impact, direction="incoming")
    pts = PatrolPoints.from_records([report], EPOCH)
    assert join_patrols(pts, sol).event_of.tolist() == [-1]  # no impact estimate: not joined to the origin
    with_impact = join_patrols(pts, sol, {0: (impact[0], impact[1], np.diag([150.0**2, 150.0**2]))})
    assert with_impact.event_of.tolist() == [0]


def test_two_observers_fix_an_explosion_no_array_heard_and_one_alone_does_not() -> None:
    a, b = _offset(*ORIGIN, -7_000.0, 1_000.0), _offset(*ORIGIN, 1_000.0, -8_000.0)
    reports = [
        _report("r1", a, ORIGIN, bearing_noise=4.0, distance_factor=0.9),
        _report("r2", b, ORIGIN, source="patrol-OSCE-03", bearing_noise=-3.0, distance_factor=1.1,
                start=T0 + timedelta(minutes=20)),
        _report("r3", _offset(*ORIGIN, 40_000.0, 0.0), _offset(*ORIGIN, 45_000.0, 0.0), source="patrol-OSCE-07"),
    ]  # fmt: skip
    links = join_patrols(PatrolPoints.from_records(reports, EPOCH), _solutions([]))
    assert len(links.fixes) == 1
    fix = links.fixes[0]
    assert sorted(fix.members) == [0, 1] and fix.reason == ""
    _, _, err = GEOD.inv(ORIGIN[0], ORIGIN[1], fix.lon, fix.lat)
    assert err < 2_000.0
    assert links.reason[2].startswith("joins no incident and no other observer")
    # Its time is the overlap of the two periods.
    assert (T0 - EPOCH).total_seconds() + 1200.0 - 60.0 <= fix.time_s <= (T0 - EPOCH).total_seconds() + 3660.0


def test_the_observer_fix_ellipse_covers_95_percent_by_monte_carlo() -> None:
    """Reports drawn with the errors they state (bearing 15°, distance 40 %): the fix's 95 %
    ellipse holds the explosion about 95 % of the time (the Gaussian picture of a fan)."""
    rng = np.random.default_rng(7)
    a, b, c = (
        _offset(*ORIGIN, -6_000.0, 1_000.0),
        _offset(*ORIGIN, 2_000.0, -7_000.0),
        _offset(*ORIGIN, 5_000.0, 5_000.0),
    )
    inside = trials = 0
    for _ in range(300):
        reports = []
        for n, obs in enumerate((a, b, c)):
            az, _, d = GEOD.inv(obs[0], obs[1], ORIGIN[0], ORIGIN[1])
            r = _report(f"r{n}", obs, ORIGIN, source=f"patrol-MVM-{n:02d}")
            reports.append(
                r.model_copy(
                    update={
                        "bearing_deg": float((az + rng.normal(0, 15.0)) % 360.0),
                        "distance_m": float(max(d * (1 + rng.normal(0, 0.4)), 200.0)),
                        "distance_error_m": 0.4 * d,
                    }
                )
            )
        links = join_patrols(PatrolPoints.from_records(reports, EPOCH), _solutions([]))
        fixes = [f for f in links.fixes if not f.reason]
        if len(fixes) != 1 or len(fixes[0].members) != 3:
            continue
        f = fixes[0]
        az, _, d = GEOD.inv(f.lon, f.lat, ORIGIN[0], ORIGIN[1])
        off = np.array([d * math.sin(math.radians(az)), d * math.cos(math.radians(az))])
        trials += 1
        inside += float(off @ np.linalg.inv(f.cov) @ off) <= CHI2_95
    assert trials >= 200
    assert 0.88 <= inside / trials <= 0.99


def test_a_report_outside_any_ellipse_says_so() -> None:
    sol = _solutions([(*_offset(*ORIGIN, 30_000.0, 0.0), 900.0)])
    links = join_patrols(
        PatrolPoints.from_records([_report("r1", _offset(*ORIGIN, -5_000.0, 0.0), ORIGIN)], EPOCH), sol
    )
    assert links.event_of.tolist() == [-1]
    assert links.reason == ["joins no incident and no other observer's report agrees with it"]
    assert REASON_NO_MATCH  # the reason before the observer-only step looked at it


@pytest.fixture(scope="module")
def small_day(tmp_path_factory: pytest.TempPathFactory) -> MemoryStore:
    out = tmp_path_factory.mktemp("sim")
    simulate(scenario("default", days=1, scale=0.004, start=date(2026, 9, 1), write_media=False), out)
    store = MemoryStore()
    ag = default_agreement()
    ingest_paths(
        [str(out / "observations.ndjson")], store, ContextChecks(frozenset(ag.participant_ids()), datetime.now(UTC))
    )
    fuse.run(store, ag, after_seq=0, upto_seq=store.max_seq())
    return store


def test_on_a_simulated_day_reports_are_cited_once_and_radar_only_incidents_are_radar_located(
    small_day: MemoryStore,
) -> None:
    incidents = [s.record for s in small_day.records("incident") if isinstance(s.record, Incident)]
    cited: dict[tuple[str, str, str], int] = {}
    for inc in incidents:
        for o in inc.observations:
            if o.source.startswith("patrol-"):
                cited[(o.participant, o.source, o.key)] = cited.get((o.participant, o.source, o.key), 0) + 1
    assert cited, "no patrol report joined an incident"
    assert max(cited.values()) == 1
    radar_only = [i for i in incidents if i.preferred_origin is not None and i.preferred_origin.method == "radar"]
    assert radar_only
    for inc in radar_only:
        assert inc.preferred_origin is not None
        assert inc.preferred_origin.location.error.semi_major_m < 5_000.0
        assert any(o.source.startswith(("cbr-", "relay-")) for o in inc.observations)


def test_a_report_whose_period_the_window_does_not_hold_whole_waits() -> None:
    """A following round holds minutes of picks: with part of the hour's explosions a report could
    look unambiguous and join the wrong one, so it waits for a window holding its whole period."""
    sol = _solutions([(*ORIGIN, 600.0)])
    pts = PatrolPoints.from_records([_report("r1", _offset(*ORIGIN, 0.0, -7_000.0), ORIGIN)], EPOCH)
    start = (T0 - EPOCH).total_seconds()
    links = join_patrols(pts, sol, complete=(start + 300.0, start + 900.0))
    assert links.event_of.tolist() == [-1] and links.fixes == []
    assert links.reason[0].startswith("pending")
    assert join_patrols(pts, sol, complete=(start - 3_600.0, start + 7_200.0)).event_of.tolist() == [0]


def test_degenerate_reports_give_reasons_not_crashes() -> None:
    """A report at its observer's feet from a perfect position, one too rough to place, the same
    observer twice: no crash, no fabricated location."""
    here = Location(lon=ORIGIN[0], lat=ORIGIN[1], error=ErrorEllipse(semi_major_m=0.0, semi_minor_m=0.0))
    base = _report("r1", ORIGIN, _offset(*ORIGIN, 0.0, 3_000.0))
    reports = [
        base.model_copy(update={"location": here, "distance_m": 0.0, "distance_error_m": 0.0}),
        base.model_copy(update={"key": "r2", "bearing_error_deg": 90.0}),
        base.model_copy(update={"key": "r3"}),  # the same observer, the same hour, the same point
        base.model_copy(update={"key": "r4"}),
    ]
    links = join_patrols(PatrolPoints.from_records(reports, EPOCH), _solutions([]))
    assert links.event_of.tolist() == [-1, -1, -1, -1]
    assert links.fixes == []  # one observer, however often it reports, fixes nothing
    assert links.reason[1].startswith("bearing error above 45°")
