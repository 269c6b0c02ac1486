"""Tabletop exercise on the simulator's build-up scenario: the expected directives come before the offensive.

Verify and assess are built elsewhere, so this test stands in for them with records made from the
simulation's truth (the observed withdrawal violations as findings; a crude warning level per
sector from the count of new violations in the last 7 days). What it checks is act's part: the
engine consumes stored records and issues the operating document's directives in time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.unit.act.factories import GREEN, assessment, info, loc, ref
from truceline.act import ActSettings, AlertSigner, DeskSettings, SignedCap, run_exercise
from truceline.agreement import Agreement
from truceline.interop.cap import parse_cap
from truceline.model import Assessment, Evidence, Finding
from truceline.sim import load_truth, scenario, simulate
from truceline.store import MemoryStore


@pytest.fixture(scope="module")
def buildup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("buildup")
    simulate(scenario("buildup", days=26, scale=0.001, seed=1), out)
    return out


def _stand_ins(agreement: Agreement, run_dir: Path) -> tuple[list[Finding], list[Assessment], datetime]:
    truth = load_truth(run_dir / "truth.json")
    start = truth.start_date
    assert start is not None
    violations = [v for v in truth.violations if v["clause"].startswith("withdrawal.") and v["observed"]]
    sectors = agreement.sector_of([v["lon"] for v in violations], [v["lat"] for v in violations])
    findings = []
    for v, sector in zip(violations, sectors, strict=True):
        first = datetime.fromisoformat(v["start"].replace("Z", "+00:00")) + timedelta(hours=12)
        findings.append(Finding(
            id=f"finding--{v['id']}", clause_id=v["clause"], clause_text="withdrawal", side=v["side"],
            confidence=0.9, evidence=(Evidence(kind="sighting", description=v["weapon_class"], refs=(ref(v["id"]),)),),
            location=loc(v["lat"], v["lon"], 50.0), sector=str(sector) or None, first_seen=first, last_seen=first,
            status="provisional", markings=GREEN, creation_info=info(first),
        ))
    days = [start + timedelta(days=i) for i in range(truth.days or 0)]
    assessments = []
    for s in ("CL-04", "CL-05", "CL-06", "CL-07"):
        for d in days:
            since = datetime.combine(d - timedelta(days=7), datetime.min.time(), tzinfo=UTC)
            until = since + timedelta(days=8)
            new = sum(1 for f in findings if f.sector == s and since < f.first_seen <= until
                      and f.first_seen.date() > start)
            assessments.append(assessment(s, d.isoformat(), 1 + min(4, new // 3)))
    (offensive,) = truth.offensives
    return findings, assessments, datetime.fromisoformat(offensive["date"].replace("Z", "+00:00"))


def test_buildup_exercise_issues_the_expected_directives_before_the_offensive(agreement: Agreement,
                                                                              buildup: Path) -> None:
    findings, assessments, offensive = _stand_ins(agreement, buildup)
    store = MemoryStore()
    store.put_records(findings)
    store.put_records(assessments)
    settings = ActSettings(desk=DeskSettings(signer=AlertSigner.generate()))
    result = run_exercise(store, agreement, settings=settings, step=timedelta(hours=6))
    before = result.directives_issued(before=offensive, sector="CL-06")
    assert {"D-MONITOR-SURGE", "D-INTEL-SHARING", "D-DEMARCHE", "D-HOTLINE-QUERY"} <= before
    holders = result.directive_holders(before=offensive, sector="CL-06", scenario="S-WARNING-4")
    assert {"MVM", "USA"} <= holders["D-MONITOR-SURGE"] and "USA" in holders["D-INTEL-SHARING"]
    warned = [e for e in result.entries if e.kind == "alert" and e.sector == "CL-06" and "to 4" in e.text]
    assert warned and warned[0].at < offensive
    quiet = result.directives_issued(before=offensive, sector="CL-04")
    assert "D-DEMARCHE" not in quiet
    assert list(store.records("alert")) == [] and result.sandbox is not None  # the exercise wrote elsewhere
    signed = [s.record for s in result.sandbox.records("signedcap") if isinstance(s.record, SignedCap)]
    assert len(signed) >= 5
    for message in signed:  # every alert of the exercise passes the CAP 1.2 schema and is marked an exercise
        assert parse_cap(message.xml.encode()).status == "Exercise"
    text = result.render()
    assert "S-WARNING-4" in text and "escalated" in text
    assert date.fromisoformat(assessments[0].day) < offensive.date()
