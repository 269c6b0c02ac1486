"""Late reports: patrol logs and crater analyses stored after the picks they describe were fused.

A patrol log is filed hours after the picks of its explosions were fused, a crater analysis days
after; no round re-associates those picks for a new arrival. So a round whose window holds patrol
reports (either kind) associates again the stored arrivals of the time each may describe and
builds again the incidents the window's reports join; :func:`~truceline.fuse._run._changed` writes
those that now cite one (docs/fuse.md, "Late reports"). :func:`run_parts` is one round, shared by
:func:`truceline.fuse._run.run` and :class:`~truceline.fuse._stream.FuseStream`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from numpy.typing import NDArray

from truceline.fuse._associate import MAX_TRAVEL_S
from truceline.fuse._craters import TIME_GATE_Z, CraterReports
from truceline.fuse._observers import PatrolPoints
from truceline.fuse._run import CONTEXT_S, EPOCH, MAX_PERIOD_S, _Loaded
from truceline.model import PatrolReport
from truceline.store import ObservationQuery, Store

MAX_GATE_S = MAX_PERIOD_S
"""A late report is decided only when the origin times it may join span at most this long: one
vaguer in time would cost more than a day of picks (it is counted ``late_pending``)."""


@dataclass(frozen=True)
class Part:
    """A stretch of a round's time, associated on its own: the arrivals fired in [lo, hi)
    (seconds since :data:`EPOCH`); ``base``: it holds the window's new arrivals and their context;
    ``late``: the window's reports decided in it (dedup keys)."""

    lo: float
    hi: float
    base: bool
    late: frozenset[tuple[str, str, str]]


def window_reports(store: Store, after_seq: int, upto_seq: int) -> list[PatrolReport]:
    """The patrol reports and crater analyses stored with seq in (after_seq, upto_seq]."""
    out = []
    for stored in store.observations(ObservationQuery(after_seq=after_seq, kinds=("patrol_report",))):
        if stored.seq > upto_seq:
            break
        if isinstance(stored.observation, PatrolReport):
            out.append(stored.observation)
    return out


def report_gates(reports: Sequence[PatrolReport]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Per report, the origin times of the events it may join — the span :func:`join_patrols` and
    :func:`join_craters` want whole before they decide it (a log's period ± its time error; a
    crater's time ± the 99.9 % time gate) — and whether it places anything at all."""
    n = len(reports)
    lo, hi, places = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    logs = [k for k, r in enumerate(reports) if r.impact_bearing_deg is None]
    craters = [k for k, r in enumerate(reports) if r.impact_bearing_deg is not None]
    pts = PatrolPoints.from_records([reports[k] for k in logs], EPOCH)
    lo[logs], hi[logs] = pts.t0 - pts.terr, pts.t1 + pts.terr
    places[logs] = [not reason for reason in pts.reason]
    cr = CraterReports.from_records([reports[k] for k in craters], EPOCH)
    lo[craters], hi[craters] = cr.t - TIME_GATE_Z * cr.terr, cr.t + TIME_GATE_Z * cr.terr
    places[craters] = [not reason for reason in cr.reason]
    return lo, hi, places


def _reach(lo: float, hi: float) -> tuple[float, float]:
    """The arrivals to read for events that fired in [lo, hi]: their picks come up to
    ``MAX_TRAVEL_S`` later, and ``CONTEXT_S`` either side keeps the association of the edge
    events (and so the span the window holds whole) as in a run over everything."""
    return lo - CONTEXT_S, hi + MAX_TRAVEL_S + CONTEXT_S


def plan_round(
    store: Store, reports: Sequence[PatrolReport], base: tuple[float, float] | None
) -> tuple[list[Part], dict[str, int]]:
    """The parts of a round: the new arrivals' context ``base`` (if any) and, per report of the
    window, the arrivals of the time it may describe; overlapping ones merged, in time order.

    A stored report whose gate meets a late report's may join the same events; it is decided
    again beside it, so its own gate is read whole too (else it would wait there, and an incident
    it joined before would be built again without it)."""
    counts = dict.fromkeys(("late_reports", "late_joined", "late_fixed", "late_pending", "late_unmatched"), 0)
    counts["late_reports"] = len(reports)
    lo, hi, places = report_gates(reports)
    decided = places & (hi - lo <= MAX_GATE_S)
    counts["late_unmatched"] += int((~places).sum())  # no position: nothing to join, nothing rebuilt
    counts["late_pending"] += int((places & ~decided).sum())
    spans: list[tuple[float, float, bool, frozenset[tuple[str, str, str]]]] = []
    if base is not None:
        spans.append((base[0], base[1], True, frozenset()))
    if decided.any():
        keys = {r.dedup_key for r in reports}
        g_lo, g_hi = _merged(lo[decided], hi[decided])
        start = EPOCH + timedelta(seconds=float(g_lo.min()) - MAX_GATE_S)
        end = EPOCH + timedelta(seconds=float(g_hi.max()) + MAX_GATE_S)
        query = ObservationQuery(kinds=("patrol_report",), start=start, end=end)
        others = [
            s.observation
            for s in store.observations(query)
            if isinstance(s.observation, PatrolReport) and s.observation.dedup_key not in keys
        ]
        o_lo, o_hi, o_places = report_gates(others)
        at = np.searchsorted(g_lo, o_hi, side="right") - 1
        meets = o_places & (o_hi - o_lo <= MAX_GATE_S) & (at >= 0) & (g_hi[np.maximum(at, 0)] >= o_lo)
        for k in np.flatnonzero(meets).tolist():
            spans.append((*_reach(float(o_lo[k]), float(o_hi[k])), False, frozenset()))
        for k in np.flatnonzero(decided).tolist():
            spans.append((*_reach(float(lo[k]), float(hi[k])), False, frozenset([reports[k].dedup_key])))
    parts: list[Part] = []
    for a, b, is_base, late in sorted(spans, key=lambda s: s[0]):
        if parts and a <= parts[-1].hi:
            last = parts[-1]
            parts[-1] = Part(last.lo, max(last.hi, b), last.base or is_base, last.late | late)
        else:
            parts.append(Part(a, b, is_base, late))
    return parts, counts


def _merged(lo: NDArray[np.float64], hi: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The union of the intervals [lo, hi] as sorted disjoint intervals."""
    order = np.argsort(lo, kind="stable")
    out_lo: list[float] = []
    out_hi: list[float] = []
    for a, b in zip(lo[order].tolist(), hi[order].tolist(), strict=True):
        if out_hi and a <= out_hi[-1]:
            out_hi[-1] = max(out_hi[-1], b)
        else:
            out_lo.append(a)
            out_hi.append(b)
    return np.asarray(out_lo, dtype=np.float64), np.asarray(out_hi, dtype=np.float64)


def run_parts(
    store: Store,
    after_seq: int,
    upto_seq: int,
    base: tuple[float, float] | None,
    load: Callable[[Part | None], _Loaded],
    locate: Callable[[_Loaded], dict[str, int]],
) -> dict[str, int]:
    """One round, shared by :func:`run` and :class:`~truceline.fuse._stream.FuseStream` (which
    load arrivals their own way): the new arrivals with their context (``load(None)``), or, when
    the window holds patrol reports and is not the first, each part of :func:`plan_round`."""
    reports = window_reports(store, after_seq, upto_seq) if after_seq > 0 else []
    if not reports:
        return locate(load(None))
    parts, counts = plan_round(store, reports, base)
    if base is None:  # no new arrivals: the round's own part is empty, as without reports
        _add_counts(counts, locate(load(None)))
    for part in parts:
        loaded = load(part)
        loaded.late = part.late
        _add_counts(counts, locate(loaded))
    return counts


def _add_counts(total: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value
