"""Zone membership, the spatial index and line buffers agree with plain per-point shapely."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.affinity import translate

from truceline.geo import LineIndex, SpatialIndex, buffer_line, points_in, to_metric

coords = st.floats(-50_000, 50_000, allow_nan=False)
point_lists = st.lists(st.tuples(coords, coords), min_size=1, max_size=60)


def _polygon(seed: int) -> shapely.Polygon:
    # A star-shaped (hence valid) polygon with 5–40 vertices and holes-free, non-convex outline.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = rng.uniform(5_000, 40_000, n)
    return shapely.Polygon(np.column_stack([radii * np.cos(angles), radii * np.sin(angles)]))


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.integers(0, 10_000), point_lists)
def test_points_in_agrees_with_per_point_contains(seed: int, points: list[tuple[float, float]]) -> None:
    polygon = _polygon(seed)
    x, y = np.array(points).T
    expected = [polygon.contains(shapely.Point(p)) for p in points]
    assert points_in(polygon, x, y).tolist() == expected


@settings(max_examples=40, derandomize=True, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=6), point_lists, st.floats(1_000, 30_000))
def test_spatial_index_agrees_with_per_point_reference(
    seeds: list[int], points: list[tuple[float, float]], max_distance: float
) -> None:
    rng = np.random.default_rng(seeds[0])
    geoms = [translate(_polygon(s), *rng.uniform(-60_000, 60_000, 2)) for s in seeds]
    index = SpatialIndex(geoms)
    x, y = np.array(points).T
    pts = [shapely.Point(p) for p in points]
    covering = [next((i for i, g in enumerate(geoms) if g.intersects(p)), -1) for p in pts]
    assert index.containing(x, y).tolist() == covering
    pos, dist = index.nearest(x, y, max_distance=max_distance)
    for p, got_pos, got_dist in zip(pts, pos, dist, strict=True):
        d = np.array([g.distance(p) for g in geoms])
        if d.min() > max_distance:
            assert got_pos == -1 and np.isinf(got_dist)
        else:
            assert np.isclose(got_dist, d.min()) and np.isclose(d[got_pos], d.min())


def test_spatial_index_breaks_ties_and_overlaps_by_lowest_position() -> None:
    square = shapely.box(0, 0, 10, 10)
    index = SpatialIndex([shapely.box(20, 0, 30, 10), square, square])
    assert index.containing([5.0], [5.0]).tolist() == [1]
    pos, _ = index.nearest([15.0], [5.0])
    assert pos.tolist() == [0]
    pairs = index.query_points([5.0, 25.0], [5.0, 5.0])
    assert sorted(map(tuple, pairs.T.tolist())) == [(0, 1), (0, 2), (1, 0)]


def test_buffer_line_has_the_requested_ground_width() -> None:
    # A 130 km line near Kharkiv: every vertex of the band's edge lies 20 km from it on the ground.
    x, y = to_metric([35.0, 36.3, 36.9], [49.9, 49.95, 50.3])
    line = shapely.LineString(np.column_stack([x, y]))
    band = buffer_line(line, 20_000.0)
    ex, ey = shapely.get_coordinates(band.exterior).T
    ground = LineIndex(line).distance_metric_m(ex, ey)
    assert np.abs(ground / 20_000.0 - 1.0).max() < 1e-3
    assert buffer_line(line, 0.0).is_empty
