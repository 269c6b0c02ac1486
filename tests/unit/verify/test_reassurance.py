"""Clause 8: the reassurance force's positions become findings, and cured breaches close them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import truceline.guarantee as guarantee
from truceline.guarantee import load_coalition
from truceline.verify import reassurance_findings

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def test_breaches_in_the_example_coalition_are_findings_citing_the_clause() -> None:
    coalition = load_coalition(Path(guarantee.__file__).parent / "data" / "coalition.yaml")
    findings = reassurance_findings(coalition, now=NOW)
    assert findings, "the example coalition has units placed in breach on purpose"
    assert {f.clause_id for f in findings} <= {"reassurance.distance", "reassurance.basing"}
    for f in findings:
        assert f.status == "provisional" and f.side in coalition.agreement.participant_ids()
        assert f.evidence and f.evidence[0].kind.startswith("unit_position.")
        assert f.clause_text  # the agreement's own words
    assert len({f.id for f in findings}) == len(findings)
    # The same positions give the same ids: a rerun writes no duplicates.
    assert [f.id for f in reassurance_findings(coalition, now=NOW)] == [f.id for f in findings]


def test_a_finding_whose_breach_is_cured_is_closed_not_deleted() -> None:
    coalition = load_coalition(Path(guarantee.__file__).parent / "data" / "coalition.yaml")
    open_now = reassurance_findings(coalition, now=NOW)
    stale = open_now[0].model_copy(update={"id": "finding-reassurance-0000000000000000"})
    # An id no current breach produces is left alone: only findings of the checked positions close.
    assert all(f.id != stale.id for f in reassurance_findings(coalition, now=NOW, existing={stale.id: stale}))
    # A stored open finding for a position that is now compliant (simulated: drop the breach by
    # passing the finding under the id of a compliant position's clause) is closed.
    from truceline.guarantee import posture
    from truceline.verify._common import finding_id

    compliant = next(r for r in posture(coalition) if not r.findings)
    fid = finding_id("reassurance", compliant.unit.id, compliant.which, "reassurance.distance")
    old = open_now[0].model_copy(update={"id": fid})
    closed = [f for f in reassurance_findings(coalition, now=NOW, existing={fid: old}) if f.id == fid]
    assert len(closed) == 1 and closed[0].status == "closed" and closed[0].last_seen == NOW


def test_coalition_posture_stores_the_findings_once(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from truceline.cli import app
    from truceline.store import SQLiteStore

    db = tmp_path / "t.db"
    SQLiteStore(db).close()
    runner = CliRunner()
    first = runner.invoke(app, ["coalition", "posture", "--db", str(db)])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["coalition", "posture", "--db", str(db)])
    assert "stored 0 new finding versions" in again.output, again.output
    store = SQLiteStore(db)
    try:
        stored = [s.record for s in store.records("finding")]
    finally:
        store.close()
    assert stored and all(f.clause_id.startswith("reassurance.") for f in stored)  # type: ignore[attr-defined]
