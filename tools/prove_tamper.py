"""Inject ≥ 10,000 faults into copies of a SQLite store and count how many ``verify_ledger`` catches.

    .venv/bin/python tools/prove_tamper.py [--faults 10000] [--seed 20261127] [--json-out build/prove/tamper.json]

Every fault class of tests/prove/tamper.py (bit flips, truncations, deletions, reorderings and
duplications of reports, records, their indexed columns and times, ledger nodes, tree heads and
their rows, the frontier, the spatial index and the file) is cycled through; each copy is reopened
and verified from scratch. Prints a table per class and a final figure line; exits 1 when any
fault is missed, crashes the audit, or a changed record is not the one named. ``--json-out`` also
writes the figures for ``tools/prove_summary.py``. The classes the
audit once missed (ONCE_UNCOVERED, G1–G11 in docs/proofs.md) are counted with the rest and marked.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.prove.figures import write_figures
from tests.prove.tamper import CRASH, ONCE_UNCOVERED, FaultGenerator, Template, build_template, run_fault


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faults", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--json-out", help="write the figures as JSON to this file (for tools/prove_summary.py)")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="prove-tamper-") as tmp:
        work = Path(tmp)
        build_template(work / "template.db")
        template = Template.read(work / "template.db")
        generator = FaultGenerator(template, args.seed)
        counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # n, detected, crash, exact/of
        problems: list[str] = []
        no_ops = 0
        # Faults are drawn until --faults of them changed something: a file-level flip that lands
        # where SQLite keeps no value (free space in a page) is counted apart as a no-op.
        for fault, apply in generator.faults(10 * args.faults):
            if sum(r[0] for r in counts.values()) >= args.faults:
                break
            outcome = run_fault(template, fault, apply, work)
            if outcome.no_op:
                no_ops += 1
                continue
            row = counts[(fault.kind, fault.target)]
            row[0] += 1
            row[1] += outcome.detected
            crashed = outcome.named.startswith(CRASH)
            row[2] += crashed
            if outcome.named_exactly is not None:
                row[3] += 1
                row[4] += outcome.named_exactly
            if not outcome.detected or crashed or outcome.named_exactly is False:
                problems.append(f"{outcome.fault} → {outcome.named or 'NOT DETECTED'}")
    elapsed = time.perf_counter() - started
    print(f"{'fault':<13} {'target':<28} {'injected':>8} {'detected':>8} {'crashed':>7} {'named exactly':>13}")
    for (kind, target), (n, det, crash, of, exact) in sorted(counts.items()):
        named = f"{exact}/{of}" if of else "—"
        gap = ONCE_UNCOVERED.get((kind, target))
        once = f"  (once missed: {gap.split(':')[0]})" if gap else ""
        print(f"{kind:<13} {target:<28} {n:>8,} {det:>8,} {crash:>7} {named:>13}{once}")
    injected = sum(r[0] for r in counts.values())
    detected = sum(r[1] for r in counts.values())
    crashes = sum(r[2] for r in counts.values())
    exact_of = sum(r[3] for r in counts.values())
    exact = sum(r[4] for r in counts.values())
    for line in problems[:20]:
        print("PROBLEM", line)
    print(
        f"\ntamper: {injected:,} faults in {len(counts)} classes, {detected:,} detected "
        f"({100 * detected / max(injected, 1):.2f} %), {crashes} crashes, "
        f"{exact:,}/{exact_of:,} changed records named exactly, {elapsed:.0f} s "
        f"({no_ops} further file flips changed no stored value and are not counted)"
    )
    figures = {
        "faults": injected,
        "classes": len(counts),
        "detected": detected,
        "missed": injected - detected,
        "crashes": crashes,
        "named_exactly": exact,
        "nameable": exact_of,
        "no_op_file_flips": no_ops,
        "once_missed_classes": len(ONCE_UNCOVERED),
        "once_missed_detected": sum(r[1] for c, r in counts.items() if c in ONCE_UNCOVERED),
        "once_missed_injected": sum(r[0] for c, r in counts.items() if c in ONCE_UNCOVERED),
        "seconds": round(elapsed, 1),
    }
    print(json.dumps(figures))
    ok = not problems and injected >= args.faults
    write_figures(args.json_out, "tamper", {"ok": ok, "seed": args.seed, **figures, "problems": problems[:20]})
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
