"""Storage-site inspections, weather stations and the parties' force declarations.

Inspectors visit each declared site every third day and read every serial plate: a serial
removed before the visit is reported missing. Before the offensive the attacker starts refusing
them access. Weather stations along both sides report hourly (temperature for the speed of
sound, wind for its bias). Ukraine declares its troop strength weekly (under the 800,000
ceiling until, in a scenario with ``ceiling_breach``, mobilisation after the offensive takes it
over); Russia declares weapon holdings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truceline.sim._frame import PARTIES
from truceline.sim._truthlog import TruthLog
from truceline.sim.ndjson import DayOutput, loc
from truceline.sim.world import World, lonlat

FloatArray = NDArray[np.float64]


def storage_visits(
    world: World, day: int, base_us: int, out: DayOutput, rng: np.random.Generator, log: TruthLog
) -> None:
    cfg = world.cfg
    progress = 0.0 if cfg.onset is None else float(np.clip((day - cfg.onset + 1) / cfg.buildup_days, 0, 1))
    for k, site in enumerate(world.ag.storage_sites):
        if (day + k) % 3:
            continue
        t_h = day * 24.0 + 9.0 + k * 0.5
        team = f"inspection-team-{k % 2 + 1}"
        denied = site.party == PARTIES[world.attacker] and progress > 0.5 and rng.random() < 0.5
        declared = sorted(site.serials())
        gone = sorted(r.serial for r in world.removals if r.site == site.id and r.hour < t_h)
        present = [s for s in declared if s not in gone]
        ref = out.record(
            "storage_visit",
            f"{site.id}-{day:03d}",
            "MVM",
            team,
            base_us + int(t_h * 3600e6),
            loc(site.lon, site.lat, 100.0),
            tlp="amber",
            reliability="A",
            credibility=1,
            time_error_s=60.0,
            site_id=site.id,
            access_granted=not denied,
            serials_present=[] if denied else present,
            serials_missing=[] if denied else gone,
        )
        log.storage_visits.append(
            {
                "ref": ref,
                "site": site.id,
                "party": site.party,
                "time_h": t_h,
                "access_granted": not denied,
                "missing": [] if denied else gone,
            }
        )


@dataclass
class Stations:
    ids: list[str]
    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray


def layout_met(world: World, rng: np.random.Generator) -> Stations:
    frame = world.frame
    every = max(1, round(world.cfg.met_spacing_km * 1000.0 / 500.0))
    xs, ys = [], []
    for sector in world.fire_sectors:
        idx = frame.samples(frame.sector_ids[int(sector)])[every // 2 :: every]
        for side in (0, 1):
            ok = idx[frame.depth[side, idx] >= 20_000.0]
            x, y = frame.place(ok, side, rng.uniform(10_000.0, 20_000.0, len(ok)))
            xs.append(x)
            ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    lon, lat = lonlat(x, y)
    return Stations([f"wx-{k:03d}" for k in range(len(x))], x, y, lon, lat)


def met_observations(
    world: World, st: Stations, day: int, base_us: int, out: DayOutput, rng: np.random.Generator
) -> None:
    hours = day * 24.0 + np.arange(24.0)
    for k in range(len(st.ids)):
        temp = world.temperature_c(hours, np.full(24, st.y[k])) + rng.normal(0, 0.2, 24)
        we, wn = world.wind(hours)
        speed = np.maximum(np.hypot(we, wn) + rng.normal(0, 0.3, 24), 0.0)
        frm = (np.degrees(np.arctan2(-we, -wn)) + rng.normal(0, 5.0, 24)) % 360.0
        for h in range(24):
            out.record(
                "met_observation",
                f"{day:03d}-{h:02d}",
                "MVM",
                st.ids[k],
                base_us + int(hours[h] * 3600e6),
                loc(float(st.lon[k]), float(st.lat[k]), 10.0),
                tlp="green",
                reliability="A",
                credibility=1,
                time_error_s=30.0,
                temperature_c=round(float(temp[h]), 1),
                wind_speed_mps=round(float(speed[h]), 1),
                wind_from_deg=float(np.round(frm[h]) % 360.0),
                relative_humidity=round(float(rng.uniform(0.4, 0.95)), 2),
                pressure_hpa=round(float(1013.0 + rng.normal(0, 6.0)), 1),
            )


def declarations(world: World, day: int, base_us: int, out: DayOutput, rng: np.random.Generator, log: TruthLog) -> None:
    cfg = world.cfg
    # Weekly, and the day after an offensive (mobilisation is announced at once).
    if day % 7 and not (cfg.offensive is not None and day == cfg.offensive + 1):
        return
    ceiling = world.ag.troop_ceiling("UKR") or 800_000
    after = cfg.offensive is not None and day >= cfg.offensive
    strength = int(ceiling * (1.012 if (cfg.ceiling_breach and after) else 0.985) + rng.integers(-2_000, 2_000))
    t_us = base_us + int((day * 24.0 + 12.0) * 3600e6)
    ref = out.record(
        "force_declaration",
        f"decl-UKR-{day:03d}",
        "UKR",
        "ministry-of-defence",
        t_us,
        None,
        tlp="green",
        credibility=2,
        time_error_s=0.0,
        declaring_party="UKR",
        troop_strength=strength,
        weapons={"tank": 1100, "artillery_ge100": 1900, "mlrs": 420},
    )
    log.declarations.append(
        {
            "ref": ref,
            "party": "UKR",
            "day": day,
            "troop_strength": strength,
            "ceiling": ceiling,
            "over_ceiling": strength > ceiling,
        }
    )
    objs = world.objects
    fielded = {
        c: sum(
            n
            for n, k, s, cl in zip(objs.count, objs.kind, objs.side, objs.cls, strict=True)
            if s == 1 and cl == c and k in ("unit", "firing_position")
        )
        for c in ("tank", "artillery_ge100", "mlrs")
    }
    ref = out.record(
        "force_declaration",
        f"decl-RUS-{day:03d}",
        "RUS",
        "ministry-of-defence",
        t_us + 3_600_000_000,
        None,
        tlp="green",
        reliability="C",
        credibility=3,
        time_error_s=0.0,
        declaring_party="RUS",
        weapons={c: int(n * 4) for c, n in fielded.items()},
    )
    log.declarations.append(
        {"ref": ref, "party": "RUS", "day": day, "troop_strength": None, "ceiling": None, "over_ceiling": False}
    )
