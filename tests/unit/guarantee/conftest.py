"""A small valid coalition on the default agreement, to break one field at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

MINIMAL: dict[str, Any] = {
    "format_version": 1,
    "id": "test-coalition",
    "title": "Test coalition",
    "as_of": "2026-11-15",
    "pledge_date": "2026-08-28",
    "procedures": {"simple": ["signed", "approved", "in_force"]},
    "ratification": [
        {"participant": "GBR", "procedure": "simple",
         "steps": {"signed": "2026-08-28", "approved": "2026-09-20", "in_force": "2026-09-21"}},
        {"participant": "FRA", "procedure": "simple", "steps": {"signed": "2026-08-28"}},
    ],
    "pledges": [
        {"id": "GBR-troops", "participant": "GBR", "capability": "ground.troops", "quantity": 5000,
         "based": "in_ukraine", "conditions": {"after_ceasefire": True}, "directives": ["D-ACTIVATE"]},
        {"id": "FRA-troops", "participant": "FRA", "capability": "ground.troops", "quantity": 3000,
         "based": "in_ukraine", "conditions": {"after_ceasefire": True, "after_ratification": True}},
        {"id": "FRA-reserve", "participant": "FRA", "capability": "ground.troops", "quantity": 2000,
         "conditions": {"warning_level": 4}, "directives": ["D-ACTIVATE"]},
        {"id": "DEU-tanks", "participant": "DEU", "capability": "equipment.tank", "quantity": 40,
         "deliveries": [{"month": "2026-10", "quantity": 20}, {"month": "2027-04", "quantity": 10}]},
        {"id": "DEU-training", "participant": "DEU", "capability": "training.recruits", "quantity": 12000},
        {"id": "POL-training", "participant": "POL", "capability": "training.recruits", "quantity": 6000,
         "conditions": {"warning_level": 3}},
    ],
    "requirements": [
        {"capability": "ground.troops", "quantity": 10000},
        {"capability": "ground.troops", "quantity": 12000, "warning_level": 4},
        {"capability": "equipment.tank", "quantity": 40},
    ],
    "units": [
        {"id": "GBR-BG", "participant": "GBR", "capability": "ground.troops", "pledge": "GBR-troops",
         "planned": {"place": "Lviv"}, "actual": {"place": "Poltava", "reported": "2026-11-10"}},
        {"id": "FRA-AD", "participant": "FRA", "capability": "air.long_range_ad", "planned": {"place": "Lutsk"},
         "range_km": 100},
    ],
    "force_plan": {
        "start": "2026-09",
        "months": 36,
        "personnel": {
            "active": 850000, "mobilised": 300000, "in_training": 10000,
            "recruitment": {"2026-09": 8000}, "training_capacity": 5000, "training_months": 2, "washout": 0.05,
            "attrition": 0.002, "demobilisation": 0.02, "separation": 0.005,
        },
        "equipment": {"tank": {"name": "Tanks", "stock": 1000, "attrition": 0.005, "production": 2, "target": 1100}},
    },
}  # fmt: skip


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh deep copy of the minimal valid coalition, to mutate."""
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[dict[str, Any] | str], Path]:
    """Write a document (dict or raw YAML text) to ``coalition.yaml`` in a temporary directory."""

    def _write(document: dict[str, Any] | str) -> Path:
        path = tmp_path / "coalition.yaml"
        text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return _write
