"""Faults during a commit: a full disk and an I/O error leave the store consistent, all or nothing.

Three ways in, none needing root:

* ``PRAGMA max_page_count`` — SQLite's own size limit, so a batch meets SQLITE_FULL mid-write;
* ``RLIMIT_FSIZE`` in a child process — the kernel refuses the write (EFBIG), a real I/O error
  from below SQLite, for the store and for ``truceline ingest``;
* a connection wrapper that fails the k-th statement of a batch, for every k, so each step of
  the commit path (rows, spatial index, ledger nodes, tree head, frontier, COMMIT) is hit.

After each fault: a clear error (a :class:`StoreError` naming the database, the batch and the
cause, and saying whether the batch is in), the batch wholly in or wholly out, ``verify_ledger``
passes, and the next batch (and a restart) continues the sequence and the ledger.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOW, observation_dict
from tests.prove.figures import count_fault
from tests.prove.tamper import incident, prepared
from truceline.model import FixedClock, StoreError
from truceline.store import SQLiteStore, StoreFull

INJECTED = "disk I/O error (injected)"


class FaultyConnection:
    """Passes statements to a real connection, failing the ``fail_at``-th one (1-based).

    With ``after=True`` the statement runs first and the error is raised after it: a commit that
    reached the disk but whose caller never heard so.
    """

    def __init__(self, conn: sqlite3.Connection, fail_at: int, *, after: bool = False) -> None:
        self._conn = conn
        self.fail_at = fail_at
        self.after = after
        self.count = 0
        self.failed_sql = ""

    def _step(self, sql: str) -> bool:
        self.count += 1
        if self.count == self.fail_at:
            self.failed_sql = sql
            return True
        return False

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        hit = self._step(sql)
        if hit and not self.after:
            raise sqlite3.OperationalError(INJECTED)
        cur = self._conn.execute(sql, tuple(params))
        if hit:
            raise sqlite3.OperationalError(INJECTED)
        return cur

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        hit = self._step(sql)
        if hit and not self.after:
            raise sqlite3.OperationalError(INJECTED)
        cur = self._conn.executemany(sql, rows)
        if hit:
            raise sqlite3.OperationalError(INJECTED)
        return cur

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def close(self) -> None:
        self._conn.close()


def _open(db: Path) -> SQLiteStore:
    return SQLiteStore(db, clock=FixedClock(NOW))


def _state(store: SQLiteStore) -> tuple[int, int, int | None, int | None]:
    obs = store.count_observations()
    recs = sum(1 for _ in store.records("incident"))
    oh, rh = store.tree_head("observations"), store.tree_head("records")
    return obs, recs, oh.tree_size if oh else None, rh.tree_size if rh else None


def _seed_store(db: Path) -> None:
    store = _open(db)
    try:
        store.add_observations([prepared(i, "acoustic_arrival") for i in range(10)])
        store.put_records([incident(f"incident--{i}", i) for i in range(3)])
    finally:
        store.close()


def _batch(start: int, n: int) -> list[Any]:
    return [prepared(start + i, "radar_track" if i % 2 else "acoustic_arrival") for i in range(n)]


def _statements_in_a_clean_batch(tmp_path: Path, write: str) -> int:
    db = tmp_path / "count.db"
    _seed_store(db)
    store = _open(db)
    spy = FaultyConnection(store._conn, fail_at=0)
    store._conn = spy  # type: ignore[assignment]
    try:
        _write(store, write, 100)
    finally:
        store.close()
    return spy.count


def _write(store: SQLiteStore, write: str, start: int) -> int:
    if write == "observations":
        return store.add_observations(_batch(start, 12)).inserted
    return len(store.put_records([incident(f"incident--{start + i}", i) for i in range(4)]))


def _each_step(tmp_path: Path, write: str) -> Iterator[int]:
    yield from range(1, _statements_in_a_clean_batch(tmp_path, write) + 1)


@pytest.mark.parametrize("write", ["observations", "records"])
def test_an_io_error_at_any_step_of_a_batch_leaves_it_wholly_out(tmp_path: Path, write: str) -> None:
    steps = list(_each_step(tmp_path, write))
    assert len(steps) >= 5, "the batch must run several statements for this test to mean anything"
    for k in steps:
        db = tmp_path / f"{write}-{k}.db"
        _seed_store(db)
        store = _open(db)
        before = _state(store)
        real = store._conn
        faulty = FaultyConnection(real, fail_at=k)
        store._conn = faulty  # type: ignore[assignment]
        with pytest.raises(StoreError, match="injected") as info:
            _write(store, write, 100)
        store._conn = real
        assert str(info.value).startswith(f"{db}: disk I/O error while writing a batch of ")
        assert "nothing half-written (the batch is not stored)" in str(info.value), str(info.value)
        assert _state(store) == before, f"step {k} ({faulty.failed_sql[:40]}): the batch is partly in"
        assert not real.in_transaction
        verified = store.verify_ledger().ok
        count_fault("sqlite", clean_error=True, verified=verified)
        assert verified, f"step {k}"
        # The same batch again goes in whole, continuing the sequence and the ledger.
        assert _write(store, write, 100) > 0
        assert store.verify_ledger().ok, f"step {k}: after the retry"
        after = _state(store)
        store.close()
        reopened = _open(db)
        try:
            assert _state(reopened) == after
            assert reopened.verify_ledger().ok
        finally:
            reopened.close()


@pytest.mark.parametrize("write", ["observations", "records"])
def test_an_error_reported_after_the_commit_reached_the_disk_keeps_the_store_in_step(
    tmp_path: Path, write: str
) -> None:
    last = _statements_in_a_clean_batch(tmp_path, write)  # the COMMIT is the last statement
    db = tmp_path / "late.db"
    _seed_store(db)
    store = _open(db)
    real = store._conn
    store._conn = FaultyConnection(real, fail_at=last, after=True)  # type: ignore[assignment]
    with pytest.raises(StoreError, match="reported after the batch was committed: it is stored whole"):
        _write(store, write, 100)
    store._conn = real
    try:
        count_fault("sqlite", clean_error=True, verified=store.verify_ledger().ok)
        # The store holds no ledger state between writes: the next batch continues the file.
        _write(store, write, 200)
        assert store.verify_ledger().ok
        if write == "observations":
            assert store.count_observations() == 10 + 12 + 12
            assert store.max_seq() == 34
        else:
            assert sum(1 for _ in store.records("incident")) == 3 + 4 + 4
        # A re-send of the batch whose commit was reported as failed stores nothing twice.
        if write == "observations":
            assert store.add_observations(_batch(100, 12)).duplicates == 12
    finally:
        store.close()


@pytest.mark.parametrize("write", ["observations", "records"])
def test_a_full_database_refuses_the_batch_whole_and_takes_it_when_there_is_room(tmp_path: Path, write: str) -> None:
    db = tmp_path / "full.db"
    _seed_store(db)
    store = _open(db)
    try:
        before = _state(store)
        (pages,) = store._conn.execute("PRAGMA page_count").fetchone()
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreFull, match=r"disk full while writing a batch of .*nothing half-written"):
            if write == "observations":
                store.add_observations(_batch(100, 3000))
            else:
                store.put_records([incident(f"incident--{100 + i}", i) for i in range(2000)])
        assert _state(store) == before
        verified = store.verify_ledger().ok
        count_fault("sqlite", clean_error=True, verified=verified)
        assert verified
        store._conn.execute("PRAGMA max_page_count = 1073741823")
        if write == "observations":
            assert store.add_observations(_batch(100, 3000)).inserted == 3000
            assert store.max_seq() == 3010
        else:
            assert len(store.put_records([incident(f"incident--{100 + i}", i) for i in range(2000)])) == 2000
        assert store.verify_ledger().ok
    finally:
        store.close()


_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    sys.path.insert(0, {root!r})
    from tests.prove.tamper import prepared
    from truceline.store import SQLiteStore
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    store = SQLiteStore({db!r})
    resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
    acked, error = 0, None
    try:
        for b in range(1000):
            result = store.add_observations([prepared(10 + b * 50 + i, "radar_track") for i in range(50)])
            acked += result.inserted
    except Exception as exc:
        error = f"{{type(exc).__module__}}.{{type(exc).__name__}}: {{exc}}"
    print(json.dumps({{"acked": acked, "error": error}}))
    """
)


def test_the_kernel_refusing_a_write_is_a_clean_error_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "fsize.db"
    _seed_store(db)
    size = db.stat().st_size
    root = str(Path(__file__).resolve().parents[2])
    code = _CHILD.format(root=root, db=str(db), limit=size + 256 * 1024)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["error"] is not None, "the size limit was never reached"
    assert out["error"].startswith("truceline.model.errors.StoreError: "), out["error"]
    assert "disk full while writing" in out["error"] or "disk I/O error while writing" in out["error"], out["error"]
    store = _open(db)
    try:
        assert store.count_observations() == 10 + out["acked"], "acknowledged batches lost, or a partial batch in"
        verified = store.verify_ledger().ok
        count_fault("sqlite", clean_error=True, verified=verified)
        assert verified
        store.add_observations(_batch(100_000, 5))
        assert store.verify_ledger().ok
    finally:
        store.close()


def test_ingest_on_a_full_disk_prints_one_clean_line(tmp_path: Path) -> None:
    data = tmp_path / "big.ndjson"
    with data.open("w") as f:
        for i in range(3000):
            f.write(json.dumps(observation_dict(i)) + "\n")
    db = tmp_path / "ingest.db"
    _seed_store(db)
    limit = db.stat().st_size + 256 * 1024
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "from truceline.cli import main; sys.argv = ['truceline'] + sys.argv[1:]; main()"
    )
    cmd = [sys.executable, "-c", code, "ingest", str(data), "--db", str(db), "--quiet", "--future-tolerance", "1e9"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, (done.returncode, done.stderr[-1500:])
    assert "Traceback" not in done.stderr, done.stderr[-1500:]
    message = " ".join(done.stderr.split())
    # The kernel's EFBIG reaches SQLite as an I/O error (ENOSPC would be SQLITE_FULL: "disk full").
    expected = rf"error: {re.escape(str(db))}: disk I/O error while writing a batch of [\d,]+ observations"
    assert re.search(expected, message), message
    assert "nothing half-written (the batch is not stored)" in message and "free space" in message, message
    store = _open(db)
    try:
        verified = store.verify_ledger().ok
        count_fault("sqlite", clean_error=True, verified=verified)
        assert verified
    finally:
        store.close()
