"""The hotline's shared tamper-evident log, and the guarantee's trigger with the guarantors' consultations."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from tests.unit.act.factories import T0, finding, loc, strike
from truceline.act import (
    ActSettings,
    ActStage,
    Consultation,
    Hotline,
    HotlineEntry,
    evaluate_triggers,
    mark_overdue,
    open_consultations,
    record_response,
)
from truceline.act.trigger import episode_starts, episode_starts_reference
from truceline.agreement import Agreement
from truceline.guarantee import EXAMPLE_COALITION, load_coalition
from truceline.model import Alert
from truceline.store import MemoryStore

DEEP_ON_UKR_SIDE = loc(lat=50.45, lon=30.52)  # Kyiv: about 300 km behind the line on the Ukrainian side


def test_hotline_query_answer_and_escalation_share_one_chain() -> None:
    store = MemoryStore()
    line = Hotline(store)
    q1 = line.query("inc-1", sender="MVM", to="RUS", text="Fire on Avdiivka 04:10?", at=T0, deadline_hours=2,
                    sector="CL-06")
    q2 = line.query("inc-2", sender="MVM", to="UKR", text="Fire on Horlivka 05:00?", at=T0, deadline_hours=2)
    line.answer(q2.thread, sender="UKR", text="Return of fire after incoming mortar", at=T0 + timedelta(hours=1))
    with pytest.raises(ValueError, match="was not asked"):
        line.answer(q1.thread, sender="UKR", text="not ours to answer", at=T0)
    assert line.overdue(T0 + timedelta(hours=1)) == []
    (escalation,) = line.escalate_overdue(T0 + timedelta(hours=3), to=("USA", "GBR"))
    assert escalation.thread == q1.thread and escalation.to == ("USA", "GBR")
    assert line.escalate_overdue(T0 + timedelta(hours=4)) == []  # once only
    assert [e.kind for e in line.entries()] == ["query", "query", "answer", "escalation"]
    assert line.verify() is None
    assert store.verify_ledger().ok


def test_a_changed_hotline_entry_is_detected() -> None:
    store = MemoryStore()
    line = Hotline(store)
    q = line.query("inc-1", sender="MVM", to="RUS", text="Explain", at=T0)
    line.answer(q.thread, sender="RUS", text="Not us", at=T0 + timedelta(minutes=30))
    entry = line.entries()[1]
    store.put_records([entry.model_copy(update={"text": "It was us"})])  # someone rewrites the answer
    assert line.verify() == "entry 2 was altered after it was logged"
    forged = HotlineEntry.model_validate({**entry.model_dump(), "prev_hash": "ab" * 32})
    store.put_records([forged])
    assert line.verify() == "entry 2 does not follow entry 1"


def test_episode_starts_agree_with_the_plain_reference() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        times = np.sort(rng.uniform(0, 500, rng.integers(0, 40)))
        k, w = int(rng.integers(1, 6)), float(rng.uniform(1, 80))
        assert episode_starts(times, k, w) == episode_starts_reference(list(times), k, w)


def test_deep_strikes_meet_the_armed_attack_trigger_once_per_episode(agreement: Agreement) -> None:
    strikes = [strike(f"s{i}", T0 + timedelta(hours=i), impact=DEEP_ON_UKR_SIDE) for i in range(5)]
    shallow = [strike(f"x{i}", T0 + timedelta(hours=i), impact=loc(lat=48.3, lon=37.5)) for i in range(5)]
    events = evaluate_triggers(agreement, [], strikes + shallow)
    deep = [e for e in events if e.trigger == "deep_strikes"]
    assert len(deep) == 1
    assert deep[0].side == "RUS" and deep[0].count == 3 and deep[0].at == T0 + timedelta(hours=2)
    assert deep[0].references == ("s0", "s1", "s2")


def test_unconfirmed_strikes_do_not_trigger_unless_the_exercise_assumes_them_confirmed(agreement: Agreement) -> None:
    strikes = [strike(f"s{i}", T0 + timedelta(hours=i), impact=DEEP_ON_UKR_SIDE, status="preliminary")
               for i in range(3)]
    assert evaluate_triggers(agreement, [], strikes) == []
    assert evaluate_triggers(agreement, [], strikes, assume_confirmed=True)


def test_findings_under_a_clause_family_meet_the_heavy_weapons_trigger_per_sector(agreement: Agreement) -> None:
    many = [finding(f"w{i}", "withdrawal.mlrs", at=T0 + timedelta(hours=i)) for i in range(20)]
    other = [finding(f"v{i}", "withdrawal.mlrs", at=T0 + timedelta(hours=i), sector="CL-05") for i in range(19)]
    events = [e for e in evaluate_triggers(agreement, many + other, []) if e.trigger == "heavy_weapons_return"]
    assert [(e.sector, e.count) for e in events] == [("CL-06", 20)]


def test_a_met_trigger_alerts_and_opens_one_consultation_per_guarantor(agreement: Agreement,
                                                                       settings: ActSettings) -> None:
    store = MemoryStore()
    store.put_records([strike(f"s{i}", T0 + timedelta(hours=i), impact=DEEP_ON_UKR_SIDE) for i in range(3)])
    coalition = load_coalition(EXAMPLE_COALITION)
    settings.coalition = coalition
    stage = ActStage(store, agreement, settings)
    report = stage.tick(T0 + timedelta(hours=3))
    alerts = [a for a in report.alerts if a.kind == "guarantee_trigger"]
    assert len(alerts) == 1 and alerts[0].severity == "extreme"
    guarantors = {p.id for p in agreement.participants if "guarantor" in p.roles}
    consultations = {c.guarantor: c for c in report.consultations}
    assert set(consultations) == guarantors
    gbr, deu = consultations["GBR"], consultations["DEU"]
    assert gbr.procedure == "cobr" and gbr.deadline == gbr.opened + timedelta(hours=24)
    assert deu.deadline == deu.opened + timedelta(hours=72)
    assert consultations["ITA"].procedure == "bicameral"  # from the coalition's ratification procedure
    assert gbr.options and all(coalition.pledge(p).participant == "GBR" for p in gbr.options)
    answered = record_response(gbr, gbr.options[:1], at=T0 + timedelta(hours=5), note="QRA launched")
    assert answered.status == "responded"
    with pytest.raises(ValueError, match="no pledges"):
        record_response(gbr, ["USA-isr"], at=T0)
    store.put_records([answered])
    again = stage.tick(T0 + timedelta(hours=30))
    assert again.alerts == [] and not [c for c in again.consultations if c.status == "open"]
    overdue = {c.guarantor for c in again.consultations if c.status == "overdue"}
    assert "GBR" not in overdue and "FRA" in overdue and "DEU" not in overdue
    assert mark_overdue([answered], T0 + timedelta(days=9)) == []
    stored = [s.record for s in store.records("consultation") if isinstance(s.record, Consultation)]
    assert len(stored) == len(guarantors)
    assert [a for a in (s.record for s in store.records("alert")) if isinstance(a, Alert)]


def test_consultations_without_a_coalition_still_name_a_procedure(agreement: Agreement) -> None:
    events = evaluate_triggers(agreement, [], [strike(f"s{i}", T0 + timedelta(hours=i),
                                                      impact=DEEP_ON_UKR_SIDE) for i in range(3)])
    from truceline.act import load_playbook

    out = open_consultations(events[0], agreement, load_playbook(None, agreement).guarantee)
    assert {c.procedure for c in out} >= {"national_procedure", "nsc_principals"}
    assert all(c.response_kind == "activation" for c in out)
