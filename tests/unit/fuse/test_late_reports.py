"""Patrol reports and crater analyses stored after the picks they describe were fused.

A log is filed hours after its hour, a crater analysis days later: the round that stores one
holds no new pick of its explosions. Fuse associates again the stored picks of the time the
report may describe and writes a new version of the incident it joins — the same incident, as
if the report had been there when the picks were fused.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from truceline import fuse
from truceline.agreement import default_agreement
from truceline.fuse._locate import GEOD
from truceline.fuse._run import EPOCH
from truceline.model import ErrorEllipse, Incident, Location, Markings, PatrolReport, observation_adapter
from truceline.pipeline import RoundGate, input_kinds, process
from truceline.store import MemoryStore, PreparedObservation, Store

AG = default_agreement()
T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
ORIGIN = (37.70, 48.40)
BLAST = T0 + timedelta(seconds=1_500.0)
C = 331.3 + 0.606 * 15.0  # no met reports: the standard atmosphere, calm
ARRAYS = [(-12_000.0, 3_000.0), (8_000.0, 10_000.0), (14_000.0, -6_000.0), (-5_000.0, -13_000.0), (2_000.0, 16_000.0)]


def _offset(lon: float, lat: float, east: float, north: float) -> tuple[float, float]:
    lo, la, _ = GEOD.fwd(lon, lat, math.degrees(math.atan2(east, north)), math.hypot(east, north))
    return float(lo), float(la)


def _pick(source: str, key: str, where: tuple[float, float], time: datetime, bearing: float | None) -> bytes:
    doc: dict[str, object] = {
        "kind": "acoustic_arrival", "participant": "USA", "source": source, "key": key,
        "time": time.isoformat(), "time_error_s": 0.01,
        "location": {"lon": where[0], "lat": where[1], "error": {"semi_major_m": 3.0, "semi_minor_m": 3.0}},
        "markings": {"tlp": "green", "originator": "USA"},
    }  # fmt: skip
    if bearing is not None:
        doc.update(bearing_deg=bearing % 360.0, bearing_error_deg=3.0)
    return json.dumps(doc).encode()


def _blast() -> list[bytes]:
    """The blast at ORIGIN at BLAST, heard by five arrays 12–16 km around it."""
    out = []
    for n, (east, north) in enumerate(ARRAYS):
        array = _offset(*ORIGIN, east, north)
        az, _, d = GEOD.inv(array[0], array[1], ORIGIN[0], ORIGIN[1])
        out.append(_pick(f"ac-{n:02d}", f"blast-{n}", array, BLAST + timedelta(seconds=d / C), az))
    return out


def _noise(first: float = -14_400.0, last: float = 16_200.0) -> list[bytes]:
    """Bearing-less false picks at one array every two minutes around the blast (seconds from
    T0): a live feed is never silent, and a report is decided only where picks show the window
    holds its whole period."""
    array = _offset(*ORIGIN, *ARRAYS[0])
    times = [T0 + timedelta(seconds=first + 120.0 * k + 7.3) for k in range(int((last - first) / 120.0))]
    return [_pick("ac-00", f"noise-{k:04d}", array, t, None) for k, t in enumerate(times)]


def _log(key: str, target: tuple[float, float], *, start: datetime = T0, hours: float = 1.0) -> PatrolReport:
    """An outgoing log entry from an observer 6 km south-west of ORIGIN, 6° and 20 % off."""
    observer = _offset(*ORIGIN, -6_000.0, -2_000.0)
    az, _, d = GEOD.inv(observer[0], observer[1], target[0], target[1])
    return PatrolReport(
        key=key, participant="MVM", source="patrol-MVM-00", time=start, time_error_s=60.0,
        location=Location(lon=observer[0], lat=observer[1], error=ErrorEllipse(semi_major_m=50.0, semi_minor_m=50.0)),
        markings=Markings(tlp="green", originator="MVM"), explosions=1, duration_s=3_600.0 * hours,
        bearing_deg=(az + 6.0) % 360.0, bearing_error_deg=15.0, distance_m=round(1.2 * d, -2),
        distance_error_m=round(0.4 * d, -2), direction="outgoing",
    )  # fmt: skip


def _crater(key: str) -> PatrolReport:
    """A crater 15 km south of ORIGIN whose back-bearing points 8° off it; time ± 30 minutes."""
    crater = _offset(*ORIGIN, 2_000.0, -15_000.0)
    az, _, _ = GEOD.inv(crater[0], crater[1], ORIGIN[0], ORIGIN[1])
    return PatrolReport(
        key=key, participant="OSCE", source="crater-OSCE-01", time=BLAST + timedelta(minutes=20),
        time_error_s=1_800.0,
        location=Location(lon=crater[0], lat=crater[1], error=ErrorEllipse(semi_major_m=12.0, semi_minor_m=12.0)),
        markings=Markings(tlp="green", originator="OSCE"), explosions=1, direction="incoming",
        impact_bearing_deg=round((az + 8.0) % 360.0, 1), bearing_error_deg=15.0,
        weapon_class_guess="artillery_ge100", note="crater analysis",
    )  # fmt: skip


def _store(store: Store, lines: Sequence[bytes | PatrolReport]) -> None:
    raw = [line.model_dump_json().encode() if isinstance(line, PatrolReport) else line for line in lines]
    store.add_observations([PreparedObservation(observation_adapter.validate_json(b), b) for b in raw])


def _fuse(store: Store, after: int) -> dict[str, int]:
    return fuse.run(store, AG, after_seq=after, upto_seq=store.max_seq())


def _the_incident(store: Store) -> Incident:
    """The blast's incident (the only one holding picks of the arrays)."""
    found = [
        s.record
        for s in store.records("incident")
        if isinstance(s.record, Incident) and any(o.key.startswith("blast-") for o in s.record.observations)
    ]
    assert len(found) == 1
    return found[0]


def _summary(inc: Incident) -> tuple[object, ...]:
    origins = tuple((o.method, o.n_observations, o.creation_info.note) for o in inc.origins)
    return inc.id, frozenset(inc.observations), origins


def _same_places(a: Incident, b: Incident) -> None:
    for x, y in zip(a.origins, b.origins, strict=True):
        _, _, d = GEOD.inv(x.location.lon, x.location.lat, y.location.lon, y.location.lat)
        assert d < 0.01, (x.method, d)
        assert x.location.error.semi_major_m == pytest.approx(y.location.error.semi_major_m, rel=1e-6)


def _versions(store: Store) -> Counter[str]:
    return Counter({s.id: len(store.record_history("incident", s.id)) for s in store.records("incident")})


LATE = pytest.mark.parametrize(
    ("late", "part"),
    [(lambda: [_log("log-1", ORIGIN)], "observer"), (lambda: [_crater("crater-1")], "crater back-bearing")],
    ids=["patrol_log", "crater_analysis"],
)


@LATE
def test_a_late_report_gives_the_incident_a_new_version_as_if_processed_together(late, part) -> None:  # type: ignore[no-untyped-def]
    together = MemoryStore()
    _store(together, [*_noise(), *_blast(), *late()])
    _fuse(together, 0)
    expected = _the_incident(together)
    assert any(part in o.creation_info.note for o in expected.origins if o.method == "fused")

    store = MemoryStore()
    _store(store, [*_noise(), *_blast()])
    _fuse(store, 0)
    before = _the_incident(store)
    assert [o.method for o in before.origins] == ["tdoa"]
    after = store.max_seq()
    _store(store, late())
    counts = _fuse(store, after)
    got = _the_incident(store)
    assert got.id == before.id  # a new version of the same incident, not a second one
    assert len(store.record_history("incident", got.id)) == 2
    assert counts["late_reports"] == 1 and counts["late_joined"] == 1 and counts["arrivals"] == 0
    assert _summary(got) == _summary(expected)
    _same_places(got, expected)
    assert got.preferred_origin is not None and got.preferred_origin.method == "fused"
    assert sum(1 for _ in store.records("incident")) == sum(1 for _ in together.records("incident"))


def test_a_stored_report_whose_period_reaches_further_keeps_its_link_when_a_crater_comes() -> None:
    """A six-hour log joined the blast's incident; the crater analysis that comes later reaches
    back a hundred minutes. The log is decided again beside it, over its whole period: the new
    version cites both (read over the crater's time alone, the log would wait and drop out)."""
    six_hours = _log("log-6h", ORIGIN, start=T0 - timedelta(hours=3), hours=6.0)
    together = MemoryStore()
    _store(together, [*_noise(), *_blast(), six_hours, _crater("crater-1")])
    _fuse(together, 0)
    store = MemoryStore()
    _store(store, [*_noise(), *_blast(), six_hours])
    _fuse(store, 0)
    assert any(o.key == "log-6h" for o in _the_incident(store).observations)
    after = store.max_seq()
    _store(store, [_crater("crater-1")])
    _fuse(store, after)
    got, expected = _the_incident(store), _the_incident(together)
    assert {o.key for o in got.observations} >= {"log-6h", "crater-1"}
    assert _summary(got) == _summary(expected)
    _same_places(got, expected)


def _rounds(
    chunks: Sequence[Sequence[bytes | PatrolReport]], stream: fuse.FuseStream | None = None
) -> tuple[MemoryStore, MemoryStore]:
    """Each chunk stored in two stores, fused by ``fuse.run`` in one and by a FuseStream in the
    other: every round writes the same (tests/unit/fuse/test_stream.py holds the same)."""
    plain, streamed = MemoryStore(), MemoryStore()
    stream = stream or fuse.FuseStream()
    for k, chunk in enumerate(chunks):
        after = plain.max_seq()
        _store(plain, chunk)
        _store(streamed, chunk)
        expected = _fuse(plain, after)
        got = stream.run(streamed, AG, after_seq=after, upto_seq=streamed.max_seq())
        assert {key: v for key, v in got.items() if not key.startswith("stream_")} == expected, k
        mine = {s.record.id: _summary(s.record) for s in streamed.records("incident") if isinstance(s.record, Incident)}
        theirs = {s.record.id: _summary(s.record) for s in plain.records("incident") if isinstance(s.record, Incident)}
        assert mine == theirs, f"round {k}"
    return plain, streamed


def test_following_round_by_round_writes_what_one_run_over_everything_writes() -> None:
    noise = _noise()
    cut = len(noise) // 2
    chunks: list[Sequence[bytes | PatrolReport]] = [
        noise[:cut] + _blast(),
        noise[cut:],
        [_log("log-1", ORIGIN)],
        [_crater("crater-1")],
    ]
    plain, streamed = _rounds(chunks)
    together = MemoryStore()
    _store(together, [line for chunk in chunks for line in chunk])
    _fuse(together, 0)
    expected = _the_incident(together)
    assert {o.key for o in expected.observations} >= {"log-1", "crater-1"}
    for store in (plain, streamed):
        got = _the_incident(store)
        assert _summary(got) == _summary(expected)
        _same_places(got, expected)
        assert len(store.record_history("incident", got.id)) == 3  # the picks, the log, the crater


class _Watched(fuse.FuseStream):
    """A FuseStream that notes what its memory vouches for before each round."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, float, int, int]] = []
        super().__init__()

    def run(self, store: Store, agreement: object, *, after_seq: int, upto_seq: int) -> dict[str, int]:
        self.seen.append((self.lo, self.hi, len(self.window), self.part_reads))
        return super().run(store, AG, after_seq=after_seq, upto_seq=upto_seq)


def test_a_late_round_reads_memory_where_it_vouches_and_leaves_it_as_it_was() -> None:
    """The log's hour is stored whole; memory still holds the last minutes of it (the round
    before ended an hour later): the part around the log comes partly from memory, the rest in
    one read from the store, and memory's span and rows are what they were."""
    noise = _noise()

    def upto(seconds: float) -> int:
        when = (T0 + timedelta(seconds=seconds)).isoformat()
        return next(k for k, line in enumerate(noise) if json.loads(line)["time"] > when)

    a, b = upto(3_000.0), upto(5_000.0)
    chunks: list[Sequence[bytes | PatrolReport]] = [
        noise[:a] + _blast(),
        noise[a:b],
        [_log("log-1", ORIGIN)],
        noise[b:],
    ]
    stream = _Watched()
    _, streamed = _rounds(chunks, stream)
    assert {o.key for o in _the_incident(streamed).observations} >= {"log-1"}
    (lo, hi, rows, reads), after = stream.seen[2], stream.seen[3]
    start = (T0 - EPOCH).total_seconds()
    assert start < lo < start + 3_660.0  # memory reached into the log's hour ...
    assert after == (lo, hi, rows, reads + 1)  # ... the rest was one read, and memory is unchanged


def test_a_late_report_that_matches_nothing_writes_nothing_and_says_so() -> None:
    store = MemoryStore()
    _store(store, [*_noise(), *_blast()])
    _fuse(store, 0)
    versions = _versions(store)
    after = store.max_seq()
    _store(store, [_log("log-far", _offset(*ORIGIN, -14_000.0, 4_000.0))])
    counts = _fuse(store, after)
    assert counts["late_reports"] == 1 and counts["late_unmatched"] == 1
    assert counts.get("late_joined", 0) == 0
    assert _versions(store) == versions


def test_a_late_report_never_makes_a_second_incident_for_picks_fused_before() -> None:
    """The rebuilt event is written only as a new version of a stored incident: where none is
    stored under its id (here the picks' window was skipped; in a run, the part's association
    grouped them otherwise than the round that fused them) nothing is written."""
    store = MemoryStore()
    _store(store, [*_noise(), *_blast()])
    skipped = store.max_seq()  # another process moved the cursor past the picks
    _store(store, [_log("log-1", ORIGIN)])
    counts = _fuse(store, skipped)
    assert counts["late_reports"] == 1 and counts["late_unanchored"] == 1 and counts.get("late_joined", 0) == 0
    assert list(store.records("incident")) == []


def test_processing_again_is_idempotent() -> None:
    store = MemoryStore()
    _store(store, [*_noise(), *_blast()])
    process(store, AG, stages=["fuse"])
    _store(store, [_log("log-1", ORIGIN), _crater("crater-1")])
    window = store.get_cursor("process:fuse"), store.max_seq()
    report = process(store, AG, stages=["fuse"])
    (stage,) = report.stages
    assert stage.counts["late_joined"] == 2
    inc = _the_incident(store)
    assert {o.key for o in inc.observations} >= {"log-1", "crater-1"}
    versions = _versions(store)
    assert versions[inc.id] == 2
    assert process(store, AG, stages=["fuse"]).stages == []  # nothing new
    # The same window again (a round that crashed before its cursor moved): no new version.
    counts = fuse.run(store, AG, after_seq=window[0], upto_seq=window[1])
    assert counts["late_joined"] == 2 and counts["unchanged"] >= 1
    assert _versions(store) == versions


def test_a_follower_runs_fuse_for_a_window_of_patrol_reports_only() -> None:
    assert "patrol_report" in (input_kinds("fuse") or ())
    gate = RoundGate(MemoryStore(), ("fuse",), heartbeat=1e9, clock=lambda: 0.0)
    gate.last_run = 0.0
    assert gate(Counter({"patrol_report": 1}))
    assert not gate(Counter({"claim": 1}))
