"""Scores of what the pipeline produced against the truth, one function per section.

Each returns a dict of plain numbers (``None`` where a ratio has no denominator — never NaN),
or ``None`` when the records it scores do not exist, so that a section whose stage has not
run is absent from ``evaluate``'s output rather than zero.

Definitions (what a number means is part of its contract):

- **association**: fire incidents are matched one-to-one to true events, greedily by the
  number of reports they share, an incident qualifying only if at least half of its reports
  belong to the event. ``precision`` = matched incidents / incidents (a split event or a
  cross-nation duplicate is an unmatched incident); ``recall`` = matched events / events with
  at least ``min_reports`` (2) reports.
- **localization** (matched incidents with a preferred origin): ``rmse_m`` of the origin error
  (WGS84, local plane); ``rmse_over_crlb`` = RMS error / RMS of the events' CRLB
  sqrt(trace); ``ellipse95_coverage`` = share of true origins inside the reported ellipse scaled
  to 95 %.
- **attribution** (matched incidents with an attribution): ``brier`` = mean (1 - P(true side))²,
  ``accuracy`` = share whose most probable side is the true one; ``reliability`` bins P(UKR)
  against the observed frequency (the reliability diagram's data).
- **staging**: a claim is flagged when a finding under a ``no_staging``/``staging`` clause with
  confidence ≥ 0.5, or an incident of kind ``staging``, cites its report. ``recall`` over
  staged claims, ``false_positive_rate`` over genuine ones.
- **verification**: findings under the clause families the truth covers (withdrawal,
  disengagement, storage, air, sea, freedom of movement, ceilings) against the violations
  that some report observed. A finding matches a violation of the same clause that shares a
  report with it, or of the same side within 5 km and overlapping in time (±1 day).
- **escalation**: ``branching_ratio_error`` = mean |estimate - truth| over assessments that give
  one, the truth being the sector's branching ratio on that day.
- **early_warning**: an offensive on day D is warned when its sector had level ≥ 4 on some day
  in [D - 30, D); the lead is D minus the first day of the last unbroken run of such days. A
  false alarm is a run of consecutive level ≥ 4 days in a sector not followed by an offensive
  there within 14 days of its start, counted per 30 sector-days assessed (days after an
  offensive began are not counted). The Brier score of ``p_offensive_7d`` (outcome: an
  offensive starts in the sector within 7 days) is compared with persistence, the no-change
  forecast "what happened in the last 7 days happens in the next 7":
  skill = 1 - BS / BS_persistence (None when persistence is perfect).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from truceline.model import Assessment, Finding, Incident
from truceline.sim.truth import Ref, Truth

__all__ = [
    "Match",
    "score_association",
    "score_attribution",
    "score_early_warning",
    "score_escalation",
    "score_localization",
    "score_staging",
    "score_verification",
]

Match = tuple[Incident, int]
"""A matched incident and the index of its true event."""

_A = 6_378_137.0
_E2 = 6.694379990141316e-3
CHI2_95_2DOF = -2.0 * math.log(0.05)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def enu_m(lon0: float, lat0: float, lon: float, lat: float) -> tuple[float, float]:
    """East and north metres from (lon0, lat0) to (lon, lat) on the WGS84 ellipsoid's local plane."""
    phi = math.radians(lat0)
    w = 1.0 - _E2 * math.sin(phi) ** 2
    n_radius = _A / math.sqrt(w)
    m_radius = _A * (1.0 - _E2) / w**1.5
    return math.radians(lon - lon0) * n_radius * math.cos(phi), math.radians(lat - lat0) * m_radius


def score_association(
    truth: Truth, incidents: Iterable[Incident], min_reports: int = 2
) -> tuple[dict[str, Any] | None, list[Match]]:
    fire = [i for i in incidents if i.kind == "fire"]
    if not fire:
        return None, []
    candidates: list[tuple[int, int, int]] = []  # (-overlap, incident, event)
    for n, inc in enumerate(fire):
        votes: Counter[int] = Counter()
        for o in inc.observations:
            for ev in truth.event_of.get((o.participant, o.source, o.key), ()):
                votes[ev] += 1
        size = max(len(inc.observations), 1)
        for ev, overlap in votes.items():
            if overlap * 2 >= size:
                candidates.append((-overlap, n, ev))
    candidates.sort()
    used_i: set[int] = set()
    used_e: set[int] = set()
    matches: list[Match] = []
    for _, n, ev in candidates:
        if n in used_i or ev in used_e:
            continue
        used_i.add(n)
        used_e.add(ev)
        matches.append((fire[n], ev))
    detectable = sum(1 for ev in truth.events if len(ev.get("observations", [])) >= min_reports)
    return {
        "precision": _r(_ratio(len(matches), len(fire))),
        "recall": _r(
            _ratio(
                sum(1 for _, e in matches if len(truth.events[e].get("observations", [])) >= min_reports), detectable
            )
        ),
        "incidents": len(fire),
        "events": detectable,
        "matched": len(matches),
    }, matches


def score_localization(truth: Truth, matches: Sequence[Match]) -> dict[str, Any] | None:
    err2: list[float] = []
    crlb2: list[float] = []
    ratio_err2: list[float] = []
    inside = 0
    for inc, ev in matches:
        origin = inc.preferred_origin
        if origin is None:
            continue
        true = truth.events[ev]["origin"]
        de, dn = enu_m(origin.location.lon, origin.location.lat, float(true["lon"]), float(true["lat"]))
        d2 = de * de + dn * dn
        err2.append(d2)
        crlb = truth.events[ev].get("crlb_m")
        if crlb:
            crlb2.append(float(crlb) ** 2)
            ratio_err2.append(d2)
        (cee, cen), (_, cnn) = origin.location.error.covariance()
        scale = CHI2_95_2DOF / (-2.0 * math.log(1.0 - origin.location.error.confidence))
        det = (cee * cnn - cen * cen) * scale * scale
        if det > 0:
            m2 = (cnn * scale * de * de - 2 * cen * scale * de * dn + cee * scale * dn * dn) / det
            inside += m2 <= CHI2_95_2DOF
        elif d2 == 0:
            inside += 1
    if not err2:
        return None
    rmse = math.sqrt(sum(err2) / len(err2))
    over = math.sqrt(sum(ratio_err2) / sum(crlb2)) if crlb2 and sum(crlb2) > 0 else None
    return {
        "rmse_m": _r(rmse, 2),
        "rmse_over_crlb": _r(over),
        "ellipse95_coverage": _r(inside / len(err2)),
        "n": len(err2),
    }


def score_attribution(truth: Truth, matches: Sequence[Match], bins: int = 10) -> dict[str, Any] | None:
    scores: list[float] = []
    right = 0
    diagram: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for inc, ev in matches:
        att = next((a for a in inc.attributions if a.id == inc.preferred_attribution_id), None)
        att = att or (inc.attributions[-1] if inc.attributions else None)
        if att is None or not att.probabilities:
            continue
        side = truth.events[ev]["side"]
        p_true = float(att.probabilities.get(side, 0.0))
        scores.append((1.0 - p_true) ** 2)
        best = max(att.probabilities.items(), key=lambda kv: kv[1])[0]
        right += best == side
        p_ukr = float(att.probabilities.get("UKR", 0.0))
        diagram[min(int(p_ukr * bins), bins - 1)].append((p_ukr, int(side == "UKR")))
    if not scores:
        return None
    reliability = [
        {
            "bin": [k / bins, (k + 1) / bins],
            "mean_p": _r(sum(p for p, _ in v) / len(v)),
            "observed": _r(sum(y for _, y in v) / len(v)),
            "n": len(v),
        }
        for k, v in sorted(diagram.items())
    ]
    return {
        "brier": _r(sum(scores) / len(scores)),
        "accuracy": _r(right / len(scores)),
        "n": len(scores),
        "reliability": reliability,
    }


def _cited(f: Finding) -> set[Ref]:
    return {(r.participant, r.source, r.key) for e in f.evidence for r in e.refs}


def score_staging(
    truth: Truth, findings: Iterable[Finding], incidents: Iterable[Incident], threshold: float = 0.5
) -> dict[str, Any] | None:
    flagged: set[Ref] = set()
    seen_stage = False
    for f in findings:
        if f.clause_id.startswith(("no_staging", "staging")):
            seen_stage = True
            if f.confidence >= threshold:
                flagged |= _cited(f)
    for inc in incidents:
        if inc.kind == "staging":
            seen_stage = True
            flagged |= {(o.participant, o.source, o.key) for o in inc.observations}
        elif inc.attributions:
            seen_stage = True  # the attribute stage ran: unflagged claims count
    if not seen_stage or not truth.claims:
        return None
    staged = [Truth.ref(c["ref"]) for c in truth.claims if c.get("staged")]
    genuine = [Truth.ref(c["ref"]) for c in truth.claims if not c.get("staged")]
    return {
        "recall": _r(_ratio(sum(r in flagged for r in staged), len(staged))),
        "false_positive_rate": _r(_ratio(sum(r in flagged for r in genuine), len(genuine))),
        "staged": len(staged),
        "genuine": len(genuine),
    }


_FAMILIES = ("withdrawal.", "disengagement.", "storage.", "air.", "sea.", "freedom_of_movement", "ceiling.")


def _overlaps(f: Finding, v: dict[str, Any]) -> bool:
    start, end = Truth.time(v.get("start")), Truth.time(v.get("end"))
    slack = timedelta(days=1)
    if start is not None and f.last_seen < start - slack:
        return False
    return not (end is not None and f.first_seen > end + slack)


def score_verification(truth: Truth, findings: Iterable[Finding], radius_m: float = 5_000.0) -> dict[str, Any] | None:
    scoped = [f for f in findings if f.clause_id.startswith(_FAMILIES)]
    if not scoped:
        return None
    observed = [v for v in truth.violations if v.get("observations")]
    by_clause: dict[str, list[int]] = defaultdict(list)
    refs = [{Truth.ref(r) for r in v["observations"]} for v in observed]
    for k, v in enumerate(observed):
        by_clause[v["clause"]].append(k)
    hit: set[int] = set()
    good = 0
    for f in scoped:
        cited = _cited(f)
        matched = False
        for k in by_clause.get(f.clause_id, []):
            v = observed[k]
            if cited & refs[k]:
                ok = True
            else:
                ok = (f.side is None or f.side == v.get("side")) and _overlaps(f, v)
                if ok and f.location is not None and "lon" in v:
                    de, dn = enu_m(f.location.lon, f.location.lat, float(v["lon"]), float(v["lat"]))
                    ok = math.hypot(de, dn) <= radius_m
            if ok:
                hit.add(k)
                matched = True
        good += matched
    return {
        "precision": _r(good / len(scoped)),
        "recall": _r(_ratio(len(hit), len(observed))),
        "findings": len(scoped),
        "violations": len(observed),
    }


def score_escalation(truth: Truth, assessments: Iterable[Assessment]) -> dict[str, Any] | None:
    errors: list[float] = []
    for a in assessments:
        if a.branching_ratio is None or a.sector not in truth.hawkes:
            continue
        h = truth.hawkes[a.sector]
        series = h.get("daily_branching_ratio") or []
        day = truth.day_index(a.day)
        true = series[day] if series and day is not None and 0 <= day < len(series) else h.get("branching_ratio")
        if true is not None:
            errors.append(abs(float(a.branching_ratio) - float(true)))
    if not errors:
        return None
    return {"branching_ratio_error": _r(sum(errors) / len(errors)), "max_error": _r(max(errors)), "n": len(errors)}


def score_early_warning(
    truth: Truth, assessments: Iterable[Assessment], lookback: int = 30, horizon: int = 7
) -> dict[str, Any] | None:
    by_sector: dict[str, dict[int, Assessment]] = defaultdict(dict)
    for a in assessments:
        d = truth.day_index(a.day)
        if d is not None:
            by_sector[a.sector][d] = a  # the latest version of the day wins
    if not by_sector:
        return None
    offensives = truth.offensive_days()
    first_offensive: dict[str, int] = {}
    for sector, d in offensives:
        first_offensive[sector] = min(d, first_offensive.get(sector, d))
    leads: list[int] = []
    warned = 0
    scored = 0
    for sector, d_off in offensives:
        days = by_sector.get(sector, {})
        if not any(d_off - lookback <= d < d_off for d in days):
            continue  # nothing was assessed before it: it cannot count for or against recall
        scored += 1
        hits = sorted(d for d, a in days.items() if d_off - lookback <= d < d_off and a.warning_level >= 4)
        if hits:
            warned += 1
            # The lead runs from the start of the last unbroken warning before the offensive, so an
            # early false alarm that lapsed does not count as warning.
            first = hits[-1]
            while first - 1 in hits:
                first -= 1
            leads.append(d_off - first)
    false_alarms = 0
    sector_days = 0
    brier = 0.0
    brier_persist = 0.0
    n = 0
    for sector, days in by_sector.items():
        stop = first_offensive.get(sector)
        quiet_days = sorted(d for d in days if stop is None or d < stop)
        sector_days += len(quiet_days)
        starts = [d for s, d in offensives if s == sector]
        runs: list[list[int]] = []
        for d in quiet_days:
            if days[d].warning_level < 4:
                continue
            if runs and d == runs[-1][1] + 1:
                runs[-1][1] = d
            else:
                runs.append([d, d])
        false_alarms += sum(1 for r0, _ in runs if not any(r0 <= s <= r0 + 14 for s in starts))
        for d, a in days.items():
            y = any(d < s <= d + horizon for s in starts)
            z = any(d - horizon < s <= d for s in starts)
            brier += (a.p_offensive_7d - y) ** 2
            brier_persist += (float(z) - y) ** 2
            n += 1
    return {
        "recall": _r(_ratio(warned, scored)),
        "median_lead_days": _r(_median(leads), 2),
        "false_alarms_per_sector_30d": _r(_ratio(false_alarms * 30.0, sector_days)),
        "brier": _r(brier / n) if n else None,
        "brier_skill_vs_persistence": _r(1.0 - brier / brier_persist) if brier_persist > 0 else None,
        "offensives": scored,
        "sector_days": sector_days,
    }


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2.0
