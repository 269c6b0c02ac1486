"""Acoustic arrays along both sides of the line: what they hear, when, and with what error.

The model (recorded in the truth, read by nobody but ``evaluate``):

- **Detection** of a firing event at ground range ``r`` by an array that is up:
  ``P(r) = P_MAX / (1 + exp((r - R50[class]) / WIDTH))`` — louder weapons carry further.
- **Arrival time** = firing time + ``r / c_eff`` + GPS-timed pick error ``N(0, σ)`` (σ is the
  array's stated ``time_error_s``), with a small share of outlier picks (±0.05–0.5 s, a wrong
  phase picked). ``c_eff = 331.3 + 0.606 T`` (m/s, T in °C at the source) plus the wind's
  component along the path from source to array. Ranges and azimuths are WGS84 geodesics.
- **Bearing** (back-azimuth to the source) with ``N(0, 3°)`` error; SNR falling with range.
- **False picks**: Poisson per array-hour, uniform in time, random bearing, low SNR.
- **Outages**: each array goes down for 2–24 h with a small daily probability; one stretch of
  the line has no arrays at all (a coverage gap).

The Cramér–Rao bound of each event's origin for the arrays that detected it (time differences,
unknown origin time, stated timing errors) is computed here so ``evaluate`` can compare the
localisation error with what the geometry allows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pyproj
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.geo import metric_distance_m
from truceline.sim.fire import Shots
from truceline.sim.ndjson import DayOutput, bearing, iso, markings
from truceline.sim.world import FIRE_CLASSES, World, lonlat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

P_MAX = 0.95
WIDTH_M = 2_000.0
R50_M = {
    "mortar": 9_000.0,
    "artillery_lt100": 11_000.0,
    "artillery_ge100": 15_000.0,
    "mlrs": 17_000.0,
    "tank": 8_000.0,
    "heavy_mlrs_missile": 22_000.0,
}
LOUDNESS_DB = {
    "mortar": 0.0,
    "artillery_lt100": 2.0,
    "artillery_ge100": 6.0,
    "mlrs": 8.0,
    "tank": -2.0,
    "heavy_mlrs_missile": 10.0,
}
BEARING_ERROR_DEG = 3.0
SENSOR_LOCATION_ERROR_M = 3.0
_R50 = np.array([R50_M[c] for c in FIRE_CLASSES])
_LOUD = np.array([LOUDNESS_DB[c] for c in FIRE_CLASSES])
MAX_RANGE_M = float(_R50.max() + 8 * WIDTH_M)
_GEOD = pyproj.Geod(ellps="WGS84")
UKR_SIDE_OPERATORS = ("GBR", "FRA", "DEU", "POL", "MVM", "USA")
RUS_SIDE_OPERATORS = ("MVM", "USA", "TUR")


def detection_probability(range_m: FloatArray | float, weapon_class: str | IntArray) -> FloatArray:
    """P(an array that is up detects a firing event at ``range_m``) for the weapon class.

    >>> [round(float(p), 3) for p in detection_probability([0.0, 15_000.0, 30_000.0], "artillery_ge100")]
    [0.949, 0.475, 0.001]
    """
    r50 = R50_M[weapon_class] if isinstance(weapon_class, str) else _R50[weapon_class]
    z = np.clip((np.asarray(range_m, dtype=np.float64) - r50) / WIDTH_M, -50, 50)
    return np.asarray(P_MAX / (1.0 + np.exp(z)))


@dataclass
class Arrays:
    """The acoustic arrays: identity, operator, position, stated timing error, outages (hours)."""

    ids: list[str]
    operator: list[str]
    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray
    side: IntArray
    sigma_t: FloatArray
    outages: list[tuple[int, float, float]] = field(default_factory=list)
    prefix: list[str] = field(default_factory=list)

    def up(self, sensor: IntArray, t_h: FloatArray) -> NDArray[np.bool_]:
        """Which (array, time) pairs find the array working (outages are few; loop over them)."""
        ok = np.ones(len(sensor), dtype=bool)
        if len(t_h) == 0:
            return ok
        lo, hi = float(t_h.min()), float(t_h.max())
        for s, t0, t1 in self.outages:
            if t1 > lo and t0 <= hi:
                ok &= ~((sensor == s) & (t_h >= t0) & (t_h < t1))
        return ok


def layout_arrays(world: World, rng: np.random.Generator) -> Arrays:
    cfg, frame = world.cfg, world.frame
    every = max(1, round(cfg.acoustic_spacing_km * 1000.0 / 500.0))
    xs, ys, sides = [], [], []
    ops: list[str] = []
    gap_sector = world.fire_sectors[min(1, len(world.fire_sectors) - 1)]
    for sector in world.fire_sectors:
        idx = frame.samples(frame.sector_ids[int(sector)])[::every]
        if sector == gap_sector:  # a stretch with no arrays: a real gap in coverage
            idx = idx[int(cfg.acoustic_gap_km * 1000.0 / 500.0 / every) :]
        for side in (0, 1):
            ok = idx[frame.depth[side, idx] >= 3_000.0]
            offset = rng.uniform(3_000.0, 8_000.0, len(ok))
            x, y = frame.place(ok, side, np.minimum(offset, frame.depth[side, ok] * 0.9), rng.normal(0, 200, len(ok)))
            xs.append(x)
            ys.append(y)
            sides.append(np.full(len(ok), side, dtype=np.intp))
            pool = UKR_SIDE_OPERATORS if side == 0 else RUS_SIDE_OPERATORS
            ops.extend(pool[(len(ops) + k) % len(pool)] for k in range(len(ok)))
    x, y = np.concatenate(xs), np.concatenate(ys)
    lon, lat = lonlat(x, y)
    n = len(x)
    arrays = Arrays(
        ids=[f"ac-{k:04d}" for k in range(n)],
        operator=ops,
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        side=np.concatenate(sides),
        sigma_t=rng.choice(np.array(cfg.acoustic_timing_error_s), n),
    )
    for day in range(cfg.days):
        down = np.flatnonzero(rng.random(n) < cfg.sensor_outage_per_day)
        for s in down.tolist():
            t0 = day * 24.0 + float(rng.uniform(0, 24))
            arrays.outages.append((s, t0, t0 + float(rng.uniform(2, 24))))
    for k in range(n):
        op = arrays.operator[k]
        head = {
            "kind": "acoustic_arrival",
            "participant": op,
            "source": arrays.ids[k],
            "reliability": "B",
            "credibility": 2,
            "time_error_s": float(arrays.sigma_t[k]),
            "location": {
                "lat": round(float(lat[k]), 6),
                "lon": round(float(lon[k]), 6),
                "error": {
                    "semi_major_m": SENSOR_LOCATION_ERROR_M,
                    "semi_minor_m": SENSOR_LOCATION_ERROR_M,
                    "orientation_deg": 0.0,
                },
            },
            "markings": markings(op),
            "bearing_error_deg": BEARING_ERROR_DEG,
        }
        arrays.prefix.append(json.dumps(head, separators=(",", ":"))[:-1] + ',"key":"')
    return arrays


@dataclass
class Detections:
    shot: IntArray
    sensor: IntArray
    range_m: FloatArray
    arrival_s: FloatArray  # seconds from the run's start
    bearing: FloatArray
    snr: FloatArray
    outlier: NDArray[np.bool_]


def detect(world: World, arrays: Arrays, shots: Shots, sel: IntArray, rng: np.random.Generator) -> Detections:
    """Which arrays heard which of the shots ``sel``, and what they reported."""
    if len(sel) == 0:
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.intp)
        return Detections(zi, zi, z, z, z, z, np.zeros(0, dtype=bool))
    pts = np.column_stack([shots.ox[sel], shots.oy[sel]])
    pairs = cKDTree(pts).sparse_distance_matrix(
        cKDTree(np.column_stack([arrays.x, arrays.y])), MAX_RANGE_M, output_type="ndarray"
    )
    i = pairs["i"].astype(np.intp)
    j = pairs["j"].astype(np.intp)
    order = np.lexsort((j, i))  # the pair order must not depend on the tree's traversal
    i, j = i[order], j[order]
    shot = sel[i]
    t_h = shots.t_h[shot]
    cls = shots.cls[shot]
    # Ground range (the plane's scale corrected): the model is specified in metres on the ground.
    ground = metric_distance_m(shots.ox[shot], shots.oy[shot], arrays.x[j], arrays.y[j])
    keep = arrays.up(j, t_h) & (rng.random(len(i)) < detection_probability(ground, cls))
    # Exact WGS84 range and azimuths for the pairs that detect (planar ranges are 0.1 % off).
    shot, j, t_h, cls = shot[keep], j[keep], t_h[keep], cls[keep]
    olon, olat = lonlat(shots.ox[shot], shots.oy[shot])
    az_sensor, az_source, dist = _GEOD.inv(arrays.lon[j], arrays.lat[j], olon, olat)
    dist = np.asarray(dist)
    temp = world.temperature_c(t_h, shots.oy[shot])
    we, wn = world.wind(t_h)
    travel_dir = np.radians(np.asarray(az_source))  # at the source, pointing to the sensor
    c_eff = 331.3 + 0.606 * temp + we * np.sin(travel_dir) + wn * np.cos(travel_dir)
    n = len(shot)
    err = rng.normal(0.0, 1.0, n) * arrays.sigma_t[j]
    outlier = rng.random(n) < world.cfg.acoustic_outlier_share
    err = np.where(outlier, rng.choice([-1.0, 1.0], n) * rng.uniform(0.05, 0.5, n), err)
    arrival = t_h * 3600.0 + dist / c_eff + err
    snr = 38.0 + _LOUD[cls] - 20.0 * np.log10(np.maximum(dist, 100.0) / 1000.0) + rng.normal(0, 2.0, n)
    return Detections(
        shot=shot,
        sensor=j,
        range_m=dist,
        arrival_s=arrival,
        bearing=bearing(np.asarray(az_sensor) + rng.normal(0, BEARING_ERROR_DEG, n)),
        snr=np.clip(np.round(snr, 1), -50.0, 200.0),
        outlier=outlier,
    )


def crlb_m(world: World, arrays: Arrays, shots: Shots, det: Detections, n_shots: int) -> tuple[FloatArray, IntArray]:
    """sqrt(trace) of the origin's Cramér–Rao bound (m) from each shot's detecting arrays, and their count.

    Unknowns (x, y, t0); each arrival's Jacobian row is (u_x / c, u_y / c, 1) with u the unit vector
    from the array to the source, weighted by 1/σ². NaN where fewer than 3 arrays heard the shot.
    """
    dx = shots.ox[det.shot] - arrays.x[det.sensor]
    dy = shots.oy[det.shot] - arrays.y[det.sensor]
    r = np.maximum(np.hypot(dx, dy), 1.0)
    c = 331.3 + 0.606 * world.temperature_c(shots.t_h[det.shot], shots.oy[det.shot])
    gx, gy = dx / r / c, dy / r / c
    w = 1.0 / arrays.sigma_t[det.sensor] ** 2
    terms = (gx * gx, gx * gy, gx, gy * gy, gy, np.ones_like(gx))
    f = [np.bincount(det.shot, weights=w * v, minlength=n_shots) for v in terms]
    fim = np.stack(
        [np.stack([f[0], f[1], f[2]], -1), np.stack([f[1], f[3], f[4]], -1), np.stack([f[2], f[4], f[5]], -1)], -2
    )
    count = np.bincount(det.shot, minlength=n_shots).astype(np.intp)
    out = np.full(n_shots, np.nan)
    ok = count >= 3
    det_ok = np.abs(np.linalg.det(fim[ok])) > 1e-30
    idx = np.flatnonzero(ok)[det_ok]
    if len(idx):
        inv = np.linalg.inv(fim[idx])
        trace = inv[:, 0, 0] + inv[:, 1, 1]
        out[idx] = np.sqrt(np.where(trace > 0, trace, np.nan))
    return out, count


def emit(
    out: DayOutput,
    arrays: Arrays,
    det: Detections,
    day: int,
    base_us: int,
    rng: np.random.Generator,
    false_per_hour: float,
    hours: float = 24.0,
) -> list[str]:
    """Format the day's arrivals (and false picks) as NDJSON lines; link each to its shot (-1: false).

    Returns the references of the outlier picks (for the truth: a robust locator should drop them).
    """
    n_false = rng.poisson(false_per_hour * hours, len(arrays.ids))
    f_sensor = np.repeat(np.arange(len(arrays.ids)), n_false)
    f_time = (day * 24.0 + rng.random(len(f_sensor)) * hours) * 3600.0
    f_bearing = bearing(rng.uniform(0, 360, len(f_sensor)))
    f_snr = np.round(rng.uniform(1.0, 8.0, len(f_sensor)), 1)
    sensor = np.concatenate([det.sensor, f_sensor])
    arrival = np.concatenate([det.arrival_s, f_time])
    brg = np.concatenate([det.bearing, f_bearing])
    snr = np.concatenate([det.snr, f_snr])
    shot = np.concatenate([det.shot, np.full(len(f_sensor), -1, dtype=np.intp)])
    wild = np.concatenate([det.outlier, np.zeros(len(f_sensor), dtype=bool)])
    t_us = base_us + np.round(arrival * 1e6).astype(np.int64)
    order = np.lexsort((t_us, sensor))
    sensor, t_us, brg, snr, shot, wild = sensor[order], t_us[order], brg[order], snr[order], shot[order], wild[order]
    # Pick numbers run per array and day, in arrival order: what an array's log would show.
    first = np.r_[0, np.flatnonzero(np.diff(sensor)) + 1]
    counts = np.diff(np.r_[first, len(sensor)])
    pick = np.arange(len(sensor)) - np.repeat(first, counts)
    stamp = iso(t_us, "us").tolist()
    date = str(np.datetime64(base_us + day * 86_400_000_000, "us").astype("datetime64[D]")).replace("-", "")
    prefix = arrays.prefix
    ids = arrays.ids
    ops = arrays.operator
    lines = [
        f'{prefix[s]}{date}-{p:05d}","time":"{ts}","phase":"muzzle","bearing_deg":{b},"snr_db":{q}}}'
        for s, p, ts, b, q in zip(sensor.tolist(), pick.tolist(), stamp, brg.tolist(), snr.tolist(), strict=True)
    ]
    out.add_lines("acoustic_arrival", t_us, lines)
    refs = [f'["{ops[s]}","{ids[s]}","{date}-{p:05d}"]' for s, p in zip(sensor.tolist(), pick.tolist(), strict=True)]
    out.link(shot, refs)
    return [refs[i] for i in np.flatnonzero(wild).tolist()]
