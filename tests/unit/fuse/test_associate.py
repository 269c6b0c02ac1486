"""Association and the stage end to end: overlapping events, false picks, dedup, idempotent reruns."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyproj
import pytest

from truceline.agreement import default_agreement
from truceline.fuse import Arrivals, Weather, associate, run
from truceline.fuse._run import _load
from truceline.ingest import ContextChecks, ingest_paths
from truceline.model import Incident
from truceline.sim import evaluate, load_truth, scenario, simulate
from truceline.store import MemoryStore

GEOD = pyproj.Geod(ellps="WGS84")
LON0, LAT0 = 37.5, 48.3


def _arrivals(
    src_lon: float, src_lat: float, slon: np.ndarray, slat: np.ndarray, c: float, we: float, wn: float, t0: float
) -> tuple[np.ndarray, np.ndarray]:
    az, back, d = GEOD.inv(np.full(len(slon), src_lon), np.full(len(slon), src_lat), slon, slat)
    a = np.radians(np.asarray(az))
    t = t0 + np.asarray(d) / (c + we * np.sin(a) + wn * np.cos(a))
    return t, np.asarray(back) % 360.0


def _grid_sensors() -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(-3, 4), np.arange(-2, 3))
    lon, lat, _ = GEOD.fwd(
        np.full(xs.size, LON0),
        np.full(xs.size, LAT0),
        np.degrees(np.arctan2(xs, ys)).ravel(),
        np.hypot(xs, ys).ravel() * 4_000.0,
    )
    return np.asarray(lon), np.asarray(lat)


def test_overlapping_events_and_false_picks_are_separated() -> None:
    rng = np.random.default_rng(7)
    slon, slat = _grid_sensors()
    n_s = len(slon)
    sensor, times, bearings, truth_ev = [], [], [], []
    # Three blasts 1.5 s apart a few km from each other: their arrivals interleave at every array.
    for e, (de, dn, t0) in enumerate([(0.0, 0.0, 50.0), (3_000.0, 1_000.0, 51.5), (-2_000.0, 2_500.0, 53.0)]):
        lon, lat, _ = GEOD.fwd(LON0, LAT0, np.degrees(np.arctan2(de, dn)), np.hypot(de, dn))
        t, b = _arrivals(lon, lat, slon, slat, 340.0, 0.0, 0.0, t0)
        sensor += list(range(n_s))
        times += (t + rng.normal(0, 0.005, n_s)).tolist()
        bearings += ((b + rng.normal(0, 3.0, n_s)) % 360).tolist()
        truth_ev += [e] * n_s
    # False picks: random times and bearings.
    k = 15
    sensor += rng.integers(0, n_s, k).tolist()
    times += rng.uniform(40, 120, k).tolist()
    bearings += rng.uniform(0, 360, k).tolist()
    truth_ev += [-1] * k
    arr = Arrivals(
        np.asarray(sensor, dtype=np.intp),
        np.asarray(times),
        np.full(len(sensor), 0.005),
        np.asarray(bearings),
        np.full(len(sensor), 3.0),
        slon,
        slat,
    )
    weather = Weather.from_reports([], [], [], [], [], [])  # standard atmosphere: 15 °C, calm
    a = associate(arr, weather)
    truth = np.asarray(truth_ev)
    assert a.n_events == 3
    for e in range(3):
        got = a.event_of[truth == e]
        assert (got >= 0).mean() > 0.85
        assert len(set(got[got >= 0].tolist())) == 1  # one event, not split
    assert (a.event_of[truth == -1] >= 0).sum() <= 1  # false picks stay out


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MemoryStore]:
    out = tmp_path_factory.mktemp("fuse-run")
    simulate(scenario("default", days=1, scale=0.002, start=date(2026, 9, 1), write_media=False), out)
    store = MemoryStore()
    checks = ContextChecks(participants=default_agreement().participant_ids(), now=datetime(2026, 11, 1, tzinfo=UTC))
    ingest_paths([str(out / "observations.ndjson")], store, checks, on_reject=lambda r: None)
    return out, store


def test_stage_meets_the_association_targets_on_a_simulated_day(small_run: tuple[Path, MemoryStore]) -> None:
    out, store = small_run
    counts = run(store, default_agreement(), after_seq=0, upto_seq=store.max_seq())
    assert counts["incidents"] > 50
    result = evaluate(load_truth(out / "truth.json"), store)
    assert result["association"]["precision"] >= 0.93
    assert result["association"]["recall"] >= 0.95
    # Rerunning the same window writes new versions of the same incidents, not new incidents.
    n_before = sum(1 for _ in store.records("incident"))
    run(store, default_agreement(), after_seq=0, upto_seq=store.max_seq())
    assert sum(1 for _ in store.records("incident")) == n_before


def test_cross_nation_reports_of_one_blast_make_one_incident(small_run: tuple[Path, MemoryStore]) -> None:
    out, store = small_run
    run(store, default_agreement(), after_seq=0, upto_seq=store.max_seq())
    truth = load_truth(out / "truth.json")
    incidents = [r.record for r in store.records("incident") if isinstance(r.record, Incident)]
    multi = 0
    for inc in incidents:
        nations = {o.participant for o in inc.observations}
        multi += len(nations) > 1
    assert multi > 0.5 * len(incidents)
    # No report is in two incidents: a blast is counted once, whoever reported it.
    refs = [(o.participant, o.source, o.key) for inc in incidents for o in inc.observations]
    assert len(refs) == len(set(refs))
    # Every incident with a located origin carries a 95 % ellipse and a sector.
    located = [i for i in incidents if i.preferred_origin is not None]
    assert located and all(i.preferred_origin.location.error.confidence == 0.95 for i in located)  # type: ignore[union-attr]
    assert truth.events


def test_an_incremental_second_window_does_not_duplicate(small_run: tuple[Path, MemoryStore]) -> None:
    _, store = small_run
    half = store.max_seq() // 2
    loaded = _load(store, half, store.max_seq())
    assert loaded.new.sum() > 0 and (~loaded.new).sum() >= 0


def _arrival_line(source: str, key: str, lon: float, lat: float, time: str, bearing: float) -> bytes:
    doc = {
        "kind": "acoustic_arrival",
        "participant": "USA",
        "source": source,
        "key": key,
        "time": time,
        "time_error_s": 0.01,
        "location": {"lat": lat, "lon": lon, "error": {"semi_major_m": 3.0, "semi_minor_m": 3.0}},
        "markings": {"tlp": "green", "originator": "USA"},
        "bearing_deg": bearing,
        "bearing_error_deg": 3.0,
    }
    return json.dumps(doc).encode()


def test_bad_input_gives_no_crash_and_no_fabricated_location() -> None:
    from truceline.model import observation_adapter
    from truceline.store import PreparedObservation

    store = MemoryStore()
    lines = [
        # A single detection from a sensor never seen before.
        _arrival_line("ac-new-1", "k1", 37.5, 48.3, "2026-09-01T10:00:00Z", 45.0),
        # Two sensors whose clocks are hours apart: nothing consistent to associate.
        _arrival_line("ac-new-2", "k2", 37.6, 48.3, "2026-09-01T13:00:00Z", 270.0),
        _arrival_line("ac-new-3", "k3", 37.55, 48.35, "2026-09-01T03:00:00Z", 180.0),
    ]
    batch = [PreparedObservation(observation_adapter.validate_json(b), b) for b in lines]
    store.add_observations(batch)
    counts = run(store, default_agreement(), after_seq=0, upto_seq=store.max_seq())
    assert counts["incidents"] == 0
    assert counts["unassociated"] == 3
    assert list(store.records("incident")) == []
    # An empty window is not an error either.
    assert run(store, default_agreement(), after_seq=store.max_seq(), upto_seq=store.max_seq())["incidents"] == 0


def test_parallel_spans_reproduce_the_serial_association(small_run: tuple[Path, MemoryStore]) -> None:
    # The plain serial association is the reference; cutting the day at hour boundaries into
    # spans associated in separate processes must give the same events.
    from truceline.fuse._associate import associate_parallel, associate_serial, split_points
    from truceline.fuse._run import _weather

    _, store = small_run
    loaded = _load(store, 0, store.max_seq())
    arr = loaded.arrivals
    weather = _weather(store, float(arr.time_s.min()), float(arr.time_s.max()))
    assert len(split_points(arr.time_s, 2)) == 1
    serial = associate_serial(arr, weather)
    parallel = associate_parallel(arr, weather, 2)

    def groups(a: object) -> dict[frozenset[int], int]:
        ev = a.event_of  # type: ignore[attr-defined]
        out: dict[int, list[int]] = {}
        for i, e in enumerate(ev.tolist()):
            if e >= 0:
                out.setdefault(e, []).append(i)
        return {frozenset(v): k for k, v in out.items()}

    gs, gp = groups(serial), groups(parallel)
    same = set(gs) & set(gp)
    assert len(same) >= 0.97 * len(gs)
    assert abs(len(gp) - len(gs)) <= 0.02 * len(gs) + 1
    for members in same:
        i, j = gs[members], gp[members]
        _, _, d = GEOD.inv(
            serial.solutions.lon[i], serial.solutions.lat[i], parallel.solutions.lon[j], parallel.solutions.lat[j]
        )
        assert d < 1.0 or serial.solutions.status[i] != 0
