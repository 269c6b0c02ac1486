"""The report package's surface and its place in the layers."""

from __future__ import annotations

import ast
from pathlib import Path

import truceline.report as report

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "truceline" / "report"
ALLOWED = {"model", "geo", "agreement", "store", "policy", "ledger", "report"}


def test_public_surface_is_pinned() -> None:
    # Adding or removing a public name is a deliberate act: update this list with it.
    assert sorted(report.__all__) == sorted(
        [
            "ESCALATION_Z95", "HISTORY_DAYS", "DailyReport", "DayData", "Plot", "Section", "Table", "Viewer",
            "build_report", "collect", "count_by_sector_side", "count_by_sector_side_reference", "escalation_of",
            "find_chromium", "html_to_pdf",
            "incident_columns", "osce_text_report", "render_html", "write_report",
        ]
    )  # fmt: skip
    for name in report.__all__:
        assert hasattr(report, name), name


def test_the_report_imports_no_stage_no_simulator_and_no_cli() -> None:
    # The report sits beside the stages: it reads their records from the store, never their code,
    # and never the simulator's truth.
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("truceline."):
                    assert name.split(".")[1] in ALLOWED, f"{path.name} imports {name}"
