"""The SQLite store keeps no ledger state between writes, and will not extend a log it cannot vouch for."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import NOW
from tests.unit.store.test_sqlite_durability import build, first_error, prepared
from truceline.model import FixedClock, StoreCorrupt, StoreError, SystemClock
from truceline.store import SQLiteStore


def test_two_store_objects_on_one_file_take_turns_without_colliding(tmp_path: Path) -> None:
    """Each write reads the next sequence number and frontier inside its own transaction."""
    db = tmp_path / "t.db"
    a, b = SQLiteStore(db, clock=FixedClock(NOW)), SQLiteStore(db, clock=FixedClock(NOW))
    try:
        for start in range(0, 60, 10):
            writer = a if start % 20 == 0 else b
            result = writer.add_observations([prepared(i) for i in range(start, start + 10)])
            assert result.seqs == tuple(range(start + 1, start + 11))
        assert a.max_seq() == b.max_seq() == 60
        assert a.verify_ledger().ok
    finally:
        a.close()
        b.close()


def test_a_batch_is_received_when_its_head_is_signed(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    store = SQLiteStore(db, clock=SystemClock())
    try:
        head = store.add_observations([prepared(i) for i in range(5)]).tree_head
        assert head is not None
        stored = store.get_observation("USA", "ac-017", "acoustic_arrival-0000003")
        assert stored is not None
        assert int(stored.received.timestamp() * 1000) == head.timestamp_ms
        assert store.verify_ledger().ok
    finally:
        store.close()


def _frontier(db: Path) -> dict[str, object]:
    with sqlite3.connect(db) as conn:
        (value,) = conn.execute("SELECT value FROM meta WHERE key = 'frontier:observations'").fetchone()
    conn.close()
    state: dict[str, object] = json.loads(value)
    return state


def _set_frontier(db: Path, state: dict[str, object]) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'frontier:observations'", (json.dumps(state),))
    conn.close()


def test_an_altered_frontier_is_named_by_verify_and_no_head_is_signed_over_it(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 40, 10)
    state = _frontier(db)
    assert isinstance(state["hashes"], list)
    state["hashes"][0] = "00" * 32
    _set_frontier(db, state)
    assert first_error(db).startswith("ledger frontier of the observations log (meta frontier:observations): ")
    store = SQLiteStore(db, clock=FixedClock(NOW))
    try:
        with pytest.raises(StoreCorrupt, match="does not rebuild the root of the signed tree head of size 40") as info:
            store.add_observations([prepared(100)])
        assert "nothing was written" in str(info.value) and "ledger verify" in str(info.value)
        assert store.max_seq() == 40 and len(store.tree_heads()) == 4
    finally:
        store.close()


def test_a_frontier_of_the_wrong_size_or_a_missing_row_stops_writes(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 40, 10)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM observations WHERE seq = 40")
    conn.close()
    store = SQLiteStore(db, clock=FixedClock(NOW))
    try:
        with pytest.raises(StoreCorrupt, match="the stored frontier covers 40 records but the log holds 39"):
            store.add_observations([prepared(100)])
    finally:
        store.close()


def test_a_head_signed_by_another_key_stops_writes(tmp_path: Path) -> None:
    from truceline.ledger import LedgerKey, SignedTreeHead

    db = tmp_path / "t.db"
    build(db, 20, 10)
    with sqlite3.connect(db) as conn:
        (body,) = conn.execute("SELECT body FROM tree_heads WHERE tree_size = 20").fetchone()
        head = SignedTreeHead.from_json(body)
        forged = LedgerKey.generate().sign_tree_head(20, bytes.fromhex(head.root_hash), NOW)
        conn.execute("UPDATE tree_heads SET body = ? WHERE tree_size = 20", (forged.to_json(),))
    conn.close()
    store = SQLiteStore(db, clock=FixedClock(NOW))
    try:
        with pytest.raises(StoreCorrupt, match="does not verify with the ledger key"):
            store.add_observations([prepared(100)])
    finally:
        store.close()


def test_a_record_of_an_unknown_type_is_named(tmp_path: Path) -> None:
    from tests.prove.tamper import incident

    db = tmp_path / "t.db"
    store = SQLiteStore(db, clock=FixedClock(NOW))
    try:
        store.put_records([incident("incident--1", 1), incident("incident--2", 2)])
    finally:
        store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE records SET type = 'incidant' WHERE seq = 2")
    conn.close()
    store = SQLiteStore(db, clock=FixedClock(NOW))
    try:
        error = store.verify_ledger().reports["records"].first_error
    finally:
        store.close()
    assert error is not None and error.record == "record #2 (incidant incident--2 v1)"
    assert "no record type this Truceline knows ('incidant')" in error.reason


def test_a_write_on_a_full_database_is_a_store_error_naming_the_batch(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 10, 10)
    store = SQLiteStore(db, clock=FixedClock(NOW))
    try:
        (pages,) = store._conn.execute("PRAGMA page_count").fetchone()
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError) as info:
            store.add_observations([prepared(i) for i in range(100, 2100)])
        assert str(info.value).startswith(f"{db}: disk full while writing a batch of 2,000 observations (from #11) (")
        assert str(info.value).endswith("; nothing half-written (the batch is not stored); free space and run it again")
        assert isinstance(info.value.__cause__, sqlite3.OperationalError)
        assert store.max_seq() == 10 and store.verify_ledger().ok
    finally:
        store.close()


@pytest.mark.parametrize(("level", "idx"), [(4, 12), (3, 0), (8, 0), (4, -1)])
def test_a_ledger_node_the_records_do_not_complete_is_named(tmp_path: Path, level: int, idx: int) -> None:
    """A node planted past the log's end or at a level never kept passed the audit (found by the
    PostgreSQL tamper proof) and then blocked the batch completing it; now verify names it."""
    db = tmp_path / "t.db"
    build(db, 100, 10)  # 100 records: level-4 nodes 0..5 exist, nothing at levels 3 or 8
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO ledger_nodes (log, level, idx, hash) VALUES ('observations', ?, ?, ?)",
            (level, idx, b"\0" * 32),
        )
    assert first_error(db).startswith(f"ledger node (level {level}, index {idx})")
