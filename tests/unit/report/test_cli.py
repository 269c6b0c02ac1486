"""``truceline report`` as a user runs it (the command is registered here as the lead will)."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from tests.unit.report.factories import populated_store
from truceline.cli import report_cmd
from truceline.store import SQLiteStore

app = typer.Typer()
app.command()(report_cmd.report)
runner = CliRunner()


def _db(tmp_path: Path) -> str:
    path = tmp_path / "t.db"
    store = SQLiteStore(path)
    populated_store(hidden=True, store=store)
    store.close()
    return str(path)


def test_report_writes_a_participants_html_without_hidden_material(tmp_path: Path) -> None:
    db = _db(tmp_path)
    out = tmp_path / "ukr.html"
    result = runner.invoke(app, ["--day", "2026-10-02", "--db", db, "--out", str(out), "--for", "UKR"])
    assert result.exit_code == 0, result.output
    assert "TLP:GREEN, for UKR" in result.output
    html = out.read_text()
    assert "F-WD-1" in html and "CANARY" not in html


def test_report_full_view_by_default_and_plain_text_baseline(tmp_path: Path) -> None:
    db = _db(tmp_path)
    result = runner.invoke(app, ["--day", "2026-10-02", "--db", db, "--out", str(tmp_path / "all.html")])
    assert result.exit_code == 0, result.output
    assert "full view" in result.output and "CANARY" in (tmp_path / "all.html").read_text()
    result = runner.invoke(app, ["--day", "2026-10-02", "--db", db, "--out", str(tmp_path / "r.txt"), "--for", "UKR"])
    assert result.exit_code == 0, result.output
    assert "DAILY REPORT 2026-10-02 (for UKR)" in (tmp_path / "r.txt").read_text()


def test_report_bad_input_gets_a_clear_message(tmp_path: Path) -> None:
    db = _db(tmp_path)
    cases = {
        ("--day", "02/10/2026"): "expected a date as YYYY-MM-DD",
        ("--for", "XYZ"): "not a participant",
        ("--out", str(tmp_path / "r.docx")): "write .html, .pdf or .txt",
    }
    for extra, message in cases.items():
        args = {"--day": "2026-10-02", "--out": str(tmp_path / "r.html"), "--db": db}
        args[extra[0]] = extra[1]
        flat = [x for pair in args.items() for x in pair]
        result = runner.invoke(app, flat)
        assert result.exit_code == 2, (extra, result.output)
        assert message in result.output, result.output
    result = runner.invoke(app, ["--day", "2026-10-02", "--db", str(tmp_path / "none.db"), "--out", "x.html"])
    assert result.exit_code == 2 and "no such database" in result.output


def test_a_day_without_data_says_so(tmp_path: Path) -> None:
    db = _db(tmp_path)
    result = runner.invoke(app, ["--day", "2027-01-01", "--db", db, "--out", str(tmp_path / "e.html")])
    assert result.exit_code == 0 and "no data for this day" in result.output
