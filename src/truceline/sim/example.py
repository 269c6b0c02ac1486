"""A small, plausible example of a few days of reports along the real contact line.

It exists so that ``truceline demo`` has something realistic to show before the simulator
lands: patrols at real settlements near the line logging explosions with bearing and distance
(as the OSCE mission did), acoustic arrays and counter-battery radars on both sides, weather
stations, heavy-weapon sightings (a few inside their withdrawal zones), storage-site visits with
a serial that goes missing, a denied patrol, a party's claim and a troop declaration. It has no
ground truth and is not used to measure anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from truceline.agreement import Agreement
from truceline.geo import Gazetteer, to_lonlat

SPEED_OF_SOUND_0C = 331.3  # m/s at 0 °C; + 0.606 m/s per °C


@dataclass(frozen=True)
class ExampleConfig:
    days: int = 2
    seed: int = 20260901
    start: date = date(2026, 9, 1)
    events_per_day: int = 80
    sensor_spacing_km: float = 30.0
    patrols_per_day: int = 8


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _loc(
    lon: float, lat: float, major: float, minor: float | None = None, azimuth: float = 0.0
) -> dict[str, Any]:
    return {
        "lat": round(float(lat), 6),
        "lon": round(float(lon), 6),
        "error": {
            "semi_major_m": round(major, 1),
            "semi_minor_m": round(minor if minor is not None else major, 1),
            "orientation_deg": round(azimuth % 180.0, 1),
        },
    }


class _Line:
    """The longest stretch of the contact line, with positions and normals along it (metres)."""

    def __init__(self, ag: Agreement) -> None:
        merged = shapely.line_merge(ag.contact_line_metric)
        parts = list(getattr(merged, "geoms", [merged]))
        self.line = max(parts, key=lambda g: g.length)
        self.length = float(self.line.length)
        self.ag = ag
        self.parties = [p.id for p in ag.parties]

    def frame(self, d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = np.array(self.line.interpolate(d).coords[0])
        a = np.array(self.line.interpolate(max(d - 300.0, 0.0)).coords[0])
        b = np.array(self.line.interpolate(min(d + 300.0, self.length)).coords[0])
        t = (b - a) / max(float(np.linalg.norm(b - a)), 1e-9)
        n = np.array([-t[1], t[0]])
        return p, t, n

    def side_sign(self, p: np.ndarray, n: np.ndarray, party: str) -> float:
        """+1 when moving along ``n`` from ``p`` enters ``party``'s area, else -1."""
        for step in (3000.0, 8000.0, 15000.0):
            lon, lat = to_lonlat(*(p + step * n))
            side = str(self.ag.side_of([lon], [lat])[0])
            if side:
                return 1.0 if side == party else -1.0
        return 1.0

    def point(self, d: float, offset_m: float, party: str, along_m: float = 0.0) -> tuple[float, float]:
        p, t, n = self.frame(d)
        s = self.side_sign(p, n, party)
        lon, lat = to_lonlat(*(p + s * offset_m * n + along_m * t))
        return float(lon), float(lat)


def example_reports(ag: Agreement, config: ExampleConfig | None = None) -> list[dict[str, Any]]:
    """Reports (as JSON-ready dicts in the ingest format), sorted by time."""
    cfg = config or ExampleConfig()
    rng = np.random.default_rng(cfg.seed)
    line = _Line(ag)
    ua, ru = line.parties
    monitors = [p.id for p in ag.participants if "monitor" in p.roles] or ["USA"]
    nations = [p.id for p in ag.participants if p.kind == "nation" and p.id not in (ua, ru)] or monitors
    out: list[dict[str, Any]] = []

    def envelope(
        kind: str,
        key: str,
        who: str,
        source: str,
        t: datetime,
        loc: dict[str, Any] | None,
        tlp: str = "green",
        reliability: str = "B",
        credibility: int = 2,
        **fields: Any,
    ) -> None:
        rec: dict[str, Any] = {
            "kind": kind,
            "key": key,
            "participant": who,
            "source": source,
            "reliability": reliability,
            "credibility": credibility,
            "time": _iso(t),
        }
        if loc is not None:
            rec["location"] = loc
        rec["markings"] = {"tlp": tlp, "originator": who}
        if tlp in ("amber", "amber+strict"):
            rec["markings"]["releasable_to"] = sorted({ua, *monitors[:3]} - {who})
        rec.update(fields)
        out.append(rec)

    # Fixed sensors: acoustic arrays every few tens of km, 8 km back on each side.
    sensors: list[tuple[str, str, float, float]] = []
    n_sites = max(2, int(line.length / (cfg.sensor_spacing_km * 1000)))
    for i in range(n_sites):
        d = (i + 0.5) * line.length / n_sites
        for party in (ua, ru):
            lon, lat = line.point(d, 8000.0, party)
            owner = nations[(i + (party == ru)) % len(nations)]
            sensors.append((f"{owner}-AC{i:02d}{party[0]}", owner, lon, lat))
    s_lon = np.array([s[2] for s in sensors])
    s_lat = np.array([s[3] for s in sensors])
    radars = [
        (f"{nations[0]}-CBR{i}", *line.point((i + 0.5) * line.length / 4, 15000.0, ua)) for i in range(4)
    ]
    gaz = Gazetteer.default()
    g_lon, g_lat, g_pop = gaz.arrays()
    near = ag.distance_to_line_m(g_lon, g_lat)
    patrol_towns = np.flatnonzero((near > 3000) & (near < 20000) & (g_pop > 800))

    for day in range(cfg.days):
        t0 = datetime(cfg.start.year, cfg.start.month, cfg.start.day, tzinfo=UTC) + timedelta(days=day)
        temp = float(rng.normal(14.0, 4.0))
        for station in range(3):
            d = (station + 0.5) * line.length / 3
            lon, lat = line.point(d, 20000.0, ua)
            for h in range(0, 24, 3):
                envelope(
                    "met_observation",
                    f"met{station}-{day}-{h:02d}",
                    monitors[0],
                    f"WX-{station}",
                    t0 + timedelta(hours=h),
                    _loc(lon, lat, 30.0),
                    reliability="A",
                    credibility=1,
                    temperature_c=round(temp + 5.0 * math.sin((h - 9) / 24 * 2 * math.pi), 1),
                    wind_speed_mps=round(float(rng.uniform(0, 7)), 1),
                    wind_from_deg=round(float(rng.uniform(0, 359.9)), 0),
                )
        c = SPEED_OF_SOUND_0C + 0.606 * temp
        # Fire: more at dusk and night, as the monitoring missions logged it.
        hours = rng.choice(24, size=cfg.events_per_day, p=_hour_weights())
        events = []
        for e in range(cfg.events_per_day):
            t = t0 + timedelta(hours=int(hours[e]), seconds=float(rng.uniform(0, 3600)))
            d = float(rng.uniform(0, line.length))
            side = ua if rng.random() < 0.5 else ru
            other = ru if side == ua else ua
            o_lon, o_lat = line.point(d, float(rng.uniform(3000, 12000)), side, float(rng.normal(0, 2000)))
            i_lon, i_lat = line.point(d, float(rng.uniform(500, 6000)), other, float(rng.normal(0, 2000)))
            weapon = str(
                rng.choice(["artillery_ge100", "mortar", "mlrs", "artillery_lt100"], p=[0.45, 0.35, 0.1, 0.1])
            )
            events.append((t, o_lon, o_lat, i_lon, i_lat, weapon))
            ranges = _distance_m(o_lon, o_lat, s_lon, s_lat)
            detected = rng.random(len(sensors)) < np.exp(-ranges / 20000.0)
            for k in np.flatnonzero(detected & (ranges < 40000)):
                sid, owner, lon, lat = sensors[k]
                arrival = t + timedelta(seconds=float(ranges[k] / c + rng.normal(0, 0.005)))
                bearing = (
                    math.degrees(math.atan2(o_lon - lon, (o_lat - lat) / math.cos(math.radians(lat)) * 1.0))
                    % 360
                )
                envelope(
                    "acoustic_arrival",
                    f"{sid}-{arrival.strftime('%Y%m%dT%H%M%S%f')}",
                    owner,
                    sid,
                    arrival,
                    _loc(lon, lat, 5.0),
                    tlp="amber",
                    time_error_s=0.005,
                    phase="blast",
                    bearing_deg=round((bearing + float(rng.normal(0, 3))) % 360, 1),
                    bearing_error_deg=3.0,
                    snr_db=round(float(30 - ranges[k] / 2000 + rng.normal(0, 2)), 1),
                )
            if rng.random() < 0.25:
                rid, r_lon, r_lat = radars[int(rng.integers(len(radars)))]
                rng_km = float(_distance_m(o_lon, o_lat, np.array([r_lon]), np.array([r_lat]))[0]) / 1000
                err = 50.0 + 8.0 * rng_km
                envelope(
                    "radar_track",
                    f"{rid}-{t.strftime('%Y%m%dT%H%M%S%f')}",
                    nations[0],
                    rid,
                    t,
                    _loc(r_lon, r_lat, 10.0),
                    tlp="amber",
                    reliability="A",
                    time_error_s=0.5,
                    origin=_loc(
                        o_lon + rng.normal(0, err / 111000 / 2),
                        o_lat + rng.normal(0, err / 111000 / 2),
                        err * 2,
                        err,
                        float(rng.uniform(0, 180)),
                    ),
                    impact=_loc(i_lon, i_lat, err, err * 0.6),
                    weapon_class_guess=weapon,
                    projectile="rocket" if weapon == "mlrs" else "shell",
                )
        # Patrols log what they hear over two hours: counts, a bearing and a distance.
        for p in range(cfg.patrols_per_day):
            if len(patrol_towns) == 0:
                break
            town = int(rng.choice(patrol_towns))
            lon, lat = float(g_lon[town]), float(g_lat[town])
            start = t0 + timedelta(hours=int(rng.integers(7, 16)))
            heard = [
                ev
                for ev in events
                if start <= ev[0] < start + timedelta(hours=2)
                and _distance_m(lon, lat, np.array([ev[3]]), np.array([ev[4]]))[0] < 15000
            ]
            explosions = int(len(heard) + rng.poisson(1.0))
            fields: dict[str, Any] = {
                "explosions": explosions,
                "bursts": int(rng.poisson(2.0)),
                "duration_s": 7200.0,
                "note": f"patrol at {gaz.nearest(lon, lat).name}",
            }
            if heard:
                ev = heard[0]
                dist = float(_distance_m(lon, lat, np.array([ev[3]]), np.array([ev[4]]))[0])
                fields |= {
                    "bearing_deg": round(
                        math.degrees(math.atan2(ev[3] - lon, (ev[4] - lat) / math.cos(math.radians(lat))))
                        % 360,
                        0,
                    ),
                    "bearing_error_deg": 15.0,
                    "distance_m": round(dist * float(rng.uniform(0.7, 1.4)), -2),
                    "distance_error_m": round(dist * 0.4, -2),
                    "direction": "incoming",
                }
            envelope(
                "patrol_report",
                f"patrol{p:02d}-{start:%Y%m%d}",
                monitors[-1],
                f"patrol-{p:02d}",
                start,
                _loc(lon, lat, 50.0),
                credibility=2,
                time_error_s=60.0,
                **fields,
            )
        # Heavy weapons seen by patrols and UAVs; a few are inside their withdrawal zones.
        for w in range(12):
            weapon = str(rng.choice(["artillery_ge100", "mlrs", "tank", "mortar", "heavy_mlrs_missile"]))
            party = ua if w % 2 else ru
            limit = max(ag.withdrawal_distance_m(weapon), 5000.0)
            factor = float(rng.uniform(0.3, 0.8)) if w < 2 else float(rng.uniform(1.1, 1.8))
            lon, lat = line.point(float(rng.uniform(0, line.length)), limit * factor, party)
            t = t0 + timedelta(hours=int(rng.integers(8, 18)), minutes=int(rng.integers(0, 60)))
            envelope(
                "weapon_sighting",
                f"ws-{t:%Y%m%d}-{w:02d}",
                monitors[w % len(monitors)],
                f"uav-{w % 3}",
                t,
                _loc(lon, lat, 25.0),
                weapon_class=weapon,
                count=int(rng.integers(1, 4)),
            )
        # Storage sites: visited daily; on the second day one serial is gone.
        for site in ag.storage_sites:
            serials = sorted(site.serials())
            missing = serials[:1] if day >= 1 and site is ag.storage_sites[0] else []
            envelope(
                "storage_visit",
                f"visit-{site.id}-{t0:%Y%m%d}",
                monitors[0],
                "inspection-team-1",
                t0 + timedelta(hours=11),
                _loc(site.lon, site.lat, 100.0),
                reliability="A",
                credibility=1,
                site_id=site.id,
                serials_present=[s for s in serials if s not in missing],
                serials_missing=missing,
            )
        lon, lat = line.point(line.length * 0.4, 6000.0, ru)
        envelope(
            "movement_denial",
            f"denial-{t0:%Y%m%d}",
            monitors[-1],
            "patrol-03",
            t0 + timedelta(hours=9),
            _loc(lon, lat, 50.0),
            denied_by=ru,
            reason_given="security situation",
        )
    # A party's claim, and a declaration of troop strength.
    last = datetime(cfg.start.year, cfg.start.month, cfg.start.day, tzinfo=UTC) + timedelta(days=cfg.days - 1)
    towns_ru = [i for i in patrol_towns if str(ag.side_of([g_lon[i]], [g_lat[i]])[0]) == ru]
    place = gaz.nearest(float(g_lon[towns_ru[0]]), float(g_lat[towns_ru[0]])).name if towns_ru else "Horlivka"
    envelope(
        "claim",
        f"claim-{last:%Y%m%d}-1",
        ru,
        "ministry-statement",
        last + timedelta(hours=10),
        None,
        reliability="F",
        credibility=6,
        claimant=ru,
        accused=ua,
        claim_kind="shelling",
        claimed_time=_iso(last + timedelta(hours=3, minutes=40)),
        place_name=place,
        weapon_class="mlrs",
        media=[{"uri": "https://example.invalid/claim-video.mp4", "media_type": "video/mp4"}],
        text=f"{ua} forces shelled {place} with MLRS overnight.",
    )
    envelope(
        "force_declaration",
        f"decl-{ua}-{last:%Y%m}",
        ua,
        "ministry-of-defence",
        last + timedelta(hours=12),
        None,
        reliability="B",
        credibility=2,
        declaring_party=ua,
        troop_strength=790_000,
        weapons={"tank": 1100, "artillery_ge100": 1900, "mlrs": 420},
    )
    out.sort(key=lambda r: r["time"])
    return out


def bad_reports(good: dict[str, Any]) -> list[str]:
    """Typical mistakes, one per line, derived from a good report (as NDJSON lines)."""
    import json

    def variant(**changes: Any) -> dict[str, Any]:
        rec: dict[str, Any] = json.loads(json.dumps(good))
        rec["key"] = f"{rec['key']}-bad{len(lines)}"
        for k, v in changes.items():
            if v is _DELETE:
                rec.pop(k, None)
            else:
                rec[k] = v
        return rec

    lines: list[str] = []
    r = variant()
    r["location"]["lat"] = 135.0
    lines.append(json.dumps(r))
    lines.append(json.dumps(variant(time=1756700000)))
    lines.append(json.dumps(variant(participant="XYZ")))
    lines.append(json.dumps(variant(markings=_DELETE)))
    lines.append(json.dumps(variant(temperture_c=12.0)))
    dup = json.dumps(variant())
    lines.append(dup[:-1] + ', "credibility": 3}')  # a second credibility: silently merged by parsers
    lines.append(json.dumps(variant(time=_iso(datetime.now(UTC) + timedelta(days=2)))))
    lines.append('{"kind": "patrol_report", "key": "truncated-by-a-bad-link", "participant": "OS')
    return lines


class _Delete:
    pass


_DELETE = _Delete()


def _hour_weights() -> np.ndarray:
    w = np.array(
        [
            3,
            3,
            2.5,
            2,
            1.5,
            1,
            0.8,
            0.6,
            0.5,
            0.5,
            0.5,
            0.6,
            0.7,
            0.8,
            0.9,
            1,
            1.2,
            1.5,
            2,
            2.5,
            3,
            3.2,
            3.2,
            3.1,
        ]
    )
    weights: np.ndarray = w / w.sum()
    return weights


def _distance_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    # Equirectangular is plenty at tens of kilometres for an illustrative example.
    k = math.cos(math.radians(lat))
    return np.hypot((lons - lon) * 111_320.0 * k, (lats - lat) * 110_574.0)
