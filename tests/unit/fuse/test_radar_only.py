"""Radar tracks that confirm no located origin: joined to an unlocated event, alone, or held back."""

from __future__ import annotations

import math

import numpy as np

from truceline.fuse import Arrivals, Association, Solutions
from truceline.fuse._locate import GEOD, OK, TOO_FEW
from truceline.fuse._radar import RadarTracks, fold_radar
from truceline.fuse._radar_only import radar_only

ORIGIN = (37.70, 48.40)
T = 100_000.0
C = 340.0


def _offset(lon: float, lat: float, east: float, north: float) -> tuple[float, float]:
    lo, la, _ = GEOD.fwd(lon, lat, math.degrees(math.atan2(east, north)), math.hypot(east, north))
    return float(lo), float(la)


def _tracks(points: list[tuple[float, float, float]], measurement: list[int] | None = None) -> RadarTracks:
    n = len(points)
    return RadarTracks(
        time_s=np.array([p[2] for p in points]),
        lon=np.array([p[0] for p in points]),
        lat=np.array([p[1] for p in points]),
        cov=np.repeat(np.diag([60.0**2, 40.0**2])[None], n, axis=0),
        measurement=np.asarray(measurement if measurement is not None else range(n), dtype=np.intp),
    )


def _solutions(points: list[tuple[float, float, float]], status: list[int], cov: np.ndarray | None = None) -> Solutions:
    n = len(points)
    if cov is None:
        cov = np.zeros((n, 3, 3))
        cov[:, 0, 0] = cov[:, 1, 1] = 30.0**2
        cov[:, 2, 2] = 0.01
    return Solutions(
        np.array([p[0] for p in points], dtype=np.float64),
        np.array([p[1] for p in points], dtype=np.float64),
        np.array([p[2] for p in points], dtype=np.float64),
        cov,
        np.full(n, 4),
        np.full(n, 0.01),
        np.full(n, 1.0),
        np.asarray(status, dtype=np.intp),
        np.ones(0, dtype=bool),
    )


def _arrivals(sensors: list[tuple[float, float]], source: tuple[float, float], t0: float) -> Arrivals:
    lon = np.array([s[0] for s in sensors])
    lat = np.array([s[1] for s in sensors])
    az, _, d = GEOD.inv(lon, lat, np.full(len(lon), source[0]), np.full(len(lon), source[1]))
    return Arrivals(
        sensor=np.arange(len(sensors)),
        time_s=t0 + np.asarray(d) / C,
        sigma_s=np.full(len(sensors), 0.02),
        bearing_deg=np.asarray(az) % 360.0,
        bearing_sigma_deg=np.full(len(sensors), 3.0),
        sensor_lon=lon,
        sensor_lat=lat,
    )


def _association(event_of: list[int], sol: Solutions) -> Association:
    n = len(sol.lon)
    return Association(np.asarray(event_of, dtype=np.intp), sol, np.full(n, C), np.zeros(n), np.zeros(n))


def _late_pick() -> Arrivals:
    """Two free picks, well before and long after: the window holds every pick a blast fired at
    ``T`` could have, so the tracks are judged now rather than held back for a later round."""
    return Arrivals(
        np.array([0, 0]), np.array([T - 100.0, T + 1_000.0]), np.array([0.02, 0.02]), np.full(2, np.nan),
        np.full(2, np.nan), np.array([30.0]), np.array([45.0]),
    )  # fmt: skip


def _with_span(arr: Arrivals) -> Arrivals:
    """``arr`` with the two free picks of :func:`_late_pick` appended (their sensor added last)."""
    s = len(arr.sensor_lon)
    return Arrivals(
        np.r_[arr.sensor, s, s], np.r_[arr.time_s, T - 100.0, T + 1_000.0], np.r_[arr.sigma_s, 0.02, 0.02],
        np.r_[arr.bearing_deg, np.nan, np.nan], np.r_[arr.bearing_sigma_deg, np.nan, np.nan],
        np.r_[arr.sensor_lon, 30.0], np.r_[arr.sensor_lat, 45.0],
    )  # fmt: skip


def test_tracks_of_one_shot_no_array_heard_make_one_incident_relays_counted_once() -> None:
    other = _offset(*ORIGIN, 30.0, -20.0)
    far = _offset(*ORIGIN, 20_000.0, 0.0)
    tracks = _tracks([(*ORIGIN, T), (*ORIGIN, T), (*other, T + 0.4), (*far, T + 0.2)], measurement=[0, 0, 1, 2])
    out, counts = radar_only(tracks, set(), _association([-1, -1], _solutions([], [])), _late_pick())
    groups = sorted(sorted(r.tracks) for r in out)
    assert groups == [[0, 1, 2], [3]]
    assert all(r.event == -1 for r in out)
    assert counts["radar_only"] == 2
    shot = next(r for r in out if sorted(r.tracks) == [0, 1, 2])
    # The relay (same measurement) adds nothing: two independent measurements, not three.
    expected = np.linalg.inv(2 * np.linalg.inv(np.diag([60.0**2, 40.0**2])))
    assert np.allclose(np.asarray(shot.cov), expected)


def test_a_near_miss_of_a_located_origin_makes_no_incident() -> None:
    beside = _offset(*ORIGIN, 300.0, 0.0)  # outside the 99.9 % ellipse, inside the 99.999 %
    sol = _solutions([(*ORIGIN, T)], [OK])
    tracks = _tracks([(*beside, T + 0.3)])
    assert fold_radar(tracks, sol) == {}
    out, counts = radar_only(tracks, set(), _association([-1, -1], sol), _late_pick())
    assert out == [] and counts["radar_near_miss"] == 1


def test_a_track_is_held_back_while_its_picks_may_still_arrive() -> None:
    arr = _late_pick()
    arr.time_s[1] = T + 60.0  # the last pick so far: a blast's farther arrays have not reported yet
    out, counts = radar_only(_tracks([(*ORIGIN, T)]), set(), _association([-1, -1], _solutions([], [])), arr)
    assert out == [] and counts["radar_pending"] == 1
    arr.time_s[:] = [T - 10.0, T + 1_000.0]  # nor is the window's start far enough before it
    out, counts = radar_only(_tracks([(*ORIGIN, T)]), set(), _association([-1, -1], _solutions([], [])), arr)
    assert out == [] and counts["radar_pending"] == 1


def test_a_track_locates_the_event_three_arrays_heard_and_not_another() -> None:
    sensors = [
        _offset(*ORIGIN, -12_000.0, 3_000.0),
        _offset(*ORIGIN, -9_000.0, -8_000.0),
        _offset(*ORIGIN, 2_000.0, -14_000.0),
    ]
    arr = _with_span(_arrivals(sensors, ORIGIN, T))
    sol = _solutions([(np.nan, np.nan, np.nan)], [TOO_FEW])
    assoc = _association([0, 0, 0, -1, -1], sol)
    out, counts = radar_only(_tracks([(*ORIGIN, T + 0.2)]), set(), assoc, arr)
    assert [(r.event, r.tracks) for r in out] == [(0, [0])]
    assert counts["radar_joined"] == 1
    # A track from 3 km away at the same time predicts the picks seconds off: not joined.
    wrong = _offset(*ORIGIN, 3_000.0, 2_000.0)
    out, counts = radar_only(_tracks([(*wrong, T + 0.2)]), set(), assoc, arr)
    assert all(r.event == -1 for r in out) and counts["radar_joined"] == 0


def test_a_thin_ellipse_whose_origin_time_slid_with_it_still_folds_the_track() -> None:
    """A blast fixed by arrays on one side: its origin slid 1.2 km along their rays and its
    origin time 3.5 s with it; the joint (position, time) test sees they are one shot."""
    slide = np.array([1.0, 0.0])  # east, the rays' direction
    sd_along, sd_across, sd_t = 1_500.0, 40.0, 4.4
    rho = 0.99  # position along the ray and origin time move together
    cov = np.zeros((1, 3, 3))
    cov[0, :2, :2] = sd_along**2 * np.outer(slide, slide) + sd_across**2 * np.eye(2) * [[0, 0], [0, 1]]
    cov[0, 0, 2] = cov[0, 2, 0] = -rho * sd_along * sd_t  # farther east = fired earlier
    cov[0, 2, 2] = sd_t**2
    acoustic = _offset(*ORIGIN, 1_200.0, 0.0)
    sol = _solutions([(*acoustic, T - 3.5)], [OK], cov)
    folded = fold_radar(_tracks([(*ORIGIN, T)]), sol)
    assert list(folded) == [0]
    _, lon, lat, _ = folded[0]
    _, _, err = GEOD.inv(ORIGIN[0], ORIGIN[1], lon, lat)
    assert err < 150.0  # the fused origin is where the radar put it, not 1.2 km off
    # Uncorrelated (a round ellipse that cannot explain 3.5 s): not folded.
    cov[0, 0, 2] = cov[0, 2, 0] = 0.0
    cov[0, 2, 2] = 0.01
    assert fold_radar(_tracks([(*ORIGIN, T)]), _solutions([(*acoustic, T - 3.5)], [OK], cov)) == {}


def test_a_shot_heard_by_two_arrays_cites_their_free_picks_and_not_a_stray() -> None:
    sensors = [_offset(*ORIGIN, -12_000.0, 3_000.0), _offset(*ORIGIN, 2_000.0, -14_000.0)]
    arr = _arrivals(sensors, ORIGIN, T)
    stray = _arrivals([_offset(*ORIGIN, 9_000.0, 9_000.0)], _offset(*ORIGIN, 5_000.0, 0.0), T + 3.0)
    both = Arrivals(
        np.r_[arr.sensor, 2], np.r_[arr.time_s, stray.time_s], np.r_[arr.sigma_s, stray.sigma_s],
        np.r_[arr.bearing_deg, stray.bearing_deg], np.r_[arr.bearing_sigma_deg, stray.bearing_sigma_deg],
        np.r_[arr.sensor_lon, stray.sensor_lon], np.r_[arr.sensor_lat, stray.sensor_lat],
    )  # fmt: skip
    both = _with_span(both)
    # A located blast elsewhere gives the hour's sound speed and wind.
    sol = _solutions([(*_offset(*ORIGIN, 200_000.0, 0.0), T - 600.0)], [OK])
    out, counts = radar_only(_tracks([(*ORIGIN, T + 0.1)]), set(), _association([-1] * 5, sol), both)
    assert [(r.event, r.picks) for r in out] == [(-1, [0, 1])]
    assert counts["radar_picks"] == 2


def test_a_track_stating_a_zero_ellipse_is_no_crash() -> None:
    from datetime import UTC, datetime

    from truceline.fuse._run import EPOCH
    from truceline.model import ErrorEllipse, Location, Markings, RadarTrack

    zero = ErrorEllipse(semi_major_m=0.0, semi_minor_m=0.0)
    track = RadarTrack(
        key="k1", participant="USA", source="cbr-USA-001", time=datetime(2026, 9, 1, 8, tzinfo=UTC),
        location=Location(lon=37.5, lat=48.2, error=zero), markings=Markings(tlp="amber", originator="USA"),
        origin=Location(lon=ORIGIN[0], lat=ORIGIN[1], error=zero),
    )  # fmt: skip
    tracks = RadarTracks.from_records([track, track.model_copy(update={"participant": "GBR"})], EPOCH)
    assert np.all(np.linalg.eigvalsh(tracks.cov)[:, 0] >= 1.0 - 1e-9)
    t = float(tracks.time_s[0])
    arr = _late_pick()
    arr.time_s[:] = [t - 100.0, t + 1_000.0]
    out, _ = radar_only(tracks, set(), _association([-1, -1], _solutions([], [])), arr)
    assert [sorted(r.tracks) for r in out] == [[0, 1]]
    assert fold_radar(tracks, _solutions([(*ORIGIN, t)], [OK])) != {}


def test_a_track_cites_no_free_pick_beyond_hearing_range() -> None:
    """A track no array heard, and picks that its origin and time predict at arrays 38 and 44 km
    west of it (on the full day: another blast's free picks, fired later farther west on the same
    bearing from those arrays). Only the one within the association's 40 km hearing range is
    cited: beyond it no array hears a blast, and three such picks once made the incident another
    blast's match, 33 km off."""
    near, far = _offset(*ORIGIN, -38_000.0, 500.0), _offset(*ORIGIN, -44_000.0, -500.0)
    arr = _with_span(_arrivals([near, far], ORIGIN, T))
    sol = _solutions([(*_offset(*ORIGIN, 200_000.0, 0.0), T - 600.0)], [OK])
    out, counts = radar_only(_tracks([(*ORIGIN, T + 0.1)]), set(), _association([-1] * 4, sol), arr)
    assert [(r.event, r.picks) for r in out] == [(-1, [0])]
    assert counts["radar_picks"] == 1
