"""Values reach SQL only as bound parameters: SQL metacharacters in reports are stored as data.

Identifiers (sources, idempotency keys) may hold any printable character, quotes and semicolons
included. Each persistent store must store such a report, find it by its identity and by a
filter on the same values, and leave every table (and the ledger) as it was meant to be.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import NOW, fresh_postgres_database, observation_dict
from truceline.ledger import LedgerKey
from truceline.model import FixedClock, observation_adapter
from truceline.store import ObservationQuery, PreparedObservation, SQLiteStore, Store
from truceline.store.postgres import PostgresStore

HOSTILE = (
    "x'); DROP TABLE observations; --",
    "x\" OR \"1\"=\"1",
    "%s %(name)s ? :name $1",
    "a\\'; DELETE FROM tree_heads WHERE '1'='1",
)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "postgres":
        with fresh_postgres_database() as url:
            pg = PostgresStore(url, clock=FixedClock(NOW), key=LedgerKey.generate())
            try:
                yield pg
            finally:
                pg.close()
        return
    lite = SQLiteStore(tmp_path / "t.db", clock=FixedClock(NOW))
    try:
        yield lite
    finally:
        lite.close()


def _report(i: int, text: str) -> PreparedObservation:
    doc = observation_dict(i)
    doc["source"] = text
    doc["key"] = text
    body = json.dumps(doc, separators=(",", ":")).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)


def test_sql_metacharacters_in_identifiers_are_stored_and_found_as_data(store: Store) -> None:
    result = store.add_observations([_report(i, text) for i, text in enumerate(HOSTILE)])
    assert result.inserted == len(HOSTILE)
    for text in HOSTILE:
        found = store.get_observation("USA", text, text)
        assert found is not None and found.observation.key == text
    assert store.get_observation("USA", "x' OR '1'='1", "x' OR '1'='1") is None
    assert store.count_observations(ObservationQuery(participants=("USA' OR '1'='1",))) == 0
    assert store.count_observations(ObservationQuery(kinds=("acoustic_arrival') OR ('1'='1",))) == 0
    assert store.count_observations() == len(HOSTILE)
    assert store.add_observations([_report(i, text) for i, text in enumerate(HOSTILE)]).duplicates == len(HOSTILE)
    assert store.verify_ledger().ok
