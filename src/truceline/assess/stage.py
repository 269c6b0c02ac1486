"""The assess stage: per sector and day, an escalation fit and a calibrated early warning.

:func:`run` reads the observations of the new window to learn which days changed, then the
reports the indicators need from four weeks before those days (the baselines) and the fire
incidents of the fuse/attribute stages, and writes one :class:`~truceline.model.Assessment`
per sector per day. Ids are ``assessment:<sector>:<day>``, so a rerun writes new versions of the
same records; ``creation_info.created`` is the end of the assessed day (the time the assessment
speaks for), so the same input gives the same records byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from truceline.agreement import Agreement
from truceline.assess.escalation import EscalationEstimate, daily_cycles, rolling_escalation, shared_decay
from truceline.assess.indicators import (
    DESCRIPTIONS,
    RELEVANT_KINDS,
    DailyTable,
    FireEvents,
    daily_table,
    refs_for,
    sector_fire,
)
from truceline.assess.warning import FEATURES, WarningModel, feature_tensor, levels, load_model
from truceline.model import Assessment, CreationInfo, Incident, Markings, ObservationBase, Record
from truceline.model.products import Driver
from truceline.store import ObservationQuery, Store

__all__ = ["AGENT", "LOOKBACK_DAYS", "assess_days", "fire_events", "run"]

AGENT = "truceline.assess"
VERSION = "1"
LOOKBACK_DAYS = 27  # four weeks of context: the baselines of the trend features and the Hawkes window
WINDOW_DAYS = 28.0  # the escalation fit's window: four weeks, unless the last two weeks differ
CHANGE_WINDOW_DAYS = 14.0
_TLP_ORDER = ("clear", "green", "amber", "amber+strict", "red")
# Kinds that arrive every day in volume but are light to read: they tell which days a window touched.
_DAY_MARKERS = ("met_observation",)


def _put(store: Store, records: Sequence[Record]) -> None:
    put_many = getattr(store, "put_records", None)
    if callable(put_many):
        put_many(list(records), type="assessment")
    else:  # a store from before the batch method
        for r in records:
            store.put_record(r, type="assessment")


def fire_events(incidents: Iterable[Incident], agreement: Agreement) -> FireEvents:
    """Fire incidents as arrays: origin time, sector (the incident's or its origin's), P(UKR fired)."""
    times: list[float] = []
    sectors: list[str] = []
    p_ukr: list[float] = []
    ids: list[str] = []
    unplaced: list[tuple[int, float, float]] = []
    for inc in incidents:
        if inc.kind != "fire":
            continue
        origin = inc.preferred_origin
        times.append((origin.time if origin is not None else inc.start).timestamp())
        att = next((a for a in inc.attributions if a.id == inc.preferred_attribution_id), None)
        att = att or (inc.attributions[-1] if inc.attributions else None)
        p = 0.5 if att is None else float(att.probabilities.get("UKR", 1.0 - att.probabilities.get("RUS", 0.5)))
        p_ukr.append(min(max(p, 0.0), 1.0))
        ids.append(inc.id)
        if inc.sector is not None:
            sectors.append(inc.sector)
        else:
            sectors.append("")
            if origin is not None:
                unplaced.append((len(sectors) - 1, origin.location.lon, origin.location.lat))
    sector_arr = np.array(sectors, dtype=np.str_) if sectors else np.zeros(0, dtype=np.str_)
    if unplaced:
        rows = np.array([u[0] for u in unplaced])
        placed = agreement.sector_of([u[1] for u in unplaced], [u[2] for u in unplaced])
        sector_arr = sector_arr.astype(object)
        sector_arr[rows] = placed
        sector_arr = sector_arr.astype(np.str_)
    return FireEvents(np.array(times), sector_arr, np.array(p_ukr), tuple(ids))


def _combined_markings(marks: Sequence[Markings], originator: str) -> Markings:
    """The most restrictive TLP of the sources; the recipients every restricted source allows."""
    if not marks:
        return Markings(tlp="amber", originator=originator)
    tlp = max((m.tlp for m in marks), key=_TLP_ORDER.index)
    restricted = [set(m.releasable_to) for m in marks if m.releasable_to]
    allowed = tuple(sorted(set.intersection(*restricted))) if restricted else ()
    if tlp == "red" and not allowed:
        allowed = (originator,)
    return Markings(tlp=tlp, originator=originator, releasable_to=allowed)


def _originator(agreement: Agreement) -> str:
    """The mechanism itself (the monitoring organisation) speaks for an assessment, else the first monitor."""
    monitors = [p for p in agreement.participants if "monitor" in p.roles]
    for p in monitors:
        if p.kind == "organisation":
            return p.id
    return monitors[0].id if monitors else "MVM"


def assess_days(
    agreement: Agreement,
    first_day: date,
    last_day: date,
    observations: Iterable[ObservationBase],
    fire: FireEvents,
    *,
    model: WarningModel | None = None,
    data_start: date | None = None,
) -> list[Assessment]:
    """Assessments for every sector and every day in [first_day, last_day] from the data given.

    ``observations`` and ``fire`` should reach :data:`LOOKBACK_DAYS` before ``first_day``;
    ``data_start`` is when the data begin (no window reaches before it).
    """
    model = model or load_model()
    start = first_day - timedelta(days=LOOKBACK_DAYS)
    days = (last_day - start).days + 1
    table = daily_table(agreement, start, days, observations, fire)
    axis = np.array([s.kind == "approach_axis" for s in agreement.sectors])
    feats = feature_tensor(table, axis)
    p7, p14 = model.probabilities(feats)
    contrib = model.contributions(feats)
    origin = datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()
    day_ends = origin + 86_400.0 * np.arange(1, days + 1, dtype=np.float64)
    coverage = _coverage_start(table, data_start)
    first = LOOKBACK_DAYS
    escalation: dict[int, list[EscalationEstimate]] = {}
    series = {s: sector_fire(fire, sid) for s, sid in enumerate(table.sectors)}
    series = {s: tp for s, tp in series.items() if len(tp[0])}
    # The fire's daily cycle and one response delay β for all sectors, from the four weeks before
    # each day (see daily_cycles and shared_decay).
    floor = max(coverage, origin)
    cycles = daily_cycles(list(series.values()), day_ends[first:], coverage_start_s=floor)
    decays = shared_decay(list(series.values()), day_ends[first:], coverage_start_s=floor, cycles=cycles)
    for s, (t, p) in series.items():
        escalation[s] = rolling_escalation(
            t, p, day_ends[first:], window_days=WINDOW_DAYS, change_window_days=CHANGE_WINDOW_DAYS,
            coverage_start_s=floor, decays=decays, cycles=cycles,
        )  # fmt: skip
    spiral = np.zeros(p7.shape, dtype=bool)
    for s, estimates in escalation.items():
        spiral[s, first:] = [e.spiral for e in estimates]
    level = levels(p7, p14, spiral, model.thresholds)
    originator = _originator(agreement)
    out: list[Assessment] = []
    for s, sid in enumerate(table.sectors):
        markings = _combined_markings(table.markings.get(s, []), originator)
        for d in range(first, days):
            est = escalation[s][d - first] if s in escalation else None
            day = table.day(d)
            out.append(
                Assessment(
                    id=f"assessment:{sid}:{day.isoformat()}",
                    sector=sid,
                    day=day.isoformat(),
                    warning_level=int(level[s, d]),
                    p_offensive_7d=_prob(p7[s, d]),
                    p_offensive_14d=_prob(p14[s, d]),
                    **_escalation_fields(est),
                    drivers=_drivers(table, s, d, feats[s, d], contrib[s, d], model, est),
                    markings=markings,
                    creation_info=CreationInfo(
                        agent=AGENT,
                        created=datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1),
                        version=VERSION,
                        participant=originator,
                    ),
                )
            )
    return out


def _escalation_fields(est: EscalationEstimate | None) -> dict[str, Any]:
    """The Hawkes fit's numbers as the Assessment's fields (all None without a fit)."""
    if est is None:
        return {}
    out: dict[str, Any] = {
        "escalation_events": est.n_events,
        "escalation_window_days": round(est.window_days, 4),
    }
    if est.branching_ratio is None:
        return out
    ukr, rus = est.retaliation or (None, None)
    ukr_se, rus_se = est.retaliation_se or (None, None)
    return {
        **out,
        "branching_ratio": est.branching_ratio,
        "branching_ratio_se": est.branching_ratio_se,
        "retaliation_ukr": ukr,
        "retaliation_ukr_se": ukr_se,
        "retaliation_rus": rus,
        "retaliation_rus_se": rus_se,
        "escalation_decay_per_hour": est.decay_per_hour,
    }


def _prob(p: float) -> float:
    return float(min(max(p, 0.0), 1.0)) if np.isfinite(p) else 0.5


def _coverage_start(table: DailyTable, data_start: date | None) -> float:
    if data_start is not None:
        return datetime(data_start.year, data_start.month, data_start.day, tzinfo=UTC).timestamp()
    any_data = np.flatnonzero(table.counts.sum(axis=(0, 2)) > 0)
    first = table.day(int(any_data[0])) if len(any_data) else table.start
    return datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()


_FEATURE_INDICATOR = {
    "gnss": "gnss",
    "denials": "denials",
    "denials_trend": "denials",
    "logistics": "logistics",
    "logistics_vs_peers": "logistics",
    "air_defence": "air_defence",
    "armour": "armour",
    "armour_vs_peers": "armour",
    "heavy_in_zone": "heavy_in_zone",
    "claims": "claims",
    "explosion_share": "explosions",
    "fire_trend": "fire",
    "fire_surge": "fire",
}


def _drivers(
    table: DailyTable,
    s: int,
    d: int,
    feats: np.ndarray,
    contrib: np.ndarray,
    model: WarningModel,
    est: EscalationEstimate | None,
) -> tuple[Driver, ...]:
    """The features that moved the 14-day log-odds most (up or down), and the escalation fit."""
    out: list[Driver] = []
    for k in np.argsort(-np.abs(contrib))[:4]:
        name = FEATURES[int(k)]
        if abs(float(contrib[k])) < 0.05:
            continue
        indicator = _FEATURE_INDICATOR.get(name)
        refs = refs_for(table, s, range(max(d - 6, 0), d + 1), indicator) if indicator else []
        cited = "; ".join(f"{r.participant}/{r.source}/{r.key}" for r in refs)
        what = DESCRIPTIONS.get(indicator or "", name)
        out.append(
            Driver(
                indicator=name,
                value=float(feats[k]),
                baseline=float(model.mean[k]),
                contribution=float(contrib[k]),
                description=f"{what} ({name}); reports e.g. {cited}" if cited else f"{what} ({name})",
            )
        )
    if est is not None:
        if est.branching_ratio is None:
            out.append(Driver(indicator="hawkes", value=float(est.n_events), contribution=0.0, description=est.message))
        else:
            a01, a10 = est.retaliation or (0.0, 0.0)
            se = "" if est.branching_ratio_se is None else f" ± {est.branching_ratio_se:.2f}"
            out.append(
                Driver(
                    indicator="hawkes_spiral" if est.spiral else "hawkes",
                    value=est.branching_ratio,
                    baseline=0.5,
                    contribution=1.0 if est.spiral else 0.0,
                    description=(
                        f"branching ratio {est.branching_ratio:.2f}{se} over {round(est.window_days, 1):g} days "
                        f"({est.n_events} fire incidents); "
                        f"retaliation UKR←RUS {a01:.2f}, RUS←UKR {a10:.2f}"
                        + (f"; spiral: {est.message}" if est.spiral else "")
                    ),
                )
            )
    return tuple(out)


def run(store: Store, agreement: Agreement, *, after_seq: int, upto_seq: int) -> dict[str, int]:
    """Assess every sector for every day the observations in (after_seq, upto_seq] touch."""
    touched: set[date] = set()
    for row in store.observations(ObservationQuery(after_seq=after_seq, kinds=RELEVANT_KINDS + _DAY_MARKERS)):
        if row.seq > upto_seq:
            break
        touched.add(row.observation.time.astimezone(UTC).date())
    if not touched:
        return {"assessments": 0, "sector_days": 0}
    first_day, last_day = min(touched), max(touched)
    lo = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC) - timedelta(days=LOOKBACK_DAYS)
    hi = datetime(last_day.year, last_day.month, last_day.day, tzinfo=UTC) + timedelta(days=1)
    observations = [
        row.observation
        for row in store.observations(ObservationQuery(kinds=RELEVANT_KINDS, start=lo, end=hi))
        if row.seq <= upto_seq
    ]
    incidents = [
        r.record
        for r in store.records("incident")
        if isinstance(r.record, Incident) and lo <= r.record.start < hi and r.record.kind == "fire"
    ]
    records = assess_days(agreement, first_day, last_day, observations, fire_events(incidents, agreement))
    _put(store, records)
    return {
        "assessments": len(records),
        "sector_days": len(records),
        "warnings_level4plus": sum(1 for a in records if a.warning_level >= 4),
        "fire_incidents": len(incidents),
    }
