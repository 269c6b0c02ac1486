"""A robust start for seeds whose first fit failed: a grid search of the consistent picks.

A seed cell collects the rays of every blast that crossed it in the same few seconds. At full
density two guns of one battery often fire within a second from a few hundred metres apart (a
doublet): their picks share the seed, least squares lands between the two, the fit is
inconsistent and the seed dies, both blasts' picks left to fragments or to nobody. And a seed of
one blast heard from one side only can slide kilometres along its poorly fixed direction into a
wrong minimum, where deletion-χ² then drops the very pick that would have held it.

Both are cured by looking for the origin the *most* picks agree on rather than the one that fits
all of them least badly: over a grid around the seed cell (coarse to fine) every pick implies an
origin time ``t - r / c``; with ``t0`` their median, the truncated misfit
``Σ min(z², Z2_MAX)`` of times (and bearings) is minimised. The picks that fit the best point
(``z² ≤`` :data:`Z2_MAX`, one per array) are the seed's; the others are released, so the second
pass seeds the other gun of a doublet from them. The locator then starts from the grid's best
point.

:func:`robust_start` is vectorised over seeds (padded to the largest seed of a batch);
:func:`robust_start_reference` is its plain twin for the tests.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from truceline.fuse._locate import Picks
from truceline.geo import metric_distance_m, to_lonlat, to_metric

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

FIRST_CELLS = 12
"""The first stage's grid has 2 × this + 1 points a side over ± the search radius."""
REFINE = 6
"""Each later stage spans ± 1.5 steps of the last around its best point, with steps this much finer."""
STAGES = 4
SEED_RADIUS_M = 6_000.0
"""Search radius around a seed cell: a blast heard from one side can sit kilometres down its rays."""
Z2_MAX = 25.0
"""Truncation of a pick's squared normalised misfit (5 σ): a pick beyond it only counts as missing.

High enough that a point where one more pick fits wins over one where a subset fits perfectly
(picks from arrays in a line toward the blast fit anywhere down that line)."""
Z2_FIT = 16.0
"""A pick fits the best point when its squared normalised misfit is within this (4 σ)."""
MODEL_SIGMA_S = 0.03
"""Timing allowance for the uncalibrated weather at seed time (a 0.5 m/s wind error over 20 s)."""
BATCH_PICKS = 400_000
"""Pad-and-broadcast in batches of about this many (seed × grid point × pick) elements per stage step."""


def _convergence(lon: FloatArray, lat: FloatArray) -> FloatArray:
    x0, y0 = to_metric(lon, lat)
    x1, y1 = to_metric(lon, lat + 0.01)
    return np.asarray(np.arctan2(np.asarray(x1) - x0, np.asarray(y1) - y0))


def _loss(
    gx: FloatArray,
    gy: FloatArray,
    sx: FloatArray,
    sy: FloatArray,
    scale: FloatArray,
    t: FloatArray,
    sig_t: FloatArray,
    bs: FloatArray,
    bc: FloatArray,
    has_b: BoolArray,
    sig_b: FloatArray,
    valid: BoolArray,
    c: FloatArray,
    we: FloatArray,
    wn: FloatArray,
    grid_sigma_s: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Truncated misfit per (seed, grid point), the median origin time, and each pick's z².

    Shapes: grid ``gx, gy`` (E, G); picks ``sx … valid`` (E, 1, K); weather ``c, we, wn`` (E, 1, 1).
    ``bs, bc`` are the sine and cosine of each pick's grid bearing (``has_b`` where reported).
    """
    dx = sx - gx[:, :, None]
    dy = sy - gy[:, :, None]
    rp = np.maximum(np.hypot(dx, dy), 1.0)
    ux, uy = dx / rp, dy / rp
    travel = rp * scale / (c + we * ux + wn * uy)
    implied = np.where(valid, t - travel, np.nan)
    s = np.sort(implied, axis=2)  # NaN last
    n = valid.sum(axis=2)  # (E, 1)
    lo = np.maximum((n - 1) // 2, 0)
    hi = np.maximum(n // 2, 0)
    shape = (*s.shape[:2], 1)
    t0 = 0.5 * (
        np.take_along_axis(s, np.broadcast_to(lo[:, :, None], shape), 2)
        + np.take_along_axis(s, np.broadcast_to(hi[:, :, None], shape), 2)
    )
    zt2 = (implied - t0) ** 2 / (sig_t**2 + MODEL_SIGMA_S**2 + grid_sigma_s[:, None, None] ** 2)
    # Bearing misfit from the sine of the angle between the reported bearing (unit vector
    # ``bs, bc``) and the direction from the sensor toward the grid point (-u): exact enough
    # within the truncation, and a bearing pointing away counts as a full miss.
    cross = bs * -uy - bc * -ux
    dot = bs * -ux + bc * -uy
    zb2 = np.where(has_b, np.where(dot > 0, cross * cross, 1.0) / sig_b**2, 0.0)
    z2 = np.where(valid, zt2 + zb2, np.inf)
    loss = np.where(valid, np.minimum(z2, Z2_MAX), 0.0).sum(axis=2)
    return loss, t0[:, :, 0], z2


def robust_start(
    picks: Picks,
    events: IntArray,
    lon: FloatArray,
    lat: FloatArray,
    c: FloatArray,
    we: FloatArray,
    wn: FloatArray,
    radius_m: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """For the ``events`` (indices into ``lon, lat, c, we, wn``): the best grid point and its picks.

    ``radius_m`` (per event of ``events``) is the half-width of the first, coarsest grid.

    Returns per event (lon, lat, t0) of the grid's best point and, per pick of ``picks``, whether
    it fits that point (False for picks of other events).
    """
    m = len(events)
    keep = np.zeros(len(picks), dtype=bool)
    out_lon, out_lat, out_t0 = lon[events].astype(np.float64), lat[events].astype(np.float64), np.full(m, np.nan)
    if m == 0:
        return out_lon, out_lat, out_t0, keep
    # Seeds in order of their number of picks, so each batch pads to about its own size.
    n_of = np.bincount(picks.event, minlength=len(lon))[events]
    perm = np.argsort(n_of, kind="stable")
    events = events[perm]
    local = np.full(len(lon), -1, dtype=np.intp)
    local[events] = np.arange(m)
    sel = np.flatnonzero(local[picks.event] >= 0)
    sel = sel[np.argsort(local[picks.event[sel]], kind="stable")]
    le = local[picks.event[sel]]
    counts = np.bincount(le, minlength=m)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    slot = np.arange(len(sel)) - starts[le]
    k_max = int(counts.max()) if len(counts) else 0
    if k_max == 0:
        return out_lon, out_lat, out_t0, keep
    ex, ey = to_metric(lon[events].astype(np.float64), lat[events].astype(np.float64))
    psx, psy = to_metric(picks.lon[sel], picks.lat[sel])
    gamma = _convergence(picks.lon[sel], picks.lat[sel])
    # Ground distance over plane distance from the seed centre: the projection's local scale.
    rp0 = np.maximum(np.hypot(psx - ex[le], psy - ey[le]), 1.0)
    scale = np.maximum(metric_distance_m(ex[le], ey[le], psx, psy), 1.0) / rp0

    def pad(values: FloatArray, fill: float) -> FloatArray:
        a = np.full((m, k_max), fill)
        a[le, slot] = values
        return a

    sx, sy, sc = pad(psx, 0.0), pad(psy, 0.0), pad(scale, 1.0)
    t = pad(picks.time_s[sel], 0.0)
    sig_t = pad(picks.sigma_s[sel], 1.0)
    brg = pad(np.radians(picks.bearing_deg[sel]) + gamma, np.nan)
    has_b = np.isfinite(brg)
    bs, bc = np.sin(np.nan_to_num(brg)), np.cos(np.nan_to_num(brg))
    sig_b = pad(np.radians(np.nan_to_num(picks.bearing_sigma_deg[sel], nan=180.0)), 1.0)
    valid = np.zeros((m, k_max), dtype=bool)
    valid[le, slot] = True
    cx, cy = ex.copy(), ey.copy()
    ce, wee, wne = c[events], we[events], wn[events]
    radius_m = np.asarray(radius_m, dtype=np.float64)[perm]
    best_t0 = np.full(m, np.nan)
    z2_best = np.full((m, k_max), np.inf)
    n_of_sorted = n_of[perm]
    step = radius_m / FIRST_CELLS
    cells = FIRST_CELLS
    for _ in range(STAGES):
        unit = np.arange(-cells, cells + 1, dtype=np.float64)
        ux, uy = (v.ravel() for v in np.meshgrid(unit, unit))
        g = len(ux)
        b0 = 0
        while b0 < m:
            # Rows of this batch: as many seeds as fit the element budget at the largest one's size.
            k_b = int(n_of_sorted[min(m - 1, b0 + max(1, BATCH_PICKS // max(g * int(n_of_sorted[b0]), 1)) - 1)])
            rows = max(1, BATCH_PICKS // max(g * k_b, 1))
            b1 = min(m, b0 + rows)
            k_b = int(n_of_sorted[b1 - 1])
            b = slice(b0, b1)
            gx = cx[b][:, None] + step[b][:, None] * ux[None, :]
            gy = cy[b][:, None] + step[b][:, None] * uy[None, :]
            kk = slice(0, k_b)
            loss, t0, z2 = _loss(
                gx, gy, sx[b, kk][:, None, :], sy[b, kk][:, None, :], sc[b, kk][:, None, :], t[b, kk][:, None, :],
                sig_t[b, kk][:, None, :], bs[b, kk][:, None, :], bc[b, kk][:, None, :], has_b[b, kk][:, None, :],
                sig_b[b, kk][:, None, :], valid[b, kk][:, None, :],
                ce[b][:, None, None], wee[b][:, None, None], wne[b][:, None, None],
                step[b] / 2 / 340.0,
            )  # fmt: skip
            k = np.argmin(loss, axis=1)
            r = np.arange(len(k))
            cx[b], cy[b] = gx[r, k], gy[r, k]
            best_t0[b] = t0[r, k]
            z2_best[b, kk] = z2[r, k]
            b0 = b1
        # The next stage: ± 1.5 of these steps around the best point, REFINE times finer.
        cells = int(1.5 * REFINE)
        step = step / REFINE
    lon_b, lat_b = to_lonlat(cx, cy)
    fits = valid & (z2_best <= Z2_FIT)
    # One pick per array: the best-fitting one.
    keep_local = fits[le, slot]
    zsel = z2_best[le, slot]
    order = np.lexsort((zsel, picks.lon[sel], picks.lat[sel], le))
    key_same = (np.diff(le[order]) == 0) & (np.diff(picks.lon[sel][order]) == 0) & (np.diff(picks.lat[sel][order]) == 0)
    dup = np.r_[False, key_same]
    keep_local[order[dup]] = False
    keep[sel] = keep_local
    inv = np.empty_like(perm)
    inv[perm] = np.arange(m)
    return np.asarray(lon_b)[inv], np.asarray(lat_b)[inv], best_t0[inv], keep


def robust_start_reference(
    sensor_xy: list[tuple[float, float]],
    scale: list[float],
    time_s: list[float],
    sigma_s: list[float],
    bearing_grid_rad: list[float],
    bearing_sigma_rad: list[float],
    centre: tuple[float, float],
    c: float,
    we: float,
    wn: float,
    radius_m: float,
) -> tuple[float, float, float]:
    """One seed by plain loops: the (x, y, t0) of :func:`robust_start`'s search, in theatre metres."""
    cx, cy = centre
    t_best = math.nan
    step = radius_m / FIRST_CELLS
    cells = FIRST_CELLS
    for _ in range(STAGES):
        grid_sigma = step / 2 / 340.0
        best: tuple[float, float, float, float] | None = None
        for j in range(-cells, cells + 1):  # meshgrid order: y outer, x inner
            for i in range(-cells, cells + 1):
                gx, gy = cx + i * step, cy + j * step
                implied = []
                geo = []
                for (sx, sy), k, t in zip(sensor_xy, scale, time_s, strict=True):
                    dx, dy = sx - gx, sy - gy
                    rp = max(math.hypot(dx, dy), 1.0)
                    ux, uy = dx / rp, dy / rp
                    implied.append(t - rp * k / (c + we * ux + wn * uy))
                    geo.append(math.atan2(-ux, -uy))
                s = sorted(implied)
                t0 = 0.5 * (s[(len(s) - 1) // 2] + s[len(s) // 2])
                loss = 0.0
                for ti, st, b, sb, beta in zip(implied, sigma_s, bearing_grid_rad, bearing_sigma_rad, geo, strict=True):
                    z2 = (ti - t0) ** 2 / (st**2 + MODEL_SIGMA_S**2 + grid_sigma**2)
                    if math.isfinite(b):
                        d = b - beta
                        z2 += (math.sin(d) ** 2 if math.cos(d) > 0 else 1.0) / sb**2
                    loss += min(z2, Z2_MAX)
                if best is None or loss < best[0]:
                    best = (loss, gx, gy, t0)
        assert best is not None
        _, cx, cy, t_best = best
        cells = int(1.5 * REFINE)
        step = step / REFINE
    return cx, cy, t_best
