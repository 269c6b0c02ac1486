"""The playbook engine: evaluate every scenario on every update, activate, issue, escalate.

:class:`Facts` indexes what the other stages produced (assessments, findings, incidents), the
hotline log and the triggers met, so that a condition asks "as of ``now``" questions cheaply.
:meth:`PlaybookEngine.step` is pure: given the facts, the time and the current activations and
tasks, it returns the new records (new activations, activations that ended, new tasks and new
versions of tasks that were unblocked or escalated). The caller stores them.

An assessment for day D is taken as known at the end of D (00:00 UTC on D + 1): the engine never
acts on a day's judgement before the day is over. Activations and tasks get ids from what they are
about and the data time at which they began, so replaying the same records gives the same ids.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from truceline.act.markings import addressees, combine_markings
from truceline.act.playbook import Condition, Directive, Playbook
from truceline.act.records import Activation, DirectiveTask, HotlineEntry
from truceline.act.trigger import TriggerEvent
from truceline.agreement import Agreement
from truceline.model import Assessment, CreationInfo, Evidence, Finding, Incident, Markings, ObservationRef, Record
from truceline.policy import PolicyContext

__all__ = [
    "Facts",
    "PlaybookEngine",
    "StepResult",
    "Verdict",
    "acknowledge",
    "assessment_time",
    "count_in_window",
    "count_in_window_reference",
]

AGENT = "truceline.act.engine"
NOT_ENTITLED = "owner not entitled to the evidence under its markings"
TRIGGER_MEMORY = timedelta(days=7)  # a trigger episode keeps its scenarios active for a week


def assessment_time(assessment: Assessment) -> datetime:
    """When a day's assessment is taken as known: the end of its day (UTC)."""
    return datetime.combine(date.fromisoformat(assessment.day), datetime.min.time(), tzinfo=UTC) + timedelta(days=1)


def count_in_window_reference(times: Sequence[float], start: float, end: float) -> int:
    """Plain twin of :func:`count_in_window`."""
    return sum(1 for t in times if start < t <= end)


def count_in_window(times: np.ndarray[Any, Any], start: float, end: float) -> int:
    """How many of the sorted ``times`` fall in (start, end].

    >>> count_in_window(np.array([1.0, 2.0, 3.0, 4.0]), 1.0, 3.0)
    2
    """
    return int(np.searchsorted(times, end, side="right") - np.searchsorted(times, start, side="right"))


@dataclass
class _IncidentIndex:
    times: np.ndarray[Any, Any]
    kinds: np.ndarray[Any, Any]
    classes: np.ndarray[Any, Any]
    records: list[Incident]


def _incident_index(incidents: list[Incident]) -> _IncidentIndex:
    incidents = sorted(incidents, key=lambda i: i.start)
    return _IncidentIndex(
        times=np.array([i.start.timestamp() for i in incidents], dtype=float),
        kinds=np.array([i.kind for i in incidents], dtype=object),
        classes=np.array([i.weapon_class or "" for i in incidents], dtype=object),
        records=incidents,
    )


class Facts:
    """What the engine may know, indexed by sector and time."""

    def __init__(
        self,
        *,
        assessments: Iterable[Assessment] = (),
        findings: Iterable[Finding] = (),
        incidents: Iterable[Incident] = (),
        hotline: Iterable[HotlineEntry] = (),
        triggers: Iterable[TriggerEvent] = (),
    ) -> None:
        by_sector: dict[str, list[Assessment]] = defaultdict(list)
        for a in assessments:
            by_sector[a.sector].append(a)
        self._assessments = {s: sorted(v, key=lambda a: (a.day, a.id)) for s, v in by_sector.items()}
        self._assessment_times = {s: [assessment_time(a).timestamp() for a in v] for s, v in self._assessments.items()}
        self.findings = sorted(findings, key=lambda f: (f.first_seen, f.id))
        self._finding_times = [f.first_seen.timestamp() for f in self.findings]
        incidents = list(incidents)
        groups: dict[str | None, list[Incident]] = defaultdict(list)
        for inc in incidents:
            groups[inc.sector].append(inc)
        self._incidents = {s: _incident_index(v) for s, v in groups.items()}
        self._all_incidents = _incident_index(incidents)
        self.hotline = sorted(hotline, key=lambda e: e.seq)
        self.triggers = sorted(triggers, key=lambda t: t.at)

    def sectors(self) -> list[str]:
        """Every sector some record speaks of."""
        names = set(self._assessments) | {f.sector for f in self.findings if f.sector}
        names |= {s for s in self._incidents if s}
        return sorted(names)

    def findings_between(self, start: datetime, end: datetime) -> list[Finding]:
        """The findings first seen in (start, end], in time order."""
        lo = bisect.bisect_right(self._finding_times, start.timestamp())
        hi = bisect.bisect_right(self._finding_times, end.timestamp())
        return self.findings[lo:hi]

    def latest_assessment(self, sector: str, now: datetime) -> Assessment | None:
        times = self._assessment_times.get(sector)
        if not times:
            return None
        i = bisect.bisect_right(times, now.timestamp())
        return self._assessments[sector][i - 1] if i else None

    def incidents(self, sector: str | None) -> _IncidentIndex:
        if sector is None:
            return self._all_incidents
        return self._incidents.get(sector) or _incident_index([])


@dataclass
class Verdict:
    """Whether a condition holds, and the evidence, record ids and markings it rests on."""

    holds: bool
    evidence: list[Evidence] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    markings: list[Markings] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)

    def absorb(self, other: Verdict) -> None:
        self.evidence += other.evidence
        self.references += other.references
        self.markings += other.markings
        self.parties += other.parties


def _refs_of(findings: Sequence[Finding], limit: int = 50) -> tuple[ObservationRef, ...]:
    out: list[ObservationRef] = []
    for f in findings:
        for e in f.evidence:
            out.extend(e.refs)
            if len(out) >= limit:
                return tuple(out[:limit])
    return tuple(out)


def evaluate(condition: Condition, facts: Facts, sector: str | None, now: datetime) -> Verdict:
    """Whether ``condition`` holds for ``sector`` (``None``: anywhere on the line) as of ``now``."""
    if condition.all is not None:
        out = Verdict(True)
        for child in condition.all:
            v = evaluate(child, facts, sector, now)
            if not v.holds:
                return Verdict(False)
            out.absorb(v)
        return out
    if condition.any is not None:
        out = Verdict(False)
        for child in condition.any:
            v = evaluate(child, facts, sector, now)
            if v.holds:
                out.holds = True
                out.absorb(v)
        return out
    sectors = [sector] if sector is not None else facts.sectors()
    if condition.warning_level is not None or condition.p_offensive is not None or condition.indicator is not None:
        return _assessment_condition(condition, facts, sectors, now)
    if condition.findings is not None:
        c = condition.findings
        start = now - timedelta(hours=c.window_hours)
        hits = [
            f
            for f in facts.findings_between(start, now)
            if start < f.first_seen <= now
            and (sector is None or f.sector == sector)
            and f.clause_id.startswith(c.clause_prefix)
            and f.status != "closed"
            and (c.status == "any" or f.status == c.status)
            and f.confidence >= c.min_confidence
            and (c.side is None or f.side == c.side)
        ]
        if len(hits) < c.min_count:
            return Verdict(False)
        text = f"{len(hits)} findings under {c.clause_prefix}* in {c.window_hours:g} h" + (
            f" in {sector}" if sector else ""
        )
        return Verdict(
            True,
            [Evidence(kind="findings", description=text, weight=None, refs=_refs_of(hits))],
            [f.id for f in hits][:100],
            [f.markings for f in hits],
            [f.side for f in hits if f.side],
        )
    if condition.incidents is not None:
        ci = condition.incidents
        index = facts.incidents(sector)
        lo, hi = (now - timedelta(hours=ci.window_hours)).timestamp(), now.timestamp()
        a, b = np.searchsorted(index.times, [lo, hi], side="right")
        mask = index.kinds[a:b] == ci.kind
        if ci.weapon_classes:
            mask &= np.isin(index.classes[a:b], list(ci.weapon_classes))
        chosen = [index.records[a + int(i)] for i in np.flatnonzero(mask)]
        if len(chosen) < ci.min_count:
            return Verdict(False)
        refs = tuple(r for inc in chosen[:10] for r in inc.observations[:5])
        text = f"{len(chosen)} {ci.kind} incidents in {ci.window_hours:g} h" + (f" in {sector}" if sector else "")
        return Verdict(True, [Evidence(kind="incidents", description=text, refs=refs)],
                       [i.id for i in chosen][:100], [i.markings for i in chosen], _attributed(chosen))
    if condition.trigger is not None:
        tid = condition.trigger.id
        events = [
            t
            for t in facts.triggers
            if t.trigger == tid and now - TRIGGER_MEMORY < t.at <= now
            and (sector is None or t.sector in (None, sector))
        ]
        if not events:
            return Verdict(False)
        last = events[-1]
        text = f"trigger {tid} met at {last.at.isoformat()}: {last.count} verified records" + (
            f" by {last.side}" if last.side else ""
        )
        return Verdict(True, [Evidence(kind="trigger", description=text)], [last.id, *last.references[:50]],
                       [last.markings], [last.side] if last.side else [])
    assert condition.logged is not None
    c2 = condition.logged
    since = now - timedelta(hours=c2.within_hours)
    logged = [e for e in facts.hotline if e.kind == c2.kind and since < e.at <= now
              and (sector is None or e.sector in (None, sector))]
    if not logged:
        return Verdict(False)
    return Verdict(True, [Evidence(kind="hotline", description=f"{c2.kind} logged at {logged[-1].at.isoformat()}")],
                   [logged[-1].id], [logged[-1].markings])


def _attributed(incidents: Sequence[Incident]) -> list[str]:
    """The most probable side of each incident whose preferred attribution gives one P >= 0.5."""
    out = []
    for inc in incidents:
        att = next((a for a in inc.attributions if a.id == inc.preferred_attribution_id), None)
        if att is not None and att.probabilities:
            side, p = max(att.probabilities.items(), key=lambda kv: kv[1])
            if p >= 0.5:
                out.append(side)
    return out


def _assessment_condition(condition: Condition, facts: Facts, sectors: Sequence[str], now: datetime) -> Verdict:
    out = Verdict(False)
    for s in sectors:
        a = facts.latest_assessment(s, now)
        if a is None:
            continue
        if condition.warning_level is not None:
            wanted = condition.warning_level
            ok = a.warning_level >= wanted.at_least and (not wanted.sectors or s in wanted.sectors)
            text = f"{s}: warning level {a.warning_level} on {a.day}"
        elif condition.p_offensive is not None:
            p = a.p_offensive_7d if condition.p_offensive.horizon_days == 7 else a.p_offensive_14d
            ok = p >= condition.p_offensive.at_least
            text = f"{s}: P(offensive within {condition.p_offensive.horizon_days} d) = {p:.2f} on {a.day}"
        else:
            assert condition.indicator is not None
            name = condition.indicator.name
            values = [d.value for d in a.drivers if d.indicator == name]
            ok = bool(values) and max(values) >= condition.indicator.at_least
            text = f"{s}: indicator {name} = {max(values) if values else float('nan'):g} on {a.day}"
        if ok:
            out.holds = True
            out.evidence.append(Evidence(kind="assessment", description=text))
            out.references.append(a.id)
            out.markings.append(a.markings)
    return out


@dataclass
class StepResult:
    """New records from one engine step (store them with one ``put_records``)."""

    activations: list[Activation] = field(default_factory=list)
    tasks: list[DirectiveTask] = field(default_factory=list)

    def records(self) -> list[Record]:
        return [*self.activations, *self.tasks]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class PlaybookEngine:
    """Evaluates a playbook against the facts; the issuer's markings originate what it creates."""

    def __init__(self, playbook: Playbook, agreement: Agreement, *, issuer: str = "MVM") -> None:
        self.playbook = playbook
        self.agreement = agreement
        self.issuer = issuer
        self.context = PolicyContext.of(agreement.participants)
        self.parties = frozenset(p.id for p in agreement.participants if "party" in p.roles)

    def expand(self, owners: Iterable[str]) -> tuple[str, ...]:
        """Participants named by ``owners`` (ids, or ``role:<role>``), in order, without repeats."""
        out: list[str] = []
        for owner in owners:
            if owner.startswith("role:"):
                out += [p.id for p in self.agreement.participants if owner[5:] in p.roles]
            else:
                out.append(owner)
        return tuple(dict.fromkeys(out))

    def step(
        self,
        facts: Facts,
        now: datetime,
        *,
        activations: Sequence[Activation] = (),
        tasks: Sequence[DirectiveTask] = (),
    ) -> StepResult:
        """Activate, end, unblock and escalate as of ``now``."""
        result = StepResult()
        current = {(a.scenario, a.sector): a for a in activations if a.ended is None}
        sectors = facts.sectors()
        for scenario in self.playbook.scenarios:
            for sector in [None] if scenario.scope == "line" else sectors:
                verdict = evaluate(scenario.when, facts, sector, now)
                active = current.get((scenario.id, sector))
                if verdict.holds and active is None:
                    activation = self._activate(scenario.id, scenario.name, scenario.directives, sector, now, verdict)
                    result.activations.append(activation)
                    result.tasks += self._issue(activation, facts, now)
                elif not verdict.holds and active is not None:
                    result.activations.append(active.model_copy(update={"ended": now}))
        for task in tasks:
            updated = self._follow_up(task, facts, now)
            if updated is not None:
                result.tasks.append(updated)
        return result

    def _activate(
        self, scenario: str, name: str, directives: Sequence[str], sector: str | None, now: datetime, verdict: Verdict
    ) -> Activation:
        return Activation(
            id=f"activation--{self.playbook.id}--{scenario}--{sector or 'line'}--{_stamp(now)}",
            playbook=self.playbook.id,
            scenario=scenario,
            name=name,
            sector=sector,
            activated=now,
            directives=tuple(directives),
            evidence=tuple(verdict.evidence[:50]),
            references=tuple(dict.fromkeys(verdict.references))[:200],
            parties=tuple(sorted(set(verdict.parties) & self.parties)),
            markings=combine_markings(verdict.markings, originator=self.issuer),
            creation_info=CreationInfo(agent=AGENT, created=now),
        )

    def _issue(self, activation: Activation, facts: Facts, now: datetime) -> list[DirectiveTask]:
        out = []
        for did in activation.directives:
            directive = self.playbook.directives[did]
            owners = self.expand(directive.owners)
            entitled = set(addressees(self.context, activation.markings, owners))
            for owner in owners:
                blocked = ""
                if owner not in entitled:
                    blocked = NOT_ENTITLED
                else:
                    blocked = self._unmet(directive, facts, activation.sector, now)
                task = DirectiveTask(
                    id=f"task--{activation.id}--{did}--{owner}",
                    activation_id=activation.id,
                    directive=did,
                    title=directive.title,
                    owner=owner,
                    sector=activation.sector,
                    issued=now,
                    deadline=now + timedelta(hours=directive.deadline_hours),
                    status="blocked" if blocked else "open",
                    blocked_by=blocked,
                    markings=activation.markings,
                    creation_info=CreationInfo(agent=AGENT, created=now),
                )
                out.append(task)
                if owner not in entitled:
                    handed = self._hand_on(task, directive, now)
                    if handed is not None:
                        out.append(handed)
        return out

    def _entitled(self, task: DirectiveTask, participants: Iterable[str]) -> tuple[str, ...]:
        """Of ``participants`` (ids or roles), in order, those the task's markings let read it."""
        named = self.expand(participants)
        entitled = set(addressees(self.context, task.markings, named))
        return tuple(p for p in named if p in entitled)

    def _hand_on(self, task: DirectiveTask, directive: Directive, now: datetime) -> DirectiveTask | None:
        """A task whose owner may not read its evidence goes at once up its escalation ladder, to the
        first rung with someone who may; without such a rung it stays blocked (and says so)."""
        for i, rung in enumerate(directive.escalation):
            to = tuple(p for p in self._entitled(task, rung.to) if p != task.owner)
            if to:
                return task.model_copy(update={
                    "status": "escalated", "escalation_step": i + 1, "escalated_to": to,
                    "note": f"{task.owner} may not read the evidence; handed to {', '.join(to)} at {now.isoformat()}",
                })
        return None

    def _unmet(self, directive: Directive, facts: Facts, sector: str | None, now: datetime) -> str:
        for i, requirement in enumerate(directive.requires):
            if not evaluate(requirement, facts, sector, now).holds:
                return f"precondition {i + 1} not met: {requirement.kind()} {_describe(requirement)}"
        return ""

    def _follow_up(self, task: DirectiveTask, facts: Facts, now: datetime) -> DirectiveTask | None:
        directive = self.playbook.directives.get(task.directive)
        if directive is None or task.status in ("acknowledged", "done"):
            return None
        if task.status == "blocked":
            if task.blocked_by.startswith("owner"):
                return None  # handed on when issued, if its ladder had anyone entitled
            if self._unmet(directive, facts, task.sector, now):
                return None
            # Unblocked: the clock for the deadline starts now.
            return task.model_copy(update={
                "status": "open", "blocked_by": "", "issued": now,
                "deadline": now + timedelta(hours=directive.deadline_hours),
                "note": f"precondition met at {now.isoformat()}",
            })
        due = [i for i, s in enumerate(directive.escalation) if task.issued + timedelta(hours=s.after_hours) <= now]
        if due and due[-1] + 1 > task.escalation_step:
            step = directive.escalation[due[-1]]
            # Only to those the task's markings let read it: escalating to anyone else would be no escalation.
            to = self._entitled(task, step.to)
            if not to:
                return None
            return task.model_copy(update={
                "status": "escalated", "escalation_step": due[-1] + 1, "escalated_to": to,
                "note": f"not acknowledged {step.after_hours:g} h after issue; escalated at {now.isoformat()}",
            })
        if now > task.deadline and "overdue" not in task.note:
            return task.model_copy(update={"note": f"overdue since {task.deadline.isoformat()}"})
        return None


def _describe(condition: Condition) -> str:
    inner = getattr(condition, condition.kind())
    return inner.model_dump_json(exclude_defaults=True) if hasattr(inner, "model_dump_json") else str(inner)


def acknowledge(task: DirectiveTask, participant: str, *, at: datetime, note: str = "") -> DirectiveTask:
    """The owner's (or an escalation recipient's) acknowledgement: a new version of the task."""
    if participant != task.owner and participant not in task.escalated_to:
        raise ValueError(f"{participant} neither owns {task.id} nor received its escalation")
    if task.status == "blocked":
        raise ValueError(f"{task.id} is blocked ({task.blocked_by}); it cannot be acknowledged yet")
    return task.model_copy(update={"status": "acknowledged", "acknowledged_by": participant, "acknowledged_at": at,
                                   "note": note or task.note})
