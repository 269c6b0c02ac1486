"""The escalation model in the daily report: the assess stage's Hawkes fits, read back and plotted per viewer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from tests.unit.report.factories import GREEN, USA_ONLY, info
from truceline.agreement import default_agreement
from truceline.assess import FireEvents, assess_days
from truceline.model import Assessment, Driver, FixedClock, Markings
from truceline.policy import PolicyContext
from truceline.report import ESCALATION_Z95, Viewer, build_report, escalation_of
from truceline.sim.hawkes import HawkesParams, simulate_hawkes
from truceline.store import MemoryStore
from truceline.store._records import parse_record

AG = default_agreement()
CONTEXT = PolicyContext.of(sorted(AG.participant_ids()))
DAY = date(2026, 9, 2)
FIRST = DAY - timedelta(days=13)
FIRE_FROM = DAY - timedelta(days=22)
CLOCK = FixedClock(datetime(2026, 9, 3, 6, 0, tzinfo=UTC))


def _fire() -> FireEvents:
    """Three weeks of simulated fire in CL-07 (retaliating) and CL-03 (quiet)."""
    rng = np.random.default_rng(11)
    origin = datetime(FIRE_FROM.year, FIRE_FROM.month, FIRE_FROM.day, tzinfo=UTC).timestamp()
    horizon_h = ((DAY - FIRE_FROM).days + 1) * 24.0
    times, sectors, p_ukr = [], [], []
    for sector, params in (
        ("CL-07", HawkesParams(mu=(0.4, 0.4), alpha=((0.2, 0.35), (0.4, 0.2)), beta=0.8)),
        ("CL-03", HawkesParams(mu=(0.5, 0.5), alpha=((0.1, 0.05), (0.05, 0.1)), beta=0.8)),
    ):
        ev = simulate_hawkes(params, horizon_h, rng)
        times.append(origin + ev.t * 3600.0)
        sectors.append(np.full(len(ev.t), sector))
        p_ukr.append(np.where(ev.type == 0, 0.9, 0.1))
    return FireEvents(np.concatenate(times), np.concatenate(sectors).astype(np.str_), np.concatenate(p_ukr))


@pytest.fixture(scope="module")
def assessed() -> list[Assessment]:
    records = assess_days(AG, FIRST, DAY, [], _fire(), data_start=FIRE_FROM)
    # The stage marks assessments without reports for the mechanism alone: mark them as if they rested on
    # TLP:GREEN reports, and CL-07's on one only the USA may read.
    return [a.model_copy(update={"markings": USA_ONLY if a.sector == "CL-07" else GREEN}) for a in records]


def _escalation(report):  # type: ignore[no-untyped-def]
    return next(s for s in report.sections if s.id == "escalation")


def _model_plot(section):  # type: ignore[no-untyped-def]
    return [p for p in section.plots if p.alt.startswith("escalation model per sector")]


def test_every_fit_of_the_stage_reads_back_with_an_interval_that_holds_its_ratio(assessed: list[Assessment]) -> None:
    fits = {(a.sector, a.day): escalation_of(a) for a in assessed}
    assert {s for (s, _), e in fits.items() if e is not None} == {"CL-07", "CL-03"}
    for (sector, _), e in fits.items():
        if e is None:
            continue
        assert e["fitted"] and e["lo"] <= e["ratio"] <= e["hi"] and e["n"] > 0
        assert e["hi"] - e["lo"] == pytest.approx(2 * ESCALATION_Z95 * e["se"], abs=2e-3) or e["lo"] == 0.0
        assert e["ukr_answers_rus"] is not None and e["rus_answers_ukr"] is not None, sector


def test_the_report_plots_the_fits_each_reader_may_see(assessed: list[Assessment]) -> None:
    store = MemoryStore()
    store.put_records(assessed)
    full = build_report(store, AG, DAY, clock=CLOCK)
    [plot] = _model_plot(_escalation(full))
    assert plot.png.startswith(b"\x89PNG") and "2 sectors" in plot.caption
    usa = build_report(store, AG, DAY, viewer=Viewer.for_participant(CONTEXT, "USA"), clock=CLOCK)
    assert "2 sectors" in _model_plot(_escalation(usa))[0].caption
    # CL-07's fits are the USA's alone: UKR's report plots CL-03's only.
    ukr = build_report(store, AG, DAY, viewer=Viewer.for_participant(CONTEXT, "UKR"), clock=CLOCK)
    [plot] = _model_plot(_escalation(ukr))
    assert "for the 1 sector with" in plot.caption


def _assessment(description: str, ratio: float | None, indicator: str = "hawkes", value: float = 0.0,
                markings: Markings = GREEN) -> Assessment:
    return Assessment(
        id="assessment:CL-01:2026-09-02", sector="CL-01", day=DAY.isoformat(), warning_level=1, p_offensive_7d=0.1,
        p_offensive_14d=0.1, branching_ratio=ratio,
        drivers=(Driver(indicator=indicator, value=value if ratio is None else ratio, contribution=0.0,
                        description=description),),
        markings=markings, creation_info=info(CLOCK.now()),
    )


def test_unfitted_spiral_and_unstated_fits_read_back_as_the_stage_wrote_them() -> None:
    unfitted = escalation_of(_assessment("only 1.0 days of data: not fitted (prior branching ratio 0.30)", None,
                                         value=12))
    assert unfitted is not None and not unfitted["fitted"] and unfitted["n"] == 12 and "not fitted" in unfitted["note"]
    spiral = escalation_of(_assessment(
        "branching ratio 0.98 ± 0.05 over 14 days (812 fire incidents); retaliation UKR←RUS 0.41, RUS←UKR 0.52; "
        "spiral: branching ratio 0.98 near 1", 0.98, indicator="hawkes_spiral"))
    assert spiral is not None and spiral["spiral"] and spiral["note"] == "spiral: branching ratio 0.98 near 1"
    assert (spiral["lo"], spiral["hi"], spiral["n"]) == (0.882, 1.078, 812)
    no_se = escalation_of(_assessment(
        "branching ratio 0.20 over 14 days (60 fire incidents); retaliation UKR←RUS 0.00, RUS←UKR 0.10", 0.2))
    assert no_se is not None and no_se["se"] is None and no_se["lo"] is None and no_se["rus_answers_ukr"] == 0.1
    other = escalation_of(_assessment("a sentence of another form", 0.5))
    assert other is not None and other["ratio"] == 0.5 and other["lo"] is None and "not stated" in other["note"]


def test_a_report_without_fits_says_so() -> None:
    store = MemoryStore()
    store.put_records([_assessment("fire incidents (fire_trend)", None, indicator="fire_trend")])
    report = build_report(store, AG, DAY, clock=CLOCK)
    section = _escalation(report)
    assert not _model_plot(section)
    assert any("No escalation fit to plot" in n for n in section.notes)


def test_the_fit_s_fields_are_read_in_full_and_an_older_record_from_its_sentence() -> None:
    sentence = ("branching ratio 0.61 ± 0.04 over 14 days (1234 fire incidents); retaliation UKR←RUS 0.31, "
                "RUS←UKR 0.27")
    fields = _assessment(sentence, 0.6123).model_copy(update={
        "branching_ratio_se": 0.0432, "retaliation_ukr": 0.3141, "retaliation_ukr_se": 0.0512,
        "retaliation_rus": 0.2718, "retaliation_rus_se": None, "escalation_events": 1234,
        "escalation_window_days": 19.5, "escalation_decay_per_hour": 2.05})
    e = escalation_of(fields)
    assert e is not None and e["fitted"] and (e["se"], e["n"], e["window_days"]) == (0.0432, 1234, 19.5)
    assert (e["ukr_answers_rus"], e["rus_answers_ukr"]) == (0.3141, 0.2718)
    assert (e["ukr_answers_rus_se"], e["rus_answers_ukr_se"]) == (0.0512, None)
    half = ESCALATION_Z95 * 0.0432
    assert (e["lo"], e["hi"]) == (round(0.6123 - half, 3), round(0.6123 + half, 3))
    # A record stored before the fields existed: its body has none of them, and the sentence speaks.
    body = _assessment(sentence, 0.6123).model_dump_json(exclude_none=True).encode()
    assert b"retaliation_ukr" not in body
    older = parse_record("assessment", body)
    assert isinstance(older, Assessment) and older.escalation_events is None
    e = escalation_of(older)
    assert e is not None and (e["se"], e["n"], e["window_days"], e["ukr_answers_rus"]) == (0.04, 1234, 14.0, 0.31)
    assert e["ukr_answers_rus_se"] is None
