"""The API over the real stores: the embedded SQLite file and PostgreSQL + PostGIS on loopback.

The same requests must give the same answers whichever store is behind the app.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_database, observation_dict
from tests.unit.server.conftest import NOW, Mechanism
from truceline.interop.taxii import collection_id
from truceline.ledger import LedgerKey
from truceline.model import FixedClock
from truceline.store import SQLiteStore, Store
from truceline.store.postgres import PostgresStore


@pytest.fixture
def sqlite_mech(tmp_path: Path) -> Iterator[Mechanism]:
    store = SQLiteStore(tmp_path / "t.db", clock=FixedClock(NOW))
    yield Mechanism(store=store)
    store.close()


@pytest.fixture
def postgres_mech() -> Iterator[Mechanism]:
    with fresh_postgres_database() as url:
        store: Store = PostgresStore(url, clock=FixedClock(NOW), key=LedgerKey.generate())
        yield Mechanism(store=store)
        store.close()


def answers(mech: Mechanism) -> dict[str, object]:
    body = "\n".join(json.dumps(observation_dict(i)) for i in range(5))
    headers = {**mech.headers("USA", "analyst"), "content-type": "application/x-ndjson"}
    stored = mech.client.post("/v1/observations", content=body, headers=headers).json()
    again = mech.client.post("/v1/observations", content=body, headers=headers).json()
    bad = observation_dict(9)
    bad["markings"]["tlp"] = "purple"
    refused = mech.client.post("/v1/observations", content=body + "\n" + json.dumps(bad), headers=headers)
    return {
        "stored": stored,
        "again": again,
        "refused": (refused.status_code, refused.json()),
        "count_after_refusal": mech.store.count_observations(),
        "gbr_observations": [o["key"] for o in mech.get("/v1/observations", "GBR").json()["items"]],
        "fra_observations": mech.get("/v1/observations", "FRA").json()["items"],
        "gbr_incidents": sorted(i["id"] for i in mech.get("/v1/incidents", "GBR").json()["items"]),
        "hidden": mech.get("/v1/incidents/INC-red-to-fra", "GBR").json(),
        "taxii": sorted(
            o["id"]
            for o in mech.client.get(
                f"/taxii2/api/collections/{collection_id(None)}/objects/",
                headers=mech.headers("GBR"),
            ).json()["objects"]
        ),
    }


def test_the_api_answers_alike_over_sqlite_and_postgres(sqlite_mech: Mechanism, postgres_mech: Mechanism) -> None:
    got = answers(sqlite_mech)
    assert got["stored"] == {"received": 5, "stored": 5, "duplicates": 0, "conflicts": []}
    assert got["again"] == {"received": 5, "stored": 0, "duplicates": 5, "conflicts": []}
    assert got["refused"][0] == 422  # type: ignore[index]
    assert got["count_after_refusal"] == 5  # the refused batch stored nothing
    assert got["gbr_observations"] == [f"acoustic_arrival-{i:07d}" for i in range(5)]
    assert got["fra_observations"] == []
    assert got["gbr_incidents"] and got["taxii"]
    assert answers(postgres_mech) == got
