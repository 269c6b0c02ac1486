"""The geo package's public surface is deliberate, and its docstring examples run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import truceline.geo

EXPECTED = {
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
}


def test_public_surface_is_pinned() -> None:
    assert set(truceline.geo.__all__) == EXPECTED
    assert all(hasattr(truceline.geo, name) for name in EXPECTED)


def test_geo_imports_nothing_of_truceline_but_the_model() -> None:
    for info in pkgutil.iter_modules(truceline.geo.__path__):
        source = importlib.import_module(f"truceline.geo.{info.name}").__loader__.get_source(  # type: ignore[union-attr]
            f"truceline.geo.{info.name}"
        )
        imported = {
            line.split()[1]
            for line in source.splitlines()
            if line.startswith(("from truceline", "import truceline"))
        }
        assert all(m.startswith(("truceline.geo", "truceline.model")) for m in imported), imported


@pytest.mark.parametrize(
    "module",
    ["truceline.geo", *(f"truceline.geo.{m.name}" for m in pkgutil.iter_modules(truceline.geo.__path__))],
)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
