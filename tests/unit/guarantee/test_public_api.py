"""The guarantee package's public surface is deliberate, its imports respect the layers, and its
docstring examples run."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import truceline.guarantee

EXPECTED = {
    "CATEGORIES", "CLAUSE_BASING", "CLAUSE_DISTANCE", "EXAMPLE_COALITION", "RECORD_TYPES", "AuditLedger",
    "AuditReport", "Capability", "Catalogue", "Coalition", "CoalitionError", "Contribution", "Coverage",
    "Declaration", "DeliveredItem", "Delivery", "Discrepancy", "EquipmentPlan", "FlowInputs", "ForcePlan",
    "ForcePlanResult", "GapRow", "Inspection", "PersonnelPlan", "Pledge", "Position", "PositionChecks",
    "PostureFinding", "PostureRow", "Projection", "Ratification", "RatificationRow", "RatificationStep",
    "ReassuranceUnit", "Requirement", "Ring", "Shortfall", "Situation", "WhatIf", "amend", "check_positions",
    "coverage", "default_catalogue", "gap_table", "inspections_from_visits", "load_audit", "load_coalition",
    "load_requirements", "posture", "project", "project_reference", "ratification_table", "reconcile",
    "register_records", "run_force_plan", "withdraw",
}  # fmt: skip
MODULES = [m.name for m in pkgutil.iter_modules(truceline.guarantee.__path__)]


def test_public_surface_is_pinned() -> None:
    assert set(truceline.guarantee.__all__) == EXPECTED
    assert all(hasattr(truceline.guarantee, name) for name in EXPECTED)


@pytest.mark.parametrize("module", MODULES)
def test_guarantee_imports_only_the_layers_below_it(module: str) -> None:
    path = Path(truceline.guarantee.__path__[0]) / f"{module}.py"
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("truceline"):
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names if a.name.startswith("truceline")}
    allowed = ("truceline.guarantee", "truceline.model", "truceline.geo", "truceline.agreement")
    # The store only where records are kept (persistence), never another stage, the pipeline or the CLI.
    if module in ("persist", "records"):
        allowed += ("truceline.store",)
    assert all(m.startswith(allowed) for m in imported), imported


def test_records_are_registered_only_when_asked() -> None:
    from truceline.store._records import _REGISTRY

    truceline.guarantee.register_records()
    truceline.guarantee.register_records()  # idempotent
    assert _REGISTRY["pledge"] is truceline.guarantee.Pledge


@pytest.mark.parametrize("module", ["truceline.guarantee", *(f"truceline.guarantee.{m}" for m in MODULES)])
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
