"""Inject faults into copies of a PostgreSQL store and count how many ``verify_ledger`` catches.

    .venv/bin/python tools/prove_pg_tamper.py [--faults 1000] [--seed 20261127] [--json-out build/prove/tamper_pg.json]

Every fault class of tests/prove/pg_tamper.py (bit flips, truncations, deletions, reorderings and
duplications of reports, records, their indexed and generated columns, ledger nodes, tree heads
and the frontier) is cycled through; each fault is made in a fresh copy of a template database
(``CREATE DATABASE … TEMPLATE``) as its owner, and the copy is opened by a new store with the same
ledger key and verified from scratch. A change PostgreSQL itself refuses (a body the generated
markings columns cannot read, a key) is counted apart as "refused by the database", neither
detected nor missed. Prints a table per class and a final figure line; exits 1 when any fault is
missed, crashes the audit, or a changed record is not the one named. ``--json-out`` also writes the
figures for ``tools/prove_summary.py``. Needs the server (``TRUCELINE_TEST_POSTGRES``, default
postgresql://postgres@127.0.0.1:5432/postgres) with PostGIS, and a role that may create databases.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from tests.conftest import POSTGRES_ADMIN_URL
from tests.prove.figures import write_figures
from tests.prove.pg_tamper import KNOWN_MISSED, PgFaultGenerator, pg_template, run_fault, untouched
from tests.prove.tamper import CRASH


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--faults", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--json-out", help="write the figures as JSON to this file (for tools/prove_summary.py)")
    args = parser.parse_args()
    started = time.perf_counter()
    # n, detected, refused, crashed, exact-of, exact
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    problems: list[str] = []
    refusals: dict[tuple[str, str], str] = {}
    with pg_template() as template, psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        clean, named = untouched(template, admin)
        if clean:
            problems.append(f"the untouched copy does not verify: {named}")
        generator = PgFaultGenerator(template, args.seed)
        for number, kind, target, seed in generator.faults(args.faults):
            outcome = run_fault(template, admin, number, kind, target, seed)
            row = counts[(kind, target)]
            row[0] += 1
            if outcome.refused:
                row[2] += 1
                refusals.setdefault((kind, target), outcome.refused)
                continue
            row[1] += outcome.detected
            crashed = outcome.named.startswith(CRASH)
            row[3] += crashed
            if outcome.named_exactly is not None:
                row[4] += 1
                row[5] += outcome.named_exactly
            if not outcome.detected or crashed or outcome.named_exactly is False:
                problems.append(f"{outcome.fault} → {outcome.named or 'NOT DETECTED'}")
    elapsed = time.perf_counter() - started
    print(
        f"{'fault':<10} {'target':<52} {'injected':>8} {'refused':>7} {'detected':>8} {'missed':>6} "
        f"{'crashed':>7} {'named exactly':>13}"
    )
    for (kind, target), (n, det, ref, crash, of, exact) in sorted(counts.items()):
        shown = f"{exact}/{of}" if of else "—"
        known = "  (known miss)" if (kind, target) in KNOWN_MISSED else ""
        print(f"{kind:<10} {target:<52} {n:>8,} {ref:>7,} {det:>8,} {n - ref - det:>6,} {crash:>7} {shown:>13}{known}")
    for (kind, target), why in sorted(refusals.items()):
        print(f"refused ({kind} {target}), e.g.: {why}")
    injected = sum(r[0] for r in counts.values())
    refused = sum(r[2] for r in counts.values())
    applied = injected - refused
    detected = sum(r[1] for r in counts.values())
    crashes = sum(r[3] for r in counts.values())
    exact_of = sum(r[4] for r in counts.values())
    exact = sum(r[5] for r in counts.values())
    for line in problems[:20]:
        print("PROBLEM", line)
    print(
        f"\ntamper (PostgreSQL): {injected:,} faults in {len(counts)} classes, {refused:,} refused by the database, "
        f"{detected:,} of the {applied:,} applied detected ({100 * detected / max(applied, 1):.2f} %), "
        f"{applied - detected:,} missed, {crashes} crashes, {exact:,}/{exact_of:,} changed records named exactly, "
        f"{elapsed:.0f} s"
    )
    figures = {
        "store": "postgresql",
        "faults": applied,  # what tools/prove_summary.py's tamper row counts: the faults that were made
        "injected": injected,
        "refused": refused,  # changes PostgreSQL itself refused: neither detected nor missed
        "classes": len(counts),
        "detected": detected,
        "missed": applied - detected,
        "crashes": crashes,
        "named_exactly": exact,
        "nameable": exact_of,
        "known_missed_classes": len(KNOWN_MISSED),
        "seconds": round(elapsed, 1),
    }
    print(json.dumps(figures))
    ok = not problems
    write_figures(args.json_out, "tamper_pg", {"ok": ok, "seed": args.seed, **figures, "problems": problems[:20]})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
