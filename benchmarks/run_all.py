"""Run every benchmark script in this folder, one after another, and print their ratios.

``make bench`` calls this. Each script runs Truceline beside its peer on the same data and
writes ``benchmarks/results/<name>.json``; this prints a closing table of what they measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


PROVE_STEPS = {"load.py"}
"""Run by ``make prove`` with the arguments each of its steps needs, not here."""


def main() -> int:
    scripts = sorted(
        p for p in HERE.glob("*.py") if not p.name.startswith(("_", "run_all")) and p.name not in PROVE_STEPS
    )
    failed = []
    for script in scripts:
        print(f"\n=== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script), *sys.argv[1:2]], check=False).returncode != 0:
            failed.append(script.name)
    print("\n=== summary")
    for result in sorted((HERE / "results").glob("*.json")):
        doc = json.loads(result.read_text())
        print(f"{doc['name']:>16}: ratio {doc.get('ratio')}  met: {doc.get('met')}")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
