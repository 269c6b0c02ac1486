"""Rival hypotheses for small events: one blast plus a foreign pick, or two blasts?

At full density a small event (a handful of arrays, often all on one side of the blast) can hold
a pick of another blast and still fit well: four picks from arrays in a line toward the blast fix
it only along their rays, so one foreign pick slides the fit kilometres down them, to a point
where all five agree (χ² 14 for 7 degrees of freedom, 8 km off). Nothing inside the event tells
the foreign pick: leave-one-out on four or five picks lacks the power. What tells it is the rest
of the *other* blast: its remaining picks lie unclaimed, and with the foreign pick they make a
consistent event of their own.

So each small event's picks are offered a rival. For every pick ``i`` of an event ``E`` of at
most :data:`RIVAL_MAX_PICKS` picks and every free pick ``f`` at another array whose ray crosses
``i``'s within range at a consistent time, the pair ``{i, f}`` is located (two times and two
bearings fix a point with one degree of freedom over, :func:`truceline.fuse._locate.locate` with
``min_picks=2``). From a consistent pair the arrival at every array in range is predicted with
its uncertainty (as :mod:`truceline.fuse._grow` does); the best-fitting free pick — or, as a
second kind of rival, another pick of ``E`` — completes the rival ``R`` (a pair's prediction is
loose: more picks would admit strays).

The hypotheses are compared on the same picks — ``E``'s and ``R``'s free ones:

* **one source** for all of them, fitted from ``E``'s point, ``R``'s and the grid point most of
  them agree on (:func:`truceline.fuse._stack.robust_start`);
* **two sources**: ``E' = E \\ R`` and ``R``, each refitted.

The split is kept only when one source is inconsistent (χ² above its :data:`RIVAL_P` quantile)
and two fit significantly better — χ²₁ − (χ²_E' + χ²_R) above :data:`SPLIT_CHI2`, the
:data:`SPLIT_P` quantile of χ²(3) for the second source's parameters — each of the two fits being
consistent and ``R`` the smaller part; and, because a blast's picks that the model misfits by
tenths of a second also fit two sources better than one, only with more evidence: either the
picks ``R`` takes are doubtful inside ``E`` (removing them lowers its χ² beyond the
:data:`DOUBT_P` quantile of χ²(2 per pick)) and ``R`` holds at least two free picks at an origin
distinct from ``E'``'s, or ``E`` has four picks that fall into two halves, each completed by its
own free pick into a consistent, distinct source (:func:`_complemented`). An event left with
fewer than three picks stays an incident without an origin (the usual "fewer than 4 stations");
a rival of three arrays likewise — a mix is never published as a location.

:func:`exchange_picks` handles the other small mix, a battery doublet's picks shared out wrongly
between two small events: same picks, same parameters, so the exchange that lowers the total χ²
(by more than :data:`EXCHANGE_CHI2`) is kept.

:func:`rival_candidates` is vectorised over all (event, pick, free pick) triples;
:func:`rival_candidates_reference` is its plain twin (loops) that the tests hold equal.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from scipy.stats import chi2 as chi2_dist

from truceline.fuse._grow import GROW_RANGE_M, _convergence, _prediction, _score
from truceline.fuse._locate import GEOD, OK, TOO_FEW, Picks, Solutions, _first_arrival_start, chi2_isf, locate
from truceline.geo import to_lonlat, to_metric

if TYPE_CHECKING:
    from truceline.fuse._associate import Arrivals

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

RIVAL_MAX_PICKS = 6
"""Events with at most this many picks are offered rivals (larger ones are redundant enough)."""
RIVAL_P = 0.05
"""Each fit of the two-event hypothesis must be consistent at this upper quantile of its χ²."""
PAIR_P = 0.01
"""A pair's fit (one degree of freedom) must be consistent at this upper quantile."""
PAIR_SLACK_S = 3.0
"""Allowance on a pair's time difference at its rays' intersection (bearing errors move it)."""
SLOW_C = 300.0
"""Slowest effective sound speed for the time window of a pair (m/s)."""
MIN_CROSS = math.sin(math.radians(5.0))
"""Rays closer to parallel than this do not intersect usefully."""
RIVAL_ROUNDS = 2
DOUBT_P = 0.01
"""The event's picks the rival takes must be doubtful in it: removing them lowers its χ² by more
than this upper quantile of χ²(2 per pick) — internal evidence, beside the rival's external one."""
ONE_RADIUS_M = 8_000.0
"""Search radius of the grid start for the one-source hypothesis (as :mod:`truceline.fuse._grow`'s regrow)."""
SPLIT_P = 1e-3
"""Two sources replace one only when their χ² is lower by more than this upper quantile of χ²(3)
(the second source's three parameters): a likelihood-ratio test of one source against two."""
SPLIT_CHI2 = float(chi2_dist.isf(SPLIT_P, 3))


def _wrap(a: FloatArray) -> FloatArray:
    return np.asarray((a + np.pi) % (2 * np.pi) - np.pi)


def small_events(sol: Solutions) -> BoolArray:
    return np.asarray((sol.status == OK) & (sol.n_used <= RIVAL_MAX_PICKS))


def _intersect(
    sx_i: FloatArray, sy_i: FloatArray, b_i: FloatArray, sx_f: FloatArray, sy_f: FloatArray, b_f: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Ranges ``a`` along ray i and ``b`` along ray f where they cross (NaN when near parallel)."""
    uix, uiy = np.sin(b_i), np.cos(b_i)
    ufx, ufy = np.sin(b_f), np.cos(b_f)
    dx, dy = sx_f - sx_i, sy_f - sy_i
    det = -uix * ufy + ufx * uiy
    ok = np.abs(det) >= MIN_CROSS
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(ok, (-dx * ufy + ufx * dy) / det, np.nan)
        b = np.where(ok, (uix * dy - uiy * dx) / det, np.nan)
    return a, b, sx_i + a * uix, sy_i + a * uiy


def _pairs(
    arr: Arrivals, held: IntArray, sol: Solutions, c: FloatArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """(pick i of a small event, free pick f) whose rays cross within range at consistent times.

    Returns i, f and the crossing point (theatre metres).
    """
    none_i, none_f = np.zeros(0, dtype=np.intp), np.zeros(0)
    small = small_events(sol)
    own = np.flatnonzero((held >= 0) & small[np.maximum(held, 0)] & np.isfinite(arr.bearing_deg))
    free = np.flatnonzero((held < 0) & np.isfinite(arr.bearing_deg))
    if len(own) == 0 or len(free) == 0:
        return none_i, none_i, none_f, none_f
    sx, sy = to_metric(arr.sensor_lon, arr.sensor_lat)
    gamma = _convergence(arr.sensor_lon, arr.sensor_lat)
    tree = cKDTree(np.column_stack([sx, sy]))
    sensors = np.unique(arr.sensor[own])
    near = tree.query_ball_point(np.column_stack([sx[sensors], sy[sensors]]), 2 * GROW_RANGE_M)
    nb_of = {int(s): np.asarray(v, dtype=np.intp) for s, v in zip(sensors.tolist(), near, strict=True)}
    # (own pick, neighbouring sensor) rows: the neighbours of each pick's sensor.
    lens = np.fromiter((len(nb_of[int(s)]) for s in arr.sensor[own]), dtype=np.intp, count=len(own))
    pi = np.repeat(own, lens)
    ps = np.concatenate([nb_of[int(s)] for s in arr.sensor[own]]) if len(own) else np.zeros(0, dtype=np.intp)
    keep = ps != arr.sensor[pi]
    pi, ps = pi[keep], ps[keep]
    d = np.hypot(sx[ps] - sx[arr.sensor[pi]], sy[ps] - sy[arr.sensor[pi]])
    half = d / SLOW_C + PAIR_SLACK_S
    t_min = float(arr.time_s.min())
    span = float(arr.time_s.max() - t_min) + 10_000.0
    fkey = arr.sensor[free].astype(np.float64) * span + (arr.time_s[free] - t_min)
    forder = np.argsort(fkey, kind="stable")
    fkey, fsorted = fkey[forder], free[forder]
    base = ps.astype(np.float64) * span + (arr.time_s[pi] - t_min)
    lo = np.searchsorted(fkey, base - half)
    hi = np.searchsorted(fkey, base + half, side="right")
    cnt = hi - lo
    row = np.repeat(np.arange(len(pi)), cnt)
    offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    i, f = pi[row], fsorted[lo[row] + offs]
    si, sf = arr.sensor[i], arr.sensor[f]
    b_i = np.radians(arr.bearing_deg[i]) + gamma[si]
    b_f = np.radians(arr.bearing_deg[f]) + gamma[sf]
    a, b, x, y = _intersect(sx[si], sy[si], b_i, sx[sf], sy[sf], b_f)
    ev = held[i]
    ok = (a > 0) & (a <= GROW_RANGE_M) & (b > 0) & (b <= GROW_RANGE_M)
    with np.errstate(invalid="ignore"):
        ok &= np.abs((arr.time_s[f] - b / c[ev]) - (arr.time_s[i] - a / c[ev])) <= PAIR_SLACK_S
    return i[ok], f[ok], x[ok], y[ok]


def _keep_better(best: Solutions, fit: Solutions) -> Solutions:
    """``best`` with each event replaced by ``fit``'s where that one is located with a lower χ²."""
    better = (fit.status == OK) & ((best.status != OK) | (fit.chi2 < best.chi2))
    for name in _FIELDS:
        getattr(best, name)[better] = getattr(fit, name)[better]
    return best


def rival_candidates(
    arr: Arrivals, held: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Rivals of the small events: (rival number per member pick, member arrival; per rival the event
    it rivals and the event's pick ``i`` that opened it).

    ``held`` holds each arrival's event (-1: free), only picks the events use. For each pick
    ``i`` of a small event, at most one rival: the one (over the free picks ``f`` paired with it)
    holding the most picks, then the pair that fits best. Its members are ``i``, ``f`` and the
    free picks and the event's own picks that fit the pair's prediction (one per array).
    """
    none = np.zeros(0, dtype=np.intp)
    i, f, x, y = _pairs(arr, held, sol, c)
    if len(i) == 0:
        return none, none, none, none
    m = len(i)
    ev = held[i]
    idx = np.concatenate([i, f])
    pe = np.r_[np.arange(m), np.arange(m)]
    s = arr.sensor[idx]
    picks = Picks(
        pe, arr.sensor_lon[s], arr.sensor_lat[s], arr.time_s[idx], arr.sigma_s[idx],
        arr.bearing_deg[idx], arr.bearing_sigma_deg[idx],
    )  # fmt: skip
    lon0, lat0 = to_lonlat(x, y)
    pair = locate(
        picks, m, c[ev], we[ev], wn[ev], np.asarray(lon0), np.asarray(lat0), reject=False, retry=False, min_picks=2
    )
    good = (pair.status == OK) & (pair.chi2 <= chi2_isf(PAIR_P, np.ones(m)))
    p_ok = np.flatnonzero(good)
    if len(p_ok) == 0:
        return none, none, none, none
    # Third picks: at each array in range (not i's or f's), the best-fitting free pick or pick of E.
    sx, sy = to_metric(arr.sensor_lon, arr.sensor_lat)
    gamma = _convergence(arr.sensor_lon, arr.sensor_lat)
    ex, ey = to_metric(pair.lon[p_ok], pair.lat[p_ok])
    tree = cKDTree(np.column_stack([sx, sy]))
    near = tree.query_ball_point(np.column_stack([ex, ey]), GROW_RANGE_M)
    lens = np.fromiter((len(v) for v in near), dtype=np.intp, count=len(near))
    pl = np.repeat(np.arange(len(p_ok)), lens)
    ps = np.fromiter((j for v in near for j in v), dtype=np.intp, count=int(lens.sum()))
    pp = p_ok[pl]
    keep = (ps != arr.sensor[i[pp]]) & (ps != arr.sensor[f[pp]])
    pl, ps, pp = pl[keep], ps[keep], pp[keep]
    e_p = ev[pp]
    pred, var_t, beta, var_b = _prediction(
        ex[pl], ey[pl], pair.t0[pp], pair.cov[pp], c[e_p], we[e_p], wn[e_p], sx[ps], sy[ps]
    )
    half = 4.0 * np.sqrt(var_t + float(arr.sigma_s.max()) ** 2) + 0.15
    pool = np.flatnonzero((held < 0) | small_events(sol)[np.maximum(held, 0)])
    t_min = float(arr.time_s.min())
    span = float(arr.time_s.max() - t_min) + 10_000.0
    key = arr.sensor[pool].astype(np.float64) * span + (arr.time_s[pool] - t_min)
    order = np.argsort(key, kind="stable")
    key, psorted = key[order], pool[order]
    base = ps.astype(np.float64) * span + (pred - t_min)
    lo = np.searchsorted(key, base - half)
    hi = np.searchsorted(key, base + half, side="right")
    cnt = hi - lo
    row = np.repeat(np.arange(len(ps)), cnt)
    offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    a = psorted[lo[row] + offs]
    # A third pick is free, or another pick of the same event (a rival of two of its picks).
    mine = (held[a] < 0) | ((held[a] == e_p[row]) & (a != i[pp[row]]))
    a, row = a[mine], row[mine]
    dt = arr.time_s[a] - pred[row]
    b_obs = np.radians(arr.bearing_deg[a]) + gamma[ps[row]]
    dbeta = _wrap(b_obs - beta[row])
    score, passes = _score(dt, arr.sigma_s[a], var_t[row], dbeta, np.radians(arr.bearing_sigma_deg[a]), var_b[row])
    a, row, score = a[passes], row[passes], score[passes]
    # Per pair and kind (a free third pick, or one of the event's), the best-fitting third pick: a
    # pair's prediction is loose, more would admit strays; the rival's fit then judges the three.
    vp = 2 * pp[row] + (held[a] >= 0)
    o = np.lexsort((a, score, vp))
    first = o[np.r_[True, vp[o][1:] != vp[o][:-1]]] if len(o) else o
    a3, v3 = a[first], vp[first]
    if len(v3) == 0:
        return none, none, none, none
    # One rival per pick i and kind: the pair that fits best.
    p3 = v3 // 2
    o = np.lexsort((v3, pair.chi2[p3], v3 % 2, i[p3]))
    best = o[np.r_[True, (i[p3][o][1:] != i[p3][o][:-1]) | (v3[o][1:] % 2 != v3[o][:-1] % 2)]]
    chosen = p3[best]
    nb = len(best)
    r_no = np.r_[np.arange(nb), np.arange(nb), np.arange(nb)]
    member = np.r_[i[chosen], f[chosen], a3[best]]
    o = np.lexsort((member, r_no))
    return r_no[o], member[o], ev[chosen], i[chosen]


def _dof(picks: Picks, k: int) -> IntArray:
    """Degrees of freedom of a fit of all ``picks`` per event: times and bearings less three."""
    n = np.bincount(picks.event, minlength=k) + np.bincount(
        picks.event, weights=np.isfinite(picks.bearing_deg).astype(float), minlength=k
    )
    return np.asarray(np.maximum(n - 3, 1), dtype=np.intp)


def _remainders(held: IntArray, r_no: IntArray, member: IntArray, rivals_of: IntArray) -> tuple[IntArray, IntArray]:
    """Per rival, its event's picks that are not among its members: (arrival, rival number)."""
    k = len(rivals_of)
    n_ev = int(max(int(held.max()) + 1, int(rivals_of.max()) + 1)) if len(held) else 0
    rivalled = np.zeros(n_ev, dtype=bool)
    rivalled[rivals_of] = True
    idx = np.flatnonzero((held >= 0) & rivalled[np.maximum(held, 0)])
    idx = idx[np.argsort(held[idx], kind="stable")]
    ev_sorted = held[idx]
    lo = np.searchsorted(ev_sorted, rivals_of)
    hi = np.searchsorted(ev_sorted, rivals_of, side="right")
    cnt = hi - lo
    q = np.repeat(np.arange(k), cnt)
    offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    a = idx[lo[q] + offs]
    n_arr = len(held)
    in_rival = np.unique(r_no.astype(np.int64) * n_arr + member)
    key = q.astype(np.int64) * n_arr + a
    pos = np.searchsorted(in_rival, key)
    hit = (pos < len(in_rival)) & (in_rival[np.minimum(pos, len(in_rival) - 1)] == key)
    return a[~hit], q[~hit]


def _take_picks(arr: Arrivals, idx: IntArray, event: IntArray) -> Picks:
    s = arr.sensor[idx]
    return Picks(
        event, arr.sensor_lon[s], arr.sensor_lat[s], arr.time_s[idx], arr.sigma_s[idx],
        arr.bearing_deg[idx], arr.bearing_sigma_deg[idx],
    )  # fmt: skip


_FIELDS = ("lon", "lat", "t0", "cov", "n_used", "rms_s", "chi2", "status")


def split_rivals(
    arr: Arrivals, held: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[IntArray, Solutions, IntArray, IntArray]:
    """Split the small events a rival explains better (module docstring), in up to :data:`RIVAL_ROUNDS`.

    ``held`` holds each arrival's event (-1 free; only picks in use). Returns the new assignment,
    the solutions with the rivals appended (the split events relocated from their remaining picks,
    without deletion), per appended event the original event it came from (for its weather), and
    the events that changed.
    """
    held = held.copy()
    n0 = len(sol.lon)
    root = np.arange(n0)
    cw, ww, nw = c.copy(), we.copy(), wn.copy()
    changed: list[IntArray] = []
    for _ in range(RIVAL_ROUNDS):
        r_no, member, e, _ = rival_candidates(arr, held, sol, cw, ww, nw)
        if len(e) == 0:
            break
        k = len(e)
        r_picks = _take_picks(arr, member, r_no)
        rsol = locate(r_picks, k, cw[e], ww[e], nw[e], sol.lon[e], sol.lat[e], reject=False, retry=False)
        # A second start beside the rival's first array: the event's point can lie beyond its mirror.
        lon_a, lat_a = _first_arrival_start(r_picks, r_no, sol.lon[e], sol.lat[e], k)
        again = locate(r_picks, k, cw[e], ww[e], nw[e], lon_a, lat_a, reject=False, retry=False)
        better = (again.status == OK) & ((rsol.status != OK) | (again.chi2 < rsol.chi2))
        for name in _FIELDS:
            getattr(rsol, name)[better] = getattr(again, name)[better]
        # Each rival is judged with its own remainder of the event (several may rival one event).
        rest, rest_no = _remainders(held, r_no, member, e)
        e_picks = _take_picks(arr, rest, rest_no)
        esol = locate(e_picks, k, cw[e], ww[e], nw[e], sol.lon[e], sol.lat[e], reject=False, min_picks=2)
        n_rest = np.bincount(rest_no, minlength=k)
        r_free = np.bincount(r_no, weights=(held[member] < 0).astype(float), minlength=k)
        e_chi2 = np.where(n_rest >= 2, esol.chi2, 0.0)
        e_ok = (n_rest <= 1) | ((esol.status == OK) & (esol.chi2 <= chi2_isf(RIVAL_P, _dof(e_picks, k))))
        # The one-source hypothesis on the same picks (the event's and the rival's free ones), from
        # both the event's and the rival's point: two sources must explain them significantly better.
        u_idx = np.r_[rest, member]
        u_no = np.r_[rest_no, r_no]
        u_picks = _take_picks(arr, u_idx, u_no)
        one = _one_source(u_picks, k, cw[e], ww[e], nw[e], sol.lon[e], sol.lat[e], rsol)
        chi2_one = np.where(one.status == OK, one.chi2, np.inf)
        one_ok = chi2_one <= chi2_isf(RIVAL_P, _dof(u_picks, k))
        gain = chi2_one - (e_chi2 + rsol.chi2)
        # The rival is the smaller part of the event (else it is the event, regrown) and a distinct
        # source: its origin and the remainder's differ beyond their joint uncertainty.
        r_own = np.bincount(r_no, minlength=k) - r_free
        fits = (rsol.status == OK) & (rsol.chi2 <= chi2_isf(RIVAL_P, _dof(r_picks, k)))
        base_ok = fits & e_ok & (n_rest >= 2) & (r_own <= n_rest) & (gain > SPLIT_CHI2) & ~one_ok
        # Evidence inside the event: the picks the rival takes are doubtful in it …
        doubtful = sol.chi2[e] - e_chi2 > chi2_isf(DOUBT_P, np.maximum(2 * r_own, 1).astype(np.intp))
        distinct = _separation(rsol, esol) > SPLIT_CHI2
        accept = base_ok & (r_free >= 2) & doubtful & distinct
        # … or outside it, twice: an event of four picks falls into two halves, each completed by a
        # free pick into a consistent source of its own, the two sources distinct.
        accept |= (
            base_ok & (r_free == 1) & (n_rest == 2) & _complemented(held, e, r_no, member, rest, rest_no, fits, rsol)
        )
        ch = _resolve(np.flatnonzero(accept), gain, e, r_no, member)
        if len(ch) == 0:
            break
        n_now = len(sol.lon)
        rank = np.full(k, -1, dtype=np.intp)
        rank[ch] = np.arange(len(ch))
        sel = rank[r_no] >= 0
        held[member[sel]] = n_now + rank[r_no[sel]]
        ev_ch = e[ch]
        for name in _FIELDS:
            getattr(sol, name)[ev_ch] = getattr(esol, name)[ch]
        # An event left with fewer than three picks stays, unlocated, holding them.
        sol.status[ev_ch[n_rest[ch] < 3]] = TOO_FEW
        sol.n_used[ev_ch] = n_rest[ch]
        sol = _append(sol, rsol, ch)
        root = np.r_[root, root[ev_ch]]
        cw, ww, nw = np.r_[cw, cw[ev_ch]], np.r_[ww, ww[ev_ch]], np.r_[nw, nw[ev_ch]]
        changed += [ev_ch, n_now + np.arange(len(ch))]
    touched = np.unique(np.concatenate(changed)) if changed else np.zeros(0, dtype=np.intp)
    return held, sol, root[n0:], touched


def _complemented(
    held: IntArray,
    e: IntArray,
    r_no: IntArray,
    member: IntArray,
    rest: IntArray,
    rest_no: IntArray,
    fits: BoolArray,
    rsol: Solutions,
) -> BoolArray:
    """Per rival: whether another consistent rival of its event holds exactly the event's other picks
    and one free pick, at an origin distinct from its own. Such rivals are few: plain loops."""
    k = len(e)
    out = np.zeros(k, dtype=bool)
    own: list[set[int]] = [set() for _ in range(k)]
    free: list[set[int]] = [set() for _ in range(k)]
    for q, a in zip(r_no.tolist(), member.tolist(), strict=True):
        (own if held[a] >= 0 else free)[q].add(a)
    rests: list[set[int]] = [set() for _ in range(k)]
    for q, a in zip(rest_no.tolist(), rest.tolist(), strict=True):
        rests[q].add(a)
    by_event: dict[int, list[int]] = {}
    for q in np.flatnonzero(fits).tolist():
        by_event.setdefault(int(e[q]), []).append(q)
    for qs in by_event.values():
        for q in qs:
            for q2 in qs:
                if q2 == q or own[q2] != rests[q] or len(free[q2]) != 1 or free[q2] & free[q]:
                    continue
                if _separation(_row(rsol, q), _row(rsol, q2))[0] > SPLIT_CHI2:
                    out[q] = True
                    break
    return out


def _row(sol: Solutions, q: int) -> Solutions:
    return Solutions(
        sol.lon[q : q + 1], sol.lat[q : q + 1], sol.t0[q : q + 1], sol.cov[q : q + 1], sol.n_used[q : q + 1],
        sol.rms_s[q : q + 1], sol.chi2[q : q + 1], sol.status[q : q + 1], np.zeros(0, dtype=bool),
    )  # fmt: skip


def _one_source(
    picks: Picks,
    k: int,
    c: FloatArray,
    we: FloatArray,
    wn: FloatArray,
    lon: FloatArray,
    lat: FloatArray,
    rival: Solutions,
) -> Solutions:
    """The best one-source fit of each event's picks with its rival's: from the event's point, the
    rival's, and the grid point most of them agree on (:func:`truceline.fuse._stack.robust_start`)."""
    from truceline.fuse._stack import robust_start

    lon_g, lat_g, _, _ = robust_start(picks, np.arange(k), lon, lat, c, we, wn, np.full(k, ONE_RADIUS_M))
    best: Solutions | None = None
    for lon0, lat0 in ((lon, lat), (rival.lon, rival.lat), (lon_g, lat_g)):
        fit = locate(picks, k, c, we, wn, lon0, lat0, reject=False, retry=False)
        best = fit if best is None else _keep_better(best, fit)
    assert best is not None
    return best


def _separation(a: Solutions, b: Solutions) -> FloatArray:
    """Squared Mahalanobis distance of two origins (east, north, t0) under their summed covariances."""
    az, _, d = GEOD.inv(b.lon, b.lat, a.lon, a.lat)
    th = np.radians(np.asarray(az))
    diff = np.stack([np.asarray(d) * np.sin(th), np.asarray(d) * np.cos(th), a.t0 - b.t0], -1)
    cov = np.nan_to_num(a.cov, nan=0.0) + np.nan_to_num(b.cov, nan=0.0)
    ok = np.isfinite(diff).all(axis=1) & (np.abs(np.linalg.det(cov)) > 0)
    out = np.zeros(len(diff))
    if ok.any():
        sol_ = np.linalg.solve(cov[ok], diff[ok][:, :, None])[:, :, 0]
        out[ok] = np.einsum("ki,ki->k", diff[ok], sol_)
    return out


def _resolve(acc: IntArray, gain: FloatArray, e: IntArray, r_no: IntArray, member: IntArray) -> IntArray:
    """Accepted rivals that do not conflict: one per event, each pick in one rival, largest gain first.

    Accepted splits are few (tens a day): a loop over them is cheap.
    """
    acc = acc[np.argsort(-gain[acc], kind="stable")]
    starts = np.r_[0, np.flatnonzero(np.diff(r_no)) + 1]
    ends = np.r_[starts[1:], len(r_no)]
    taken: set[int] = set()
    events: set[int] = set()
    chosen: list[int] = []
    for q in acc.tolist():
        ms = member[starts[q] : ends[q]].tolist()
        if int(e[q]) in events or any(x in taken for x in ms):
            continue
        events.add(int(e[q]))
        taken.update(ms)
        chosen.append(q)
    return np.sort(np.asarray(chosen, dtype=np.intp))


def _append(sol: Solutions, more: Solutions, idx: IntArray) -> Solutions:
    return Solutions(
        np.r_[sol.lon, more.lon[idx]],
        np.r_[sol.lat, more.lat[idx]],
        np.r_[sol.t0, more.t0[idx]],
        np.concatenate([sol.cov, more.cov[idx]]),
        np.r_[sol.n_used, more.n_used[idx]],
        np.r_[sol.rms_s, more.rms_s[idx]],
        np.r_[sol.chi2, more.chi2[idx]],
        np.r_[sol.status, more.status[idx]],
        sol.used,
    )


def rival_candidates_reference(
    arr: Arrivals, held: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> dict[tuple[int, int], tuple[int, list[int]]]:
    """:func:`rival_candidates` by plain loops (for tests): {(pick i, kind): (event, sorted members)}.

    ``kind`` is 0 when the rival's third pick is free, 1 when it is another pick of the event.
    """
    sx, sy = to_metric(arr.sensor_lon, arr.sensor_lat)
    gamma = _convergence(arr.sensor_lon, arr.sensor_lat)
    small = small_events(sol)
    sig_max = float(arr.sigma_s.max())
    one = np.ones(1)
    free = [a for a in range(len(arr)) if held[a] < 0 and math.isfinite(arr.bearing_deg[a])]
    out: dict[tuple[int, int], tuple[int, list[int]]] = {}
    best: dict[tuple[int, int], tuple[float, list[int]]] = {}
    for i in range(len(arr)):
        e = int(held[i])
        if e < 0 or not small[e] or not math.isfinite(arr.bearing_deg[i]):
            continue
        si = int(arr.sensor[i])
        for f in free:
            sf = int(arr.sensor[f])
            d = math.hypot(sx[sf] - sx[si], sy[sf] - sy[si])
            if sf == si or d > 2 * GROW_RANGE_M or abs(arr.time_s[f] - arr.time_s[i]) > d / SLOW_C + PAIR_SLACK_S:
                continue
            b_i = math.radians(arr.bearing_deg[i]) + gamma[si]
            b_f = math.radians(arr.bearing_deg[f]) + gamma[sf]
            ra, rb, x, y = _intersect(sx[si] * one, sy[si] * one, b_i * one, sx[sf] * one, sy[sf] * one, b_f * one)
            a_, b_ = float(ra[0]), float(rb[0])
            if not (0 < a_ <= GROW_RANGE_M and 0 < b_ <= GROW_RANGE_M):
                continue
            if abs((arr.time_s[f] - b_ / c[e]) - (arr.time_s[i] - a_ / c[e])) > PAIR_SLACK_S:
                continue
            lon0, lat0 = to_lonlat(x, y)
            pair = locate(
                _take_picks(arr, np.array([i, f]), np.zeros(2, dtype=np.intp)), 1, c[e] * one, we[e] * one,
                wn[e] * one, np.asarray(lon0), np.asarray(lat0), reject=False, retry=False, min_picks=2,
            )  # fmt: skip
            if pair.status[0] != OK or pair.chi2[0] > chi2_isf(PAIR_P, np.ones(1))[0]:
                continue
            ex, ey = to_metric(pair.lon, pair.lat)
            third: dict[int, tuple[float, int]] = {}
            for s in range(len(sx)):
                if s in (si, sf) or math.hypot(sx[s] - ex[0], sy[s] - ey[0]) > GROW_RANGE_M:
                    continue
                pred, var_t, beta, var_b = _prediction(
                    ex, ey, pair.t0, pair.cov, c[e] * one, we[e] * one, wn[e] * one, sx[s] * one, sy[s] * one
                )
                half = 4.0 * math.sqrt(var_t[0] + sig_max**2) + 0.15
                for a in range(len(arr)):
                    if arr.sensor[a] != s or abs(arr.time_s[a] - pred[0]) > half:
                        continue
                    if held[a] >= 0 and (held[a] != e or a == i):
                        continue
                    dbeta = _wrap(np.radians(arr.bearing_deg[a]) + gamma[s] - beta)
                    score, ok = _score(
                        arr.time_s[a] - pred, arr.sigma_s[a] * one, var_t, dbeta,
                        np.radians(arr.bearing_sigma_deg[a]) * one, var_b,
                    )  # fmt: skip
                    kind = int(held[a] >= 0)
                    if ok[0] and (kind not in third or (float(score[0]), a) < third[kind]):
                        third[kind] = (float(score[0]), a)
            for kind, (_, a3) in third.items():
                if (i, kind) not in best or float(pair.chi2[0]) < best[(i, kind)][0]:
                    best[(i, kind)] = (float(pair.chi2[0]), sorted([i, f, a3]))
    for key, (_, members) in best.items():
        out[key] = (int(held[key[0]]), members)
    return out


EXCHANGE_S = 10.0
"""Two small events whose origins are this close in time (and :data:`EXCHANGE_M` in space) may have
traded picks (a battery doublet's guns heard by the same arrays)."""
EXCHANGE_M = 5_000.0
EXCHANGE_CHI2 = 4.0
"""An exchange of picks must lower the two events' total χ² by more than this (same picks, same
number of parameters: a likelihood ratio above e²)."""
EXCHANGE_MAX_SHARED = 4


def exchange_picks(
    arr: Arrivals, held: IntArray, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[IntArray, Solutions, IntArray]:
    """Two small events near in space and time that hold picks at the same arrays: would swapping
    the picks at some of those arrays fit both better? A battery doublet's guns fire from a few
    hundred metres within a second; two small events can each hold a mix of both guns' picks and
    still fit. Same picks, same parameters: the assignment with the lower total χ² (by more than
    :data:`EXCHANGE_CHI2`, both fits consistent) is kept. Returns the assignment, the solutions and
    the events that changed.
    """
    held = held.copy()
    none = np.zeros(0, dtype=np.intp)
    # Small events, located or not (a mix of three picks may not even fit): 3 to 6 picks held.
    n_held = np.bincount(held[held >= 0], minlength=len(sol.lon))
    small = np.flatnonzero((n_held >= 3) & (n_held <= RIVAL_MAX_PICKS) & np.isfinite(sol.lon) & np.isfinite(sol.t0))
    if len(small) < 2:
        return held, sol, none
    order = small[np.argsort(sol.t0[small], kind="stable")]
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for lag in range(1, 8):
        a, b = order[:-lag], order[lag:]
        near_t = np.abs(sol.t0[a] - sol.t0[b]) < EXCHANGE_S
        if not near_t.any():
            continue
        a, b = a[near_t], b[near_t]
        _, _, d = GEOD.inv(sol.lon[a], sol.lat[a], sol.lon[b], sol.lat[b])
        near = np.asarray(d) < EXCHANGE_M
        rows.append(a[near])
        cols.append(b[near])
    if not rows:
        return held, sol, none
    e1, e2 = np.concatenate(rows), np.concatenate(cols)
    if len(e1) == 0:
        return held, sol, none
    # Each candidate pair's picks by array; the trials swap the picks at a subset of shared arrays.
    idx = np.flatnonzero((held >= 0) & np.isin(held, np.r_[e1, e2]))
    by_event: dict[int, dict[int, int]] = {}
    for ai, ei, si in zip(idx.tolist(), held[idx].tolist(), arr.sensor[idx].tolist(), strict=True):
        by_event.setdefault(ei, {})[si] = ai
    t_idx: list[int] = []
    t_no: list[int] = []
    t_pair: list[tuple[int, int]] = []
    for x, y in zip(e1.tolist(), e2.tolist(), strict=True):  # candidate pairs: a few hundred a day
        px, py = by_event.get(x, {}), by_event.get(y, {})
        shared = sorted(set(px) & set(py))[:EXCHANGE_MAX_SHARED]
        for mask in range(1, 2 ** len(shared)):
            swap = {s for k, s in enumerate(shared) if mask >> k & 1}
            gx = [px[s] if s not in swap else py[s] for s in px]
            gy = [py[s] if s not in swap else px[s] for s in py]
            no = len(t_pair)
            t_pair.append((x, y))
            t_idx += gx + gy
            t_no += [2 * no] * len(gx) + [2 * no + 1] * len(gy)
    if not t_pair:
        return held, sol, none
    m = len(t_pair)
    tidx, tno = np.asarray(t_idx, dtype=np.intp), np.asarray(t_no, dtype=np.intp)
    pairs = np.asarray(t_pair, dtype=np.intp)
    owner = pairs.ravel()  # trial event 2k belongs to pairs[k, 0], 2k + 1 to pairs[k, 1]
    other = pairs[:, ::-1].ravel()
    picks = _take_picks(arr, tidx, tno)
    best: Solutions | None = None
    for start in (owner, other):  # a swapped event may now be the other's blast
        fit = locate(picks, 2 * m, c[owner], we[owner], wn[owner], sol.lon[start], sol.lat[start], reject=False)
        best = fit if best is None else _keep_better(best, fit)
    assert best is not None
    ok = (best.status == OK) & (best.chi2 <= chi2_isf(RIVAL_P, _dof(picks, 2 * m)))
    both = ok[0::2] & ok[1::2]
    before = np.where(np.isfinite(sol.chi2), sol.chi2, np.inf)  # a mix that could not be fitted: worse
    gain = np.fmin(before[pairs[:, 0]] + before[pairs[:, 1]], 1e12) - (best.chi2[0::2] + best.chi2[1::2])
    cand = np.flatnonzero(both & (gain > EXCHANGE_CHI2))
    cand = cand[np.argsort(-gain[cand], kind="stable")]
    done: set[int] = set()
    chosen: list[int] = []
    for k in cand.tolist():  # accepted exchanges are few
        x, y = int(pairs[k, 0]), int(pairs[k, 1])
        if x in done or y in done:
            continue
        done.update((x, y))
        chosen.append(k)
    if not chosen:
        return held, sol, none
    ch = np.asarray(chosen, dtype=np.intp)
    trial = np.r_[2 * ch, 2 * ch + 1]
    sel = np.isin(tno, trial)
    held[tidx[sel]] = owner[tno[sel]]
    for name in _FIELDS:
        getattr(sol, name)[owner[trial]] = getattr(best, name)[trial]
    return held, sol, owner[trial]
