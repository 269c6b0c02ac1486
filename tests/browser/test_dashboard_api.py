"""The dashboard's JSON against the reference policy: every list, count and page, per participant.

No browser here: the routes are called in-process. Records get every kind of marking (each TLP
level, release lists, a sharing group), and each answer is compared with what the separately
written reference policy (``tests/unit/policy/reference.py``) says the asker may read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.policy import reference
from truceline.dashboard.geography import feature_count
from truceline.model import (
    AcousticArrival,
    Alert,
    CreationInfo,
    ErrorEllipse,
    FixedClock,
    Incident,
    Location,
    Markings,
    ObservationRef,
    Origin,
)
from truceline.policy import InMemoryAuditLog, PolicyContext, SharingGroup
from truceline.server import ServerSettings, TokenRegistry, create_app
from truceline.store import MemoryStore, PreparedObservation

NOW = datetime(2026, 9, 3, 12, tzinfo=UTC)
DAYS = (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 2, tzinfo=UTC))
PARTICIPANTS = ("UKR", "RUS", "USA", "GBR", "TUR", "MVM")
GROUPS = {"G-AIR": frozenset({"USA", "GBR", "UKR"})}
CREATED = CreationInfo(agent="test", created=NOW - timedelta(hours=1))
MARKINGS = [
    Markings(tlp="clear", originator="MVM"),
    Markings(tlp="green", originator="UKR"),
    Markings(tlp="amber", originator="USA"),
    Markings(tlp="amber", originator="USA", releasable_to=("GBR", "UKR")),
    Markings(tlp="amber+strict", originator="MVM", releasable_to=("RUS",)),
    Markings(tlp="red", originator="GBR", releasable_to=("TUR",)),
    Markings(tlp="green", originator="UKR", sharing_group="G-AIR"),
    Markings(tlp="amber", originator="GBR", releasable_to=("USA", "RUS"), sharing_group="G-AIR"),
]
ASKERS = [
    ("UKR", ("G-AIR",)),
    ("UKR", ()),
    ("RUS", ()),
    ("USA", ("G-AIR",)),
    ("GBR", ()),
    ("TUR", ()),
    ("MVM", ()),
]
WORLD = reference.World(participants=frozenset(PARTICIPANTS), groups=GROUPS)


def _loc(lat: float, lon: float) -> Location:
    return Location(lat=lat, lon=lon, error=ErrorEllipse(semi_major_m=200.0, semi_minor_m=80.0, orientation_deg=10.0))


def _as_dict(m: Markings) -> dict[str, Any]:
    return {"tlp": m.tlp, "originator": m.originator, "releasable_to": list(m.releasable_to),
            "sharing_group": m.sharing_group}


class Mech:
    """An app over a memory store holding incidents, reports and alerts of every marking."""

    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.store = MemoryStore(clock=self.clock)
        self.incidents: dict[str, tuple[datetime, Markings]] = {}
        self.reports: dict[str, Markings] = {}
        incidents, reports, alerts = [], [], []
        for d, day in enumerate(DAYS):
            for k in range(24):
                m = MARKINGS[(k + d) % len(MARKINGS)]
                rm = MARKINGS[(k * 3 + 1) % len(MARKINGS)]
                t = day + timedelta(hours=k)
                iid = f"inc-{d}-{k:02d}"
                report = AcousticArrival(key=iid, participant="USA", source="ac-1", time=t, location=_loc(48.1, 37.7),
                                         markings=rm)
                reports.append(report)
                self.reports[iid] = rm
                origin = Origin(id=f"{iid}/o", location=_loc(48.0 + k / 100, 37.8), time=t, method="tdoa",
                                creation_info=CREATED)
                incidents.append(Incident(
                    id=iid, start=t, end=t, observations=(ObservationRef(participant="USA", source="ac-1", key=iid),),
                    origins=(origin,), preferred_origin_id=origin.id, sector=f"CL-0{1 + k % 3}", markings=m,
                    creation_info=CREATED))
                self.incidents[iid] = (t, m)
            for k, m in enumerate(MARKINGS):
                alerts.append(Alert(id=f"alert-{d}-{k}", kind="other", sent=day + timedelta(hours=k), headline="x",
                                    markings=m, creation_info=CREATED))
        self.alerts = {a.id: a.markings for a in alerts}
        self.store.add_observations([PreparedObservation(r, r.model_dump_json().encode()) for r in reports])
        self.store.put_records(incidents)
        self.store.put_records(alerts)
        self.tokens = TokenRegistry(":memory:", clock=self.clock)
        self.audit = InMemoryAuditLog()
        context = PolicyContext(
            participants=PARTICIPANTS,
            sharing_groups=tuple(SharingGroup(id=g, members=tuple(sorted(m))) for g, m in GROUPS.items()),
        )
        settings = ServerSettings(context=context, tokens=self.tokens, audit=self.audit, clock=self.clock)
        self.client = TestClient(create_app(settings, self.store))

    def headers(self, participant: str, groups: tuple[str, ...] = (), *roles: str) -> dict[str, str]:
        token, _ = self.tokens.issue(participant, roles or ("observer",), subject="t", sharing_groups=groups)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def mech() -> Iterator[Mech]:
    m = Mech()
    yield m
    m.client.close()
    m.tokens.close()


def _may(participant: str, groups: tuple[str, ...], m: Markings) -> bool:
    asker = reference.Asker(participant=participant, roles=frozenset(), claimed_groups=frozenset(groups))
    return reference.may_read(WORLD, asker, _as_dict(m))


@pytest.mark.parametrize(("participant", "groups"), ASKERS)
def test_day_lists_and_counts_match_the_reference_policy(mech: Mech, participant: str, groups: tuple[str, ...]) -> None:
    headers = mech.headers(participant, groups)
    for day in DAYS:
        iso = day.date().isoformat()
        on_day = {i: m for i, (t, m) in mech.incidents.items() if t.date() == day.date()}
        expected = {i for i, m in on_day.items() if _may(participant, groups, m)}
        body = mech.client.get("/v1/dashboard/day", params={"day": iso}, headers=headers).json()
        assert set(body["incidents"]["id"]) == expected
        tl = body["timeline"]
        per_day = {d: 0 for d in tl["days"]}
        for cell in tl["cells"]:
            per_day[tl["days"][cell[0]]] += cell[-1]
        listed = {d["day"]: d["incidents"] for d in body["days"]}
        for other in DAYS:
            want = sum(t.date() == other.date() and _may(participant, groups, m) for t, m in mech.incidents.values())
            assert listed.get(other.date().isoformat(), 0) == want
            if other <= day:  # the timeline ends with the day shown
                assert per_day[other.date().isoformat()] == want
    feed = mech.client.get("/v1/dashboard/feed", headers=headers).json()
    assert {i["id"] for i in feed["items"]} == {a for a, m in mech.alerts.items() if _may(participant, groups, m)}


@pytest.mark.parametrize(("participant", "groups"), ASKERS)
def test_incident_pages_show_only_what_may_be_seen(mech: Mech, participant: str, groups: tuple[str, ...]) -> None:
    headers = mech.headers(participant, groups)
    missing = mech.client.get("/v1/dashboard/incidents/inc-9-99", headers=headers)
    assert missing.status_code == 404
    for iid, (_, m) in mech.incidents.items():
        r = mech.client.get(f"/v1/dashboard/incidents/{iid}", headers=headers)
        if not _may(participant, groups, m):
            # Hidden and missing read alike: same status, same words (each names only the asked-for id).
            assert r.status_code == 404
            assert r.json()["detail"] == reference.not_found_message(f"incidents/{iid}")
            continue
        assert r.status_code == 200
        body = r.json()
        assert body["incident"]["id"] == iid
        assert len(body["reports"]) == int(_may(participant, groups, mech.reports[iid]))
        assert body["may_review"] is False


def test_review_is_for_reviewers_who_may_see_the_incident(mech: Mech) -> None:
    hidden = next(i for i, (_, m) in mech.incidents.items() if not _may("TUR", (), m))
    visible = next(i for i, (_, m) in mech.incidents.items() if _may("TUR", (), m) and m.tlp == "green")
    reviewer = mech.headers("TUR", (), "reviewer")
    observer = mech.headers("TUR", ())
    decision = {"status": "reviewed", "version": 1, "note": "checked"}
    url = "/v1/dashboard/incidents/{}/review"
    assert mech.client.post(url.format(hidden), json=decision, headers=reviewer).status_code == 404
    assert mech.client.post(url.format(visible), json=decision, headers=observer).status_code == 403
    wrong = {**decision, "preferred_origin_id": "nope"}
    bad_origin = mech.client.post(url.format(visible), json=wrong, headers=reviewer)
    assert bad_origin.status_code == 400
    assert "no origin of this incident" in bad_origin.json()["detail"]
    assert mech.client.post(url.format(visible), json=decision, headers=reviewer).status_code == 200
    again = mech.client.post(url.format(visible), json=decision, headers=reviewer)
    assert again.status_code == 409 and "changed since you opened it" in again.json()["detail"]
    final = mech.client.post(url.format(visible), json={**decision, "status": "final", "version": 2}, headers=reviewer)
    assert final.status_code == 200
    late = mech.client.post(url.format(visible), json={**decision, "version": 3}, headers=reviewer)
    assert late.status_code == 409 and "already final" in late.json()["detail"]
    page = mech.client.get(f"/v1/dashboard/incidents/{visible}", headers=reviewer).json()
    assert page["incident"]["evaluation_status"] == "final"
    assert [v["status"] for v in page["history"]] == ["preliminary", "reviewed", "final"]
    assert page["history"][1]["creation_info"]["participant"] == "TUR"


def test_every_list_leaves_a_read_event_with_who_and_its_size(mech: Mech) -> None:
    """Every list a dashboard route returns is one ``read`` audit event: participant, subject, number returned.

    The timeline's and the day list's figures are aggregates: a ``count`` event each.
    """
    headers = mech.headers("GBR")
    before = len(mech.audit.events)
    get = mech.client.get
    day = get("/v1/dashboard/day", params={"day": "2026-09-02"}, headers=headers).json()
    feed = get("/v1/dashboard/feed", headers=headers).json()
    sensors = get("/v1/dashboard/sensors", params={"day": "2026-09-02"}, headers=headers).json()
    force = get("/v1/dashboard/force", headers=headers).json()
    coalition = get("/v1/dashboard/coalition", headers=headers).json()
    geography = get("/v1/dashboard/geography", headers=headers).json()
    events = [e for e in mech.audit.events[before:] if e.ref.startswith("dashboard/")]
    assert all(e.participant == "GBR" and (e.subject or "").startswith("t (token ") and e.allowed for e in events)
    reads = {e.ref: e.returned for e in events if e.action == "read"}
    # A sensor is read once per marking among its sampled reports, then merged into one line.
    assert 0 < len(sensors["sensors"]) <= reads.pop("dashboard/sensors")
    assert reads == {
        "dashboard/incidents": len(day["incidents"]["id"]),
        "dashboard/findings": len(day["findings"]["id"]),
        "dashboard/assessments": len(day["assessments"]),
        "dashboard/feed": len(feed["items"]),
        "dashboard/force": len(force["units"]),
        "dashboard/coalition/units": len(coalition["units"]),
        "dashboard/coalition": len(coalition["pledges"]),
        "dashboard/geography": feature_count(geography),
    }
    assert reads["dashboard/incidents"] > 0 and reads["dashboard/force"] > 0 and reads["dashboard/geography"] > 400
    counts = {e.ref: e.returned for e in events if e.action == "count"}
    assert counts == {
        "dashboard/incident-days": sum(d["incidents"] for d in day["days"]),
        "dashboard/timeline": sum(c[-1] for c in day["timeline"]["cells"]),
    }
    assert {e.action for e in events} == {"read", "count"}


def test_bad_queries_get_clear_messages(mech: Mech) -> None:
    headers = mech.headers("GBR")
    r = mech.client.get("/v1/dashboard/day", params={"day": "2026-9-1"}, headers=headers)
    assert r.status_code == 400
    assert r.json()["detail"] == "day '2026-9-1' is not a date; expected YYYY-MM-DD, e.g. 2026-09-02"
    assert mech.client.get("/v1/dashboard/sensors", params={"day": ""}, headers=headers).status_code == 400
    assert mech.client.get("/v1/dashboard/day").status_code == 401
    page = mech.client.get("/dashboard/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
