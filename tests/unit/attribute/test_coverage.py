"""Coverage: the Poisson-binomial tail against brute force, and working arrays from their picks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from truceline.attribute import CoverageModel, at_least, detection_probability
from truceline.attribute.coverage import SensorActivity


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_at_least_matches_enumeration(k: int) -> None:
    p = [0.9, 0.2, 0.55, 0.7, 0.05]
    brute = 0.0
    for outcome in itertools.product([0, 1], repeat=len(p)):
        if sum(outcome) >= k:
            brute += float(np.prod([q if o else 1 - q for q, o in zip(p, outcome, strict=True)]))
    assert at_least(p, k) == pytest.approx(brute, abs=1e-12)


def test_detection_falls_with_range() -> None:
    p = detection_probability(np.arange(0, 40_001, 2_000), 15_000.0)
    assert np.all(np.diff(p) < 0) and p[0] == pytest.approx(0.95, abs=2e-3)


T = datetime(2026, 9, 5, 3, 0, tzinfo=UTC)


def activity(picks: list[tuple[int, float]], positions: list[tuple[float, float]]) -> SensorActivity:
    t = np.array([T.timestamp() + dt for _, dt in picks])
    order = np.argsort(t)
    return SensorActivity(
        np.array([p[0] for p in positions]),
        np.array([p[1] for p in positions]),
        t[order],
        np.array([s for s, _ in picks], dtype=np.intp)[order],
    )


def test_silent_arrays_do_not_count_and_blind_is_said() -> None:
    positions = [(37.80 + 0.02 * i, 48.0) for i in range(6)]
    busy = activity([(i, 60.0 * i) for i in range(6)], positions)
    model = CoverageModel()
    covered = model.at(busy, 37.85, 48.0, T, "artillery_ge100")
    assert covered.p_detect > 0.9 and covered.working_sensors == 6
    # The same arrays, but only two reported within three hours: a located shot needs three.
    quiet = activity([(0, 0.0), (1, 10.0), (2, -5 * 3600.0)], positions)
    assert model.at(quiet, 37.85, 48.0, T, "artillery_ge100").p_detect == 0.0
    blind = model.at(activity([], []), 37.85, 48.0, T, None)
    assert blind.p_detect == 0.0 and "blind" in blind.description
    assert busy.working(T + timedelta(hours=10), timedelta(hours=3)).size == 0
