"""The PostgreSQL store detects tampering and names the record, like the SQLite store."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import NOW, fresh_postgres_database, observation_dict
from truceline.ledger import LedgerKey, leaf_hash
from truceline.model import FixedClock, observation_adapter
from truceline.store import PreparedObservation
from truceline.store.postgres import PostgresStore


def prepared(i: int) -> PreparedObservation:
    body = json.dumps(observation_dict(i), separators=(",", ":")).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)  # type: ignore[arg-type]


@pytest.fixture
def built() -> Iterator[tuple[str, LedgerKey]]:
    key = LedgerKey.generate()
    with fresh_postgres_database() as url:
        store = PostgresStore(url, clock=FixedClock(NOW), key=key)
        for start in range(0, 60, 10):
            store.add_observations([prepared(i) for i in range(start, start + 10)])
        store.close()
        yield url, key


def first_error(url: str, key: LedgerKey) -> str:
    store = PostgresStore(url, key=key)
    try:
        result = store.verify_ledger()
    finally:
        store.close()
    assert not result.ok
    report = result.reports["observations"]
    assert report.first_error is not None
    return str(report.first_error)


def test_a_clean_postgres_store_verifies(built: tuple[str, LedgerKey]) -> None:
    url, key = built
    store = PostgresStore(url, key=key)
    try:
        assert store.verify_ledger().ok
    finally:
        store.close()


def test_a_changed_body_is_named(built: tuple[str, LedgerKey]) -> None:
    url, key = built
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE observations SET body = convert_to(replace(convert_from(body, 'UTF8'), '14.0', '15.0'), 'UTF8') "
            "WHERE seq = 37"
        )
    assert first_error(url, key).startswith("observation #37 (USA/ac-017/acoustic_arrival-0000036)")


def test_a_deleted_record_is_named_as_missing(built: tuple[str, LedgerKey]) -> None:
    url, key = built
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM observations WHERE seq = 21")
    message = first_error(url, key)
    assert message.startswith("observation #21") and "missing" in message


def test_a_consistent_rewrite_is_caught_by_the_signed_heads(built: tuple[str, LedgerKey]) -> None:
    url, key = built
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT body FROM observations WHERE seq = 44").fetchone()
        assert row is not None
        forged = bytes(row[0]).replace(b'"snr_db":14.0', b'"snr_db":19.0')
        conn.execute("UPDATE observations SET body = %s, leaf_hash = %s WHERE seq = 44", (forged, leaf_hash(forged)))
    message = first_error(url, key)
    # Named by the smallest signed range that covers it: a persisted ledger node (#33…#48).
    assert "#33…#48" in message or "#41" in message, message


def test_a_changed_receipt_time_or_sharing_group_is_named(built: tuple[str, LedgerKey]) -> None:
    url, key = built
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE observations SET received = received + 3600 WHERE seq = 25")
    message = first_error(url, key)
    assert message.startswith("observation #25 ") and "differs from the rest of its batch" in message, message
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE observations SET received = received - 3600, sharing_group = 'x' WHERE seq = 25")
    message = first_error(url, key)
    assert message.startswith("observation #25 ") and "sharing group" in message, message


def test_the_latest_head_deleted_is_named_and_stops_writes(built: tuple[str, LedgerKey]) -> None:
    from truceline.model import StoreCorrupt

    url, key = built
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM tree_heads WHERE log = 'observations' AND tree_size = 60")
    message = first_error(url, key)
    assert message.startswith("observation #51 ") and "no signed tree head covers it" in message, message
    store = PostgresStore(url, clock=FixedClock(NOW), key=key)
    try:
        with pytest.raises(StoreCorrupt, match="the observations log is not as its last batch left it"):
            store.add_observations([prepared(100)])
    finally:
        store.close()


def test_an_altered_frontier_is_named_and_no_head_is_signed_over_it(built: tuple[str, LedgerKey]) -> None:
    from truceline.model import StoreCorrupt

    url, key = built
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'frontier:observations'").fetchone()
        assert row is not None
        state = json.loads(row[0])
        state["hashes"][0] = "00" * 32
        conn.execute("UPDATE meta SET value = %s WHERE key = 'frontier:observations'", (json.dumps(state),))
    message = first_error(url, key)
    assert message.startswith("ledger frontier of the observations log"), message
    store = PostgresStore(url, clock=FixedClock(NOW), key=key)
    try:
        with pytest.raises(StoreCorrupt, match="does not rebuild the root of the signed tree head of size 60"):
            store.add_observations([prepared(100)])
        assert store.max_seq() == 60
    finally:
        store.close()
