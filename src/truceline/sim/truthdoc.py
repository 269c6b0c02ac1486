"""The truth document: every event, position, violation, claim and parameter of a run.

Written as JSON with one top-level section per line and one event per line (so a 1,000,000-
report day still diffs and greps), events streamed from a temporary file written day by day.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from truceline.sim import acoustic, inspections, radar
from truceline.sim._frame import PARTIES
from truceline.sim._truthlog import TruthLog
from truceline.sim.fire import CAUSES, Shots
from truceline.sim.ndjson import DayOutput, iso
from truceline.sim.world import FIRE_CLASSES, World, lonlat

TRUTH_FILE = "truth.json"
TRUTH_FORMAT = "truceline-truth/1"


def write_events(
    f: Any,
    world: World,
    shots: Shots,
    lo: int,
    hi: int,
    day_out: DayOutput,
    crlb: Any,
    n_ac: Any,
    start_us: int,
    log: TruthLog,
) -> None:
    """One line of truth per event of the day, with the reports it produced."""
    ev = np.concatenate(day_out.ref_event) if day_out.ref_event else np.zeros(0, dtype=np.intp)
    text = [r for chunk in day_out.ref_text for r in chunk]
    log.false_detections.extend(text[i] for i in np.flatnonzero(ev < 0).tolist())
    keep = np.flatnonzero(ev >= 0)
    order = keep[np.argsort(ev[keep], kind="stable")]
    ev_sorted = ev[order]
    starts = np.searchsorted(ev_sorted, np.arange(lo, hi + 1))
    sel = np.arange(lo, hi)
    olon, olat = lonlat(shots.ox[sel], shots.oy[sel])
    ilon, ilat = lonlat(shots.ix[sel], shots.iy[sel])
    oside = world.ag.side_of(olon, olat).tolist()
    iside = world.ag.side_of(ilon, ilat).tolist()
    times = iso(start_us + np.round(shots.t_h[sel] * 3600e6).astype(np.int64), "us").tolist()
    ids = world.frame.sector_ids
    objs = world.objects
    for k, s in enumerate(sel.tolist()):
        refs = ",".join(text[i] for i in order[starts[k] : starts[k + 1]].tolist())
        parent = int(shots.parent[s])
        pos = int(shots.position[s])
        c = float(crlb[k])
        head = {
            "id": f"E{s:07d}",
            "time": times[k],
            "side": PARTIES[int(shots.side[s])],
            "weapon_class": FIRE_CLASSES[int(shots.cls[s])],
            "sector": ids[int(shots.sector[s])],
            "cause": CAUSES[int(shots.cause[s])],
            "parent": None if parent < 0 else f"E{parent:07d}",
            "generation": int(shots.generation[s]),
            "origin": {"lon": round(float(olon[k]), 6), "lat": round(float(olat[k]), 6), "side": oside[k]},
            "impact": {"lon": round(float(ilon[k]), 6), "lat": round(float(ilat[k]), 6), "side": iside[k]},
            "firing_position": None if pos < 0 else objs.id[pos],
            "crlb_m": None if not np.isfinite(c) else round(c, 2),
            "n_acoustic": int(n_ac[k]),
        }
        f.write(json.dumps(head, separators=(",", ":"))[:-1] + f',"observations":[{refs}]}}\n')


def write_truth(
    out: Path,
    world: World,
    shots: Shots,
    arrays: acoustic.Arrays,
    radars: radar.Radars,
    stations: inspections.Stations,
    log: TruthLog,
    by_kind: dict[str, int],
    start_us: int,
    events_tmp: Path,
) -> None:
    _parse_refs(log)
    cfg, ag = world.cfg, world.ag

    def h(hours: float | None) -> str | None:
        return None if hours is None else str(iso(np.array([start_us + round(hours * 3600e6)]), "s")[0])

    objs = world.objects
    oa = objs.arrays()
    lon, lat = lonlat(oa["x"], oa["y"])
    dist = ag.distance_to_line_m(lon, lat) if len(lon) else np.zeros(0)
    positions = []
    violations: list[dict[str, Any]] = []
    for row in range(len(objs.id)):
        seen = log.sightings.get(row, []) + log.radar_by_position.get(row, [])
        positions.append(
            {
                "object": objs.id[row],
                "kind": objs.kind[row],
                "class": objs.cls[row],
                "side": PARTIES[objs.side[row]],
                "count": objs.count[row],
                "from": h(objs.t0[row]),
                "to": h(objs.t1[row]),
                "lon": round(float(lon[row]), 6),
                "lat": round(float(lat[row]), 6),
                "distance_to_line_m": round(float(dist[row]), 1),
                "violation": objs.violation[row],
                "serials": list(objs.serials[row]),
                "note": objs.note[row],
                "observations": seen,
            }
        )
        if objs.violation[row]:
            violations.append(
                {
                    "clause": objs.violation[row],
                    "side": PARTIES[objs.side[row]],
                    "kind": str(objs.violation[row]).split(".")[0],
                    "object": objs.id[row],
                    "weapon_class": objs.cls[row],
                    "lon": round(float(lon[row]), 6),
                    "lat": round(float(lat[row]), 6),
                    "start": h(objs.t0[row]),
                    "end": h(objs.t1[row]),
                    "observations": seen,
                }
            )
    for r in world.removals:
        site = ag.storage_site(r.site)
        refs = [v["ref"] for v in log.storage_visits if v["site"] == r.site and r.serial in v["missing"]]
        violations.append(
            {
                "clause": f"storage.{r.site}",
                "side": r.party,
                "kind": "storage",
                "serial": r.serial,
                "site": r.site,
                "lon": site.lon,
                "lat": site.lat,
                "start": h(r.hour),
                "end": None,
                "observations": refs,
            }
        )
    for d in log.denials:
        violations.append(
            {
                "clause": "freedom_of_movement",
                "side": d["side"],
                "kind": "movement_denial",
                "lon": d["lon"],
                "lat": d["lat"],
                "start": h(d["time_h"]),
                "end": h(d["time_h"]),
                "observations": [d["ref"]],
            }
        )
    for v in log.storage_visits:
        if not v["access_granted"]:
            site = ag.storage_site(v["site"])
            violations.append(
                {
                    "clause": "freedom_of_movement",
                    "side": v["party"],
                    "kind": "movement_denial",
                    "site": v["site"],
                    "lon": site.lon,
                    "lat": site.lat,
                    "start": h(v["time_h"]),
                    "end": h(v["time_h"]),
                    "observations": [v["ref"]],
                }
            )
    for t in log.incursions:
        if t["violation"]:
            violations.append(
                {
                    "clause": t["clause"],
                    "side": t["side"],
                    "kind": t["kind"],
                    "track": t["id"],
                    "start": h(t["inside_from_h"]),
                    "end": h(t["inside_to_h"]),
                    "observations": t["observations"],
                }
            )
    for d in log.declarations:
        if d["over_ceiling"]:
            violations.append(
                {
                    "clause": f"ceiling.{d['party']}",
                    "side": d["party"],
                    "kind": "ceiling",
                    "start": h(d["day"] * 24.0 + 12),
                    "end": None,
                    "declared": d["troop_strength"],
                    "ceiling": d["ceiling"],
                    "observations": [d["ref"]],
                }
            )
    for k, v in enumerate(violations):
        v["id"] = f"V{k:05d}"
        v["observed"] = bool(v["observations"])
    buildup = None
    offensives = []
    if world.buildup_sector is not None and cfg.onset is not None and cfg.offensive is not None:
        sector = world.frame.sector_ids[world.buildup_sector]
        buildup = {
            "sector": sector,
            "attacker": cfg.attacker,
            "onset": h(cfg.onset * 24.0),
            "offensive": h(cfg.offensive * 24.0),
            "onset_day": cfg.onset,
            "offensive_day": cfg.offensive,
            "offensive_in_window": cfg.offensive < cfg.days,
            "indicators": [
                "weapons and vehicles move toward the line",
                "fuel and ammunition depots, field hospitals and bridging appear",
                "GNSS jamming",
                "movement denials",
                "claims against the other side, some staged",
                "fire rises",
            ],
        }
        offensives.append(
            {
                "sector": sector,
                "side": cfg.attacker,
                "date": h(cfg.offensive * 24.0),
                "day": cfg.offensive,
                "in_window": cfg.offensive < cfg.days,
            }
        )
    removals = [
        {
            "site": r.site,
            "party": r.party,
            "serial": r.serial,
            "weapon_class": r.weapon_class,
            "removed": h(r.hour),
            "seen_at_front": r.seen_at_front,
        }
        for r in world.removals
    ]
    for part in (
        log.storage_visits,
        log.denials,
        log.patrols,
        log.imagery_passes,
        log.uav_flights,
        log.crater_analyses,
    ):
        for item in part:
            for key in [k for k in item if k.endswith("_h")]:
                item[key[:-2]] = h(item.pop(key))
    for t in log.incursions:
        for key in ("start_h", "end_h", "inside_from_h", "inside_to_h"):
            t[key[:-2]] = h(t.pop(key))
    sections: dict[str, Any] = {
        "format": TRUTH_FORMAT,
        "generator": "truceline.sim",
        "scenario": cfg.to_json(),
        "agreement": {"id": ag.id, "version": ag.version},
        "window": {"start": h(0.0), "end": h(cfg.days * 24.0), "days": cfg.days},
        "parties": list(PARTIES),
        "observations": {"total": sum(by_kind.values()), "by_kind": dict(sorted(by_kind.items()))},
        "sensors": {
            "acoustic": {
                "detection": {
                    "model": "P(r) = p_max / (1 + exp((r - r50[class]) / width))",
                    "p_max": acoustic.P_MAX,
                    "width_m": acoustic.WIDTH_M,
                    "r50_m": acoustic.R50_M,
                },
                "arrival": "t_fire + r / (331.3 + 0.606 T + wind . u) + N(0, sigma) (outliers: +-0.05-0.5 s)",
                "outlier_share": cfg.acoustic_outlier_share,
                "bearing_error_deg": acoustic.BEARING_ERROR_DEG,
                "false_picks_per_sensor_hour": cfg.false_picks_per_sensor_hour,
                "arrays": [
                    {
                        "id": arrays.ids[k],
                        "participant": arrays.operator[k],
                        "lon": round(float(arrays.lon[k]), 6),
                        "lat": round(float(arrays.lat[k]), 6),
                        "side": PARTIES[int(arrays.side[k])],
                        "timing_error_s": float(arrays.sigma_t[k]),
                    }
                    for k in range(len(arrays.ids))
                ],
                "outages": [{"array": arrays.ids[s], "from": h(t0), "to": h(t1)} for s, t0, t1 in arrays.outages],
            },
            "radar": [
                {
                    "id": radars.ids[k],
                    "participant": radars.operator[k],
                    "lon": round(float(radars.lon[k]), 6),
                    "lat": round(float(radars.lat[k]), 6),
                    "facing_deg": round(float(radars.facing_deg[k]), 1),
                    "relayed_by": radars.relay_to[k],
                }
                for k in range(len(radars.ids))
            ],
            "met": [
                {
                    "id": stations.ids[k],
                    "lon": round(float(stations.lon[k]), 6),
                    "lat": round(float(stations.lat[k]), 6),
                }
                for k in range(len(stations.ids))
            ],
        },
        "weather": [
            {
                "day": d,
                "t_mean_c": round(float(world.weather["t_mean"][d]), 2),
                "wind_speed_mps": round(float(world.weather["wind_speed"][d]), 2),
                "wind_from_deg": round(float(world.weather["wind_from"][d]), 1),
            }
            for d in range(cfg.days)
        ],
        "hawkes": shots.hawkes,
        "escalation": {
            "spiral_sector": cfg.spiral_sector,
            "shape": "days 0-20%: normal; 20%: sharp drop to 15%; slow rise to 55%; then baseline x2.5 and "
            "branching ratio rising to spiral_peak_branching at the end",
        },
        "buildup": buildup,
        "offensives": offensives,
        "positions": positions,
        "storage_removals": removals,
        "storage_visits": log.storage_visits,
        "movement_denials": log.denials,
        "jamming": {
            "episodes": [
                {
                    "lon": round(float(a), 5),
                    "lat": round(float(b), 5),
                    "radius_m": j.radius_m,
                    "from": h(j.t0),
                    "to": h(j.t1),
                    "side": PARTIES[j.side],
                }
                for j, a, b in zip(
                    world.jamming,
                    *lonlat(np.array([j.x for j in world.jamming]), np.array([j.y for j in world.jamming])),
                    strict=True,
                )
            ],
            "reports": log.jamming_reports,
        },
        "claims": log.claims,
        "incursions": log.incursions,
        "declarations": [{k: v for k, v in d.items()} | {"date": h(d["day"] * 24.0 + 12)} for d in log.declarations],
        "violations": violations,
        "patrols": log.patrols,
        "imagery_passes": log.imagery_passes,
        "uav_flights": log.uav_flights,
        "false_detections": log.false_detections,
        "outlier_picks": log.outlier_picks,
        "crater_analyses": log.crater_analyses,
    }
    tmp = out / (TRUTH_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("{\n")
        for key, value in sections.items():
            f.write(f"{json.dumps(key)}:{json.dumps(value, separators=(',', ':'), ensure_ascii=False)},\n")
        f.write('"events":[\n')
        with open(events_tmp, encoding="utf-8") as ev:
            first = True
            for line in ev:
                f.write(("" if first else ",\n") + line.rstrip("\n"))
                first = False
        f.write("\n]}\n")
    tmp.replace(out / TRUTH_FILE)


def _parse_refs(log: TruthLog) -> None:
    """Reports are remembered as JSON triples (text); the truth holds them as lists."""
    log.sightings = {k: [json.loads(r) for r in v] for k, v in log.sightings.items()}
    log.radar_by_position = {k: [json.loads(r) for r in v] for k, v in log.radar_by_position.items()}
    for part in (log.denials, log.storage_visits, log.claims, log.declarations, log.crater_analyses):
        for item in part:
            item["ref"] = json.loads(item["ref"])
    for t in log.incursions:
        t["observations"] = [json.loads(r) for r in t["observations"]]
    log.jamming_reports = [json.loads(r) for r in log.jamming_reports]
    log.false_detections = [json.loads(r) for r in log.false_detections]
    log.outlier_picks = [json.loads(r) for r in log.outlier_picks]
