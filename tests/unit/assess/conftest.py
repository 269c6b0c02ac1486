"""Small simulated runs for the assess stage's tests, made once per session, and their parsed reports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from truceline.assess import FireEvents
from truceline.assess.indicators import RELEVANT_KINDS
from truceline.model import ObservationBase, observation_adapter
from truceline.sim import Truth, load_truth, scenario, simulate

NOW = datetime(2027, 6, 1, tzinfo=UTC)
KEEP = (*RELEVANT_KINDS, "met_observation")


def read_reports(out: Path, kinds: tuple[str, ...] = KEEP) -> list[tuple[bytes, ObservationBase]]:
    """The run's reports of ``kinds`` (the rest is bulk the stage does not read), with their bytes."""
    wanted = tuple(f'"kind":"{k}"'.encode() for k in kinds)
    out_rows = []
    with open(out / "observations.ndjson", "rb") as f:
        for line in f:
            if any(w in line for w in wanted):
                out_rows.append((line.rstrip(b"\n"), observation_adapter.validate_json(line)))
    return out_rows


def fire_from_truth(truth: Truth, seed: int = 1, flip: float = 0.1) -> FireEvents:
    """Fire incidents as the fuse/attribute stages would give them: the truth's events, some sides wrong."""
    ev = truth.events
    t = np.array([datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() for e in ev])
    ukr = np.array([e["side"] == "UKR" for e in ev]) ^ (np.random.default_rng(seed).random(len(ev)) < flip)
    return FireEvents(t, np.array([e["sector"] for e in ev], dtype=np.str_), np.where(ukr, 0.85, 0.15))


@pytest.fixture(scope="session")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("assess-short")
    simulate(scenario("default", days=3, scale=0.003, seed=5, write_media=False), out, now=NOW)
    return out


@pytest.fixture(scope="session")
def buildup_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    """A 28-day build-up run (offensive on day 23) at the training scale: the warning must come a week ahead."""
    out = tmp_path_factory.mktemp("assess-buildup")
    simulate(scenario("buildup", days=28, scale=0.01, seed=404, write_media=False), out, now=NOW)
    return out, load_truth(out / "truth.json")
