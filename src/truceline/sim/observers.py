"""Monitors on the ground and in the air: patrol logs, weapon sightings, denials, UAV flights.

Patrols work as the OSCE mission's did: a team spends a few daytime hours at a settlement near
the line and logs, hour by hour, the explosions it hears (within ~12 km, more likely the closer),
with a rough bearing and distance to the first one, outgoing or incoming, and a guess of the
weapon; heavy weapons seen nearby are logged with their count (and serial numbers where a
plate can be read). Some teams are turned back at checkpoints — more often, and by the
attacker, as the build-up proceeds — and their hours go unobserved. GNSS jamming shows up as
a note in the log (the model has no kind for it; see docs/simulation.md). Monitoring UAVs fly
along the line and report what they see; under jamming they abort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
from numpy.typing import NDArray

from truceline.geo import Gazetteer, to_metric
from truceline.sim._frame import PARTIES
from truceline.sim._truthlog import TruthLog
from truceline.sim.fire import Shots
from truceline.sim.ndjson import DayOutput, loc
from truceline.sim.world import FIRE_CLASSES, IMAGERY_CLASS, World, lonlat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

HEARING_M = 12_000.0
SIGHTING_M = 5_000.0
UAV_SWATH_M = 3_000.0
_GEOD = pyproj.Geod(ellps="WGS84")
_WEAPON_KINDS = ("unit", "firing_position")
REASONS = (
    "security situation",
    "mines on the road",
    "no permission from the commander",
    "ongoing exercise",
    "road closed",
)


@dataclass
class Towns:
    lon: FloatArray
    lat: FloatArray
    x: FloatArray
    y: FloatArray
    side: IntArray
    sector: IntArray  # frame sector index


def patrol_towns(world: World) -> Towns:
    gaz = Gazetteer.default()
    lon, lat, pop = gaz.arrays()
    dist = world.ag.distance_to_line_m(lon, lat)
    sector = world.ag.sector_of(lon, lat)
    side = world.ag.side_of(lon, lat)
    ids = world.frame.sector_ids
    contact = {ids[int(k)] for k in world.fire_sectors}
    ok = (dist > 2_000) & (dist < 15_000) & (pop >= 300) & np.isin(sector, list(contact)) & (side != "")
    idx = np.flatnonzero(ok)
    x, y = to_metric(lon[idx], lat[idx])
    return Towns(
        lon[idx],
        lat[idx],
        x,
        y,
        np.array([PARTIES.index(str(s)) for s in side[idx]], dtype=np.intp),
        np.array([ids.index(str(s)) for s in sector[idx]], dtype=np.intp),
    )


def _progress(world: World, day: int) -> float:
    cfg = world.cfg
    if cfg.onset is None or day < cfg.onset:
        return 0.0
    return float(min(1.0, (day - cfg.onset + 1) / cfg.buildup_days))


def _azimuth(lon0: FloatArray, lat0: FloatArray, lon1: FloatArray, lat1: FloatArray) -> tuple[FloatArray, FloatArray]:
    az, _, d = _GEOD.inv(lon0, lat0, lon1, lat1)
    return np.asarray(az) % 360.0, np.asarray(d)


def patrols(
    world: World,
    towns: Towns,
    shots: Shots,
    sel: IntArray,
    day: int,
    base_us: int,
    out: DayOutput,
    rng: np.random.Generator,
    log: TruthLog,
) -> None:
    cfg = world.cfg
    if len(towns.lon) == 0:
        return
    progress = _progress(world, day)
    weight = np.array([cfg.sector_heat.get(world.frame.sector_ids[int(s)], 1.0) for s in towns.sector])
    if world.buildup_sector is not None:
        weight = np.where(towns.sector == world.buildup_sector, weight * (1 + 3 * progress), weight)
    picks = rng.choice(len(towns.lon), cfg.patrols_per_day, p=weight / weight.sum())
    objs = world.objects
    oa = objs.arrays()
    date = f"{day:03d}"
    for k, town in enumerate(picks.tolist()):
        operator = "MVM" if k % 2 == 0 else "OSCE"
        team = f"patrol-{operator}-{k // 2:02d}"
        start_h = day * 24.0 + float(rng.uniform(6.0, 12.0))
        end_h = start_h + float(rng.uniform(3.0, 7.0))
        tl, tt, side = float(towns.lon[town]), float(towns.lat[town]), int(towns.side[town])
        t_us = base_us + int(start_h * 3600e6)
        # Denials: the side holding the ground turns monitors back, more so before an attack.
        hostile = (
            world.buildup_sector is not None and towns.sector[town] == world.buildup_sector and side == world.attacker
        )
        p_deny = 0.03 + (0.55 * progress if hostile else 0.0)
        if rng.random() < p_deny:
            f = world.frame
            j = int(np.argmin(np.hypot(f.x - towns.x[town], f.y - towns.y[town])))
            dlon, dlat = lonlat(np.array([(f.x[j] + towns.x[town]) / 2]), np.array([(f.y[j] + towns.y[town]) / 2]))
            ref = out.record(
                "movement_denial",
                f"{team}-d{date}",
                operator,
                team,
                t_us,
                loc(tl, tt, 50.0),
                tlp="green",
                credibility=2,
                time_error_s=60.0,
                denied_by=PARTIES[side],
                intended_destination=loc(float(dlon[0]), float(dlat[0]), 500.0),
                reason_given=str(rng.choice(REASONS)),
            )
            log.denials.append(
                {
                    "ref": ref,
                    "side": PARTIES[side],
                    "lon": tl,
                    "lat": tt,
                    "time_h": start_h,
                    "sector": world.frame.sector_ids[int(towns.sector[town])],
                    "planned": bool(hostile),
                }
            )
            continue
        log.patrols.append(
            {"team": team, "participant": operator, "lon": tl, "lat": tt, "start_h": start_h, "end_h": end_h}
        )
        # What the team hears, hour by hour.
        s = sel[(shots.t_h[sel] >= start_h) & (shots.t_h[sel] < end_h)]
        do = np.hypot(shots.ox[s] - towns.x[town], shots.oy[s] - towns.y[town])
        di = np.hypot(shots.ix[s] - towns.x[town], shots.iy[s] - towns.y[town])
        near = np.minimum(do, di)
        heard = s[(near < HEARING_M) & (rng.random(len(s)) < 0.9 * (1.0 - near / (HEARING_M * 1.25)))]
        hour = ((shots.t_h[heard] - start_h) // 1.0).astype(np.intp)
        for h in np.unique(hour).tolist():
            group = heard[hour == h]
            first = int(group[0])
            outgoing = np.hypot(shots.ox[first] - towns.x[town], shots.oy[first] - towns.y[town]) < np.hypot(
                shots.ix[first] - towns.x[town], shots.iy[first] - towns.y[town]
            )
            px, py = (shots.ox[first], shots.oy[first]) if outgoing else (shots.ix[first], shots.iy[first])
            plon, plat = lonlat(np.array([px]), np.array([py]))
            az, d = _azimuth(np.array([tl]), np.array([tt]), plon, plat)
            guess = int(shots.cls[first]) if rng.random() < 0.6 else int(rng.integers(0, len(FIRE_CLASSES)))
            close = float(near.min(initial=HEARING_M)) < 5_000.0
            hs = start_h + h
            ref = out.record(
                "patrol_report",
                f"{team}-{date}-{h:02d}",
                operator,
                team,
                base_us + int(hs * 3600e6),
                loc(tl, tt, 50.0),
                tlp="green",
                credibility=2,
                time_error_s=60.0,
                explosions=len(group),
                bursts=int(rng.poisson(2.0)) if close else 0,
                shots=int(rng.poisson(6.0)) if close else 0,
                duration_s=round(min(3600.0, (end_h - hs) * 3600.0), 1),
                bearing_deg=float(np.round((az[0] + rng.normal(0, 8.0)) % 360.0) % 360.0),
                bearing_error_deg=15.0,
                distance_m=float(round(d[0] * float(rng.lognormal(0.0, 0.3)), -2)),
                distance_error_m=float(round(0.4 * d[0], -2)),
                direction="outgoing" if outgoing else "incoming",
                weapon_class_guess=FIRE_CLASSES[guess],
            )
            out.link(group, [ref] * len(group))
        # Jamming: the team's receivers lose their fix; they say so in the log.
        jt = np.linspace(start_h, end_h, 12)
        jam = world.jammed(jt, np.full(12, towns.x[town]), np.full(12, towns.y[town]))
        if jam.any():
            minutes = int(jam.sum() * (end_h - start_h) * 60 / 12)
            ref = out.record(
                "patrol_report",
                f"{team}-{date}-gnss",
                operator,
                team,
                base_us + int(jt[int(np.argmax(jam))] * 3600e6),
                loc(tl, tt, 50.0),
                tlp="green",
                credibility=2,
                time_error_s=300.0,
                note=f"GNSS interference: position fix lost for about {minutes} min; UAV flights suspended",
            )
            log.jamming_reports.append(ref)
        # Heavy weapons seen near the settlement.
        present = (oa["t0"] <= start_h) & (oa["t1"] > start_h)
        dist = np.hypot(oa["x"] - towns.x[town], oa["y"] - towns.y[town])
        cand = np.flatnonzero(
            present & (dist < SIGHTING_M) & np.isin(np.array(objs.kind), [*_WEAPON_KINDS, "vehicles"])
        )
        for row in cand.tolist():
            cls = objs.cls[row]
            if cls == "truck" or rng.random() > 0.5 * (1.0 - oa["camouflage"][row]):
                continue
            slon, slat = lonlat(
                oa["x"][row : row + 1] + rng.normal(0, 150), oa["y"][row : row + 1] + rng.normal(0, 150)
            )
            count = max(1, int(rng.binomial(int(oa["count"][row]), 0.8)))
            serials = list(objs.serials[row][:count])
            ref = out.record(
                "weapon_sighting",
                f"{team}-{date}-w{row}",
                operator,
                team,
                base_us + int((start_h + 0.5) * 3600e6),
                loc(float(slon[0]), float(slat[0]), 400.0),
                tlp="green",
                credibility=2,
                time_error_s=600.0,
                weapon_class=cls,
                count=count,
                serials=serials or None,
                observed_side=PARTIES[int(oa["side"][row])],
            )
            log.saw(row, ref)


def uav_flights(
    world: World, shots: Shots, day: int, base_us: int, out: DayOutput, rng: np.random.Generator, log: TruthLog
) -> None:
    cfg, frame = world.cfg, world.frame
    objs = world.objects
    oa = objs.arrays()
    progress = _progress(world, day)
    for k in range(cfg.uav_flights_per_day):
        operator = "MVM" if k % 3 else "USA"
        flight = f"F{day:03d}{k:02d}"
        source = f"uav-{operator}-{k % 3}"
        if world.buildup_sector is not None and rng.random() < 0.2 + 0.5 * progress:
            sector = int(world.buildup_sector)
        else:
            sector = int(rng.choice(world.fire_sectors))
        idx = frame.samples(frame.sector_ids[sector])
        a = int(rng.integers(0, max(1, len(idx) - 80)))
        path = idx[a : a + 80 : 4]  # 40 km along the line
        side = int(rng.integers(0, 2))
        px, py = frame.place(path, side, rng.uniform(2_000.0, 15_000.0))
        t_h = day * 24.0 + float(rng.uniform(8.0, 14.0))
        flight_log = {
            "flight": flight,
            "participant": operator,
            "sector": frame.sector_ids[sector],
            "start_h": t_h,
            "aborted": False,
        }
        log.uav_flights.append(flight_log)
        if world.jammed(np.full(len(px), t_h), px, py).any() and rng.random() < 0.7:
            mlon, mlat = lonlat(px[len(px) // 2 : len(px) // 2 + 1], py[len(py) // 2 : len(py) // 2 + 1])
            ref = out.record(
                "patrol_report",
                f"{flight}-abort",
                operator,
                f"uav-ops-{operator}",
                base_us + int(t_h * 3600e6),
                loc(float(mlon[0]), float(mlat[0]), 5_000.0),
                tlp="green",
                credibility=2,
                time_error_s=300.0,
                note=f"UAV flight {flight} aborted: GNSS jamming, navigation lost",
            )
            log.jamming_reports.append(ref)
            flight_log["aborted"] = True
            continue
        present = (oa["t0"] <= t_h) & (oa["t1"] > t_h)
        # Distance from each object to the flight path (the nearest of its waypoints is close enough at 2 km spacing).
        d = (
            np.min(np.hypot(oa["x"][:, None] - px[None, :], oa["y"][:, None] - py[None, :]), axis=1)
            if len(oa["x"])
            else np.zeros(0)
        )
        for row in np.flatnonzero(present & (d < UAV_SWATH_M)).tolist():
            if rng.random() > 0.85 * (1.0 - 0.7 * oa["camouflage"][row]):
                continue
            cls = IMAGERY_CLASS.get(objs.cls[row], objs.cls[row])
            slon, slat = lonlat(oa["x"][row : row + 1] + rng.normal(0, 6), oa["y"][row : row + 1] + rng.normal(0, 6))
            ref = out.record(
                "uav_sighting",
                f"{flight}-{row}",
                operator,
                source,
                base_us + int((t_h + 0.2) * 3600e6),
                loc(float(slon[0]), float(slat[0]), 15.0),
                tlp="amber",
                credibility=2,
                time_error_s=5.0,
                object_class=cls,
                count=max(1, int(rng.binomial(int(oa["count"][row]), 0.9))),
                flight_id=flight,
            )
            log.saw(row, ref)
