"""A small, valid agreement on made-up geometry, to break one field at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


LINE = {"type": "LineString", "coordinates": [[32.0, 47.0], [32.0, 48.0], [32.0, 49.0]]}

MINIMAL: dict[str, Any] = {
    "format_version": 1,
    "id": "test-agreement",
    "version": "1",
    "title": "Test agreement",
    "effective": "2026-09-01",
    "participants": [
        {"id": "UKR", "name": "Ukraine", "roles": ["party"]},
        {"id": "RUS", "name": "Russian Federation", "roles": ["party"]},
        {"id": "USA", "name": "United States", "roles": ["monitor", "guarantor"]},
    ],
    "parties": ["UKR", "RUS"],
    "clauses": {"ceasefire": "No fire."},
    "contact_line": {"geometry": LINE},
    "controlled_areas": {"UKR": _box(28.0, 47.0, 32.0, 49.0), "RUS": _box(32.0, 47.0, 36.0, 49.0)},
    "withdrawal": {"mlrs": {"zone_width_km": 70}, "tank": {"distance_km": 15}},
    "disengagement": {
        "quiet_days_required": 7,
        "areas": [{"id": "DA-1", "name": "Middle", "geometry": _box(31.97, 47.97, 32.03, 48.03)}],
    },
    "restricted_zones": [
        {
            "id": "band",
            "kind": "air",
            "name": "no-fly band",
            "geometry": {"buffer": {"of": "contact_line", "distance_km": 10}},
            "applies_to": ["fighter", "uav"],
        }
    ],
    "storage_sites": [
        {
            "id": "UKR-S1",
            "party": "UKR",
            "name": "West depot",
            "location": [29.0, 48.0],
            "inventory": [{"weapon_class": "mlrs", "model": "BM-21", "serials": ["A1", "A2"]}],
        }
    ],
    "ceilings": {"UKR": {"troops": 800000}},
    "reassurance_force": {"min_distance_km": 100, "basing": {"geometry": _box(28.0, 47.5, 29.0, 48.5)}},
    "sectors": {
        "max_distance_km": 50,
        "contact_line": [
            {
                "id": "S1",
                "name": "South",
                "geometry": {"type": "LineString", "coordinates": [[32.0, 47.0], [32.0, 48.0]]},
            },
            {
                "id": "S2",
                "name": "North",
                "geometry": {"type": "LineString", "coordinates": [[32.0, 48.0], [32.0, 49.0]]},
            },
        ],
    },
    "triggers": [
        {
            "id": "crossing",
            "name": "a crossing",
            "kind": "line_crossing",
            "by": ["RUS", "UKR"],
            "lines": ["contact_line"],
            "min_personnel": 100,
            "response": "activation",
            "clause": "ceasefire",
        }
    ],
}


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh deep copy of the minimal valid agreement, to mutate."""
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[dict[str, Any] | str], Path]:
    """Write a document (dict or raw YAML text) to ``agreement.yaml`` in a temporary directory."""

    def _write(document: dict[str, Any] | str) -> Path:
        path = tmp_path / "agreement.yaml"
        text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return _write
