"""Air and sea tracks: a few restricted-zone incursions among permitted traffic.

An incursion flies (or sails) from well behind its own side into a restricted zone and back;
surveillance reports a plot every 30 s (air) or 5 min (sea), and an ally's sensor reports the
same track with its own track number — the same event from two participants. Exempt
participants' craft and civilian traffic inside the zones are not violations, so a checker
that flags everything military in a zone is caught out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.sim._frame import PARTIES
from truceline.sim._truthlog import TruthLog
from truceline.sim.ndjson import DayOutput, loc
from truceline.sim.radar import offset_lonlat
from truceline.sim.world import World, lonlat

FloatArray = NDArray[np.float64]


def _zone(world: World, zone_id: str) -> Any:
    for z in world.ag.restricted_zones:
        if z.id == zone_id:
            return z
    return None


def _emit_track(
    world: World,
    out: DayOutput,
    rng: np.random.Generator,
    log: TruthLog,
    *,
    kind: str,
    zone: Any,
    t0_h: float,
    lon: FloatArray,
    lat: FloatArray,
    step_s: float,
    side: str,
    craft: str,
    reporters: list[tuple[str, str, str]],
    speed: float,
    military: bool = True,
) -> None:
    """Write a track's plots for every reporter and record the truth of it."""
    n = len(lon)
    inside = shapely.contains_xy(zone.geometry, lon, lat) if zone is not None else np.zeros(n, dtype=bool)
    restricted = zone is not None and military and craft in zone.applies_to and side not in zone.exempt
    heading = np.r_[np.degrees(np.arctan2(np.diff(lon) * np.cos(np.radians(lat[:-1])), np.diff(lat))) % 360.0, 0.0]
    heading[-1] = heading[-2] if n > 1 else 0.0
    refs: list[str] = []
    track_no = len(log.incursions)
    base = world.cfg.start_time.timestamp() * 1e6
    for r, (participant, source, reliability) in enumerate(reporters):
        every = 1 if r == 0 else 2  # the ally's sensor updates half as often
        for k in range(0, n, every):
            t_us = int(base + (t0_h * 3600.0 + k * step_s) * 1e6)
            plon, plat = offset_lonlat(
                np.array([lon[k]]), np.array([lat[k]]), rng.normal(0, 60, 1), rng.normal(0, 60, 1)
            )
            fields: dict[str, Any] = {
                "track_id": f"{participant}-T{track_no:04d}",
                "speed_mps": round(max(speed + float(rng.normal(0, speed * 0.05)), 0.0), 1),
                "heading_deg": float(np.round(heading[k] + rng.normal(0, 2.0)) % 360.0),
                "military": military,
                "identified_side": side if rng.random() < 0.9 else None,
            }
            if kind == "air_track":
                fields |= {
                    "altitude_m": round(
                        float(rng.uniform(150, 400) if craft in ("helicopter", "uav") else rng.uniform(3000, 9000)), 0
                    ),
                    "aircraft_class": craft,
                }
            else:
                fields |= {"vessel_class": craft}
            refs.append(
                out.record(
                    kind,
                    f"T{track_no:04d}-{k:04d}",
                    participant,
                    source,
                    t_us,
                    loc(float(plon[0]), float(plat[0]), 150.0),
                    reliability=reliability,
                    credibility=2,
                    time_error_s=1.0,
                    **fields,
                )
            )
    idx = np.flatnonzero(inside)
    log.incursions.append(
        {
            "id": f"T{track_no:04d}",
            "kind": "air" if kind == "air_track" else "sea",
            "zone": zone.id if zone is not None else None,
            "side": side,
            "craft": craft,
            "military": military,
            "violation": bool(restricted and len(idx)),
            "clause": (f"{zone.kind}.{zone.id}" if restricted and len(idx) else None),
            "start_h": t0_h,
            "end_h": t0_h + n * step_s / 3600.0,
            "inside_from_h": (t0_h + idx[0] * step_s / 3600.0) if len(idx) else None,
            "inside_to_h": (t0_h + idx[-1] * step_s / 3600.0) if len(idx) else None,
            "observations": refs,
        }
    )


def air_and_sea(
    world: World, day: int, out: DayOutput, rng: np.random.Generator, log: TruthLog, plan: dict[int, list[str]]
) -> None:
    frame = world.frame
    band = _zone(world, "contact_line_band")
    sea = _zone(world, "nw_black_sea")
    corridor = _zone(world, "odesa_corridor")
    for what in plan.get(day, []):
        if what == "air" and band is not None:
            side = 1 if rng.random() < 0.7 else 0
            craft = str(rng.choice(["helicopter", "uav", "fighter"]))
            speed = {"helicopter": 60.0, "uav": 40.0, "fighter": 220.0}[craft]
            cand = np.flatnonzero(np.isin(frame.sector, world.fire_sectors) & (frame.depth[side] >= 50_000))
            if not len(cand):
                continue
            i = np.array([int(rng.choice(cand))])
            depth = np.r_[np.linspace(50_000, 8_000, 40), np.full(10, 8_000.0), np.linspace(8_000, 50_000, 40)]
            x, y = frame.place(np.repeat(i, len(depth)), side, depth, np.linspace(0, 20_000, len(depth)))
            lon, lat = lonlat(x, y)
            step = float(np.hypot(np.diff(x), np.diff(y)).mean() / speed)
            reporters = (
                [("USA", "awacs-1", "A"), ("UKR", "adr-UKR-1", "B")]
                if side == 1
                else [("USA", "awacs-1", "A"), ("MVM", "air-picture-MVM", "B")]
            )
            _emit_track(
                world,
                out,
                rng,
                log,
                kind="air_track",
                zone=band,
                t0_h=day * 24.0 + float(rng.uniform(1, 22)),
                lon=lon,
                lat=lat,
                step_s=step,
                side=PARTIES[side],
                craft=craft,
                reporters=reporters,
                speed=speed,
            )
        elif what == "sea" and sea is not None:
            lon, lat = _sea_path(sea.geometry, rng)
            _emit_track(
                world,
                out,
                rng,
                log,
                kind="sea_track",
                zone=sea,
                t0_h=day * 24.0 + float(rng.uniform(0, 18)),
                lon=lon,
                lat=lat,
                step_s=300.0,
                side="RUS",
                craft="patrol",
                reporters=[("ROU", "sea-surv-ROU", "A"), ("TUR", "sea-surv-TUR", "B")],
                speed=8.0,
            )
    # Permitted traffic every day: the mechanism's own UAV over the band, a Turkish warship, merchants.
    if band is not None:
        cand = np.flatnonzero(np.isin(frame.sector, world.fire_sectors) & (frame.depth[0] >= 10_000))
        j = int(rng.choice(cand[: max(1, len(cand) - 60)]))
        path = np.arange(j, min(j + 60, len(frame.x)))
        x, y = frame.place(path, 0, 5_000.0)
        lon, lat = lonlat(x, y)
        _emit_track(
            world,
            out,
            rng,
            log,
            kind="air_track",
            zone=band,
            t0_h=day * 24.0 + float(rng.uniform(6, 16)),
            lon=lon,
            lat=lat,
            step_s=60.0,
            side="USA",
            craft="uav",
            reporters=[("USA", "awacs-1", "A")],
            speed=30.0,
        )
    if sea is not None and day % 2 == 0:
        lon, lat = _sea_path(sea.geometry, rng)
        _emit_track(
            world,
            out,
            rng,
            log,
            kind="sea_track",
            zone=sea,
            t0_h=day * 24.0 + float(rng.uniform(0, 18)),
            lon=lon,
            lat=lat,
            step_s=600.0,
            side="TUR",
            craft="warship",
            reporters=[("ROU", "sea-surv-ROU", "A")],
            speed=7.0,
        )
    if corridor is not None:
        lon, lat = _sea_path(corridor.geometry, rng)
        _emit_track(
            world,
            out,
            rng,
            log,
            kind="sea_track",
            zone=corridor,
            t0_h=day * 24.0 + float(rng.uniform(0, 18)),
            lon=lon,
            lat=lat,
            step_s=600.0,
            side="UKR",
            craft="merchant",
            reporters=[("ROU", "sea-surv-ROU", "A")],
            speed=6.0,
            military=False,
        )


def _sea_path(zone: Any, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """From open water 50 km south-south-east of a point in the zone, to it, a loiter, and back."""
    x0, y0, x1, y1 = zone.bounds
    for _ in range(500):
        px, py = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
        if shapely.contains_xy(zone, px, py):
            break
    sl, sa = offset_lonlat(
        np.array([px]),
        np.array([py]),
        np.array([50_000 * np.sin(np.radians(160))]),
        np.array([50_000 * np.cos(np.radians(160))]),
    )
    f = np.r_[np.linspace(0, 1, 14), np.ones(12), np.linspace(1, 0, 14)]
    lon = sl[0] + f * (px - sl[0]) + np.r_[np.zeros(14), rng.normal(0, 0.01, 12), np.zeros(14)]
    lat = sa[0] + f * (py - sa[0]) + np.r_[np.zeros(14), rng.normal(0, 0.01, 12), np.zeros(14)]
    return lon, lat


def incursion_plan(world: World, rng: np.random.Generator) -> dict[int, list[str]]:
    """Which days have an air or sea incursion (spread over the run)."""
    cfg = world.cfg
    plan: dict[int, list[str]] = {}
    for what, n in (("air", cfg.air_incursions), ("sea", cfg.sea_incursions)):
        for _ in range(n):
            plan.setdefault(int(rng.integers(0, cfg.days)), []).append(what)
    return plan
