"""``truceline coalition`` and ``truceline forceplan`` in-process: tables, PNGs, exit statuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from truceline.cli.guarantee_cmd import coalition_app, forceplan_app
from truceline.guarantee import EXAMPLE_COALITION, load_coalition

Write = Callable[[dict[str, Any] | str], Path]

# The lead registers both apps in truceline.cli; here they hang under a local root the same way.
app = typer.Typer()
app.add_typer(coalition_app, name="coalition")
app.add_typer(forceplan_app, name="forceplan")
runner = CliRunner()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "250"})


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["coalition", "menu"], "equipment.air_defence"),
        (["coalition", "pledges", "--participant", "SWE"], "SWE-gripen"),
        (["coalition", "directives", "--directive", "D-SEA-PATROL"], "TUR-frigates"),
        (["coalition", "ratification"], "in force for 10 of 25 guarantors"),
        (["coalition", "coverage", "--which", "actual"], "Odesa shipping corridor"),
        (["forceplan", "project", "--every", "12"], "above the agreement's ceiling of 800,000"),
    ],
)
def test_commands_on_the_example_exit_zero(args: list[str], expected: str) -> None:
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_gaps_prints_the_table_and_draws_the_chart(tmp_path: Path) -> None:
    out = tmp_path / "gaps.png"
    result = run("coalition", "gaps", "--level", "4", "--png", str(out))
    assert result.exit_code == 0, result.output
    assert "warning level 4" in result.output and "Troops in the reassurance force" in result.output
    assert out.read_bytes().startswith(PNG_MAGIC)


def test_pledge_history_shows_every_version() -> None:
    result = run("coalition", "pledges", "--history", "BEL-f16")
    assert result.exit_code == 0, result.output
    assert "2026-08-28" in result.output and "2026-10-20" in result.output and "F-35 arrivals" in result.output
    assert run("coalition", "pledges", "--history", "NOPE").exit_code == 2


def test_posture_lists_findings_and_can_fail_on_them(tmp_path: Path) -> None:
    out = tmp_path / "posture.png"
    result = run("coalition", "posture", "--png", str(out))
    assert result.exit_code == 0, result.output
    assert "4 findings" in result.output and "reassurance.distance CAN-MTT" in result.output
    assert out.read_bytes().startswith(PNG_MAGIC)
    assert run("coalition", "posture", "--fail-on-findings").exit_code == 1


def test_whatif_compares_a_slip_with_the_plan(tmp_path: Path) -> None:
    out = tmp_path / "whatif.png"
    result = run("forceplan", "whatif", "--slip", "FRA-rafale-sale:3", "--png", str(out))
    assert result.exit_code == 0, result.output
    assert "FRA-rafale-sale slips 3 months" in result.output and "Fighter aircraft" in result.output
    assert out.read_bytes().startswith(PNG_MAGIC)
    bad = run("forceplan", "whatif", "--slip", "three months")
    assert bad.exit_code == 2 and "PLEDGE:MONTHS" in bad.output
    assert run("forceplan", "whatif", "--withdraw", "NOPE").exit_code == 2


def test_a_bad_coalition_file_exits_two_naming_file_field_and_reason(doc: dict[str, Any], write: Write) -> None:
    doc["pledges"][0]["participant"] = "ZZZ"
    path = write(doc)
    result = run("coalition", "gaps", "--file", str(path))
    assert result.exit_code == 2
    assert f"{path}: pledges[0].participant: unknown participant 'ZZZ'" in result.output
    assert run("coalition", "gaps", "--file", str(path.parent / "missing.yaml")).exit_code == 2


def test_the_audit_exits_one_with_its_discrepancies() -> None:
    result = run("coalition", "audit", str(EXAMPLE_COALITION.parent / "equipment_audit.yaml"))
    assert result.exit_code == 1
    for kind in ("missing", "unexpected", "duplicated", "not_found", "misplaced"):
        assert kind in result.output


def test_save_stores_versions_once(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    first = run("coalition", "save", "--db", db)
    assert first.exit_code == 0, first.output
    versions = sum(len(v) for v in load_coalition(EXAMPLE_COALITION).versions.values())
    assert f"stored {versions} pledge versions, 25 ratification versions" in first.output
    again = run("coalition", "save", "--db", db)
    assert "stored 0 pledge versions, 0 ratification versions, 0 reassurance_unit versions" in again.output


def test_help_explains_the_commands() -> None:
    top = run("coalition", "--help")
    assert top.exit_code == 0
    for command in ("pledges", "gaps", "ratification", "posture", "coverage", "menu", "audit"):
        assert command in top.output
    assert "Ukraine's force plan" in run("forceplan", "--help").output
    assert "--slip" in run("forceplan", "whatif", "--help").output
