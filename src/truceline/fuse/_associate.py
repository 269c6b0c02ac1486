"""Association: which acoustic arrivals are the same blast, found by space–time consistency.

Three steps, each vectorised over all arrivals (no Python loop per arrival or per event):

1. **Seeds by back-projection** (a Hough transform). An array's arrival with a bearing says the
   source lies along a ray from the array, and at range ``r`` it fired at ``t - r / c``. Every
   ray votes for the (cell, origin-time bin) cells it crosses; a cell that rays from three or
   more arrays agree on is a seed. Each arrival keeps the best-supported cell it voted for.
2. **Locate** each seed's arrivals (:func:`truceline.fuse._locate.locate`) and merge seeds that
   converge on the same origin (a blast near a cell edge seeds two cells).
3. **Predict and match**: from each located origin, the arrival time at every array within
   range is predicted, and the array's pick nearest that time is claimed when it lies within
   :data:`TIGHT_SIGMAS` of its stated timing errors. An arrival claimed by several origins goes
   to the best-supported one, then the one it fits best. The first round
   adds a loose :data:`LOOSE_TOLERANCE_S`: a seed located from a few picks, one of them wrong, can
   sit kilometres off, and the picks it missed bring it back once the locator's deletion-χ²
   drops the wrong one. The origins are relocated with what they claimed, and the matching is
   repeated tight. False picks and wild picks stay unclaimed.

4. **Second pass and weather**: seeds from what is left (a battery's guns fire seconds apart
   and share a seed cell); then the weather is calibrated from the arrivals
   (:mod:`truceline.fuse._calibrate`), hours where the met reports were far off are associated
   again with the corrected weather, and everything is matched and located once more.

Two repairs for full density (``docs/fuse.md`` has the diagnosis): a seed whose first fit is
inconsistent or dropped picks (a battery doublet's mixed picks, or a one-sided seed sliding down
its rays) restarts from the point most of its picks agree on (:func:`_robust_restart`,
:mod:`truceline.fuse._stack`); and at the end of each pass, and once more with the calibrated
weather, small and weak events search again among the free picks and take those their
uncertainty allows (:mod:`truceline.fuse._grow`). :data:`ROBUST_START` and :data:`GROW` switch
them off (the tests check that the doublet needs them). Last, small events holding a foreign pick
are split off with the free picks of its blast when two sources explain the picks significantly
better than one, and small mixes of a doublet trade picks (:mod:`truceline.fuse._rival`,
:data:`RIVALS`).

Arrivals without a bearing still join events in step 3; they just do not seed them.

A day of a whole front line can be cut at hour boundaries into spans associated in parallel
processes (:func:`associate_parallel`); the calibration is per hour, so the spans reproduce the
serial association (:func:`associate_serial`) but for blasts at the cuts.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.stats import chi2 as chi2_dist

from truceline.fuse._calibrate import CALIBRATION_BIN_S, calibrate_weather
from truceline.fuse._grow import grow, regrow
from truceline.fuse._locate import (
    GEOD,
    INCONSISTENT,
    OK,
    TOO_FEW,
    Picks,
    Solutions,
    locate,
    weather_information,
)
from truceline.fuse._met import Weather
from truceline.fuse._rival import exchange_picks, split_rivals
from truceline.fuse._stack import SEED_RADIUS_M, robust_start
from truceline.geo import metric_distance_m, to_lonlat, to_metric

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

CELL_M = 1_500.0
ORIGIN_BIN_S = 6.0
RAY_STEP_M = 750.0
MAX_RANGE_M = 40_000.0
CHUNK_S = 1_800.0
MAX_TRAVEL_S = MAX_RANGE_M / 300.0
MIN_STATIONS = 3
LOOSE_TOLERANCE_S = 1.0
TIGHT_SIGMAS = 5.0
MERGE_M = 1_000.0
MERGE_S = 1.0
PREFILTER_S = 0.3  # planar prediction error allowance before the exact check
CALIBRATION_ROUNDS = 2
EXTRA_PASSES = 1
MIN_LOCATED_STATIONS = 4
CONSISTENCY_P = 1e-3
REDO_C_MPS = 0.3
REDO_WIND_MPS = 0.5
MAX_WORKERS = 2
PARALLEL_MIN_ARRIVALS = 200_000
SPAN_MARGIN_S = 2 * MAX_TRAVEL_S
GROW = True
"""Growth of small and weak events with free picks (:func:`truceline.fuse._grow.regrow`, ``grow``)."""
RIVALS = True
"""Rival hypotheses for small events: a foreign pick split off with the free picks of its blast
(:func:`truceline.fuse._rival.split_rivals`)."""
ROBUST_START = True
"""Robust restart of seeds whose first fit failed or dropped picks (:func:`_robust_restart`)."""
ROBUST_MAX_PICKS = 8
"""A seed with at most this many picks that dropped one is restarted (larger ones only when ≥ 2 dropped)."""


@dataclass
class Arrivals:
    """All acoustic arrivals of a window, flat; ``sensor`` indexes the sensor arrays."""

    sensor: IntArray
    time_s: FloatArray
    sigma_s: FloatArray
    bearing_deg: FloatArray  # NaN when not reported
    bearing_sigma_deg: FloatArray  # NaN when not reported
    sensor_lon: FloatArray  # per sensor
    sensor_lat: FloatArray

    def __len__(self) -> int:
        return len(self.sensor)


@dataclass
class Association:
    """Located events and which event each arrival belongs to (-1: none)."""

    event_of: IntArray
    solutions: Solutions
    c: FloatArray
    wind_e: FloatArray
    wind_n: FloatArray

    @property
    def n_events(self) -> int:
        return len(self.solutions.lon)


def _grid_convergence(lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Angle (rad, clockwise) from the theatre grid's north to true north at each point."""
    x0, y0 = to_metric(lon, lat)
    x1, y1 = to_metric(lon, lat + 0.01)
    return np.asarray(np.arctan2(np.asarray(x1) - x0, np.asarray(y1) - y0))


def seeds(arr: Arrivals, weather: Weather) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """Back-projection seeds: (seed of each arrival or -1, seed lon, seed lat, seed origin time)."""
    n = len(arr)
    seed_of = np.full(n, -1, dtype=np.intp)
    has = np.flatnonzero(np.isfinite(arr.bearing_deg))
    if len(has) == 0:
        return seed_of, np.zeros(0), np.zeros(0), np.zeros(0)
    sx_all, sy_all = to_metric(arr.sensor_lon, arr.sensor_lat)
    gamma = _grid_convergence(arr.sensor_lon, arr.sensor_lat)
    t_ref = float(arr.time_s[has].min()) - MAX_TRAVEL_S
    out_lon: list[FloatArray] = []
    out_lat: list[FloatArray] = []
    out_t0: list[FloatArray] = []
    n_seeds = 0
    t_end = float(arr.time_s[has].max())
    start = t_ref
    while start <= t_end:
        stop = start + CHUNK_S
        # Arrivals of events that fired in [start, stop) arrive in [start, stop + MAX_TRAVEL_S).
        sel = has[(arr.time_s[has] >= start) & (arr.time_s[has] < stop + MAX_TRAVEL_S)]
        if len(sel):
            lab, lon, lat, t0 = _chunk_seeds(arr, sel, sx_all, sy_all, gamma, weather, t_ref, start, stop)
            keep = lab >= 0
            seed_of[sel[keep]] = lab[keep] + n_seeds
            n_seeds += len(lon)
            out_lon.append(lon)
            out_lat.append(lat)
            out_t0.append(t0)
        start = stop
    if not out_lon:
        return seed_of, np.zeros(0), np.zeros(0), np.zeros(0)
    return seed_of, np.concatenate(out_lon), np.concatenate(out_lat), np.concatenate(out_t0)


def _chunk_seeds(
    arr: Arrivals,
    sel: IntArray,
    sx_all: FloatArray,
    sy_all: FloatArray,
    gamma: FloatArray,
    weather: Weather,
    t_ref: float,
    start: float,
    stop: float,
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    s = arr.sensor[sel]
    t = arr.time_s[sel]
    b_true = np.radians(arr.bearing_deg[sel])
    b_grid = b_true + gamma[s]
    c = weather.sound_speed(t, arr.sensor_lon[s], arr.sensor_lat[s])
    we, wn = weather.wind(t)
    # Sound travels from the source to the array: opposite to the bearing.
    c_eff = c - (we * np.sin(b_true) + wn * np.cos(b_true))
    k = int(MAX_RANGE_M / RAY_STEP_M)
    r = (np.arange(k) + 0.5) * RAY_STEP_M
    m = len(sel)
    px = (sx_all[s][:, None] + r[None, :] * np.sin(b_grid)[:, None]).ravel()
    py = (sy_all[s][:, None] + r[None, :] * np.cos(b_grid)[:, None]).ravel()
    vote_arrival = np.repeat(np.arange(m), k)
    ix = np.floor(px / CELL_M).astype(np.int64)
    iy = np.floor(py / CELL_M).astype(np.int64)
    # Origin time for the cell's centre, so every ray crossing a cell votes for the same time.
    cx, cy = (ix + 0.5) * CELL_M, (iy + 0.5) * CELL_M
    dc = np.hypot(cx - np.repeat(sx_all[s], k), cy - np.repeat(sy_all[s], k))
    t0 = np.repeat(t, k) - dc / np.repeat(c_eff, k)
    it = np.floor((t0 - t_ref) / ORIGIN_BIN_S).astype(np.int64)
    key = ((ix + (1 << 20)) << 43) | ((iy + (1 << 20)) << 22) | np.clip(it, 0, (1 << 22) - 1)
    vote_sensor = np.repeat(s, k)
    order = np.lexsort((vote_sensor, key))
    ks, ss = key[order], vote_sensor[order]
    new_pair = np.r_[True, (ks[1:] != ks[:-1]) | (ss[1:] != ss[:-1])]
    new_key = np.r_[True, ks[1:] != ks[:-1]]
    key_id = np.cumsum(new_key) - 1
    stations = np.bincount(key_id, weights=new_pair.astype(np.float64)).astype(np.intp)
    vote_count = np.empty(len(order), dtype=np.intp)
    vote_count[order] = stations[key_id]
    vote_key = np.empty(len(order), dtype=np.intp)
    vote_key[order] = key_id
    # Each arrival keeps the best-supported cell it voted for.
    best = np.lexsort((-vote_count, vote_arrival))
    first = best[np.r_[True, vote_arrival[best][1:] != vote_arrival[best][:-1]]]
    chosen = vote_key[first]
    chosen_count = vote_count[first]
    ok = chosen_count >= MIN_STATIONS
    labels = np.full(m, -1, dtype=np.intp)
    if not ok.any():
        return labels, np.zeros(0), np.zeros(0), np.zeros(0)
    uniq, inv = np.unique(chosen[ok], return_inverse=True)
    # Distinct stations among the arrivals that chose each cell.
    pair = np.unique(np.column_stack([inv, s[ok]]), axis=0)
    support = np.bincount(pair[:, 0], minlength=len(uniq))
    t0_seed = np.bincount(inv, weights=t0[first[ok]], minlength=len(uniq)) / np.bincount(inv, minlength=len(uniq))
    keep_seed = (support >= MIN_STATIONS) & (t0_seed >= start) & (t0_seed < stop)
    remap = np.full(len(uniq), -1, dtype=np.intp)
    remap[keep_seed] = np.arange(int(keep_seed.sum()))
    labels[np.flatnonzero(ok)] = remap[inv]
    counts = np.bincount(inv, minlength=len(uniq))
    # Every arrival that chose a cell carries the same centre: the mean is that centre.
    cell_x = (np.bincount(inv, weights=cx[first[ok]], minlength=len(uniq)) / counts)[keep_seed]
    cell_y = (np.bincount(inv, weights=cy[first[ok]], minlength=len(uniq)) / counts)[keep_seed]
    lon, lat = to_lonlat(cell_x, cell_y)
    return labels, np.asarray(lon), np.asarray(lat), t0_seed[keep_seed]


def _weather_at(weather: Weather, t0: FloatArray, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, ...]:
    c = weather.sound_speed(t0, lon, lat)
    we, wn = weather.wind(t0)
    return c, we, wn


def _merge(sol: Solutions, alive: BoolArray, weight: FloatArray) -> IntArray:
    """Representative of each event after merging those that converged on one origin."""
    n = len(sol.lon)
    idx = np.flatnonzero(alive)
    rep = np.arange(n)
    if len(idx) < 2:
        return rep
    order = idx[np.argsort(sol.t0[idx], kind="stable")]
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for lag in range(1, 6):  # neighbours in time order; duplicates sit side by side
        a, b = order[:-lag], order[lag:]
        close_t = np.abs(sol.t0[a] - sol.t0[b]) < MERGE_S
        if not close_t.any():
            continue
        a, b = a[close_t], b[close_t]
        _, _, d = GEOD.inv(sol.lon[a], sol.lat[a], sol.lon[b], sol.lat[b])
        near = np.asarray(d) < MERGE_M
        rows.append(a[near])
        cols.append(b[near])
    if not rows:
        return rep
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    # The member with the most weight (picks) represents the component.
    order2 = np.lexsort((-weight, comp))
    head = order2[np.r_[True, comp[order2][1:] != comp[order2][:-1]]]
    best = np.empty(comp.max() + 1, dtype=np.intp)
    best[comp[head]] = head
    return np.asarray(best[comp])


def match(
    arr: Arrivals,
    sol: Solutions,
    alive: BoolArray,
    c: FloatArray,
    we: FloatArray,
    wn: FloatArray,
    tolerance: float,
) -> IntArray:
    """Claim, for every live event, the pick at each array in range nearest its predicted arrival.

    An arrival within tolerance of several events goes to the best-supported one (most picks in
    its last fit), then the one it fits best: a fragment of a blast located from a handful of
    contaminated picks fits them perfectly and must not keep them from the blast itself.
    """
    n_arr = len(arr)
    event_of = np.full(n_arr, -1, dtype=np.intp)
    ev_idx = np.flatnonzero(alive)
    if len(ev_idx) == 0 or n_arr == 0:
        return event_of
    sx, sy = to_metric(arr.sensor_lon, arr.sensor_lat)
    ex, ey = to_metric(sol.lon[ev_idx], sol.lat[ev_idx])
    tree = cKDTree(np.column_stack([sx, sy]))
    near = tree.query_ball_point(np.column_stack([ex, ey]), MAX_RANGE_M)
    lens = np.fromiter((len(v) for v in near), dtype=np.intp, count=len(near))
    if lens.sum() == 0:
        return event_of
    pe = np.repeat(ev_idx, lens)
    ps = np.fromiter((j for v in near for j in v), dtype=np.intp, count=int(lens.sum()))
    # Arrivals sorted by (sensor, time) in one float key: sensor * span + time.
    t_min = float(arr.time_s.min())
    span = float(arr.time_s.max() - t_min) + 10_000.0
    akey = arr.sensor.astype(np.float64) * span + (arr.time_s - t_min)
    aorder = np.argsort(akey, kind="stable")
    skey = akey[aorder]

    def nearest(ps: IntArray, pred: FloatArray) -> tuple[IntArray, FloatArray]:
        pos = np.searchsorted(skey, ps.astype(np.float64) * span + (pred - t_min))
        cand_a = np.stack([aorder[np.clip(pos + off, 0, len(skey) - 1)] for off in (-1, 0)], -1)
        resid = np.where(arr.sensor[cand_a] == ps[:, None], np.abs(arr.time_s[cand_a] - pred[:, None]), np.inf)
        pick = np.argmin(resid, axis=1)
        rows = np.arange(len(ps))
        return cand_a[rows, pick], resid[rows, pick]

    # A cheap planar prediction first (theatre metres, scale-corrected: tens of metres off at 40 km),
    # then exact geodesics only for the (event, array) pairs with a pick anywhere near.
    dxy_x, dxy_y = sx[ps] - np.repeat(ex, lens), sy[ps] - np.repeat(ey, lens)
    d_plane = metric_distance_m(np.repeat(ex, lens), np.repeat(ey, lens), sx[ps], sy[ps])
    r_plane = np.maximum(np.hypot(dxy_x, dxy_y), 1.0)
    ce = c[pe] + (we[pe] * dxy_x + wn[pe] * dxy_y) / r_plane
    _, rough = nearest(ps, sol.t0[pe] + d_plane / ce)
    limit = TIGHT_SIGMAS * float(arr.sigma_s.max()) + tolerance
    keep = rough <= limit + PREFILTER_S
    pe, ps = pe[keep], ps[keep]
    az, _, d = GEOD.inv(sol.lon[pe], sol.lat[pe], arr.sensor_lon[ps], arr.sensor_lat[ps])
    a = np.radians(np.asarray(az))
    ce = c[pe] + we[pe] * np.sin(a) + wn[pe] * np.cos(a)
    best_a, best_r = nearest(ps, sol.t0[pe] + np.asarray(d) / ce)
    sig = arr.sigma_s[best_a]
    tol = TIGHT_SIGMAS * sig + tolerance
    ok = best_r <= tol
    best_a, best_r, pe_ok, sig = best_a[ok], best_r[ok], pe[ok], sig[ok]
    score = best_r / sig
    order = np.lexsort((score, -sol.n_used[pe_ok], best_a))
    first = order[np.r_[True, best_a[order][1:] != best_a[order][:-1]]] if len(order) else order
    event_of[best_a[first]] = pe_ok[first]
    return event_of


def _picks_of(arr: Arrivals, event_of: IntArray) -> tuple[Picks, IntArray]:
    idx = np.flatnonzero(event_of >= 0)
    ev = event_of[idx]
    s = arr.sensor[idx]
    picks = Picks(
        ev,
        arr.sensor_lon[s],
        arr.sensor_lat[s],
        arr.time_s[idx],
        arr.sigma_s[idx],
        arr.bearing_deg[idx],
        arr.bearing_sigma_deg[idx],
    )
    return picks, idx


def _relocate(
    arr: Arrivals, event_of: IntArray, n_events: int, sol: Solutions, weather: Weather
) -> tuple[Solutions, FloatArray, FloatArray, FloatArray, IntArray]:
    picks, idx = _picks_of(arr, event_of)
    c, we, wn = _weather_at(weather, sol.t0, sol.lon, sol.lat)
    new = locate(picks, n_events, c, we, wn, sol.lon, sol.lat, sol.t0)
    return new, c, we, wn, idx


def _pass(arr: Arrivals, weather: Weather) -> tuple[IntArray, Solutions]:
    """One round of seeding, locating and matching over ``arr``: (event of each arrival, solutions)."""
    seed_of, lon0, lat0, t00 = seeds(arr, weather)
    n = len(lon0)
    if n == 0:
        z = np.zeros(0)
        return np.full(len(arr), -1, dtype=np.intp), _subset(
            locate(Picks(np.zeros(0, dtype=np.intp), z, z, z, z, z, z), 0, z, z, z, z, z), np.zeros(0, dtype=np.intp)
        )
    # Seeds' own arrivals first: a rough origin for each.
    c, we, wn = _weather_at(weather, t00, lon0, lat0)
    picks, _ = _picks_of(arr, seed_of)
    sol = locate(picks, n, c, we, wn, lon0, lat0, None)
    if ROBUST_START:
        _robust_restart(picks, sol, lon0, lat0, c, we, wn)
    event_of = seed_of
    used = np.zeros(len(arr), dtype=bool)
    for tight in (False, True, True):
        alive = sol.status == OK
        rep = _merge(sol, alive, sol.n_used.astype(np.float64))
        alive &= rep == np.arange(n)
        tolerance = 0.0 if tight else LOOSE_TOLERANCE_S
        event_of = match(arr, sol, alive, c, we, wn, tolerance)
        sol, c, we, wn, idx = _relocate(arr, event_of, n, sol, weather)
        used[:] = False
        used[idx] = sol.used
    # Events that no longer hold enough stations give their arrivals back, and so do outlier picks.
    alive = sol.status == OK
    keep_arrival = (event_of >= 0) & alive[np.maximum(event_of, 0)] & used
    event_of = np.where(keep_arrival, event_of, -1)
    if GROW:
        # Small doubtful events search their neighbourhood again; weak events take the free picks
        # their uncertainty allows (a fragment located off finds the rest).
        event_of, sol, _ = regrow(arr, event_of, sol, c, we, wn)
        event_of, sol, _ = grow(arr, event_of, sol, c, we, wn)
    live = np.flatnonzero(np.bincount(event_of[event_of >= 0], minlength=n) > 0)
    remap = np.full(n, -1, dtype=np.intp)
    remap[live] = np.arange(len(live))
    return np.where(event_of >= 0, remap[np.maximum(event_of, 0)], -1), _subset(sol, live)


def _robust_restart(
    picks: Picks, sol: Solutions, lon0: FloatArray, lat0: FloatArray, c: FloatArray, we: FloatArray, wn: FloatArray
) -> None:
    """Seeds whose first fit failed or dropped picks start again from the grid's most consistent point.

    A seed holding two blasts (a battery's doublet) fits neither; one heard from a single side
    slides into a wrong minimum and drops a good pick. :func:`robust_start` finds the point most
    picks agree on; the seed is relocated from there with the picks that fit it, and the new fit
    replaces the old when it is located and holds more picks (or as many with a lower χ²). The
    picks it leaves out are claimed by other events or seed the second pass.
    """
    n = len(sol.lon)
    counts = np.bincount(picks.event, minlength=n)
    # A large seed that dropped a wild pick or two is fine; a small one may have dropped a good one.
    dropped = counts - sol.n_used
    bad = ((sol.status != OK) & (counts >= MIN_LOCATED_STATIONS)) | (
        (dropped > 0) & ((sol.n_used <= ROBUST_MAX_PICKS) | (dropped >= 2))
    )
    flagged = np.flatnonzero(bad)
    if len(flagged) == 0:
        return
    lon_b, lat_b, t0_b, keep = robust_start(picks, flagged, lon0, lat0, c, we, wn, np.full(len(flagged), SEED_RADIUS_M))
    local = np.full(n, -1, dtype=np.intp)
    local[flagged] = np.arange(len(flagged))
    idx = np.flatnonzero(keep)
    sub = Picks(
        local[picks.event[idx]],
        picks.lon[idx],
        picks.lat[idx],
        picks.time_s[idx],
        picks.sigma_s[idx],
        picks.bearing_deg[idx],
        picks.bearing_sigma_deg[idx],
    )
    f = flagged
    # No deletion here: before the weather is calibrated a good pick can look improbable, and
    # dropping it lets a one-sided fit slide back down its rays. The matching rounds judge the picks.
    again = locate(sub, len(f), c[f], we[f], wn[f], lon_b, lat_b, t0_b, reject=False)
    old_ok = sol.status[f] == OK
    better = (again.status == OK) & (
        ~old_ok | (again.n_used > sol.n_used[f]) | ((again.n_used == sol.n_used[f]) & (again.chi2 < sol.chi2[f]))
    )
    k = f[better]
    for name in ("lon", "lat", "t0", "cov", "n_used", "rms_s", "chi2", "status"):
        getattr(sol, name)[k] = getattr(again, name)[better]


def _concat(a: Solutions, b: Solutions) -> Solutions:
    return Solutions(
        np.concatenate([a.lon, b.lon]),
        np.concatenate([a.lat, b.lat]),
        np.concatenate([a.t0, b.t0]),
        np.concatenate([a.cov, b.cov]),
        np.concatenate([a.n_used, b.n_used]),
        np.concatenate([a.rms_s, b.rms_s]),
        np.concatenate([a.chi2, b.chi2]),
        np.concatenate([a.status, b.status]),
        np.zeros(0, dtype=bool),
    )


def associate(arr: Arrivals, weather: Weather, *, workers: int | None = 1) -> Association:
    """Group arrivals into located events (see the module docstring).

    With ``workers`` > 1 a long window is cut at hour boundaries into spans associated in
    parallel forked processes (:func:`associate_parallel`); ``None`` uses up to
    :data:`MAX_WORKERS` cores when the window holds at least :data:`PARALLEL_MIN_ARRIVALS`
    arrivals. The default, 1, is the plain serial association, which the parallel one reproduces
    (a library call does not fork behind its caller's back unless asked).
    """
    if workers is None:
        workers = min(MAX_WORKERS, os.cpu_count() or 1) if len(arr) >= PARALLEL_MIN_ARRIVALS else 1
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        return associate_parallel(arr, weather, workers)
    return associate_serial(arr, weather)


def _take_arrivals(arr: Arrivals, idx: IntArray) -> Arrivals:
    return Arrivals(
        arr.sensor[idx],
        arr.time_s[idx],
        arr.sigma_s[idx],
        arr.bearing_deg[idx],
        arr.bearing_sigma_deg[idx],
        arr.sensor_lon,
        arr.sensor_lat,
    )


def split_points(time_s: FloatArray, parts: int) -> list[float]:
    """Hour boundaries that cut the arrivals into ``parts`` spans of about equal size (may be fewer)."""
    if len(time_s) == 0 or parts < 2:
        return []
    qs = np.quantile(time_s, np.arange(1, parts) / parts)
    cuts = np.unique(np.round(qs / CALIBRATION_BIN_S) * CALIBRATION_BIN_S)
    lo, hi = float(time_s.min()), float(time_s.max())
    return [float(c) for c in cuts if lo + CALIBRATION_BIN_S <= c <= hi - CALIBRATION_BIN_S]


def associate_parallel(arr: Arrivals, weather: Weather, workers: int) -> Association:
    """:func:`associate_serial` over time spans cut at hour boundaries, one process per span.

    Every span gets its own arrivals plus :data:`SPAN_MARGIN_S` on either side, so each blast
    that fired inside it has all its arrivals and the seeds near its edges their context; of each
    span's events only those whose origin time falls inside it are kept. The weather calibration
    is per hour and the cuts are on hours, so the spans see the same calibration as one run. An
    arrival claimed by kept events of two spans (a blast at a cut, located on both sides) stays
    with the earlier span's.
    """
    cuts = split_points(arr.time_s, workers)
    if not cuts:
        return associate_serial(arr, weather)
    bounds = [-np.inf, *cuts, np.inf]
    spans = []
    for a, b in itertools.pairwise(bounds):
        idx = np.flatnonzero((arr.time_s >= a - SPAN_MARGIN_S) & (arr.time_s < b + SPAN_MARGIN_S))
        spans.append((a, b, idx))
    # Forked, not spawned: a spawned worker re-imports the caller's main module, which a script
    # without a ``__main__`` guard would run again. The workers only compute and return.
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(spans) - 1, mp_context=ctx) as pool:
        futures = [pool.submit(associate_serial, _take_arrivals(arr, idx), weather) for _, _, idx in spans[1:]]
        first = associate_serial(_take_arrivals(arr, spans[0][2]), weather)
        results = [first, *[f.result() for f in futures]]
    event_of = np.full(len(arr), -1, dtype=np.intp)
    sols: list[Solutions] = []
    cs: list[FloatArray] = []
    wes: list[FloatArray] = []
    wns: list[FloatArray] = []
    offset = 0
    for (a, b, idx), res in zip(spans, results, strict=True):
        sol = res.solutions
        # An event without a finite origin time is placed by its first arrival.
        first_arrival = np.full(res.n_events, np.inf)
        mine = res.event_of >= 0
        np.minimum.at(first_arrival, res.event_of[mine], arr.time_s[idx[mine]])
        when = np.where(np.isfinite(sol.t0), sol.t0, first_arrival)
        keep = np.flatnonzero((when >= a) & (when < b))
        remap = np.full(res.n_events, -1, dtype=np.intp)
        remap[keep] = np.arange(len(keep)) + offset
        got = remap[np.maximum(res.event_of, 0)]
        got[res.event_of < 0] = -1
        free = (got >= 0) & (event_of[idx] < 0)
        event_of[idx[free]] = got[free]
        sols.append(_subset(sol, keep))
        cs.append(res.c[keep])
        wes.append(res.wind_e[keep])
        wns.append(res.wind_n[keep])
        offset += len(keep)
    sol = sols[0]
    for more in sols[1:]:
        sol = _concat(sol, more)
    return Association(event_of, sol, np.concatenate(cs), np.concatenate(wes), np.concatenate(wns))


def associate_serial(arr: Arrivals, weather: Weather) -> Association:
    """Group arrivals into located events in this process (see the module docstring)."""
    event_of, sol = _pass(arr, weather)
    # Guns of one battery fire seconds apart from a few hundred metres: their blasts share a seed
    # cell, so the first pass finds one. A second pass seeds from what is left unclaimed.
    for _ in range(EXTRA_PASSES):
        left = np.flatnonzero(event_of < 0)
        if len(left) < MIN_STATIONS:
            break
        sub = Arrivals(
            arr.sensor[left],
            arr.time_s[left],
            arr.sigma_s[left],
            arr.bearing_deg[left],
            arr.bearing_sigma_deg[left],
            arr.sensor_lon,
            arr.sensor_lat,
        )
        ev2, sol2 = _pass(sub, weather)
        if len(sol2.lon) == 0:
            break
        got = ev2 >= 0
        event_of[left[got]] = ev2[got] + len(sol.lon)
        sol = _concat(sol, sol2)
    n = len(sol.lon)
    if n == 0:
        return Association(event_of, sol, np.zeros(0), np.zeros(0), np.zeros(0))
    event_of, sol, weather = _redo_bad_weather_hours(arr, event_of, sol, weather)
    n = len(sol.lon)
    sol2, c2, we2, wn2, _ = _relocate(arr, event_of, n, sol, weather)
    picks, _ = _picks_of(arr, event_of)
    weather_cov = np.zeros((n, 3, 3))
    for k in range(CALIBRATION_ROUNDS):
        c2, we2, wn2, weather_cov, _, _ = calibrate_weather(picks, sol2, c2, we2, wn2)
        if k < CALIBRATION_ROUNDS - 1:
            # With the weather calibrated the predictions are sharp: match once more, so picks the
            # met-only model put just outside the tolerance come back.
            event_of = match(arr, sol2, sol2.status == OK, c2, we2, wn2, 0.0)
            picks, _ = _picks_of(arr, event_of)
        sol2 = locate(picks, n, c2, we2, wn2, sol2.lon, sol2.lat, sol2.t0)
    if GROW:
        event_of, sol2, picks = _final_growth(arr, event_of, sol2, c2, we2, wn2)
    if RIVALS:
        event_of, sol2, picks, parent = _final_rivals(arr, event_of, sol2, c2, we2, wn2)
        c2, we2, wn2 = np.r_[c2, c2[parent]], np.r_[we2, we2[parent]], np.r_[wn2, wn2[parent]]
        weather_cov = np.concatenate([weather_cov, weather_cov[parent]])
        n = len(sol2.lon)
    # The weather is known only so well: its remaining uncertainty widens every origin's ellipse.
    _, _, gain = weather_information(picks, sol2, c2, we2, wn2)
    sol2.cov = sol2.cov + np.einsum("kij,kjl,kml->kim", gain, weather_cov, gain)
    _publishable(sol2, picks)
    # Events the last matching left without an arrival (their picks went to a better fit) are gone.
    live = np.flatnonzero(np.bincount(event_of[event_of >= 0], minlength=n) > 0)
    remap = np.full(n, -1, dtype=np.intp)
    remap[live] = np.arange(len(live))
    event_of = np.where(event_of >= 0, remap[np.maximum(event_of, 0)], -1)
    return Association(event_of, _subset(sol2, live), c2[live], we2[live], wn2[live])


def _final_growth(
    arr: Arrivals, event_of: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[IntArray, Solutions, Picks]:
    """With the weather calibrated, small and weak events search and grow once more.

    The passes grew them with the met reports' weather; a fragment can still hold a doublet's
    mixed picks, or a fit the calibration moved. Only the events that change are relocated.
    Returns the assignment, the solutions and the picks (``sol.used`` aligned with them).
    """
    _, idx = _picks_of(arr, event_of)
    used_by_arrival = np.zeros(len(arr), dtype=bool)
    used_by_arrival[idx] = sol.used
    held = np.where(used_by_arrival, event_of, -1)
    before = held.copy()
    held, sol, _ = regrow(arr, held, sol, c, we, wn)
    held, sol, _ = grow(arr, held, sol, c, we, wn)
    changed = held != before
    if changed.any():
        event_of = event_of.copy()
        event_of[changed] = held[changed]
        touched = np.zeros(len(sol.lon), dtype=bool)
        touched[held[changed & (held >= 0)]] = True
        touched[before[changed & (before >= 0)]] = True
        picks, idx = _picks_of(arr, event_of)
        sel = np.flatnonzero(touched[picks.event])
        events = np.flatnonzero(touched)
        local = np.full(len(sol.lon), -1, dtype=np.intp)
        local[events] = np.arange(len(events))
        sub = Picks(
            local[picks.event[sel]],
            picks.lon[sel],
            picks.lat[sel],
            picks.time_s[sel],
            picks.sigma_s[sel],
            picks.bearing_deg[sel],
            picks.bearing_sigma_deg[sel],
        )
        again = locate(
            sub, len(events), c[events], we[events], wn[events], sol.lon[events], sol.lat[events], sol.t0[events]
        )
        for name in ("lon", "lat", "t0", "cov", "n_used", "rms_s", "chi2", "status"):
            getattr(sol, name)[events] = getattr(again, name)
        used = used_by_arrival[idx]
        used[sel] = again.used
        sol.used = used
    picks, _ = _picks_of(arr, event_of)
    return event_of, sol, picks


def _final_rivals(
    arr: Arrivals, event_of: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[IntArray, Solutions, Picks, IntArray]:
    """Small events that a rival explains better are split (:func:`truceline.fuse._rival.split_rivals`),
    and small events near in space and time that fit better with some of their picks exchanged
    trade them (:func:`truceline.fuse._rival.exchange_picks`).

    Returns the assignment, the solutions (rivals appended; ``used`` aligned with the picks), the
    picks, and per appended event the event it was split from (its weather).
    """
    _, idx = _picks_of(arr, event_of)
    used_by_arrival = np.zeros(len(arr), dtype=bool)
    used_by_arrival[idx] = sol.used
    held = np.where(used_by_arrival, event_of, -1)
    new_held, sol, parent, _ = split_rivals(arr, held, sol, c, we, wn)
    c_all, we_all, wn_all = np.r_[c, c[parent]], np.r_[we, we[parent]], np.r_[wn, wn[parent]]
    new_held, sol, _ = exchange_picks(arr, new_held, sol, c_all, we_all, wn_all)
    changed = new_held != held
    if changed.any():
        event_of = event_of.copy()
        event_of[changed] = new_held[changed]
        used_by_arrival[changed] = new_held[changed] >= 0
    picks, idx = _picks_of(arr, event_of)
    sol.used = used_by_arrival[idx]
    return event_of, sol, picks, parent


def _redo_bad_weather_hours(
    arr: Arrivals, event_of: IntArray, sol: Solutions, weather: Weather
) -> tuple[IntArray, Solutions, Weather]:
    """Associate again, with calibrated weather, the hours where the met reports were far off.

    Where the weather changed between two reports (a front, a new air mass) the met interpolation
    can be metres per second off, the predicted arrivals miss their picks and blasts come out in
    fragments. The arrivals say how far off (:func:`calibrate_weather`); in the hours where the
    correction is large, the events are dissolved and their arrivals associated afresh with the
    corrected weather. Returns the new assignment, solutions and the corrected weather.
    """
    n = len(sol.lon)
    sol1, c1, we1, wn1, _ = _relocate(arr, event_of, n, sol, weather)
    _, _, _, _, bins, theta = calibrate_weather(_picks_of(arr, event_of)[0], sol1, c1, we1, wn1)
    corrected = weather.corrected(bins, theta)
    bad = (np.abs(theta[:, 0]) > REDO_C_MPS) | (np.hypot(theta[:, 1], theta[:, 2]) > REDO_WIND_MPS)
    bad |= np.hypot(theta[:, 4], theta[:, 5]) > REDO_WIND_MPS
    if not bad.any():
        return event_of, sol1, corrected
    bad_bins = bins[bad]
    ev_bin = np.floor(sol1.t0 / CALIBRATION_BIN_S).astype(np.int64)
    drop = np.isin(ev_bin, bad_bins)
    arr_bin = np.floor(arr.time_s / CALIBRATION_BIN_S).astype(np.int64)
    late = np.floor((arr.time_s - MAX_TRAVEL_S) / CALIBRATION_BIN_S).astype(np.int64)
    in_window = np.isin(arr_bin, bad_bins) | np.isin(late, bad_bins)
    freed = (event_of >= 0) & drop[np.maximum(event_of, 0)]
    redo = np.flatnonzero(freed | ((event_of < 0) & in_window))
    keep_ev = np.flatnonzero(~drop)
    remap = np.full(n, -1, dtype=np.intp)
    remap[keep_ev] = np.arange(len(keep_ev))
    new_of = np.where((event_of >= 0) & ~freed, remap[np.maximum(event_of, 0)], -1)
    sub = Arrivals(
        arr.sensor[redo],
        arr.time_s[redo],
        arr.sigma_s[redo],
        arr.bearing_deg[redo],
        arr.bearing_sigma_deg[redo],
        arr.sensor_lon,
        arr.sensor_lat,
    )
    ev2, sol2 = _pass(sub, corrected)
    for _ in range(EXTRA_PASSES):
        left = np.flatnonzero(ev2 < 0)
        if len(left) < MIN_STATIONS:
            break
        sub2 = Arrivals(
            sub.sensor[left],
            sub.time_s[left],
            sub.sigma_s[left],
            sub.bearing_deg[left],
            sub.bearing_sigma_deg[left],
            sub.sensor_lon,
            sub.sensor_lat,
        )
        ev3, sol3 = _pass(sub2, corrected)
        got = ev3 >= 0
        ev2[left[got]] = ev3[got] + len(sol2.lon)
        sol2 = _concat(sol2, sol3)
    got = ev2 >= 0
    new_of[redo[got]] = ev2[got] + len(keep_ev)
    return new_of, _concat(_subset(sol1, keep_ev), sol2), corrected


def _publishable(sol: Solutions, picks: Picks) -> None:
    """Withhold origins the data cannot vouch for (their incidents stay, with the reason).

    Three arrays fix a point but leave no time difference over to check that the picks are one
    blast; and once the weather is calibrated, a fit whose χ² the stated errors make improbable
    (p < :data:`CONSISTENCY_P`) is more than one blast or a wrong pick, not an origin to publish.
    """
    with_bearing = np.bincount(
        picks.event, weights=(sol.used & np.isfinite(picks.bearing_deg)).astype(float), minlength=len(sol.lon)
    )
    dof = np.maximum(sol.n_used + with_bearing - 3, 1)
    sol.status[(sol.status == OK) & (sol.n_used < MIN_LOCATED_STATIONS)] = TOO_FEW
    sol.status[(sol.status == OK) & (sol.chi2 > chi2_dist.isf(CONSISTENCY_P, dof))] = INCONSISTENT


def _subset(sol: Solutions, idx: IntArray) -> Solutions:
    return Solutions(
        sol.lon[idx],
        sol.lat[idx],
        sol.t0[idx],
        sol.cov[idx],
        sol.n_used[idx],
        sol.rms_s[idx],
        sol.chi2[idx],
        sol.status[idx],
        np.zeros(0, dtype=bool),
    )
