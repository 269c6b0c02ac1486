"""Small simulated runs shared by the simulator's tests (each is made once per test session)."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from truceline.sim import scenario, simulate

NOW = datetime(2027, 6, 1, tzinfo=UTC)
"""A clock after every simulated window (the simulator refuses runs that end in the future)."""


@functools.cache
def read_run(out: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(reports, truth) of a run, parsed once per session; callers must not modify them."""
    lines = (out / "observations.ndjson").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines], json.loads((out / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three days of the default scenario at a low scale."""
    out = tmp_path_factory.mktemp("small-run")
    simulate(scenario("default", days=3, scale=0.005, seed=7), out, now=NOW)
    return out


@pytest.fixture(scope="session")
def buildup_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build-up of 14 days and an offensive on day 18 of 21, with staged claims before it."""
    out = tmp_path_factory.mktemp("buildup-run")
    cfg = scenario("default", days=21, scale=0.002, seed=11, buildup_days=14, offensive_day=18, patrols_per_day=30)
    simulate(cfg, out, now=NOW)
    return out
