"""The escalation model on the real UCDP events of the Donbas war, and its command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from truceline.assess.history import escalation_history, read_ucdp
from truceline.cli.assess_cmd import history

UCDP = (
    Path(__file__).resolve().parents[3].parent / "shared/data/ucdp_ged_ukraine_2014_2019/ucdp_ged_ukraine_2014_2019.csv"
)
pytestmark = pytest.mark.skipif(not UCDP.is_file(), reason="the shared UCDP data is not here")


def test_the_2014_15_war_feeds_on_itself_and_the_late_2015_truce_does_not() -> None:
    fire = read_ucdp(UCDP)
    assert len(fire.time_s) > 1_500 and 0 < fire.p_ukr.mean() < 0.5
    points = escalation_history(fire, date(2014, 9, 1), date(2016, 12, 31), step_days=61)
    war = points[0]
    assert war.end == date(2014, 9, 1) and war.status == "ok"
    assert war.branching_ratio is not None and war.branching_ratio > 0.6
    truce = [p for p in points if date(2015, 12, 1) <= p.end <= date(2016, 2, 1)]
    assert truce and all(p.branching_ratio is None or p.branching_ratio < war.branching_ratio - 0.3 for p in truce)
    assert any(p.status == "too_few_events" and p.branching_ratio is None for p in points)


def test_the_history_command_prints_a_table_and_draws_the_plot(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(history)
    png = tmp_path / "h.png"
    result = CliRunner().invoke(app, [str(UCDP), "--plot", str(png), "--first", "2014-09-01", "--last", "2015-06-01"])
    assert result.exit_code == 0, result.output
    assert "branching ratio" in result.output and png.stat().st_size > 10_000


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(history)
    result = CliRunner().invoke(app, [str(tmp_path / "nope.csv")])
    assert result.exit_code != 0 and "no such file" in result.output
