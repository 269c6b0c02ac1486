"""Fuse in a following process: the recent arrivals stay in memory between rounds.

:func:`truceline.fuse.run` reads the new arrivals and, as context, every earlier-stored arrival
within :data:`~truceline.fuse._run.CONTEXT_S` of them, so a blast whose picks straddle two runs
is one incident. Run once a day that costs nothing; run every second beside a 5,000-reports-a-
second feed (``truceline process --follow``) it re-reads and re-parses millions of stored picks
a round. :class:`FuseStream` keeps the last few minutes of arrivals as columns, so a round parses
only what arrived since the last one and reads the store for context only where its memory does
not reach (the first round, a pick that arrives minutes late).

It hands the association exactly what :func:`run` would load — the new arrivals in ``seq``
order, then the context (stored before the window, fired within ``CONTEXT_S`` of a new arrival)
in ``seq`` order, sensors and markings numbered in order of first appearance — so both give
the same incidents (tests/unit/fuse/test_stream.py holds them to it).

What it remembers: every arrival with ``seq`` up to the last window that fired in
``[lo, hi)``, plus every arrival it read as new since (whatever its time). After each round
the memory drops what fired more than :data:`KEEP_S` before the round's median arrival time
(or before the latest such time yet, if that is later). A round whose context does not meet
``[lo, hi)`` (a replayed hour, picks stored long after they fired) reads it whole from the
store, and ``[lo, hi)`` stays the later of the two: the gap between them is not memory's.
A window that does not continue the last one (another process moved the cursor, a round
failed and is run again) starts the memory afresh.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.agreement import Agreement
from truceline.fuse._associate import MAX_RANGE_M, Arrivals, Association
from truceline.fuse._late import Part, run_parts
from truceline.fuse._run import CONTEXT_S, EPOCH, _Loaded, locate_and_write
from truceline.model import Markings, ObservationRef, RadarTrack
from truceline.store import ObservationQuery, Store, StoredObservation

KEEP_S = CONTEXT_S + 60.0
"""How far before a round's median arrival the memory reaches: a round's context starts
``CONTEXT_S`` before its earliest new pick, and picks up to a minute late still find theirs here."""

_FLOATS = ("time", "sigma", "bearing", "bsigma")
FIELDS = ("time", "time_error_s", "bearing_deg", "bearing_error_deg", "markings")
"""What the stream reads of each arrival beside the store's columns: the reports' JSON, not records
(parsing a record per pick was most of a following fuse's time beside a 5,000-a-second feed)."""


class _Refs(Sequence[ObservationRef]):
    """Observation references built only when asked (an incident's members), not for every pick."""

    def __init__(self, sensor_key: list[tuple[str, str]], sensor: NDArray[np.intp], keys: NDArray[np.object_]):
        self._sensor_key = sensor_key
        self._sensor = sensor
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        participant, source = self._sensor_key[int(self._sensor[i])]
        return ObservationRef(participant=participant, source=source, key=str(self._keys[i]))

    def __iter__(self) -> Iterator[ObservationRef]:
        return (self[k] for k in range(len(self)))


@dataclass
class _Columns:
    """Arrivals as columns; ``sensor`` and ``mark`` index the stream's tables."""

    seq: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sensor: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    mark: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    time: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    sigma: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    bearing: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    bsigma: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    keys: NDArray[np.object_] = field(default_factory=lambda: np.zeros(0, dtype=object))

    def __len__(self) -> int:
        return len(self.seq)

    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_]) -> _Columns:
        return _Columns(**{name: getattr(self, name)[idx] for name in self.__dataclass_fields__})

    def joined(self, other: _Columns) -> _Columns:
        names = self.__dataclass_fields__
        return _Columns(**{n: np.concatenate([getattr(self, n), getattr(other, n)]) for n in names})


class FuseStream:
    """The fuse stage for ``process --follow``: ``run`` has :func:`truceline.fuse.run`'s signature."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.window = _Columns()
        self.last_seq: int | None = None
        self.lo = float("inf")  # the memory holds every arrival with seq <= last_seq fired in [lo, hi)
        self.hi = float("-inf")
        self.trim_before = float("-inf")
        self.sensor_index: dict[tuple[str, str], int] = {}
        self.sensor_key: list[tuple[str, str]] = []
        self.sensor_lon: list[float] = []
        self.sensor_lat: list[float] = []
        self.mark_index: dict[tuple[object, ...], int] = {}
        self.raw_marks: dict[tuple[object, ...], int] = {}
        self.marks: list[Markings] = []
        self.store_reads = 0  # context reads from the store (the first round, late picks)
        self.part_reads = 0  # reads from the store for the time late patrol reports describe

    # --- reading ------------------------------------------------------------------------
    def _columns(self, rows: Iterable[tuple[Any, ...]], upto_seq: int) -> _Columns:
        """Columns from :meth:`Store.observation_fields` rows (:data:`FIELDS`), up to ``upto_seq``."""
        seq: list[int] = []
        sensor: list[int] = []
        mark: list[int] = []
        keys: list[str] = []
        cols: dict[str, list[float]] = {name: [] for name in _FLOATS}
        nan = float("nan")
        for s, participant, source, key, _, lon, lat, when, sigma, bearing, bsigma, markings in rows:
            if s > upto_seq:
                break
            skey = (participant, source)
            j = self.sensor_index.get(skey)
            if j is None:  # a sensor is its (participant, source), where its first report puts it
                j = self.sensor_index[skey] = len(self.sensor_key)
                self.sensor_key.append(skey)
                self.sensor_lon.append(lon)
                self.sensor_lat.append(lat)
            seq.append(s)
            sensor.append(j)
            mark.append(self._mark(markings))
            keys.append(key)
            # The report's own time string, read as the model reads it: the same seconds to the bit.
            cols["time"].append((datetime.fromisoformat(when.strip()) - EPOCH).total_seconds())
            cols["sigma"].append(max(sigma if sigma is not None else 0.0, 1e-3))
            cols["bearing"].append(bearing if bearing is not None else nan)
            cols["bsigma"].append(bsigma if bsigma is not None else nan)
        return _Columns(
            seq=np.asarray(seq, dtype=np.int64),
            sensor=np.asarray(sensor, dtype=np.intp),
            mark=np.asarray(mark, dtype=np.intp),
            time=np.asarray(cols["time"], dtype=np.float64),
            sigma=np.asarray(cols["sigma"], dtype=np.float64),
            bearing=np.asarray(cols["bearing"], dtype=np.float64),
            bsigma=np.asarray(cols["bsigma"], dtype=np.float64),
            keys=np.asarray(keys, dtype=object),
        )

    def _mark(self, raw: dict[str, Any]) -> int:
        """The index of a report's markings (parsed once per distinct set, numbered by their fields)."""
        rkey = (raw.get("tlp"), raw.get("originator"), tuple(raw.get("releasable_to") or ()), raw.get("sharing_group"))
        m = self.raw_marks.get(rkey)
        if m is None:
            parsed = Markings.model_validate_json(json.dumps(raw))  # strict: read as JSON, as a report is
            mkey = (parsed.tlp, parsed.originator, parsed.releasable_to, parsed.sharing_group)
            m = self.mark_index.get(mkey)
            if m is None:
                m = self.mark_index[mkey] = len(self.marks)
                self.marks.append(parsed)
            self.raw_marks[rkey] = m
        return m

    def _context(self, store: Store, start: float, end: float, upto_seq: int) -> None:
        """Add the stored arrivals (seq <= upto_seq) fired in [start, end) that memory lacks."""
        if end <= start:
            return
        self.store_reads += 1
        query = ObservationQuery(
            kinds=("acoustic_arrival",),
            start=EPOCH + timedelta(seconds=start),
            end=EPOCH + timedelta(seconds=end),
        )
        rows = (r for r in store.observation_fields(query, FIELDS) if r[0] <= upto_seq)
        got = self._columns(rows, upto_seq)
        got = got.take(~np.isin(got.seq, self.window.seq))
        self.window = self.window.joined(got)

    def _read_context(self, store: Store, start: float, end: float, after_seq: int) -> None:
        """Make memory hold every arrival with seq <= after_seq fired in [start, end).

        Memory vouches for one span, [lo, hi): the store is read for the part of [start, end)
        outside it. The span grows to the union only where the two meet; a window apart from
        it (a replayed hour, a batch of picks stored long after they fired) reads its whole
        context, and memory keeps vouching for the later span alone: the rows it holds in the
        gap between them are not all the store holds there (what fired there and was stored
        before the memory's window was never read, or was trimmed)."""
        if self.lo == float("inf"):  # memory vouches for nothing (the first round, or afresh)
            self._context(store, start, end, after_seq)
            self.lo, self.hi = start, end
        elif end < self.lo:  # all before the span: the span stays (the rows read go at the trim)
            self._context(store, start, end, after_seq)
        elif start > self.hi:  # all after it, past a gap: the window's own span is the later one
            self._context(store, start, end, after_seq)
            self.lo, self.hi = start, end
        else:
            self._context(store, start, min(end, self.lo), after_seq)
            self._context(store, max(start, self.hi), end, after_seq)
            self.lo, self.hi = min(self.lo, start), max(self.hi, end)

    def _span_rows(self, store: Store, start: float, end: float, upto_seq: int) -> _Columns:
        """The stored arrivals (seq <= upto_seq) fired in [start, end), for a round's part around
        late reports: memory's rows where it vouches for them, the store's elsewhere. Memory and
        its [lo, hi) are left as they are (hours of picks a late report reaches back to are read
        for that round only; the new arrivals of the round never lie there)."""
        parts = []
        inner = max(start, self.lo), min(end, self.hi)
        gaps = [(start, end)]
        if inner[0] < inner[1]:
            w = self.window
            parts.append(w.take(np.flatnonzero((w.time >= inner[0]) & (w.time < inner[1]))))
            gaps = [(start, inner[0]), (inner[1], end)]
        for a, b in gaps:
            if a < b:
                self.part_reads += 1
                query = ObservationQuery(
                    kinds=("acoustic_arrival",), start=EPOCH + timedelta(seconds=a), end=EPOCH + timedelta(seconds=b)
                )
                rows = (r for r in store.observation_fields(query, FIELDS) if r[0] <= upto_seq)
                parts.append(self._columns(rows, upto_seq))
        out = _Columns()
        for part in parts:
            out = out.joined(part)
        return out.take(np.argsort(out.seq, kind="stable"))

    # --- one round ------------------------------------------------------------------------
    def run(self, store: Store, agreement: Agreement, *, after_seq: int, upto_seq: int) -> dict[str, int]:
        """Associate and locate the arrivals with seq in (after_seq, upto_seq]; write incidents."""
        if self.last_seq != after_seq:
            self._reset()
        radar = [
            s.observation
            for s in _upto(store.observations(ObservationQuery(after_seq=after_seq, kinds=("radar_track",))), upto_seq)
            if isinstance(s.observation, RadarTrack)
        ]
        self.last_seq = None  # until the round has finished: a failed round starts afresh
        query = ObservationQuery(after_seq=after_seq, kinds=("acoustic_arrival",))
        new = self._columns(store.observation_fields(query, FIELDS), upto_seq)
        base = (float(new.time.min()) - CONTEXT_S, float(new.time.max()) + CONTEXT_S) if len(new) else None

        def load(part: Part | None) -> _Loaded:
            if part is not None and not part.base:  # around late reports: nothing new in it
                return self._loaded(_Columns(), self._span_rows(store, part.lo, part.hi, upto_seq), [])
            if base is None:
                return self._loaded(new, _Columns(), radar)
            start, end = base
            if after_seq > 0:  # a first run over a store has no context, as run() has none
                self._read_context(store, start, end, after_seq)
            w = self.window
            ctx = w.take(np.flatnonzero((w.time >= start) & (w.time < end)))
            if part is not None:  # the part reaches past the new arrivals' context: read the rest
                ctx = ctx.joined(self._span_rows(store, part.lo, start, after_seq))
                ctx = ctx.joined(self._span_rows(store, end, part.hi, after_seq))
            return self._loaded(new, ctx.take(np.argsort(ctx.seq, kind="stable")), radar)

        def locate(loaded: _Loaded) -> dict[str, int]:
            return self._locate(store, agreement, loaded, after_seq)

        counts = run_parts(store, after_seq, upto_seq, base, load, locate)
        self.window = self.window.joined(new)
        if after_seq == 0:  # memory now holds every arrival stored up to upto_seq, whenever it fired
            self.lo, self.hi = float("-inf"), float("inf")
        if len(new):
            self._trim(float(np.median(new.time)) - KEEP_S)
        self.last_seq = upto_seq
        counts["stream_memory"] = len(self.window)
        return counts

    def _locate(self, store: Store, agreement: Agreement, loaded: _Loaded, after_seq: int) -> dict[str, int]:
        """:func:`locate_and_write`, leaving out the picks of sensors too far to join any event.

        An event is seeded by bearings, on rays at most ``MAX_RANGE_M`` long from the arrays
        that reported them; a pick without a bearing joins an event only within hearing range
        (``MAX_RANGE_M``) of its origin. So a sensor that reported no bearing and lies more than
        :data:`REACH_M` from every array that did cannot contribute — beside a feed of gateways'
        noise that is most of the window, re-associated every round. If an event nevertheless
        ends up within hearing range of the sensors left out, the round is associated again with
        them (the result is then exactly what :func:`truceline.fuse.run` gives)."""
        arr = loaded.arrivals
        if len(arr) == 0:
            return locate_and_write(store, agreement, loaded, after_seq=after_seq)
        span = (float(arr.time_s.min()), float(arr.time_s.max()))
        far, seeding = _far_rows(arr)
        if not far.any():
            return locate_and_write(store, agreement, loaded, after_seq=after_seq, span=span)
        redone = [False]

        def recheck(assoc: Association) -> _Loaded | None:
            sol = assoc.solutions
            ok = np.isfinite(sol.lon) & np.isfinite(sol.lat)
            if ok.any() and (seeding.query(_unit(sol.lon[ok], sol.lat[ok]))[0].max() * EARTH_M > SAFE_M):
                redone[0] = True
                return loaded
            return None

        far = far & ~_extremes(arr, far)
        near = _take_loaded(loaded, np.flatnonzero(~far))
        counts = locate_and_write(store, agreement, near, after_seq=after_seq, span=span, recheck=recheck)
        if not redone[0]:
            far_new = int((far & loaded.new).sum())
            counts["arrivals"] = counts.get("arrivals", 0) + far_new
            counts["unassociated"] = counts.get("unassociated", 0) + far_new
        counts["stream_far_picks"] = 0 if redone[0] else int(far.sum())
        return counts

    def _loaded(self, new: _Columns, ctx: _Columns, radar: list[RadarTrack]) -> _Loaded:
        """What :func:`truceline.fuse._run._load` would load: new in seq order, then the context
        (``ctx``, in seq order)."""
        both = new.joined(ctx)
        # Sensors and markings numbered in order of first appearance, as a fresh load numbers them.
        sensors, first = np.unique(both.sensor, return_index=True)
        sensors = sensors[np.argsort(first, kind="stable")]
        s_local = np.empty(len(self.sensor_key), dtype=np.intp)
        s_local[sensors] = np.arange(len(sensors))
        marks, mfirst = np.unique(both.mark, return_index=True)
        marks = marks[np.argsort(mfirst, kind="stable")]
        m_local = np.empty(len(self.marks), dtype=np.intp)
        m_local[marks] = np.arange(len(marks))
        lon = np.asarray(self.sensor_lon, dtype=np.float64)
        lat = np.asarray(self.sensor_lat, dtype=np.float64)
        arrivals = Arrivals(
            sensor=s_local[both.sensor],
            time_s=both.time.copy(),
            sigma_s=both.sigma.copy(),
            bearing_deg=both.bearing.copy(),
            bearing_sigma_deg=both.bsigma.copy(),
            sensor_lon=lon[sensors] if len(sensors) else np.zeros(0),
            sensor_lat=lat[sensors] if len(sensors) else np.zeros(0),
        )
        is_new = np.zeros(len(both), dtype=bool)
        is_new[: len(new)] = True
        return _Loaded(
            arrivals,
            _Refs(self.sensor_key, both.sensor, both.keys),
            m_local[both.mark].tolist(),
            [self.marks[int(m)] for m in marks],
            is_new,
            radar,
        )

    def _trim(self, before: float) -> None:
        """Forget what fired before ``before``, never moving back: a late round's picks and the
        context read for them go again, and memory does not grow while the rounds are early."""
        before = max(before, self.trim_before)
        self.trim_before = before
        keep = self.window.time >= before
        if not keep.all():
            self.window = self.window.take(keep)
        self.lo = max(self.lo, before)
        self.hi = max(self.hi, self.lo)


EARTH_M = 6_371_000.0
REACH_M = 3 * MAX_RANGE_M
"""A sensor without bearings farther than this from every array with one is left out of a round."""
SAFE_M = REACH_M - MAX_RANGE_M - 10_000.0
"""An event farther than this from every array with a bearing could hear a sensor left out."""


def _unit(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points on the unit sphere: chord distances between them order like great-circle ones."""
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _far_rows(arr: Arrivals) -> tuple[NDArray[np.bool_], cKDTree]:
    """Which arrivals come from a sensor without bearings beyond :data:`REACH_M` of every array
    with one (chord distance on a sphere, a hair shorter than the arc: never leaves one too many),
    and the tree of those arrays."""
    has_bearing = np.isfinite(arr.bearing_deg)
    seeding_sensors = np.unique(arr.sensor[has_bearing])
    points = _unit(arr.sensor_lon, arr.sensor_lat)
    if len(seeding_sensors) == 0:  # nothing can seed an event: leave the window as it is
        return np.zeros(len(arr), dtype=bool), cKDTree(points[:1])
    tree = cKDTree(points[seeding_sensors])
    nearest = tree.query(points)[0] * EARTH_M
    far_sensor = nearest > REACH_M
    far_sensor[seeding_sensors] = False
    return far_sensor[arr.sensor], tree


def _extremes(arr: Arrivals, far: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The far rows that set the window's first or last time or its largest timing error.

    The association and the incidents read these of the whole window, not only of the picks
    that join: the tolerances scale with the largest timing error, a radar track waits unless
    the window holds every pick it could explain (its first and last time), and an event is
    complete for the patrol reports between them. Leaving out a far row that sets one would
    change them; kept (at most three), it joins nothing, as the rest would not."""
    keep = np.zeros(len(arr), dtype=bool)
    near = ~far
    if not near.any() or not far.any():
        return keep
    rows = np.flatnonzero(far)
    t, sigma = arr.time_s[rows], arr.sigma_s[rows]
    if t.min() < arr.time_s[near].min():
        keep[rows[np.argmin(t)]] = True
    if t.max() > arr.time_s[near].max():
        keep[rows[np.argmax(t)]] = True
    if sigma.max() > arr.sigma_s[near].max():
        keep[rows[np.argmax(sigma)]] = True
    return keep


def _take_loaded(loaded: _Loaded, idx: NDArray[np.intp]) -> _Loaded:
    """The rows ``idx`` of ``loaded`` (sensor and marking numbering unchanged)."""
    a = loaded.arrivals
    refs = loaded.refs
    assert isinstance(refs, _Refs)
    return _Loaded(
        Arrivals(
            a.sensor[idx],
            a.time_s[idx],
            a.sigma_s[idx],
            a.bearing_deg[idx],
            a.bearing_sigma_deg[idx],
            a.sensor_lon,
            a.sensor_lat,
        ),
        _Refs(refs._sensor_key, refs._sensor[idx], refs._keys[idx]),
        [loaded.markings[i] for i in idx.tolist()],
        loaded.marking_table,
        loaded.new[idx],
        loaded.radar,
        loaded.late,
    )


def _upto(rows: Iterator[StoredObservation], upto_seq: int) -> Iterator[StoredObservation]:
    for stored in rows:
        if stored.seq > upto_seq:
            return
        yield stored
