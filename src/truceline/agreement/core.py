"""The loaded agreement: its parts, with geometry in lon/lat and in theatre metres.

An :class:`Agreement` is built by :func:`truceline.agreement.load_agreement` and is read-only. Its
vectorised queries (:meth:`Agreement.side_of`, :meth:`Agreement.sector_of`,
:meth:`Agreement.distance_to_line_m`) take arrays of positions and loop over nothing but the
handful of areas or sectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from truceline.geo import LineIndex, buffer_line, project_geometry, to_metric
from truceline.model import WEAPON_CLASSES, Participant

__all__ = [
    "Agreement",
    "Border",
    "Clause",
    "DisengagementArea",
    "InventoryItem",
    "Oblast",
    "ReassuranceForce",
    "RestrictedZone",
    "Sector",
    "StorageSite",
    "Trigger",
    "Withdrawal",
]

StrArray = NDArray[np.str_]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Clause:
    """One checkable clause; findings cite it by ``id`` (``withdrawal.mlrs``, ``storage.UKR-S1``)."""

    id: str
    text: str
    kind: str


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """How far a weapon class stays from the contact line, on each side."""

    weapon_class: str
    distance_km: float
    zone_width_km: float
    clause: str


@dataclass(frozen=True, slots=True)
class Border:
    """An international border monitored as an approach axis (the part Ukraine holds)."""

    id: str
    name: str
    neighbour: str
    geometry: Any = field(repr=False)
    geometry_metric: Any = field(repr=False)


@dataclass(frozen=True, slots=True)
class Sector:
    """A stretch of the contact line or of a border; warnings and summaries are per sector."""

    id: str
    name: str
    kind: Literal["contact_line", "approach_axis"]
    geometry: Any = field(repr=False)
    geometry_metric: Any = field(repr=False)
    border: str | None = None


@dataclass(frozen=True, slots=True)
class DisengagementArea:
    id: str
    name: str
    geometry: Any = field(repr=False)
    geometry_metric: Any = field(repr=False)
    clause: str


@dataclass(frozen=True, slots=True)
class RestrictedZone:
    """An air or sea zone closed to the listed kinds of craft, except exempt participants'."""

    id: str
    kind: Literal["air", "sea"]
    name: str
    geometry: Any = field(repr=False)
    geometry_metric: Any = field(repr=False)
    applies_to: tuple[str, ...]
    exempt: tuple[str, ...]
    max_altitude_m: float | None
    clause: str


@dataclass(frozen=True, slots=True)
class InventoryItem:
    weapon_class: str
    model: str
    serials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StorageSite:
    """A declared storage site and its inventory, serial by serial."""

    id: str
    party: str
    name: str
    lon: float
    lat: float
    radius_m: float
    inventory: tuple[InventoryItem, ...]
    clause: str

    def serials(self) -> frozenset[str]:
        """Every declared serial number at the site."""
        return frozenset(s for item in self.inventory for s in item.serials)

    def counts(self) -> dict[str, int]:
        """Declared items per weapon class."""
        out: dict[str, int] = {}
        for item in self.inventory:
            out[item.weapon_class] = out.get(item.weapon_class, 0) + len(item.serials)
        return out


@dataclass(frozen=True, slots=True)
class ReassuranceForce:
    """Where the coalition's reassurance force may be: its basing area, far from the line."""

    min_distance_km: float
    basing_oblasts: tuple[str, ...]
    basing_area: Any = field(repr=False)
    basing_area_metric: Any = field(repr=False)
    contributors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Trigger:
    """One of the guarantee's trigger conditions; ``parameters`` holds the kind's own fields."""

    id: str
    name: str
    kind: str
    by: tuple[str, ...]
    requires_status: str
    response: str
    clause: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Oblast:
    iso_3166_2: str
    name: str
    geometry: Any = field(repr=False)


class Agreement:
    """The agreement as code. Built by the loader; treat every attribute as read-only."""

    def __init__(
        self,
        *,
        id: str,
        version: str,
        title: str,
        effective: date,
        description: str,
        source: str,
        participants: tuple[Participant, ...],
        party_order: tuple[str, str],
        contact_line: Any,
        contact_line_source: str,
        borders: tuple[Border, ...],
        controlled_areas: Mapping[str, Any],
        oblasts: tuple[Oblast, ...],
        withdrawal: Mapping[str, Withdrawal],
        quiet_days_required: int,
        disengagement_areas: tuple[DisengagementArea, ...],
        restricted_zones: tuple[RestrictedZone, ...],
        storage_sites: tuple[StorageSite, ...],
        ceilings: Mapping[str, tuple[int | None, Mapping[str, int]]],
        reassurance_force: ReassuranceForce,
        sectors: tuple[Sector, ...],
        sector_max_distance_km: float,
        triggers: tuple[Trigger, ...],
        clauses: Mapping[str, Clause],
    ) -> None:
        self.id = id
        self.version = version
        self.title = title
        self.effective = effective
        self.description = description
        self.source = source
        self.participants = participants
        by_id = {p.id: p for p in participants}
        self.parties: tuple[Participant, ...] = tuple(by_id[p] for p in party_order)
        self.contact_line = contact_line
        self.contact_line_metric = _metric(contact_line)
        self.contact_line_source = contact_line_source
        self.borders = borders
        self._areas = {p: (g, _metric(g)) for p, g in controlled_areas.items()}
        for g, _ in self._areas.values():
            shapely.prepare(g)
        self.oblasts = oblasts
        self.withdrawal: Mapping[str, Withdrawal] = MappingProxyType(dict(withdrawal))
        self.quiet_days_required = quiet_days_required
        self.disengagement_areas = disengagement_areas
        self.restricted_zones = restricted_zones
        self.storage_sites = storage_sites
        self._ceilings = dict(ceilings)
        self.reassurance_force = reassurance_force
        self.sectors = sectors
        self.sector_max_distance_km = sector_max_distance_km
        self.triggers = triggers
        self.clauses: Mapping[str, Clause] = MappingProxyType(dict(clauses))
        self._participants = by_id
        self._line_index: LineIndex | None = None
        self._sector_index: LineIndex | None = None
        self._sector_ids = np.array([s.id for s in sectors] + [""])

    def __repr__(self) -> str:
        return f"Agreement(id={self.id!r}, version={self.version!r}, effective={self.effective.isoformat()})"

    # -- who ---------------------------------------------------------------------------------
    def participant_ids(self) -> frozenset[str]:
        return frozenset(self._participants)

    def party_ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.parties)

    def participant(self, participant_id: str) -> Participant:
        try:
            return self._participants[participant_id]
        except KeyError:
            raise KeyError(f"{participant_id!r} is not a participant of {self.id}") from None

    def _party(self, party: str) -> str:
        if party not in self._areas:
            raise KeyError(f"{party!r} is not a party to {self.id} (parties: {', '.join(self._areas)})")
        return party

    # -- where -------------------------------------------------------------------------------
    def controlled_area(self, party: str, *, metric: bool = False) -> Any:
        """The area ``party`` controls, in lon/lat (or theatre metres with ``metric=True``)."""
        lonlat, projected = self._areas[self._party(party)]
        return projected if metric else lonlat

    def side_of(self, lon: ArrayLike, lat: ArrayLike) -> StrArray:
        """For each position, the party controlling it, or ``''`` (outside both, or on the line).

        >>> from truceline.agreement import default_agreement
        >>> default_agreement().side_of([30.52, 37.80], [50.45, 48.00]).tolist()  # Kyiv, Donetsk
        ['UKR', 'RUS']
        """
        lo, la = (
            np.ravel(v) for v in np.broadcast_arrays(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
        )
        width = max(len(p) for p in self._areas)
        out = np.full(lo.size, "", dtype=f"<U{width}")
        for party, (area, _) in self._areas.items():
            inside = shapely.contains_xy(area, lo, la) & (out == "")
            out[inside] = party
        return out

    def distance_to_line_m(self, lon: ArrayLike, lat: ArrayLike) -> FloatArray:
        """Ground metres from each position to the contact line."""
        if self._line_index is None:
            self._line_index = LineIndex(self.contact_line_metric)
        return self._line_index.distance_m(lon, lat)

    def sector_of(self, lon: ArrayLike, lat: ArrayLike) -> StrArray:
        """For each position, the id of the nearest sector within ``sector_max_distance_km``, else ``''``.

        Sectors are lines (a polygonal sector is measured to its outline); where two meet, the
        first listed wins. Fast within the limit of the line (a grid), slower beyond it (a tree).

        >>> from truceline.agreement import default_agreement
        >>> default_agreement().sector_of([24.03, 37.80], [49.84, 48.00]).tolist()  # Lviv, Donetsk
        ['', 'CL-07']
        """
        limit = self.sector_max_distance_km * 1000.0
        if self._sector_index is None:
            # Sectors are lines (or areas, by their outline): one index over all their segments.
            self._sector_index = LineIndex([s.geometry_metric for s in self.sectors], band_m=limit)
        x, y = to_metric(np.ravel(np.asarray(lon, np.float64)), np.ravel(np.asarray(lat, np.float64)))
        member, dist = self._sector_index.nearest_member(x, y)
        return self._sector_ids[np.where(dist <= limit, member, -1)]

    def sector(self, sector_id: str) -> Sector:
        for s in self.sectors:
            if s.id == sector_id:
                return s
        raise KeyError(f"no sector {sector_id!r} in {self.id}")

    # -- what --------------------------------------------------------------------------------
    def withdrawal_distance_m(self, weapon_class: str) -> float:
        """How far (metres) each side keeps ``weapon_class`` from the line; 0 when unrestricted."""
        if weapon_class not in WEAPON_CLASSES:
            raise ValueError(f"unknown weapon class {weapon_class!r}; known: {', '.join(WEAPON_CLASSES)}")
        rule = self.withdrawal.get(weapon_class)
        return 0.0 if rule is None else rule.distance_km * 1000.0

    def withdrawal_zone(self, weapon_class: str, party: str) -> Any:
        """The part of ``party``'s area (theatre metres) where ``weapon_class`` may not be; may be empty."""
        distance = self.withdrawal_distance_m(weapon_class)
        area = self.controlled_area(party, metric=True)
        if distance <= 0:
            return shapely.Polygon()
        return shapely.intersection(buffer_line(self.contact_line_metric, distance), area)

    def troop_ceiling(self, party: str) -> int | None:
        """The party's troop ceiling (Ukraine's peacetime army: 800,000), or None if it has none."""
        self._party(party)
        ceiling = self._ceilings.get(party)
        return None if ceiling is None else ceiling[0]

    def weapon_ceilings(self, party: str) -> Mapping[str, int]:
        """Declared-holding limits per weapon class for ``party`` (empty when none are agreed)."""
        self._party(party)
        ceiling = self._ceilings.get(party)
        return MappingProxyType({} if ceiling is None else dict(ceiling[1]))

    def storage_site(self, site_id: str) -> StorageSite:
        for s in self.storage_sites:
            if s.id == site_id:
                return s
        raise KeyError(f"no declared storage site {site_id!r} in {self.id}")

    def clause(self, clause_id: str) -> Clause:
        try:
            return self.clauses[clause_id]
        except KeyError:
            raise KeyError(f"no clause {clause_id!r} in {self.id}") from None


def _metric(geom: Any) -> Any:
    return project_geometry(geom)
