"""The short version of the load proof (issue 12): twenty seconds of steady ingest through the HTTP
API and through NATS JetStream into PostgreSQL, at a rate any machine keeps up with, and not one
acknowledged report lost or stored twice.

``make prove`` runs ``benchmarks/load.py`` at 5,000 reports a second for ten minutes and reports
latency and memory; this runs the same tool and checks only what must hold everywhere: nothing
lost, nothing duplicated, nothing refused. No timing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "benchmarks" / "load.py"


@pytest.mark.parametrize(("mode", "rate"), [("api", 250), ("nats", 500)])
def test_steady_ingest_loses_nothing_acknowledged(mode: str, rate: int, tmp_path: Path) -> None:
    if os.environ.get("TRUCELINE_SKIP_POSTGRES") == "1":
        pytest.skip("TRUCELINE_SKIP_POSTGRES=1")
    out = tmp_path / f"load_{mode}.json"
    # A large grace: a slow CI machine delays batches but never sheds them, so all are sent.
    cmd = [sys.executable, str(TOOL), "--mode", mode, "--rate", str(rate), "--seconds", "20", "--batch", "50",
           "--grace", "600", "--drain-timeout", "120", "--json-out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    figures = json.loads(out.read_text())
    assert figures["name"] == f"load_{mode}"
    assert figures["sent"] == rate * 20
    assert figures["unsent"] == 0
    assert figures["failed"] == 0
    assert figures["acknowledged"] == figures["sent"]
    assert figures["drained"] == 1
    assert figures["stored"] == figures["acknowledged"]
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["p99_ms"] >= figures["p50_ms"] >= 0  # measured, whatever it is
    assert figures["rss_max_mb"] > 0
