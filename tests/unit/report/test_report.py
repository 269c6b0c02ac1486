"""The daily report from hand-made records: sections, stage messages, markings, HTML, counts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from tests.unit.report.factories import DAY, GREEN, T0, USA_ONLY, incident, populated_store
from truceline.agreement import default_agreement
from truceline.model import CreationInfo, FixedClock, UsageError
from truceline.policy import Policy, PolicyContext
from truceline.report import (
    Viewer,
    build_report,
    count_by_sector_side,
    count_by_sector_side_reference,
    incident_columns,
    osce_text_report,
    render_html,
    write_report,
)
from truceline.store import MemoryStore

AG = default_agreement()
CLOCK = FixedClock(datetime(2026, 10, 3, 6, 0, tzinfo=UTC))
CONTEXT = PolicyContext.of(sorted(AG.participant_ids()))


def _section(report, section_id):  # type: ignore[no-untyped-def]
    return next(s for s in report.sections if s.id == section_id)


def test_full_view_shows_every_section_from_hand_made_records() -> None:
    report = build_report(populated_store(hidden=False), AG, DAY, clock=CLOCK)
    assert not report.no_data
    text = report.text_content()
    violations = _section(report, "violations")
    rows = {(r[0], r[1]): r for r in violations.tables[0].rows}
    assert rows[("CL-06", "RUS")][2] == "1"  # INC-1 today
    assert rows[("CL-06", "RUS")][4] == "1"  # INC-0 the day before
    assert rows[("CL-06", "UKR")][2] == "1"
    # INC-3 has no sector and a 50/50 attribution: the sector comes from its origin, the side is undetermined.
    assert rows[("CL-07", "undetermined")][2] == "1"
    # Its expected count is split between the parties (0.5 each), not left undetermined.
    assert rows[("CL-07", "undetermined")][3] == "0.0"
    totals = {r[1]: r for r in violations.tables[0].rows if r[0] == "all sectors"}
    assert totals["RUS"][3] == "1.5" and totals["UKR"][3] == "1.5"
    assert "F-WD-1" in text and "withdrawal.mlrs" in text
    assert "F-WD-0" not in _section(report, "findings").tables[0].rows[0]
    assert "Warning level 4 in the Pokrovsk sector" in text
    assert "staging:RUS:mod:c1" in text and "contradicted" in text
    assert "mines" in text  # the movement denial's reason
    warnings = _section(report, "warnings").tables[0].rows
    assert [r[:3] for r in warnings] == [("CL-06", "4", "3"), ("CL-07", "2", "—")]
    assert len(_section(report, "map").plots) == 1
    assert len(_section(report, "escalation").plots) == 3


def test_each_missing_stage_is_named_in_the_full_view() -> None:
    report = build_report(MemoryStore(), AG, DAY, clock=CLOCK)
    text = report.text_content()
    assert report.no_data
    for stage, what in (
        ("fuse", "incidents"),
        ("assess", "assessments"),
        ("verify", "findings"),
        ("act", "alerts"),
        ("act", "directives"),
    ):
        assert f"No {what}: the {stage} stage has not run" in text
    html = render_html(report)
    assert f"No data for {DAY}" in html


def test_a_stage_that_ran_but_made_nothing_for_the_day_is_told_apart() -> None:
    store = MemoryStore()
    store.put_records([incident("INC-OLD", T0 - timedelta(days=30))])
    text = build_report(store, AG, DAY, clock=CLOCK).text_content()
    assert "No incidents for 2026-10-02 (the fuse stage has run and produced none for this day)." in text


def test_a_participant_report_never_contains_what_it_may_not_see() -> None:
    viewer = Viewer.for_participant(CONTEXT, "UKR")
    report = build_report(populated_store(hidden=True), AG, DAY, viewer=viewer, clock=CLOCK)
    html = render_html(report)
    for canary in ("CANARY", "F-CANARY"):
        assert canary not in html, canary
    assert [r[0] for r in _section(report, "warnings").tables[0].rows] == ["CL-06", "CL-07"]  # not USA's CL-09
    assert "999" not in report.text_content()  # the hidden patrol's explosions are not counted
    assert "F-WD-1" in html and "Warning level 4" in html
    assert report.tlp == "green" and report.reader == "UKR"


def test_hidden_records_change_nothing_in_a_participants_report() -> None:
    # Stronger than looking for canaries: the whole document (figures included) is the same
    # whether or not the store holds material the reader may not see.
    ukr = Viewer.for_participant(CONTEXT, "UKR")
    with_hidden = render_html(build_report(populated_store(hidden=True), AG, DAY, viewer=ukr, clock=CLOCK))
    without = render_html(build_report(populated_store(hidden=False), AG, DAY, viewer=ukr, clock=CLOCK))
    assert with_hidden == without


def test_the_originator_sees_its_own_amber_material_and_the_report_is_marked_amber() -> None:
    usa = Viewer.for_participant(CONTEXT, "USA")
    report = build_report(populated_store(hidden=True), AG, DAY, viewer=usa, clock=CLOCK)
    html = render_html(report)
    assert "CANARY alert headline" in html and "F-CANARY" in html
    assert report.tlp == "amber"
    assert "TLP:AMBER" in html


def test_participant_empty_sections_do_not_say_whether_hidden_records_exist() -> None:
    ukr = Viewer.for_participant(CONTEXT, "UKR")
    store = MemoryStore()
    store.put_records([incident("INC-S", T0 + timedelta(hours=1), markings=USA_ONLY)])
    hidden_only = build_report(store, AG, DAY, viewer=ukr, clock=CLOCK).text_content()
    nothing = build_report(MemoryStore(), AG, DAY, viewer=ukr, clock=CLOCK).text_content()
    assert hidden_only == nothing
    assert "No incidents that you may see for 2026-10-02" in nothing


def test_the_viewer_audits_each_collection_it_filters() -> None:
    policy = Policy(CONTEXT)
    viewer = Viewer.for_participant(CONTEXT, "UKR", policy=policy)
    build_report(populated_store(hidden=True), AG, DAY, viewer=viewer, clock=CLOCK)
    refs = {e.ref for e in policy.audit.events}  # type: ignore[attr-defined]
    assert {"report/incident", "report/finding", "report/assessment", "report/alert", "report/observations"} <= refs


def test_viewer_mask_agrees_with_the_per_record_rule() -> None:
    rng = np.random.default_rng(7)
    levels = ["clear", "green", "amber", "amber+strict"]
    from truceline.model import Markings

    items = [
        Markings(
            tlp=levels[int(k)],
            originator=str(rng.choice(["USA", "UKR", "GBR"])),
            releasable_to=("GBR",) if rng.random() < 0.3 and levels[int(k)] != "clear" else (),
        )
        for k in rng.integers(0, 4, 200)
    ]
    viewer = Viewer.for_participant(CONTEXT, "GBR")
    assert viewer.keep("x", items, lambda m: m) == viewer.keep_reference(items, lambda m: m)


def test_vectorised_counts_agree_with_the_reference() -> None:
    rng = np.random.default_rng(3)
    incidents = [
        incident(
            f"I{k}",
            T0 + timedelta(hours=float(rng.uniform(-30, 23))),
            side=str(rng.choice(["RUS", "UKR"])),
            p=float(rng.uniform(0.3, 1.0)),
            weapon=str(rng.choice(["mortar", "small_arms", "unknown", "mlrs"])),
            sector=str(rng.choice(["CL-06", "CL-07", "CL-01"])) if rng.random() < 0.8 else None,
        )
        for k in range(300)
    ]
    cols = incident_columns(incidents, AG)
    sectors = ["CL-01", "CL-06", "CL-07"]
    for day in (DAY, DAY - timedelta(days=1)):
        fast, slow = count_by_sector_side(cols, day, sectors), count_by_sector_side_reference(cols, day, sectors)
        assert fast.count.sum() > 0
        np.testing.assert_array_equal(fast.count, slow.count)
        np.testing.assert_array_equal(fast.explosive, slow.explosive)
        np.testing.assert_array_equal(fast.known_class, slow.known_class)
        np.testing.assert_allclose(fast.expected, slow.expected)


def test_html_is_self_contained() -> None:
    html = render_html(build_report(populated_store(hidden=False), AG, DAY, clock=CLOCK))
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", html), "a resource outside the file"
    assert not re.search(r"url\(", html)
    assert html.count('src="data:image/png;base64,') == 4


def test_text_is_escaped() -> None:
    store = populated_store(hidden=False)
    from tests.unit.report.factories import alert

    store.put_records([alert("AL-X", "<script>alert(1)</script>")])
    html = render_html(build_report(store, AG, DAY, clock=CLOCK))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_osce_text_baseline_counts_the_same_incidents() -> None:
    text = osce_text_report(populated_store(hidden=True), AG, DAY, Viewer.for_participant(CONTEXT, "UKR"))
    assert "recorded 3 cease-fire violations (previous day: 1), including 2 explosions" in text
    assert "CANARY" not in text and "999" not in text


def test_write_report_refuses_an_unknown_suffix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = build_report(MemoryStore(), AG, DAY, clock=CLOCK)
    with pytest.raises(UsageError, match=r"\.html or \.pdf"):
        write_report(report, tmp_path / "r.docx")
    out = write_report(report, tmp_path / "r.html")
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_green_markings_give_a_green_report() -> None:
    report = build_report(populated_store(hidden=False), AG, DAY, clock=CLOCK)
    assert report.tlp == GREEN.tlp


def test_report_day_bounds_are_utc() -> None:
    store = MemoryStore()
    store.put_records(
        [
            incident("LATE", datetime(2026, 10, 2, 23, 59, tzinfo=UTC)),
            incident("EARLY", datetime(2026, 10, 3, 0, 0, tzinfo=UTC)),
        ]
    )
    report = build_report(store, AG, date(2026, 10, 2), clock=CLOCK)
    assert report.counts["incidents"] == 1


def test_act_directives_and_activations_are_listed_when_their_types_are_registered() -> None:
    from truceline.act import Activation, DirectiveTask, register_records

    register_records()
    store = populated_store(hidden=False)
    at = T0 + timedelta(hours=11)
    store.put_records(
        [
            Activation(
                id="ACT-1",
                playbook="default",
                scenario="escalation-spiral",
                sector="CL-06",
                activated=at,
                directives=("DIR-1",),
                markings=GREEN,
                creation_info=CreationInfo(agent="t", created=at),
            ),
            DirectiveTask(
                id="DIR-1",
                activation_id="ACT-1",
                directive="raise-patrols",
                title="Double patrols in CL-06",
                owner="OSCE",
                sector="CL-06",
                issued=at,
                deadline=at + timedelta(hours=6),
                markings=GREEN,
                creation_info=CreationInfo(agent="t", created=at),
            ),
        ]
    )
    alerts = _section(build_report(store, AG, DAY, clock=CLOCK), "alerts")
    cells = [cell for table in alerts.tables for row in table.rows for cell in row]
    assert "escalation-spiral" in cells and "Double patrols in CL-06" in cells and "OSCE" in cells


def test_a_participant_reads_its_sharing_groups_records_and_no_other_groups() -> None:
    from truceline.model import Markings
    from truceline.policy import SharingGroup

    context = PolicyContext.of(sorted(AG.participant_ids()), [SharingGroup(id="G-EAST", members=("POL", "EST"))])
    group_only = Markings(tlp="green", originator="POL", sharing_group="G-EAST")
    store = MemoryStore()
    store.put_records([incident("INC-G", T0 + timedelta(hours=2), markings=group_only)])
    member = build_report(store, AG, DAY, viewer=Viewer.for_participant(context, "EST"), clock=CLOCK)
    outsider = build_report(store, AG, DAY, viewer=Viewer.for_participant(context, "UKR"), clock=CLOCK)
    assert member.counts["incidents"] == 1
    assert outsider.counts["incidents"] == 0
