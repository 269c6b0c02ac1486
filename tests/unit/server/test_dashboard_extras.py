"""The served agreement reaches the dashboard, the coalition view, and directives acknowledged by their owner."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.unit.policy import reference
from tests.unit.server.conftest import CREATED, NOW, Mechanism, markings
from truceline.act import DirectiveTask, register_records
from truceline.agreement import load_agreement
from truceline.cli.serve_cmd import build_settings
from truceline.guarantee import EXAMPLE_COALITION, CoalitionError, load_coalition
from truceline.model import UsageError
from truceline.server import create_app


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _line(*points: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


# A small agreement on made-up geometry: the line is the 32° E meridian, UKR holds the west.
SMALL_AGREEMENT: dict[str, Any] = {
    "format_version": 1,
    "id": "small-test",
    "version": "7",
    "title": "A small test agreement",
    "effective": "2026-09-01",
    "participants": [
        {"id": "UKR", "name": "Ukraine", "roles": ["party"]},
        {"id": "RUS", "name": "Russian Federation", "roles": ["party"]},
        {"id": "USA", "name": "United States", "roles": ["monitor", "guarantor"]},
        {"id": "FRA", "name": "France", "roles": ["coalition", "guarantor"]},
    ],
    "parties": ["UKR", "RUS"],
    "clauses": {"ceasefire": "No fire.", "freedom_of_movement": "Monitors go anywhere.", "declarations": "Declare."},
    "contact_line": {"geometry": {"type": "LineString", "coordinates": [[32.0, 46.0], [32.0, 48.0], [32.0, 50.0]]}},
    "controlled_areas": {"UKR": _box(28.0, 46.0, 32.0, 50.0), "RUS": _box(32.0, 46.0, 36.0, 50.0)},
    "withdrawal": {"tank": {"distance_km": 15}},
    "disengagement": {
        "quiet_days_required": 7,
        "areas": [{"id": "DA-1", "name": "Middle", "geometry": _box(31.97, 47.97, 32.03, 48.03)}],
    },
    "ceilings": {"UKR": {"troops": 800000}},
    "reassurance_force": {"min_distance_km": 100, "basing": {"geometry": _box(28.0, 47.5, 29.0, 48.5)}},
    "sectors": {
        "max_distance_km": 50,
        "contact_line": [
            {
                "id": "S1",
                "name": "South",
                "geometry": {"type": "LineString", "coordinates": [[32.0, 46.0], [32.0, 48.0]]},
            },
            {
                "id": "S2",
                "name": "North",
                "geometry": {"type": "LineString", "coordinates": [[32.0, 48.0], [32.0, 50.0]]},
            },
        ],
    },
}
SMALL_COALITION: dict[str, Any] = {
    "format_version": 1,
    "id": "small-coalition",
    "title": "Two French units",
    "as_of": "2026-11-01",
    "pledge_date": "2026-09-01",
    "agreement": "agreement.yaml",
    "pledges": [{"id": "FRA-troops", "participant": "FRA", "capability": "ground.troops", "quantity": 1200}],
    "requirements": [{"capability": "ground.troops", "quantity": 2000}],
    "units": [
        {"id": "FRA-1", "participant": "FRA", "capability": "ground.troops", "planned": {"lon": 28.5, "lat": 48.0}},
        {
            "id": "FRA-2",
            "participant": "FRA",
            "capability": "ground.troops",
            "planned": {"lon": 28.6, "lat": 48.1},
            "actual": {"place": "forward post", "lon": 31.0, "lat": 48.0, "reported": "2026-10-30"},
        },
    ],
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    (folder / "agreement.yaml").write_text(yaml.safe_dump(SMALL_AGREEMENT, sort_keys=False), encoding="utf-8")
    (folder / "coalition.yaml").write_text(yaml.safe_dump(SMALL_COALITION, sort_keys=False), encoding="utf-8")
    return folder


def _serve(mech: Mechanism, **changes: Any) -> TestClient:
    mech.settings = replace(mech.settings, **changes)
    return TestClient(create_app(mech.settings, mech.store))


# --- the agreement ----------------------------------------------------------------------------


def test_serve_carries_its_agreement_and_coalition_to_the_dashboard(small: Path, tmp_path: Path) -> None:
    settings = build_settings(
        str(small / "agreement.yaml"),
        None,
        str(tmp_path / "tokens.sqlite"),
        str(tmp_path / "audit.sqlite"),
        1_000_000,
        str(small / "coalition.yaml"),
    )
    try:
        assert settings.agreement.id == "small-test"
        assert settings.coalition.id == "small-coalition"
        assert settings.context.participants == ("FRA", "RUS", "UKR", "USA")
        app = create_app(settings, Mechanism(seeded=False).store)
        token, _ = settings.tokens.issue("FRA", ["observer"], subject="fra")
        client = TestClient(app)
        headers = {"Authorization": f"Bearer {token}"}
        geography = client.get("/v1/dashboard/geography", headers=headers).json()
        assert geography["agreement"] == {"id": "small-test", "version": "7", "title": "A small test agreement"}
        assert [f["properties"]["id"] for f in geography["sectors"]] == ["S1", "S2"]
        view = client.get("/v1/dashboard/coalition", headers=headers).json()
        assert view["coalition"]["agreement"]["id"] == "small-test"
        assert view["coalition"]["source"] == "coalition.yaml"  # the file's name, not the server's path
        assert [(b["unit"], b["which"], b["clause"]) for b in view["breaches"]] == [
            ("FRA-2", "actual", "reassurance.distance"),
            ("FRA-2", "actual", "reassurance.basing"),
        ]
        assert view["reassurance_force"]["min_distance_km"] == 100
        assert view["reassurance_force"]["min_distance_line"]["properties"]["party"] == "UKR"
        [gap] = view["gaps"]
        assert (gap["capability"], gap["required"], gap["pledged"], gap["gap"]) == ("ground.troops", 2000, 1200, 800)
        assert view["force_plan"] is None
    finally:
        settings.tokens.close()
        settings.audit.close()


def test_serve_refuses_a_coalition_that_does_not_fit_its_agreement(small: Path, tmp_path: Path) -> None:
    args = (str(small / "agreement.yaml"), None, str(tmp_path / "t.sqlite"), str(tmp_path / "a.sqlite"), 1_000_000)
    with pytest.raises(CoalitionError, match="unknown participant"):
        build_settings(*args, str(EXAMPLE_COALITION))
    with pytest.raises(UsageError, match="no such coalition file"):
        build_settings(*args, str(tmp_path / "missing.yaml"))


def test_without_a_fitting_coalition_the_page_says_why(small: Path) -> None:
    mech = Mechanism(seeded=False)
    client = _serve(mech, agreement=load_agreement(small / "agreement.yaml"))
    headers = mech.headers("USA")
    r = client.get("/v1/dashboard/coalition", headers=headers)
    assert r.status_code == 404
    assert r.json()["detail"].startswith("this server has no coalition to show: ")
    assert "unknown participant" in r.json()["detail"]
    assert client.get("/v1/dashboard/geography", headers=headers).json()["agreement"]["id"] == "small-test"


# --- the coalition view -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> Iterator[tuple[Mechanism, TestClient]]:
    mech = Mechanism()
    client = TestClient(mech.app)
    yield mech, client
    client.close()
    mech.tokens.close()


def test_the_coalition_needs_a_token_and_every_read_is_audited(shipped: tuple[Mechanism, TestClient]) -> None:
    mech, client = shipped
    assert client.get("/v1/dashboard/coalition").status_code == 401
    before = len(mech.audit.events)
    r = client.get("/v1/dashboard/coalition", headers=mech.headers("TUR"))
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    [event] = [e for e in mech.audit.events[before:] if e.ref == "dashboard/coalition"]
    assert (event.participant, event.action, event.allowed, event.returned) == ("TUR", "read", True, 91)


def test_the_coalition_view_is_the_guarantee_stage_s_own_figures(shipped: tuple[Mechanism, TestClient]) -> None:
    from truceline.agreement import default_agreement
    from truceline.guarantee import Situation, gap_table, posture, run_force_plan

    mech, client = shipped
    view = client.get("/v1/dashboard/coalition", headers=mech.headers("GBR")).json()
    coalition = load_coalition(EXAMPLE_COALITION, default_agreement())
    assert [g["capability"] for g in view["gaps"]] == [g.capability for g in gap_table(coalition)]
    troops = next(g for g in view["gaps"] if g["capability"] == "ground.troops")
    expected = next(g for g in gap_table(coalition) if g.capability == "ground.troops")
    assert (troops["required"], troops["pledged"], troops["conditional"], troops["status"]) == (
        expected.required,
        expected.pledged,
        expected.conditional,
        expected.status,
    )
    assert len(view["pledges"]) == len(coalition.pledges(include_withdrawn=True))
    assert sum(p["counted"] for p in view["pledges"]) == len(coalition.available(Situation()))
    rows = posture(coalition)
    assert len(view["units"]) == len(rows)
    assert {(b["unit"], b["clause"]) for b in view["breaches"]} == {
        (r.unit.id, f.clause_id) for r in rows for f in r.findings
    }
    assert any("136 km from the contact line" in b["reason"] for b in view["breaches"])
    plan = run_force_plan(coalition)
    fp = view["force_plan"]
    assert len(fp["months"]) == plan.plan.months == len(fp["personnel"]["strength"])
    assert fp["shortfalls"][0]["shortfall"] == round(plan.shortfalls[0].shortfall, 1)


def test_the_situation_changes_what_counts(shipped: tuple[Mechanism, TestClient]) -> None:
    mech, client = shipped
    headers = mech.headers("GBR")

    def counted(**params: Any) -> int:
        view = client.get("/v1/dashboard/coalition", headers=headers, params=params).json()
        return sum(p["counted"] for p in view["pledges"])

    assert counted(level=3) > counted(level=1)
    assert counted(ceasefire=False) < counted()
    assert counted(ratified_only=True) < counted()
    assert client.get("/v1/dashboard/coalition", headers=headers, params={"level": 6}).status_code == 422


# --- acknowledging directives -------------------------------------------------------------------


def task(task_id: str, owner: str, m: Any, status: str = "open") -> DirectiveTask:
    return DirectiveTask(
        id=task_id,
        activation_id="act-1",
        directive="D-1",
        title=f"task {task_id}",
        owner=owner,
        issued=NOW - timedelta(hours=1),
        deadline=NOW + timedelta(hours=5),
        status=status,  # type: ignore[arg-type]
        blocked_by="waits for the hotline answer" if status == "blocked" else "",
        markings=m,
        creation_info=CREATED,
    )


@pytest.fixture
def tasks() -> Iterator[Mechanism]:
    register_records()
    mech = Mechanism(seeded=False)
    mech.store.put_records(
        [
            task("T-ukr", "UKR", markings("green", "OSCE")),
            task("T-hidden", "UKR", markings("amber", "USA")),  # UKR owns it but may not see it
            task("T-blocked", "UKR", markings("green", "OSCE"), status="blocked"),
            task("T-gbr", "GBR", markings("green", "OSCE")),
        ]
    )
    yield mech
    mech.client.close()
    mech.tokens.close()


def ack(mech: Mechanism, task_id: str, *roles: str, participant: str = "UKR", note: str = "on it") -> Any:
    url = f"/v1/dashboard/directives/{task_id}/acknowledge"
    return mech.client.post(url, json={"note": note}, headers=mech.headers(participant, *roles))


def test_the_owner_s_reviewer_acknowledges_a_new_version(tasks: Mechanism) -> None:
    r = ack(tasks, "T-ukr", "reviewer", note="battery withdrawn")
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    assert r.json()["task"]["status"] == "acknowledged" and r.json()["task"]["acknowledged_by"] == "UKR"
    history = tasks.store.record_history("directivetask", "T-ukr")
    assert [(s.version, s.record.status) for s in history] == [(1, "open"), (2, "acknowledged")]  # type: ignore[attr-defined]
    new = history[-1].record
    assert isinstance(new, DirectiveTask)
    assert new.note == "battery withdrawn" and new.acknowledged_at == NOW
    info = new.creation_info
    assert (info.mode, info.participant, info.version, info.note) == ("manual", "UKR", "2", "battery withdrawn")
    assert info.agent.startswith("ukr-user")
    again = ack(tasks, "T-ukr", "reviewer")
    assert again.status_code == 409
    assert again.json()["detail"] == f"the directive is already acknowledged by UKR at {NOW.isoformat()}"


def test_an_analyst_may_acknowledge_too_but_an_observer_may_not(tasks: Mechanism) -> None:
    observer = ack(tasks, "T-ukr", "observer")
    assert observer.status_code == 403
    assert observer.json()["detail"] == "UKR may not review 'directives/T-ukr': no role of ['observer'] grants it"
    assert ack(tasks, "T-ukr", "analyst").status_code == 200


def test_only_the_owner_may_acknowledge_and_a_hidden_task_is_a_missing_one(tasks: Mechanism) -> None:
    other = ack(tasks, "T-gbr", "reviewer")
    assert other.status_code == 403
    assert other.json()["detail"] == "UKR may not acknowledge 'directives/T-gbr': only its owner GBR may acknowledge it"
    hidden = ack(tasks, "T-hidden", "reviewer")
    missing = ack(tasks, "T-nope", "reviewer")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == reference.not_found_message("directives/T-hidden")
    assert missing.json()["detail"] == reference.not_found_message("directives/T-nope")
    blocked = ack(tasks, "T-blocked", "reviewer")
    assert blocked.status_code == 409 and "blocked (waits for the hotline answer)" in blocked.json()["detail"]
    assert ack(tasks, "T-ukr", "reviewer", note="x" * 2001).status_code == 422
    # Nothing of the refused requests was stored, and every refusal left an audit event.
    assert [s.version for s in tasks.store.record_history("directivetask", "T-gbr")] == [1]
    refused = {(e.action, e.ref) for e in tasks.audit.events if not e.allowed}
    assert {
        ("acknowledge", "directives/T-gbr"),
        ("review", "directives/T-hidden"),
        ("review", "directives/T-nope"),
    } <= refused


def test_the_feed_offers_the_acknowledgement_to_those_who_may(tasks: Mechanism) -> None:
    def offered(participant: str, *roles: str) -> dict[str, bool]:
        items = tasks.client.get("/v1/dashboard/feed", headers=tasks.headers(participant, *roles)).json()["items"]
        return {i["id"]: i["may_acknowledge"] for i in items if i["type"] == "directive"}

    assert offered("UKR", "reviewer") == {"T-ukr": True, "T-blocked": False, "T-gbr": False}
    assert offered("UKR", "analyst") == {"T-ukr": True, "T-blocked": False, "T-gbr": False}
    assert offered("UKR") == {"T-ukr": False, "T-blocked": False, "T-gbr": False}
    assert offered("GBR", "reviewer") == {"T-ukr": False, "T-blocked": False, "T-gbr": True}
