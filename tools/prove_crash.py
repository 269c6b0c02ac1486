"""Kill ``truceline ingest`` with SIGKILL at random points, many times, and count what was lost.

    .venv/bin/python tools/prove_crash.py [--cycles 1000] [--records 20000] [--modes in-process,with-a-worker]
                                          [--seed 20260301] [--json-out build/prove/crash.json]

The long version of tests/integration/test_crash_safety.py (the same reports and command, in a
file of ``--records`` of them, so that writing rather than start-up fills most of a run), counting
instead of stopping at the first problem. The delay before each kill is drawn uniformly over the
time a whole uninterrupted run takes on this machine, measured first (the test's fixed 0.3–2.5 s
can fall entirely inside interpreter start-up on a loaded machine, killing nothing that had begun
to write). Each cycle starts ingest on the file and kills it; the database is then checked
against the acknowledgement log the process wrote after each durable commit: every acknowledged
report must be stored (else *lost*) and no report stored twice (else *duplicated*). When a run
gets to the end of the file, the round is closed (ledger audit, every report in) and the next round
starts from an empty database, so every cycle kills an ingest that has work left. ``--cycles`` is
per mode: ``in-process`` (``--workers 0``) and ``with-a-worker`` (``--workers 1``). Prints a line
per mode and exits 1 on any loss, duplicate, failed audit or orphaned worker.

Most cycles fork the run from this process, which has already imported Truceline: the child runs
the same ``truceline ingest`` command function with the same arguments, as a separate process
killed with SIGKILL, but starts in milliseconds instead of seconds of imports; every
``--exec-every``-th cycle (default 50) runs the real command, so both are covered. That is what
makes 1,000 cycles per mode fit in well under an hour.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import observation_dict  # noqa: E402
from tests.integration.test_crash_safety import _acknowledged, _is_orphaned_worker  # noqa: E402
from tests.prove.figures import write_figures  # noqa: E402

MODES = {"in-process": 0, "with-a-worker": 1}


def _check(db: Path, acked: int) -> tuple[int, int, int]:
    """(stored, lost, duplicated) for a database whose first ``acked`` reports were acknowledged."""
    if not db.exists():
        return 0, acked, 0
    with sqlite3.connect(db) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM observations")]
    present = set(keys)
    lost = sum(1 for i in range(acked) if f"acoustic_arrival-{i:07d}" not in present)
    return len(keys), lost, len(keys) - len(present)


def _verify(db: Path) -> bool:
    from truceline.store import SQLiteStore

    store = SQLiteStore(db)
    try:
        return store.verify_ledger().ok
    finally:
        store.close()


def _orphans() -> list[int]:
    deadline = time.monotonic() + 10
    while True:
        found = [int(p) for p in os.listdir("/proc") if p.isdigit() and _is_orphaned_worker(int(p))]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


class _Run:
    """One ingest run: forked from this process (warm: its code already imported) or the command."""

    def __init__(self, cmd: list[str], env: dict[str, str], *, fork: bool) -> None:
        self.popen: subprocess.Popen[bytes] | None = None
        self.status: int | None = None  # a forked child's exit status, once reaped
        if not fork:
            self.popen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            self.pid = self.popen.pid
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            self.pid = pid
            return
        code = 70
        try:  # the child: `truceline ingest` with the same arguments, in this warm interpreter
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            from truceline.cli import app

            app(args=cmd[3:], prog_name="truceline", standalone_mode=False)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # a child must never return into the parent's loop
            code = 1
        finally:
            os._exit(code)

    def poll(self) -> int | None:
        if self.popen is not None:
            return self.popen.poll()
        if self.status is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def wait(self) -> None:
        if self.popen is not None:
            self.popen.wait(timeout=600)
        elif self.status is None:
            self.status = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])

    def kill_and_wait(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.wait()


def run_mode(
    mode: str,
    workers: int,
    cycles: int,
    records: int,
    seed: int,
    work: Path,
    exec_every: int = 0,
    progress: Callable[[dict[str, Any]], None] = lambda figures: None,
) -> dict[str, Any]:
    data = work / "day.ndjson"
    if not data.exists():
        with data.open("w") as f:
            for i in range(records):
                f.write(json.dumps(observation_dict(i)) + "\n")
    db, ack = work / f"crash-{mode}.db", work / f"ack-{mode}.tsv"
    cmd = [sys.executable, "-m", "truceline", "ingest", str(data), "--db", str(db), "--batch-size", "100"]
    cmd += ["--ack-file", str(ack), "--workers", str(workers), "--quiet", "--future-tolerance", "1e9"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rng = random.Random(seed)
    calibration = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    if calibration.returncode != 0:
        raise SystemExit(f"{mode}: an uninterrupted ingest failed: {calibration.stderr[-1000:]}")
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), ack):
        path.unlink(missing_ok=True)
    # The kill delay is spread over a whole run as most cycles make it: forked, unless every one is exec'd.
    t0 = time.perf_counter()
    timed = _Run(cmd, env, fork=exec_every != 1)
    timed.wait()
    whole_run = time.perf_counter() - t0
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), ack):
        path.unlink(missing_ok=True)
    figures: dict[str, Any] = {"mode": mode, "whole_run_seconds": round(whole_run, 2)}
    figures |= {"cycles": 0, "kills": 0, "rounds": 0, "acknowledged": 0, "lost": 0, "duplicated": 0}
    figures |= {"forked_cycles": 0}
    figures |= {"kills_after_acknowledgements": 0, "checks": 0, "audits": 0, "audits_failed": 0, "incomplete_rounds": 0}
    started = time.perf_counter()

    def close_round() -> None:
        stored, lost, dup = _check(db, records)
        figures["rounds"] += 1
        figures["audits"] += 1
        figures["audits_failed"] += not _verify(db)
        figures["incomplete_rounds"] += stored != records
        figures["lost"] += lost
        figures["duplicated"] += dup
        db.unlink()
        for extra in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            extra.unlink(missing_ok=True)
        ack.unlink(missing_ok=True)

    for _ in range(cycles):
        figures["cycles"] += 1
        forked = not (exec_every and figures["cycles"] % exec_every == 0)
        figures["forked_cycles"] += forked
        run = _Run(cmd, env, fork=forked)
        t_start = time.perf_counter()
        delay = rng.uniform(0.05, 1.05) * whole_run
        while run.poll() is None and time.perf_counter() - t_start < delay:
            time.sleep(0.01)
        killed = run.poll() is None
        if killed:
            run.kill_and_wait()
            figures["kills"] += 1
        else:
            run.wait()
        acked = _acknowledged(ack)
        _, lost, dup = _check(db, acked)
        figures["checks"] += 1
        figures["kills_after_acknowledgements"] += killed and acked > 0
        figures["acknowledged"] += acked
        figures["lost"] += lost
        figures["duplicated"] += dup
        if not killed and db.exists():  # the run reached the end of the file: close the round
            close_round()
        if figures["cycles"] % 10 == 0:
            figures["seconds"] = round(time.perf_counter() - started, 1)
            progress(figures)
            print(
                f"  {mode}: {figures['cycles']:,} cycles, {figures['kills']:,} kills, {figures['lost']} lost, "
                f"{figures['duplicated']} duplicated, {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    # The last round: an uninterrupted run completes the file.
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    figures["final_run_ok"] = done.returncode == 0
    close_round()
    figures["orphaned_workers"] = len(_orphans())
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cycles", type=int, default=1000, help="kill cycles per mode")
    parser.add_argument("--records", type=int, default=20_000, help="reports in the ingested file")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument(
        "--exec-every",
        type=int,
        default=50,
        help="every Nth cycle runs the real `truceline ingest` command; the others fork it from this process, "
        "whose code is already imported (1: every cycle the command; 0: always forked)",
    )
    parser.add_argument("--json-out", help="write the figures as JSON to this file (for tools/prove_summary.py)")
    args = parser.parse_args()
    if args.exec_every != 1:
        # Warm this process once: a forked run then starts at its first read of the file, not after
        # seconds of imports, so the kills land in writing rather than in start-up.
        import truceline.cli
        import truceline.ingest
        import truceline.store.sqlite  # noqa: F401
    results: list[dict[str, Any]] = []

    def save(current: dict[str, Any] | None = None, *, complete: bool = False) -> None:
        # Written every 10 cycles too, so a run stopped early still leaves its figures (complete: false).
        modes = [*results, *([{**current, "partial": True}] if current else [])]
        totals = {k: sum(r[k] for r in modes) for k in ("cycles", "kills", "acknowledged", "lost", "duplicated")}
        bad = [
            r
            for r in modes
            if r["lost"]
            or r["duplicated"]
            or r["audits_failed"]
            or r["incomplete_rounds"]
            or r.get("orphaned_workers")
            or not r.get("final_run_ok", True)
        ]
        figures = {"ok": not bad and complete, "complete": complete, "records": args.records, **totals, "modes": modes}
        write_figures(args.json_out, "crash", figures)

    with tempfile.TemporaryDirectory(prefix="prove-crash-") as tmp:
        for mode in args.modes.split(","):
            r = run_mode(mode, MODES[mode], args.cycles, args.records, args.seed, Path(tmp), args.exec_every, save)
            results.append(r)
            print(
                f"{mode:<14} {r['cycles']:>6,} cycles {r['kills']:>6,} kills "
                f"({r['kills_after_acknowledgements']:,} after acknowledgements) {r['rounds']:>4} rounds "
                f"(a whole run: {r['whole_run_seconds']} s) "
                f"{r['acknowledged']:>10,} acknowledged (summed over checks) {r['lost']} lost "
                f"{r['duplicated']} duplicated, audits {r['audits'] - r['audits_failed']}/{r['audits']}, "
                f"{r['orphaned_workers']} orphaned workers, {r['seconds']:.0f} s",
                flush=True,
            )
    bad = [
        r
        for r in results
        if r["lost"]
        or r["duplicated"]
        or r["audits_failed"]
        or r["incomplete_rounds"]
        or r["orphaned_workers"]
        or not r["final_run_ok"]
    ]
    totals = {k: sum(r[k] for r in results) for k in ("cycles", "kills", "acknowledged", "lost", "duplicated")}
    print(json.dumps({**totals, "modes": results}))
    save(complete=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
