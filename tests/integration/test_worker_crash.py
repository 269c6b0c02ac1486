"""The short version of the worker crash proof (issue 12): a few SIGKILL cycles of the NATS
JetStream worker over PostgreSQL, then nothing acknowledged lost and nothing stored twice.

``make prove`` runs ``tools/prove_worker_crash.py`` with 1,000 cycles; this runs the same tool
with five, one of them starting the real ``truceline worker`` command (the final drain does too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "prove_worker_crash.py"


def test_killed_workers_lose_nothing_acknowledged_and_store_nothing_twice(tmp_path: Path) -> None:
    if os.environ.get("TRUCELINE_SKIP_POSTGRES") == "1":
        pytest.skip("TRUCELINE_SKIP_POSTGRES=1")
    out = tmp_path / "worker_crash.json"
    log = tmp_path / "workers.log"
    cmd = [sys.executable, str(TOOL), "--cycles", "5", "--exec-every", "5", "--max-reports", "120",
           "--log", str(log), "--json-out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr + (log.read_text() if log.exists() else "")
    figures = json.loads(out.read_text())
    assert figures["name"] == "worker_crash"
    assert figures["cycles"] == 5
    assert figures["acknowledged"] > 0
    assert figures["stored"] == figures["acknowledged"]
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["unexpected"] == 0
    assert figures["ledger_ok"] == 1
    assert figures["pending_after_drain"] == 0
    assert figures["exec_cycles"] == 1
