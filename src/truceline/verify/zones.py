"""Withdrawal zones and distance to the line for millions of positions at once.

A withdrawal zone is the part of a party's own area closer to the contact line than a weapon
class may be (:meth:`Agreement.withdrawal_zone`). :class:`ZoneChecker` answers, for each position
and weapon class, *whose* zone it lies in (or none) without a Python loop over positions:

* each class's zones are laid on a lon/lat grid whose cells are classified once as wholly inside
  one party's zone, wholly outside every zone, or on a boundary;
* a position in a settled cell is answered by an array lookup; only those in boundary cells are
  tested exactly against the prepared zone polygons.

:meth:`ZoneChecker.zone_of_reference` is the plain twin (one shapely test per position) the
grid is tested against, and :meth:`ZoneChecker.distance_reference_m` the plain twin of the
distances (nearest point on the projected line, then pyproj's geodesic distance to it).

>>> from truceline.agreement import default_agreement
>>> checker = ZoneChecker(default_agreement())
>>> checker.zone_of([37.80, 37.80, 30.52], [48.00, 48.00, 50.45], ["mortar", "small_arms", "mlrs"]).tolist()
['', '', '']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from truceline.agreement import Agreement
from truceline.geo import (
    LineIndex,
    buffer_line,
    geodesic_distance_m,
    scale_factor,
    to_lonlat,
    to_metric,
    unproject_geometry,
)
from truceline.model import WEAPON_CLASSES

__all__ = ["ZoneChecker"]

FloatArray = NDArray[np.float64]
StrArray = NDArray[np.str_]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

_BOUNDARY = -1
_OUTSIDE = 0


def _classify(
    zones: list[Any], x0: NDArray[np.floating[Any]], y0: NDArray[np.floating[Any]], size: float
) -> NDArray[np.int8]:
    """Label cells with lower-left corners (x0, y0): 0 outside, k + 1 inside zone k only, -1 boundary."""
    boxes = shapely.box(x0, y0, x0 + size, y0 + size)
    tree = shapely.STRtree(boxes)
    labels = np.zeros(boxes.size, dtype=np.int8)
    for k, zone in enumerate(zones):
        if zone.is_empty:
            continue
        touched = tree.query(zone, predicate="intersects")
        inside = touched[shapely.contains_properly(zone, boxes[touched])]
        edge = np.setdiff1d(touched, inside, assume_unique=True)
        # A cell touched by two zones (or by one zone's edge) needs the exact test.
        labels[inside] = np.where(labels[inside] == _OUTSIDE, k + 1, _BOUNDARY)
        labels[edge] = _BOUNDARY
    return labels


class _ClassGrid:
    """One weapon class's zones on a two-level lon/lat grid.

    Coarse cells are labelled 0 (outside every zone), k + 1 (wholly inside party k's zone) or -1
    (boundary); each boundary cell is split into ``refine``² fine cells labelled the same way.
    """

    def __init__(self, zones: list[Any], cell_deg: float, refine: int = 8) -> None:
        self.zones = zones
        present = [z for z in zones if not z.is_empty]
        self.cell = cell_deg
        self.refine = refine
        self.x0 = self.y0 = 0.0
        self.labels = np.zeros((1, 1), dtype=np.int8)
        self.fine_row = np.full(1, -1, dtype=np.intp)
        self.fine = np.zeros((0, refine, refine), dtype=np.int8)
        if not present:
            return
        x0, y0, x1, y1 = shapely.total_bounds(np.array(present, dtype=object))
        self.x0, self.y0 = float(x0) - cell_deg, float(y0) - cell_deg
        nx = int(np.ceil((x1 - self.x0) / cell_deg)) + 2
        ny = int(np.ceil((y1 - self.y0) / cell_deg)) + 2
        ix, iy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
        labels = _classify(zones, self.x0 + ix.ravel() * cell_deg, self.y0 + iy.ravel() * cell_deg, cell_deg)
        self.labels = labels.reshape(nx, ny)
        edge = np.flatnonzero(labels == _BOUNDARY)
        self.fine_row = np.full(labels.size, -1, dtype=np.intp)
        self.fine_row[edge] = np.arange(edge.size)
        fine = cell_deg / refine
        fx, fy = np.meshgrid(np.arange(refine), np.arange(refine), indexing="ij")
        ex, ey = np.divmod(edge, ny)
        cx = (self.x0 + ex * cell_deg)[:, None] + fx.ravel()[None, :] * fine
        cy = (self.y0 + ey * cell_deg)[:, None] + fy.ravel()[None, :] * fine
        self.fine = _classify(zones, cx.ravel(), cy.ravel(), fine).reshape(edge.size, refine, refine)

    def lookup(self, lon: FloatArray, lat: FloatArray) -> NDArray[np.int8]:
        """Each position's label; -1 where even the fine cell is on a boundary."""
        nx, ny = self.labels.shape
        gx = (lon - self.x0) / self.cell
        gy = (lat - self.y0) / self.cell
        ix, iy = np.floor(gx), np.floor(gy)
        ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        flat = np.where(ok, ix * ny + iy, 0).astype(np.intp)
        label = np.where(ok, self.labels.ravel()[flat], _OUTSIDE).astype(np.int8)
        edge = np.flatnonzero(label == _BOUNDARY)
        if edge.size:
            row = self.fine_row[flat[edge]]
            r = self.refine
            fx = np.clip(((gx[edge] - ix[edge]) * r).astype(np.intp), 0, r - 1)
            fy = np.clip(((gy[edge] - iy[edge]) * r).astype(np.intp), 0, r - 1)
            label[edge] = self.fine[row, fx, fy]
        return label


class ZoneChecker:
    """Whose withdrawal zone each position lies in, for its weapon class; distances to the line.

    ``cell_deg`` is the grid's cell in degrees (smaller: more cells settled, slower to build).
    Grids are built per weapon class on first use.
    """

    def __init__(
        self,
        agreement: Agreement,
        *,
        cell_deg: float = 0.05,
        grid_threshold: int = 20_000,
        line_cell_m: float = 600.0,
    ) -> None:
        self.agreement = agreement
        self.parties: tuple[str, ...] = tuple(p.id for p in agreement.parties)
        self._party_names = np.array(["", *self.parties])
        self.restricted: tuple[str, ...] = tuple(c for c in WEAPON_CLASSES if agreement.withdrawal_distance_m(c) > 0)
        self._cell = cell_deg
        self._threshold = grid_threshold
        # Classes with the same distance (tanks, light artillery, mortars: 15 km) share zones and grids.
        self._zones: dict[float, list[Any]] = {}
        self._grids: dict[float, _ClassGrid] = {}
        # A finer line grid than the agreement's own: fewer candidate segments per position, at the
        # price of a few seconds' build on the first large query.
        self._line = LineIndex(agreement.contact_line_metric, cell_m=line_cell_m)

    def zones(self, weapon_class: str) -> list[Any]:
        """The class's zones in lon/lat, one per party (in party order; empty where unrestricted)."""
        if weapon_class not in WEAPON_CLASSES:
            raise ValueError(f"unknown weapon class {weapon_class!r}; known: {', '.join(WEAPON_CLASSES)}")
        distance = self.agreement.withdrawal_distance_m(weapon_class)
        if distance not in self._zones:
            out = []
            band = buffer_line(self.agreement.contact_line_metric, distance) if distance > 0 else shapely.Polygon()
            for party in self.parties:
                area = self.agreement.controlled_area(party, metric=True)
                zone = unproject_geometry(shapely.intersection(band, area))
                shapely.prepare(zone)
                out.append(zone)
            self._zones[distance] = out
        return self._zones[distance]

    def _grid(self, weapon_class: str) -> _ClassGrid:
        distance = self.agreement.withdrawal_distance_m(weapon_class)
        if distance not in self._grids:
            self._grids[distance] = _ClassGrid(self.zones(weapon_class), self._cell)
        return self._grids[distance]

    def zone_of(self, lon: ArrayLike, lat: ArrayLike, weapon_class: ArrayLike) -> StrArray:
        """For each position, the party in whose withdrawal zone for its class it lies, else ``''``.

        ``weapon_class`` is one class for all positions or one per position, as names or as
        positions in :data:`~truceline.model.WEAPON_CLASSES` (faster: no strings to compare). An
        unknown class is a ``ValueError``: a position is never silently passed.
        """
        return self._party_names[self.zone_codes(lon, lat, weapon_class)]

    def zone_codes(self, lon: ArrayLike, lat: ArrayLike, weapon_class: ArrayLike) -> NDArray[np.int8]:
        """:meth:`zone_of` as 0 (no zone) or 1 + the position of the party in :attr:`parties`."""
        lo, la, codes = _inputs(lon, lat, weapon_class)
        out = np.zeros(lo.size, dtype=np.int8)
        present = np.flatnonzero(np.bincount(codes, minlength=len(WEAPON_CLASSES)))
        for code in present.tolist():
            cls = WEAPON_CLASSES[code]
            if cls not in self.restricted:
                continue
            sel = np.flatnonzero(codes == code)
            x, y = lo[sel], la[sel]
            if sel.size >= self._threshold:
                label = self._grid(cls).lookup(x, y)
                edge = np.flatnonzero(label == _BOUNDARY)
            else:  # too few positions to repay building the grid: test each against the polygons
                label = np.zeros(sel.size, dtype=np.int8)
                edge = np.arange(sel.size)
            if edge.size:
                exact = np.zeros(edge.size, dtype=np.int8)
                for k, zone in enumerate(self.zones(cls)):
                    if not zone.is_empty:
                        hit = shapely.contains_xy(zone, x[edge], y[edge]) & (exact == 0)
                        exact[hit] = k + 1
                label[edge] = exact
            out[sel] = label
        return out

    def zone_of_reference(self, lon: ArrayLike, lat: ArrayLike, weapon_class: ArrayLike) -> StrArray:
        """:meth:`zone_of` by one shapely test per position and zone: the plain twin."""
        lo, la, codes = _inputs(lon, lat, weapon_class)
        out = []
        for x, y, code in zip(lo.tolist(), la.tolist(), codes.tolist(), strict=True):
            found = ""
            cls = WEAPON_CLASSES[code]
            if cls in self.restricted:
                for party, zone in zip(self.parties, self.zones(cls), strict=True):
                    if not zone.is_empty and zone.contains(shapely.Point(x, y)):
                        found = party
                        break
            out.append(found)
        return np.array(out, dtype=self._party_names.dtype)

    def distance_m(self, lon: ArrayLike, lat: ArrayLike) -> FloatArray:
        """Ground metres from each position to the contact line (vectorised; ~0.001 % of geodesic).

        The planar distance in the theatre projection divided by the scale factor at the
        midpoint of the way to the line: over the tens of kilometres that matter here the factor
        is nearly linear along the way, so the midpoint rule is good to ~1e-5 and costs a third
        of Simpson's rule.
        """
        x, y = to_metric(np.ravel(np.asarray(lon, np.float64)), np.ravel(np.asarray(lat, np.float64)))
        planar, nx, ny = self._line.nearest(x, y)
        return np.asarray(planar / scale_factor((x + nx) * 0.5, (y + ny) * 0.5), dtype=np.float64)

    def distance_reference_m(self, lon: ArrayLike, lat: ArrayLike) -> FloatArray:
        """:meth:`distance_m` the plain way: nearest point on the projected line, then the geodesic to it."""
        lo, la = (np.ravel(np.asarray(v, dtype=np.float64)) for v in (lon, lat))
        line = self.agreement.contact_line_metric
        out = np.empty(lo.size)
        for k in range(lo.size):
            x, y = to_metric(float(lo[k]), float(la[k]))
            # The nearest point of the line (its parts, if several) in the plane.
            fx, fy = shapely.get_coordinates(shapely.shortest_line(line, shapely.Point(x, y)))[0]
            flon, flat = to_lonlat(float(fx), float(fy))
            out[k] = geodesic_distance_m(float(lo[k]), float(la[k]), flon, flat)
        return out


def _inputs(lon: ArrayLike, lat: ArrayLike, weapon_class: ArrayLike) -> tuple[FloatArray, FloatArray, IntArray]:
    lo, la = (np.ravel(v) for v in np.broadcast_arrays(np.asarray(lon, np.float64), np.asarray(lat, np.float64)))
    raw = np.ravel(np.asarray(weapon_class))
    if raw.size not in (1, lo.size):
        raise ValueError(f"{raw.size} weapon classes for {lo.size} positions")
    if np.issubdtype(raw.dtype, np.integer):
        if raw.size and (raw.min() < 0 or raw.max() >= len(WEAPON_CLASSES)):
            raise ValueError(f"weapon class codes must lie in [0, {len(WEAPON_CLASSES)})")
        codes = raw.astype(np.intp)
    else:
        names, inverse = np.unique(raw.astype(np.str_), return_inverse=True)
        unknown = [str(n) for n in names.tolist() if n not in WEAPON_CLASSES]
        if unknown:
            raise ValueError(f"unknown weapon class {unknown[0]!r}; known: {', '.join(WEAPON_CLASSES)}")
        codes = np.array([WEAPON_CLASSES.index(str(n)) for n in names.tolist()], dtype=np.intp)[inverse]
    if codes.size == 1 and lo.size != 1:
        codes = np.full(lo.size, codes[0], dtype=np.intp)
    return lo, la, codes
