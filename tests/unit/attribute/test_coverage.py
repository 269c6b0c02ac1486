"""Coverage: the Poisson-binomial tail against brute force, and working arrays from their picks."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def _working_places(a: SensorActivity, when: datetime, window: timedelta) -> set[tuple[float, float]]:
    return {(round(float(a.lon[k]), 6), round(float(a.lat[k]), 6)) for k in a.working(when, window)}


def test_the_stores_aggregate_gives_the_arrays_and_coverage_the_picks_give(tmp_path: Path) -> None:
    from tests.conftest import observation_dict
    from truceline.model import observation_adapter
    from truceline.store import MemoryStore, PreparedObservation, SQLiteStore

    rng = np.random.default_rng(4)
    items = []
    for i in range(400):
        array = int(rng.integers(0, 12))
        when = T + timedelta(seconds=float(rng.uniform(-8, 8)) * 3600)
        doc = observation_dict(
            i, "acoustic_arrival", source=f"array-{array}", time=when.isoformat().replace("+00:00", "Z"),
            location={**observation_dict(i)["location"], "lon": 37.70 + 0.03 * array, "lat": 48.0 + 0.01 * (array % 4)},
        )  # fmt: skip
        body = json.dumps(doc).encode()
        items.append(PreparedObservation(observation_adapter.validate_json(body), body))  # type: ignore[arg-type]
    window = timedelta(hours=3)
    model = CoverageModel()
    for store in (MemoryStore(), SQLiteStore(tmp_path / "c.db")):
        store.add_observations(items)
        for hours in (-7.0, -2.5, 0.0, 1.0, 4.0):
            when = T + timedelta(hours=hours)
            picks = SensorActivity.from_store(
                store, when - window - timedelta(hours=1), when + window + timedelta(hours=1)
            )
            fast = SensorActivity.around(store, when, window)

            assert _working_places(fast, when, window) == _working_places(picks, when, window)
            a, b = model.at(fast, 37.85, 48.01, when, "mlrs"), model.at(picks, 37.85, 48.01, when, "mlrs")
            assert a.p_detect == pytest.approx(b.p_detect, abs=1e-12) and a.working_sensors == b.working_sensors
        store.close()


def test_around_counts_an_array_working_in_the_hours_the_window_touches_and_no_further() -> None:
    """``around`` reads whole hours (the store's hourly summary): an array whose only pick lies
    in an hour the window overlaps counts as working — up to an hour of leniency — and one whose
    pick lies in an hour beyond it does not, whatever the picks say."""
    from tests.conftest import observation_dict
    from truceline.model import observation_adapter
    from truceline.store import MemoryStore, PreparedObservation

    when = T.replace(minute=30, second=0, microsecond=0)  # the window ±3 h runs from xx:30 to xx:30
    window = timedelta(hours=3)
    offsets = {"in": 1.0, "last-hour-after": 3.25, "next-hour": 3.75, "first-hour-before": -3.25, "hour-before": -3.6}
    items = []
    for i, (name, hours) in enumerate(offsets.items()):
        at = when + timedelta(hours=hours)
        doc = observation_dict(
            i, "acoustic_arrival", source=name, time=at.isoformat().replace("+00:00", "Z"),
            location={**observation_dict(i)["location"], "lon": 37.7 + 0.01 * i, "lat": 48.0},
        )  # fmt: skip
        body = json.dumps(doc).encode()
        items.append(PreparedObservation(observation_adapter.validate_json(body), body))  # type: ignore[arg-type]
    store = MemoryStore()
    store.add_observations(items)
    fast = SensorActivity.around(store, when, window)
    picks = SensorActivity.from_store(store, when - 2 * window, when + 2 * window)
    assert fast.lon.size == 3  # "in" and the two within the hours the window touches (15 min outside it)
    assert {round(float(x), 2) for x in fast.lon[fast.working(when, window)]} == {37.70, 37.71, 37.73}
    assert {round(float(x), 2) for x in picks.lon[picks.working(when, window)]} == {37.70}
