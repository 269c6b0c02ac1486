"""Every score on small hand-made truths whose right answers are worked out by hand."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import pyproj
import pytest

from truceline.model import (
    Assessment,
    Attribution,
    CreationInfo,
    ErrorEllipse,
    Evidence,
    Finding,
    Incident,
    Location,
    Markings,
    ObservationRef,
    Origin,
)
from truceline.sim import (
    Truth,
    evaluate_records,
    score_association,
    score_attribution,
    score_early_warning,
    score_escalation,
    score_localization,
    score_staging,
    score_verification,
)

T0 = datetime(2026, 9, 1, tzinfo=UTC)
MARK = Markings(tlp="green", originator="MVM")
MADE = CreationInfo(agent="test", created=T0)
GEOD = pyproj.Geod(ellps="WGS84")


def ref(p: str, s: str, k: str) -> ObservationRef:
    return ObservationRef(participant=p, source=s, key=k)


def moved(lon: float, lat: float, east: float, north: float) -> tuple[float, float]:
    az = math.degrees(math.atan2(east, north))
    x, y, _ = GEOD.fwd(lon, lat, az, math.hypot(east, north))
    return x, y


def incident(
    n: int,
    refs: list[tuple[str, str, str]],
    *,
    origin: tuple[float, float, float] | None = None,
    p_ukr: float | None = None,
    kind: str = "fire",
) -> Incident:
    origins, attributions = (), ()
    if origin is not None:
        lon, lat, ellipse = origin
        loc = Location(lon=lon, lat=lat, error=ErrorEllipse(semi_major_m=ellipse, semi_minor_m=ellipse))
        origins = (Origin(id=f"o{n}", location=loc, time=T0, method="tdoa", creation_info=MADE),)
    if p_ukr is not None:
        attributions = (Attribution(id=f"a{n}", probabilities={"UKR": p_ukr, "RUS": 1 - p_ukr}, creation_info=MADE),)
    return Incident(
        id=f"I{n}",
        kind=kind,
        start=T0,
        end=T0,
        observations=tuple(ref(*r) for r in refs),
        origins=origins,  # type: ignore[arg-type]
        attributions=attributions,
        markings=MARK,
        creation_info=MADE,
    )


E0 = [("GBR", "ac-1", "k1"), ("GBR", "ac-2", "k1"), ("USA", "cbr", "k1")]
E1 = [("GBR", "ac-1", "k2"), ("GBR", "ac-2", "k2")]
TRUTH = Truth(
    {
        "window": {"start": "2026-09-01T00:00:00Z", "days": 40},
        "events": [
            {"id": "E0", "side": "UKR", "origin": {"lon": 37.0, "lat": 48.0}, "crlb_m": 10.0, "observations": E0},
            {"id": "E1", "side": "RUS", "origin": {"lon": 37.1, "lat": 48.1}, "crlb_m": 20.0, "observations": E1},
            {"id": "E2", "side": "RUS", "origin": {"lon": 37.2, "lat": 48.2}, "observations": [["GBR", "ac-3", "k3"]]},
            {
                "id": "E3",
                "side": "UKR",
                "origin": {"lon": 37.3, "lat": 48.3},
                "observations": [["GBR", "ac-4", "k4"], ["GBR", "ac-5", "k4"]],
            },
        ],
        "false_detections": [["GBR", "ac-1", "f1"]],
    }
)


def fire_incidents() -> list[Incident]:
    a = incident(0, E0, origin=(*moved(37.0, 48.0, 30.0, 40.0), 100.0), p_ukr=0.9)  # 50 m off, inside its ellipse
    b = incident(
        1, [*E1, ("GBR", "ac-1", "f1")], origin=(*moved(37.1, 48.1, 0.0, 120.0), 100.0), p_ukr=0.6
    )  # 120 m off
    duplicate = incident(2, [("USA", "cbr", "k1")])  # E0 again, from another nation's report
    return [a, b, duplicate]


def test_association_matches_one_to_one_and_counts_duplicates_against_precision() -> None:
    scores, matches = score_association(TRUTH, fire_incidents())
    assert scores == {
        "precision": pytest.approx(2 / 3, abs=1e-4),
        "recall": pytest.approx(2 / 3, abs=1e-4),
        "incidents": 3,
        "events": 3,
        "matched": 2,
    }
    assert sorted((inc.id, ev) for inc, ev in matches) == [("I0", 0), ("I1", 1)]


def test_association_needs_half_of_an_incidents_reports_from_one_event() -> None:
    mixed = incident(5, [E0[0], E1[0], ("GBR", "ac-1", "f1"), ("XX", "unknown", "z")])
    scores, matches = score_association(TRUTH, [mixed])
    assert scores is not None and scores["precision"] == 0 and matches == []


def test_localization_rmse_crlb_ratio_and_ellipse_coverage() -> None:
    _, matches = score_association(TRUTH, fire_incidents())
    scores = score_localization(TRUTH, matches)
    assert scores is not None
    rmse = math.sqrt((50.0**2 + 120.0**2) / 2)
    assert scores["rmse_m"] == pytest.approx(rmse, abs=0.5)
    assert scores["rmse_over_crlb"] == pytest.approx(rmse / math.sqrt((10.0**2 + 20.0**2) / 2), rel=1e-3)
    assert scores["ellipse95_coverage"] == 0.5 and scores["n"] == 2


def test_attribution_brier_accuracy_and_reliability() -> None:
    _, matches = score_association(TRUTH, fire_incidents())
    scores = score_attribution(TRUTH, matches)
    assert scores is not None
    assert scores["brier"] == pytest.approx((0.1**2 + 0.6**2) / 2)
    assert scores["accuracy"] == 0.5
    assert [(b["mean_p"], b["observed"], b["n"]) for b in scores["reliability"]] == [(0.6, 0.0, 1), (0.9, 1.0, 1)]


CLAIMS = [{"ref": ["RUS", "press", f"c{k}"], "staged": k < 2} for k in range(5)]


def finding(
    clause: str,
    refs: list[tuple[str, str, str]] = (),
    confidence: float = 0.9,
    *,
    side: str | None = None,  # type: ignore[assignment]
    at: tuple[float, float] | None = None,
    day: int = 5,
) -> Finding:
    loc = None if at is None else Location(lon=at[0], lat=at[1], error=ErrorEllipse(semi_major_m=50, semi_minor_m=50))
    t = T0 + timedelta(days=day)
    return Finding(
        id=f"F{clause}{len(refs)}{day}",
        clause_id=clause,
        clause_text="",
        side=side,
        confidence=confidence,
        evidence=(Evidence(kind="report", description="", refs=tuple(ref(*r) for r in refs)),),
        location=loc,
        first_seen=t,
        last_seen=t,
        markings=MARK,
        creation_info=MADE,
    )


def test_staging_recall_and_false_positive_rate() -> None:
    truth = Truth({"claims": CLAIMS})
    findings = [
        finding("no_staging", [("RUS", "press", "c0"), ("RUS", "press", "c2")], 0.8),
        finding("no_staging", [("RUS", "press", "c1")], 0.3),  # below the 0.5 threshold
    ]
    assert score_staging(truth, findings, []) == {
        "recall": 0.5,
        "false_positive_rate": pytest.approx(1 / 3, abs=1e-4),
        "staged": 2,
        "genuine": 3,
    }
    assert score_staging(truth, [finding("withdrawal.mlrs")], []) is None  # no staging stage output


def test_verification_precision_and_recall_over_observed_violations() -> None:
    truth = Truth(
        {
            "violations": [
                {
                    "clause": "withdrawal.mlrs",
                    "side": "RUS",
                    "lon": 37.2,
                    "lat": 48.2,
                    "start": "2026-09-03T00:00:00Z",
                    "end": "2026-09-10T00:00:00Z",
                    "observations": [["USA", "sat", "p1"]],
                },
                {
                    "clause": "storage.RUS-S1",
                    "side": "RUS",
                    "lon": 34.1,
                    "lat": 44.9,
                    "start": "2026-09-02T00:00:00Z",
                    "end": None,
                    "observations": [["MVM", "team", "v1"]],
                },
                {"clause": "freedom_of_movement", "side": "RUS", "observations": []},  # never observed: not counted
            ]
        }
    )
    findings = [
        finding("withdrawal.mlrs", [("USA", "sat", "p1")]),
        finding("withdrawal.mlrs", side="RUS", at=moved(37.2, 48.2, 1_000, 1_000)),  # no shared report, but close
        finding("storage.RUS-S1", [("MVM", "team", "other")], at=(30.0, 50.0)),
        finding("ceasefire", [("GBR", "ac-1", "k1")]),  # out of scope: fire is scored by association
    ]
    assert score_verification(truth, findings) == {
        "precision": pytest.approx(2 / 3, abs=1e-4),
        "recall": 0.5,
        "findings": 3,
        "violations": 2,
    }
    assert score_verification(truth, [finding("ceasefire")]) is None


def assessment(sector: str, day: int, level: int = 1, p7: float = 0.1, br: float | None = None) -> Assessment:
    d = (date(2026, 9, 1) + timedelta(days=day)).isoformat()
    return Assessment(
        id=f"{sector}-{d}",
        sector=sector,
        day=d,
        warning_level=level,
        p_offensive_7d=p7,
        p_offensive_14d=p7,
        branching_ratio=br,
        markings=MARK,
        creation_info=MADE,
    )


def test_escalation_branching_ratio_error_against_the_days_true_ratio() -> None:
    truth = Truth(
        {
            "window": {"start": "2026-09-01T00:00:00Z", "days": 40},
            "hawkes": {"CL-07": {"branching_ratio": 0.5, "daily_branching_ratio": [0.5] * 10 + [0.9] * 30}},
        }
    )
    scores = score_escalation(
        truth, [assessment("CL-07", 2, br=0.55), assessment("CL-07", 19, br=0.8), assessment("XX", 1, br=3.0)]
    )
    assert scores == {"branching_ratio_error": pytest.approx(0.075), "max_error": pytest.approx(0.1), "n": 2}
    assert score_escalation(truth, [assessment("CL-07", 2)]) is None


def test_early_warning_recall_lead_false_alarms_and_skill_over_persistence() -> None:
    truth = Truth(
        {"window": {"start": "2026-09-01T00:00:00Z", "days": 40}, "offensives": [{"sector": "CL-06", "day": 30}]}
    )
    rows = []
    for d in range(40):
        level = 4 if 20 <= d <= 29 or d in (5, 6) else 1
        rows.append(assessment("CL-06", d, level, 0.8 if 23 <= d <= 29 else 0.1))
        rows.append(assessment("CL-01", d, 5 if d in (10, 11) else 1, 0.1))
    scores = score_early_warning(truth, rows)
    assert scores is not None
    assert scores["recall"] == 1.0 and scores["median_lead_days"] == 10.0
    assert scores["false_alarms_per_sector_30d"] == pytest.approx(2 * 30 / 70, abs=1e-4)
    assert scores["brier"] == pytest.approx(1.01 / 80, abs=1e-4)
    assert scores["brier_skill_vs_persistence"] == pytest.approx(1 - (1.01 / 80) / (14 / 80), abs=1e-4)


def test_without_a_warning_before_the_offensive_recall_is_zero_and_lead_absent() -> None:
    truth = Truth(
        {"window": {"start": "2026-09-01T00:00:00Z", "days": 10}, "offensives": [{"sector": "CL-06", "day": 8}]}
    )
    scores = score_early_warning(truth, [assessment("CL-06", d) for d in range(10)])
    assert scores is not None and scores["recall"] == 0.0 and scores["median_lead_days"] is None


def test_sections_without_records_are_absent_and_nothing_is_nan() -> None:
    only_meta = evaluate_records(TRUTH)
    assert set(only_meta) == {"meta"}
    full = evaluate_records(TRUTH, incidents=[incident(9, [("ZZ", "none", "x")])])
    assert set(full) == {"meta", "association"}  # no match: nothing to localise or attribute
    assert full["association"]["precision"] == 0.0
    json.dumps(full, allow_nan=False)
