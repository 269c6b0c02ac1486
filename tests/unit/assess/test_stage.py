"""The stage end to end on a store: one assessment per sector and day, reruns add versions, no NaN,
and a build-up is warned a week ahead while the quiet sectors stay quiet."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

import truceline.assess
from truceline.agreement import default_agreement
from truceline.assess import assess_days, run
from truceline.model import Assessment
from truceline.sim import Truth, evaluate_records
from truceline.store import MemoryStore, PreparedObservation

from .conftest import fire_from_truth, read_reports

AG = default_agreement()


def test_public_surface_is_pinned() -> None:
    assert sorted(truceline.assess.__all__) == sorted(
        [
            "FEATURES", "INDICATORS", "DailyTable", "EscalationEstimate", "FireEvents", "WarningModel",
            "assess_days", "daily_table", "feature_tensor", "fire_events", "levels", "load_model",
            "rolling_escalation", "run",
        ]
    )  # fmt: skip


def _store(short_run: Path) -> MemoryStore:
    store = MemoryStore()
    rows = read_reports(short_run)
    store.add_observations([PreparedObservation(obs, body) for body, obs in rows])
    return store


def test_run_writes_one_assessment_per_sector_and_day_and_a_rerun_adds_versions(short_run: Path) -> None:
    store = _store(short_run)
    top = store.max_seq()
    counts = run(store, AG, after_seq=0, upto_seq=top)
    records = [r.record for r in store.records("assessment")]
    assert counts["assessments"] == len(records) == len(AG.sectors) * 3
    assert all(isinstance(a, Assessment) for a in records)
    assert len({a.id for a in records}) == len(records)
    for a in records:
        assert isinstance(a, Assessment)
        assert 1 <= a.warning_level <= 5 and math.isfinite(a.p_offensive_7d) and math.isfinite(a.p_offensive_14d)
        assert a.creation_info.agent == "truceline.assess" and a.markings.originator == "MVM"
    again = run(store, AG, after_seq=0, upto_seq=top)
    assert again["assessments"] == counts["assessments"]
    assert len(list(store.records("assessment"))) == len(records)  # same ids: new versions, no duplicates
    assert len(store.record_history("assessment", records[0].id)) == 2
    assert run(store, AG, after_seq=top, upto_seq=top) == {"assessments": 0, "sector_days": 0}


def test_without_fire_incidents_there_is_no_branching_ratio_and_the_drivers_say_what_moved(short_run: Path) -> None:
    store = _store(short_run)
    run(store, AG, after_seq=0, upto_seq=store.max_seq())
    records = [r.record for r in store.records("assessment") if isinstance(r.record, Assessment)]
    assert all(a.branching_ratio is None for a in records)
    assert any(a.drivers for a in records)


@pytest.fixture(scope="module")
def buildup_assessments(buildup_run: tuple[Path, Truth]) -> tuple[list[Assessment], Truth]:
    out, truth = buildup_run
    assert truth.start is not None and truth.days is not None
    start = truth.start.date()
    observations = [obs for _, obs in read_reports(out)]
    records = assess_days(
        AG, start, start + timedelta(days=truth.days - 1), observations, fire_from_truth(truth), data_start=start
    )
    return records, truth


def test_a_build_up_is_warned_at_least_a_week_ahead_without_false_alarms(
    buildup_assessments: tuple[list[Assessment], Truth],
) -> None:
    records, truth = buildup_assessments
    scores = evaluate_records(truth, assessments=records)["early_warning"]
    assert scores["offensives"] == 1 and scores["recall"] == 1.0
    assert scores["median_lead_days"] >= 7
    assert scores["false_alarms_per_sector_30d"] <= 1.0
    assert scores["brier_skill_vs_persistence"] > 0


def test_branching_ratios_track_the_simulated_truth(buildup_assessments: tuple[list[Assessment], Truth]) -> None:
    records, truth = buildup_assessments
    scores = evaluate_records(truth, assessments=records)["escalation"]
    assert scores["n"] > 100 and scores["branching_ratio_error"] < 0.15


def test_the_fit_s_numbers_are_fields_of_each_assessment(buildup_assessments: tuple[list[Assessment], Truth]) -> None:
    records, _ = buildup_assessments
    fitted = [a for a in records if a.branching_ratio is not None]
    assert len(fitted) > 100
    for a in fitted:
        assert a.escalation_events is not None and a.escalation_events > 0
        assert a.escalation_window_days is not None and 3.0 <= a.escalation_window_days <= 28.0
        assert a.retaliation_ukr is not None and a.retaliation_rus is not None
        assert a.escalation_decay_per_hour is not None and 0.5 < a.escalation_decay_per_hour < 8.0
        [driver] = [d for d in a.drivers if d.indicator in ("hawkes", "hawkes_spiral")]
        assert f"({a.escalation_events} fire incidents)" in driver.description
        assert f"UKR←RUS {a.retaliation_ukr:.2f}, RUS←UKR {a.retaliation_rus:.2f}" in driver.description
        if a.branching_ratio_se is not None:
            assert f"{a.branching_ratio:.2f} ± {a.branching_ratio_se:.2f}" in driver.description
    assert sum(a.branching_ratio_se is not None for a in fitted) > 0.9 * len(fitted)
    for a in records:
        if a.branching_ratio is None:
            assert a.branching_ratio_se is None and a.retaliation_ukr is None and a.retaliation_rus_se is None
