"""Growing weak events with the free picks their uncertainty allows.

A blast heard by arrays that all lie on one side of it (or a seed that caught only part of its
picks) is located from a handful of picks, often kilometres off along a poorly fixed direction:
the located point predicts the other arrays' arrivals seconds off, beyond the matching tolerance,
so the picks that would fix it stay unclaimed and the fragment is published with a wide ellipse
far from the blast. The fix is the predicted-arrival test with the prediction's own uncertainty:
for each weak event (few picks, or a wide ellipse) the arrival at every array within range is
predicted with its variance ``j C jᵀ`` (``C`` the event's covariance, ``j`` the travel time's
gradient), and likewise the bearing, and the free pick at that array that fits both within
:data:`GROW_SIGMAS` joins it — tentatively: the event is relocated with its picks and the new ones
(deletion-χ² on), and the growth is kept only when the fit holds more picks and its χ² is
probable. Only picks no event holds are offered, so growing never takes a pick from another
event.

:func:`grow` is vectorised over events and candidate picks; :func:`grow_reference` is its plain
twin (one event at a time, explicit loops) that the tests hold equal to it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.fuse._locate import OK, Picks, Solutions, chi2_isf, locate
from truceline.geo import metric_distance_m, to_metric

if TYPE_CHECKING:
    from truceline.fuse._associate import Arrivals

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

WEAK_PICKS = 10
"""An event with fewer picks than this is weak (offered free picks)."""
WEAK_SD_M = 100.0
"""So is an event whose position's standard deviation (sqrt of the covariance trace) exceeds this."""
GROW_SIGMAS = 4.0
"""A free pick joins when its time (and bearing) lie within this many standard deviations."""
GROW_SLACK_S = 0.15
"""Allowance for the planar prediction used for the test (tens of metres at 40 km) and the weather."""
MAX_PRED_SD_S = 15.0
"""Predictions vaguer than this are not used: the event does not say where its picks are."""
GROW_ROUNDS = 2
GROW_RANGE_M = 40_000.0
GROW_CONSISTENCY_P = 1e-3


def _convergence(lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Angle (rad, clockwise) from the theatre grid's north to true north at each point."""
    x0, y0 = to_metric(lon, lat)
    x1, y1 = to_metric(lon, lat + 0.01)
    return np.asarray(np.arctan2(np.asarray(x1) - x0, np.asarray(y1) - y0))


def _wrap(a: FloatArray) -> FloatArray:
    return np.asarray((a + np.pi) % (2 * np.pi) - np.pi)


def _prediction(
    ex: FloatArray,
    ey: FloatArray,
    t0: FloatArray,
    cov: FloatArray,
    c: FloatArray,
    we: FloatArray,
    wn: FloatArray,
    sx: FloatArray,
    sy: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Predicted arrival time, its variance, the grid bearing from the sensor and its variance.

    All arguments are per (event, sensor) pair; ``cov`` is the event's (east, north, t0) covariance.
    """
    dx, dy = sx - ex, sy - ey
    r_plane = np.maximum(np.hypot(dx, dy), 1.0)
    r = np.maximum(metric_distance_m(ex, ey, sx, sy), 1.0)
    ux, uy = dx / r_plane, dy / r_plane
    ce = c + we * ux + wn * uy
    pred = t0 + r / ce
    gx, gy = -ux / ce, -uy / ce
    var_t = (
        cov[:, 0, 0] * gx * gx
        + 2 * cov[:, 0, 1] * gx * gy
        + cov[:, 1, 1] * gy * gy
        + 2 * cov[:, 0, 2] * gx
        + 2 * cov[:, 1, 2] * gy
        + cov[:, 2, 2]
    )
    beta = np.arctan2(-ux, -uy)  # grid bearing from the sensor toward the event
    hx, hy = np.cos(beta) / r, -np.sin(beta) / r
    var_b = cov[:, 0, 0] * hx * hx + 2 * cov[:, 0, 1] * hx * hy + cov[:, 1, 1] * hy * hy
    return pred, np.maximum(var_t, 0.0), beta, np.maximum(var_b, 0.0)


def _score(
    dt: FloatArray, sigma: FloatArray, var_t: FloatArray, dbeta: FloatArray, sigma_b: FloatArray, var_b: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """Squared normalised misfit of a candidate pick and whether it passes the gate."""
    z_t = np.maximum(np.abs(dt) - GROW_SLACK_S, 0.0) / np.sqrt(sigma * sigma + var_t)
    has_b = np.isfinite(dbeta) & np.isfinite(sigma_b)
    z_b = np.where(has_b, np.abs(np.nan_to_num(dbeta)) / np.sqrt(np.nan_to_num(sigma_b) ** 2 + var_b), 0.0)
    return z_t * z_t + z_b * z_b, (z_t <= GROW_SIGMAS) & (z_b <= GROW_SIGMAS)


def weak_events(sol: Solutions) -> BoolArray:
    sd = np.sqrt(np.maximum(np.nan_to_num(sol.cov[:, 0, 0]) + np.nan_to_num(sol.cov[:, 1, 1]), 0.0))
    return np.asarray((sol.status == OK) & ((sol.n_used < WEAK_PICKS) | (sd > WEAK_SD_M)))


def candidates(
    arr: Arrivals, event_of: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[IntArray, IntArray]:
    """(event, arrival) pairs: for each free arrival, the weak event it fits best, if any.

    Per weak event and array within range, the free pick of that array with the smallest
    normalised misfit that passes the gate; an arrival offered to several events goes to the
    one it fits best (then the one with more picks). An event is not offered a second pick at an
    array where it already holds one.
    """
    none = np.zeros(0, dtype=np.intp)
    weak = np.flatnonzero(weak_events(sol))
    free = np.flatnonzero(event_of < 0)
    if len(weak) == 0 or len(free) == 0:
        return none, none
    n_sensors = len(arr.sensor_lon)
    sx, sy = to_metric(arr.sensor_lon, arr.sensor_lat)
    gamma = _convergence(arr.sensor_lon, arr.sensor_lat)
    ex, ey = to_metric(sol.lon[weak], sol.lat[weak])
    tree = cKDTree(np.column_stack([sx, sy]))
    near = tree.query_ball_point(np.column_stack([ex, ey]), GROW_RANGE_M)
    lens = np.fromiter((len(v) for v in near), dtype=np.intp, count=len(near))
    if lens.sum() == 0:
        return none, none
    pl = np.repeat(np.arange(len(weak)), lens)  # local event index
    ps = np.fromiter((j for v in near for j in v), dtype=np.intp, count=int(lens.sum()))
    pe = weak[pl]
    # Arrays where the event already holds a pick are not offered another.
    held = np.flatnonzero(event_of >= 0)
    held_key = np.unique(event_of[held].astype(np.int64) * n_sensors + arr.sensor[held])
    pair_key = pe.astype(np.int64) * n_sensors + ps
    pos = np.searchsorted(held_key, pair_key)
    taken = (pos < len(held_key)) & (held_key[np.minimum(pos, len(held_key) - 1)] == pair_key)
    pl, ps, pe = pl[~taken], ps[~taken], pe[~taken]
    pred, var_t, beta, var_b = _prediction(
        ex[pl], ey[pl], sol.t0[pe], sol.cov[pe], c[pe], we[pe], wn[pe], sx[ps], sy[ps]
    )
    ok = np.sqrt(var_t) <= MAX_PRED_SD_S
    pl, ps, pe = pl[ok], ps[ok], pe[ok]
    pred, var_t, beta, var_b = pred[ok], var_t[ok], beta[ok], var_b[ok]
    half = GROW_SIGMAS * np.sqrt(var_t + float(arr.sigma_s.max()) ** 2) + GROW_SLACK_S
    # Free arrivals sorted by (sensor, time) in one float key.
    t_min = float(arr.time_s.min())
    span = float(arr.time_s.max() - t_min) + 10_000.0
    fkey = arr.sensor[free].astype(np.float64) * span + (arr.time_s[free] - t_min)
    forder = np.argsort(fkey, kind="stable")
    fkey = fkey[forder]
    fsorted = free[forder]
    base = ps.astype(np.float64) * span + (pred - t_min)
    lo = np.searchsorted(fkey, base - half)
    hi = np.searchsorted(fkey, base + half, side="right")
    cnt = hi - lo
    if cnt.sum() == 0:
        return none, none
    pair = np.repeat(np.arange(len(ps)), cnt)
    offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    a = fsorted[lo[pair] + offs]
    dt = arr.time_s[a] - pred[pair]
    b_obs = np.radians(arr.bearing_deg[a]) + gamma[ps[pair]]
    dbeta = _wrap(b_obs - beta[pair])
    score, passes = _score(dt, arr.sigma_s[a], var_t[pair], dbeta, np.radians(arr.bearing_sigma_deg[a]), var_b[pair])
    a, pair, score = a[passes], pair[passes], score[passes]
    if len(a) == 0:
        return none, none
    ev = pe[pair]
    # Best pick per (event, array), then best event per pick.
    order = np.lexsort((a, score, pair))
    first = order[np.r_[True, pair[order][1:] != pair[order][:-1]]]
    a, ev, score = a[first], ev[first], score[first]
    order = np.lexsort((ev, -sol.n_used[ev], score, a))
    first = order[np.r_[True, a[order][1:] != a[order][:-1]]]
    return ev[first], a[first]


def _dof(picks: Picks, sol: Solutions) -> IntArray:
    n = len(sol.lon)
    bear = np.bincount(picks.event, weights=(sol.used & np.isfinite(picks.bearing_deg)).astype(float), minlength=n)
    return np.asarray(np.maximum(sol.n_used + bear - 3, 1), dtype=np.intp)


def grow(
    arr: Arrivals, event_of: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[IntArray, Solutions, int]:
    """Offer weak events the free picks they predict; keep the growth that fits (module docstring).

    ``event_of`` holds each arrival's event (-1: free) and must hold only picks the events use.
    Returns the new assignment, the solutions (accepted events relocated) and the number of picks
    that joined.
    """
    event_of = event_of.copy()
    joined = 0
    for _ in range(GROW_ROUNDS):
        ev_c, a_c = candidates(arr, event_of, sol, c, we, wn)
        if len(ev_c) == 0:
            break
        events = np.unique(ev_c)
        local = np.full(len(sol.lon), -1, dtype=np.intp)
        local[events] = np.arange(len(events))
        members = np.flatnonzero((event_of >= 0) & (local[np.maximum(event_of, 0)] >= 0))
        idx = np.concatenate([members, a_c])
        ev = np.concatenate([local[event_of[members]], local[ev_c]])
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
        m = len(events)
        trial = locate(picks, m, c[events], we[events], wn[events], sol.lon[events], sol.lat[events], sol.t0[events])
        dof = _dof(picks, trial)
        good = (
            (trial.status == OK)
            & (trial.chi2 <= chi2_isf(GROW_CONSISTENCY_P, dof))
            & (trial.n_used > sol.n_used[events])
        )
        if not good.any():
            break
        accept = good[ev]
        event_of[idx[accept]] = np.where(trial.used[accept], events[ev[accept]], -1)
        joined += int((accept & trial.used)[len(members) :].sum())
        k = events[good]
        for name in ("lon", "lat", "t0", "cov", "n_used", "rms_s", "chi2", "status"):
            getattr(sol, name)[k] = getattr(trial, name)[good]
    return event_of, sol, joined


def grow_reference(
    arr: Arrivals, event_of: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[IntArray, IntArray]:
    """The candidates of :func:`candidates` by plain loops over events, arrays and picks (for tests)."""
    sx, sy = to_metric(arr.sensor_lon, arr.sensor_lat)
    gamma = _convergence(arr.sensor_lon, arr.sensor_lat)
    weak = weak_events(sol)
    held = {(int(e), int(s)) for e, s in zip(event_of.tolist(), arr.sensor.tolist(), strict=True) if e >= 0}
    free_by_sensor: dict[int, list[int]] = {}
    for i in np.flatnonzero(event_of < 0).tolist():
        free_by_sensor.setdefault(int(arr.sensor[i]), []).append(i)
    offers: dict[int, tuple[float, int, int]] = {}  # arrival -> (score, -n_used, event)
    sig_max = float(arr.sigma_s.max())
    for e in np.flatnonzero(weak).tolist():
        ex, ey = to_metric(float(sol.lon[e]), float(sol.lat[e]))
        for s in range(len(sx)):
            if (e, s) in held or math.hypot(sx[s] - ex, sy[s] - ey) > GROW_RANGE_M:
                continue
            one = np.ones(1)
            pred, var_t, beta, var_b = _prediction(
                ex * one, ey * one, sol.t0[e] * one, sol.cov[e][None], c[e] * one, we[e] * one, wn[e] * one,
                sx[s] * one, sy[s] * one,
            )  # fmt: skip
            if math.sqrt(var_t[0]) > MAX_PRED_SD_S:
                continue
            half = GROW_SIGMAS * math.sqrt(var_t[0] + sig_max**2) + GROW_SLACK_S
            best: tuple[float, int] | None = None
            for a in free_by_sensor.get(s, []):
                dt = float(arr.time_s[a] - pred[0])
                if abs(dt) > half:
                    continue
                dbeta = _wrap(np.radians(arr.bearing_deg[a]) + gamma[s] - beta)
                score, ok = _score(
                    dt * one, arr.sigma_s[a] * one, var_t, dbeta, np.radians(arr.bearing_sigma_deg[a]) * one, var_b
                )
                if ok[0] and (best is None or (float(score[0]), a) < best):
                    best = (float(score[0]), a)
            if best is None:
                continue
            offer = (best[0], -int(sol.n_used[e]), e)
            if best[1] not in offers or offer < offers[best[1]]:
                offers[best[1]] = offer
    arrivals = sorted(offers)
    return np.asarray([offers[a][2] for a in arrivals], dtype=np.intp), np.asarray(arrivals, dtype=np.intp)


REGROW_MAX_PICKS = 8
"""Events with at most this many picks whose fit is doubtful are searched again (:func:`regrow`)."""
REGROW_ALWAYS_PICKS = 6
"""Events with at most this many picks are always searched again: a fit of a doublet's mixed picks
can be tight and probable, kilometres down the rays of arrays on one side."""
REGROW_P = 0.05
"""A small event whose χ² exceeds this upper quantile is doubtful (a wrong pick it cannot drop)."""
REGROW_RADIUS_M = 8_000.0
"""The search radius: a wrong pick can hold a small event kilometres off with a tight ellipse."""


def regrow(
    arr: Arrivals, event_of: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[IntArray, Solutions, int]:
    """Search again, among their own and the free picks, the small events whose fit is doubtful.

    A fragment of four or five picks, one of them wrong, fits a point kilometres off well enough
    (with so few picks deletion cannot tell the wrong one), and from there its other picks are
    predicted seconds off. :func:`truceline.fuse._stack.robust_start` searches the event's
    neighbourhood (± :data:`REGROW_RADIUS_M`) for the point most of
    its picks and of the free picks nearby agree on; the event is relocated from there with the
    picks that fit, and the new fit is kept when it is located, holds more picks and its χ² is
    probable. Returns the new assignment, the solutions and the number of picks gained.
    """
    from truceline.fuse._stack import robust_start

    event_of = event_of.copy()
    n = len(sol.lon)
    held = np.flatnonzero(event_of >= 0)
    bear = np.bincount(event_of[held], weights=np.isfinite(arr.bearing_deg[held]).astype(float), minlength=n)
    dof = np.maximum(sol.n_used + bear - 3, 1)
    sd = np.sqrt(np.maximum(np.nan_to_num(sol.cov[:, 0, 0]) + np.nan_to_num(sol.cov[:, 1, 1]), 0.0))
    doubt = (sd > WEAK_SD_M) | (sol.chi2 > chi2_isf(REGROW_P, dof))
    small = (sol.n_used <= REGROW_ALWAYS_PICKS) | ((sol.n_used <= REGROW_MAX_PICKS) & doubt)
    weak = np.flatnonzero((sol.status == OK) & small)
    free = np.flatnonzero(event_of < 0)
    if len(weak) == 0 or len(free) == 0:
        return event_of, sol, 0
    radius = np.full(len(weak), REGROW_RADIUS_M)
    sx, sy = to_metric(arr.sensor_lon, arr.sensor_lat)
    ex, ey = to_metric(sol.lon[weak], sol.lat[weak])
    tree = cKDTree(np.column_stack([sx, sy]))
    near = tree.query_ball_point(np.column_stack([ex, ey]), GROW_RANGE_M)
    lens = np.fromiter((len(v) for v in near), dtype=np.intp, count=len(near))
    pl = np.repeat(np.arange(len(weak)), lens)
    ps = np.fromiter((j for v in near for j in v), dtype=np.intp, count=int(lens.sum()))
    pe = weak[pl]
    r = metric_distance_m(ex[pl], ey[pl], sx[ps], sy[ps])
    pred = sol.t0[pe] + r / c[pe]
    half = radius[pl] / 300.0 + 0.5
    t_min = float(arr.time_s.min())
    span = float(arr.time_s.max() - t_min) + 10_000.0
    fkey = arr.sensor[free].astype(np.float64) * span + (arr.time_s[free] - t_min)
    forder = np.argsort(fkey, kind="stable")
    fkey, fsorted = fkey[forder], free[forder]
    base = ps.astype(np.float64) * span + (pred - t_min)
    lo = np.searchsorted(fkey, base - half)
    hi = np.searchsorted(fkey, base + half, side="right")
    cnt = hi - lo
    pair = np.repeat(np.arange(len(ps)), cnt)
    offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    cand_a = fsorted[lo[pair] + offs]
    cand_l = pl[pair]
    local = np.full(n, -1, dtype=np.intp)
    local[weak] = np.arange(len(weak))
    own = np.flatnonzero((event_of >= 0) & (local[np.maximum(event_of, 0)] >= 0))
    idx = np.concatenate([own, cand_a])
    ev = np.concatenate([local[event_of[own]], cand_l])
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
    m = len(weak)
    lon_b, lat_b, t0_b, keep = robust_start(
        picks, np.arange(m), sol.lon[weak], sol.lat[weak], c[weak], we[weak], wn[weak], radius
    )
    kept = np.flatnonzero(keep)
    sub = Picks(
        picks.event[kept],
        picks.lon[kept],
        picks.lat[kept],
        picks.time_s[kept],
        picks.sigma_s[kept],
        picks.bearing_deg[kept],
        picks.bearing_sigma_deg[kept],
    )
    trial = locate(sub, m, c[weak], we[weak], wn[weak], lon_b, lat_b, t0_b, reject=False)
    tdof = _dof(sub, trial)
    good = (trial.status == OK) & (trial.chi2 <= chi2_isf(GROW_CONSISTENCY_P, tdof)) & (trial.n_used > sol.n_used[weak])
    if not good.any():
        return event_of, sol, 0
    # A free pick kept by two accepted events goes to the one with more picks.
    take = kept[good[sub.event] & trial.used]
    order = np.lexsort((-trial.n_used[picks.event[take]], idx[take]))
    take = take[order]
    take = take[np.r_[True, idx[take][1:] != idx[take][:-1]]]
    dropped = own[good[local[event_of[own]]]]
    event_of[dropped] = -1
    event_of[idx[take]] = weak[picks.event[take]]
    k = weak[good]
    for name in ("lon", "lat", "t0", "cov", "n_used", "rms_s", "chi2", "status"):
        getattr(sol, name)[k] = getattr(trial, name)[good]
    return event_of, sol, int(len(take) - len(dropped))
