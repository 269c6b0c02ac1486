"""Counts this directory's test outcomes for ``make prove``'s table (written by tests/prove/conftest.py)."""

from __future__ import annotations

import pytest

from tests.prove.figures import count_outcome


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    count_outcome(report.when, report.outcome)
