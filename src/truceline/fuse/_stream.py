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
the memory drops what fired more than :data:`KEEP_S` before the round's median arrival time.
A window that does not continue the last one (another process moved the cursor, a round
failed and is run again) starts the memory afresh.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.fuse._associate import Arrivals
from truceline.fuse._run import CONTEXT_S, EPOCH, _Loaded, _seconds, locate_and_write
from truceline.model import AcousticArrival, Markings, ObservationRef, RadarTrack
from truceline.store import ObservationQuery, Store, StoredObservation

KEEP_S = CONTEXT_S + 60.0
"""How far before a round's median arrival the memory reaches: a round's context starts
``CONTEXT_S`` before its earliest new pick, and picks up to a minute late still find theirs here."""

_FLOATS = ("time", "sigma", "bearing", "bsigma")


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
        self.marks: list[Markings] = []
        self.store_reads = 0  # context reads from the store (the first round, late picks)

    # --- reading ------------------------------------------------------------------------
    def _columns(self, rows: list[tuple[int, AcousticArrival]]) -> _Columns:
        n = len(rows)
        out = {name: np.empty(n) for name in _FLOATS}
        seq = np.empty(n, dtype=np.int64)
        sensor = np.empty(n, dtype=np.intp)
        mark = np.empty(n, dtype=np.intp)
        keys = np.empty(n, dtype=object)
        for k, (s, o) in enumerate(rows):
            skey = (o.participant, o.source)
            j = self.sensor_index.get(skey)
            if j is None:  # a sensor is its (participant, source), where its first report puts it
                j = self.sensor_index[skey] = len(self.sensor_key)
                self.sensor_key.append(skey)
                self.sensor_lon.append(o.location.lon)
                self.sensor_lat.append(o.location.lat)
            m = o.markings
            mkey = (m.tlp, m.originator, m.releasable_to, m.sharing_group)
            mi = self.mark_index.get(mkey)
            if mi is None:
                mi = self.mark_index[mkey] = len(self.marks)
                self.marks.append(m)
            seq[k], sensor[k], mark[k], keys[k] = s, j, mi, o.key
            out["time"][k] = _seconds(o.time)
            out["sigma"][k] = max(o.time_error_s, 1e-3)
            out["bearing"][k] = o.bearing_deg if o.bearing_deg is not None else np.nan
            out["bsigma"][k] = o.bearing_error_deg if o.bearing_error_deg is not None else np.nan
        return _Columns(seq, sensor, mark, out["time"], out["sigma"], out["bearing"], out["bsigma"], keys)

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
        rows = [
            (s.seq, s.observation)
            for s in store.observations(query)
            if s.seq <= upto_seq and isinstance(s.observation, AcousticArrival)
        ]
        got = self._columns(rows)
        got = got.take(~np.isin(got.seq, self.window.seq))
        self.window = self.window.joined(got)

    # --- one round ------------------------------------------------------------------------
    def run(self, store: Store, agreement: Agreement, *, after_seq: int, upto_seq: int) -> dict[str, int]:
        """Associate and locate the arrivals with seq in (after_seq, upto_seq]; write incidents."""
        if self.last_seq != after_seq:
            self._reset()
        new_rows: list[tuple[int, AcousticArrival]] = []
        radar: list[RadarTrack] = []
        query = ObservationQuery(after_seq=after_seq, kinds=("acoustic_arrival", "radar_track"))
        for stored in _upto(store.observations(query), upto_seq):
            o = stored.observation
            if isinstance(o, AcousticArrival):
                new_rows.append((stored.seq, o))
            elif isinstance(o, RadarTrack):
                radar.append(o)
        self.last_seq = None  # until the round has finished: a failed round starts afresh
        new = self._columns(new_rows)
        if len(new):
            t_min, t_max = float(new.time.min()), float(new.time.max())
            start, end = t_min - CONTEXT_S, t_max + CONTEXT_S
            if after_seq > 0:  # a first run over a store has no context, as run() has none
                if self.lo == float("inf"):
                    self._context(store, start, end, after_seq)
                else:
                    self._context(store, start, min(end, self.lo), after_seq)
                    self._context(store, max(start, self.hi), end, after_seq)
                self.lo, self.hi = min(self.lo, start), max(self.hi, end)
            loaded = self._loaded(new, start, end, radar)
        else:
            loaded = self._loaded(new, 0.0, 0.0, radar)
        counts = locate_and_write(store, agreement, loaded, after_seq=after_seq)
        self.window = self.window.joined(new)
        if len(new):
            self._trim(float(np.median(new.time)) - KEEP_S)
        self.last_seq = upto_seq
        counts["memory_arrivals"] = len(self.window)
        return counts

    def _loaded(self, new: _Columns, start: float, end: float, radar: list[RadarTrack]) -> _Loaded:
        """What :func:`truceline.fuse._run._load` would load: new in seq order, then the context."""
        w = self.window
        ctx = w.take(np.flatnonzero((w.time >= start) & (w.time < end)))
        ctx = ctx.take(np.argsort(ctx.seq, kind="stable"))
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
        """Forget what fired before ``before`` (never moving back: a late round does not refill)."""
        if before <= self.trim_before:
            return
        self.trim_before = before
        keep = self.window.time >= before
        if not keep.all():
            self.window = self.window.take(keep)
        self.lo = max(self.lo, before)
        self.hi = max(self.hi, self.lo)


def _upto(rows: Iterator[StoredObservation], upto_seq: int) -> Iterator[StoredObservation]:
    for stored in rows:
        if stored.seq > upto_seq:
            return
        yield stored
