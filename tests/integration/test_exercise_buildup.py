"""Tabletop exercise on the simulator's build-up scenario, through the real pipeline: the default
playbook's directives for the build-up sector come before the offensive.

The scenario is simulated, ingested and run through every stage (fuse, attribute, verify, assess,
act) exactly as ``truceline exercise --scenario buildup`` does (:func:`run_scenario_exercise`);
the warning levels and findings the playbook reacts to are the pipeline's, not stand-ins. The
simulation's truth is read only for the offensive's sector and date, after the pipeline has run.

Scale 0.001 and 22 days: the default 21-day build-up ends on day 22, so the run stops the day
before the offensive (the offensive itself is never simulated, so nothing after it can help).
"""

from __future__ import annotations

import pytest

from truceline.act import Activation, SignedCap
from truceline.cli.exercise_cmd import ScenarioExercise, run_scenario_exercise
from truceline.interop.cap import parse_cap
from truceline.model import Assessment
from truceline.store import SQLiteStore

SECTOR = "CL-06"  # the build-up scenario's sector

# What the default playbook (act/data/default_playbook.yaml) must have set going before the
# offensive: at warning level 4, the monitoring surge, intelligence sharing and demarches; at
# level 5, consultations among the guarantors and the coalition's activation.
LEVEL_4 = {"D-MONITOR-SURGE", "D-INTEL-SHARING", "D-DEMARCHE"}
LEVEL_5 = {"D-CONSULTATIONS", "D-COALITION-ACTIVATION"}


@pytest.fixture(scope="module")
def exercise(tmp_path_factory: pytest.TempPathFactory) -> ScenarioExercise:
    out = tmp_path_factory.mktemp("buildup-exercise")
    return run_scenario_exercise("buildup", out, days=22, scale=0.001, seed=1)


def test_the_run_stops_before_the_offensive(exercise: ScenarioExercise) -> None:
    (offensive,) = exercise.offensives
    assert offensive["sector"] == SECTOR and offensive["in_window"] is False  # only the build-up is simulated


def test_the_warning_comes_from_the_assess_stage_before_the_offensive(exercise: ScenarioExercise) -> None:
    (offensive,) = exercise.offensive_dates(SECTOR)
    raised = [e for e in exercise.result.entries
              if e.kind == "alert" and e.sector == SECTOR and "warning level raised to 4" in e.text]
    assert raised and raised[0].at < offensive
    store = SQLiteStore(exercise.db)
    try:
        levels = {s.record.day: s.record.warning_level for s in store.records("assessment")
                  if isinstance(s.record, Assessment) and s.record.sector == SECTOR
                  and s.record.creation_info.agent == "truceline.assess"}
    finally:
        store.close()
    assert max(levels.values()) >= 4  # the pipeline's own assessments, not stand-ins
    # The level-4 activation rests on those assessments.
    sandbox = exercise.result.sandbox
    assert sandbox is not None
    activations = [s.record for s in sandbox.records("activation") if isinstance(s.record, Activation)
                   and s.record.scenario == "S-WARNING-4" and s.record.sector == SECTOR]
    assert activations and activations[0].activated < offensive
    assert all(ref.startswith(f"assessment:{SECTOR}:") for ref in activations[0].references)


def test_the_expected_directives_reach_someone_entitled_before_the_offensive(exercise: ScenarioExercise) -> None:
    (offensive,) = exercise.offensive_dates(SECTOR)
    for scenario, expected in (("S-WARNING-4", LEVEL_4), ("S-WARNING-5", LEVEL_5)):
        holders = exercise.result.directive_holders(before=offensive, sector=SECTOR, scenario=scenario)
        missing = sorted(d for d in expected if not holders.get(d))
        assert not missing, f"{scenario}: nobody held {missing} before {offensive:%Y-%m-%d}\n{exercise.result.render()}"
    issued = exercise.result.directives_issued(before=offensive, sector=SECTOR)
    assert issued >= LEVEL_4 | LEVEL_5


def test_no_other_sector_raises_a_false_alarm(exercise: ScenarioExercise) -> None:
    sandbox = exercise.result.sandbox
    assert sandbox is not None
    alarms = {(s.record.scenario, s.record.sector) for s in sandbox.records("activation")
              if isinstance(s.record, Activation) and s.record.scenario in ("S-WARNING-4", "S-WARNING-5")}
    assert alarms == {("S-WARNING-4", SECTOR), ("S-WARNING-5", SECTOR)}


def test_every_alert_of_the_exercise_is_a_signed_cap_exercise_message(exercise: ScenarioExercise) -> None:
    sandbox = exercise.result.sandbox
    assert sandbox is not None
    signed = [s.record for s in sandbox.records("signedcap") if isinstance(s.record, SignedCap)]
    assert len(signed) >= 3
    for message in signed:  # parse_cap validates against the CAP 1.2 schema
        assert parse_cap(message.xml.encode()).status == "Exercise"
