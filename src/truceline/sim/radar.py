"""Counter-battery radars: tracks of shells, rockets and mortar bombs back to where they came from.

Each radar faces the line (±60°) and tracks projectiles within a class-dependent range with
probability :data:`P_TRACK`; direct-fire tank rounds are not tracked. The extrapolated origin
has a range error of 15 m + 0.2 % of range along the line of sight and a cross-range error of
10 m + 3 mrad × range across it (the reported 95 % ellipse says so), the predicted impact twice
that. Some allies re-report a partner's track (same measurement, another participant): the
duplicates cross-nation deduplication must catch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyproj
from numpy.typing import NDArray

from truceline.sim.fire import Shots
from truceline.sim.ndjson import DayOutput, iso, loc, markings
from truceline.sim.world import FIRE_CLASSES, World, lonlat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

P_TRACK = 0.85
HALF_ARC_DEG = 60.0
MAX_RANGE_M = {
    "mortar": 15e3,
    "artillery_lt100": 20e3,
    "artillery_ge100": 30e3,
    "mlrs": 40e3,
    "tank": 0.0,
    "heavy_mlrs_missile": 60e3,
}
PROJECTILE = {
    "mortar": "mortar_bomb",
    "artillery_lt100": "shell",
    "artillery_ge100": "shell",
    "mlrs": "rocket",
    "tank": "shell",
    "heavy_mlrs_missile": "missile",
}
_RANGE = np.array([MAX_RANGE_M[c] for c in FIRE_CLASSES])
_GEOD = pyproj.Geod(ellps="WGS84")
_K95 = 2.4477  # 95 % ellipse radius in standard deviations (chi-square, 2 dof)


def offset_lonlat(lon: FloatArray, lat: FloatArray, de: FloatArray, dn: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Move points by (east, north) metres on the WGS84 ellipsoid (exact to mm at a few km)."""
    az = np.degrees(np.arctan2(de, dn))
    lo, la, _ = _GEOD.fwd(lon, lat, az, np.hypot(de, dn))
    return np.asarray(lo), np.asarray(la)


@dataclass
class Radars:
    ids: list[str]
    operator: list[str]
    lon: FloatArray
    lat: FloatArray
    x: FloatArray
    y: FloatArray
    facing_deg: FloatArray  # azimuth the radar looks along
    relay_to: list[str | None]


def layout_radars(world: World, rng: np.random.Generator) -> Radars:
    frame, cfg = world.frame, world.cfg
    every = max(1, round(cfg.radar_spacing_km * 1000.0 / 500.0))
    ids: list[str] = []
    ops: list[str] = []
    relay: list[str | None] = []
    xs, ys, fx, fy = [], [], [], []
    for sector in world.fire_sectors:
        idx = frame.samples(frame.sector_ids[int(sector)])
        for side, pool in ((0, ("UKR", "USA")), (1, ("RUS",))):
            start = int(rng.integers(0, max(1, min(every, len(idx)))))
            ok = idx[start::every]
            ok = ok[frame.depth[side, ok] >= 12_000.0]
            x, y = frame.place(ok, side, rng.uniform(8_000.0, 12_000.0, len(ok)))
            for k in range(len(ok)):
                op = pool[(len(ids) + k) % len(pool)]
                ids.append(f"cbr-{op}-{len(ids):03d}")
                ops.append(op)
                relay.append("GBR" if op == "USA" else None)
            xs.append(x)
            ys.append(y)
            # Facing: from the radar back toward the line (the opposite of its own side's normal).
            fx.append(frame.x[ok] - x)
            fy.append(frame.y[ok] - y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    lon, lat = lonlat(x, y)
    tx, ty = lonlat(np.concatenate(fx) + x, np.concatenate(fy) + y)
    facing, _, _ = _GEOD.inv(lon, lat, tx, ty)
    return Radars(ids, ops, lon, lat, x, y, np.asarray(facing) % 360.0, relay)


def emit(
    world: World,
    radars: Radars,
    shots: Shots,
    sel: IntArray,
    day: int,
    base_us: int,
    out: DayOutput,
    rng: np.random.Generator,
    fp_refs: dict[int, list[str]],
) -> None:
    """Track the day's shots ``sel``; write tracks (and allies' relays); link them to shots."""
    if len(sel) == 0 or not radars.ids:
        return
    n_r = len(radars.ids)
    up = rng.random(n_r) > 0.1  # radars radiate in shifts: a tenth of them are dark each day
    shot = np.repeat(sel, n_r)
    r = np.tile(np.arange(n_r), len(sel))
    close = np.hypot(shots.ox[shot] - radars.x[r], shots.oy[shot] - radars.y[r]) <= _RANGE[shots.cls[shot]]
    shot, r = shot[close & up[r]], r[close & up[r]]
    olon, olat = lonlat(shots.ox[shot], shots.oy[shot])
    az, _, rng_m = _GEOD.inv(radars.lon[r], radars.lat[r], olon, olat)
    az, rng_m = np.asarray(az), np.asarray(rng_m)
    off = (az - radars.facing_deg[r] + 180.0) % 360.0 - 180.0
    keep = (np.abs(off) <= HALF_ARC_DEG) & (rng.random(len(shot)) < P_TRACK)
    shot, r, az, rng_m, olon, olat = shot[keep], r[keep], az[keep], rng_m[keep], olon[keep], olat[keep]
    if len(shot) == 0:
        return
    n = len(shot)
    sr = 15.0 + 0.002 * rng_m
    sc = 10.0 + 0.003 * rng_m
    er, ec = rng.normal(0, 1, n) * sr, rng.normal(0, 1, n) * sc
    a = np.radians(az)
    de = er * np.sin(a) + ec * np.cos(a)
    dn = er * np.cos(a) - ec * np.sin(a)
    elon, elat = offset_lonlat(olon, olat, de, dn)
    ilon, ilat = lonlat(shots.ix[shot], shots.iy[shot])
    plon, plat = offset_lonlat(ilon, ilat, rng.normal(0, 1, n) * 2 * sr, rng.normal(0, 1, n) * 2 * sc)
    true_cls = shots.cls[shot]
    confused = rng.random(n) > 0.8
    guess = np.where(confused, rng.integers(0, len(FIRE_CLASSES), n), true_cls)
    t_us = base_us + np.round((shots.t_h[shot] * 3600.0 + rng.normal(0, 0.3, n)) * 1e6).astype(np.int64)
    stamps = iso(t_us, "ms").tolist()
    order = np.lexsort((t_us, r))
    seq = np.zeros(n, dtype=np.intp)
    seq[order] = np.arange(n) - np.repeat(*_firsts(r[order]))
    date = str(np.datetime64(base_us + day * 86_400_000_000, "us").astype("datetime64[D]")).replace("-", "")
    lines, refs, events, times = [], [], [], []
    for k in range(n):
        rid, op = radars.ids[r[k]], radars.operator[r[k]]
        orient = (az[k] + 90.0) % 180.0  # the major axis is cross-range
        body = {
            "time": stamps[k],
            "time_error_s": 0.5,
            "location": loc(radars.lon[r[k]], radars.lat[r[k]], 10.0),
            "origin": loc(
                elon[k],
                elat[k],
                _K95 * max(sc[k], sr[k]),
                _K95 * min(sc[k], sr[k]),
                orient if sc[k] >= sr[k] else az[k],
            ),
            "impact": loc(plon[k], plat[k], _K95 * 2 * max(sc[k], sr[k]), _K95 * 2 * min(sc[k], sr[k]), orient),
            "weapon_class_guess": FIRE_CLASSES[int(guess[k])],
            "projectile": PROJECTILE[FIRE_CLASSES[int(guess[k])]],
        }
        key = f"{date}-{seq[k]:05d}"
        reporters = [(op, rid, "A" if op == "USA" else "B" if op == "UKR" else "C")]
        relay = radars.relay_to[r[k]]
        if relay is not None and rng.random() < world.cfg.relay_share:
            reporters.append((relay, f"relay-{rid}", "B"))
        for participant, source, reliability in reporters:
            rec = {
                "kind": "radar_track",
                "key": key,
                "participant": participant,
                "source": source,
                "reliability": reliability,
                "credibility": 2,
                **body,
                "markings": markings(participant),
            }
            lines.append(json.dumps(rec, separators=(",", ":")))
            ref = f'["{participant}","{source}","{key}"]'
            refs.append(ref)
            events.append(int(shot[k]))
            times.append(int(t_us[k]))
            fp = int(shots.position[shot[k]])
            if fp >= 0:
                fp_refs.setdefault(fp, []).append(ref)
    out.add_lines("radar_track", np.array(times, dtype=np.int64), lines)
    out.link(events, refs)


def _firsts(group: IntArray) -> tuple[IntArray, IntArray]:
    """(start index of each run of equal values, run lengths) — for numbering within groups."""
    first = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    return first, np.diff(np.r_[first, len(group)])
