"""The parties' claims, genuine and staged, with the photographs attached to them.

A genuine claim names a real shelling of the claimant's side by the other: the place is the
settlement nearest the true impact, the claimed time the event's (rounded), and the photo's
EXIF says it was taken shortly after, near the impact. A staged claim (false flag), made by the
attacker before the offensive as a pretext, is one of:

- ``no_fire``: nothing landed within 10 km of the place within 2 h of the claimed time;
- ``own_side_fire``: a real shelling, but fired from the claimant's own side (a scripted event
  with its origin deeper inside the claimant's area than the settlement it hit).

Its photo's metadata predates the claimed event by about two days, and one staged claim reuses a
genuine claim's photo, resized and re-encoded. Photos are small real JPEG files under
``media/``, referenced by relative URI with their SHA-256.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.geo import Gazetteer, to_metric
from truceline.sim._frame import PARTIES
from truceline.sim._truthlog import TruthLog
from truceline.sim.fire import Shots
from truceline.sim.ndjson import DayOutput, iso1, loc
from truceline.sim.world import FIRE_CLASSES, World, lonlat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass
class StagedPlan:
    kind: str
    claimant: int
    t_h: float
    place: str
    lon: float
    lat: float


def _settlements(world: World, side: int, sectors: list[str]) -> tuple[IntArray, FloatArray, FloatArray]:
    gaz = Gazetteer.default()
    lon, lat, pop = gaz.arrays()
    dist = world.ag.distance_to_line_m(lon, lat)
    ok = (pop >= 1000) & (dist > 3_000) & (dist < 15_000) & (world.ag.side_of(lon, lat) == PARTIES[side])
    ok &= np.isin(world.ag.sector_of(lon, lat), sectors)
    idx = np.flatnonzero(ok)
    # Only near the main stretch of each sector's line, not a stray piece of it along a coast.
    mains = [max(shapely.get_parts(world.ag.sector(s).geometry_metric), key=lambda g: g.length) for s in sectors]
    x, y = to_metric(lon[idx], lat[idx])
    near = np.min([shapely.distance(m, shapely.points(x, y)) for m in mains], axis=0) < 15_000
    return idx[near] if near.any() else idx, lon, lat


def plan_staging(world: World, shots: Shots, rng: np.random.Generator) -> tuple[Shots, list[StagedPlan]]:
    """Choose the staged claims and script the own-side fire some of them rest on."""
    cfg, frame = world.cfg, world.frame
    if cfg.staged_claims <= 0:
        return shots, []
    claimant = world.attacker
    if world.buildup_sector is not None and cfg.offensive is not None:
        sectors = [frame.sector_ids[world.buildup_sector]]
        first, last = max(0, cfg.offensive - 10), min(cfg.offensive, cfg.days)
    else:
        sectors = [frame.sector_ids[int(k)] for k in world.fire_sectors]
        first, last = cfg.days // 4, max(cfg.days // 4 + 1, (3 * cfg.days) // 4)
    if first >= last:
        return shots, []
    idx, lon, lat = _settlements(world, claimant, sectors)
    if not len(idx):
        idx, lon, lat = _settlements(world, claimant, [frame.sector_ids[int(k)] for k in world.fire_sectors])
    gaz = Gazetteer.default()
    plans: list[StagedPlan] = []
    sx, sy = shots.ix, shots.iy
    used: set[int] = set()  # each pretext names another town
    for k in range(cfg.staged_claims):
        day = int(rng.integers(first, last))
        kind = "own_side_fire" if k % 2 == 0 else "no_fire"
        plan = None
        fresh = np.array([i for i in idx.tolist() if i not in used]) if len(used) < len(idx) else idx
        for town in rng.choice(fresh, min(12, len(fresh)), replace=False).tolist():
            tl, tt = float(lon[town]), float(lat[town])
            tx, ty = to_metric(tl, tt)
            near = np.hypot(sx - tx, sy - ty) < 10_000
            quiet = [
                day * 24.0 + float(h)
                for h in rng.uniform(0.5, 23.0, 24)
                if not (near & (np.abs(shots.t_h - day * 24.0 - h) < 2.0)).any()
            ]
            if quiet or kind == "own_side_fire":
                # A fabricated attack needs a quiet slot; an own-side shelling needs its own quiet too,
                # or the accused's real fire nearby would make the claim half true.
                t_h = quiet[0] if quiet else day * 24.0 + float(rng.uniform(0.5, 23.0))
                plan = StagedPlan(kind, claimant, round(t_h * 60) / 60, gaz.nearest(tl, tt).name, tl, tt)
                used.add(town)
                if quiet:
                    break
        if plan is None:  # the sector is too busy for a fabrication to go unchallenged: stage a shelling
            tl, tt = float(lon[int(idx[0])]), float(lat[int(idx[0])])
            plan = StagedPlan("own_side_fire", claimant, day * 24.0 + 2.0, gaz.nearest(tl, tt).name, tl, tt)
        plans.append(plan)
    extra = []
    for p in plans:
        if p.kind != "own_side_fire":
            continue
        tx, ty = to_metric(p.lon, p.lat)
        j = int(np.argmin(np.hypot(frame.x - tx, frame.y - ty)))
        u = np.array([tx - frame.x[j], ty - frame.y[j]])
        u /= max(float(np.hypot(*u)), 1.0)
        ox, oy = tx + 4_000 * u[0], ty + 4_000 * u[1]  # deeper inside the claimant's own area
        extra.append((p.t_h + 0.05, ox, oy, tx + rng.normal(0, 200), ty + rng.normal(0, 200)))
    if extra:
        a = np.array(extra)
        n = len(a)
        cls = np.full(n, FIRE_CLASSES.index("mortar"), dtype=np.intp)
        i = np.zeros(n, dtype=np.intp)
        staged = [p for p in plans if p.kind == "own_side_fire"]
        where = world.ag.sector_of([p.lon for p in staged], [p.lat for p in staged]).tolist()
        ids = frame.sector_ids
        sec = np.array([ids.index(w) if w in ids else int(world.fire_sectors[0]) for w in where], dtype=np.intp)
        shots = shots.append(
            Shots(a[:, 0], i + claimant, sec, cls, a[:, 1], a[:, 2], a[:, 3], a[:, 4], i - 1, i, i + 4, i - 1)
        )
    return shots, plans


@dataclass
class Claims:
    world: World
    media_dir: Any  # pathlib.Path or None
    plans: list[StagedPlan]
    photos: list[tuple[str, Any]] = field(default_factory=list)  # (uri, PIL image) of genuine claims
    n: int = 0

    def _photo(
        self, rng: np.random.Generator, taken: datetime, lon: float, lat: float, reuse: tuple[str, Any] | None
    ) -> dict[str, Any]:
        from PIL import Image

        if reuse is not None:
            img = reuse[1].resize((reuse[1].width * 3 // 4, reuse[1].height * 3 // 4))
        else:
            sky = np.linspace(200, 120, 48)[:, None, None] * np.ones((48, 64, 3))
            smoke = np.exp(
                -((np.arange(64)[None, :] - rng.uniform(15, 50)) ** 2 + (np.arange(48)[:, None] - 30) ** 2) / 120.0
            )
            arr = np.clip(sky * (1 - 0.6 * smoke[:, :, None]) + rng.normal(0, 12, (48, 64, 3)), 0, 255).astype(np.uint8)
            img = Image.fromarray(arr)
        exif = Image.Exif()
        stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp
        exif.get_ifd(0x8769)[0x9003] = stamp
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2], gps[3], gps[4] = "N", _dms(lat), "E", _dms(lon)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85, exif=exif.tobytes())
        data = buf.getvalue()
        self.n += 1
        uri = f"media/claim-{self.n:04d}.jpg"
        if self.media_dir is not None:
            self.media_dir.mkdir(parents=True, exist_ok=True)
            (self.media_dir / f"claim-{self.n:04d}.jpg").write_bytes(data)
        if reuse is None:
            self.photos.append((uri, img))
        return {
            "uri": uri,
            "sha256": hashlib.sha256(data).hexdigest(),
            "media_type": "image/jpeg",
            "exif_time": iso1(int(taken.timestamp() * 1e6)),
            "gps": [round(lon, 5), round(lat, 5)],
            "reused_from": reuse[0] if reuse else None,
        }

    def issue(self, shots: Shots, day: int, out: DayOutput, rng: np.random.Generator, log: TruthLog) -> None:
        world, cfg = self.world, self.world.cfg
        start = cfg.start_time
        progress = 0.0 if cfg.onset is None else float(np.clip((day - cfg.onset + 1) / cfg.buildup_days, 0, 1))
        in_day = np.flatnonzero((shots.t_h >= day * 24.0) & (shots.t_h < (day + 1) * 24.0) & (shots.cause != 4))
        ilon, ilat = lonlat(shots.ix[in_day], shots.iy[in_day])
        impact_side = world.ag.side_of(ilon, ilat)
        gaz = Gazetteer.default()
        for _ in range(int(rng.poisson(cfg.genuine_claims_per_day * (1.0 + 2.0 * progress)))):
            claimant = world.attacker if rng.random() < 0.5 + 0.3 * progress else 1 - world.attacker
            cand = np.flatnonzero((shots.side[in_day] == 1 - claimant) & (impact_side == PARTIES[claimant]))
            if not len(cand):
                continue
            k = int(rng.choice(cand))
            s = int(in_day[k])
            place = gaz.nearest(float(ilon[k]), float(ilat[k]), min_population=500)
            t = start + timedelta(hours=float(shots.t_h[s]))
            media = self._photo(
                rng, t + timedelta(minutes=float(rng.uniform(15, 90))), float(ilon[k]), float(ilat[k]), None
            )
            self._record(
                out,
                log,
                rng,
                claimant,
                t,
                place.name,
                place.lon,
                place.lat,
                FIRE_CLASSES[int(shots.cls[s])],
                media,
                staged=False,
                kind="genuine",
                event=s,
                reasons=[],
            )
        for p in self.plans:
            if int(p.t_h // 24) != day:
                continue
            t = start + timedelta(hours=p.t_h)
            reuse = self.photos[0] if p.kind == "no_fire" and self.photos else None
            taken = t - timedelta(days=2, hours=float(rng.uniform(-3, 3)))
            media = self._photo(
                rng, taken, p.lon + float(rng.normal(0, 0.01)), p.lat + float(rng.normal(0, 0.01)), reuse
            )
            reasons = [f"photo metadata ({media['exif_time']}) predates the claimed time by about 2 days"]
            event = None
            if p.kind == "no_fire":
                reasons.insert(0, f"no impact within 10 km of {p.place} within 2 h of the claimed time")
            else:
                hit = np.flatnonzero((shots.cause == 4) & (np.abs(shots.t_h - p.t_h - 0.05) < 1e-6))
                event = int(hit[0]) if len(hit) else None
                reasons.insert(
                    0, f"the shelling of {p.place} was fired from {PARTIES[p.claimant]}'s own side, not by the accused"
                )
            if reuse is not None:
                reasons.append(f"the photo is a resized re-encoding of {reuse[0]}, attached to an earlier claim")
            self._record(
                out,
                log,
                rng,
                p.claimant,
                t,
                p.place,
                p.lon,
                p.lat,
                "artillery_ge100",
                media,
                staged=True,
                kind=p.kind,
                event=event,
                reasons=reasons,
            )

    def _record(
        self,
        out: DayOutput,
        log: TruthLog,
        rng: np.random.Generator,
        claimant: int,
        t: datetime,
        place: str,
        lon: float,
        lat: float,
        weapon: str,
        media: dict[str, Any],
        *,
        staged: bool,
        kind: str,
        event: int | None,
        reasons: list[str],
    ) -> None:
        claimed = t.replace(second=0, microsecond=0) - timedelta(minutes=t.minute % 10)
        said = t + timedelta(hours=float(rng.uniform(3, 10)))
        party, other = PARTIES[claimant], PARTIES[1 - claimant]
        n = len(log.claims)
        ref = out.record(
            "claim",
            f"claim-{said:%Y%m%d}-{n:04d}",
            party,
            f"mod-press-{party}",
            int(said.timestamp() * 1e6),
            loc(lon, lat, 2_000.0) if rng.random() < 0.5 else None,
            tlp="clear",
            reliability="F",
            credibility=6,
            time_error_s=0.0,
            claimant=party,
            accused=other,
            claim_kind="shelling",
            claimed_time=claimed.strftime("%Y-%m-%dT%H:%M:%SZ"),
            place_name=place,
            weapon_class=weapon,
            casualties=int(rng.poisson(0.5)),
            media=[{k: media[k] for k in ("uri", "sha256", "media_type")}],
            text=f"{other} forces shelled {place} at about {claimed:%H:%M} UTC.",
        )
        log.claims.append(
            {
                "ref": ref,
                "claimant": party,
                "accused": other,
                "claimed_time": claimed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "place": place,
                "lon": round(lon, 5),
                "lat": round(lat, 5),
                "staged": staged,
                "kind": kind,
                "event": None if event is None else f"E{event:07d}",
                "reasons": reasons,
                "media": [media],
            }
        )


def _dms(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    return float(d), float(m), round((value - d - m / 60) * 3600, 2)
