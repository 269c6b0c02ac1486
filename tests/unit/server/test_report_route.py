"""The daily report over HTTP: built for the requester, counted for the requester, audited."""

from __future__ import annotations

import re

import pytest

from tests.unit.server.conftest import NOW, SEEDED_INCIDENTS, Mechanism
from truceline.server.report_route import REPORT_CSP

DAY = NOW.date().isoformat()


def incidents_in_summary(html: str) -> int:
    match = re.search(r"([\d,]+) incidents, \d+ sector assessments", html)
    assert match, "the summary line is missing"
    return int(match.group(1).replace(",", ""))


@pytest.mark.parametrize(
    ("participant", "expected"),
    [
        # USA originates five of the seeded incidents and may read the green one; no group claimed.
        ("USA", {"INC-clear", "INC-green", "INC-amber-usa-only", "INC-amber-to-gbr", "INC-strict-to-ukr",
                 "INC-red-to-fra"}),
        ("RUS", {"INC-clear", "INC-green"}),
        ("FRA", {"INC-clear", "INC-green", "INC-red-to-fra"}),
    ],
)  # fmt: skip
def test_each_participant_gets_its_own_report(mech: Mechanism, participant: str, expected: set[str]) -> None:
    response = mech.get(f"/v1/reports/{DAY}", participant)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == REPORT_CSP
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert incidents_in_summary(html) == len(expected)
    assert f"Prepared for {participant}" in html
    for hidden in set(SEEDED_INCIDENTS) - expected:
        assert hidden not in html, f"{participant}'s report names {hidden}"
    audited = [e for e in mech.audit.events if e.ref == f"reports/{DAY}"]
    assert [(e.participant, e.allowed) for e in audited] == [(participant, True)]


def test_a_group_member_acting_in_its_group_sees_the_group_incident(mech: Mechanism) -> None:
    plain = incidents_in_summary(mech.get(f"/v1/reports/{DAY}", "UKR").text)
    acting = incidents_in_summary(mech.get(f"/v1/reports/{DAY}", "UKR", groups=("G-AIR",)).text)
    assert acting == plain + 1


def test_a_day_without_data_says_so(mech: Mechanism) -> None:
    html = mech.get("/v1/reports/2026-01-15", "USA").text
    assert incidents_in_summary(html) == 0
    assert "no data" in html.lower()


@pytest.mark.parametrize("day", ["2026-02-30", "yesterday", "1900-01-01", "2026-03-01T00:00"])
def test_a_bad_day_is_a_clear_4xx(mech: Mechanism, day: str) -> None:
    response = mech.get(f"/v1/reports/{day}", "USA")
    assert 400 <= response.status_code < 500
    assert "Traceback" not in response.text


def test_the_report_needs_a_token(mech: Mechanism) -> None:
    assert mech.client.get(f"/v1/reports/{DAY}").status_code == 401


def test_an_unknown_format_is_refused(mech: Mechanism) -> None:
    assert mech.get(f"/v1/reports/{DAY}", "USA", format="docx").status_code == 422
