"""Locating blasts from acoustic arrival times: Gauss–Newton on many events at once.

Model of one arrival at a sensor a distance ``r`` from the source, in the direction ``u``
(unit vector from source to sensor), with still-air sound speed ``c`` and wind ``w``::

    t = t0 + r / (c + w · u)

The unknowns are the origin's east and north position and its time ``t0``. Gauss–Newton works
in the azimuthal-equidistant plane centred on the estimate (WGS84 geodesics from pyproj), rebuilt
between rounds and at the solution, so the sensors' distances are those the sound travelled (to
millimetres for a source a few km from the centre), not a map projection's. The analytic Jacobian row of an arrival is::

    ∂t/∂p = (-u (c + w·u) + (w - (w·u) u)) / (c + w·u)²,   ∂t/∂t0 = 1

Each array's reported bearing (back-azimuth, stated error) is a second observation of the same
origin, with gradient ``(cos β, -sin β) / r``: it keeps few-array fits off the mirror solution.
Every event's normal equations are accumulated with ``np.bincount`` over the flat array of
arrivals, and the 3×3 systems are solved together, so there is no Python loop per event or
per arrival. Weights are ``1/σ²`` from each sensor's stated timing error; the covariance is the
inverse Fisher information ``(JᵀWJ)⁻¹`` at the solution — the Cramér–Rao bound of the geometry —
and is reported as a 95 % ellipse.

Outlier picks (a wrong phase picked, tenths of a second off) are removed by deletion-χ²: while
an event's χ² exceeds the :data:`REJECT_P` upper quantile and more than :data:`MIN_KEEP` picks
remain, the pick whose removal lowers χ² the most goes (:func:`deletion_chi2`, the leave-one-out
χ² in closed form from the hat matrix, so a wrong pick that dragged the fit toward itself is found
even when a good pick shows the largest residual); only the events that lost a pick are fitted
again. Small events still improbable after that get leave-one-out restarts from two starting
points (:func:`_leave_one_out`). The final solution is a plain weighted least-squares fit of the
picks kept, so it keeps the efficiency of least squares.

:func:`locate_reference` is the plain twin (one event at a time, explicit loops) that the tests
compare with :func:`locate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyproj
from numpy.typing import NDArray
from scipy.stats import chi2 as chi2_dist

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

GEOD = pyproj.Geod(ellps="WGS84")
REJECT_P = 0.01
"""An event whose χ² exceeds this upper quantile loses its worst pick (deletion-χ²), one per round."""
MIN_KEEP = 4
"""Never reject below this many picks: with fewer, no pick can be told wrong from the rest."""
MAX_DELETIONS = 4
"""At most this many picks are rejected per event (one per round)."""
LOO_MAX_PICKS = 8
"""Events with at most this many picks get leave-one-out restarts (larger ones are redundant enough)."""
LOO_P = 1e-4
"""Significance (before Bonferroni over the event's picks) for a left-out pick to be declared wrong."""
MAX_STEP_M = 5_000.0
LM_DAMPING = 1e-6
MAX_ITERATIONS = 12
TOLERANCE_M = 0.01
CHI2_PER_DOF_MAX = 25.0
RETRY_P = 1e-3
MAX_SEMI_MAJOR_M = 50_000.0
"""Beyond this the geometry does not fix a point (collinear sensors, a source far outside)."""

# Status codes of a located event and the reason each gives.
OK = 0
TOO_FEW = 1
COLLINEAR = 2
DIVERGED = 3
INCONSISTENT = 4
REASONS = {
    OK: "located",
    TOO_FEW: "not locatable: fewer than 4 stations (3 fix a point but cannot check that the picks are one blast)",
    COLLINEAR: "not locatable: the stations' geometry does not fix a point (collinear or far outside)",
    DIVERGED: "not locatable: the solution did not converge",
    INCONSISTENT: "not locatable: the arrivals are inconsistent with one source (χ² improbable at p < 0.001)",
}


@dataclass
class Picks:
    """Arrivals to locate, flat and grouped by ``event`` (0 … n_events-1)."""

    event: IntArray
    lon: FloatArray  # sensor position
    lat: FloatArray
    time_s: FloatArray  # arrival time, seconds since an epoch shared with t0
    sigma_s: FloatArray  # stated timing error (1 σ)
    bearing_deg: FloatArray  # back-azimuth reported by the array, NaN when none
    bearing_sigma_deg: FloatArray  # its stated error (1 σ), NaN when none

    def __len__(self) -> int:
        return len(self.event)


@dataclass
class Solutions:
    """Located origins, one row per event, with the Fisher covariance in (east m, north m, t0 s)."""

    lon: FloatArray
    lat: FloatArray
    t0: FloatArray
    cov: FloatArray  # (E, 3, 3)
    n_used: IntArray
    rms_s: FloatArray
    chi2: FloatArray
    status: IntArray
    used: BoolArray  # per pick: kept in the final fit

    def ellipse_cov(self, k: int) -> tuple[float, float, float]:
        """(cee, cen, cnn) of event ``k``'s horizontal covariance in m²."""
        c = self.cov[k]
        return float(c[0, 0]), float(c[0, 1]), float(c[1, 1])


def _jacobian(
    r: FloatArray, ux: FloatArray, uy: FloatArray, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Travel time and its derivative with respect to the source's east and north position."""
    wu = we * ux + wn * uy
    ce = c + wu
    travel = r / ce
    gx = (-ux * ce + (we - wu * ux)) / (ce * ce)
    gy = (-uy * ce + (wn - wu * uy)) / (ce * ce)
    return travel, gx, gy


def _sums(event: IntArray, weight: FloatArray, values: tuple[FloatArray, ...], n: int) -> list[FloatArray]:
    return [np.asarray(np.bincount(event, weights=weight * v, minlength=n), dtype=np.float64) for v in values]


def _normal_matrix(event: IntArray, w: FloatArray, gx: FloatArray, gy: FloatArray, n: int) -> FloatArray:
    one = np.ones_like(gx)
    s = _sums(event, w, (gx * gx, gx * gy, gx, gy * gy, gy, one), n)
    return np.stack(
        [np.stack([s[0], s[1], s[2]], -1), np.stack([s[1], s[3], s[4]], -1), np.stack([s[2], s[4], s[5]], -1)], -2
    )


def _well_posed(mat: FloatArray, c: FloatArray) -> BoolArray:
    """Whether each normal matrix fixes a point: its condition in units where metres become seconds."""
    scale = np.stack([c, c, np.ones_like(c)], -1)  # positions in "seconds of travel"
    m = mat * scale[:, :, None] * scale[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        cond = np.linalg.cond(m)
    return np.asarray(np.isfinite(cond) & (cond < 1e12))


@dataclass
class _Plane:
    """Sensors in the azimuthal-equidistant plane centred on each event's current estimate.

    Distances from the centre are geodesic; a source a few km from the centre sees the sensors
    within millimetres of their geodesic distance, so Gauss–Newton runs in the plane and the
    plane is rebuilt (one pyproj call) only between rounds. ``gamma`` turns a plane direction at
    the sensor into a true azimuth there (the meridians converge across the plane).
    """

    lon: FloatArray  # centre per event
    lat: FloatArray
    ex: FloatArray  # per pick
    ny: FloatArray
    gamma: FloatArray


def _plane(picks: Picks, lon: FloatArray, lat: FloatArray) -> _Plane:
    ev = picks.event
    az, back, d = GEOD.inv(lon[ev], lat[ev], picks.lon, picks.lat)
    a = np.radians(np.asarray(az))
    d = np.asarray(d)
    gamma = np.angle(np.exp(1j * (np.radians(np.asarray(back)) - (a + np.pi))))
    return _Plane(lon.copy(), lat.copy(), d * np.sin(a), d * np.cos(a), gamma)


def _replane(plane: _Plane, picks: Picks, lon: FloatArray, lat: FloatArray, moved: BoolArray) -> _Plane:
    """The plane re-centred on (lon, lat) for the events ``moved``; the others' picks are kept as they are."""
    sel = np.flatnonzero(moved[picks.event])
    if len(sel) == 0:
        return _Plane(lon.copy(), lat.copy(), plane.ex, plane.ny, plane.gamma)
    ev = picks.event[sel]
    az, back, d = GEOD.inv(lon[ev], lat[ev], picks.lon[sel], picks.lat[sel])
    a = np.radians(np.asarray(az))
    d = np.asarray(d)
    ex, ny, gamma = plane.ex.copy(), plane.ny.copy(), plane.gamma.copy()
    ex[sel], ny[sel] = d * np.sin(a), d * np.cos(a)
    gamma[sel] = np.angle(np.exp(1j * (np.radians(np.asarray(back)) - (a + np.pi))))
    return _Plane(lon.copy(), lat.copy(), ex, ny, gamma)


@dataclass
class _Rows:
    """Per-pick residuals and Jacobian rows at the current estimate (for the picks ``idx``)."""

    ev: IntArray
    res_t: FloatArray  # time residual (s)
    res_b: FloatArray  # bearing residual (rad)
    gx: FloatArray  # ∂t/∂(east, north)
    gy: FloatArray
    hx: FloatArray  # ∂β/∂(east, north)
    hy: FloatArray


def _rows(
    picks: Picks,
    plane: _Plane,
    idx: IntArray,
    px: FloatArray,
    py: FloatArray,
    t0: FloatArray,
    c: FloatArray,
    wind_e: FloatArray,
    wind_n: FloatArray,
) -> _Rows:
    ev = picks.event[idx]
    dx = plane.ex[idx] - px[ev]
    dy = plane.ny[idx] - py[ev]
    r = np.maximum(np.hypot(dx, dy), 1.0)
    ux, uy = dx / r, dy / r
    travel, gx, gy = _jacobian(r, ux, uy, c[ev], wind_e[ev], wind_n[ev])
    res_t = picks.time_s[idx] - t0[ev] - travel
    # Bearing from the sensor to the source and its gradient with respect to the source position:
    # (cos β, -sin β) / r per radian (β in the plane; gamma makes it a true azimuth).
    beta_plane = np.arctan2(-ux, -uy)
    beta = beta_plane + plane.gamma[idx]
    res_b = np.angle(np.exp(1j * (np.radians(np.nan_to_num(picks.bearing_deg[idx])) - beta)))
    hx, hy = np.cos(beta_plane) / r, -np.sin(beta_plane) / r
    return _Rows(ev, res_t, res_b, gx, gy, hx, hy)


def _system(
    picks: Picks,
    plane: _Plane,
    idx: IntArray,
    n: int,
    px: FloatArray,
    py: FloatArray,
    t0: FloatArray,
    c: FloatArray,
    wind_e: FloatArray,
    wind_n: FloatArray,
    weight_t: FloatArray,
    weight_b: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Normal matrix, right-hand side, time residuals (s), bearing residuals (rad) and χ² per event.

    Only the picks ``idx`` take part; residuals are returned for those picks.
    """
    g = _rows(picks, plane, idx, px, py, t0, c, wind_e, wind_n)
    ev, res_t, res_b, gx, gy, hx, hy = g.ev, g.res_t, g.res_b, g.gx, g.gy, g.hx, g.hy
    wt, wb = weight_t[idx], weight_b[idx]
    mat = _normal_matrix(ev, wt, gx, gy, n)
    mat[:, :2, :2] += np.stack(
        [np.stack(_sums(ev, wb, (hx * hx, hx * hy), n), -1), np.stack(_sums(ev, wb, (hx * hy, hy * hy), n), -1)],
        -2,
    )
    rhs = np.stack(_sums(ev, wt, (gx * res_t, gy * res_t, res_t), n), -1)
    rhs[:, :2] += np.stack(_sums(ev, wb, (hx * res_b, hy * res_b), n), -1)
    chi2 = np.asarray(np.bincount(ev, weights=wt * res_t**2 + wb * res_b**2, minlength=n), dtype=np.float64)
    return mat, rhs, res_t, res_b, chi2


def deletion_chi2(mat: FloatArray, g: _Rows, weight_t: FloatArray, weight_b: FloatArray) -> FloatArray:
    """How much each pick's removal would lower its event's χ² (time and bearing rows together).

    For weighted least squares with whitened rows ``A_i`` (the pick's time and bearing rows),
    whitened residuals ``e_i`` and hat block ``H_ii = A_i M⁻¹ A_iᵀ`` (``M`` the normal matrix of
    the picks in use), the fit without the pick has ``χ²₋ᵢ = χ² − e_iᵀ (I − H_ii)⁻¹ e_i``: the
    leave-one-out χ² without refitting (exact for the linearised model at the solution).
    ``weight_t``/``weight_b`` are per pick of ``g`` (zero for picks not in use).
    """
    n = len(mat)
    inv = np.zeros((n, 3, 3))
    ok = np.isfinite(mat).all(axis=(1, 2)) & (np.abs(np.linalg.det(mat)) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv[ok] = np.linalg.inv(mat[ok])
    st, sb = np.sqrt(weight_t), np.sqrt(weight_b)
    a = np.stack([g.gx, g.gy, np.ones_like(g.gx)], -1) * st[:, None]
    b = np.stack([g.hx, g.hy, np.zeros_like(g.hx)], -1) * sb[:, None]
    mi = inv[g.ev]
    ma = np.einsum("kij,kj->ki", mi, a)
    mb = np.einsum("kij,kj->ki", mi, b)
    h_aa = np.einsum("ki,ki->k", a, ma)
    h_ab = np.einsum("ki,ki->k", a, mb)
    h_bb = np.einsum("ki,ki->k", b, mb)
    # (I − H)⁻¹ for the 2×2 block; a pick that alone fixes the solution (1 − h → 0) cannot be judged.
    p, q, s = 1.0 - h_aa, -h_ab, 1.0 - h_bb
    det = p * s - q * q
    ea, eb = st * g.res_t, sb * g.res_b
    with np.errstate(invalid="ignore", divide="ignore"):
        red = (s * ea * ea - 2.0 * q * ea * eb + p * eb * eb) / det
    return np.where(np.isfinite(red) & (det > 1e-6), red, 0.0)


def _recentre(plane: _Plane, px: FloatArray, py: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The (lon, lat) of plane offsets (px, py): the azimuthal-equidistant inverse, exact."""
    lon, lat = plane.lon.copy(), plane.lat.copy()
    dist = np.hypot(px, py)
    idx = np.flatnonzero(dist > 0)
    if len(idx):
        lo, la, _ = GEOD.fwd(lon[idx], lat[idx], np.degrees(np.arctan2(px[idx], py[idx])), dist[idx])
        lon[idx], lat[idx] = lo, la
    return lon, lat


_CHI2_TABLE: dict[float, FloatArray] = {}


def chi2_isf(p: float, dof: FloatArray | IntArray) -> FloatArray:
    """``scipy.stats.chi2.isf(p, dof)`` for integer degrees of freedom (at least 1), from a table."""
    table = _CHI2_TABLE.get(p)
    k = np.maximum(np.asarray(dof, dtype=np.int64), 1)
    top = int(k.max()) if k.size else 1
    if table is None or len(table) <= top:
        table = np.asarray(chi2_dist.isf(p, np.arange(max(top + 1, 512))), dtype=np.float64)
        _CHI2_TABLE[p] = table
    return np.asarray(table[k])


def _worst_pick(
    picks: Picks,
    plane: _Plane,
    use: BoolArray,
    judge: BoolArray,
    t0: FloatArray,
    c: FloatArray,
    wind_e: FloatArray,
    wind_n: FloatArray,
    w_time: FloatArray,
    w_bear: FloatArray,
    has_b: BoolArray,
) -> IntArray:
    """Deletion-χ²: per event whose fit is improbable, the pick whose removal lowers χ² the most.

    An event is a candidate while its χ² exceeds the :data:`REJECT_P` quantile of its degrees of
    freedom and at least :data:`MIN_KEEP` picks would remain. Judging a pick by the fit *without*
    it (not by its own residual) finds the wrong pick even when it has dragged the solution toward
    itself and a good pick shows the largest residual.
    """
    ev = picks.event
    n = len(t0)
    zero = np.zeros(n)
    idx = np.flatnonzero(use & judge[ev])
    if len(idx) == 0:
        return idx
    mat, _, _, _, chi2 = _system(picks, plane, idx, n, zero, zero, t0, c, wind_e, wind_n, w_time, w_bear)
    n_used = np.bincount(ev[idx], minlength=n)
    dof = n_used + np.bincount(ev[idx], weights=has_b[idx].astype(float), minlength=n) - 3
    candidate = judge & (chi2 > chi2_isf(REJECT_P, dof)) & (n_used > MIN_KEEP)
    sel = np.flatnonzero(use & candidate[ev])
    if len(sel) == 0:
        return sel
    g = _rows(picks, plane, sel, zero, zero, t0, c, wind_e, wind_n)
    red = deletion_chi2(mat, g, w_time[sel], w_bear[sel])
    order = np.lexsort((-red, g.ev))
    first = order[np.r_[True, g.ev[order][1:] != g.ev[order][:-1]]]
    return sel[first[red[first] > 0]]


def locate(
    picks: Picks,
    n_events: int,
    c: FloatArray,
    wind_e: FloatArray,
    wind_n: FloatArray,
    lon0: FloatArray,
    lat0: FloatArray,
    t00: FloatArray | None = None,
    *,
    reject: bool = True,
    active: BoolArray | None = None,
    retry: bool = True,
    min_picks: int = 3,
) -> Solutions:
    """Locate every event from its picks (vectorised over events); see the module docstring.

    ``c`` (still-air sound speed) and ``wind_e``/``wind_n`` (m/s blowing toward) are per event;
    ``lon0``/``lat0`` the starting points; ``t00`` the starting origin times (estimated when None).
    ``min_picks`` below 3 fits pairs of picks too (their bearings fix the point; used to test a
    rival hypothesis, :mod:`truceline.fuse._rival`), never for an origin to publish.
    """
    ev = picks.event
    n = n_events
    use = np.ones(len(ev), dtype=bool) if active is None else active.copy()
    w_time = 1.0 / np.maximum(picks.sigma_s, 1e-6) ** 2
    has_b = np.isfinite(picks.bearing_deg)
    sig_b = np.radians(np.where(np.isfinite(picks.bearing_sigma_deg), picks.bearing_sigma_deg, 180.0))
    w_bear = np.where(has_b, 1.0 / np.maximum(sig_b, 1e-6) ** 2, 0.0)
    lon, lat = np.array(lon0, dtype=np.float64), np.array(lat0, dtype=np.float64)
    plane = _plane(picks, lon, lat)
    if t00 is None:
        t0 = _group_median(ev, picks.time_s - np.hypot(plane.ex, plane.ny) / c[ev], use, n)
    else:
        t0 = np.array(t00, dtype=np.float64)
    status = np.zeros(n, dtype=np.intp)
    counts = np.bincount(ev, weights=use.astype(float), minlength=n)
    status[counts < min_picks] = TOO_FEW
    rounds = MAX_DELETIONS + 1 if reject else 1
    all_picks = np.arange(len(ev))
    redo = np.ones(n, dtype=bool)
    for rnd in range(rounds + 1):
        moving = (status == OK) & redo
        fitted = moving.copy()
        px, py = np.zeros(n), np.zeros(n)
        for _ in range(MAX_ITERATIONS):
            if not moving.any():
                break
            # Only the picks of events still moving are recomputed (most converge in a few steps).
            sub = np.flatnonzero(use & moving[ev])
            mat, rhs, _, _, _ = _system(picks, plane, sub, n, px, py, t0, c, wind_e, wind_n, w_time, w_bear)
            # A little Levenberg–Marquardt damping keeps a step defined where the geometry is momentarily
            # degenerate (all sensors in one direction); whether the final geometry fixes a point is
            # judged at the solution, below.
            damped = mat[moving] + LM_DAMPING * np.einsum("kii->ki", mat[moving])[:, :, None] * np.eye(3)
            step = np.zeros((n, 3))
            with np.errstate(invalid="ignore", divide="ignore"):
                step[moving] = np.linalg.solve(damped, rhs[moving][:, :, None])[:, :, 0]
            step[~np.isfinite(step).all(axis=1)] = 0.0
            dist = np.hypot(step[:, 0], step[:, 1])
            shrink = np.where(dist > MAX_STEP_M, MAX_STEP_M / np.maximum(dist, 1e-9), 1.0)
            px += step[:, 0] * shrink
            py += step[:, 1] * shrink
            t0 += step[:, 2]
            moving &= dist > TOLERANCE_M
        # Re-centre the plane on the solution: distances from the centre are exact again.
        lon, lat = _recentre(plane, px, py)
        plane = _replane(plane, picks, lon, lat, fitted)
        px, py = np.zeros(n), np.zeros(n)
        if rnd == rounds:
            break
        # The first solution's plane was centred on the start: one more round, re-centred, for all.
        redo = np.full(n, rnd == 0)
        if reject:
            # Only the events fitted this round can have changed their verdict.
            drop = _worst_pick(picks, plane, use, (status == OK) & fitted, t0, c, wind_e, wind_n, w_time, w_bear, has_b)
            use[drop] = False
            redo[ev[drop]] = True
        if not redo.any():
            break
    # Final statistics at the solution (the plane is centred on it).
    w_t, w_b = np.where(use, w_time, 0.0), np.where(use, w_bear, 0.0)
    mat, _, res_t, _, chi2 = _system(picks, plane, all_picks, n, px, py, t0, c, wind_e, wind_n, w_t, w_b)
    n_used = np.bincount(ev, weights=use.astype(float), minlength=n).astype(np.intp)
    rms = np.sqrt(np.bincount(ev, weights=np.where(use, res_t * res_t, 0.0), minlength=n) / np.maximum(n_used, 1))
    cov = np.full((n, 3, 3), np.nan)
    posed = _well_posed(mat, c) & (n_used >= min_picks)
    cov[posed] = np.linalg.inv(mat[posed])
    status[(status == OK) & ~posed] = COLLINEAR
    status[(status == OK) & (n_used < min_picks)] = TOO_FEW
    semi = np.sqrt(np.maximum(cov[:, 0, 0], 0) + np.maximum(cov[:, 1, 1], 0))
    status[(status == OK) & ~(semi < MAX_SEMI_MAJOR_M)] = COLLINEAR
    # A fit far worse than the stated errors allow is not one source (or not this model). Each pick
    # gives a time and a bearing; three unknowns.
    dof = np.maximum(n_used + np.bincount(ev, weights=(use & has_b).astype(float), minlength=n) - 3, 1)
    status[(status == OK) & (chi2 / dof > CHI2_PER_DOF_MAX)] = INCONSISTENT
    sol = Solutions(lon, lat, t0, cov, n_used, rms, chi2, status, use)
    if retry:
        _retry_from_first_arrival(picks, sol, c, wind_e, wind_n, dof, reject)
        if reject:
            _leave_one_out(picks, sol, c, wind_e, wind_n, has_b)
    return sol


def _first_arrival_start(
    picks: Picks, event: IntArray, toward_lon: FloatArray, toward_lat: FloatArray, n: int
) -> tuple[FloatArray, FloatArray]:
    """Per event, a point 200 m from its first array toward (toward_lon, toward_lat): never on a sensor."""
    order = np.lexsort((picks.time_s, event))
    first = order[np.r_[True, event[order][1:] != event[order][:-1]]]
    f = np.zeros(n, dtype=np.intp)
    f[event[first]] = first
    az, _, _ = GEOD.inv(picks.lon[f], picks.lat[f], toward_lon, toward_lat)
    lon0, lat0, _ = GEOD.fwd(picks.lon[f], picks.lat[f], az, np.full(n, 200.0))
    return np.asarray(lon0), np.asarray(lat0)


def _leave_one_out(
    picks: Picks, sol: Solutions, c: FloatArray, wind_e: FloatArray, wind_n: FloatArray, has_b: BoolArray
) -> None:
    """Leave-one-out restarts for the small events whose fit is still improbable after deletion.

    The deletion-χ² judges picks at the current solution; with few arrays a wrong pick can hold
    the least squares in a minimum where the statistic points at a good pick, or where removing
    a pick would leave too few to trust. Each pick is left out in turn and the rest fitted
    afresh from two starts (the current solution and beside the first array to hear the blast);
    if the left-out pick's arrival time is then improbable (externally studentised residual beyond
    the :data:`LOO_P` quantile, Bonferroni over the event's picks) while the rest fit well, the
    pick is dropped and that fit kept. Vectorised over all (event, left-out pick) pairs.
    """
    ev = picks.event
    n = len(sol.lon)
    dof = sol.n_used + np.bincount(ev, weights=(sol.used & has_b).astype(float), minlength=n) - 3
    cand = ((sol.status == OK) | (sol.status == INCONSISTENT)) & (sol.n_used > MIN_KEEP)
    cand &= (sol.n_used <= LOO_MAX_PICKS) & (sol.chi2 > chi2_isf(REJECT_P, dof))
    sel = np.flatnonzero(sol.used & cand[ev])
    if len(sel) == 0:
        return
    sel = sel[np.argsort(ev[sel], kind="stable")]
    e_sel = ev[sel]
    starts = np.r_[0, np.flatnonzero(np.diff(e_sel)) + 1]
    k = np.diff(np.r_[starts, len(sel)])
    size = k * k
    total = int(size.sum())
    base = np.repeat(np.cumsum(size) - size, size)
    off = np.arange(total) - base
    kk = np.repeat(k, size)
    i, j = off // kk, off % kk
    first = np.repeat(starts, size)
    p, q = first + i, first + j  # trial p (pick sel[p] left out) holds pick sel[q]
    keep = p != q
    p, q = p[keep], q[keep]
    trial_event = e_sel  # the event of trial p
    sub = _take(picks, sel[q])
    sub.event = p
    m = len(sel)
    te = trial_event
    best: Solutions | None = None
    lon_a, lat_a = _first_arrival_start(sub, p, sol.lon[te], sol.lat[te], m)
    for lon0, lat0 in ((sol.lon[te], sol.lat[te]), (lon_a, lat_a)):
        trial = locate(sub, m, c[te], wind_e[te], wind_n[te], lon0, lat0, reject=False, retry=False)
        if best is None:
            best = trial
            continue
        better = (trial.status == OK) & ((best.status != OK) | (trial.chi2 < best.chi2))
        for name in ("lon", "lat", "t0", "cov", "n_used", "rms_s", "chi2", "status"):
            getattr(best, name)[better] = getattr(trial, name)[better]
    assert best is not None
    # The left-out pick's time against the trial's prediction, with the prediction's own variance.
    out = sel
    az, _, d = GEOD.inv(best.lon, best.lat, picks.lon[out], picks.lat[out])
    a = np.radians(np.asarray(az))
    r = np.maximum(np.asarray(d), 1.0)
    travel, gx, gy = _jacobian(r, np.sin(a), np.cos(a), c[te], wind_e[te], wind_n[te])
    resid = picks.time_s[out] - best.t0 - travel
    jrow = np.stack([gx, gy, np.ones_like(gx)], -1)
    cov = np.where(np.isfinite(best.cov), best.cov, 0.0)
    var = picks.sigma_s[out] ** 2 + np.einsum("ki,kij,kj->k", jrow, cov, jrow)
    z2 = np.where(best.status == OK, resid * resid / var, -1.0)
    bear = np.bincount(sub.event, weights=has_b[sel[q]].astype(float), minlength=m)
    dof = np.maximum(best.n_used + bear - 3, 1)
    fits = best.chi2 <= chi2_isf(REJECT_P, dof)
    order = np.lexsort((-z2, te))
    top = order[np.r_[True, te[order][1:] != te[order][:-1]]]
    take = top[(z2[top] > chi2_dist.isf(LOO_P / k[np.searchsorted(e_sel[starts], te[top])], 1)) & fits[top]]
    if len(take) == 0:
        return
    e = te[take]
    for name in ("lon", "lat", "t0", "cov", "n_used", "rms_s", "chi2", "status"):
        getattr(sol, name)[e] = getattr(best, name)[take]
    sol.used[sel[take]] = False


def _retry_from_first_arrival(
    picks: Picks, sol: Solutions, c: FloatArray, wind_e: FloatArray, wind_n: FloatArray, dof: IntArray, reject: bool
) -> None:
    """Start again, from beside the first array to hear it, every event whose fit is improbable.

    Time differences admit a second, mirror solution when the source is outside the arrays; a fit
    stuck there leaves residuals the stated errors make improbable. The blast is nearest the array
    that heard it first, so that array (a little toward the others) is the natural second start;
    the better of the two fits is kept.
    """
    ev = picks.event
    n = len(sol.lon)
    suspect = np.flatnonzero(((sol.status == OK) | (sol.status == INCONSISTENT)) & (sol.chi2 > chi2_isf(RETRY_P, dof)))
    if len(suspect) == 0:
        return
    order = np.lexsort((picks.time_s, ev))
    first = order[np.r_[True, ev[order][1:] != ev[order][:-1]]]
    first_of = np.full(n, -1, dtype=np.intp)
    first_of[ev[first]] = first
    suspect = suspect[first_of[suspect] >= 0]
    sel = np.flatnonzero(np.isin(ev, suspect))
    remap = np.full(n, -1, dtype=np.intp)
    remap[suspect] = np.arange(len(suspect))
    sub = _take(picks, sel)
    sub.event = remap[sub.event]
    f = first_of[suspect]
    # 200 m from the first array toward the event's current solution: never exactly on a sensor.
    az, _, _ = GEOD.inv(picks.lon[f], picks.lat[f], sol.lon[suspect], sol.lat[suspect])
    lon0, lat0, _ = GEOD.fwd(picks.lon[f], picks.lat[f], az, np.full(len(f), 200.0))
    again = locate(
        sub,
        len(suspect),
        c[suspect],
        wind_e[suspect],
        wind_n[suspect],
        np.asarray(lon0),
        np.asarray(lat0),
        reject=reject,
        retry=False,
    )
    better = (again.status == OK) & (again.chi2 < sol.chi2[suspect])
    k = suspect[better]
    for name in ("lon", "lat", "t0", "cov", "n_used", "rms_s", "chi2", "status"):
        getattr(sol, name)[k] = getattr(again, name)[better]
    moved = np.isin(sub.event, np.flatnonzero(better))
    sol.used[sel[moved]] = again.used[moved]


def _take(picks: Picks, idx: IntArray) -> Picks:
    return Picks(
        picks.event[idx],
        picks.lon[idx],
        picks.lat[idx],
        picks.time_s[idx],
        picks.sigma_s[idx],
        picks.bearing_deg[idx],
        picks.bearing_sigma_deg[idx],
    )


def _group_median(ev: IntArray, values: FloatArray, use: BoolArray, n: int) -> FloatArray:
    """Median of ``values`` per event over the ``use``d picks (NaN for an event without any)."""
    out = np.full(n, np.nan)
    idx = np.flatnonzero(use)
    if len(idx) == 0:
        return out
    order = idx[np.lexsort((values[idx], ev[idx]))]
    e = ev[order]
    starts = np.r_[0, np.flatnonzero(np.diff(e)) + 1]
    counts = np.diff(np.r_[starts, len(e)])
    mid_lo = order[starts + (counts - 1) // 2]
    mid_hi = order[starts + counts // 2]
    out[e[starts]] = 0.5 * (values[mid_lo] + values[mid_hi])
    return np.where(np.isnan(out), 0.0, out)


def locate_reference(
    lon: list[float],
    lat: list[float],
    time_s: list[float],
    sigma_s: list[float],
    c: float,
    wind_e: float,
    wind_n: float,
    lon0: float,
    lat0: float,
    t0: float,
) -> tuple[float, float, float, list[list[float]]]:
    """One event by plain loops (no outlier rejection): (lon, lat, t0, 3×3 covariance).

    The reference twin of :func:`locate`: same model, written for reading, not speed.
    """
    for _ in range(50):
        m = [[0.0] * 3 for _ in range(3)]
        b = [0.0] * 3
        for slon, slat, t, s in zip(lon, lat, time_s, sigma_s, strict=True):
            az, _, r = GEOD.inv(lon0, lat0, slon, slat)
            ux, uy = math.sin(math.radians(az)), math.cos(math.radians(az))
            wu = wind_e * ux + wind_n * uy
            ce = c + wu
            row = ((-ux * ce + (wind_e - wu * ux)) / ce**2, (-uy * ce + (wind_n - wu * uy)) / ce**2, 1.0)
            res = t - t0 - r / ce
            for i in range(3):
                b[i] += row[i] * res / s**2
                for j in range(3):
                    m[i][j] += row[i] * row[j] / s**2
        step = [float(v) for v in np.linalg.solve(np.array(m), np.array(b))]
        dist = math.hypot(step[0], step[1])
        if dist > 0:
            lon0, lat0, _ = GEOD.fwd(lon0, lat0, math.degrees(math.atan2(step[0], step[1])), dist)
        t0 += step[2]
        if dist < 1e-4:
            break
    return lon0, lat0, t0, np.linalg.inv(np.array(m)).tolist()


def weather_information(
    picks: Picks, sol: Solutions, c: FloatArray, wind_e: FloatArray, wind_n: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each located event's information about a shared (sound speed, wind east, wind north) correction.

    With the event's own origin profiled out (the Schur complement of its 3×3 block), what is left
    of the arrivals' misfit says how the sound speed and wind should change: returns, per event,
    the 3×3 information matrix, the 3-vector right-hand side and the 3×3 gain (how its origin moves
    per unit weather correction). Summed over many events of one
    hour they calibrate the weather, which met reports alone give to ±0.2 m/s — enough to move an
    origin metres.
    """
    ev = picks.event
    n = len(sol.lon)
    use = sol.used & (sol.status[ev] == OK)
    w = np.where(use, 1.0 / np.maximum(picks.sigma_s, 1e-6) ** 2, 0.0)
    wb = np.where(
        use & np.isfinite(picks.bearing_deg),
        1.0 / np.radians(np.nan_to_num(picks.bearing_sigma_deg, nan=180.0)) ** 2,
        0.0,
    )
    plane = _plane(picks, sol.lon, sol.lat)
    zero = np.zeros(n)
    mat, _, res_t, _, _ = _system(picks, plane, np.arange(len(ev)), n, zero, zero, sol.t0, c, wind_e, wind_n, w, wb)
    r = np.maximum(np.hypot(plane.ex, plane.ny), 1.0)
    ux, uy = plane.ex / r, plane.ny / r
    _, gx, gy = _jacobian(r, ux, uy, c[ev], wind_e[ev], wind_n[ev])
    ce = c[ev] + wind_e[ev] * ux + wind_n[ev] * uy
    k = np.stack([-r / ce**2, -r * ux / ce**2, -r * uy / ce**2], -1)  # ∂t/∂(c, we, wn)
    jp = np.stack([gx, gy, np.ones_like(gx)], -1)
    n_pt = np.zeros((n, 3, 3))
    n_tt = np.zeros((n, 3, 3))
    b_t = np.zeros((n, 3))
    for i in range(3):
        b_t[:, i] = np.bincount(ev, weights=w * k[:, i] * res_t, minlength=n)
        for j in range(3):
            n_pt[:, i, j] = np.bincount(ev, weights=w * jp[:, i] * k[:, j], minlength=n)
            n_tt[:, i, j] = np.bincount(ev, weights=w * k[:, i] * k[:, j], minlength=n)
    ok = (sol.status == OK) & np.isfinite(sol.cov).all(axis=(1, 2))
    info = np.zeros((n, 3, 3))
    rhs = np.zeros((n, 3))
    gain = np.zeros((n, 3, 3))
    if ok.any():
        inv = np.linalg.inv(mat[ok])
        info[ok] = n_tt[ok] - np.einsum("kij,kil,klm->kjm", n_pt[ok], inv, n_pt[ok])
        # At the solution the origin's own gradient is zero, so the right-hand side needs no correction.
        rhs[ok] = b_t[ok]
        # How the origin moves per unit weather error: its covariance grows by G Σ Gᵀ.
        gain[ok] = np.einsum("kij,kjl->kil", inv, n_pt[ok])
    return info, rhs, gain
