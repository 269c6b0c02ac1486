"""The simulated world's ground: forces, logistics, storage removals, weather and jamming.

Objects on the ground (batteries, firing positions, vehicle groups, depots, hospitals, bridging,
air defence) are rows of an :class:`Objects` table, one row per object and stretch of time it
stands still, so a unit that moves toward the line during the build-up is two rows. Sensors
query the table by time and place; the truth lists every row with its violation, if any.

With ``ScenarioConfig.firing_positions_in_sector`` (not yet the default) firing positions stand in their
own sector as the agreement defines it (``Agreement.sector_of``, the nearest stretch of line), so
the sector the truth gives a shot is the one the monitors give it (docs/assess.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.geo import to_lonlat
from truceline.model import UsageError
from truceline.sim._frame import PARTIES, Frame
from truceline.sim.config import ScenarioConfig

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

FIRE_CLASSES = ("mortar", "artillery_lt100", "artillery_ge100", "mlrs", "tank", "heavy_mlrs_missile")
# Where each class fires from (km behind the line) and how far it reaches across it (km).
FIRE_OFFSET_KM = {
    "mortar": (0.8, 3.0),
    "artillery_lt100": (2.0, 6.0),
    "artillery_ge100": (6.0, 18.0),
    "mlrs": (8.0, 25.0),
    "tank": (0.8, 2.5),
    "heavy_mlrs_missile": (30.0, 75.0),
}
REACH_KM = {
    "mortar": 2.5,
    "artillery_lt100": 5.0,
    "artillery_ge100": 8.0,
    "mlrs": 10.0,
    "tank": 2.0,
    "heavy_mlrs_missile": 40.0,
}
FIRING_POSITIONS = {
    "mortar": 3,
    "artillery_lt100": 2,
    "artillery_ge100": 2,
    "mlrs": 1,
    "tank": 2,
    "heavy_mlrs_missile": 1,
}
# The force posture: batteries per sector, side and class, held behind the line.
UNITS_PER_SECTOR = {
    "artillery_ge100": 3,
    "mlrs": 2,
    "heavy_mlrs_missile": 1,
    "tank": 3,
    "mortar": 2,
    "artillery_lt100": 1,
}
IMAGERY_CLASS = {
    "artillery_ge100": "artillery",
    "artillery_lt100": "artillery",
    "mlrs": "mlrs",
    "heavy_mlrs_missile": "heavy_mlrs_missile",
    "tank": "tank",
    "mortar": "mortar",
    "armoured_vehicle": "armoured_vehicle",
    "air_defence": "air_defence",
}
LOGISTICS = ("fuel_depot", "ammunition_depot", "field_hospital", "bridging_equipment")


# Placing objects behind the line: draws per call before giving up (the last draw stands), and for
# firing positions (``in_sector``) how far the second half of the draws moves them toward the line
# (x0.85 per draw) and how far inside their sector they must be.
PLACE_ATTEMPTS = 30
IN_SECTOR_SHRINK = 0.85
IN_SECTOR_MARGIN_M = 500.0
FALLBACK_OFFSETS_M = (500.0, 1000.0, 2000.0, 4000.0)
_MARGIN_DIRS = np.array([(np.cos(a), np.sin(a)) for a in np.arange(8) * np.pi / 4])


@dataclass
class Objects:
    """Object rows: one per object and stretch of time (hours from the run's start) it stands still."""

    id: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)  # unit, firing_position, vehicles, logistics, air_defence
    cls: list[str] = field(default_factory=list)  # a weapon class or an imagery class
    side: list[int] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    t0: list[float] = field(default_factory=list)
    t1: list[float] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    camouflage: list[float] = field(default_factory=list)  # share of looks that miss it
    serials: list[tuple[str, ...]] = field(default_factory=list)
    violation: list[str | None] = field(default_factory=list)
    note: list[str] = field(default_factory=list)

    def add(self, **row: Any) -> None:
        for name in ("id", "kind", "cls", "side", "count", "t0", "t1", "x", "y"):
            getattr(self, name).append(row[name])
        self.camouflage.append(row.get("camouflage", 0.0))
        self.serials.append(tuple(row.get("serials", ())))
        self.violation.append(row.get("violation"))
        self.note.append(row.get("note", ""))

    def arrays(self) -> dict[str, NDArray[Any]]:
        return {
            "side": np.array(self.side, dtype=np.intp),
            "count": np.array(self.count, dtype=np.intp),
            "t0": np.array(self.t0),
            "t1": np.array(self.t1),
            "x": np.array(self.x),
            "y": np.array(self.y),
            "camouflage": np.array(self.camouflage),
        }


@dataclass(frozen=True)
class Removal:
    site: str
    party: str
    serial: str
    weapon_class: str
    hour: float
    seen_at_front: str | None  # the object id that later shows the serial near the line


@dataclass(frozen=True)
class Jamming:
    x: float
    y: float
    radius_m: float
    t0: float
    t1: float
    side: int


@dataclass
class World:
    ag: Agreement
    cfg: ScenarioConfig
    frame: Frame
    fire_sectors: IntArray  # frame sector indices of contact-line sectors
    objects: Objects
    fp_index: dict[tuple[int, int, str], list[int]]  # (sector, side, class) -> object rows of firing positions
    removals: list[Removal]
    jamming: list[Jamming]
    weather: dict[str, FloatArray]
    buildup_sector: int | None
    attacker: int

    def temperature_c(self, t_h: FloatArray, y: FloatArray) -> FloatArray:
        day = np.clip((t_h // 24).astype(np.intp), 0, self.cfg.days - 1)
        hour = t_h % 24
        return np.asarray(
            self.weather["t_mean"][day] + 5.0 * np.sin(2 * np.pi * (hour - 5.0) / 24.0) - 0.6 * y / 100_000.0
        )

    def wind(self, t_h: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Wind vector (east, north) in m/s blowing *toward*; reported as speed and 'from' direction."""
        day = np.clip((t_h // 24).astype(np.intp), 0, self.cfg.days - 1)
        speed = self.weather["wind_speed"][day]
        frm = np.radians(self.weather["wind_from"][day] + 20.0 * np.sin(2 * np.pi * (t_h % 24) / 24.0))
        return -speed * np.sin(frm), -speed * np.cos(frm)

    def jammed(self, t_h: FloatArray, x: FloatArray, y: FloatArray) -> NDArray[np.bool_]:
        out = np.zeros(np.shape(t_h), dtype=bool)
        for j in self.jamming:
            out |= (t_h >= j.t0) & (t_h < j.t1) & (np.hypot(x - j.x, y - j.y) <= j.radius_m)
        return out


def build_world(
    ag: Agreement,
    cfg: ScenarioConfig,
    frame: Frame,
    rng: np.random.Generator,
    *,
    firing_positions_in_sector: bool | None = None,
) -> World:
    """The world of ``cfg``: objects on the ground, storage removals, jamming and weather.

    ``firing_positions_in_sector``: redraw each firing position that is not in its own sector (as
    ``Agreement.sector_of`` defines it) inside it, from a child stream of ``rng``, so everything
    else is the same world for the seed. ``None`` (the default) takes
    ``cfg.firing_positions_in_sector`` (off by default; docs/assess.md, "branching ratio through
    the pipeline").
    """
    if firing_positions_in_sector is None:
        firing_positions_in_sector = cfg.firing_positions_in_sector
    horizon = cfg.days * 24.0
    ids = frame.sector_ids
    if cfg.buildup_sector and cfg.buildup_sector not in ids:
        raise UsageError(f"no sector {cfg.buildup_sector!r} to build up in; sectors: {', '.join(ids)}")
    buildup = ids.index(cfg.buildup_sector) if cfg.buildup_sector else None
    # Fire happens along the contact line, and along an approach axis only if an attack comes from it.
    fire = [k for k, kind in enumerate(frame.sector_kinds) if kind == "contact_line"]
    if buildup is not None and frame.sector_kinds[buildup] == "approach_axis":
        fire.append(buildup)
    fire_sectors = np.array(fire, dtype=np.intp)
    attacker = PARTIES.index(cfg.attacker)
    objects = Objects()
    limit = {c: ag.withdrawal_distance_m(c) for c in FIRE_CLASSES}
    close_in: dict[tuple[int, int], tuple[FloatArray, FloatArray]] = {}  # (sector, side) -> _close_in

    def place(
        sector: int,
        side: int,
        offset_m: FloatArray,
        min_m: FloatArray | None = None,
        max_m: FloatArray | None = None,
        *,
        in_sector: bool = False,
        gen: np.random.Generator | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """Points ``offset_m`` behind the sector's line on ``side``, redrawn until they are on that side
        and their true distance to the line is within [min_m, max_m] (default ±30 % of the offset):
        an offset along a wiggly line's normal can land closer to another bend of it.

        ``in_sector=True`` (firing positions) also requires each point to be in the sector as the
        agreement defines it (:meth:`Agreement.sector_of`, the nearest stretch of line), with
        :data:`IN_SECTOR_MARGIN_M` to spare, and never borrows a neighbour's stretch of line; see
        :func:`_close_in` for a sector where nothing fits. ``gen``: the random stream to draw from
        (default: the world's).
        """
        draws = rng if gen is None else gen
        offset_m = np.asarray(offset_m, dtype=np.float64)
        lo = 0.7 * offset_m if min_m is None else np.asarray(min_m, dtype=np.float64)
        hi = 1.3 * offset_m if max_m is None else np.asarray(max_m, dtype=np.float64)
        label = "" if frame.sector_kinds[sector] == "approach_axis" and side != 0 else PARTIES[side]
        out_x, out_y = np.zeros(len(offset_m)), np.zeros(len(offset_m))
        todo = np.arange(len(offset_m))
        anywhere = np.flatnonzero(np.isin(frame.sector, fire_sectors))
        own = frame.samples(ids[sector])
        for attempt in range(PLACE_ATTEMPTS):
            late = attempt >= PLACE_ATTEMPTS // 2
            # Closer to the line after half the attempts: only for in-sector points (1 the first
            # half, then 0.85, 0.72, ... down to 0.09 of the offset and of its band).
            shrink = IN_SECTOR_SHRINK ** (attempt - PLACE_ATTEMPTS // 2 + 1) if in_sector and late else 1.0
            # A sector too shallow for the posture (a pocket, a bend near the border) holds its
            # heavy weapons behind the neighbouring stretch of line instead -- except firing
            # positions (``in_sector``), which it holds closer to its own line.
            pool = anywhere if late and not in_sector else own
            want = offset_m[todo] * shrink
            i = frame.draw(draws, pool, side, want)
            off = np.minimum(want, frame.depth[side, i] * 0.95)
            x, y = frame.place(i, side, off, draws.normal(0, 300, len(todo)))
            lon, lat = to_lonlat(x, y)
            if frame.sector_kinds[sector] == "approach_axis" and pool is own:
                # Beyond a border the reference is the border itself, not the far-away contact line.
                d = shapely.distance(ag.sectors[sector].geometry_metric, shapely.points(x, y))
            else:
                d = ag.distance_to_line_m(lon, lat)
            ok = (ag.side_of(lon, lat) == label) & (d >= lo[todo] * shrink) & (d <= hi[todo] * shrink)
            if in_sector:
                ok &= _in_sector(ag, x, y, ids[sector])
            # The last draw stands where nothing fits (a shallow pocket); its true distance decides
            # whether it is a violation, so the truth stays exact either way.
            out_x[todo] = x
            out_y[todo] = y
            todo = todo[~ok]
            if not len(todo):
                break
        if in_sector and len(todo):
            if (sector, side) not in close_in:
                close_in[(sector, side)] = _close_in(ag, frame, own, side, label, ids[sector])
            cx, cy = close_in[(sector, side)]
            pick = draws.integers(0, len(cx), len(todo))
            out_x[todo], out_y[todo] = cx[pick], cy[pick]
        return out_x, out_y

    def clause_for(cls: str, dist: float) -> str | None:
        if limit.get(cls, 0.0) > 0 and dist < limit[cls]:
            return f"withdrawal.{cls}"
        return None

    def add_rows(rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        lon, lat = to_lonlat(np.array([r["x"] for r in rows]), np.array([r["y"] for r in rows]))
        dist = ag.distance_to_line_m(lon, lat)
        out = []
        for r, d in zip(rows, dist, strict=True):
            if "violation" not in r:
                r["violation"] = clause_for(r["cls"], float(d))
            out.append(len(objects.id))
            objects.add(**r)
        return out

    # Firing positions: hidden, close to the line, the origin of nearly all fire. With
    # ``firing_positions_in_sector`` each stands in its own sector as the agreement defines it (the
    # nearest stretch of line, ``in_sector``): a sector's fire is one Hawkes process in the truth,
    # and every monitor -- and fuse -- puts a shot in the sector nearest its origin, so a position
    # nearer a neighbour's line (a heavy weapon 30-75 km behind a curving line, or one a shallow
    # sector holds behind the neighbouring stretch) gives that sector fire it never answered and
    # takes it from its own (docs/assess.md, "branching ratio through the pipeline").
    fp_index: dict[tuple[int, int, str], list[int]] = {}
    # A child stream for the redraws: spawning draws nothing from the world's own.
    fp_rng = rng.spawn(1)[0] if firing_positions_in_sector else None
    n_fp = 0
    for sector in fire_sectors:
        for side in (0, 1):
            for cls, n in FIRING_POSITIONS.items():
                lo, hi = FIRE_OFFSET_KM[cls]
                offset = rng.uniform(lo, hi, n) * 1000.0
                x, y = place(int(sector), side, offset)
                if fp_rng is not None:
                    # Drawn as before, so the rest of the world (drawn after) is the same for the
                    # seed; those not in their sector are redrawn in it from a stream of their own.
                    moved = ~_in_sector(ag, x, y, ids[int(sector)])
                    if moved.any():
                        x[moved], y[moved] = place(int(sector), side, offset[moved], in_sector=True, gen=fp_rng)
                rows = [
                    {
                        "id": f"FP{n_fp + k:04d}",
                        "kind": "firing_position",
                        "cls": cls,
                        "side": side,
                        "count": int(rng.integers(1, 4)),
                        "t0": 0.0,
                        "t1": horizon,
                        "x": float(x[k]),
                        "y": float(y[k]),
                        "camouflage": 0.9,
                    }
                    for k in range(n)
                ]
                n_fp += n
                fp_index[(int(sector), side, cls)] = add_rows(rows)

    # The force posture: batteries and tank companies, mostly beyond their withdrawal distance.
    n_unit = 0
    for sector in fire_sectors:
        for side in (0, 1):
            for cls, n in UNITS_PER_SECTOR.items():
                violating = rng.random(n) < cfg.violation_share
                d = limit[cls] * np.where(violating, rng.uniform(0.3, 0.9, n), rng.uniform(1.1, 2.0, n))
                x, y = place(
                    int(sector),
                    side,
                    d,
                    np.where(violating, 0.2 * limit[cls], limit[cls] * 1.02),
                    np.where(violating, limit[cls] * 0.98, limit[cls] * 3.0),
                )
                rows = [
                    {
                        "id": f"U{n_unit + k:04d}",
                        "kind": "unit",
                        "cls": cls,
                        "side": side,
                        "count": int(rng.integers(3, 7)),
                        "t0": 0.0,
                        "t1": horizon,
                        "x": float(x[k]),
                        "y": float(y[k]),
                        "camouflage": 0.2,
                    }
                    for k in range(n)
                ]
                n_unit += n
                add_rows(rows)
            # Vehicle parks, depots and air defence of the normal posture.
            x, y = place(int(sector), side, rng.uniform(8e3, 30e3, 3))
            for k, cls in enumerate(("armoured_vehicle", "truck", "air_defence")):
                add_rows(
                    [
                        {
                            "id": f"V{len(objects.id):05d}",
                            "kind": "vehicles" if k < 2 else "air_defence",
                            "cls": cls,
                            "side": side,
                            "count": int(rng.integers(2, 10)),
                            "t0": 0.0,
                            "t1": horizon,
                            "x": float(x[k]),
                            "y": float(y[k]),
                            "camouflage": 0.3,
                        }
                    ]
                )
            x, y = place(int(sector), side, rng.uniform(35e3, 70e3, 1))
            add_rows(
                [
                    {
                        "id": f"L{len(objects.id):05d}",
                        "kind": "logistics",
                        "cls": str(rng.choice(LOGISTICS[:2])),
                        "side": side,
                        "count": 1,
                        "t0": 0.0,
                        "t1": horizon,
                        "x": float(x[0]),
                        "y": float(y[0]),
                        "camouflage": 0.1,
                    }
                ]
            )

    removals = _storage_removals(ag, cfg, rng, attacker)
    jamming: list[Jamming] = []
    if buildup is not None:
        _buildup(ag, cfg, frame, rng, objects, add_rows, place, buildup, attacker, removals, jamming)
    if cfg.disengagement_breach and ag.disengagement_areas:
        _disengagement_breach(ag, cfg, rng, add_rows)
    # A little jamming happens anywhere (nuisance), so the build-up's jamming must stand out.
    for day in range(cfg.days):
        if rng.random() < 0.05:
            sector = int(rng.choice(fire_sectors))
            side = int(rng.integers(0, 2))
            x, y = place(sector, side, rng.uniform(5e3, 20e3, 1))
            t0 = day * 24 + float(rng.uniform(0, 20))
            jamming.append(Jamming(float(x[0]), float(y[0]), 20_000.0, t0, t0 + float(rng.uniform(1, 4)), side))
    weather = {
        "t_mean": 16.0 - 0.25 * np.arange(cfg.days) + rng.normal(0, 2.0, cfg.days),
        "wind_speed": np.minimum(rng.gamma(2.0, 2.0, cfg.days), 14.0),
        "wind_from": (250.0 + rng.normal(0, 60.0, cfg.days)) % 360.0,
    }
    return World(ag, cfg, frame, fire_sectors, objects, fp_index, removals, jamming, weather, buildup, attacker)


def _in_sector(ag: Agreement, x: FloatArray, y: FloatArray, sector_id: str) -> NDArray[np.bool_]:
    """Whether each point, and the eight points :data:`IN_SECTOR_MARGIN_M` around it, are in ``sector_id``.

    The sector is the agreement's (:meth:`Agreement.sector_of`: the nearest stretch of line), the
    one every monitor -- and fuse -- gives a shot from there. The margin keeps the scatter of the
    shots around a position (150 m) from crossing into the neighbour's sector.
    """
    px = np.concatenate([x[None, :], x[None, :] + IN_SECTOR_MARGIN_M * _MARGIN_DIRS[:, :1]])
    py = np.concatenate([y[None, :], y[None, :] + IN_SECTOR_MARGIN_M * _MARGIN_DIRS[:, 1:]])
    lon, lat = to_lonlat(px.ravel(), py.ravel())
    return np.asarray((ag.sector_of(lon, lat) == sector_id).reshape(px.shape).all(axis=0))


def _close_in(
    ag: Agreement, frame: Frame, own: IntArray, side: int, label: str, sector_id: str
) -> tuple[FloatArray, FloatArray]:
    """Where a sector's firing positions stand when every draw failed: close behind its own line.

    Each of the sector's samples is tried at :data:`FALLBACK_OFFSETS_M` behind the line on
    ``side``; the deepest offset that is on that side's ground and in the sector (with its margin)
    wins. The places of the samples that have one, or -- only if the sector has no ground on that
    side at all -- the samples themselves on the line (still the sector's; their true distance
    decides any violation).
    """
    ok_any = np.zeros(len(own), dtype=bool)
    bx, by = frame.x[own].copy(), frame.y[own].copy()
    for off in FALLBACK_OFFSETS_M:  # shallow to deep: a deeper offset that fits replaces a shallower one
        x, y = frame.place(own, side, np.minimum(off, frame.depth[side, own] * 0.95))
        lon, lat = to_lonlat(x, y)
        ok = (frame.depth[side, own] > 0) & (ag.side_of(lon, lat) == label) & _in_sector(ag, x, y, sector_id)
        bx, by = np.where(ok, x, bx), np.where(ok, y, by)
        ok_any |= ok
    keep = np.flatnonzero(ok_any) if ok_any.any() else np.arange(len(own))
    return bx[keep], by[keep]


def _storage_removals(ag: Agreement, cfg: ScenarioConfig, rng: np.random.Generator, attacker: int) -> list[Removal]:
    sites = list(ag.storage_sites)
    if not sites or cfg.storage_removals <= 0:
        return []
    out: list[Removal] = []
    # The attacker's sites lose weapons first: that is where the build-up draws from.
    preferred = [s for s in sites if s.party == PARTIES[attacker]] or sites
    for k in range(cfg.storage_removals):
        site = preferred[k % len(preferred)] if k < cfg.storage_removals - 1 else sites[int(rng.integers(len(sites)))]
        item = site.inventory[int(rng.integers(len(site.inventory)))]
        taken = {r.serial for r in out}
        serial = next((s for s in item.serials[::-1] if s not in taken), item.serials[0])
        hour = float(rng.uniform(0.1, 0.7)) * cfg.days * 24.0
        out.append(Removal(site.id, site.party, serial, item.weapon_class, hour, None))
    return out


def _buildup(
    ag: Agreement,
    cfg: ScenarioConfig,
    frame: Frame,
    rng: np.random.Generator,
    objects: Objects,
    add_rows: Any,
    place: Any,
    sector: int,
    side: int,
    removals: list[Removal],
    jamming: list[Jamming],
) -> None:
    """Over ``buildup_days`` the attacker brings weapons, vehicles and logistics toward the line."""
    onset, offensive = cfg.onset, cfg.offensive
    assert onset is not None and offensive is not None
    horizon = cfg.days * 24.0
    t_on, t_off = onset * 24.0, offensive * 24.0
    span = t_off - t_on

    def when(n: int, lo: float = 0.0, hi: float = 1.0) -> FloatArray:
        # Arrivals accelerate toward the offensive (a quadratic ramp), as every build-up did.
        return t_on + span * (lo + (hi - lo) * np.sqrt(rng.random(n)))

    # Weapons first appear far back, then move forward into their withdrawal zones.
    for cls, n in (("artillery_ge100", 8), ("mlrs", 5), ("tank", 10), ("heavy_mlrs_missile", 2), ("mortar", 4)):
        limit = ag.withdrawal_distance_m(cls)
        far_x, far_y = place(
            sector, side, limit * rng.uniform(1.3, 2.2, n), np.full(n, limit * 1.02), np.full(n, limit * 3.0)
        )
        near_x, near_y = place(
            sector, side, limit * rng.uniform(0.35, 0.9, n), np.full(n, limit * 0.2), np.full(n, limit * 0.98)
        )
        arrive, advance = when(n, 0.0, 0.6), when(n, 0.6, 1.0)
        for k in range(n):
            uid = f"B{len(objects.id):05d}"
            serials: tuple[str, ...] = ()
            if cls == "artillery_ge100" and k == 0:
                # A weapon quietly taken from storage turns up near the line.
                for i, r in enumerate(removals):
                    if r.weapon_class == cls and r.party == PARTIES[side] and r.seen_at_front is None:
                        removals[i] = Removal(
                            r.site, r.party, r.serial, r.weapon_class, min(r.hour, arrive[k] - 24.0), uid
                        )
                        serials = (r.serial,)
                        break
            common = {
                "id": uid,
                "kind": "unit",
                "cls": cls,
                "side": side,
                "count": int(rng.integers(3, 7)),
                "camouflage": 0.3,
                "serials": serials,
                "note": "build-up",
            }
            add_rows(
                [
                    {
                        **common,
                        "t0": float(arrive[k]),
                        "t1": float(min(advance[k], horizon)),
                        "x": float(far_x[k]),
                        "y": float(far_y[k]),
                    },
                    {**common, "t0": float(advance[k]), "t1": horizon, "x": float(near_x[k]), "y": float(near_y[k])},
                ]
            )
    # Vehicles, logistics and air defence concentrate close behind the line.
    kinds = [
        ("armoured_vehicle", "vehicles", 30, (5e3, 20e3)),
        ("truck", "vehicles", 25, (8e3, 30e3)),
        ("air_defence", "air_defence", 6, (10e3, 30e3)),
    ] + [(c, "logistics", 5, (10e3, 30e3)) for c in LOGISTICS]
    for cls, kind, n, (lo, hi) in kinds:
        x, y = place(sector, side, rng.uniform(lo, hi, n))
        appear = when(n)
        add_rows(
            [
                {
                    "id": f"B{len(objects.id) + k:05d}",
                    "kind": kind,
                    "cls": cls,
                    "side": side,
                    "count": int(rng.integers(3, 15)),
                    "t0": float(appear[k]),
                    "t1": horizon,
                    "x": float(x[k]),
                    "y": float(y[k]),
                    "camouflage": 0.2,
                    "note": "build-up",
                    "violation": None,
                }
                for k in range(n)
            ]
        )
    # GNSS jamming around the build-up, more often and longer as the day approaches.
    for day in range(max(onset, 0), min(offensive + 3, cfg.days)):
        progress = min(1.0, (day - onset + 1) / cfg.buildup_days)
        for _ in range(int(rng.poisson(0.3 + 2.5 * progress))):
            x, y = place(sector, side, rng.uniform(5e3, 25e3, 1))
            t0 = day * 24.0 + float(rng.uniform(0, 20))
            jamming.append(
                Jamming(float(x[0]), float(y[0]), 35_000.0, t0, t0 + float(rng.uniform(2, 2 + 8 * progress)), side)
            )


def _disengagement_breach(ag: Agreement, cfg: ScenarioConfig, rng: np.random.Generator, add_rows: Any) -> None:
    area = ag.disengagement_areas[min(1, len(ag.disengagement_areas) - 1)]
    poly = area.geometry_metric
    x0, y0, x1, y1 = poly.bounds
    for _ in range(200):
        x, y = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
        if shapely.contains_xy(poly, x, y):
            break
    lon, lat = to_lonlat(x, y)
    side_name = str(ag.side_of([lon], [lat])[0]) or "RUS"
    start = float(rng.uniform(0.2, 0.5)) * cfg.days * 24.0
    end = min(start + float(rng.uniform(2, 5)) * 24.0, cfg.days * 24.0)
    add_rows(
        [
            {
                "id": f"D{0:05d}",
                "kind": "unit",
                "cls": "tank",
                "side": PARTIES.index(side_name),
                "count": 3,
                "t0": start,
                "t1": end,
                "x": x,
                "y": y,
                "camouflage": 0.2,
                "violation": f"disengagement.{area.id}",
                "note": f"inside {area.name} disengagement area",
            }
        ]
    )


def lonlat(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Theatre metres to lon/lat for arrays (always arrays, even of one point)."""
    return to_lonlat(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))


__all__ = [
    "FIRE_CLASSES",
    "IMAGERY_CLASS",
    "Jamming",
    "Objects",
    "Removal",
    "World",
    "build_world",
    "lonlat",
]
