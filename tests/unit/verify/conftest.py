"""A small agreement on made-up geometry (the line is the 32° E meridian) and report factories.

UKR holds the west, RUS the east; MLRS stay 35 km back, tanks 15 km; a 10 km no-fly band; one
storage site per side; a disengagement area astride the line at 48° N; UKR's ceiling 800,000.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from truceline.agreement import Agreement, load_agreement
from truceline.model import ObservationBase, observation_adapter

T0 = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
"""A time inside the agreement's life; reports are made relative to it."""


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


DOC: dict[str, Any] = {
    "format_version": 1,
    "id": "verify-test",
    "version": "1",
    "title": "Verification test agreement",
    "effective": "2026-09-01",
    "participants": [
        {"id": "UKR", "name": "Ukraine", "roles": ["party"]},
        {"id": "RUS", "name": "Russian Federation", "roles": ["party"]},
        {"id": "USA", "name": "United States", "roles": ["monitor", "guarantor"]},
        {"id": "MVM", "name": "Mechanism", "kind": "organisation", "roles": ["monitor"]},
        {"id": "FRA", "name": "France", "roles": ["coalition"]},
    ],
    "parties": ["UKR", "RUS"],
    "clauses": {"ceasefire": "No fire.", "freedom_of_movement": "Monitors go anywhere.", "declarations": "Declare."},
    "contact_line": {"geometry": {"type": "LineString", "coordinates": [[32.0, 46.0], [32.0, 48.0], [32.0, 50.0]]}},
    "controlled_areas": {"UKR": _box(28.0, 46.0, 32.0, 50.0), "RUS": _box(32.0, 46.0, 36.0, 50.0)},
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
            "applies_to": ["fighter", "uav", "helicopter"],
            "exempt": ["USA", "MVM"],
        }
    ],
    "storage_sites": [
        {
            "id": "UKR-S1",
            "party": "UKR",
            "name": "West depot",
            "location": [29.0, 48.0],
            "inventory": [{"weapon_class": "mlrs", "model": "BM-21", "serials": ["A1", "A2", "A3"]}],
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
                "geometry": {"type": "LineString", "coordinates": [[32.0, 46.0], [32.0, 48.0]]},
            },
            {
                "id": "S2",
                "name": "North",
                "geometry": {"type": "LineString", "coordinates": [[32.0, 48.0], [32.0, 50.0]]},
            },
        ],
    },
}


def east_of_line(km: float, lat: float = 47.0) -> float:
    """The longitude ``km`` east of the 32° E line at ``lat`` (negative: west)."""
    return 32.0 + km / (111.32 * math.cos(math.radians(lat)))


@pytest.fixture(scope="session")
def agreement(tmp_path_factory: pytest.TempPathFactory) -> Agreement:
    path = tmp_path_factory.mktemp("agreement") / "agreement.yaml"
    path.write_text(yaml.safe_dump(DOC, sort_keys=False), encoding="utf-8")
    return load_agreement(path)


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of the test agreement's document, to break."""
    return copy.deepcopy(DOC)


@pytest.fixture
def write_agreement(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    def _write(document: dict[str, Any]) -> Path:
        path = tmp_path / "agreement.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return path

    return _write


_keys: Iterator[int] = itertools.count()


def loc(lon: float, lat: float, radius_m: float = 20.0) -> dict[str, Any]:
    return {"lon": lon, "lat": lat, "error": {"semi_major_m": radius_m, "semi_minor_m": radius_m}}


def report(
    kind: str,
    participant: str = "MVM",
    source: str = "team-1",
    *,
    hours: float = 0.0,
    tlp: str = "green",
    lon: float = 30.0,
    lat: float = 47.0,
    **fields: Any,
) -> ObservationBase:
    """One validated report of ``kind`` with a fresh key, ``hours`` after :data:`T0`."""
    markings: dict[str, Any] = {"tlp": tlp, "originator": participant}
    if tlp == "amber":
        markings["releasable_to"] = (
            ["USA", "MVM", "FRA"]
            if participant not in ("USA", "MVM", "FRA")
            else [p for p in ("USA", "MVM", "FRA") if p != participant]
        )
    body: dict[str, Any] = {
        "kind": kind,
        "key": f"k{next(_keys):06d}",
        "participant": participant,
        "source": source,
        "time": (T0 + timedelta(hours=hours)).isoformat(),
        "location": loc(lon, lat),
        "markings": markings,
        **fields,
    }
    if body.get("location") is None:
        body.pop("location")
    obs = observation_adapter.validate_json(json.dumps(body))
    assert isinstance(obs, ObservationBase)
    return obs


def numbered(observations: list[ObservationBase], start: int = 1) -> list[tuple[int, ObservationBase]]:
    """(seq, observation) pairs as a store would hand them out."""
    return list(enumerate(observations, start=start))
