"""Acoustic localisation: Truceline's vectorised Gauss–Newton beside per-event ``scipy.optimize.least_squares``.

Targets (issue 4): RMSE ≤ 1.0× the baseline's on the same arrivals, and throughput ≥ 5×.

The events are synthetic and known exactly: ``--events`` blasts, each heard by 5–15 arrays
scattered within 20 km, timing errors of 5, 10 or 20 ms (the simulator's), a 5 m/s wind and a
known sound speed. Both contenders get the same arrival times (no bearings, so both use the
same information), the same wind and sound speed, and the same starting point (the mean array
position). The baseline is the plain way: one ``least_squares`` call per event on the same model
(``t = t0 + r / (c + w·u)``) in a local azimuthal-equidistant plane, weights 1/σ. The error is
compared with the Cramér–Rao bound of each geometry as well. The contenders are interleaved over
``--rounds`` and the best CPU time of each is kept (the wall time is printed too; the machines are
shared, so wall time mostly measures the neighbours). Both are scored on the events Truceline
locates: it refuses, with a reason, events whose fit is improbable or whose geometry fixes no
point (the count is printed); the baseline has no such test.

    python benchmarks/localize.py [--events 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyproj
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result
from truceline.fuse import Picks, locate

try:
    from scipy.optimize import least_squares
except ImportError:  # pragma: no cover - scipy is a runtime dependency, but say so clearly
    least_squares = None

GEOD = pyproj.Geod(ellps="WGS84")
C = 340.0
WIND = (5.0, 0.0)


def make_events(k: int, seed: int = 11) -> tuple[Picks, NDArray[np.float64], NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    n_per = rng.integers(5, 16, k)
    ev = np.repeat(np.arange(k), n_per)
    m = len(ev)
    lon0 = rng.uniform(35.0, 38.5, k)
    lat0 = rng.uniform(47.0, 49.5, k)
    slon, slat, _ = GEOD.fwd(lon0[ev], lat0[ev], rng.uniform(0, 360, m), rng.uniform(1_000, 20_000, m))
    src_lon, src_lat, _ = GEOD.fwd(lon0, lat0, rng.uniform(0, 360, k), rng.uniform(0, 4_000, k))
    az, _, d = GEOD.inv(src_lon[ev], src_lat[ev], slon, slat)
    a = np.radians(np.asarray(az))
    sigma = rng.choice(np.array([0.005, 0.01, 0.02]), m)
    t0 = rng.uniform(0, 86_400, k)
    t = t0[ev] + np.asarray(d) / (C + WIND[0] * np.sin(a) + WIND[1] * np.cos(a)) + rng.normal(0, 1, m) * sigma
    nan = np.full(m, np.nan)
    picks = Picks(ev, np.asarray(slon), np.asarray(slat), t, sigma, nan, nan)
    return picks, np.column_stack([src_lon, src_lat]), t0


def truceline(
    picks: Picks, k: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
    cnt = np.bincount(picks.event, minlength=k)
    lon0 = np.bincount(picks.event, picks.lon, k) / cnt
    lat0 = np.bincount(picks.event, picks.lat, k) / cnt
    sol = locate(picks, k, np.full(k, C), np.full(k, WIND[0]), np.full(k, WIND[1]), lon0, lat0)
    return sol.lon, sol.lat, sol.cov, sol.status


def _residual(
    p: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.float64],
    sig: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The same model as Truceline's: t = t0 + r / (c + w·u), in σ units."""
    dx, dy = x - p[0], y - p[1]
    r = np.hypot(dx, dy)
    ce = C + (WIND[0] * dx + WIND[1] * dy) / r
    return np.asarray((t - p[2] - r / ce) / sig)


def baseline(picks: Picks, k: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    assert least_squares is not None
    out_lon = np.zeros(k)
    out_lat = np.zeros(k)
    starts = np.r_[0, np.flatnonzero(np.diff(picks.event)) + 1, len(picks.event)]
    for e in range(k):
        s = slice(starts[e], starts[e + 1])
        lon, lat, t, sig = picks.lon[s], picks.lat[s], picks.time_s[s], picks.sigma_s[s]
        c_lon, c_lat = float(lon.mean()), float(lat.mean())
        az, _, d = GEOD.inv(np.full(len(lon), c_lon), np.full(len(lon), c_lat), lon, lat)
        a = np.radians(np.asarray(az))
        x, y = np.asarray(d) * np.sin(a), np.asarray(d) * np.cos(a)

        p0 = np.array([0.0, 0.0, float(np.median(t - np.hypot(x, y) / C))])
        fit = least_squares(_residual, p0, args=(x, y, t, sig))
        lo, la, _ = GEOD.fwd(c_lon, c_lat, np.degrees(np.arctan2(fit.x[0], fit.x[1])), np.hypot(fit.x[0], fit.x[1]))
        out_lon[e], out_lat[e] = lo, la
    return out_lon, out_lat


def rmse(lon: NDArray[np.float64], lat: NDArray[np.float64], truth: NDArray[np.float64]) -> float:
    _, _, d = GEOD.inv(lon, lat, truth[:, 0], truth[:, 1])
    return float(np.sqrt(np.mean(np.asarray(d) ** 2)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if least_squares is None:
        print("scipy is not installed: the baseline cannot run; skipping")
        return
    picks, truth, _ = make_events(args.events)
    k = args.events
    best_t, best_b, wall_t, wall_b = (float("inf"),) * 4
    for _ in range(args.rounds):
        t, w = time.process_time(), time.perf_counter()
        lon, lat, cov, status = truceline(picks, k)
        best_t = min(best_t, time.process_time() - t)
        wall_t = min(wall_t, time.perf_counter() - w)
        t, w = time.process_time(), time.perf_counter()
        blon, blat = baseline(picks, k)
        best_b = min(best_b, time.process_time() - t)
        wall_b = min(wall_b, time.perf_counter() - w)
    # Both are scored on the events Truceline locates (it refuses those whose fit is improbable or
    # whose geometry fixes no point; the baseline has no such test), the same set for both.
    ok = (status == 0) & np.isfinite(cov[:, 0, 0])
    r_t, r_b = rmse(lon[ok], lat[ok], truth[ok]), rmse(blon[ok], blat[ok], truth[ok])
    crlb = float(np.sqrt(np.mean(cov[ok, 0, 0] + cov[ok, 1, 1])))
    _, _, d = GEOD.inv(lon[ok], lat[ok], truth[ok, 0], truth[ok, 1])
    az, _, _ = GEOD.inv(lon[ok], lat[ok], truth[ok, 0], truth[ok, 1])
    v = np.stack([np.asarray(d) * np.sin(np.radians(az)), np.asarray(d) * np.cos(np.radians(az))], -1)
    m2 = np.einsum("ki,kij,kj->k", v, np.linalg.inv(cov[ok, :2, :2]), v)
    coverage = float(np.mean(m2 <= 5.991))
    print(f"{k} events, {len(picks)} arrivals; best of {args.rounds} rounds (CPU time: the machine is shared)")
    print(f"Truceline located {int(ok.sum())} events and refused {int(k - ok.sum())} with a reason")
    print(f"{'':28}{'truceline':>14}{'least_squares':>16}")
    print(f"{'events per CPU second':28}{k / best_t:14,.0f}{k / best_b:16,.0f}")
    print(f"{'events per wall second':28}{k / wall_t:14,.0f}{k / wall_b:16,.0f}")
    print(f"{'RMSE (m)':28}{r_t:14.2f}{r_b:16.2f}")
    print(f"RMS sqrt(trace CRLB) {crlb:.2f} m; RMSE / CRLB {r_t / crlb:.3f}; 95 % ellipse coverage {coverage:.3f}")
    write_result(
        "localize",
        {
            "events": k,
            "arrivals": len(picks),
            "located": int(ok.sum()),
            "refused": int(k - ok.sum()),
            "truceline_events_per_cpu_s": round(k / best_t, 1),
            "baseline_events_per_cpu_s": round(k / best_b, 1),
            "truceline_events_per_wall_s": round(k / wall_t, 1),
            "baseline_events_per_wall_s": round(k / wall_b, 1),
            "truceline_rmse_m": round(r_t, 3),
            "baseline_rmse_m": round(r_b, 3),
            "rmse_ratio": round(r_t / r_b, 4),
            "rmse_over_crlb": round(r_t / crlb, 4),
            "ellipse95_coverage": round(coverage, 4),
            "ratio": round(best_b / best_t, 2),
            "ratio_meaning": "CPU throughput, truceline / per-event scipy least_squares (target >= 5)",
        },
    )


if __name__ == "__main__":
    main()
