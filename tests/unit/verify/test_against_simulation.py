"""The stage against the simulator's truth: scored exactly as ``truceline evaluate`` scores it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from truceline.agreement import default_agreement
from truceline.model import Finding, observation_adapter
from truceline.sim import load_truth, scenario, simulate
from truceline.sim.metrics import score_verification
from truceline.store import MemoryStore, PreparedObservation
from truceline.verify import run
from truceline.verify.run import KINDS

NOW = datetime(2027, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("verify-run")
    # The default scenario's first week at its default scale and seed (``truceline simulate --days 7``).
    simulate(scenario("default", days=7), out, now=NOW)
    return out


def _store(out: Path) -> MemoryStore:
    """The run's reports of the kinds verification reads (acoustic picks and weather left out)."""
    store = MemoryStore()
    batch = []
    with open(out / "observations.ndjson", "rb") as f:
        for line in f:
            if any(f'"kind":"{k}"'.encode() in line for k in KINDS):
                batch.append(PreparedObservation(observation_adapter.validate_json(line), line))
    store.add_observations(batch)
    return store


def _findings(store: MemoryStore) -> list[Finding]:
    return [r.record for r in store.records("finding") if isinstance(r.record, Finding)]


def test_findings_match_the_true_violations(sim_run: Path) -> None:
    store = _store(sim_run)
    counts = run(store, default_agreement(), after_seq=0, upto_seq=store.max_seq())
    score = score_verification(load_truth(sim_run / "truth.json"), _findings(store))
    assert score is not None and score["violations"] >= 100
    assert score["precision"] >= 0.95 and score["recall"] >= 0.95, score
    assert counts["findings"] == len(_findings(store))


def test_windows_update_findings_by_id_and_a_rerun_writes_nothing(sim_run: Path) -> None:
    store = _store(sim_run)
    top = store.max_seq()
    half = top // 2
    run(store, default_agreement(), after_seq=0, upto_seq=half)
    run(store, default_agreement(), after_seq=half, upto_seq=top)
    ids = {f.id for f in _findings(store)}
    assert any(len(store.record_history("finding", i)) > 1 for i in ids)  # the second window updated some
    versions = sum(len(store.record_history("finding", i)) for i in ids)
    again = run(store, default_agreement(), after_seq=0, upto_seq=top)
    assert {f.id for f in _findings(store)} == ids
    assert again == {"findings": 0}  # nothing changed, so nothing was written
    assert sum(len(store.record_history("finding", i)) for i in ids) == versions
