"""The stage entry point: read new arrivals, associate and locate them, write incidents.

Incremental and idempotent: an incident's id comes from its earliest arrival, so running the
same window again writes new versions of the same incidents, never new ones. Arrivals that
reached the store earlier but fired within :data:`CONTEXT_S` of the new ones are read as
context, so a blast whose arrivals straddle two runs is still one incident.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.fuse._associate import MAX_TRAVEL_S, Arrivals, Association, associate
from truceline.fuse._craters import REASON_PENDING as CRATER_PENDING
from truceline.fuse._craters import (
    CraterLinks,
    CraterReports,
    crater_incidents,
    fuse_bearings,
    join_craters,
)
from truceline.fuse._locate import OK, REASONS
from truceline.fuse._met import Weather
from truceline.fuse._observers import (
    REASON_PENDING,
    ObserverLinks,
    PatrolPoints,
    fusable,
    fuse_points,
    join_patrols,
)
from truceline.fuse._radar import RadarTracks, fold_radar
from truceline.fuse._radar_only import radar_only
from truceline.fuse._records import (
    incident_id,
    make_incident,
    make_origin,
    merge_markings,
    now_utc,
)
from truceline.fuse._solo import observation_ref, observer_incidents, radar_only_incidents
from truceline.geo import geodesic_distance_m
from truceline.model import (
    AcousticArrival,
    Incident,
    Markings,
    MetObservation,
    ObservationRef,
    PatrolReport,
    RadarTrack,
    Record,
)
from truceline.store import ObservationQuery, Store, StoredObservation

if TYPE_CHECKING:
    from truceline.fuse._late import Part

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CONTEXT_S = 2 * MAX_TRAVEL_S
MET_MARGIN = timedelta(hours=6)
MAX_PERIOD_S = 86_400.0
"""The longest period a patrol report may cover (the model's limit): reports that began this
long before a window may still describe its explosions."""


def _seconds(t: datetime) -> float:
    return (t - EPOCH).total_seconds()


@dataclass
class _Loaded:
    """Arrivals as columns plus what records need (refs, markings) by index."""

    arrivals: Arrivals
    refs: Sequence[ObservationRef]  # read only for the members of built incidents
    markings: list[int]  # index into marking_table
    marking_table: list[Markings]
    new: NDArray[np.bool_]
    radar: list[RadarTrack] = field(default_factory=list)
    late: frozenset[tuple[str, str, str]] = frozenset()
    """The window's patrol reports decided here (their dedup keys): an event one of them joins
    is built again even without a new arrival (:func:`run_parts`)."""


class _Reader:
    """Collects arrivals into the columns of a :class:`_Loaded`, each report once."""

    def __init__(self) -> None:
        self.sensor_index: dict[str, int] = {}
        self.sensor_lon: list[float] = []
        self.sensor_lat: list[float] = []
        self.mark_index: dict[tuple[object, ...], int] = {}
        self.marks: list[Markings] = []
        self.cols: dict[str, list[float]] = defaultdict(list)
        self.refs: list[ObservationRef] = []
        self.mk: list[int] = []
        self.new: list[bool] = []
        self.seen: set[tuple[str, str, str]] = set()
        self.radar: list[RadarTrack] = []
        self.t_min: datetime | None = None  # of the new arrivals
        self.t_max: datetime | None = None

    def add(self, o: AcousticArrival, is_new: bool) -> None:
        key = o.dedup_key
        if key in self.seen:
            return
        self.seen.add(key)
        cols = self.cols
        # A sensor is its (participant, source); its position is the one the report gives.
        skey = f"{o.participant}\x1f{o.source}"
        s = self.sensor_index.get(skey)
        if s is None:
            s = self.sensor_index[skey] = len(self.sensor_lon)
            self.sensor_lon.append(o.location.lon)
            self.sensor_lat.append(o.location.lat)
        cols["sensor"].append(s)
        cols["time"].append(_seconds(o.time))
        cols["sigma"].append(max(o.time_error_s, 1e-3))
        cols["bearing"].append(o.bearing_deg if o.bearing_deg is not None else np.nan)
        cols["bsigma"].append(o.bearing_error_deg if o.bearing_error_deg is not None else np.nan)
        self.refs.append(ObservationRef(participant=o.participant, source=o.source, key=o.key))
        mkey = (o.markings.tlp, o.markings.originator, o.markings.releasable_to, o.markings.sharing_group)
        m = self.mark_index.get(mkey)  # hashing the tuple, not the record, keeps this cheap
        if m is None:
            m = self.mark_index[mkey] = len(self.marks)
            self.marks.append(o.markings)
        self.mk.append(m)
        self.new.append(is_new)
        if is_new:
            self.t_min = o.time if self.t_min is None or o.time < self.t_min else self.t_min
            self.t_max = o.time if self.t_max is None or o.time > self.t_max else self.t_max

    def window(self, store: Store, after_seq: int, upto_seq: int) -> _Reader:
        """Read the window's arrivals (new) and radar tracks."""
        query = ObservationQuery(after_seq=after_seq, kinds=("acoustic_arrival", "radar_track"))
        for stored in store.observations(query):
            if stored.seq > upto_seq:
                break
            o = stored.observation
            if isinstance(o, AcousticArrival):
                self.add(o, True)
            elif isinstance(o, RadarTrack):
                self.radar.append(o)
        return self

    def base(self) -> tuple[float, float] | None:
        """The time the new arrivals' context is read for (seconds since :data:`EPOCH`)."""
        if self.t_min is None or self.t_max is None:
            return None
        return _seconds(self.t_min) - CONTEXT_S, _seconds(self.t_max) + CONTEXT_S

    def context(self, store: Store, after_seq: int, part: Part | None = None) -> _Reader:
        """Add, in seq order, the arrivals stored up to ``after_seq`` that fired within
        :data:`CONTEXT_S` of the new ones (earlier-stored arrivals of blasts that may also have new
        arrivals), and those of the rest of ``part`` where a round's part reaches beyond that."""
        if self.t_min is None or self.t_max is None or after_seq <= 0:
            return self
        ctx = ObservationQuery(
            kinds=("acoustic_arrival",),
            start=self.t_min - timedelta(seconds=CONTEXT_S),
            end=self.t_max + timedelta(seconds=CONTEXT_S),
        )
        rows: Iterable[StoredObservation] = (s for s in store.observations(ctx) if s.seq <= after_seq)
        base = self.base()
        if part is not None and base is not None and (part.lo < base[0] or part.hi > base[1]):
            more = _stored_arrivals(store, part.lo, base[0], after_seq) + _stored_arrivals(
                store, base[1], part.hi, after_seq
            )
            rows = sorted([*rows, *more], key=lambda s: s.seq)
        for stored in rows:
            if isinstance(stored.observation, AcousticArrival):
                self.add(stored.observation, False)
        return self

    def loaded(self) -> _Loaded:
        cols = self.cols
        arrivals = Arrivals(
            sensor=np.asarray(cols["sensor"], dtype=np.intp),
            time_s=np.asarray(cols["time"], dtype=np.float64),
            sigma_s=np.asarray(cols["sigma"], dtype=np.float64),
            bearing_deg=np.asarray(cols["bearing"], dtype=np.float64),
            bearing_sigma_deg=np.asarray(cols["bsigma"], dtype=np.float64),
            sensor_lon=np.asarray(self.sensor_lon, dtype=np.float64),
            sensor_lat=np.asarray(self.sensor_lat, dtype=np.float64),
        )
        return _Loaded(arrivals, self.refs, self.mk, self.marks, np.asarray(self.new, dtype=bool), self.radar)


def _stored_arrivals(store: Store, lo: float, hi: float, upto_seq: int) -> list[StoredObservation]:
    """The stored arrivals (seq <= upto_seq) that fired in [lo, hi), in seq order."""
    if hi <= lo:
        return []
    query = ObservationQuery(
        kinds=("acoustic_arrival",), start=EPOCH + timedelta(seconds=lo), end=EPOCH + timedelta(seconds=hi)
    )
    return [s for s in store.observations(query) if s.seq <= upto_seq]


def _load(store: Store, after_seq: int, upto_seq: int) -> _Loaded:
    """The window's arrivals (new, in seq order) and their context (in seq order) as columns."""
    return _Reader().window(store, after_seq, upto_seq).context(store, after_seq).loaded()


def _load_part(store: Store, part: Part, upto_seq: int) -> _Loaded:
    """A part of a round without new arrivals: every stored arrival of its time, as context."""
    reader = _Reader()
    for stored in _stored_arrivals(store, part.lo, part.hi, upto_seq):
        if isinstance(stored.observation, AcousticArrival):
            reader.add(stored.observation, False)
    return reader.loaded()


def _weather(store: Store, t_min: float, t_max: float) -> Weather:
    start = EPOCH + timedelta(seconds=t_min) - MET_MARGIN
    end = EPOCH + timedelta(seconds=t_max) + MET_MARGIN
    t, lon, lat, temp, speed, frm = [], [], [], [], [], []
    for stored in store.observations(ObservationQuery(kinds=("met_observation",), start=start, end=end)):
        o = stored.observation
        if isinstance(o, MetObservation):
            t.append(_seconds(o.time))
            lon.append(o.location.lon)
            lat.append(o.location.lat)
            temp.append(o.temperature_c)
            speed.append(o.wind_speed_mps)
            frm.append(o.wind_from_deg)
    return Weather.from_reports(t, lon, lat, temp, speed, frm)


def _reports(
    store: Store, window_radar: Sequence[RadarTrack], t_min: float, t_max: float
) -> tuple[list[PatrolReport], list[RadarTrack]]:
    """The patrol reports whose period may overlap [t_min, t_max], and the radar tracks of the
    window plus those stored earlier that fired in it (read by time, not by seq: a track that
    reached the store a round before its blast's picks still folds into the blast's incident,
    and a following process reads the same as a whole run)."""
    start = EPOCH + timedelta(seconds=t_min)
    end = EPOCH + timedelta(seconds=t_max)
    patrols = []
    query = ObservationQuery(kinds=("patrol_report",), start=start - timedelta(seconds=MAX_PERIOD_S), end=end)
    for stored in store.observations(query):
        o = stored.observation
        if isinstance(o, PatrolReport) and _seconds(o.time) + o.duration_s + o.time_error_s >= t_min - CONTEXT_S:
            patrols.append(o)
    radar = list(window_radar)
    seen = {r.dedup_key for r in radar}
    query = ObservationQuery(kinds=("radar_track",), start=start - timedelta(seconds=CONTEXT_S), end=end)
    for stored in store.observations(query):
        o = stored.observation
        if isinstance(o, RadarTrack) and o.dedup_key not in seen:
            seen.add(o.dedup_key)
            radar.append(o)
    return patrols, radar


def _put(store: Store, records: Sequence[Record]) -> None:
    # One transaction per batch keeps a day's incidents from holding the writer for long.
    for k in range(0, len(records), 20_000):
        store.put_records(records[k : k + 20_000], type="incident")


def _same_solution(old: Record, new: Record) -> bool:
    """Whether fuse's new build of an incident says what the stored version says.

    The same reports, kind, class, sector and status, and each origin (by method) within a tenth
    of its smaller error axis and 10 ms: a later run re-fits the weather from more picks, which
    moves origins by centimetres, and that is no news. Attributions and creation times are other
    stages' and the clock's, not compared."""
    if not (isinstance(old, Incident) and isinstance(new, Incident)):
        return False
    if (set(old.observations), old.kind, old.weapon_class, old.sector, old.evaluation_status, len(old.origins)) != (
        set(new.observations), new.kind, new.weapon_class, new.sector, new.evaluation_status, len(new.origins),
    ):  # fmt: skip
        return False
    if old.markings != new.markings or old.impacts != new.impacts:
        return False
    before = {o.method: o for o in old.origins}
    for o in new.origins:
        b = before.get(o.method)
        if b is None or b.n_observations != o.n_observations or abs((b.time - o.time).total_seconds()) > 0.01:
            return False
        tolerance = 0.1 * min(o.location.error.semi_minor_m, b.location.error.semi_minor_m)
        moved = float(geodesic_distance_m(b.location.lon, b.location.lat, o.location.lon, o.location.lat))
        if moved > tolerance or abs(b.location.error.semi_major_m - o.location.error.semi_major_m) > 0.1 * max(
            b.location.error.semi_major_m, 1.0
        ):
            return False
    return True


def _changed(store: Store, records: Sequence[Record]) -> list[Record]:
    """The incidents that differ from their stored version (or are new).

    Each run re-associates the picks near the new ones, so an incident of the last run is built
    again: writing it again unchanged would churn a version per run and drop what attribute added
    to it. One that did change (a late pick moved its origin) is written, and attribute, reading
    what changed since its cursor, attributes it again."""
    out = []
    for record in records:
        stored = store.get_record("incident", getattr(record, "id", ""))
        if stored is None or not _same_solution(stored.record, record):
            out.append(record)
    return out


def _radar_impacts(
    radar: Sequence[RadarTrack], fold: dict[int, tuple[list[int], float, float, list[list[float]]]]
) -> dict[int, tuple[float, float, NDArray[np.float64]]]:
    """Per radar-confirmed event, the first of its tracks' predicted impacts (incoming patrol reports
    are compared with it: it is the only impact estimate the stage has)."""
    out: dict[int, tuple[float, float, NDArray[np.float64]]] = {}
    for e, (tracks, _, _, _) in fold.items():
        for k in tracks:
            impact = radar[k].impact
            if impact is not None:
                out[e] = (impact.lon, impact.lat, np.asarray(impact.error.covariance(), dtype=np.float64))
                break
    return out


def build_incidents(
    loaded: _Loaded,
    assoc: Association,
    agreement: Agreement,
    created: datetime,
    *,
    standard_atmosphere: bool = False,
    patrols: Sequence[PatrolReport] = (),
    radar: Sequence[RadarTrack] | None = None,
    anchored: Callable[[str], bool] | None = None,
) -> tuple[list[Incident], dict[str, int]]:
    """Incident records for the events that hold at least one new arrival; with them the radar
    tracks and patrol reports that join them, and the incidents of radar tracks and observers'
    reports that join no acoustic event.

    ``radar`` defaults to the loaded window's tracks; ``patrols`` are the reports whose period
    may overlap the arrivals (:func:`locate_and_write` reads them by time). An event a late
    report (``loaded.late``) joins is built too, without a new arrival, where ``anchored`` (if
    given) says its incident is stored: its picks were fused before, so a rebuilt incident is a
    new version of that one, never a second incident for picks another one cites. Without new
    arrivals only the observer- and crater-only incidents a late report is in are built."""
    arr = loaded.arrivals
    sol = assoc.solutions
    ev = assoc.event_of
    tracks_in = list(loaded.radar if radar is None else radar)
    idx = np.flatnonzero(ev >= 0)
    order = idx[np.lexsort((arr.time_s[idx], ev[idx]))]
    e_sorted = ev[order]
    starts = np.r_[0, np.flatnonzero(np.diff(e_sorted)) + 1] if len(order) else np.zeros(0, dtype=np.intp)
    ends = np.r_[starts[1:], len(order)] if len(order) else starts
    has_new = np.zeros(assoc.n_events, dtype=bool)
    has_new[ev[idx[loaded.new[idx]]]] = True
    sectors = agreement.sector_of(sol.lon, sol.lat) if assoc.n_events else np.zeros(0, dtype=str)
    tracks = RadarTracks.from_records(tracks_in, EPOCH)
    radar_fold = fold_radar(tracks, sol)
    folded = {k for members, _, _, _ in radar_fold.values() for k in members}
    rest, radar_counts = radar_only(tracks, folded, assoc, arr)
    joined = {r.event: r for r in rest if r.event >= 0}
    # Crater analyses (a back-bearing from the impact) are joined apart from the observers' logs.
    pts = PatrolPoints.from_records([p for p in patrols if p.impact_bearing_deg is None], EPOCH)
    craters = CraterReports.from_records(patrols, EPOCH)
    # Events that fired from the first pick to MAX_TRAVEL_S before the last have all their picks here.
    complete = (float(arr.time_s.min()), float(arr.time_s.max()) - MAX_TRAVEL_S) if len(arr) else (0.0, -1.0)
    impacts = _radar_impacts(tracks_in, radar_fold)
    links = join_patrols(pts, sol, impacts, complete)
    patrol_of = links.by_event()
    crater_links = join_craters(craters, sol, impacts, complete)
    crater_of = crater_links.by_event()
    late_logs = [k for k in range(len(pts)) if pts.records[k].dedup_key in loaded.late]
    late_craters = [k for k in range(len(craters)) if craters.records[k].dedup_key in loaded.late]
    joined_late = {int(links.event_of[k]) for k in late_logs} | {int(crater_links.event_of[k]) for k in late_craters}
    built_late: set[int] = set()
    fresh = bool(loaded.new.any())
    out: list[Incident] = []
    counts = {
        "incidents": 0, "located": 0, "not_located": 0, "radar_fused": 0, "patrol_linked": 0, "patrol_fused": 0,
        "crater_linked": 0,
    }  # fmt: skip
    for s0, s1 in zip(starts.tolist(), ends.tolist(), strict=True):
        members = order[s0:s1]
        e = int(e_sorted[s0])
        if not has_new[e] and e not in joined_late:
            continue
        refs = [loaded.refs[i] for i in members.tolist()]
        first = refs[0]
        iid = incident_id((first.participant, first.source, first.key))
        if not has_new[e]:
            if anchored is not None and not anchored(iid):
                continue
            built_late.add(e)
        t0 = EPOCH + timedelta(seconds=float(sol.t0[e])) if np.isfinite(sol.t0[e]) else None
        t_first = EPOCH + timedelta(seconds=float(arr.time_s[members].min()))
        t_last = EPOCH + timedelta(seconds=float(arr.time_s[members].max()))
        marks = [loaded.marking_table[m] for m in sorted({loaded.markings[i] for i in members.tolist()})]
        origins = []
        preferred = None
        note = ""
        reports = patrol_of.get(e, [])
        for k in reports:
            refs.append(observation_ref(pts.records[k]))
            marks.append(pts.records[k].markings)
        counts["patrol_linked"] += len(reports)
        crater_ks = crater_of.get(e, [])
        for k in crater_ks:
            refs.append(observation_ref(craters.records[k]))
            marks.append(craters.records[k].markings)
        counts["crater_linked"] += len(crater_ks)
        if sol.status[e] == OK and t0 is not None:
            cov = sol.cov[e]
            origin = make_origin(
                iid,
                "tdoa",
                float(sol.lon[e]),
                float(sol.lat[e]),
                cov[:2, :2].tolist(),
                t0,
                float(np.sqrt(max(cov[2, 2], 0.0))),
                int(sol.n_used[e]),
                float(sol.rms_s[e]),
                created,
                note=f"sound speed {assoc.c[e]:.1f} m/s, wind ({assoc.wind_e[e]:.1f}, {assoc.wind_n[e]:.1f}) m/s"
                + (" (no met reports: standard atmosphere, calibrated by the arrivals)" if standard_atmosphere else ""),
            )
            origins.append(origin)
            preferred = origin.id
            counts["located"] += 1
            best: tuple[float, float, list[list[float]]] = (
                origin.location.lon,
                origin.location.lat,
                cov[:2, :2].tolist(),
            )
            n_fused = len(members)
            parts = []
            fused = radar_fold.get(e)
            if fused is not None:
                track_idx, lon, lat, fcov = fused
                for k in track_idx:
                    refs.append(observation_ref(tracks_in[k]))
                    marks.append(tracks_in[k].markings)
                best = (lon, lat, fcov)
                n_fused += len(track_idx)
                parts.append("radar")
                counts["radar_fused"] += 1
            # Observers' points: independent of the arrays and the radar, kilometres wide.
            points = [(float(pts.lon[k]), float(pts.lat[k]), pts.cov[k]) for k in reports if fusable(pts, links, k)]
            if points:
                best = fuse_points(best[0], best[1], best[2], points)
                n_fused += len(points)
                parts.append("observer")
                counts["patrol_fused"] += 1
            # Craters' back-bearings: lines through the origin, kilometres wide across, none along.
            if crater_ks:
                best = fuse_bearings(best[0], best[1], best[2], craters, crater_ks)
                n_fused += len(crater_ks)
                parts.append("crater back-bearing")
            if parts:
                fo = make_origin(
                    iid,
                    "fused",
                    best[0],
                    best[1],
                    best[2],
                    t0,
                    origin.time_error_s,
                    n_fused,
                    None,
                    created,
                    note=f"acoustic and {' and '.join(parts)} origins combined in information form",
                )
                origins.append(fo)
                preferred = fo.id
        else:
            counts["not_located"] += 1
            note = REASONS.get(int(sol.status[e]), "not locatable")
            r = joined.get(e)
            if r is not None:
                # The arrays heard it but could not fix it; a radar track predicts every pick.
                for k in r.tracks:
                    refs.append(observation_ref(tracks_in[k]))
                    marks.append(tracks_in[k].markings)
                ro = make_origin(
                    iid, "radar", r.lon, r.lat, r.cov, EPOCH + timedelta(seconds=r.time_s), 0.5, len(r.tracks), None,
                    created, note=f"radar origin; the acoustic picks agree with it ({note})",
                )  # fmt: skip
                origins.append(ro)
                preferred = ro.id
                note = ""
                counts["radar_fused"] += 1
        start = t0 if t0 is not None and t0 <= t_first else t_first
        out.append(
            make_incident(
                iid,
                refs,
                origins,
                preferred,
                start,
                t_last,
                merge_markings(marks),
                created,
                str(sectors[e]) if len(sectors) else None,
                note=note,
            )
        )
    if fresh:
        out.extend(radar_only_incidents(loaded, tracks_in, [r for r in rest if r.event < 0], agreement, created, EPOCH))
        out.extend(observer_incidents(pts, links, agreement, created, EPOCH))
        out.extend(crater_incidents(craters, crater_links, agreement, created, EPOCH))
    else:  # nothing new but late reports: what they are in, and nothing the last build did not change
        log_set, crater_set = set(late_logs), set(late_craters)
        fixes = [f for f in links.fixes if log_set.intersection(f.members)]
        out.extend(observer_incidents(pts, replace(links, fixes=fixes), agreement, created, EPOCH))
        crater_fixes = [f for f in crater_links.fixes if crater_set.intersection(f.members)]
        out.extend(crater_incidents(craters, replace(crater_links, fixes=crater_fixes), agreement, created, EPOCH))
    if loaded.late:
        built = set(np.flatnonzero(has_new).tolist()) | built_late
        _late_counts(counts, late_logs, links, late_craters, crater_links, built)
    counts.update(radar_counts)
    counts["radar_new_picks"] = sum(int(loaded.new[r.picks].sum()) for r in rest if r.event < 0 and r.picks)
    counts["patrol_reports"] = len(pts)
    counts["patrol_ambiguous"] = int(links.ambiguous.sum())
    counts["patrol_pending"] = sum(1 for r in links.reason if r == REASON_PENDING)
    counts["observer_only"] = len(links.fixes)
    counts["crater_reports"] = len(craters)
    counts["crater_candidates"] = int((crater_links.candidates > 0).sum())
    counts["crater_ambiguous"] = int(crater_links.ambiguous.sum())
    counts["crater_pending"] = sum(1 for r in crater_links.reason if r == CRATER_PENDING)
    counts["crater_only"] = len(crater_links.fixes)
    counts["incidents"] = len(out)
    return out, counts


def _late_counts(
    counts: dict[str, int],
    logs: Sequence[int],
    links: ObserverLinks,
    craters: Sequence[int],
    crater_links: CraterLinks,
    built: set[int],
) -> None:
    """What became of the late reports decided here: joined a built incident, in an observer- or
    crater-only fix, waiting for their whole time, or joined nothing (no match, ambiguous, or an
    event whose incident is not stored: ``late_unanchored``)."""
    for ks, ls, pending in ((logs, links, REASON_PENDING), (craters, crater_links, CRATER_PENDING)):
        fixed = {k for f in ls.fixes for k in f.members}
        for k in ks:
            e = int(ls.event_of[k])
            if e >= 0:
                key = "late_joined" if e in built else "late_unanchored"
            elif k in fixed:
                key = "late_fixed"
            elif ls.reason[k] == pending:
                key = "late_pending"
            else:
                key = "late_unmatched"
            counts[key] = counts.get(key, 0) + 1


def run(store: Store, agreement: Agreement, *, after_seq: int, upto_seq: int) -> dict[str, int]:
    """Associate and locate the acoustic arrivals with seq in (after_seq, upto_seq]; write incidents.

    Patrol reports and crater analyses stored in the window after the first are decided by
    building again the incidents they may join (:func:`run_parts`)."""
    from truceline.fuse._late import run_parts  # it imports this module's loading and constants

    reader = _Reader().window(store, after_seq, upto_seq)

    def load(part: Part | None) -> _Loaded:
        if part is None or part.base:
            return reader.context(store, after_seq, part).loaded()
        return _load_part(store, part, upto_seq)

    def locate(loaded: _Loaded) -> dict[str, int]:
        return locate_and_write(store, agreement, loaded, after_seq=after_seq)

    return run_parts(store, after_seq, upto_seq, reader.base(), load, locate)


def locate_and_write(
    store: Store,
    agreement: Agreement,
    loaded: _Loaded,
    *,
    after_seq: int,
    span: tuple[float, float] | None = None,
    recheck: Callable[[Association], _Loaded | None] | None = None,
) -> dict[str, int]:
    """Associate ``loaded`` (new arrivals and their context), build the incidents that hold a new
    arrival, and write those that changed. Shared by :func:`run` and the following process's
    :class:`~truceline.fuse._stream.FuseStream`, which keeps the context in memory.

    ``span`` (seconds since :data:`EPOCH`) is the time the weather is read for, by default the
    arrivals' own; ``recheck`` may look at the association and ask for it to be done again on
    other arrivals (the stream's check that the picks it left out could not have joined)."""
    arr = loaded.arrivals
    if len(arr) == 0:
        # No picks at all in a late report's time: none can be complete there, as in a run.
        return {"incidents": 0, "arrivals": 0, **({"late_pending": len(loaded.late)} if loaded.late else {})}
    lo, hi = span if span is not None else (float(arr.time_s.min()), float(arr.time_s.max()))
    weather = _weather(store, lo, hi)
    assoc = associate(arr, weather)
    again = recheck(assoc) if recheck is not None else None
    if again is not None:
        loaded = again
        assoc = associate(loaded.arrivals, weather)
    patrols, radar = _reports(store, loaded.radar, lo, hi)
    incidents, counts = build_incidents(
        loaded,
        assoc,
        agreement,
        now_utc(),
        standard_atmosphere=weather.standard,
        patrols=patrols,
        radar=radar,
        anchored=(lambda iid: store.get_record("incident", iid) is not None) if loaded.late else None,
    )
    # A first run over an empty store has nothing to compare with (a day: 70,000 look-ups saved).
    written: Sequence[Record] = _changed(store, incidents) if after_seq > 0 else incidents
    counts["unchanged"] = len(incidents) - len(written)
    _put(store, written)
    counts["arrivals"] = int(loaded.new.sum())
    # Free picks a radar-only incident cites are associated, with the radar's shot.
    counts["unassociated"] = int(((assoc.event_of < 0) & loaded.new).sum()) - counts.pop("radar_new_picks", 0)
    return counts
