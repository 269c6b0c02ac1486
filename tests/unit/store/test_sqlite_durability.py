"""The SQLite store keeps its promises across restarts and detects tampering, naming the record."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import NOW, observation_dict
from truceline.ledger import verify_consistency, verify_inclusion
from truceline.model import FixedClock, SchemaVersionError, StoreCorrupt, observation_adapter
from truceline.store import PreparedObservation, SQLiteStore


def prepared(i: int) -> PreparedObservation:
    body = json.dumps(observation_dict(i), separators=(",", ":")).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)  # type: ignore[arg-type]


def build(path: Path, n: int, batch: int) -> None:
    store = SQLiteStore(path, clock=FixedClock(NOW))
    for start in range(0, n, batch):
        store.add_observations([prepared(i) for i in range(start, min(n, start + batch))])
    store.close()


def first_error(path: Path) -> str:
    store = SQLiteStore(path, clock=FixedClock(NOW))
    try:
        result = store.verify_ledger()
    finally:
        store.close()
    assert not result.ok
    if result.integrity_errors:
        return "integrity: " + result.integrity_errors[0]
    report = result.reports["observations"]
    assert report.first_error is not None
    return str(report.first_error)


def test_the_ledger_continues_across_a_restart_with_consistent_heads(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 40, 10)
    store = SQLiteStore(db, clock=FixedClock(NOW))
    old = store.tree_head()
    assert old is not None and old.tree_size == 40
    store.add_observations([prepared(i) for i in range(40, 57)])
    new = store.tree_head()
    assert new is not None and new.tree_size == 57
    proof = store.consistency_proof("observations", 40, 57)
    assert verify_consistency(40, 57, proof, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash))
    stored = store.get_observation("USA", "ac-017", "acoustic_arrival-0000003")
    assert stored is not None
    assert verify_inclusion(
        stored.leaf_hash, 3, 57, store.inclusion_proof("observations", 4), bytes.fromhex(new.root_hash)
    )
    assert store.verify_ledger().ok
    store.close()


def test_resending_after_a_restart_stores_nothing_twice(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 30, 7)
    store = SQLiteStore(db, clock=FixedClock(NOW))
    result = store.add_observations([prepared(i) for i in range(35)])
    assert (result.inserted, result.duplicates) == (5, 30)
    assert store.max_seq() == 35
    store.close()


def test_a_changed_body_is_named(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 200, 50)
    with sqlite3.connect(db) as conn:
        (body,) = conn.execute("SELECT body FROM observations WHERE seq = 137").fetchone()
        conn.execute(
            "UPDATE observations SET body = ? WHERE seq = 137",
            (body.replace(b'"snr_db":14.0', b'"snr_db":15.0'),),
        )
    assert first_error(db).startswith("observation #137 (USA/ac-017/acoustic_arrival-0000136)")


def test_a_flipped_byte_in_the_database_file_is_named(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 200, 50)
    data = bytearray(db.read_bytes())
    marker = b'"key":"acoustic_arrival-0000088"'
    at = data.find(marker)
    assert at > 0 and data.find(marker, at + 1) == -1
    at = data.rfind(b'"snr_db":14.0', 0, at)  # snr_db comes just before the key in the body
    data[at + len(b'"snr_db":1')] ^= 0x01  # 14.0 → 15.0
    db.write_bytes(bytes(data))
    message = first_error(db)
    assert message.startswith("observation #89 (USA/ac-017/acoustic_arrival-0000088)"), message


def test_a_changed_leaf_hash_is_named(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 100, 25)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE observations SET leaf_hash = zeroblob(32) WHERE seq = 42")
    assert first_error(db).startswith("observation #42 ")


def test_a_deleted_record_is_named_as_missing(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 100, 25)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM observations WHERE seq = 61")
    message = first_error(db)
    assert message.startswith("observation #61") and "missing" in message


def test_the_last_record_deleted_is_caught_by_the_signed_head(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 100, 25)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM observations WHERE seq = 100")
    assert not SQLiteStore(db).verify_ledger().ok


def test_a_consistent_rewrite_of_bytes_and_leaf_is_caught_by_the_signed_heads(tmp_path: Path) -> None:
    from truceline.ledger import leaf_hash

    db = tmp_path / "t.db"
    build(db, 60, 1)  # one signed head per record: the head names the exact record
    with sqlite3.connect(db) as conn:
        (body,) = conn.execute("SELECT body FROM observations WHERE seq = 33").fetchone()
        forged = body.replace(b'"snr_db":14.0', b'"snr_db":19.0')
        conn.execute("UPDATE observations SET body = ?, leaf_hash = ? WHERE seq = 33", (forged, leaf_hash(forged)))
    assert "#33" in first_error(db)


def test_a_forged_tree_head_is_caught(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 30, 10)
    with sqlite3.connect(db) as conn:
        (body,) = conn.execute("SELECT body FROM tree_heads WHERE tree_size = 20").fetchone()
        doc = json.loads(body)
        doc["root_hash"] = "00" * 32
        conn.execute("UPDATE tree_heads SET body = ? WHERE tree_size = 20", (json.dumps(doc),))
    assert not SQLiteStore(db).verify_ledger().ok


def test_a_moved_spatial_index_entry_is_named(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 50, 50)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE observations_rtree SET min_lat = 10, max_lat = 11")
    assert "spatial index" in first_error(db)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 1, 1)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(SchemaVersionError, match="newer"):
        SQLiteStore(db)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreCorrupt, match="cannot open"):
        SQLiteStore(db)


def test_the_signing_key_is_kept_outside_the_database_and_private(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build(db, 1, 1)
    key = tmp_path / "t.db.key"
    assert key.exists() and (key.stat().st_mode & 0o077) == 0
