"""Radar tracks that confirm no located acoustic origin: joined to an unlocated event, or alone.

:func:`~truceline.fuse._radar.fold_radar` folds a track into the acoustic origin it matches.
What is left is of two kinds:

- **An event the arrays heard but could not locate** (three arrays, or picks that do not fix a
  point): a track whose origin and launch time predict every pick of such an event — the time
  ``t + r / (c + w·u)`` within 4 σ, σ² the pick's and the track's time errors, the track's
  position error along the ray over ``c`` and 1 % of the travel time for the sound speed and
  wind; the bearing, where reported, within 4 σ — joins it, and the incident is located by the
  radar (``radar`` origin, preferred) while still citing its picks.
- **Fire no array located**: tracks fired within :data:`~truceline.fuse._radar.TIME_GATE_S` of
  each other whose origins agree (combined 99.9 % ellipse) are one incident, located by their
  origins in information form (a relay, the same measurement re-reported, counted once); the
  free picks (in no event) their origin predicts, one per array, join it.

Only arrays within the association's hearing range
(:data:`~truceline.fuse._associate.MAX_RANGE_M`, 40 km) of the track's origin can have heard its
shot: the association never predicts a pick farther out, and beyond it the time test alone is
loose (1 % of a two-minute travel is ±5 s at 4 σ). On the full simulated day a radar-only track
no array heard claimed three free picks 40–44 km west of it, of a blast fired 100 s later 33 km
further west on the same bearing from those arrays (its picks were free: it fired 0.9 s after
another blast 15 km from it that the same arrays heard, and the association located only that
one); the three picks made the incident that blast's match, 33 km off — 94 % of the day's
Σerr². That day, 1,542 of the 1,674 picks claimed within 40 km were the track's own blast (132
another blast's); of the 7 beyond it, none (6 another blast's, one a false pick).

A track that nearly matched a located origin (within the wider 99.999 % ellipse) is a gate miss
of that origin, not another shot: it makes no incident. A track is only judged where the window
holds every pick of every blast that could be its own — from
:data:`~truceline.fuse._radar.WIDE_S` before it to
:data:`~truceline.fuse._associate.MAX_TRAVEL_S` after — so that a following round holding the
track but not yet (or no longer) the picks does not count the shot twice; until then it waits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from truceline.fuse._associate import MAX_RANGE_M, MAX_TRAVEL_S, Arrivals, Association
from truceline.fuse._locate import GEOD, OK
from truceline.fuse._radar import GATE_CHI2, TIME_GATE_S, WIDE_S, RadarTracks, fuse_tracks

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

NEAR_MISS_CHI2 = 23.0  # 99.999 % for 2 degrees of freedom
PICK_Z = 4.0
RADAR_TIME_SIGMA_S = 0.5
SPEED_SHARE = 0.01


@dataclass
class RadarOnly:
    """One radar-located incident: its tracks, the fused point and, if any, the unlocated event."""

    tracks: list[int]
    lon: float
    lat: float
    cov: list[list[float]]
    time_s: float
    event: int  # the unlocated acoustic event it joins, -1 for fire no array heard
    picks: list[int] = field(default_factory=list)  # free picks it explains (fire no array located)


def _fuse(tracks: RadarTracks, members: list[int]) -> tuple[float, float, list[list[float]]]:
    """The members' origins in information form about the first (relays counted once)."""
    k0 = members[0]
    return fuse_tracks(tracks, members, float(tracks.lon[k0]), float(tracks.lat[k0]), np.zeros((2, 2)))


def _offset(
    lon0: FloatArray, lat0: FloatArray, lon1: FloatArray, lat1: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    az, _, d = GEOD.inv(lon0, lat0, lon1, lat1)
    a = np.radians(np.asarray(az))
    d = np.asarray(d)
    return d * np.sin(a), d * np.cos(a), d


def _near_located(tracks: RadarTracks, k: int, assoc: Association, order: IntArray, t_sorted: FloatArray) -> bool:
    sol = assoc.solutions
    lo = np.searchsorted(t_sorted, tracks.time_s[k] - TIME_GATE_S)
    hi = np.searchsorted(t_sorted, tracks.time_s[k] + TIME_GATE_S)
    cand = order[lo:hi]
    if len(cand) == 0:
        return False
    e, n, _ = _offset(
        sol.lon[cand], sol.lat[cand], np.full(len(cand), tracks.lon[k]), np.full(len(cand), tracks.lat[k])
    )
    off = np.stack([e, n], -1)
    m2 = np.einsum("ki,kij,kj->k", off, np.linalg.inv(sol.cov[cand, :2, :2] + tracks.cov[k]), off)
    return bool((m2 <= NEAR_MISS_CHI2).any())


def _fits(
    lon: float, lat: float, cov: FloatArray, t: float, picks: IntArray, arr: Arrivals, c: float, we: float, wn: float
) -> NDArray[np.bool_]:
    """Which of ``picks`` a source at (lon, lat) with covariance ``cov``, fired at ``t``, predicts
    (see the module's note): within hearing range, on time, and on bearing."""
    s = arr.sensor[picks]
    slon, slat = arr.sensor_lon[s], arr.sensor_lat[s]
    ex, ny, d = _offset(np.full(len(s), lon), np.full(len(s), lat), slon, slat)
    d = np.maximum(d, 1.0)
    ux, uy = ex / d, ny / d
    speed = c + we * ux + wn * uy
    travel = d / speed
    along = np.einsum("ki,ij,kj->k", np.stack([ux, uy], -1), cov, np.stack([ux, uy], -1))
    var = arr.sigma_s[picks] ** 2 + RADAR_TIME_SIGMA_S**2 + along / speed**2 + (SPEED_SHARE * travel) ** 2
    ok = (np.abs(arr.time_s[picks] - t - travel) <= PICK_Z * np.sqrt(var)) & (d <= MAX_RANGE_M)
    has = np.isfinite(arr.bearing_deg[picks])
    if has.any():
        # The back-azimuth from the array toward the origin; the source's crossrange error adds.
        back = np.degrees(np.arctan2(-ux[has], -uy[has])) % 360.0
        diff = (arr.bearing_deg[picks][has] - back + 180.0) % 360.0 - 180.0
        across = np.einsum("ki,ij,kj->k", np.stack([uy[has], -ux[has]], -1), cov, np.stack([uy[has], -ux[has]], -1))
        sig = np.sqrt(arr.bearing_sigma_deg[picks][has] ** 2 + np.degrees(np.sqrt(across) / d[has]) ** 2)
        ok[has] &= np.abs(diff) <= PICK_Z * sig
    return np.asarray(ok, dtype=bool)


def _explains(tracks: RadarTracks, k: int, picks: IntArray, arr: Arrivals, c: float, we: float, wn: float) -> bool:
    """Whether track ``k``'s origin and launch time predict every one of ``picks``."""
    fit = _fits(
        float(tracks.lon[k]), float(tracks.lat[k]), tracks.cov[k], float(tracks.time_s[k]), picks, arr, c, we, wn
    )
    return bool(fit.all())


def _claim_free_picks(
    out: list[RadarOnly], assoc: Association, arr: Arrivals, order: IntArray, t_sorted: FloatArray
) -> None:
    """Give each radar-only incident the free picks (associated with no event) its origin and time
    predict, one per array: a shot heard by one or two arrays is then one incident citing its
    picks too. The sound speed and wind are those of the located event nearest in time (the
    weather is calibrated per hour; the 1 % allowance covers the rest)."""
    free = np.flatnonzero(assoc.event_of < 0)
    if len(free) == 0 or len(order) == 0:
        return
    free = free[np.argsort(arr.time_s[free], kind="stable")]
    ft = arr.time_s[free]
    taken: set[int] = set()
    for r in sorted(out, key=lambda r: (r.time_s, r.tracks[0])):
        cand = free[np.searchsorted(ft, r.time_s) : np.searchsorted(ft, r.time_s + MAX_TRAVEL_S + 5.0)]
        cand = np.asarray([i for i in cand.tolist() if i not in taken], dtype=np.intp)
        if len(cand) == 0:
            continue
        j = int(np.clip(np.searchsorted(t_sorted, r.time_s), 0, len(order) - 1))
        e = int(order[j])
        c, we, wn = float(assoc.c[e]), float(assoc.wind_e[e]), float(assoc.wind_n[e])
        if not (math.isfinite(c) and math.isfinite(we) and math.isfinite(wn)):
            continue
        fit = _fits(r.lon, r.lat, np.asarray(r.cov), r.time_s, cand, arr, c, we, wn)
        best: dict[int, int] = {}  # array → pick: the first that fits (one blast, one pick per array)
        for i in cand[fit].tolist():
            best.setdefault(int(arr.sensor[i]), i)
        r.picks = sorted(best.values())
        taken.update(r.picks)


def radar_only(
    tracks: RadarTracks, folded: set[int], assoc: Association, arr: Arrivals
) -> tuple[list[RadarOnly], dict[str, int]]:
    """The incidents the tracks not in ``folded`` make (see the module's note), and counts."""
    counts = {"radar_near_miss": 0, "radar_joined": 0, "radar_only": 0, "radar_pending": 0, "radar_picks": 0}
    left = [k for k in range(len(tracks.time_s)) if k not in folded]
    if not left:
        return [], counts
    sol = assoc.solutions
    ok = np.flatnonzero(sol.status == OK) if len(sol.lon) else np.zeros(0, dtype=np.intp)
    order = ok[np.argsort(sol.t0[ok], kind="stable")]
    t_sorted = sol.t0[order]
    # Only where the window holds every pick of every blast that could be the track's is its
    # silence evidence: a following round with the track but not yet (or no longer) the picks
    # would otherwise count the shot twice. Elsewhere the track waits for a later round.
    earliest = float(arr.time_s.min()) if len(arr) else math.inf
    latest = float(arr.time_s.max()) if len(arr) else -math.inf
    # Unlocated events by their first pick's time: a track's picks arrive after it, within MAX_TRAVEL_S.
    ev = assoc.event_of
    assigned = np.flatnonzero(ev >= 0)
    unloc = assigned[sol.status[ev[assigned]] != OK] if len(assigned) else assigned
    by_event: dict[int, list[int]] = {}
    for i in unloc.tolist():
        by_event.setdefault(int(ev[i]), []).append(i)
    first = {e: float(arr.time_s[p].min()) for e, p in by_event.items()}
    events = np.array(sorted(first, key=lambda e: (first[e], e)), dtype=np.intp)
    first_t = np.array([first[int(e)] for e in events], dtype=np.float64)
    joined: dict[int, list[int]] = {}
    alone: list[int] = []
    for k in left:
        if tracks.time_s[k] - WIDE_S < earliest or tracks.time_s[k] + MAX_TRAVEL_S > latest:
            counts["radar_pending"] += 1
            continue
        if _near_located(tracks, k, assoc, order, t_sorted):
            counts["radar_near_miss"] += 1
            continue
        lo = np.searchsorted(first_t, tracks.time_s[k] - TIME_GATE_S)
        hi = np.searchsorted(first_t, tracks.time_s[k] + MAX_TRAVEL_S)
        best = -1
        for e in events[lo:hi].tolist():
            picks = np.asarray(by_event[e], dtype=np.intp)
            c, we, wn = float(assoc.c[e]), float(assoc.wind_e[e]), float(assoc.wind_n[e])
            if not (math.isfinite(c) and math.isfinite(we) and math.isfinite(wn)):
                continue
            if _explains(tracks, k, picks, arr, c, we, wn) and (best < 0 or len(picks) > len(by_event[best])):
                best = e
        if best >= 0:
            joined.setdefault(best, []).append(k)
        else:
            alone.append(k)
    out: list[RadarOnly] = []
    for e, members in sorted(joined.items()):
        lon, lat, cov = _fuse(tracks, members)
        out.append(RadarOnly(members, lon, lat, cov, float(np.median(tracks.time_s[members])), e))
        counts["radar_joined"] += 1
    lonely = _group_alone(tracks, alone)
    _claim_free_picks(lonely, assoc, arr, order, t_sorted)
    out.extend(lonely)
    counts["radar_only"] = len(lonely)
    counts["radar_picks"] = sum(len(r.picks) for r in lonely)
    return out, counts


def _group_alone(tracks: RadarTracks, alone: list[int]) -> list[RadarOnly]:
    """Tracks of one shot (within TIME_GATE_S, origins inside the combined 99.9 % ellipse) grouped."""
    if not alone:
        return []
    idx = sorted(alone, key=lambda k: (tracks.time_s[k], k))
    parent = {k: k for k in idx}

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for p, a in enumerate(idx):
        for b in idx[p + 1 :]:
            if tracks.time_s[b] - tracks.time_s[a] > TIME_GATE_S:
                break
            e, n, _ = _offset(
                np.array([tracks.lon[a]]),
                np.array([tracks.lat[a]]),
                np.array([tracks.lon[b]]),
                np.array([tracks.lat[b]]),
            )
            off = np.array([e[0], n[0]])
            if float(off @ np.linalg.inv(tracks.cov[a] + tracks.cov[b]) @ off) <= GATE_CHI2:
                parent[find(b)] = find(a)
    groups: dict[int, list[int]] = {}
    for k in idx:
        groups.setdefault(find(k), []).append(k)
    out = []
    for members in groups.values():
        lon, lat, cov = _fuse(tracks, members)
        out.append(RadarOnly(members, lon, lat, cov, float(np.median(tracks.time_s[members])), -1))
    return out
