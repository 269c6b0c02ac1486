"""The escalation model and the reassurance force as the dashboard's JSON serves them, through the policy.

No browser needed: the reader of the assess stage's fits is checked against the stage's own fit,
and both routes against what each participant may read, over the live server of the browser tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from tests.browser.conftest import LiveServer
from tests.browser.seed import DAY2, ESCALATING, FIRE_FROM, QUIET, fire_history
from truceline.agreement import default_agreement
from truceline.assess import assess_days, rolling_escalation
from truceline.assess.escalation import daily_cycles, shared_decay
from truceline.assess.indicators import sector_fire
from truceline.assess.stage import CHANGE_WINDOW_DAYS, WINDOW_DAYS
from truceline.guarantee import EXAMPLE_COALITION, load_coalition, posture
from truceline.report import ESCALATION_Z95, escalation_of

FIRST = (DAY2 - timedelta(days=13)).date()


def _get(server: LiveServer, path: str, token: str, **params: str) -> dict[str, Any]:
    r = httpx.get(f"{server.url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_escalation_reader_reads_what_the_assess_stage_fitted() -> None:
    """Ratio, interval, retaliation terms, event counts and window are the stage's fit, read from its fields."""
    agreement = default_agreement()
    fire = fire_history()
    records = assess_days(agreement, FIRST, DAY2.date(), [], fire, data_start=FIRE_FROM.date())
    t, p = sector_fire(fire, ESCALATING)
    days = [FIRST + timedelta(days=k) for k in range(14)]
    ends = np.array([datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() + 86_400.0 for d in days])
    # As the stage does: the daily cycle and one decay shared by every sector with fire, then each sector's fit.
    series = [tp for tp in (sector_fire(fire, s.id) for s in agreement.sectors) if len(tp[0])]
    cycles = daily_cycles(series, ends, coverage_start_s=FIRE_FROM.timestamp())
    decays = shared_decay(series, ends, coverage_start_s=FIRE_FROM.timestamp(), cycles=cycles)
    fits = rolling_escalation(
        t, p, ends, window_days=WINDOW_DAYS, change_window_days=CHANGE_WINDOW_DAYS,
        coverage_start_s=FIRE_FROM.timestamp(), decays=decays, cycles=cycles,
    )  # fmt: skip
    mine = {a.day: escalation_of(a) for a in records if a.sector == ESCALATING}
    assert len(mine) == 14
    for d, fit in zip(days, fits, strict=True):
        e = mine[d.isoformat()]
        assert e is not None and e["fitted"] and fit.branching_ratio is not None
        assert e["ratio"] == round(fit.branching_ratio, 3)
        assert fit.branching_ratio_se is not None and e["se"] == round(fit.branching_ratio_se, 4)
        assert e["lo"] == round(max(fit.branching_ratio - ESCALATION_Z95 * e["se"], 0.0), 3)
        assert e["hi"] == round(fit.branching_ratio + ESCALATION_Z95 * e["se"], 3)
        assert fit.retaliation is not None
        a01, a10 = fit.retaliation
        assert (e["ukr_answers_rus"], e["rus_answers_ukr"]) == (round(a01, 4), round(a10, 4))
        assert e["n"] == fit.n_events and e["spiral"] == fit.spiral
        assert e["window_days"] == round(fit.window_days, 4)
    # A sector without fire has no fit at all; a window too short to fit says so, with its count.
    assert all(escalation_of(a) is None for a in records if a.sector not in (ESCALATING, QUIET))
    [short] = [a for a in assess_days(agreement, FIRST, FIRST, [], fire, data_start=FIRST) if a.sector == ESCALATING]
    e = escalation_of(short)
    assert e is not None and not e["fitted"] and e["ratio"] is None and e["lo"] is None
    assert "not fitted" in e["note"] and e["n"] > 0


def test_each_participant_gets_the_fits_it_may_read(live_server: LiveServer) -> None:
    """CL-07's assessments are released to UKR alone: RUS gets none of its fits, and both get CL-03's."""
    fits: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for participant in ("UKR", "RUS"):
        view = _get(live_server, "/v1/dashboard/day", live_server.token(participant), day=DAY2.date().isoformat())
        per: dict[str, list[dict[str, Any]]] = {}
        for a in view["assessments"]:
            if a["escalation"] is not None:
                per.setdefault(a["sector"], []).append(a["escalation"])
        fits[participant] = per
    assert set(fits["UKR"]) == {ESCALATING, QUIET}
    assert set(fits["RUS"]) == {QUIET}
    assert len(fits["UKR"][ESCALATING]) == 14
    for e in fits["UKR"][ESCALATING]:
        assert e["fitted"] and e["lo"] <= e["ratio"] <= e["hi"]
        assert e["ukr_answers_rus"] is not None and e["rus_answers_ukr"] is not None
    assert fits["UKR"][QUIET] == fits["RUS"][QUIET]


def _expected() -> tuple[list[tuple[str, str]], set[tuple[str, str, str]]]:
    """The guarantee stage's posture of the shipped coalition: every position, and every breach with its clause."""
    rows = posture(load_coalition(EXAMPLE_COALITION, default_agreement()))
    return (sorted((r.unit.id, r.which) for r in rows),
            {(r.unit.id, r.which, f.clause_id) for r in rows for f in r.findings})


def test_the_force_posture_is_the_guarantee_stage_s_through_the_policy(live_server: LiveServer) -> None:
    before = len(live_server.audit.events)
    doc = _get(live_server, "/v1/dashboard/force", live_server.token("UKR"))
    positions, breaches = _expected()
    assert sorted((u["unit"], u["which"]) for u in doc["units"]) == positions
    breach = next(u for u in doc["units"] if u["unit"] == "CAN-MTT" and u["which"] == "actual")
    assert breach["unit_status"] == "breach" and breach["place"] == "Poltava"
    assert {b["clause"] for b in breach["breaches"]} == {"reassurance.distance", "reassurance.basing"}
    assert "136 km from the contact line (minimum 200 km)" in breach["status"]
    assert {(b["unit"], b["which"], b["clause"]) for b in doc["breaches"]} == breaches
    summary = doc["summary"]
    assert summary["units"] == len({u["unit"] for u in doc["units"]})
    assert summary["deployed"] + summary["planned"] + summary["breach"] == summary["units"]
    assert summary["breach"] == len({unit for unit, _, _ in breaches}) and doc["min_distance_km"] == 200
    assert doc["min_distance_line"]["geometry"]["coordinates"]
    # Not a participant of the agreement: TLP:GREEN positions are not for it.
    outsider = _get(live_server, "/v1/dashboard/force", live_server.token("NGO"))
    assert outsider["units"] == [] and outsider["breaches"] == [] and outsider["summary"]["units"] == 0
    events = [e for e in live_server.audit.events[before:] if e.ref == "dashboard/force"]
    assert [(e.participant, e.action, e.returned) for e in events] == [
        ("UKR", "read", len(doc["units"])),
        ("NGO", "read", 0),
    ]


@pytest.mark.parametrize("participant", ["UKR", "NGO"])
def test_the_coalition_page_s_units_pass_the_same_policy(live_server: LiveServer, participant: str) -> None:
    doc = _get(live_server, "/v1/dashboard/coalition", live_server.token(participant))
    force = _get(live_server, "/v1/dashboard/force", live_server.token(participant))
    assert [(u["unit"], u["which"]) for u in doc["units"]] == [(u["unit"], u["which"]) for u in force["units"]]
    assert len(doc["breaches"]) == len(force["breaches"])
    assert bool(doc["units"]) == (participant == "UKR")


def test_a_day_without_fits_is_no_error(live_server: LiveServer) -> None:
    view = _get(live_server, "/v1/dashboard/day", live_server.token("UKR"), day=date(2026, 6, 1).isoformat())
    assert view["assessments"] == [] and view["incidents"]["id"] == []
