"""The policy leak proof of ``make prove``, with its figures: generated cases against the reference.

    .venv/bin/python -m tests.prove.policy_figures [--cases 1000000] [--json-out build/prove/policy.json]

Runs what tests/unit/policy/test_equivalence.py runs — ``--cases`` generated requester × record
cases through every read path, each compared with the separately written reference policy (any
disagreement, down to one withheld key or one character of an error message, is counted) — and
then plants each of that test's known leaks in turn and checks the comparison catches it. Prints
the figures and exits 1 on any disagreement or any planted leak that goes unnoticed.
"""

from __future__ import annotations

import argparse
import json
import time

import pytest

from tests.prove.figures import write_figures
from tests.unit.policy import equivalence
from tests.unit.policy.test_equivalence import MUTATIONS, PATHS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--json-out", help="write the figures as JSON to this file (for tools/prove_summary.py)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = equivalence.run(args.cases, seed=args.seed)
    checks = dict(report.checks)
    all_paths = set(checks) == set(PATHS) and all(checks[p] > 0 for p in PATHS)
    print(f"policy: {report.cases:,} cases in {report.seconds:.0f} s, {len(report.failures)} disagreements")
    for line in report.failures[:10]:
        print("DISAGREEMENT", line)
    caught = 0
    for name in sorted(MUTATIONS):
        with pytest.MonkeyPatch.context() as mp:
            MUTATIONS[name](mp)
            planted = equivalence.run(3_000, seed=11, workers=1)
        caught += bool(planted.failures)
        print(f"planted leak {name!r}: {'caught' if planted.failures else 'NOT CAUGHT'}")
    figures = {
        "cases": report.cases,
        "disagreements": len(report.failures),  # capped at 50 by the report
        "checks": checks,
        "checks_total": sum(checks.values()),
        "planted_leaks": len(MUTATIONS),
        "planted_leaks_caught": caught,
        "seed": args.seed,
        "seconds": round(time.perf_counter() - started, 1),
    }
    ok = not report.failures and report.cases == args.cases and all_paths and caught == len(MUTATIONS)
    print(json.dumps(figures))
    write_figures(args.json_out, "policy", {"ok": ok, **figures})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
