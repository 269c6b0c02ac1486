"""Kill the NATS JetStream worker at random points, again and again: nothing acknowledged is lost,
nothing is stored twice (issue 12, server mode: PostgreSQL + NATS JetStream).

    .venv/bin/python tools/prove_worker_crash.py [--cycles 1000] [--seed 20261127] \\
        [--json-out build/prove/worker_crash.json]

Each cycle publishes a random number of new reports (one per message, or batches of up to 50 as
NDJSON lines of one message) and counts those JetStream acknowledged (PubAck: stored by a server
that fsyncs every message) as *acknowledged*. It then starts a worker and kills it with SIGKILL
at a random moment: during its start-up, while it fetches, validates or commits, or (about one
cycle in three) as soon as it has committed a batch, which is when a commit is stored but its
messages are not yet acknowledged. Messages a killed worker fetched and never acknowledged come
back after ``--ack-wait`` to a later cycle's worker. After the last cycle one worker, the real
``truceline worker`` command, drains the stream (it leaves only when nothing is pending or
unacknowledged), and the database is checked: every acknowledged report stored (``lost`` counts
those missing), each once (``duplicated`` counts extra rows, and extra leaves in the ledger),
nothing stored that was not published, and ``ledger verify`` passes.

Cheap cycles: ``truceline worker`` spends seconds importing the whole command line (the fusion
stage loads SciPy) before its first fetch. So most cycles fork the worker from this process, which
has imported the worker's code once: the child calls the very function ``truceline worker`` runs,
with the same options, and is a separate process killed with SIGKILL like any other. Every
``--exec-every``-th cycle starts the real command instead; the start-up of both is measured and
reported. Own NATS server (``sync_interval: always``) on a free loopback port; a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ADMIN_URL = os.environ.get("TRUCELINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
STREAM = "TRUCELINE_OBS"
PREFIX = "truceline.obs"
DURABLE = "truceline-worker"
PARTICIPANTS = ("USA", "GBR", "FRA", "UKR")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def nats_server(work: Path) -> Iterator[str]:
    """A JetStream server of our own on loopback that fsyncs every message."""
    port = _free_port()
    conf = work / "nats.conf"
    conf.write_text(f'listen: 127.0.0.1:{port}\njetstream {{ store_dir: "{work / "js"}", sync_interval: always }}\n')
    binary = Path(sys.executable).parent / "nats-server"
    with subprocess.Popen([str(binary), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as p:
        try:
            for _ in range(200):
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if p.poll() is not None:
                    raise RuntimeError("nats-server exited at start")
                time.sleep(0.05)
            else:
                raise RuntimeError("nats-server did not start")
            yield f"nats://127.0.0.1:{port}"
        finally:
            p.terminate()
            p.wait(timeout=30)


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    import psycopg

    name = f"truceline_prove_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def report(i: int, when: datetime) -> bytes:
    """A valid acoustic arrival; ``i`` makes its key unique."""
    participant = PARTICIPANTS[i % len(PARTICIPANTS)]
    doc = {
        "kind": "acoustic_arrival",
        "participant": participant,
        "source": f"crash-{i % 7}",
        "key": f"r{i:08d}",
        "time": when.isoformat().replace("+00:00", "Z"),
        "reliability": "B",
        "credibility": 2,
        "time_error_s": 0.002,
        "location": {"lat": 48.0 + (i % 100) / 1000, "lon": 37.8, "error": {"semi_major_m": 8.0, "semi_minor_m": 5.0}},
        "markings": {"tlp": "green", "originator": participant},
        "bearing_deg": float(i % 360),
        "bearing_error_deg": 3.0,
        "snr_db": 14.0,
        "phase": "blast",
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def key_of(i: int) -> tuple[str, str, str]:
    return (PARTICIPANTS[i % len(PARTICIPANTS)], f"crash-{i % 7}", f"r{i:08d}")


class Rig:
    """The database, the bus and the two ways of starting a worker."""

    def __init__(
        self, database: str, nats_url: str, work: Path, batch: int, ack_wait: float, log: str | None = None
    ) -> None:
        self.database = database
        self.nats_url = nats_url
        self.work = work
        self.batch = batch
        self.ack_wait = ack_wait
        self.key = work / "ledger.key"
        os.environ["TRUCELINE_LEDGER_KEY"] = str(self.key)  # the forked and the started workers alike
        self.log = Path(log) if log else work / "workers.log"
        self._conn: Any = None
        # Warm the worker's code in this process once, so a forked worker starts at its first connection.
        from truceline.cli import bus_cmd
        from truceline.cli._common import load_agreement_option, register_record_types
        from truceline.ledger import LedgerKey
        from truceline.store.postgres import PostgresStore

        LedgerKey.load_or_create(self.key)
        register_record_types()
        load_agreement_option(None)  # the shipped agreement, parsed once (cached) for every forked worker
        self.worker_fn = bus_cmd.worker
        PostgresStore(database, key=LedgerKey.load_or_create(self.key)).close()  # schema created once

    def worker_args(self, idle_exit: float | None) -> list[str]:
        args = ["--database", self.database, "--nats", self.nats_url, "--batch", str(self.batch)]
        args += ["--ack-wait", str(self.ack_wait)]
        return args + (["--idle-exit", str(idle_exit)] if idle_exit is not None else [])

    def start(self, mode: str, idle_exit: float | None = None) -> Worker:
        """A worker process: ``fork`` (warm, this process's code) or ``exec`` (``truceline worker``)."""
        if mode == "exec":
            with self.log.open("ab") as out:
                cmd = [sys.executable, "-m", "truceline", "worker", *self.worker_args(idle_exit)]
                proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            return Worker(proc.pid, proc)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return Worker(pid, None)
        code = 70
        try:  # the child: the function `truceline worker` runs, with the same options
            fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            random.seed()
            self.worker_fn(
                database=self.database, nats=self.nats_url, stream=STREAM, subject_prefix=PREFIX,
                durable=DURABLE, batch=self.batch, idle_exit=idle_exit, ack_wait=self.ack_wait,
                rejects=None, agreement=None, future_tolerance=600.0,
            )  # fmt: skip
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # a child must never return into the parent's loop
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)

    def max_seq(self) -> int:
        """The last stored sequence number (one connection, kept: a forked worker never uses it)."""
        import psycopg

        if self._conn is None:
            self._conn = psycopg.connect(self.database, autocommit=True)
        row = self._conn.execute("SELECT coalesce(max(seq), 0) FROM observations").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def consumer_state(self) -> tuple[int, int, int]:
        """(pending, acknowledgement-pending, redelivered) of the workers' durable consumer."""

        async def ask() -> tuple[int, int, int]:
            import nats

            nc = await nats.connect(self.nats_url, connect_timeout=5)
            try:
                info = await nc.jetstream().consumer_info(STREAM, DURABLE)
                return int(info.num_pending or 0), int(info.num_ack_pending or 0), int(info.num_redelivered or 0)
            finally:
                await nc.close()

        return asyncio.run(ask())


class Worker:
    """A started worker: forked (``popen`` None) or the ``truceline worker`` command."""

    def __init__(self, pid: int, popen: subprocess.Popen[bytes] | None) -> None:
        self.pid = pid
        self.popen = popen

    def poll(self) -> int | None:
        if self.popen is not None:
            return self.popen.poll()
        done, status = os.waitpid(self.pid, os.WNOHANG)
        return os.waitstatus_to_exitcode(status) if done else None

    def kill(self) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        if self.popen is not None:
            return self.popen.wait()
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def startup_seconds(rig: Rig, mode: str, publish: Any, n: int) -> float:
    """From starting a worker to the commit of a report published just before."""
    before = rig.max_seq()
    publish(1)
    began = time.perf_counter()
    worker = rig.start(mode)
    try:
        for _ in range(6000):
            if rig.max_seq() > before:
                return time.perf_counter() - began
            time.sleep(0.01)
        raise RuntimeError(f"a {mode} worker stored nothing within a minute; see {rig.log}")
    finally:
        worker.kill()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from truceline.ingest import ContextChecks
    from truceline.ingest.bus import publish_lines

    rng = random.Random(args.seed)
    figures: dict[str, Any] = {"name": "worker_crash", "cycles": 0}
    with tempfile.TemporaryDirectory(prefix="truceline-worker-crash-") as tmp:
        work = Path(tmp)
        with nats_server(work) as url, fresh_database() as database:
            rig = Rig(database, url, work, args.batch, args.ack_wait, args.log)
            next_id = 0
            acknowledged = 0

            def publish(count: int, per_message: int = 1) -> None:
                nonlocal next_id, acknowledged
                when = datetime.now(UTC)
                lines = [("cycle", j + 1, report(next_id + j, when)) for j in range(count)]
                sectors = ("CL-01", "CL-02", "CL-03")
                checks = ContextChecks(frozenset(PARTICIPANTS), datetime.now(UTC))
                got = publish_lines(
                    lines, url, checks, lambda lon, lat: sectors[rng.randrange(3)], per_message=per_message
                )
                if got.published != count:  # PubAck refused: stop rather than guess what is acknowledged
                    raise RuntimeError(f"JetStream acknowledged {got.published} of {count}")
                next_id += count
                acknowledged += count

            fork_start = [startup_seconds(rig, "fork", publish, 1) for _ in range(3)]
            exec_start = [startup_seconds(rig, "exec", publish, 1) for _ in range(2)] if args.exec_every else []
            max_delay = args.max_delay if args.max_delay else min(fork_start) + 0.5
            print(
                f"worker start-up to first commit: forked {min(fork_start):.2f} s, "
                f"`truceline worker` {min(exec_start, default=float('nan')):.2f} s; kills within {max_delay:.2f} s",
                flush=True,
            )
            kills = {"timer": 0, "after_commit": 0}
            progressed = unacked_at_kill = execs = 0
            began = time.perf_counter()
            for cycle in range(1, args.cycles + 1):
                publish(rng.randint(1, args.max_reports), rng.choice((1, 1, 5, 50)))
                mode = "exec" if args.exec_every and cycle % args.exec_every == 0 else "fork"
                execs += mode == "exec"
                before = rig.max_seq()
                worker = rig.start(mode)
                if rng.random() < 1 / 3:
                    kills["after_commit"] += 1
                    limit = time.monotonic() + max_delay + (max(exec_start) if mode == "exec" else 0.0)
                    while time.monotonic() < limit and rig.max_seq() == before:
                        time.sleep(0.002)
                else:
                    kills["timer"] += 1
                    time.sleep(rng.uniform(0, max_delay + (min(exec_start) if mode == "exec" else 0.0)))
                worker.kill()
                progressed += rig.max_seq() > before
                unacked_at_kill += rig.consumer_state()[1] > 0
                if cycle % max(1, args.cycles // 20) == 0:
                    print(
                        f"cycle {cycle:,}: {acknowledged:,} acknowledged, {rig.max_seq():,} stored so far, "
                        f"{time.perf_counter() - began:.0f} s",
                        flush=True,
                    )
                figures["cycles"] = cycle
            cycles_s = time.perf_counter() - began
            # The real command drains what is left, redeliveries included, and leaves when all is acked.
            drain = rig.start("exec", idle_exit=max(3.0, args.ack_wait + 1))
            status: int | None = None
            for _ in range(int(args.drain_timeout * 10)):
                status = drain.poll()
                if status is not None:
                    break
                time.sleep(0.1)
            else:
                drain.kill()
                raise RuntimeError(f"the draining worker did not finish within {args.drain_timeout} s")
            rig.close()
            pending, ack_pending, _ = rig.consumer_state()
            figures.update(check(rig, next_id))
            figures.update(
                {
                    "acknowledged": acknowledged,
                    "kills_timer": kills["timer"],
                    "kills_after_commit": kills["after_commit"],
                    "kills_with_progress": progressed,
                    "kills_leaving_unacked": unacked_at_kill,
                    "exec_cycles": execs,
                    "pending_after_drain": pending + ack_pending,
                    "drain_exit_status": status,
                    "startup_fork_s": round(min(fork_start), 3),
                    "startup_exec_s": round(min(exec_start), 3) if exec_start else None,
                    "seconds": round(cycles_s, 1),
                    "seconds_per_cycle": round(cycles_s / max(1, args.cycles), 3),
                }
            )
    return figures


def check(rig: Rig, published: int) -> dict[str, Any]:
    import psycopg

    from truceline.ledger import LedgerKey
    from truceline.store.postgres import PostgresStore

    with psycopg.connect(rig.database) as conn:
        stored = [
            (str(p), str(s), str(k)) for p, s, k in conn.execute("SELECT participant, source, key FROM observations")
        ]
    distinct = set(stored)
    expected = {key_of(i) for i in range(published)}
    store = PostgresStore(rig.database, key=LedgerKey.load_or_create(rig.key))
    try:
        head = store.tree_head()
        verification = store.verify_ledger()
    finally:
        store.close()
    leaves = head.tree_size if head is not None else 0
    return {
        "stored": len(stored),
        "lost": len(expected - distinct),
        "duplicated": (len(stored) - len(distinct)) + max(0, leaves - len(distinct)),
        "unexpected": len(distinct - expected),
        "ledger_leaves": leaves,
        "ledger_ok": int(verification.ok),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=1000, help="kill-and-restart cycles")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--max-reports", type=int, default=300, help="most reports published in one cycle")
    ap.add_argument("--batch", type=int, default=100, help="the worker's --batch (reports per commit)")
    ap.add_argument("--ack-wait", type=float, default=2.0, help="the worker's --ack-wait (seconds)")
    ap.add_argument("--max-delay", type=float, default=0.0, help="latest kill, seconds (default: measured)")
    ap.add_argument("--exec-every", type=int, default=50, help="every Nth cycle runs `truceline worker` (0: never)")
    ap.add_argument("--drain-timeout", type=float, default=600.0)
    ap.add_argument("--log", help="append the workers' output here (default: a temporary file)")
    ap.add_argument("--json-out", help="write the figures as JSON to this file (for tools/prove_summary.py)")
    args = ap.parse_args()
    figures = run(args)
    ok = (
        figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["unexpected"] == 0
        and figures["ledger_ok"] == 1
        and figures["pending_after_drain"] == 0
        and figures["drain_exit_status"] == 0
    )
    figures["ok"] = int(ok)
    print(
        f"worker crash: {figures['cycles']:,} SIGKILL cycles ({figures['kills_leaving_unacked']:,} with "
        f"unacknowledged messages), {figures['acknowledged']:,} acknowledged, {figures['lost']} lost, "
        f"{figures['duplicated']} duplicated, ledger {'verified' if figures['ledger_ok'] else 'FAILED'}"
    )
    print(json.dumps(figures))
    if args.json_out:
        out = Path(args.json_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
