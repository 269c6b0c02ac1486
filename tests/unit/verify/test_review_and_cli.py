"""Reviews are new versions with an audit trail; the findings commands list, show, review, summarise."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.verify.conftest import east_of_line, numbered, report
from truceline.agreement import Agreement
from truceline.cli.verify_cmd import app
from truceline.model import Finding
from truceline.store import open_store
from truceline.verify import verify
from truceline.verify.review import ReviewError, review

NOW = datetime(2026, 9, 20, tzinfo=UTC)
runner = CliRunner()


def _finding(agreement: Agreement) -> Finding:
    tank = report("weapon_sighting", "MVM", "patrol-1", lon=east_of_line(5.0), lat=47.0, weapon_class="tank")
    [f] = verify(agreement, numbered([tank]), now=NOW)
    return f


def test_a_review_is_a_new_manual_version_and_follows_the_status_rules(agreement: Agreement) -> None:
    f = _finding(agreement)
    confirmed = review(f, "confirmed", reviewer="analyst-1", participant="USA", note="UAV video", when=NOW)
    assert (confirmed.id, confirmed.status, confirmed.creation_info.mode) == (f.id, "confirmed", "manual")
    assert confirmed.evidence == f.evidence
    with pytest.raises(ReviewError, match="may make it disputed, closed, not provisional"):
        review(confirmed, "provisional", reviewer="a", participant=None, note="x", when=NOW)
    with pytest.raises(ReviewError, match="needs a note"):
        review(f, "disputed", reviewer="a", participant=None, note=" ", when=NOW)


def test_findings_commands_list_show_review_and_summarise(agreement: Agreement, tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    store = open_store(db)
    f = _finding(agreement)
    store.put_record(f, type="finding")
    store.close()
    listed = runner.invoke(app, ["list", "--db", db, "--clause", "withdrawal"])
    assert listed.exit_code == 0 and f.id in listed.output and "1 of 1 findings" in listed.output
    done = runner.invoke(
        app, ["review", f.id, "--db", db, "--status", "confirmed", "--reviewer", "analyst-1", "--note", "seen"]
    )
    assert done.exit_code == 0 and "provisional → confirmed (version 2)" in done.output, done.output
    refused = runner.invoke(
        app, ["review", f.id, "--db", db, "--status", "provisional", "--reviewer", "a", "--note", "n"]
    )
    assert refused.exit_code != 0 and "may make it" in refused.output
    shown = runner.invoke(app, ["show", f.id, "--db", db])
    assert shown.exit_code == 0 and "v1" in shown.output and "v2" in shown.output and "analyst-1" in shown.output
    day = f.first_seen.date().isoformat()
    summary = runner.invoke(app, ["summary", "--db", db, "--day", day])
    assert summary.exit_code == 0 and "withdrawal" in summary.output and "+1" in summary.output
