"""The playbook engine: activations with evidence, preconditions, acknowledgements, escalation of overdue directives."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from tests.unit.act.factories import T0, assessment, finding, ref, strike
from truceline.act import (
    Activation,
    ActSettings,
    ActStage,
    DirectiveTask,
    Facts,
    Hotline,
    PlaybookEngine,
    acknowledge,
    load_playbook,
    parse_playbook,
)
from truceline.act.engine import count_in_window, count_in_window_reference
from truceline.agreement import Agreement
from truceline.model import Markings
from truceline.store import MemoryStore


def _tasks(store: MemoryStore) -> dict[str, DirectiveTask]:
    return {s.id: s.record for s in store.records("directivetask") if isinstance(s.record, DirectiveTask)}


def _activations(store: MemoryStore) -> list[Activation]:
    return [s.record for s in store.records("activation") if isinstance(s.record, Activation)]


def test_a_level_4_sector_activates_its_scenarios_with_the_evidence(agreement: Agreement) -> None:
    engine = PlaybookEngine(load_playbook(None, agreement), agreement)
    facts = Facts(assessments=[assessment("CL-06", "2026-09-02", 4), assessment("CL-05", "2026-09-02", 1)])
    result = engine.step(facts, T0 + timedelta(days=2))
    scenarios = sorted((a.scenario, a.sector) for a in result.activations)
    assert scenarios == [("S-WARNING-3", "CL-06"), ("S-WARNING-4", "CL-06")]
    w4 = next(a for a in result.activations if a.scenario == "S-WARNING-4")
    assert w4.references == ("assessment--CL-06--2026-09-02",)
    assert "warning level 4" in w4.evidence[0].description
    issued = {(t.directive, t.owner) for t in result.tasks if t.activation_id == w4.id}
    assert ("D-DEMARCHE", "GBR") in issued and ("D-INTEL-SHARING", "USA") in issued
    assert all(t.deadline > t.issued for t in result.tasks)


def test_a_days_assessment_is_not_acted_on_before_the_day_is_over(agreement: Agreement) -> None:
    engine = PlaybookEngine(load_playbook(None, agreement), agreement)
    facts = Facts(assessments=[assessment("CL-06", "2026-09-02", 5)])
    assert engine.step(facts, T0 + timedelta(days=1, hours=23)).activations == []
    assert engine.step(facts, T0 + timedelta(days=2)).activations


def test_an_activation_ends_when_its_condition_no_longer_holds_and_a_new_one_starts_later(
    agreement: Agreement, settings: ActSettings
) -> None:
    store = MemoryStore()
    store.put_records([assessment("CL-06", d, lvl) for d, lvl in
                       [("2026-09-02", 3), ("2026-09-03", 1), ("2026-09-04", 3)]])
    stage = ActStage(store, agreement, settings)
    for day in (2, 3, 4):  # each day's assessment is known at the end of the day
        stage.tick(T0 + timedelta(days=day))
    w3 = sorted((a for a in _activations(store) if a.scenario == "S-WARNING-3"), key=lambda a: a.activated)
    assert len(w3) == 2
    assert w3[0].ended == T0 + timedelta(days=3) and w3[1].ended is None


def test_return_fire_is_blocked_until_a_coordination_attempt_is_logged(agreement: Agreement,
                                                                        settings: ActSettings) -> None:
    store = MemoryStore()
    incidents = [strike(f"inc-{i}", T0 + timedelta(minutes=5 * i), weapon="mortar") for i in range(120)]
    store.put_records(incidents)
    stage = ActStage(store, agreement, settings)
    now = T0 + timedelta(hours=10)
    stage.tick(now)
    tasks = [t for t in _tasks(store).values() if t.directive == "D-RETURN-FIRE-AUTH"]
    assert [(t.owner, t.status) for t in tasks] == [("UKR", "blocked")]
    assert "coordination_attempt" in tasks[0].blocked_by
    Hotline(store).coordination_attempt(sender="MVM", to=["RUS", "UKR"], text="JCCC call on CL-06 fire",
                                        at=now + timedelta(hours=1), sector="CL-06")
    stage.tick(now + timedelta(hours=2))
    (task,) = [t for t in _tasks(store).values() if t.directive == "D-RETURN-FIRE-AUTH"]
    assert task.status == "open" and task.issued == now + timedelta(hours=2)
    with pytest.raises(ValueError, match="neither owns"):
        acknowledge(task, "RUS", at=now)


def test_overdue_directives_climb_the_escalation_ladder_unless_acknowledged(agreement: Agreement,
                                                                            settings: ActSettings) -> None:
    store = MemoryStore()
    store.put_records([assessment("CL-06", "2026-09-02", 3)])
    stage = ActStage(store, agreement, settings)
    start = T0 + timedelta(days=2)
    stage.tick(start)
    tasks = _tasks(store)
    mvm = next(t for t in tasks.values() if t.directive == "D-MONITOR-SURGE" and t.owner == "MVM")
    usa = next(t for t in tasks.values() if t.directive == "D-MONITOR-SURGE" and t.owner == "USA")
    store.put_records([acknowledge(usa, "USA", at=start + timedelta(hours=1), note="two UAV flights tasked")])
    stage.tick(start + timedelta(hours=7))
    assert _tasks(store)[mvm.id].status == "escalated"
    assert _tasks(store)[mvm.id].escalated_to == ("USA",)
    stage.tick(start + timedelta(hours=25))
    escalated = _tasks(store)[mvm.id]
    assert escalated.escalation_step == 2
    assert set(escalated.escalated_to) == {p.id for p in agreement.participants if "guarantor" in p.roles}
    assert _tasks(store)[usa.id].status == "acknowledged"  # acknowledged: never escalated
    history = store.record_history("directivetask", mvm.id)
    assert [h.record.status for h in history] == ["open", "escalated", "escalated"]  # type: ignore[attr-defined]


def test_a_owner_not_entitled_to_the_evidence_gets_a_blocked_task(agreement: Agreement) -> None:
    text = """\
format_version: 1
id: t
title: t
directives:
  D-X: {title: x, owners: [RUS, USA], deadline_hours: 1}
scenarios:
  - {id: S, name: s, when: {warning_level: {at_least: 2}}, directives: [D-X]}
"""
    engine = PlaybookEngine(parse_playbook(text, agreement), agreement)
    amber = Markings(tlp="amber", originator="USA", releasable_to=("UKR",))
    result = engine.step(Facts(assessments=[assessment("CL-06", "2026-09-02", 2, markings=amber)]),
                         T0 + timedelta(days=3))
    status = {t.owner: t.status for t in result.tasks}
    assert status == {"RUS": "blocked", "USA": "open"}
    assert result.activations[0].markings.tlp == "amber"


def test_a_task_whose_owner_may_not_read_it_goes_up_its_ladder_to_someone_who_may(agreement: Agreement) -> None:
    text = """\
format_version: 1
id: t
title: t
directives:
  D-X:
    title: x
    owners: [USA, GBR]
    deadline_hours: 6
    escalation:
      - {after_hours: 6, to: [FRA]}
      - {after_hours: 12, to: [POL, DEU, UKR]}
  D-Y: {title: y, owners: [FRA], deadline_hours: 6, escalation: [{after_hours: 6, to: [DEU]}]}
scenarios:
  - {id: S, name: s, when: {warning_level: {at_least: 2}}, directives: [D-X, D-Y]}
"""
    engine = PlaybookEngine(parse_playbook(text, agreement), agreement)
    amber = Markings(tlp="amber", originator="MVM", releasable_to=("GBR", "POL", "UKR"))
    now = T0 + timedelta(days=3)
    facts = Facts(assessments=[assessment("CL-06", "2026-09-02", 2, markings=amber)])
    result = engine.step(facts, now)
    history = [(t.directive, t.owner, t.status, t.escalated_to) for t in result.tasks]
    # USA may not read the evidence: its task is recorded blocked, then handed at once to the first
    # rung with someone entitled (FRA is not; POL and UKR are, DEU is not). GBR's is open as usual.
    assert history == [
        ("D-X", "USA", "blocked", ()),
        ("D-X", "USA", "escalated", ("POL", "UKR")),
        ("D-X", "GBR", "open", ()),
        ("D-Y", "FRA", "blocked", ()),  # nobody on D-Y's ladder may read it: it stays blocked
    ]
    handed = result.tasks[1]
    assert handed.id == result.tasks[0].id and handed.escalation_step == 2 and "may not read" in handed.note
    acknowledge(handed, "POL", at=now)  # the new holder can acknowledge it
    # A later escalation of GBR's open task skips FRA, who may not read it, rather than reach nobody.
    later = engine.step(facts, now + timedelta(hours=7), activations=result.activations, tasks=result.tasks[1:3])
    assert [(t.owner, t.status) for t in later.tasks] == [("USA", "escalated")]  # only marked overdue
    assert "overdue" in later.tasks[0].note and later.tasks[0].escalated_to == ("POL", "UKR")
    last = engine.step(facts, now + timedelta(hours=13), activations=result.activations, tasks=result.tasks[1:3])
    gbr = [(t.escalation_step, t.escalated_to) for t in last.tasks if t.owner == "GBR"]
    assert gbr == [(2, ("POL", "UKR"))]


def test_findings_and_indicators_conditions(agreement: Agreement) -> None:
    text = """\
format_version: 1
id: t
title: t
directives:
  D-X: {title: x, owners: [USA], deadline_hours: 1}
scenarios:
  - {id: F, name: f, when: {findings: {clause_prefix: withdrawal., min_count: 2, window_hours: 24,
                                       status: confirmed}}, directives: [D-X]}
  - {id: I, name: i, when: {indicator: {name: gnss_jamming, at_least: 3}}, directives: [D-X]}
"""
    from truceline.model import Driver

    engine = PlaybookEngine(parse_playbook(text, agreement), agreement)
    jam = (Driver(indicator="gnss_jamming", value=4.0, contribution=0.5),)
    facts = Facts(
        findings=[finding("a", "withdrawal.mlrs", at=T0), finding("b", "withdrawal.tank", at=T0 + timedelta(hours=3)),
                  finding("c", "withdrawal.tank", at=T0 + timedelta(hours=3), status="provisional")],
        assessments=[assessment("CL-06", "2026-08-31", 2, drivers=jam)],
    )
    result = engine.step(facts, T0 + timedelta(hours=4))
    by = {a.scenario: a for a in result.activations}
    assert set(by) == {"F", "I"}
    assert set(by["F"].references) == {"a", "b"}
    assert by["F"].evidence[0].refs == (ref("a-obs"), ref("b-obs"))
    later = engine.step(facts, T0 + timedelta(hours=30))  # the findings have left the 24 h window
    assert {a.scenario for a in later.activations} == {"I"}


def test_window_counts_agree_with_the_plain_reference() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        times = np.sort(rng.uniform(0, 1000, rng.integers(0, 50)))
        a, b = sorted(rng.uniform(-10, 1010, 2))
        assert count_in_window(times, a, b) == count_in_window_reference(list(times), a, b)
    assert count_in_window(np.array([1.0, 2.0]), 1.0, 2.0) == 1  # (start, end]


def test_a_hotline_directive_queries_the_accused_party_and_escalates_its_silence(
    agreement: Agreement, settings: ActSettings
) -> None:
    store = MemoryStore()
    store.put_records([finding(f"w{i}", "withdrawal.mlrs", at=T0 + timedelta(hours=i), side="RUS") for i in range(3)])
    stage = ActStage(store, agreement, settings)
    first = stage.tick(T0 + timedelta(hours=3))
    (query,) = [e for e in first.hotline if e.kind == "query"]
    assert query.to == ("RUS",) and query.sector == "CL-06" and query.incident == "w0"
    assert query.deadline == T0 + timedelta(hours=5)  # D-HOTLINE-QUERY's deadline: 2 h
    assert stage.tick(T0 + timedelta(hours=4)).hotline == []  # asked once per activation
    later = stage.tick(T0 + timedelta(hours=6))
    assert [(e.kind, e.thread, e.to) for e in later.hotline] == [("escalation", query.thread, ("USA",))]
    assert Hotline(store).verify() is None


def test_no_hotline_query_goes_to_a_party_the_markings_exclude(agreement: Agreement, settings: ActSettings) -> None:
    store = MemoryStore()
    amber = Markings(tlp="amber", originator="USA", releasable_to=("UKR",))
    store.put_records([finding(f"w{i}", "withdrawal.mlrs", at=T0, side="RUS", markings=amber) for i in range(3)])
    report = ActStage(store, agreement, settings).tick(T0 + timedelta(hours=1))
    assert report.activations and report.hotline == []


def test_the_stage_reads_the_records_again_once_the_store_has_changed(agreement: Agreement,
                                                                      settings: ActSettings) -> None:
    store = MemoryStore()
    store.put_records([finding("w0", "withdrawal.mlrs", at=T0)])
    stage = ActStage(store, agreement, settings)
    assert [f.id for f in stage.inputs()[1]] == ["w0"]
    assert [f.id for f in stage.inputs()[1]] == ["w0"]  # the same state of the log: the same read
    store.put_records([finding("w1", "withdrawal.mlrs", at=T0)])
    assert sorted(f.id for f in stage.inputs(since_seq=1)[1]) == ["w0", "w1"]
    assert stage.fresh == {"w1"}
