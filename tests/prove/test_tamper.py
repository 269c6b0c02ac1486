"""Tamper evidence: injected faults in a SQLite store are all caught by ``verify_ledger``.

The short run here injects a few hundred faults (every class several times); ``tools/prove_tamper.py``
runs 10,000. The classes the audit once missed (ONCE_UNCOVERED) are also run on their own.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import NOW
from tests.prove.tamper import (
    CRASH,
    ONCE_UNCOVERED,
    Fault,
    FaultGenerator,
    Template,
    build_template,
    prepared,
    run_fault,
)
from truceline.ledger import SignedTreeHead, verify_consistency, verify_inclusion
from truceline.model import FixedClock, StoreCorrupt
from truceline.store import ObservationQuery, SQLiteStore

FAULTS = int(os.environ.get("TRUCELINE_TAMPER_FAULTS", "300"))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("tamper") / "template.db"
    build_template(path)
    return Template.read(path)


def test_the_untouched_template_verifies(template: Template, tmp_path: Path) -> None:
    outcome = run_fault(template, *_no_fault(), tmp_path)
    assert not outcome.detected, outcome.named


def _no_fault() -> tuple[Fault, Callable[[Path], None]]:
    return Fault(-1, "none", "none", "no change"), lambda path: None


def test_every_injected_fault_is_detected_and_the_changed_record_named(template: Template, tmp_path: Path) -> None:
    generator = FaultGenerator(template)
    missed, crashed, misnamed = [], [], []
    classes: set[tuple[str, str]] = set()
    for fault, apply in generator.faults(FAULTS):
        outcome = run_fault(template, fault, apply, tmp_path)
        classes.add((fault.kind, fault.target))
        if outcome.no_op:
            continue  # the flip landed where SQLite keeps no value (counted apart by the long run)
        if not outcome.detected:
            missed.append(str(outcome.fault))
        elif outcome.named.startswith(CRASH):
            crashed.append(f"{outcome.fault}: {outcome.named}")
        elif outcome.named_exactly is False:
            misnamed.append(f"{outcome.fault}: named {outcome.named}")
    assert len(classes) == len(generator.classes), "the short run must reach every fault class"
    assert not missed, missed[:10]
    assert not crashed, crashed[:10]
    assert not misnamed, misnamed[:10]


@pytest.mark.parametrize("fault_class", list(ONCE_UNCOVERED), ids=lambda c: f"{c[0]}:{c[1]}")
def test_the_columns_and_rows_the_audit_once_missed_are_caught(
    fault_class: tuple[str, str], template: Template, tmp_path: Path
) -> None:
    generator = FaultGenerator(template, seed=7)
    for number in range(5):
        fault, apply = generator.one(*fault_class, number=number)
        outcome = run_fault(template, fault, apply, tmp_path)
        assert outcome.detected, f"{outcome.fault}: not detected ({ONCE_UNCOVERED[fault_class]})"
        assert not outcome.named.startswith(CRASH), f"{outcome.fault}: {outcome.named}"


def test_an_unreadable_frontier_is_a_clean_store_error(template: Template, tmp_path: Path) -> None:
    db = tmp_path / "frontier.db"
    db.write_bytes(template.path.read_bytes())
    key = tmp_path / "frontier.db.key"
    key.write_bytes(template.path.with_name(template.path.name + ".key").read_bytes())
    key.chmod(0o600)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '{\"size\": 3, \"hashes\": [' WHERE key = 'frontier:observations'")
    conn.close()
    with pytest.raises(StoreCorrupt, match=r"ledger frontier of the observations log \(meta frontier:observations\)"):
        SQLiteStore(db).close()


def test_ledger_verify_on_the_command_line_names_the_bad_record(template: Template, tmp_path: Path) -> None:
    generator = FaultGenerator(template, seed=3)
    fault, apply = generator.one("bit-flip", "observations.body")
    outcome = run_fault(template, fault, apply, tmp_path)
    resolved = outcome.fault
    done = subprocess.run(
        [sys.executable, "-m", "truceline", "ledger", "verify", "--db", str(tmp_path / "victim.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert f"first bad record: observation #{resolved.seq} (" in " ".join(done.stderr.split())


def test_consistency_proofs_hold_across_restarts(tmp_path: Path) -> None:
    """Every head signed before any restart is consistent with every later one, proved after reopening."""
    db = tmp_path / "restarts.db"
    issued: list[SignedTreeHead] = []
    n = 0
    for restart, size in enumerate((1, 5, 2, 9, 16, 3, 7, 1)):
        store = SQLiteStore(db, clock=FixedClock(NOW))
        try:
            result = store.add_observations([prepared(n + j, "acoustic_arrival") for j in range(size)])
            n += size
            assert result.tree_head is not None
            issued.append(result.tree_head)
            assert store.tree_head() == result.tree_head, f"restart {restart}: the latest head is not the one issued"
        finally:
            store.close()
    store = SQLiteStore(db, clock=FixedClock(NOW))
    try:
        assert store.verify_ledger().ok
        assert store.tree_heads() == issued
        for i, old in enumerate(issued):
            for new in issued[i + 1 :]:
                proof = store.consistency_proof("observations", old.tree_size, new.tree_size)
                assert verify_consistency(
                    old.tree_size, new.tree_size, proof, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash)
                ), (old.tree_size, new.tree_size)
        latest = issued[-1]
        for seq in range(1, n + 1):
            obs = next(iter(store.observations(_from(seq))))
            proof = store.inclusion_proof("observations", seq, latest.tree_size)
            assert verify_inclusion(obs.leaf_hash, seq - 1, latest.tree_size, proof, bytes.fromhex(latest.root_hash))
        # A proof against a head that was not issued must fail: the check above can fail.
        forged = bytes.fromhex(issued[-2].root_hash)
        proof = store.consistency_proof("observations", issued[0].tree_size, latest.tree_size)
        assert not verify_consistency(
            issued[0].tree_size, latest.tree_size, proof, bytes.fromhex(issued[0].root_hash), forged
        )
    finally:
        store.close()


def _from(seq: int) -> ObservationQuery:
    return ObservationQuery(after_seq=seq - 1, limit=1)
