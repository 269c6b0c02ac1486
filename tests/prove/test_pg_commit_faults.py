"""Faults during a commit on the PostgreSQL store: a clear error, the batch all or nothing, the ledger intact.

The SQLite store's proof (test_commit_faults.py) done again on a real PostgreSQL + PostGIS:

* **injected through PostgreSQL itself** — a trigger on each table a batch writes (the rows, the
  ledger nodes, the tree heads, the frontier) raises ``disk_full`` (SQLSTATE 53100) or
  ``io_error`` (58030) mid-batch, and a deferred constraint trigger raises them *at COMMIT*;
* **the connection lost** at COMMIT (the server ends the session from a deferred trigger), and an
  error reported *after* the commit reached the database (a lost answer);
* **a real full disk** — when the tests run as root beside the server (as in CI), the observations
  table is moved into a tablespace on a 1 MiB tmpfs, so PostgreSQL's own write fails with
  "could not extend file … No space left on device"; for the store and for ``truceline ingest``.

After each fault: a :class:`StoreFull` (full disk) or :class:`StoreError` naming the database, the
batch and the cause and saying what to do, never a psycopg traceback; the store unchanged; the
ledger audit passes (in process and ``truceline ledger verify``); the same batch then goes in
whole, and a reopened store sees the same state.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOW, POSTGRES_ADMIN_URL, fresh_postgres_database, observation_dict
from tests.prove.figures import count_fault
from tests.prove.tamper import incident, prepared
from truceline.ledger import LedgerKey
from truceline.model import FixedClock, StoreError
from truceline.store import StoreFull
from truceline.store.postgres import PostgresStore, _redact

psycopg = pytest.importorskip("psycopg")

FAULTS = {
    "disk_full": ("53100", StoreFull, "disk full while writing"),
    "io_error": ("58030", StoreError, "disk I/O error while writing"),
}
OBSERVATION_STEPS = ("observations", "ledger_nodes", "tree_heads", "meta", "COMMIT")
RECORD_STEPS = ("records", "ledger_nodes", "tree_heads", "meta", "COMMIT")

_FAULT_FUNCTION = """
CREATE OR REPLACE FUNCTION truceline_test_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_ARGV[0] = 'terminate' THEN
        PERFORM pg_terminate_backend(pg_backend_pid());
        PERFORM pg_sleep(5);  -- the termination arrives here: the session ends mid-commit
    END IF;
    RAISE EXCEPTION USING ERRCODE = TG_ARGV[0], MESSAGE = TG_ARGV[1];
END $$
"""


def _key(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.key"
    LedgerKey.load_or_create(path)
    return path


def _open(url: str, key: Path) -> PostgresStore:
    return PostgresStore(url, clock=FixedClock(NOW), key_path=key)


def _state(store: PostgresStore) -> tuple[int, int, int | None, int | None]:
    obs = store.count_observations()
    recs = sum(1 for _ in store.records("incident"))
    oh, rh = store.tree_head("observations"), store.tree_head("records")
    return obs, recs, oh.tree_size if oh else None, rh.tree_size if rh else None


def _seed(store: PostgresStore) -> None:
    store.add_observations([prepared(i, "acoustic_arrival") for i in range(10)])
    store.put_records([incident(f"incident--{i}", i) for i in range(3)])


def _batch(start: int, n: int) -> list[Any]:
    return [prepared(start + i, "radar_track" if i % 2 else "acoustic_arrival") for i in range(n)]


def _write(store: PostgresStore, write: str, start: int) -> int:
    if write == "observations":
        return store.add_observations(_batch(start, 12)).inserted
    return len(store.put_records([incident(f"incident--{start + i}", i) for i in range(8)]))


def _admin(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _install_fault(url: str, step: str, sqlstate: str, message: str) -> None:
    _admin(url, _FAULT_FUNCTION)
    args = f"'{sqlstate}', '{message}'"
    if step == "COMMIT":
        # Deferred to the end of the transaction: it fires inside COMMIT, after every row is written.
        sql = (
            "CREATE CONSTRAINT TRIGGER truceline_test_fault AFTER INSERT OR UPDATE ON meta "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION truceline_test_fault({args})"
        )
    else:
        sql = (
            f"CREATE TRIGGER truceline_test_fault AFTER INSERT OR UPDATE ON {step} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION truceline_test_fault({args})"
        )
    _admin(url, sql)


def _remove_fault(url: str, step: str) -> None:
    _admin(url, f"DROP TRIGGER IF EXISTS truceline_test_fault ON {'meta' if step == 'COMMIT' else step}")


def _cli_verify(url: str, key: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(key)}
    cmd = [sys.executable, "-m", "truceline", "ledger", "verify", "--db", url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("write", ["observations", "records"])
def test_a_fault_at_any_step_of_a_batch_is_a_clean_error_and_leaves_it_wholly_out(
    pg_url: str, tmp_path: Path, write: str, fault: str
) -> None:
    sqlstate, error, cause = FAULTS[fault]
    key = _key(tmp_path)
    store = _open(pg_url, key)
    try:
        _seed(store)
        for n, step in enumerate(OBSERVATION_STEPS if write == "observations" else RECORD_STEPS, start=1):
            before = _state(store)
            _install_fault(pg_url, step, sqlstate, f"injected {fault} at {step}")
            try:
                with pytest.raises(error) as info:
                    _write(store, write, 1000 * n)
                    pytest.fail(f"{step}: no fault raised")
            finally:
                _remove_fault(pg_url, step)
            text = str(info.value)
            clean = (
                text.startswith(f"{_redact(pg_url)}: {cause} a batch of ")
                and f"injected {fault} at {step}" in text
                and "nothing half-written (the batch is not stored)" in text
                and ("free space" in text)
                and "Traceback" not in text
                and "\n" not in text
            )
            assert clean, f"{step}: {text}"
            assert _state(store) == before, f"{step}: the batch is partly in"
            verified = store.verify_ledger().ok
            count_fault("postgresql", clean_error=clean, verified=verified)
            assert verified, f"{step}: the ledger no longer verifies"
            # The same batch again goes in whole, continuing the sequence and the ledger.
            assert _write(store, write, 1000 * n) > 0
            assert store.verify_ledger().ok, f"{step}: after the retry"
        after = _state(store)
    finally:
        store.close()
    reopened = _open(pg_url, key)
    try:
        assert _state(reopened) == after
        assert reopened.verify_ledger().ok
    finally:
        reopened.close()
    done = _cli_verify(pg_url, key)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("write", ["observations", "records"])
def test_the_connection_lost_at_commit_is_a_clean_error_and_the_store_reconnects(
    pg_url: str, tmp_path: Path, write: str
) -> None:
    key = _key(tmp_path)
    store = _open(pg_url, key)
    try:
        _seed(store)
        before = _state(store)
        _install_fault(pg_url, "COMMIT", "terminate", "unused")
        try:
            with pytest.raises(StoreError) as info:
                _write(store, write, 100)
        finally:
            _remove_fault(pg_url, "COMMIT")
        text = str(info.value)
        lost = f"{_redact(pg_url)}: the connection to the database was lost while writing a batch of "
        clean = text.startswith(lost) and "nothing half-written (the batch is not stored)" in text and "\n" not in text
        assert clean, text
        assert _state(store) == before  # read on a new connection: the broken one is replaced
        verified = store.verify_ledger().ok
        count_fault("postgresql", clean_error=clean, verified=verified)
        assert verified
        assert _write(store, write, 100) > 0
        assert store.verify_ledger().ok
    finally:
        store.close()


class _AnswerLostAfterCommit:
    """The owner's connection, except that the outermost transaction's COMMIT succeeds and the
    caller then hears a broken connection (the answer lost on the way back)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._depth = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        self._depth += 1
        try:
            with self._conn.transaction() as tx:
                yield tx
        finally:
            self._depth -= 1
        if self._depth == 0:
            raise psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")


@pytest.mark.parametrize("write", ["observations", "records"])
def test_an_error_reported_after_the_commit_keeps_the_store_in_step(pg_url: str, tmp_path: Path, write: str) -> None:
    key = _key(tmp_path)
    store = _open(pg_url, key)
    try:
        _seed(store)
        real = store._conn
        store._conn = _AnswerLostAfterCommit(real)
        try:
            with pytest.raises(StoreError, match="reported after the batch was committed: it is stored whole"):
                _write(store, write, 100)
        finally:
            store._conn = real
        count_fault("postgresql", clean_error=True, verified=store.verify_ledger().ok)
        _write(store, write, 200)  # the store holds no ledger state between writes
        assert store.verify_ledger().ok
        if write == "observations":
            assert store.count_observations() == 10 + 12 + 12
            assert store.max_seq() == 34
            assert store.add_observations(_batch(100, 12)).duplicates == 12  # the re-send stores nothing twice
        else:
            assert sum(1 for _ in store.records("incident")) == 3 + 8 + 8
    finally:
        store.close()


# --- a real full disk: a tablespace on a 1 MiB tmpfs -----------------------------------------------


def _why_no_tiny_disk() -> str | None:
    host = re.search(r"@([^:/]+)", POSTGRES_ADMIN_URL)
    if host is None or host.group(1) not in ("127.0.0.1", "localhost", "::1"):
        return "the PostgreSQL server is not on this machine"
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres system user to own the tablespace"
    return None


@contextmanager
def _tiny_tablespace(root: Path = Path(tempfile.gettempdir()), size: str = "1m") -> Iterator[str]:
    """A tablespace on a tmpfs of ``size``, owned by the server's user; dropped and unmounted after."""
    why = _why_no_tiny_disk()
    if why:
        pytest.skip(f"no tiny disk for a real full-disk test: {why} (the injected faults above still ran)")
    user = pwd.getpwnam("postgres")
    # Not under pytest's tmp_path: the server's user must be able to reach the mount point.
    mount = Path(tempfile.mkdtemp(prefix="truceline-tiny-", dir=root))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700,uid={user.pw_uid},gid={user.pw_gid}", "tmpfs", mount],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): the injected faults above still ran")
    name = f"truceline_tiny_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"CREATE TABLESPACE {name} LOCATION '{mount}'")
        try:
            yield name
        finally:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"DROP TABLESPACE IF EXISTS {name}")
    finally:
        subprocess.run(["umount", mount], capture_output=True, timeout=60, check=False)
        with contextlib.suppress(OSError):
            mount.rmdir()


def _fill_line(url: str, table: str, tablespace: str) -> None:
    _admin(url, f"ALTER TABLE {table} SET TABLESPACE {tablespace}")


@pytest.mark.parametrize("write", ["observations", "records"])
def test_a_real_full_disk_refuses_the_batch_whole_and_takes_it_when_there_is_room(tmp_path: Path, write: str) -> None:
    with _tiny_tablespace() as tablespace, fresh_postgres_database() as url:
        key = _key(tmp_path)
        store = _open(url, key)
        try:
            _seed(store)
            before = _state(store)
            _fill_line(url, write, tablespace)  # the table now lives on the 1 MiB disk
            big: Callable[[], int]
            if write == "observations":

                def big() -> int:
                    return store.add_observations(_batch(100, 3000)).inserted

            else:

                def big() -> int:
                    return len(store.put_records([incident(f"incident--{100 + i}", i) for i in range(5000)]))

            with pytest.raises(StoreFull) as info:
                big()
            text = str(info.value)
            clean = (
                text.startswith(f"{_redact(url)}: disk full while writing a batch of ")
                and "No space left on device" in text
                and "nothing half-written (the batch is not stored); free space on the database server" in text
                and "\n" not in text
            )
            assert clean, text
            assert _state(store) == before
            verified = store.verify_ledger().ok
            count_fault("postgresql", clean_error=clean, verified=verified)
            assert verified
            done = _cli_verify(url, key)
            assert done.returncode == 0, done.stdout + done.stderr
            _fill_line(url, write, "pg_default")  # room again
            assert big() == (3000 if write == "observations" else 5000)
            assert store.verify_ledger().ok
        finally:
            store.close()


def test_ingest_into_postgresql_on_a_full_disk_prints_one_clean_line_and_loses_nothing_acknowledged(
    tmp_path: Path,
) -> None:
    data = tmp_path / "big.ndjson"
    with data.open("w") as f:
        for i in range(6000):
            f.write(json.dumps(observation_dict(i)) + "\n")
    with _tiny_tablespace() as tablespace, fresh_postgres_database() as url:
        key = _key(tmp_path)
        _open(url, key).close()  # the schema, in the default tablespace
        _fill_line(url, "observations", tablespace)
        ack = tmp_path / "ack.tsv"
        env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(key)}
        cmd = [sys.executable, "-m", "truceline", "ingest", str(data), "--db", url, "--quiet"]
        cmd += ["--future-tolerance", "1e9", "--batch-size", "500", "--ack-file", str(ack), "--workers", "0"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 1, (done.returncode, done.stderr[-1500:])
        assert "Traceback" not in done.stderr and "psycopg" not in done.stderr, done.stderr[-1500:]
        message = " ".join(done.stderr.split())
        expected = rf"error: {re.escape(_redact(url))}: disk full while writing a batch of [\d,]+ observations"
        assert re.search(expected, message), message
        assert "nothing half-written (the batch is not stored)" in message, message
        acked = [ln for ln in ack.read_text().splitlines() if ln.strip()] if ack.exists() else []
        acknowledged = max((int(ln.split("\t")[1]) for ln in acked), default=0)
        store = _open(url, key)
        try:
            # Every acknowledged record is in, and no batch is half in.
            assert acknowledged > 0, "the disk filled before the first batch: make the tmpfs larger"
            assert store.count_observations() == acknowledged
            verified = store.verify_ledger().ok
            count_fault("postgresql", clean_error=True, verified=verified)
            assert verified
        finally:
            store.close()
        verify = _cli_verify(url, key)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        with contextlib.suppress(Exception):
            _fill_line(url, "observations", "pg_default")
