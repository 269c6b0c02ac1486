"""Scale-out ingest through NATS JetStream, beside direct ingest, on the same simulated reports.

Issue 10's target: two workers and a killed-and-restarted worker process a 1,000,000-observation
stream with none lost and none duplicated, and the throughput is printed against direct ingest
(``truceline ingest FILE --db postgresql://…``) as a ratio.

* the reports: a simulated full-scale day (``truceline simulate --scale 1``), its first N lines;
* the peer: ``truceline ingest`` straight into a fresh PostgreSQL + PostGIS database;
* the bus: a JetStream server of our own on loopback (``sync_interval: always``: every message
  fsynced before it is acknowledged), ``truceline publish --per-message 50`` of the file (reports
  of one sector batched 50 to a message, as a gateway sends them: one fsync per message is what
  the stream can afford) while two ``truceline worker`` processes store into another fresh
  database; one worker is killed with SIGKILL when a third of the reports are stored and a new one
  started in its place;
* the checks: as many rows as reports, as many distinct idempotency keys, and (``--verify``) the
  ledger verified.

    python benchmarks/nats_workers.py [--n 1000000] [--per-message 50] [--verify]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import write_result
from tests.conftest import fresh_postgres_database

BIN = Path(sys.executable).parent
TRUCELINE = [sys.executable, "-m", "truceline"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _count(database: str, what: str = "count(*)") -> int:
    import psycopg

    try:
        with psycopg.connect(database) as conn:
            row = conn.execute(f"SELECT {what} FROM observations").fetchone()
            return int(row[0]) if row is not None else 0
    except psycopg.Error:
        return 0  # a worker is still creating the schema


def _reports(work: Path, n: int) -> Path:
    """The first ``n`` reports of a simulated full-scale day (more days if one is not enough)."""
    days = 1
    while True:
        run = work / f"sim{days}"
        subprocess.run(
            [*TRUCELINE, "simulate", "--out", str(run), "--days", str(days), "--scale", "1.0", "--seed", "11"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        src = run / "observations.ndjson"
        out = work / "reports.ndjson"
        taken = 0
        with src.open("rb") as fin, out.open("wb") as fout:
            for line in fin:
                if taken == n:
                    break
                fout.write(line)
                taken += 1
        if taken == n:
            shutil.rmtree(run)
            return out
        days += 1


def _nats(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    conf = work / "nats.conf"
    conf.write_text(f'listen: 127.0.0.1:{port}\njetstream {{ store_dir: "{work / "js"}", sync_interval: always }}\n')
    proc = subprocess.Popen(
        [str(BIN / "nats-server"), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"nats://127.0.0.1:{port}"
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("nats-server did not start")


def _worker(database: str, url: str, key: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(key)}
    # No --idle-exit: reading and validating a million reports keeps the stream empty for a while at
    # the start, and an idle worker would leave before the first message; they are stopped at the end.
    cmd = [*TRUCELINE, "worker", "--database", database, "--nats", url, "--batch", "500"]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


def direct(reports: Path, n: int, work: Path) -> float:
    with fresh_postgres_database() as database:
        env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(work / "direct.key")}
        began = time.perf_counter()
        subprocess.run([*TRUCELINE, "ingest", str(reports), "--db", database], check=True, env=env,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        seconds = time.perf_counter() - began
        stored = _count(database)
        if stored != n:
            raise SystemExit(f"direct ingest stored {stored:,} of {n:,}")
    return seconds


def bus(reports: Path, n: int, work: Path, verify: bool, per_message: int) -> dict[str, float | int | bool]:
    nats, url = _nats(work)
    key = work / "bus.key"
    try:
        with fresh_postgres_database() as database:
            began = time.perf_counter()
            workers = [_worker(database, url, key, work / f"w{i}.log") for i in range(2)]
            publish = [*TRUCELINE, "publish", str(reports), "--nats", url, "--per-message", str(per_message)]
            publisher = subprocess.Popen(publish, stdout=subprocess.DEVNULL)
            killed = False
            deadline = time.monotonic() + 7200
            while True:
                stored = _count(database)
                if not killed and stored >= n // 3:
                    workers[0].send_signal(signal.SIGKILL)  # mid-stream: its unacked batch is redelivered
                    workers[0].wait()
                    workers[0] = _worker(database, url, key, work / "w0-restarted.log")
                    killed = True
                if stored >= n and publisher.poll() is not None:
                    break
                if publisher.poll() not in (None, 0):
                    break  # the publisher failed: reported below
                if all(w.poll() is not None for w in workers) and publisher.poll() is not None:
                    break  # every worker left (idle) before the end: reported below as a loss
                if time.monotonic() > deadline:
                    raise SystemExit("the workers did not finish within two hours")
                time.sleep(0.5)
            seconds = time.perf_counter() - began
            for w in workers:
                w.send_signal(signal.SIGTERM)
                w.wait(timeout=60)
            if publisher.wait() != 0:
                raise SystemExit("truceline publish failed")
            rows, distinct = _count(database), _count(database, "count(DISTINCT (participant, source, key))")
            ledger_ok = True
            if verify:
                env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(key)}
                check = [*TRUCELINE, "ledger", "verify", "--db", database]
                ledger_ok = subprocess.run(check, env=env, check=False, stdout=subprocess.DEVNULL).returncode == 0
            return {"seconds": seconds, "rows": rows, "distinct": distinct, "killed": killed, "ledger_ok": ledger_ok}
    finally:
        nats.terminate()
        nats.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="Reports in the stream.")
    ap.add_argument("--per-message", type=int, default=50, help="Reports per NATS message (truceline publish).")
    ap.add_argument("--verify", action="store_true", help="Also verify the bus database's ledger.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="truceline-bench-nats-") as tmp:
        work = Path(tmp)
        reports = _reports(work, args.n)
        print(f"{args.n:,} simulated reports ready; direct ingest into PostgreSQL …", flush=True)
        direct_s = direct(reports, args.n, work)
        print(f"direct: {args.n / direct_s:,.0f}/s; through NATS with two workers (one killed) …", flush=True)
        result = bus(reports, args.n, work, args.verify, args.per_message)
    bus_rate = args.n / float(result["seconds"])
    direct_rate = args.n / direct_s
    lost = args.n - int(result["distinct"])
    duplicated = int(result["rows"]) - int(result["distinct"])
    print(f"{'direct ingest (the peer)':>28}: {direct_rate:>10,.0f} reports/s")
    print(f"{'NATS + 2 workers, 1 killed':>28}: {bus_rate:>10,.0f} reports/s   lost {lost}, duplicated {duplicated}")
    write_result(
        "nats_workers",
        {
            "reports": args.n,
            "per_message": args.per_message,
            "bus_seconds": round(float(result["seconds"]), 1),
            "direct_seconds": round(direct_s, 1),
            "direct_per_s": round(direct_rate),
            "bus_per_s": round(bus_rate),
            "ratio": round(bus_rate / direct_rate, 3),
            "ratio_meaning": "throughput through NATS JetStream with two workers (one killed) / direct ingest",
            "lost": lost,
            "duplicated": duplicated,
            "worker_killed": result["killed"],
            "ledger_verified": result["ledger_ok"] if args.verify else None,
            "met": lost == 0 and duplicated == 0 and bool(result["killed"]),
        },
    )
    return 0 if lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
