"""The TAXII 2.1 server, driven over loopback by the official ``taxii2-client``."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import requests
    from stix2validator import ValidationOptions, validate_instance
    from taxii2client.v21 import Server, as_pages

from tests.unit.policy import reference as ref
from tests.unit.server.conftest import CONTEXT, NOW, SEEDED_INCIDENTS, Mechanism, incident, markings
from truceline.interop.stix import bundle, stix_id
from truceline.interop.taxii import collection_id


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class Served:
    def __init__(self, mech: Mechanism, server: uvicorn.Server, port: int) -> None:
        self.mech = mech
        self.server = server
        self.url = f"http://127.0.0.1:{port}/taxii2/"

    def client(self, participant: str, *roles: str, groups: tuple[str, ...] = ()) -> Server:
        return Server(self.url, auth=Bearer(self.mech.token(participant, *roles, groups=groups)))


@pytest.fixture
def served() -> Iterator[Served]:
    mech = Mechanism()
    config = uvicorn.Config(mech.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Served(mech, server, port)
    server.should_exit = True
    thread.join(timeout=10)


WORLD = ref.World(frozenset(CONTEXT.participants), {g.id: frozenset(g.members) for g in CONTEXT.sharing_groups})


def entitled(participant: str, groups: tuple[str, ...], group: str | None) -> set[str]:
    asker = ref.Asker(participant, frozenset(), frozenset(groups))
    return {
        stix_id("incident", i)
        for i, m in SEEDED_INCIDENTS.items()
        if m.sharing_group == group and ref.may_read(WORLD, asker, m.model_dump())
    }


def test_discovery_lists_only_the_collections_of_groups_the_reader_acts_in(served: Served) -> None:
    usa = served.client("USA", groups=("G-AIR", "G-SIGINT"))
    assert usa.title == "Truceline TAXII 2.1"
    root = usa.default
    assert root is not None and root.versions == ["application/taxii+json;version=2.1"]
    titles = sorted(c.title for c in root.collections)
    assert titles == ["Mechanism", "Sharing group G-AIR", "Sharing group G-SIGINT"]
    fra = served.client("FRA", groups=("G-AIR",)).api_roots[0]
    assert [c.title for c in fra.collections] == ["Mechanism"]
    basic = Server(served.url, user="anyone", password=served.mech.token("UKR", groups=("G-AIR",)))
    assert sorted(c.title for c in basic.api_roots[0].collections) == ["Mechanism", "Sharing group G-AIR"]


@pytest.mark.parametrize(
    ("participant", "groups", "group"),
    [("GBR", (), None), ("FRA", (), None), ("UKR", ("G-AIR",), "G-AIR"), ("GBR", ("G-SIGINT",), "G-SIGINT")],
)
def test_objects_and_manifest_hold_exactly_the_visible_incidents_as_valid_stix(
    served: Served, participant: str, groups: tuple[str, ...], group: str | None
) -> None:
    root = served.client(participant, groups=groups).api_roots[0]
    collection = next(c for c in root.collections if c.id == collection_id(group))
    envelope = collection.get_objects()
    objects = envelope["objects"]
    assert {o["id"] for o in objects if o["type"] == "incident"} == entitled(participant, groups, group)
    manifest = collection.get_manifest()
    assert sorted(m["id"] for m in manifest["objects"]) == sorted(o["id"] for o in objects)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = validate_instance(
            {"type": "bundle", "id": stix_id("bundle", "t"), "objects": objects}, ValidationOptions(version="2.1")
        )
    assert result.is_valid


def test_a_group_collection_is_404_to_a_non_member_like_a_missing_one(served: Served) -> None:
    headers = {
        "Authorization": f"Bearer {served.mech.token('FRA', groups=('G-AIR',))}",
        "Accept": "application/taxii+json;version=2.1",
    }
    base = served.url + "api/collections/"
    hidden = requests.get(base + collection_id("G-AIR") + "/objects/", headers=headers, timeout=10)
    missing = requests.get(base + collection_id("G-NOSUCH") + "/objects/", headers=headers, timeout=10)
    assert hidden.status_code == missing.status_code == 404
    assert "G-AIR" not in hidden.text and hidden.text.replace(collection_id("G-AIR"), "X") == missing.text.replace(
        collection_id("G-NOSUCH"), "X"
    )


def test_pages_follow_next_until_every_object_is_read(served: Served) -> None:
    root = served.client("USA").api_roots[0]
    collection = next(c for c in root.collections if c.id == collection_id(None))
    everything = collection.get_objects()["objects"]
    paged = [o for envelope in as_pages(collection.get_objects, per_request=3) for o in envelope.get("objects", [])]
    assert [o["id"] for o in paged] == [o["id"] for o in everything]
    one = collection.get_object(stix_id("incident", "INC-clear"))
    assert [o["id"] for o in one["objects"]] == [stix_id("incident", "INC-clear")]


def test_an_analyst_pushes_its_own_records_and_reads_the_status(served: Served) -> None:
    root = served.client("USA", "analyst").api_roots[0]
    collection = next(c for c in root.collections if c.id == collection_id(None))
    record = incident("USA:INC-9", markings("amber", "USA", "GBR"), "USA")
    document = bundle([("incident", record.model_dump(mode="json"), record.markings)])
    status = collection.add_objects(document, wait_for_completion=False)
    assert (status.status, status.success_count, status.failure_count) == ("complete", 1, 0)
    assert served.mech.store.get_record("incident", "USA:INC-9") is not None
    assert served.mech.get("/v1/incidents/USA:INC-9", "GBR").status_code == 200
    status.refresh()
    assert status.success_count == 1
    other = requests.get(
        f"{served.url}api/status/{status.id}/",
        headers={"Authorization": f"Bearer {served.mech.token('GBR')}"},
        timeout=10,
    )
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("record_id", "originator", "roles"),
    [("USA:INC-10", "GBR", ("analyst",)), ("INC-10", "USA", ("analyst",)), ("USA:INC-10", "USA", ("observer",))],
)
def test_pushes_that_would_write_for_someone_else_or_without_the_role_store_nothing(
    served: Served, record_id: str, originator: str, roles: tuple[str, ...]
) -> None:
    record = incident(record_id, markings("green", originator), originator)
    document = bundle([("incident", record.model_dump(mode="json"), record.markings)])
    headers = {
        "Authorization": f"Bearer {served.mech.token('USA', *roles)}",
        "Accept": "application/taxii+json;version=2.1",
        "Content-Type": "application/taxii+json;version=2.1",
    }
    url = f"{served.url}api/collections/{collection_id(None)}/objects/"
    response = requests.post(url, json=document, headers=headers, timeout=10)
    assert response.status_code == 403
    assert served.mech.store.get_record("incident", record_id) is None


def test_malformed_stix_and_a_wrong_media_type_are_4xx(served: Served) -> None:
    headers = {
        "Authorization": f"Bearer {served.mech.token('USA', 'analyst')}",
        "Accept": "application/taxii+json;version=2.1",
    }
    url = f"{served.url}api/collections/{collection_id(None)}/objects/"
    taxii = {**headers, "Content-Type": "application/taxii+json;version=2.1"}
    assert requests.post(url, data=b"{", headers=taxii, timeout=10).status_code == 422
    assert requests.post(url, json={"objects": [{"id": "x"}]}, headers=taxii, timeout=10).status_code == 422
    assert (
        requests.post(
            url, json={"objects": []}, headers={**headers, "Content-Type": "text/plain"}, timeout=10
        ).status_code
        == 415
    )
    assert requests.get(url, headers={**headers, "Accept": "text/html"}, timeout=10).status_code == 406
    assert requests.get(url, headers={**headers}, params={"added_after": "yesterday"}, timeout=10).status_code == 400
    assert (
        requests.get(url, headers={**headers}, params={"added_after": NOW.isoformat()}, timeout=10).json()["objects"]
        == []
    )
