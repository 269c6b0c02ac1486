"""Two workers on a real NATS JetStream and a real PostgreSQL: one is killed mid-stream and
restarted, and every report is stored exactly once with a ledger that verifies."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import PARTICIPANTS, fresh_postgres_database, observation_dict
from truceline.ingest import ContextChecks
from truceline.ingest.bus import publish_lines
from truceline.ledger import LedgerKey
from truceline.store.postgres import PostgresStore

N_REPORTS = 10_000
NATS_SERVER = Path(sys.executable).parent / "nats-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    """A JetStream server on loopback that fsyncs every message (sync_interval: always)."""
    port = _free_port()
    conf = tmp_path / "nats.conf"
    conf.write_text(
        f'listen: 127.0.0.1:{port}\njetstream {{ store_dir: "{tmp_path / "js"}", sync_interval: always }}\n'
    )
    with subprocess.Popen(
        [str(NATS_SERVER), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as p:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        try:
            yield f"nats://127.0.0.1:{port}"
        finally:
            p.terminate()
            p.wait(timeout=10)


def _worker(database: str, nats: str, key: Path, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "truceline", "worker", "--database", database, "--nats", nats,
           "--batch", "50", "--idle-exit", "2", "--ack-wait", "3", "--future-tolerance", "1e9"]  # fmt: skip
    env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(key)}
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


def _wait_until_storing(database: str) -> None:
    import psycopg

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(database) as conn:
                row = conn.execute("SELECT count(*) FROM observations").fetchone()
                if row is not None and row[0] >= 500:
                    return
        except psycopg.Error:
            pass  # the first worker is still creating the schema
        time.sleep(0.1)
    raise AssertionError("the workers stored nothing within a minute")


def test_two_workers_and_a_killed_one_store_every_report_exactly_once(nats_url: str, tmp_path: Path) -> None:
    lines = [("day.ndjson", i + 1, json.dumps(observation_dict(i)).encode()) for i in range(N_REPORTS)]
    checks = ContextChecks(PARTICIPANTS, datetime.now(UTC))
    report = publish_lines(lines, nats_url, checks, lambda lon, lat: "CL-05")
    assert report.published == N_REPORTS and report.rejected == 0
    # Re-publishing within the duplicate window is trimmed by JetStream already.
    again = publish_lines(lines[:100], nats_url, checks, lambda lon, lat: "CL-05")
    assert again.published == 100
    key = tmp_path / "ledger.key"
    LedgerKey.load_or_create(key)
    with fresh_postgres_database() as database:
        logs = [tmp_path / f"worker{i}.log" for i in range(3)]
        first, second = _worker(database, nats_url, key, logs[0]), _worker(database, nats_url, key, logs[1])
        _wait_until_storing(database)
        assert first.poll() is None, "the first worker finished before it could be killed"
        first.send_signal(signal.SIGKILL)  # mid-stream: its unacknowledged messages go to others
        first.wait(timeout=30)
        third = _worker(database, nats_url, key, logs[2])
        for proc, log in ((second, logs[1]), (third, logs[2])):
            assert proc.wait(timeout=180) == 0, log.read_text()
        store = PostgresStore(database, key=LedgerKey.load_or_create(key))
        try:
            assert store.count_observations() == N_REPORTS
            keys = [s.observation.key for s in store.observations()]
            assert len(set(keys)) == N_REPORTS
            verification = store.verify_ledger()
            assert verification.ok, {k: str(r.first_error) for k, r in verification.reports.items()}
        finally:
            store.close()
