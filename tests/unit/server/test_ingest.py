"""POST /v1/observations: validated like `truceline ingest`, stored all or none, refusals say no more
than the sender sent."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import observation_dict
from tests.unit.server.conftest import Mechanism

NDJSON = {"content-type": "application/x-ndjson"}


def post(mech: Mechanism, body: bytes | str, participant: str = "USA", *roles: str, **headers: str) -> Any:
    auth = mech.headers(participant, *(roles or ("analyst",)))
    return mech.client.post("/v1/observations", content=body, headers={**auth, **NDJSON, **headers})


def lines(*records: dict[str, Any]) -> str:
    return "\n".join(json.dumps(r) for r in records)


def test_valid_reports_are_stored_and_readable_by_their_audience(mech: Mechanism) -> None:
    response = post(mech, lines(observation_dict(1), observation_dict(2)))
    assert response.status_code == 200
    assert response.json() == {"received": 2, "stored": 2, "duplicates": 0, "conflicts": []}
    assert mech.store.count_observations() == 2
    # amber, releasable to UKR and GBR: GBR sees them, FRA does not
    assert len(mech.get("/v1/observations", "GBR").json()["items"]) == 2
    assert mech.get("/v1/observations", "FRA").json() == {"items": [], "next": None}


def test_a_json_array_and_a_single_object_are_accepted(mech: Mechanism) -> None:
    array = json.dumps([observation_dict(1), observation_dict(2)])
    assert post(mech, array, **{"content-type": "application/json"}).json()["stored"] == 2
    single = json.dumps(observation_dict(3))
    assert post(mech, single, **{"content-type": "application/json"}).json()["stored"] == 1


def test_sending_again_stores_nothing_twice(mech: Mechanism) -> None:
    body = lines(observation_dict(1), observation_dict(2))
    post(mech, body)
    again = post(mech, body).json()
    assert (again["stored"], again["duplicates"]) == (0, 2)
    assert mech.store.count_observations() == 2


def test_one_bad_report_refuses_the_whole_batch_and_names_it(mech: Mechanism) -> None:
    bad = observation_dict(2)
    bad["location"]["lat"] = 135.0
    response = post(mech, lines(observation_dict(1), bad, observation_dict(3)))
    assert response.status_code == 422
    problems = response.json()["errors"]
    assert [(p["record"], p["field"]) for p in problems] == [("request:2", "location.lat")]
    assert mech.store.count_observations() == 0


def test_reports_of_another_participant_are_refused(mech: Mechanism) -> None:
    foreign = observation_dict(1, participant="GBR", markings={"tlp": "green", "originator": "GBR"})
    response = post(mech, lines(observation_dict(2), foreign))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "participant"
    assert mech.store.count_observations() == 0


def test_a_group_the_sender_does_not_act_in_is_refused_in_the_same_words_whether_or_not_it_exists(
    mech: Mechanism,
) -> None:
    def reason(group: str) -> str:
        record = observation_dict(1, markings={"tlp": "green", "originator": "USA", "sharing_group": group})
        response = post(mech, lines(record))
        assert response.status_code == 422
        return str(response.json()["errors"][0]["reason"]).replace(group, "X")

    assert reason("G-AIR") == reason("G-NOSUCH")  # USA is in G-AIR but its token does not claim it
    assert mech.store.count_observations() == 0


def test_an_observer_may_not_write(mech: Mechanism) -> None:
    response = post(mech, lines(observation_dict(1)), "USA", "observer")
    assert response.status_code == 403
    assert mech.store.count_observations() == 0


def test_a_key_reused_for_another_report_is_refused_and_nothing_is_stored(mech: Mechanism) -> None:
    post(mech, lines(observation_dict(1)))
    changed = observation_dict(1, reliability="E")
    response = post(mech, lines(observation_dict(5), changed))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"record": "request:2", "field": "key", "reason": "this key was already used for a different report"}
    ]
    assert mech.store.count_observations() == 1


def test_oversized_malformed_and_mistyped_bodies_get_a_clear_4xx_and_store_nothing(mech: Mechanism) -> None:
    big = lines(*(observation_dict(i) for i in range(500)))
    assert len(big) > mech.settings.max_request_bytes
    assert post(mech, big).status_code == 413
    chunks = (line.encode() + b"\n" for line in big.split("\n"))  # chunked: no declared length
    chunked = mech.client.post("/v1/observations", content=chunks, headers={**mech.headers("USA", "analyst"), **NDJSON})
    assert chunked.status_code == 413
    assert post(mech, "{not json").status_code == 422
    assert post(mech, "[1, 2", **{"content-type": "application/json"}).status_code == 422
    assert post(mech, "42", **{"content-type": "application/json"}).status_code == 422
    assert post(mech, lines(observation_dict(1)), **{"content-type": "text/csv"}).status_code == 415
    assert post(mech, "").status_code == 422
    assert mech.store.count_observations() == 0


def test_a_future_time_and_an_unknown_participant_are_refused_as_the_cli_refuses_them(mech: Mechanism) -> None:
    future = observation_dict(1, time="2026-03-02T00:00:00Z")
    stranger = observation_dict(2, markings={"tlp": "amber", "originator": "USA", "releasable_to": ["XXX"]})
    response = post(mech, lines(future, stranger))
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["errors"]] == ["time", "markings.releasable_to.0"]


def test_writes_leave_audit_events(mech: Mechanism) -> None:
    post(mech, lines(observation_dict(1)))
    assert [(e.action, e.allowed) for e in mech.audit.events] == [("write", True)]


def test_observation_pages_use_opaque_cursors(mech: Mechanism) -> None:
    post(mech, lines(*(observation_dict(i) for i in range(5))))
    first = mech.get("/v1/observations", "GBR", limit=3).json()
    assert len(first["items"]) == 3 and first["next"]
    assert not first["next"].isdigit()
    second = mech.get("/v1/observations", "GBR", limit=3, cursor=first["next"]).json()
    assert len(second["items"]) == 2 and second["next"] is None
    keys = [o["key"] for o in first["items"] + second["items"]]
    assert keys == [f"acoustic_arrival-{i:07d}" for i in range(5)]
    assert mech.get("/v1/observations", "GBR", cursor="3").status_code == 400
    assert mech.get("/v1/observations", "GBR", kind="nonsense").status_code == 400


def test_one_observation_by_identity_is_hidden_like_a_missing_one(mech: Mechanism) -> None:
    post(mech, lines(observation_dict(1)))
    params = {"participant": "USA", "source": "ac-017", "key": "acoustic_arrival-0000001"}

    def get(reader: str, **changes: str) -> Any:
        return mech.client.get("/v1/observation", headers=mech.headers(reader), params={**params, **changes})

    assert get("UKR").json()["key"] == params["key"]
    hidden = get("FRA")
    missing = get("FRA", key="acoustic_arrival-0000009")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content.replace(b"0000001", b"0000009") == missing.content
