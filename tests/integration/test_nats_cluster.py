"""Beyond one machine, for real: a three-node JetStream cluster on loopback, a stream replicated three
times, two workers writing to PostgreSQL, and one NATS node killed mid-stream.

Every report whose publication JetStream acknowledged must be stored exactly once, and the
ledger must verify. The workers are each given one node's URL and find the others through the
cluster's gossip (nats-py reconnects to discovered servers), so killing the node a worker is
connected to exercises client fail-over as well as the stream's RAFT fail-over.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PARTICIPANTS, fresh_postgres_database, observation_dict
from truceline.ingest import ContextChecks
from truceline.ingest.bus import DEFAULT_PREFIX, DEFAULT_STREAM, ensure_stream, publish_lines
from truceline.ledger import LedgerKey
from truceline.store.postgres import PostgresStore

N_REPORTS = 6_000
NATS_SERVER = Path(sys.executable).parent / "nats-server"


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Node:
    name: str
    url: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[Node]]:
    """Three nats-server processes with routes to each other; JetStream fsyncs every message."""
    client_ports, route_ports = _free_ports(3), _free_ports(3)
    nodes: list[Node] = []
    try:
        for i in range(3):
            routes = ", ".join(f"nats-route://127.0.0.1:{p}" for j, p in enumerate(route_ports) if j != i)
            conf = tmp_path / f"n{i}.conf"
            conf.write_text(
                f"server_name: n{i}\nlisten: 127.0.0.1:{client_ports[i]}\n"
                f'jetstream {{ store_dir: "{tmp_path / f"js{i}"}", sync_interval: always }}\n'
                f"cluster {{ name: truceline, listen: 127.0.0.1:{route_ports[i]}, routes: [{routes}] }}\n"
            )
            with (tmp_path / f"n{i}.log").open("wb") as log:
                process = subprocess.Popen([str(NATS_SERVER), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
            nodes.append(Node(f"n{i}", f"nats://127.0.0.1:{client_ports[i]}", process))
        yield nodes
    finally:
        for node in nodes:
            if node.process.poll() is None:
                node.process.terminate()
                node.process.wait(timeout=10)


async def _create_replicated_stream(urls: list[str]) -> str:
    """Create the stream with three replicas once the cluster has a JetStream leader; its leader's name."""
    import nats

    deadline = time.monotonic() + 60
    while True:
        try:
            nc = await nats.connect(urls, connect_timeout=2, max_reconnect_attempts=2)
            try:
                js = nc.jetstream(timeout=5)
                await ensure_stream(js, DEFAULT_STREAM, DEFAULT_PREFIX, replicas=3)
                info = await js.stream_info(DEFAULT_STREAM)
                if info.cluster is not None and info.cluster.leader:
                    assert info.config.num_replicas == 3
                    return str(info.cluster.leader)
            finally:
                await nc.close()
        except Exception:  # the cluster is still forming: no meta leader yet
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.5)


async def _stream_state(urls: list[str]) -> Any:
    import nats

    nc = await nats.connect(urls, connect_timeout=2)
    try:
        return await nc.jetstream(timeout=10).stream_info(DEFAULT_STREAM)
    finally:
        await nc.close()


# Idle exit well beyond a leader election plus the re-publication of the second half, so that
# workers are still there when it arrives (they leave only when the stream is drained).
def _worker(database: str, nats: str, key: Path, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "truceline", "worker", "--database", database, "--nats", nats,
           "--batch", "50", "--idle-exit", "10", "--ack-wait", "3", "--future-tolerance", "1e9"]  # fmt: skip
    env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(key)}
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


MAX_RESTARTS = 5


def _supervise(workers: list[subprocess.Popen[bytes]], database: str, url: str, key: Path, tmp_path: Path) -> int:
    """Keep two workers running until every report is stored, as a supervisor (systemd
    ``Restart=always``) keeps a deployment's workers; returns the number of restarts.

    A worker may leave with an error on the 503 JetStream answers while the stream elects a new
    leader, or leave cleanly when it saw nothing for ``--idle-exit`` seconds during the election;
    either way it is started again (on the survivors) while reports remain. What must hold is that
    no report is lost or duplicated, whatever the workers went through.
    """
    restarts = 0
    deadline = time.monotonic() + 300
    running = list(enumerate(workers))
    while running:
        assert time.monotonic() < deadline, "the workers did not drain the stream within five minutes"
        done = _stored(database) >= N_REPORTS
        still: list[tuple[int, subprocess.Popen[bytes]]] = []
        for slot, proc in running:
            code = proc.poll()
            if code is None:
                still.append((slot, proc))
            elif code != 0 or not done:
                restarts += 1
                assert restarts <= 4 * MAX_RESTARTS, (tmp_path / f"worker{slot}.log").read_text()
                log = tmp_path / f"worker{slot}-restart{restarts}.log"
                still.append((slot, _worker(database, url, key, log)))
        running = still
        time.sleep(0.2)
    return restarts


def _stored(database: str) -> int:
    import psycopg

    try:
        with psycopg.connect(database) as conn:
            row = conn.execute("SELECT count(*) FROM observations").fetchone()
            return int(row[0]) if row is not None else 0
    except psycopg.Error:
        return 0  # a worker is still creating the schema


def _publish(lines: list[tuple[str, int, bytes]], urls: list[str]) -> int:
    checks = ContextChecks(PARTICIPANTS, datetime.now(UTC))
    deadline = time.monotonic() + 60
    while True:
        try:
            # One URL: publish_lines hands it to nats.connect as is.
            report = publish_lines(lines, urls[0], checks, lambda lon, lat: "CL-05")
            assert report.rejected == 0
            return report.published
        except Exception:  # a leader election after the kill: retry; the dedup window trims repeats
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def test_killing_a_nats_node_mid_stream_loses_and_duplicates_nothing(cluster: list[Node], tmp_path: Path) -> None:
    urls = [n.url for n in cluster]
    leader = asyncio.run(_create_replicated_stream(urls))
    lines = [("day.ndjson", i + 1, json.dumps(observation_dict(i)).encode()) for i in range(N_REPORTS)]
    half = N_REPORTS // 2
    assert _publish(lines[:half], urls) == half

    key = tmp_path / "ledger.key"
    LedgerKey.load_or_create(key)
    victim = next(n for n in cluster if n.name == leader)
    survivors = [n for n in cluster if n is not victim]
    with fresh_postgres_database() as database:
        logs = [tmp_path / "worker0.log", tmp_path / "worker1.log"]
        # One worker starts on the node about to die, the other on a survivor.
        workers = [_worker(database, victim.url, key, logs[0]), _worker(database, survivors[0].url, key, logs[1])]
        deadline = time.monotonic() + 120
        while _stored(database) < 500:
            assert time.monotonic() < deadline, "the workers stored nothing within two minutes"
            time.sleep(0.1)
        assert _stored(database) < half, "the stream was drained before the node could be killed"
        victim.process.send_signal(signal.SIGKILL)  # the stream's leader, mid-stream
        victim.process.wait(timeout=10)
        # The rest of the stream is published to the two survivors (a quorum of the three replicas).
        assert _publish(lines[half:], [n.url for n in survivors]) == N_REPORTS - half
        restarts = _supervise(workers, database, ",".join(n.url for n in survivors), key, tmp_path)
        assert restarts <= 4 * MAX_RESTARTS
        state = asyncio.run(_stream_state([n.url for n in survivors]))
        assert state.state.messages == N_REPORTS  # every acknowledged publication is in the stream
        assert state.cluster is not None and state.cluster.leader != victim.name

        store = PostgresStore(database, key=LedgerKey.load_or_create(key))
        try:
            keys = [s.observation.key for s in store.observations()]
            assert len(keys) == N_REPORTS  # none lost, none stored twice
            assert set(keys) == {f"acoustic_arrival-{i:07d}" for i in range(N_REPORTS)}
            verification = store.verify_ledger()
            assert verification.ok, {k: str(r.first_error) for k, r in verification.reports.items()}
        finally:
            store.close()
