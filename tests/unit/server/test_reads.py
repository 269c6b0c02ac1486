"""Every read path of the API answers each nation exactly what the reference policy allows."""

from __future__ import annotations

import json

import pytest

from tests.unit.policy import reference as ref
from tests.unit.server.conftest import CONTEXT, PARTICIPANTS, SEEDED_INCIDENTS, Mechanism

WORLD = ref.World(
    participants=frozenset(CONTEXT.participants),
    groups={g.id: frozenset(g.members) for g in CONTEXT.sharing_groups},
)
ASKERS = [(p, ()) for p in PARTICIPANTS] + [
    ("USA", ("G-AIR", "G-SIGINT")),
    ("GBR", ("G-SIGINT",)),
    ("UKR", ("G-AIR",)),
    ("FRA", ("G-AIR",)),  # claims a group it is not in: the claim must count for nothing
]


def entitled(participant: str, groups: tuple[str, ...]) -> set[str]:
    asker = ref.Asker(participant, frozenset(), frozenset(groups))
    return {i for i, m in SEEDED_INCIDENTS.items() if ref.may_read(WORLD, asker, m.model_dump())}


@pytest.mark.parametrize(("participant", "groups"), ASKERS)
def test_incident_list_and_total_show_exactly_what_the_reference_allows(
    mech: Mechanism, participant: str, groups: tuple[str, ...]
) -> None:
    page = mech.get("/v1/incidents", participant, "observer", groups=groups).json()
    expected = entitled(participant, groups)
    assert {item["id"] for item in page["items"]} == expected
    assert page["total"] == len(expected)


@pytest.mark.parametrize(("participant", "groups"), ASKERS)
def test_single_incident_reads_match_the_reference_and_hidden_equals_missing(
    mech: Mechanism, participant: str, groups: tuple[str, ...]
) -> None:
    allowed = entitled(participant, groups)
    for record_id in SEEDED_INCIDENTS:
        response = mech.get(f"/v1/incidents/{record_id}", participant, groups=groups)
        if record_id in allowed:
            assert response.status_code == 200
            assert response.json()["id"] == record_id
        else:
            assert response.status_code == 404
            assert response.json() == {"detail": ref.not_found_message(f"incidents/{record_id}")}


def test_a_hidden_record_and_a_missing_one_answer_byte_for_byte_alike(mech: Mechanism) -> None:
    hidden = mech.get("/v1/incidents/INC-red-to-fra", "GBR")
    missing = mech.get("/v1/incidents/INC-red-to-frb", "GBR")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content.replace(b"fra", b"frb") == missing.content
    assert hidden.headers["content-length"] == missing.headers["content-length"]


def test_no_response_to_an_outsider_mentions_what_it_may_not_see(mech: Mechanism) -> None:
    secrets = [i for i in SEEDED_INCIDENTS if i not in entitled("POL", ())] + ["G-SIGINT", "G-AIR"]
    bodies = [
        mech.get(path, "POL").content
        for path in ("/v1/incidents", "/v1/findings", "/v1/alerts", "/v1/assessments", "/v1/me", "/v1/observations")
    ]
    for body in bodies:
        for secret in secrets:
            assert secret.encode() not in body


def test_sector_filter_and_pagination_count_only_visible_records(mech: Mechanism) -> None:
    first = mech.get("/v1/incidents", "USA", groups=("G-SIGINT",), limit=2, offset=0, sector="S3").json()
    rest = mech.get("/v1/incidents", "USA", groups=("G-SIGINT",), limit=100, offset=2, sector="S3").json()
    expected = entitled("USA", ("G-SIGINT",))
    assert first["total"] == rest["total"] == len(expected)
    assert {i["id"] for i in first["items"] + rest["items"]} == expected
    assert mech.get("/v1/incidents", "USA", sector="S9").json()["total"] == 0


def test_findings_alerts_and_assessments_go_through_the_policy(mech: Mechanism) -> None:
    assert [f["id"] for f in mech.get("/v1/findings", "FRA").json()["items"]] == ["FND-green"]
    gbr = mech.get("/v1/findings", "GBR", groups=("G-SIGINT",)).json()["items"]
    assert sorted(f["id"] for f in gbr) == ["FND-green", "FND-sigint"]
    assert mech.get("/v1/alerts", "UKR").json()["total"] == 1
    assert mech.get("/v1/alerts", "USA").json()["total"] == 0
    assert mech.get("/v1/alerts/ALR-1", "USA").status_code == 404
    assert mech.get("/v1/assessments/ASM-S3-2026-03-01", "TUR").json()["warning_level"] == 3


def test_group_membership_is_shown_to_members_only(mech: Mechanism) -> None:
    usa = mech.get("/v1/me", "USA", groups=("G-AIR", "G-SIGINT")).json()
    assert {g["id"] for g in usa["groups"]} == {"G-AIR", "G-SIGINT"}
    fra = mech.get("/v1/me", "FRA", groups=("G-AIR",)).json()
    assert fra["groups"] == []


def test_every_read_leaves_an_audit_event(mech: Mechanism) -> None:
    mech.get("/v1/incidents/INC-red-to-fra", "GBR")
    mech.get("/v1/incidents", "GBR")
    events = [(e.participant, e.action, e.ref, e.allowed) for e in mech.audit.events]
    assert ("GBR", "read", "incidents/INC-red-to-fra", False) in events
    assert ("GBR", "read", "incidents", True) in events


def test_stored_record_bodies_are_returned_unchanged_when_visible(mech: Mechanism) -> None:
    body = mech.get("/v1/incidents/INC-amber-to-gbr", "GBR").json()
    stored = mech.store.get_record("incident", "INC-amber-to-gbr")
    assert stored is not None
    assert body == json.loads(stored.record.model_dump_json())
