"""Vectorised geometry for the theatre: projection, distances, zones, spatial index, gazetteer.

Everything takes one value or arrays of them and does the array case without Python loops over
points. Geometry works in the plane, so lon/lat is projected to theatre metres
(:data:`THEATRE_CRS`, a Lambert conformal conic centred on Ukraine) before any buffer or distance;
distances are then corrected by the projection's scale factor to stay geodesically exact.

The public surface is listed in ``__all__`` (pinned by a test); the modules are private.

>>> from truceline.geo import to_metric, geodesic_distance_m
>>> round(geodesic_distance_m(30.5238, 50.45466, 35.1396, 47.8388) / 1000)  # Kyiv–Zaporizhzhia
445
"""

from truceline.geo.distance import LineIndex, distance_to_line_m, geodesic_distance_m, metric_distance_m
from truceline.geo.gazetteer import SETTLEMENTS_FILE, Gazetteer, Place, normalise_name
from truceline.geo.projection import (
    THEATRE_CRS,
    THEATRE_PROJ4,
    project_geometry,
    scale_factor,
    to_lonlat,
    to_metric,
    unproject_geometry,
)
from truceline.geo.zones import SpatialIndex, buffer_line, points_in

__all__ = [
    "SETTLEMENTS_FILE",
    "THEATRE_CRS",
    "THEATRE_PROJ4",
    "Gazetteer",
    "LineIndex",
    "Place",
    "SpatialIndex",
    "buffer_line",
    "distance_to_line_m",
    "geodesic_distance_m",
    "metric_distance_m",
    "normalise_name",
    "points_in",
    "project_geometry",
    "scale_factor",
    "to_lonlat",
    "to_metric",
    "unproject_geometry",
]
