"""The guarantee's trigger: when the agreement's definition of an armed attack is met, and what follows.

Each trigger of the agreement (``agreement.triggers``) is a count of verified things in a window —
strikes of given weapon classes (deep behind the line or not), findings under a clause family,
entries into restricted zones — or a crossing of the line. :func:`evaluate_triggers` finds every
*episode* in which a trigger's threshold is met: the episode starts when the count first reaches
the minimum and lasts while it keeps being reached; a new episode needs a full window without.

When a trigger is met, :func:`open_consultations` opens one consultation per guarantor under its
own procedure and deadline, listing the pledges (from its menu in the coalition) it may answer
with; :func:`record_response` and :func:`mark_overdue` track what each guarantor does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from truceline.act.markings import combine_markings
from truceline.act.records import Consultation
from truceline.agreement import Agreement
from truceline.model import CreationInfo, Finding, Incident, Markings

if TYPE_CHECKING:
    from truceline.act.playbook import GuaranteeSettings
    from truceline.guarantee import Coalition

__all__ = [
    "TriggerEvent",
    "episode_starts",
    "episode_starts_reference",
    "evaluate_triggers",
    "mark_overdue",
    "open_consultations",
    "record_response",
]

_CONFIRMED_INCIDENT = ("reviewed", "final")


@dataclass(frozen=True, slots=True)
class TriggerEvent:
    """One episode of a trigger being met: when its threshold was reached, by whom, on what records."""

    trigger: str
    name: str
    response: str
    side: str | None
    sector: str | None
    at: datetime
    count: int
    references: tuple[str, ...]
    markings: Markings

    @property
    def id(self) -> str:
        return f"trigger--{self.trigger}--{self.side or 'any'}--{self.sector or 'line'}--{self.at:%Y%m%dT%H%M%S}"


def episode_starts_reference(times: Sequence[float], min_count: int, window_s: float) -> list[int]:
    """Plain twin of :func:`episode_starts` (sorted ``times`` in seconds)."""
    out: list[int] = []
    last: int | None = None
    for i in range(min_count - 1, len(times)):
        if times[i] - times[i - min_count + 1] <= window_s:
            if last is None or times[i] - times[last] > window_s:
                out.append(i)
            last = i
    return out


def episode_starts(times: np.ndarray[Any, Any], min_count: int, window_s: float) -> list[int]:
    """Indices of ``times`` (sorted, seconds) at which a new episode of ">= min_count within window" starts.

    >>> episode_starts(np.array([0.0, 10, 20, 1000, 5000, 5001]), 2, 60.0)
    [1, 5]
    """
    n = len(times)
    if n < min_count:
        return []
    k = min_count - 1
    met = np.flatnonzero(times[k:] - times[: n - k] <= window_s) + k
    if met.size == 0:
        return []
    gaps = np.diff(times[met]) > window_s
    starts = np.concatenate(([met[0]], met[1:][gaps]))
    return [int(i) for i in starts]


def _side(incident: Incident, by: Sequence[str]) -> str | None:
    attribution = next((a for a in incident.attributions if a.id == incident.preferred_attribution_id), None)
    attribution = attribution or (incident.attributions[-1] if incident.attributions else None)
    if attribution is None or not attribution.probabilities:
        return None
    side, p = max(attribution.probabilities.items(), key=lambda kv: kv[1])
    return side if p >= 0.5 and side in by else None


def _deep_enough(agreement: Agreement, candidates: Sequence[tuple[Incident, str]], min_depth_km: float) -> list[bool]:
    """For each (incident, firing side): did it land ``min_depth_km`` or more behind the line on the
    *other* side? One vectorised side and distance query for all impacts."""
    if min_depth_km <= 0.0:
        return [True] * len(candidates)
    placed = [i for i, (inc, _) in enumerate(candidates) if inc.impacts]
    out = [False] * len(candidates)
    if not placed:
        return out
    lon = [candidates[i][0].impacts[0].lon for i in placed]
    lat = [candidates[i][0].impacts[0].lat for i in placed]
    sides = agreement.side_of(lon, lat)
    depth_m = np.asarray(agreement.distance_to_line_m(lon, lat), dtype=float)
    for k, i in enumerate(placed):
        out[i] = str(sides[k]) != candidates[i][1] and depth_m[k] >= min_depth_km * 1000.0
    return out


def _episodes(
    trigger: Any,
    groups: dict[tuple[str | None, str | None], list[tuple[datetime, str, Markings]]],
    min_count: int,
    window_h: float,
    issuer: str,
) -> list[TriggerEvent]:
    out: list[TriggerEvent] = []
    for (side, sector), items in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        items.sort(key=lambda t: (t[0], t[1]))
        times = np.array([t.timestamp() for t, _, _ in items])
        window_s = window_h * 3600.0
        for i in episode_starts(times, min_count, window_s):
            members = [x for x in items[: i + 1] if times[i] - x[0].timestamp() <= window_s]
            out.append(
                TriggerEvent(
                    trigger=trigger.id,
                    name=trigger.name,
                    response=trigger.response,
                    side=side,
                    sector=sector,
                    at=items[i][0],
                    count=len(members),
                    references=tuple(ref for _, ref, _ in members)[:200],
                    markings=combine_markings([m for _, _, m in members], originator=issuer),
                )
            )
    return out


def evaluate_triggers(
    agreement: Agreement,
    findings: Iterable[Finding],
    incidents: Iterable[Incident],
    *,
    now: datetime | None = None,
    assume_confirmed: bool = False,
    issuer: str = "MVM",
) -> list[TriggerEvent]:
    """Every episode, up to ``now``, in which a trigger of ``agreement`` is met, oldest first.

    ``assume_confirmed`` counts preliminary incidents and provisional findings as confirmed (for
    tabletop exercises, where no reviewer confirms anything).
    """
    findings = [f for f in findings if now is None or f.first_seen <= now]
    incidents = [i for i in incidents if now is None or i.start <= now]
    zone_clauses = {z.id: z.clause for z in agreement.restricted_zones}
    events: list[TriggerEvent] = []
    for trigger in agreement.triggers:
        params = trigger.parameters
        confirmed_only = trigger.requires_status == "confirmed" and not assume_confirmed
        per_sector = bool(params.get("per_sector", False))
        groups: dict[tuple[str | None, str | None], list[tuple[datetime, str, Markings]]] = defaultdict(list)

        def finding_ok(f: Finding, confirmed_only: bool = confirmed_only) -> bool:
            return f.status != "closed" and (not confirmed_only or f.status == "confirmed")

        # A finding made directly under the trigger's own clause counts for any kind of trigger.
        direct = [f for f in findings if f.clause_id == f"trigger.{trigger.id}" and finding_ok(f)]
        for f in direct:
            if f.side is None or f.side in trigger.by:
                groups[(f.side, f.sector if per_sector else None)].append((f.first_seen, f.id, f.markings))
        min_count, window_h = 1, 24.0
        if trigger.kind == "strike_count":
            min_count, window_h = int(params["min_count"]), float(params["window_hours"])
            classes = set(params.get("weapon_classes") or ())
            candidates: list[tuple[Incident, str]] = []
            for inc in incidents:
                if inc.kind != "fire" or (classes and inc.weapon_class not in classes):
                    continue
                if confirmed_only and inc.evaluation_status not in _CONFIRMED_INCIDENT:
                    continue
                side = _side(inc, trigger.by)
                if side is not None:
                    candidates.append((inc, side))
            deep = _deep_enough(agreement, candidates, float(params.get("min_depth_km", 0.0)))
            for (inc, side), ok in zip(candidates, deep, strict=True):
                if ok:
                    groups[(side, inc.sector if per_sector else None)].append((inc.start, inc.id, inc.markings))
        elif trigger.kind in ("finding_count", "zone_entry"):
            min_count, window_h = int(params["min_count"]), float(params["window_hours"])
            if trigger.kind == "finding_count":
                prefix = str(params["clause_prefix"])
                wanted = [f for f in findings if f.clause_id.startswith(prefix)]
            else:
                clauses = {zone_clauses.get(z) for z in params["zones"]}
                wanted = [f for f in findings if f.clause_id in clauses]
            for f in wanted:
                if finding_ok(f) and f.side in trigger.by:
                    groups[(f.side, f.sector if per_sector else None)].append((f.first_seen, f.id, f.markings))
        elif trigger.kind == "line_crossing":
            for inc in incidents:
                if inc.kind != "incursion" or (confirmed_only and inc.evaluation_status not in _CONFIRMED_INCIDENT):
                    continue
                side = _side(inc, trigger.by)
                if side is not None:
                    groups[(side, inc.sector if per_sector else None)].append((inc.start, inc.id, inc.markings))
        events += _episodes(trigger, groups, min_count, window_h, issuer)
    events.sort(key=lambda e: (e.at, e.trigger, str(e.sector), str(e.side)))
    return events


def open_consultations(
    event: TriggerEvent,
    agreement: Agreement,
    settings: GuaranteeSettings,
    *,
    coalition: Coalition | None = None,
    alert_id: str | None = None,
) -> list[Consultation]:
    """One consultation per guarantor of ``agreement``, opened at the trigger's time."""
    from truceline.guarantee import Situation

    guarantors = [p.id for p in agreement.participants if "guarantor" in p.roles]
    default_hours = settings.activation_hours if event.response == "activation" else settings.consultation_hours
    out = []
    for g in guarantors:
        own = settings.guarantors.get(g)
        procedure = own.procedure if own and own.procedure else None
        options: tuple[str, ...] = ()
        if coalition is not None:
            ratification = coalition.ratifications.get(g)
            procedure = procedure or (ratification.procedure if ratification else None)
            situation = Situation(ceasefire=True, warning_level=5)
            options = tuple(p.id for p in coalition.available(situation) if p.participant == g)
        hours = own.deadline_hours if own else default_hours
        out.append(
            Consultation(
                id=f"consultation--{event.id}--{g}",
                trigger=event.trigger,
                alert_id=alert_id,
                guarantor=g,
                procedure=procedure or "national_procedure",
                response_kind=event.response,  # type: ignore[arg-type]
                opened=event.at,
                deadline=event.at + timedelta(hours=hours),
                options=options,
                markings=event.markings,
                creation_info=CreationInfo(agent="truceline.act.trigger", created=event.at),
            )
        )
    return out


def record_response(
    consultation: Consultation, pledges: Sequence[str], *, at: datetime, note: str = ""
) -> Consultation:
    """A guarantor's answer: the pledges (from its options) it activates; a new version of the record."""
    unknown = sorted(set(pledges) - set(consultation.options)) if consultation.options else []
    if unknown:
        menu = list(consultation.options)
        raise ValueError(f"{consultation.guarantor} has no pledges {unknown} on its menu ({menu})")
    return consultation.model_copy(
        update={"status": "responded", "response": tuple(pledges), "responded_at": at, "note": note}
    )


def mark_overdue(consultations: Iterable[Consultation], now: datetime) -> list[Consultation]:
    """New versions, status ``overdue``, of open consultations whose deadline has passed."""
    return [
        c.model_copy(update={"status": "overdue", "note": f"no response by {c.deadline.isoformat()}"})
        for c in consultations
        if c.status == "open" and c.deadline < now
    ]
