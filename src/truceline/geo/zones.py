"""Zone membership and spatial indexing for many points at once (theatre metres).

>>> from shapely import box
>>> points_in(box(0, 0, 10, 10), [5, 15], [5, 5]).tolist()
[True, False]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from truceline.geo.distance import _first_per_point
from truceline.geo.projection import scale_factor

__all__ = ["SpatialIndex", "buffer_line", "points_in"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


def _xy(x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    px, py = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.ravel(px), np.ravel(py)


def points_in(polygon_metric: Any, x: ArrayLike, y: ArrayLike) -> BoolArray:
    """Whether each point (theatre metres) lies inside the polygon (boundary excluded).

    The polygon is prepared in place on first use (shapely keeps the prepared index with the
    geometry), so testing millions of points against it costs one indexed lookup each.
    """
    px, py = _xy(x, y)
    if not shapely.is_prepared(polygon_metric):
        shapely.prepare(polygon_metric)
    return np.asarray(shapely.contains_xy(polygon_metric, px, py), dtype=np.bool_)


def buffer_line(line_metric: Any, distance_m: float, *, quad_segs: int = 8) -> Any:
    """The area within ``distance_m`` ground metres of a line given in theatre metres.

    The planar buffer distance is scaled by the projection's mean scale factor over the line's
    vertices, so the band's width on the ground is right to about 0.05 % along the contact line.

    >>> from shapely import LineString
    >>> band = buffer_line(LineString([(0, 0), (10_000, 0)]), 1_000)
    >>> round(band.area / 1e6, 1)  # km²: 10 km long, 2 km wide, round caps
    23.1
    """
    if distance_m < 0:
        raise ValueError("distance_m must not be negative")
    coords = shapely.get_coordinates(line_metric)
    k = float(np.mean(scale_factor(coords[:, 0], coords[:, 1]))) if len(coords) else 1.0
    return shapely.buffer(line_metric, distance_m * k, quad_segs=quad_segs)


class SpatialIndex:
    """An STR-tree over geometries in theatre metres; queries return positions into the input.

    >>> from shapely import box
    >>> index = SpatialIndex([box(0, 0, 10, 10), box(20, 0, 30, 10)])
    >>> index.containing([5, 25, 50], [5, 5, 5]).tolist()
    [0, 1, -1]
    >>> pos, dist = index.nearest([12, 50], [5, 5], max_distance=5)
    >>> pos.tolist(), dist.tolist()
    ([0, -1], [2.0, inf])
    """

    def __init__(self, geometries: Sequence[Any] | NDArray[Any]) -> None:
        self.geometries = np.asarray(geometries, dtype=object)
        self._tree = shapely.STRtree(self.geometries)

    def __len__(self) -> int:
        return len(self.geometries)

    def query(self, geometry: Any, predicate: str | None = None) -> IntArray:
        """Positions of the geometries whose envelope (or ``predicate``) matches ``geometry``."""
        return np.asarray(self._tree.query(geometry, predicate=predicate), dtype=np.intp)

    def query_points(self, x: ArrayLike, y: ArrayLike, predicate: str = "intersects") -> IntArray:
        """All (point position, geometry position) pairs where ``predicate(point, geometry)``.

        Returns a (2, n) array, sorted by point position.
        """
        px, py = _xy(x, y)
        return np.asarray(self._tree.query(shapely.points(px, py), predicate=predicate), dtype=np.intp)

    def containing(self, x: ArrayLike, y: ArrayLike) -> IntArray:
        """For each point, the position of one geometry that covers it, or -1.

        Where geometries overlap, the lowest position wins, so the answer is deterministic.
        """
        px, _ = _xy(x, y)
        pairs = self.query_points(x, y, predicate="intersects")
        out = np.full(px.size, -1, dtype=np.intp)
        first = _first_per_point(pairs[0], pairs[1])
        out[pairs[0][first]] = pairs[1][first]
        return out

    def nearest(
        self, x: ArrayLike, y: ArrayLike, max_distance: float | None = None
    ) -> tuple[IntArray, FloatArray]:
        """For each point, the position of the nearest geometry and the planar distance to it.

        Points with no geometry within ``max_distance`` get position -1 and distance ``inf``;
        ties go to the lowest position.
        """
        px, py = _xy(x, y)
        pos = np.full(px.size, -1, dtype=np.intp)
        dist = np.full(px.size, np.inf, dtype=np.float64)
        if px.size == 0 or len(self) == 0:
            return pos, dist
        pairs, d = self._tree.query_nearest(
            shapely.points(px, py), max_distance=max_distance, return_distance=True, all_matches=True
        )
        # all_matches keeps every tie; the lowest tree position wins.
        first = _first_per_point(pairs[0], pairs[1])
        pos[pairs[0][first]] = pairs[1][first]
        dist[pairs[0][first]] = d[first]
        return pos, dist
