"""The figures of the pytest proof steps, for ``make prove``'s table.

With ``TRUCELINE_PROVE_OUT=build/prove/<name>.json`` set, the run writes one JSON object there at its
end (see tests/prove/figures.py): the tests under tests/prove and tests/fuzz passed, failed and
skipped, and the commit faults injected, each answered with a clean error and a passing ledger
audit, per store. Without it, nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.prove.figures import FAULTS, OUTCOMES, count_outcome, write_figures


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    count_outcome(report.when, report.outcome)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get("TRUCELINE_PROVE_OUT")
    if not out:
        return
    figures: dict[str, Any] = {
        "ok": exitstatus == 0 and OUTCOMES["failed"] == 0 and OUTCOMES["passed"] > 0,
        "tests_passed": OUTCOMES["passed"],
        "tests_failed": OUTCOMES["failed"],
        "tests_skipped": OUTCOMES["skipped"],
        "paths": " ".join(sorted({str(Path(str(a)).as_posix()) for a in session.config.args})),
    }
    for (store, what), n in sorted(FAULTS.items()):
        figures[f"{store}_{what}"] = n
    write_figures(out, Path(out).stem, figures)
