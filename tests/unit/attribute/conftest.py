"""A small simulated run pushed through ingest, a stand-in fuse (from the truth) and the attribute stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.attribute.fakefuse import fake_incidents
from truceline.agreement import Agreement, default_agreement
from truceline.attribute import run
from truceline.ingest import ContextChecks, ingest_paths
from truceline.sim import Truth, load_truth, scenario, simulate
from truceline.store import MemoryStore

NOW = datetime(2027, 6, 1, tzinfo=UTC)


@dataclass
class StagedRun:
    out: Path
    truth: Truth
    store: MemoryStore
    agreement: Agreement
    counts: dict[str, int]
    upto: int


@pytest.fixture(scope="session")
def agreement() -> Agreement:
    return default_agreement()


@pytest.fixture(scope="session")
def staged_run(tmp_path_factory: pytest.TempPathFactory, agreement: Agreement) -> StagedRun:
    """Nine days of a build-up with three staged claims (two own-side shellings, one fabrication)."""
    out = tmp_path_factory.mktemp("attribute-run")
    simulate(scenario("buildup", days=9, scale=0.001, seed=5, buildup_days=7, offensive_day=8), out, now=NOW)
    store = MemoryStore()
    ingest_paths([str(out / "observations.ndjson")], store, ContextChecks(frozenset(agreement.participant_ids()), NOW))
    truth = load_truth(out / "truth.json")
    store.put_records(fake_incidents(truth.doc, seed=1))
    upto = store.max_seq()
    counts = run(store, agreement, after_seq=0, upto_seq=upto, media_root=out)
    return StagedRun(out, truth, store, agreement, counts, upto)
