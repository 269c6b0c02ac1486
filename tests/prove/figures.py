"""The figures each proof step of ``make prove`` leaves in ``build/prove/<name>.json``.

One flat JSON object per step, with a ``name`` and (when the step knows) ``ok``; the tools write it
with ``--json-out PATH``, the pytest steps through ``TRUCELINE_PROVE_OUT`` (see conftest.py here).
``tools/prove_summary.py`` gathers them into one table.
"""

from __future__ import annotations

import json
import os
import platform
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def write_figures(path: str | os.PathLike[str] | None, name: str, figures: dict[str, Any]) -> None:
    """Write ``figures`` as the step ``name``'s result to ``path`` (nothing when ``path`` is None)."""
    if path is None:
        return
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "name": name,
        **figures,
        "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(body, indent=2, sort_keys=False) + "\n")
    tmp.replace(out)


#: Outcomes of the tests of a pytest proof step ("passed", "failed", "skipped"), counted by the
#: ``pytest_runtest_logreport`` hooks of tests/prove/conftest.py and tests/fuzz/conftest.py (a
#: conftest's hooks see only the tests under it).
OUTCOMES: Counter[str] = Counter()


def count_outcome(when: str, outcome: str) -> None:
    """Count one test's outcome: its call, or its setup when that did not pass (a skip, an error)."""
    if when == "call" or (when == "setup" and outcome != "passed"):
        OUTCOMES[outcome] += 1


#: Commit faults counted by the tests in this directory: (store, "injected" | "clean_errors" |
#: "verified") → count. ``conftest.py`` writes them out with the step's figures.
FAULTS: Counter[tuple[str, str]] = Counter()


def count_fault(store: str, *, clean_error: bool, verified: bool) -> None:
    """Count one injected commit fault on ``store``, whether it gave a clean error and whether
    the ledger audit passed after it."""
    FAULTS[(store, "injected")] += 1
    FAULTS[(store, "clean_errors")] += clean_error
    FAULTS[(store, "verified")] += verified
