"""Daily indicators per sector: what the reports say about fire, build-up and obstruction.

Each observation that bears on an attack is classified into one indicator and counted in the
sector of its location (``Agreement.sector_of``: contact-line sectors and the approach axes along
the borders with Russia and Belarus alike) on its UTC day. Fire comes from the fuse/attribute
stages' incidents, split by side with the attribution's probability. The result is a dense
(sector × day × indicator) table, built with one ``np.add.at`` per source, plus a few report
references per cell so that a warning can point at what moved it.

>>> INDICATORS[:3]
('fire', 'fire_ukr', 'fire_rus')
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache

import numpy as np
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.geo import Gazetteer
from truceline.model import (
    Claim,
    ImageryDetection,
    Markings,
    MovementDenial,
    ObservationBase,
    PatrolReport,
    UAVSighting,
    WeaponSighting,
)
from truceline.model.products import ObservationRef

__all__ = [
    "DESCRIPTIONS",
    "INDICATORS",
    "RELEVANT_KINDS",
    "DailyTable",
    "FireEvents",
    "daily_table",
    "day_index",
    "refs_for",
    "sector_fire",
]

FloatArray = NDArray[np.float64]

INDICATORS: tuple[str, ...] = (
    "fire",  # fire incidents, both sides
    "fire_ukr",  # expected number fired by Ukraine (attribution probability)
    "fire_rus",
    "explosions",  # explosions heard by patrols (the OSCE's count)
    "small_arms",  # bursts and shots heard by patrols
    "gnss",  # GNSS interference noted by patrols and UAV crews
    "denials",  # monitors turned back
    "logistics",  # fuel and ammunition depots, field hospitals, bridging equipment
    "air_defence",
    "armour",  # armoured vehicles, tanks, trucks, engineering vehicles seen
    "heavy_in_zone",  # heavy weapons seen inside their withdrawal zone
    "claims",  # claims of attack in the sector, placed by their settlement (pretexts among them)
)
DESCRIPTIONS: dict[str, str] = {
    "fire": "fire incidents",
    "fire_ukr": "fire incidents attributed to UKR",
    "fire_rus": "fire incidents attributed to RUS",
    "explosions": "explosions heard by patrols",
    "small_arms": "small-arms bursts and shots heard by patrols",
    "gnss": "GNSS interference noted",
    "denials": "monitors' movement denials",
    "logistics": "depots, field hospitals and bridging equipment seen",
    "air_defence": "air-defence systems seen",
    "armour": "armoured vehicles, tanks and trucks seen",
    "heavy_in_zone": "heavy weapons seen inside their withdrawal zone",
    "claims": "claims of attack located in the sector",
}
_COL = {name: k for k, name in enumerate(INDICATORS)}
_LOGISTICS = {"fuel_depot", "ammunition_depot", "field_hospital", "bridging_equipment"}
_ARMOUR = {"armoured_vehicle", "tank", "truck", "engineering_vehicle"}
# Imagery classes that are restricted weapons, with the weapon class whose withdrawal distance applies.
_HEAVY_IMAGERY = {
    "artillery": "artillery_ge100",
    "mlrs": "mlrs",
    "heavy_mlrs_missile": "heavy_mlrs_missile",
    "mortar": "mortar",
    "tank": "tank",
}
_GNSS = re.compile(r"gnss|jamming|gps interference", re.IGNORECASE)
_REFS_PER_CELL = 3


def day_index(when: datetime, start: date) -> int:
    """Whole UTC days from ``start`` (negative before it)."""
    return (when.astimezone(UTC).date() - start).days


@dataclass(frozen=True)
class FireEvents:
    """Fire incidents as arrays: time (UTC epoch seconds), sector id, P(fired by UKR), incident id."""

    time_s: FloatArray
    sector: NDArray[np.str_]
    p_ukr: FloatArray
    ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (len(self.time_s) == len(self.sector) == len(self.p_ukr)):
            raise ValueError("fire arrays must have the same length")

    @classmethod
    def empty(cls) -> FireEvents:
        return cls(np.zeros(0), np.zeros(0, dtype=np.str_), np.zeros(0))


@dataclass
class DailyTable:
    """Counts per (sector, day, indicator) from ``start`` for ``days`` days, with a few references per cell."""

    sectors: tuple[str, ...]
    start: date
    counts: FloatArray
    refs: dict[tuple[int, int, int], list[ObservationRef]] = field(default_factory=dict)
    markings: dict[int, list[Markings]] = field(default_factory=dict)  # per sector: the markings of what it used

    @property
    def days(self) -> int:
        return int(self.counts.shape[1])

    def day(self, k: int) -> date:
        return self.start + timedelta(days=k)


def _classify(obs: ObservationBase, distance_m: float, agreement: Agreement) -> list[tuple[str, float]]:
    """The indicators an observation adds to, with amounts (most add to none); ``distance_m`` to the line."""
    if isinstance(obs, PatrolReport):
        out: list[tuple[str, float]] = []
        if obs.explosions:
            out.append(("explosions", float(obs.explosions)))
        if obs.bursts or obs.shots:
            out.append(("small_arms", float(obs.bursts + obs.shots)))
        if _GNSS.search(obs.note):
            out.append(("gnss", 1.0))
        return out
    if isinstance(obs, MovementDenial):
        return [("denials", 1.0)]
    if isinstance(obs, ImageryDetection | UAVSighting):
        cls, n = obs.object_class, float(obs.count)
        if cls in _LOGISTICS:
            return [("logistics", n)]
        if cls == "air_defence":
            return [("air_defence", n)]
        out = [("armour", n)] if cls in _ARMOUR else []
        if cls in _HEAVY_IMAGERY:
            limit = agreement.withdrawal_distance_m(_HEAVY_IMAGERY[cls])
            if limit > 0 and distance_m < limit:
                out.append(("heavy_in_zone", n))
        return out
    if isinstance(obs, WeaponSighting):
        limit = agreement.withdrawal_distance_m(obs.weapon_class)
        if limit > 0 and distance_m < limit:
            return [("heavy_in_zone", float(obs.count))]
        return []
    if isinstance(obs, Claim):
        return [("claims", 1.0)]
    return []


RELEVANT_KINDS = ("patrol_report", "movement_denial", "imagery_detection", "uav_sighting", "weapon_sighting", "claim")
"""The observation kinds the indicators read (the bulk of the reports — acoustic arrivals — is not among them)."""


def _relevant(obs: ObservationBase) -> bool:
    return isinstance(obs, PatrolReport | MovementDenial | ImageryDetection | UAVSighting | WeaponSighting | Claim)


@cache
def _gazetteer() -> Gazetteer:
    return Gazetteer.default()


def _position(obs: ObservationBase, agreement: Agreement) -> tuple[float, float] | None:
    """Where an observation speaks of: its location, or for a claim the settlement it names.

    A name can be many settlements; a claim of shelling names one near the line, so the candidate
    closest to the contact line is taken.
    """
    loc = getattr(obs, "location", None)
    if loc is not None:
        return float(loc.lon), float(loc.lat)
    if isinstance(obs, Claim) and obs.place_name:
        places = _gazetteer().resolve(obs.place_name)
        if places:
            d = agreement.distance_to_line_m([p.lon for p in places], [p.lat for p in places])
            best = places[int(np.argmin(d))]
            return best.lon, best.lat
    return None


def daily_table(
    agreement: Agreement,
    start: date,
    days: int,
    observations: Iterable[ObservationBase],
    fire: FireEvents | None = None,
) -> DailyTable:
    """Count every indicator per sector and day on [start, start + days)."""
    sectors = tuple(s.id for s in agreement.sectors)
    index = {s: k for k, s in enumerate(sectors)}
    counts = np.zeros((len(sectors), days, len(INDICATORS)))
    table = DailyTable(sectors, start, counts)
    located: list[ObservationBase] = []
    lons: list[float] = []
    lats: list[float] = []
    for obs in observations:
        if not _relevant(obs):
            continue
        where = _position(obs, agreement)
        if where is not None:
            located.append(obs)
            lons.append(where[0])
            lats.append(where[1])
    if located:
        lon, lat = np.array(lons), np.array(lats)
        sector_ids = agreement.sector_of(lon, lat)
        distance = agreement.distance_to_line_m(lon, lat)
        marks: dict[int, list[Markings]] = defaultdict(list)
        for obs, sid, dist in zip(located, sector_ids, distance, strict=True):
            s = index.get(str(sid))
            d = day_index(obs.time, start)
            if s is None or not 0 <= d < days:
                continue
            for name, amount in _classify(obs, float(dist), agreement):
                col = _COL[name]
                counts[s, d, col] += amount
                cell = table.refs.setdefault((s, d, col), [])
                if len(cell) < _REFS_PER_CELL:
                    cell.append(ObservationRef(participant=obs.participant, source=obs.source, key=obs.key))
                if len(marks[s]) < 64 and obs.markings not in marks[s]:
                    marks[s].append(obs.markings)
        table.markings = dict(marks)
    if fire is not None and len(fire.time_s):
        _add_fire(counts, index, start, days, fire)
    return table


def _add_fire(counts: FloatArray, index: dict[str, int], start: date, days: int, fire: FireEvents) -> None:
    origin = datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()
    d = np.floor((fire.time_s - origin) / 86_400.0).astype(np.intp)
    s = np.array([index.get(str(x), -1) for x in fire.sector], dtype=np.intp)
    ok = (s >= 0) & (d >= 0) & (d < days)
    s, d, p = s[ok], d[ok], fire.p_ukr[ok]
    flat = s * days + d  # one bincount per column: the (sector, day) cell as a flat index
    size = len(index) * days
    for name, weight in (("fire", np.ones(len(p))), ("fire_ukr", p), ("fire_rus", 1.0 - p)):
        counts[:, :, _COL[name]] += np.bincount(flat, weights=weight, minlength=size).reshape(len(index), days)


def sector_fire(fire: FireEvents, sector: str) -> tuple[FloatArray, FloatArray]:
    """(times, P(UKR)) of one sector's fire, in time order."""
    sel = fire.sector == sector
    order = np.argsort(fire.time_s[sel], kind="stable")
    return fire.time_s[sel][order], fire.p_ukr[sel][order]


def refs_for(table: DailyTable, sector: int, days: Sequence[int], indicator: str) -> list[ObservationRef]:
    """Up to three report references behind an indicator over some days (newest first)."""
    col = _COL[indicator]
    out: list[ObservationRef] = []
    for d in sorted(days, reverse=True):
        out.extend(table.refs.get((sector, d, col), []))
        if len(out) >= _REFS_PER_CELL:
            break
    return out[:_REFS_PER_CELL]
