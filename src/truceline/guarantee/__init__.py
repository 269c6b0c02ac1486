"""Managing the guarantee: the pledge menu, requirements and gaps, ratification, the reassurance
force's posture and coverage, Ukraine's force plan, and the audit of delivered equipment.

Load a coalition file (``src/truceline/guarantee/data/coalition.yaml``; format in ``docs/guarantee.md``) and ask::

    >>> from truceline.guarantee import load_coalition, gap_table, run_force_plan, EXAMPLE_COALITION
    >>> coalition = load_coalition(EXAMPLE_COALITION)
    >>> len(coalition.participants()) >= 30
    True
    >>> row = next(r for r in gap_table(coalition) if r.capability == "ground.troops")
    >>> row.unit
    'personnel'
    >>> run_force_plan(coalition).shortfalls[0].item
    'personnel'

The public surface is listed in ``__all__`` (pinned by a test); imports of this stage are
``model``, ``geo``, ``agreement`` and, for persistence only, ``store``.
"""

from pathlib import Path

from truceline.guarantee._yaml import CoalitionError
from truceline.guarantee.audit import (
    AuditLedger,
    AuditReport,
    Declaration,
    Discrepancy,
    Inspection,
    inspections_from_visits,
    load_audit,
    reconcile,
)
from truceline.guarantee.catalogue import CATEGORIES, Capability, Catalogue, default_catalogue
from truceline.guarantee.coalition import Coalition, Requirement, Situation, amend, withdraw
from truceline.guarantee.coverage import Coverage, Ring, coverage
from truceline.guarantee.forceplan import (
    Contribution,
    EquipmentPlan,
    ForcePlan,
    ForcePlanResult,
    PersonnelPlan,
    Shortfall,
    WhatIf,
    run_force_plan,
)
from truceline.guarantee.gaps import GapRow, RatificationRow, gap_table, ratification_table
from truceline.guarantee.loader import load_coalition, load_requirements
from truceline.guarantee.posture import (
    CLAUSE_BASING,
    CLAUSE_DISTANCE,
    PositionChecks,
    PostureFinding,
    PostureRow,
    check_positions,
    posture,
)
from truceline.guarantee.records import (
    RECORD_TYPES,
    DeliveredItem,
    Delivery,
    Pledge,
    Position,
    Ratification,
    RatificationStep,
    ReassuranceUnit,
    register_records,
)
from truceline.guarantee.stockflow import FlowInputs, Projection, project, project_reference

EXAMPLE_COALITION = Path(__file__).resolve().parent / "data" / "coalition.yaml"
"""The example coalition shipped in the repository (present in a source checkout)."""

__all__ = [
    "CATEGORIES",
    "CLAUSE_BASING",
    "CLAUSE_DISTANCE",
    "EXAMPLE_COALITION",
    "RECORD_TYPES",
    "AuditLedger",
    "AuditReport",
    "Capability",
    "Catalogue",
    "Coalition",
    "CoalitionError",
    "Contribution",
    "Coverage",
    "Declaration",
    "DeliveredItem",
    "Delivery",
    "Discrepancy",
    "EquipmentPlan",
    "FlowInputs",
    "ForcePlan",
    "ForcePlanResult",
    "GapRow",
    "Inspection",
    "PersonnelPlan",
    "Pledge",
    "Position",
    "PositionChecks",
    "PostureFinding",
    "PostureRow",
    "Projection",
    "Ratification",
    "RatificationRow",
    "RatificationStep",
    "ReassuranceUnit",
    "Requirement",
    "Ring",
    "Shortfall",
    "Situation",
    "WhatIf",
    "amend",
    "check_positions",
    "coverage",
    "default_catalogue",
    "gap_table",
    "inspections_from_visits",
    "load_audit",
    "load_coalition",
    "load_requirements",
    "posture",
    "project",
    "project_reference",
    "ratification_table",
    "reconcile",
    "register_records",
    "run_force_plan",
    "withdraw",
]
