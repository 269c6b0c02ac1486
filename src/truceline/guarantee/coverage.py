"""How much of the skies and seas to be secured the force's range rings cover.

Each air-policing or air-defence unit (capabilities of domain ``air``) and each maritime unit
(domain ``sea``) secures a disc of its range around its position. The air target is the area
Ukraine controls; the sea target is the agreement's restricted maritime zones. Discs are drawn in
the theatre projection with the radius scaled by the local scale factor, so a 100 km ring is
100 km on the ground to ~0.1 %; areas are planar (within ±0.3 % of the ground area over the
theatre, and the ratio — the percentage — is closer still).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely

from truceline.geo import project_geometry, scale_factor, to_metric, unproject_geometry
from truceline.guarantee.coalition import Coalition
from truceline.guarantee.records import ReassuranceUnit

__all__ = ["Coverage", "Ring", "coverage", "range_rings"]

Which = Literal["planned", "actual"]


@dataclass(frozen=True)
class Ring:
    unit: ReassuranceUnit
    lon: float
    lat: float
    range_km: float
    geometry: Any  # lon/lat polygon, for maps


@dataclass(frozen=True)
class Coverage:
    """The share of a domain's target area within range of at least one unit."""

    domain: str
    which: str
    covered_km2: float
    target_km2: float
    by_area: tuple[tuple[str, float], ...]
    rings: tuple[Ring, ...]
    target: Any  # lon/lat geometry of the target area
    covered: Any  # lon/lat geometry of the covered part

    @property
    def percent(self) -> float:
        return 0.0 if self.target_km2 <= 0 else 100.0 * self.covered_km2 / self.target_km2


def range_rings(coalition: Coalition, domain: str, which: Which = "planned") -> list[tuple[ReassuranceUnit, Any]]:
    """(unit, ring in theatre metres) for every unit of ``domain`` with a range and a position."""
    units = []
    for unit in coalition.units:
        cap = coalition.catalogue[unit.capability]
        rng = cap.range_km if unit.range_km is None else unit.range_km
        pos = unit.planned if which == "planned" else unit.actual
        if cap.domain == domain and rng > 0 and pos is not None:
            units.append((unit, pos.lon, pos.lat, rng))
    if not units:
        return []
    lon = np.array([u[1] for u in units])
    lat = np.array([u[2] for u in units])
    x, y = to_metric(lon, lat)
    radius = np.array([u[3] for u in units]) * 1000.0 * scale_factor(x, y)
    discs = shapely.buffer(shapely.points(x, y), radius, quad_segs=32)
    return [(u[0], d) for u, d in zip(units, discs, strict=True)]


def _targets(coalition: Coalition, domain: str) -> tuple[Any, list[tuple[str, Any]]]:
    agreement = coalition.agreement
    if domain == "air":
        ukraine = agreement.controlled_area("UKR", metric=True)
        parts = []
        for oblast in agreement.oblasts:
            piece = shapely.intersection(project_geometry(oblast.geometry), ukraine)
            if piece.area > 1e6:  # oblasts wholly beyond the line hold nothing to secure
                parts.append((oblast.name, piece))
        return ukraine, parts
    if domain == "sea":
        zones = [(z.name, z.geometry_metric) for z in agreement.restricted_zones if z.kind == "sea"]
        return shapely.union_all([z for _, z in zones]) if zones else shapely.Polygon(), zones
    raise ValueError(f"unknown domain {domain!r}; use air or sea")


def coverage(coalition: Coalition, domain: str = "air", which: Which = "planned") -> Coverage:
    """Coverage of ``domain`` (air: Ukraine's area; sea: the maritime zones) by planned or actual units."""
    target, parts = _targets(coalition, domain)
    rings = range_rings(coalition, domain, which)
    union = shapely.union_all([r for _, r in rings]) if rings else shapely.Polygon()
    covered = shapely.intersection(target, union)
    by_area = tuple(
        (name, 100.0 * shapely.intersection(area, union).area / area.area if area.area > 0 else 0.0)
        for name, area in parts
    )
    out_rings = []
    for unit, ring in rings:
        pos = unit.planned if which == "planned" else unit.actual
        assert pos is not None
        cap = coalition.catalogue[unit.capability]
        out_rings.append(
            Ring(
                unit,
                pos.lon,
                pos.lat,
                cap.range_km if unit.range_km is None else unit.range_km,
                unproject_geometry(ring),
            )
        )
    return Coverage(
        domain=domain,
        which=which,
        covered_km2=covered.area / 1e6,
        target_km2=target.area / 1e6,
        by_area=by_area,
        rings=tuple(out_rings),
        target=unproject_geometry(target),
        covered=unproject_geometry(covered),
    )
