"""Daily imagery passes: what a satellite sees through the clouds, and what it mistakes.

Each pass covers a swath of :data:`SWATH_RADIUS_M` around a point on the line in the morning.
Cloud cover is drawn per pass; above 80 % nothing is usable. An object that is there is found
with probability ``0.9 × (1 - cloud) × (1 - camouflage)``; its class is right four times in
five, otherwise a look-alike (a tank for a self-propelled gun, a truck for an armoured vehicle);
the count is partial; the position carries ~8 m of geolocation error. Fresh craters from the
night's fire are found too, tying imagery to fire events.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from truceline.sim._truthlog import TruthLog
from truceline.sim.fire import Shots
from truceline.sim.ndjson import DayOutput, loc
from truceline.sim.world import IMAGERY_CLASS, World, lonlat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

SWATH_RADIUS_M = 50_000.0
PROVIDERS = (("USA", "sat-USA-1"), ("FRA", "sat-FRA-1"), ("DEU", "sat-DEU-1"))
CONFUSION = {
    "artillery": ("mlrs", "tank"),
    "mlrs": ("artillery", "truck"),
    "tank": ("armoured_vehicle", "artillery"),
    "armoured_vehicle": ("tank", "truck"),
    "truck": ("armoured_vehicle", "other"),
    "mortar": ("other", "truck"),
    "heavy_mlrs_missile": ("mlrs", "truck"),
    "air_defence": ("mlrs", "truck"),
    "fuel_depot": ("ammunition_depot", "other"),
    "ammunition_depot": ("fuel_depot", "other"),
    "field_hospital": ("other", "truck"),
    "bridging_equipment": ("engineering_vehicle", "truck"),
}
_CRATER_CLASSES = (2, 3, 5)  # artillery ≥ 100 mm, MLRS, heavy MLRS: craters big enough to see


def passes(
    world: World,
    shots: Shots,
    sel: IntArray,
    day: int,
    base_us: int,
    out: DayOutput,
    rng: np.random.Generator,
    log: TruthLog,
) -> None:
    cfg, frame = world.cfg, world.frame
    objs = world.objects
    oa = objs.arrays()
    progress = 0.0 if cfg.onset is None else float(np.clip((day - cfg.onset + 1) / cfg.buildup_days, 0, 1))
    contact = np.flatnonzero(np.isin(frame.sector, world.fire_sectors))
    for p in range(cfg.imagery_passes_per_day):
        participant, source = PROVIDERS[(day + p) % len(PROVIDERS)]
        pass_id = f"{source}-{day:03d}-{p}"
        if world.buildup_sector is not None and p == 0 and rng.random() < 0.3 + 0.6 * progress:
            centre = int(rng.choice(frame.samples(frame.sector_ids[world.buildup_sector])))
        else:
            centre = int(rng.choice(contact))
        cx, cy = frame.x[centre], frame.y[centre]
        t_h = day * 24.0 + float(rng.uniform(7.5, 10.5))
        cloud = float(np.clip(rng.beta(1.4, 1.0), 0.0, 1.0))  # autumn over Ukraine: mostly cloudy
        log.imagery_passes.append(
            {
                "pass_id": pass_id,
                "participant": participant,
                "time_h": t_h,
                "cloud": round(cloud, 3),
                "centre": [round(float(v[0]), 5) for v in lonlat(np.array([cx]), np.array([cy]))],
                "usable": cloud <= 0.8,
            }
        )
        if cloud > 0.8:
            continue
        t_us = base_us + int(t_h * 3600e6)
        present = (oa["t0"] <= t_h) & (oa["t1"] > t_h) & (np.hypot(oa["x"] - cx, oa["y"] - cy) < SWATH_RADIUS_M)
        rows = np.flatnonzero(present)
        seen = rows[rng.random(len(rows)) < 0.9 * (1.0 - cloud) * (1.0 - oa["camouflage"][rows])]
        for n, row in enumerate(seen.tolist()):
            true = IMAGERY_CLASS.get(objs.cls[row], objs.cls[row])
            right = rng.random() < 0.8
            cls = true if right else str(rng.choice(CONFUSION.get(true, ("other",))))
            count = max(1, int(rng.binomial(int(oa["count"][row]), 0.85)))
            lon, lat = lonlat(oa["x"][row : row + 1] + rng.normal(0, 8), oa["y"][row : row + 1] + rng.normal(0, 8))
            ref = out.record(
                "imagery_detection",
                f"{pass_id}-{n:04d}",
                participant,
                source,
                t_us,
                loc(float(lon[0]), float(lat[0]), 20.0),
                tlp="amber",
                reliability="A",
                credibility=2,
                time_error_s=1.0,
                object_class=cls,
                count=count,
                class_confidence=round(float(rng.uniform(0.75, 0.97) if right else rng.uniform(0.5, 0.8)), 2),
                pass_id=pass_id,
                footprint_m2=float(60 * count),
                cloud_cover=round(cloud, 2),
            )
            log.saw(row, ref)
        # Craters of the night's heavy fire inside the swath.
        s = sel[(shots.t_h[sel] < t_h) & np.isin(shots.cls[sel], _CRATER_CLASSES)]
        s = s[np.hypot(shots.ix[s] - cx, shots.iy[s] - cy) < SWATH_RADIUS_M]
        s = s[rng.random(len(s)) < 0.25 * (1.0 - cloud)]
        if len(s):
            lon, lat = lonlat(shots.ix[s] + rng.normal(0, 8, len(s)), shots.iy[s] + rng.normal(0, 8, len(s)))
            refs = [
                out.record(
                    "imagery_detection",
                    f"{pass_id}-c{k:04d}",
                    participant,
                    source,
                    t_us,
                    loc(float(lon[k]), float(lat[k]), 20.0),
                    tlp="amber",
                    reliability="A",
                    credibility=2,
                    time_error_s=1.0,
                    object_class="crater",
                    count=1,
                    class_confidence=round(float(rng.uniform(0.7, 0.95)), 2),
                    pass_id=pass_id,
                    cloud_cover=round(cloud, 2),
                )
                for k in range(len(s))
            ]
            out.link(s, refs)
