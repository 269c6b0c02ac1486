"""The theatre's metric projection: lon/lat (WGS84) to metres and back, and its scale factor.

Shapely works in the plane, so every buffer and distance is computed in this projection: a
Lambert conformal conic on the WGS84 ellipsoid centred on Ukraine (standard parallels 45.25° N
and 51.25° N, placed at the Chebyshev points of the theatre's 44–52.5° N span so that the point
scale ``k`` stays within ±0.15 % of 1 over the whole theatre).

Because the projection is conformal, ``k`` depends only on the latitude — in the plane, only on
the distance from the cone's apex — so a planar length can be turned into a ground length by
dividing by ``k`` along the way (:func:`scale_factor`). That correction takes planar distances
from ±0.15 % to about ±0.001 % of pyproj's geodesic distances across the theatre.

>>> x, y = to_metric(31.25, 48.25)
>>> round(x, 6), round(y, 6)
(0.0, 0.0)
>>> lon, lat = to_lonlat(*to_metric(36.25475, 49.98177))
>>> round(lon, 6), round(lat, 6)
(36.25475, 49.98177)
"""

from __future__ import annotations

from functools import cache
from typing import Any, overload

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "THEATRE_CRS",
    "THEATRE_PROJ4",
    "project_geometry",
    "scale_factor",
    "to_lonlat",
    "to_metric",
    "unproject_geometry",
]

FloatArray = NDArray[np.float64]

_LON_0 = 31.25
THEATRE_PROJ4 = (
    f"+proj=lcc +lat_0=48.25 +lon_0={_LON_0} +lat_1=45.25 +lat_2=51.25 "
    "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs +type=crs"
)
"""The PROJ definition of the theatre projection (metres; origin at 31.25° E, 48.25° N)."""

THEATRE_CRS = pyproj.CRS.from_proj4(THEATRE_PROJ4)
"""The theatre projection as a :class:`pyproj.CRS`."""

_WGS84 = pyproj.CRS.from_epsg(4326)
# always_xy: coordinates are (lon, lat) and (x, y) everywhere in Truceline, as in GeoJSON.
_FORWARD = pyproj.Transformer.from_crs(_WGS84, THEATRE_CRS, always_xy=True)
_INVERSE = pyproj.Transformer.from_crs(THEATRE_CRS, _WGS84, always_xy=True)


@overload
def to_metric(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def to_metric(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def to_metric(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Project lon/lat degrees to theatre metres; scalars give floats, arrays give arrays.

    >>> x, y = to_metric([31.25, 32.25], [48.25, 48.25])
    >>> x.round(1).tolist()
    [0.0, 74160.5]
    """
    if np.ndim(lon) == 0 and np.ndim(lat) == 0:
        x, y = _FORWARD.transform(float(lon), float(lat))
        return float(x), float(y)
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    x, y = _FORWARD.transform(lon_a, lat_a)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


@overload
def to_lonlat(x: float, y: float) -> tuple[float, float]: ...
@overload
def to_lonlat(x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def to_lonlat(x: Any, y: Any) -> tuple[Any, Any]:
    """Unproject theatre metres to lon/lat degrees; the inverse of :func:`to_metric`."""
    if np.ndim(x) == 0 and np.ndim(y) == 0:
        lon, lat = _INVERSE.transform(float(x), float(y))
        return float(lon), float(lat)
    x_a, y_a = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    lon, lat = _INVERSE.transform(x_a, y_a)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _forward_coords(coords: FloatArray) -> FloatArray:
    x, y = _FORWARD.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _inverse_coords(coords: FloatArray) -> FloatArray:
    lon, lat = _INVERSE.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def project_geometry(geom: Any) -> Any:
    """A shapely geometry (or array of them) in lon/lat, projected to theatre metres.

    >>> from shapely import Point
    >>> project_geometry(Point(31.25, 48.25)).wkt
    'POINT (0 0)'
    """
    return shapely.transform(geom, _forward_coords)


def unproject_geometry(geom: Any) -> Any:
    """A shapely geometry (or array of them) in theatre metres, back in lon/lat."""
    return shapely.transform(geom, _inverse_coords)


@cache
def _scale_table() -> tuple[float, FloatArray, FloatArray]:
    # On a conic projection the parallels are circles around the apex (the image of the pole),
    # so the scale factor is a function of the distance rho from it. Tabulate k(rho) once along
    # the central meridian; linear interpolation on a 0.005° grid is exact to ~1e-9.
    _, apex_y = _FORWARD.transform(_LON_0, 90.0)
    lat = np.arange(30.0, 70.0 + 1e-9, 0.005)
    lon = np.full_like(lat, _LON_0)
    _, y = _FORWARD.transform(lon, lat)
    rho = apex_y - np.asarray(y)
    k = np.asarray(pyproj.Proj(THEATRE_CRS).get_factors(lon, lat).parallel_scale, dtype=np.float64)
    order = np.argsort(rho)
    return float(apex_y), rho[order], k[order]


def scale_factor(x: ArrayLike, y: ArrayLike) -> FloatArray:
    """The projection's point scale ``k`` at theatre coordinates (planar length / ground length).

    >>> bool(abs(scale_factor(0.0, 0.0) - 1.0) < 2e-3)
    True
    """
    apex_y, rho_tab, k_tab = _scale_table()
    rho = np.hypot(np.asarray(x, dtype=np.float64), apex_y - np.asarray(y, dtype=np.float64))
    return np.asarray(np.interp(rho, rho_tab, k_tab), dtype=np.float64)
