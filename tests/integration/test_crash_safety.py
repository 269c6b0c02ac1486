"""Kill the ingest process at random points: nothing acknowledged is lost, nothing is duplicated.

Each cycle starts ``truceline ingest`` on the same file, kills it with SIGKILL after a random
delay, and checks the database against the acknowledgement log the process wrote after each
durable commit. A final run completes the file. ``make prove`` (issue 12) runs many more cycles.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import observation_dict
from truceline.store import SQLiteStore

N_RECORDS = 4_000
CYCLES = int(os.environ.get("TRUCELINE_CRASH_CYCLES", "8"))


def _acknowledged(ack: Path) -> int:
    if not ack.exists():
        return 0
    lines = [ln for ln in ack.read_text().splitlines() if ln.strip()]
    return max((int(ln.split("\t")[1]) for ln in lines), default=0)


def _check(db: Path, acked_lines: int) -> int:
    with sqlite3.connect(db) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM observations")]
    assert len(keys) == len(set(keys)), "a record was stored twice"
    present = set(keys)
    missing = [i for i in range(acked_lines) if f"acoustic_arrival-{i:07d}" not in present]
    assert not missing, f"acknowledged records lost: {missing[:5]}"
    return len(keys)


def _assert_no_orphaned_workers(db: Path) -> None:
    """Workers of a killed ingest leave by themselves (they watch their parent)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        orphans = [pid for pid in os.listdir("/proc") if pid.isdigit() and _is_orphaned_worker(int(pid))]
        if not orphans:
            return
        time.sleep(0.5)
    raise AssertionError(f"ingest workers outlived their killed parent: {orphans}")


def _is_orphaned_worker(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return ppid == 1 and b"multiprocessing.spawn" in cmd and sys.executable.encode() in cmd


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "with-a-worker"])
def test_killing_ingest_at_random_points_loses_and_duplicates_nothing(tmp_path: Path, workers: int) -> None:
    data = tmp_path / "day.ndjson"
    with data.open("w") as f:
        for i in range(N_RECORDS):
            f.write(json.dumps(observation_dict(i)) + "\n")
    db = tmp_path / "crash.db"
    ack = tmp_path / "ack.tsv"
    cmd = [
        sys.executable,
        "-m",
        "truceline",
        "ingest",
        str(data),
        "--db",
        str(db),
        "--batch-size",
        "100",
        "--ack-file",
        str(ack),
        "--workers",
        str(workers),
        "--quiet",
        "--future-tolerance",
        "1e9",
    ]
    rng = random.Random(20260301)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    kills = 0
    for _ in range(CYCLES):
        with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) as proc:
            time.sleep(rng.uniform(0.3, 2.5))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=60)
        if db.exists():
            _check(db, _acknowledged(ack))
    assert kills > 0, "the ingest finished before any kill; raise N_RECORDS"
    _assert_no_orphaned_workers(db)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert _check(db, N_RECORDS) == N_RECORDS
    store = SQLiteStore(db)
    try:
        assert store.verify_ledger().ok
    finally:
        store.close()
