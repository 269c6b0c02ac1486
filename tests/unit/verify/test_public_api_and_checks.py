"""The package's public surface, its layer, and the agreement checks it relies on."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import truceline.verify
from truceline.agreement import AgreementError, load_agreement
from truceline.verify import check_agreement, verify

EXPECTED = {"ZoneChecker", "check_agreement", "reassurance_findings", "run", "verify"}


def test_public_surface_is_pinned() -> None:
    assert set(truceline.verify.__all__) == EXPECTED
    assert all(hasattr(truceline.verify, name) for name in EXPECTED)


def test_run_has_the_stage_signature() -> None:
    import inspect

    sig = inspect.signature(truceline.verify.run)
    assert list(sig.parameters) == ["store", "agreement", "after_seq", "upto_seq"]
    assert sig.parameters["after_seq"].kind is inspect.Parameter.KEYWORD_ONLY


def test_verify_imports_no_other_stage_and_never_the_simulator() -> None:
    # guarantee is not a stage: the reassurance force's rule lives there, below the stages.
    allowed = {"model", "geo", "agreement", "store", "policy", "ledger", "guarantee", "verify"}
    package = Path(truceline.verify.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("truceline."):
                    assert name.split(".")[1] in allowed, f"{path.name} imports {name}"


def test_overlapping_disengagement_areas_are_refused(
    doc: dict[str, Any], write_agreement: Callable[[dict[str, Any]], Path]
) -> None:
    area = doc["disengagement"]["areas"][0]
    doc["disengagement"]["areas"].append({**area, "id": "DA-2", "name": "Overlapping"})
    bad = load_agreement(write_agreement(doc))
    with pytest.raises(AgreementError, match="overlaps disengagement area DA-1"):
        check_agreement(bad)
    with pytest.raises(AgreementError):
        verify(bad, [])  # verification refuses to run on it, rather than pass everything


def test_a_withdrawal_rule_for_an_unknown_weapon_class_is_refused_on_load(
    doc: dict[str, Any], write_agreement: Callable[[dict[str, Any]], Path]
) -> None:
    doc["withdrawal"]["railgun"] = {"distance_km": 10}
    with pytest.raises(AgreementError, match="railgun"):
        load_agreement(write_agreement(doc))


def test_the_test_agreement_passes_the_checks(doc: dict[str, Any], write_agreement: Callable[..., Path]) -> None:
    check_agreement(load_agreement(write_agreement(doc)))


def test_run_on_an_empty_store_writes_nothing() -> None:
    from truceline.agreement import default_agreement
    from truceline.store import MemoryStore

    store = MemoryStore()
    assert truceline.verify.run(store, default_agreement(), after_seq=0, upto_seq=0) == {"findings": 0}
    assert list(store.records("finding")) == []
