"""Pushing to a peer's TAXII server — the OASIS reference server ``medallion`` on loopback — sends
exactly what the peer may receive, with fields cut to what the export allows."""

from __future__ import annotations

import json
import threading
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import medallion
    from taxii2client.v21 import Collection
    from werkzeug.serving import make_server

from tests.unit.policy import reference as ref
from tests.unit.server.conftest import CONTEXT, SEEDED_INCIDENTS, Mechanism
from truceline.interop.stix import read_bundle, stix_id
from truceline.interop.taxii import push_to_peer
from truceline.policy import Principal

WORLD = ref.World(frozenset(CONTEXT.participants), {g.id: frozenset(g.members) for g in CONTEXT.sharing_groups})
INBOX = str(uuid.UUID("c1c1c1c1-0000-4000-8000-000000000001"))


@pytest.fixture(scope="module")
def medallion_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """medallion (memory backend) on a free loopback port; user 'gbr', password 'secret'."""
    folder: Path = tmp_path_factory.mktemp("medallion")
    server: Any = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = make_server("127.0.0.1", 0, medallion.application_instance, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    data = {
        "/discovery": {"title": "GBR peer", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
        "api1": {
            "information": {
                "title": "GBR",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 10_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": INBOX,
                    "title": "inbox",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (folder / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(folder / "data.json"),
        },
        "users": {"gbr": "secret"},
        "taxii": {"max_page_size": 1000},
    }
    (folder / "config.json").write_text(json.dumps(config))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        medallion.load_app(str(folder / "config.json"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=10)


def inbox(base: str) -> Collection:
    return Collection(f"{base}/api1/collections/{INBOX}/", user="gbr", password="secret")


def test_usa_pushes_to_gbr_only_what_gbr_may_receive(medallion_url: str) -> None:
    mech = Mechanism()
    usa = Principal(participant="USA", roles=("analyst",), sharing_groups=("G-AIR", "G-SIGINT"))
    collection = inbox(medallion_url)
    pushed: list[str] = []
    for group in (None, "G-AIR", "G-SIGINT"):
        report = push_to_peer(
            mech.store, mech.app.state.policy, usa, "GBR", collection, group=group, with_extension_definition=False
        )
        if report.status is not None:
            # medallion refuses only what it already holds: the shared identities and marking definitions.
            assert {f["id"] for f in report.status.failures} <= set(pushed)
            pushed += [s["id"] for s in report.status.successes]
    asker = ref.Asker("USA", frozenset(), frozenset(("G-AIR", "G-SIGINT")))
    expected = {
        stix_id("incident", i) for i, m in SEEDED_INCIDENTS.items() if ref.may_send(WORLD, asker, m.model_dump(), "GBR")
    }
    received = collection.get_objects()["objects"]
    assert {o["id"] for o in received if o["type"] == "incident"} == expected
    assert stix_id("incident", "INC-strict-to-ukr") not in pushed  # AMBER+STRICT never leaves USA's server
    assert stix_id("incident", "INC-air-green") in expected  # GBR is in G-AIR
    # What arrived reads back into the same records.
    records = read_bundle({"type": "bundle", "objects": received}).records
    ids = {r.id for r in records if type(r).__name__ == "Incident"}  # type: ignore[attr-defined]
    assert {stix_id("incident", i) for i in ids} == expected


def test_nothing_goes_to_a_peer_outside_the_group(medallion_url: str) -> None:
    mech = Mechanism()
    gbr = Principal(participant="GBR", roles=("analyst",), sharing_groups=("G-SIGINT",))
    report = push_to_peer(mech.store, mech.app.state.policy, gbr, "FRA", inbox(medallion_url), group="G-SIGINT")
    assert (report.records, report.status) == (0, None)
