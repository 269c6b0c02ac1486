"""Shared fixtures: a pinned clock, a known participant set, and a factory of valid reports."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from truceline.model import FixedClock

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARTICIPANTS = frozenset({"UKR", "RUS", "USA", "GBR", "FRA", "DEU", "POL", "TUR", "OSCE"})
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

_BASE: dict[str, Any] = {
    "participant": "USA",
    "source": "ac-017",
    "reliability": "B",
    "credibility": 2,
    "time_error_s": 0.002,
    "location": {
        "lat": 48.02,
        "lon": 37.80,
        "error": {"semi_major_m": 8.0, "semi_minor_m": 5.0, "orientation_deg": 30.0},
    },
    "markings": {"tlp": "amber", "originator": "USA", "releasable_to": ["UKR", "GBR"]},
}

_KIND_FIELDS: dict[str, dict[str, Any]] = {
    "acoustic_arrival": {"bearing_deg": 121.5, "bearing_error_deg": 3.0, "snr_db": 14.0, "phase": "blast"},
    "radar_track": {
        "origin": {"lat": 48.10, "lon": 38.01, "error": {"semi_major_m": 150.0, "semi_minor_m": 60.0}},
        "impact": {"lat": 47.98, "lon": 37.70, "error": {"semi_major_m": 80.0, "semi_minor_m": 40.0}},
        "weapon_class_guess": "artillery_ge100",
        "projectile": "shell",
    },
    "imagery_detection": {
        "object_class": "mlrs",
        "count": 3,
        "class_confidence": 0.8,
        "pass_id": "pass-2026-03-01-a",
    },
    "patrol_report": {
        "explosions": 4,
        "bursts": 2,
        "bearing_deg": 95.0,
        "distance_m": 3000.0,
        "direction": "outgoing",
    },
    "uav_sighting": {"object_class": "tank", "count": 2, "flight_id": "uav-7"},
    "weapon_sighting": {"weapon_class": "mlrs", "count": 2, "serials": ["BM21-0042", "BM21-0043"]},
    "storage_visit": {"site_id": "UKR-S1", "serials_present": ["A1", "A2"], "serials_missing": ["A3"]},
    "movement_denial": {"denied_by": "RUS", "reason_given": "security situation"},
    "air_track": {"track_id": "T-88", "altitude_m": 4500.0, "speed_mps": 220.0, "heading_deg": 270.0},
    "sea_track": {"track_id": "S-12", "speed_mps": 8.0, "heading_deg": 45.0, "vessel_class": "patrol"},
    "met_observation": {"temperature_c": 4.5, "wind_speed_mps": 5.0, "wind_from_deg": 250.0},
    "claim": {
        "claimant": "RUS",
        "accused": "UKR",
        "claim_kind": "shelling",
        "claimed_time": "2026-03-01T03:40:00Z",
        "place_name": "Horlivka",
        "weapon_class": "artillery_ge100",
        "media": [{"uri": "file:///media/clip.mp4", "media_type": "video/mp4"}],
    },
    "force_declaration": {
        "declaring_party": "UKR",
        "troop_strength": 780000,
        "weapons": {"tank": 900, "mlrs": 300},
    },
}

OBSERVATION_KINDS_UNDER_TEST = tuple(_KIND_FIELDS)


def observation_dict(i: int = 0, kind: str = "acoustic_arrival", **overrides: Any) -> dict[str, Any]:
    """A valid report as a JSON-ready dict; ``i`` varies the key and the time."""
    record = copy.deepcopy(_BASE)
    record.update(copy.deepcopy(_KIND_FIELDS[kind]))
    record["kind"] = kind
    record["key"] = f"{kind}-{i:07d}"
    record["time"] = (NOW - timedelta(hours=6) + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
    if kind == "claim":
        record["participant"] = "RUS"
        record["markings"] = {"tlp": "green", "originator": "RUS"}
    for k, v in overrides.items():
        record[k] = v
    return record


def observation_line(i: int = 0, kind: str = "acoustic_arrival", **overrides: Any) -> str:
    return json.dumps(observation_dict(i, kind, **overrides))


POSTGRES_ADMIN_URL = os.environ.get("TRUCELINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards.

    The server-mode tests need a real PostgreSQL with PostGIS (``.ci/run`` starts one). They are
    never skipped silently: only ``TRUCELINE_SKIP_POSTGRES=1`` skips them, for a laptop without it.
    """
    if os.environ.get("TRUCELINE_SKIP_POSTGRES") == "1":
        pytest.skip("TRUCELINE_SKIP_POSTGRES=1")
    import psycopg

    name = f"truceline_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(autouse=True)
def _dashboard_threads_end_with_their_test() -> Iterator[None]:
    """Wait (bounded) for the dashboard's background builds a test started.

    FastAPI builds routes under ``warnings.catch_warnings``, which is process-wide: a build thread
    that outlives its test can turn a warning into an error in whichever test runs next.
    """
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("dashboard-"):
            thread.join(timeout=120)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def make_obs() -> Callable[..., dict[str, Any]]:
    return observation_dict
