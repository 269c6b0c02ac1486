"""FuseStream (fuse in ``process --follow``, context in memory) writes what fuse.run writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from truceline import fuse
from truceline.agreement import default_agreement
from truceline.fuse._stream import KEEP_S
from truceline.ingest import ContextChecks, ingest_paths
from truceline.model import Incident
from truceline.sim import scenario
from truceline.sim import simulate as run_simulation
from truceline.store import MemoryStore, Store

NOW = datetime.now(UTC)
AG = default_agreement()


IN_SECTOR = pytest.mark.parametrize("reports", [False, True], ids=["default", "in_sector"], indirect=True)
"""The test also on the realisation with firing positions in their own sector (the simulator's
``firing_positions_in_sector``): its round 19 of the late and out-of-order windows once found
memory vouching for picks it had trimmed, and its far picks once set the window's first time."""


@pytest.fixture(scope="module")
def reports(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A small simulated day's reports (acoustic arrivals, radar, met, the rest), in arrival order."""
    in_sector = bool(getattr(request, "param", False))
    out = tmp_path_factory.mktemp("sim")
    run_simulation(scenario("default", days=1, scale=0.004, seed=5, firing_positions_in_sector=in_sector), out)
    return (out / "observations.ndjson").read_text().splitlines(keepends=True)


def _add(store: Store, lines: list[str], path: Path) -> None:
    path.write_text("".join(lines))
    ingest_paths([str(path)], store, ContextChecks(frozenset(AG.participant_ids()), NOW))


def _incidents(store: Store) -> dict[str, tuple[object, ...]]:
    out = {}
    for stored in store.records("incident"):
        r = stored.record
        assert isinstance(r, Incident)
        origins = tuple(
            (o.method, round(o.location.lon, 9), round(o.location.lat, 9), o.n_observations) for o in r.origins
        )
        out[r.id] = (frozenset(r.observations), r.sector, r.markings, origins, r.evaluation_status)
    return out


def _rounds(
    chunks: list[list[str]], tmp_path: Path
) -> tuple[MemoryStore, MemoryStore, fuse.FuseStream, list[dict[str, int]]]:
    plain, streamed = MemoryStore(), MemoryStore()
    stream = fuse.FuseStream()
    counts = []
    for k, chunk in enumerate(chunks):
        after = plain.max_seq()
        _add(plain, chunk, tmp_path / f"a{k}.ndjson")
        _add(streamed, chunk, tmp_path / f"b{k}.ndjson")
        assert plain.max_seq() == streamed.max_seq()
        upto = plain.max_seq()
        expected = fuse.run(plain, AG, after_seq=after, upto_seq=upto)
        got = stream.run(streamed, AG, after_seq=after, upto_seq=upto)
        counts.append(got)
        assert {k: v for k, v in got.items() if not k.startswith("stream_")} == expected, k
        assert _incidents(streamed) == _incidents(plain), f"round {k}"
    return plain, streamed, stream, counts


def test_rounds_in_arrival_order_write_what_run_writes(reports: list[str], tmp_path: Path) -> None:
    size = 300
    chunks = [reports[i : i + size] for i in range(0, len(reports), size)]
    assert len(chunks) >= 8
    plain, _, stream, counts = _rounds(chunks, tmp_path)
    assert len(_incidents(plain)) > 20
    # After the first round the context came from memory, not from the store.
    assert stream.store_reads <= len(chunks) * 2
    assert sum(c.get("incidents", 0) for c in counts) > 0
    # Memory is bounded by the time it keeps, not by the day.
    times = [json.loads(line)["time"] for line in reports if '"acoustic_arrival"' in line]
    assert counts[-1]["stream_memory"] < len(times)


@IN_SECTOR
def test_late_and_out_of_order_windows_read_their_context_from_the_store(reports: list[str], tmp_path: Path) -> None:
    # The second half of the day arrives first, then the first half: every round of the second
    # part lies before what memory holds, and must fetch its context from the store.
    size = 400
    half = len(reports) // 2
    late = [reports[i : i + size] for i in range(half, len(reports), size)]
    early = [reports[i : min(i + size, half)] for i in range(0, half, size)]
    _, _, stream, _ = _rounds(late + early, tmp_path)
    # One read when the context first came from the store (round 2), one when the early half began.
    assert stream.store_reads >= 2


def test_a_window_that_does_not_continue_the_last_starts_afresh(reports: list[str], tmp_path: Path) -> None:
    store = MemoryStore()
    stream = fuse.FuseStream()
    _add(store, reports[:500], tmp_path / "a.ndjson")
    stream.run(store, AG, after_seq=0, upto_seq=store.max_seq())
    assert stream.last_seq == store.max_seq() and len(stream.window) > 0
    mid = store.max_seq()
    _add(store, reports[500:900], tmp_path / "b.ndjson")
    # Someone else processed up to mid + 50: this window does not continue the stream's.
    stream.run(store, AG, after_seq=mid + 50, upto_seq=store.max_seq())
    assert stream.last_seq == store.max_seq()
    assert stream.store_reads == 1  # memory was dropped and the context read afresh


def _far_noise(reports: list[str]) -> list[str]:
    """Picks without bearings from 40 microphones on a line far from every array, through the day."""
    picks = [json.loads(line) for line in reports if '"acoustic_arrival"' in line]
    lats = [p["location"]["lat"] for p in picks]
    times = sorted(p["time"] for p in picks)
    lines = []
    error = {"semi_major_m": 8.0, "semi_minor_m": 5.0}
    for i, t in enumerate(times[:: max(1, len(times) // 800)]):
        mic = i % 40
        doc = {
            "kind": "acoustic_arrival", "participant": "USA", "source": f"mic-far-{mic:02d}", "key": f"noise-{i:05d}",
            "time": t, "reliability": "B", "credibility": 2, "time_error_s": 0.002,
            "location": {"lat": max(lats) + 3.0, "lon": 30.0 + 0.01 * mic, "error": error},
            "markings": {"tlp": "green", "originator": "USA"}, "snr_db": 9.0, "phase": "blast",
        }  # fmt: skip
        lines.append(json.dumps(doc) + "\n")
    return lines


@IN_SECTOR
def test_far_sensors_without_bearings_are_left_out_and_change_nothing(reports: list[str], tmp_path: Path) -> None:
    noise = _far_noise(reports)
    mixed: list[str] = []
    step = max(1, len(reports) // len(noise))
    for k in range(0, len(reports), step):  # the noise interleaved with the reports, roughly in time
        mixed += reports[k : k + step] + noise[k // step : k // step + 1]
    chunks = [mixed[i : i + 500] for i in range(0, len(mixed), 500)]
    _, _, _, counts = _rounds(chunks, tmp_path)
    assert sum(c.get("stream_far_picks", 0) for c in counts) >= len(noise)  # each left out at least once


def test_memory_keeps_only_the_recent_minutes() -> None:
    assert KEEP_S > fuse._run.CONTEXT_S  # type: ignore[attr-defined]
