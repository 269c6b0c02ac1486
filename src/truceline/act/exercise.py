"""Tabletop exercises: replay what the pipeline stored, step by step, through the playbook.

Planners test the operating document before they need it: :func:`run_exercise` walks the data's
time span in steps (6 h by default), ticks the act stage at each, and returns the timeline of
alerts, activations, directives, escalations and consultations. Alerts carry CAP status
``Exercise``; provisional findings and preliminary incidents count as confirmed (nobody reviews
during an exercise), and nobody acknowledges, so the escalation ladders show.

The exercise never writes to the store it reads: the inputs are copied into an in-memory
sandbox (:attr:`ExerciseResult.sandbox`), so exercising on a live database leaves it untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from truceline.act.desk import DeskSettings
from truceline.act.engine import assessment_time
from truceline.act.stage import ActSettings, ActStage, TickReport
from truceline.agreement import Agreement
from truceline.model import FixedClock, Record
from truceline.store import MemoryStore, Store

__all__ = ["ExerciseResult", "TimelineEntry", "run_exercise"]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of the exercise's timeline."""

    at: datetime
    kind: str
    sector: str | None
    text: str

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M}  {self.kind:<12} {self.sector or '-':<9} {self.text}"


@dataclass
class ExerciseResult:
    """The timeline and the per-step reports of an exercise."""

    entries: list[TimelineEntry] = field(default_factory=list)
    reports: list[TickReport] = field(default_factory=list)
    sandbox: MemoryStore | None = None

    def directives_issued(self, before: datetime | None = None, sector: str | None = None) -> set[str]:
        """Directive ids issued (open or blocked) before ``before``, optionally in one sector."""
        # A task's first version is the one with no escalation yet (blocked or open when issued).
        return {
            t.directive
            for r in self.reports
            for t in r.tasks
            if t.escalation_step == 0
            and t.status in ("open", "blocked")
            and (before is None or r.now < before)
            and (sector is None or t.sector == sector)
        }

    def directive_holders(self, before: datetime | None = None, sector: str | None = None,
                          scenario: str | None = None) -> dict[str, set[str]]:
        """For each directive issued before ``before`` (optionally in one sector, for one scenario), the
        participants it reached: owners whose task was open, and whoever an escalation or a hand-on
        passed it to."""
        scenario_of = {a.id: a.scenario for r in self.reports for a in r.activations}
        out: dict[str, set[str]] = {}
        for r in self.reports:
            if before is not None and r.now >= before:
                continue
            for t in r.tasks:
                if sector is not None and t.sector != sector:
                    continue
                if scenario is not None and scenario_of.get(t.activation_id) != scenario:
                    continue
                holders = out.setdefault(t.directive, set())
                if t.status == "open":
                    holders.add(t.owner)
                holders.update(t.escalated_to)
        return out

    def render(self) -> str:
        return "\n".join(str(e) for e in self.entries)


def _entries(report: TickReport) -> list[TimelineEntry]:
    out = [TimelineEntry(report.now, "alert", a.sector, f"[{a.severity}] {a.headline}") for a in report.alerts]
    for act in report.activations:
        if act.ended is None:
            out.append(TimelineEntry(report.now, "activation", act.sector,
                                     f"{act.scenario}: {act.name} → {', '.join(act.directives)}"))
        else:
            out.append(TimelineEntry(report.now, "ended", act.sector, f"{act.scenario} no longer holds"))
    for t in report.tasks:
        if t.status == "escalated" and t.note.startswith(f"{t.owner} may not read"):
            text = f"{t.directive} ({t.owner} may not read the evidence) handed to {', '.join(t.escalated_to)}"
        elif t.status == "escalated":
            text = f"{t.directive} ({t.owner}) escalated to {', '.join(t.escalated_to)}"
        elif t.status == "blocked":
            text = f"{t.directive} for {t.owner} blocked: {t.blocked_by}"
        else:
            text = f"{t.directive} for {t.owner}, due {t.deadline:%Y-%m-%d %H:%M}" + (f" ({t.note})" if t.note else "")
        out.append(TimelineEntry(report.now, "directive", t.sector, text))
    for c in report.consultations:
        out.append(TimelineEntry(report.now, "consultation", None,
                                 f"{c.guarantor} {c.status} under {c.procedure}, deadline {c.deadline:%Y-%m-%d %H:%M}"))
    for h in report.hotline:
        out.append(TimelineEntry(report.now, "hotline", h.sector, f"{h.kind}: {h.text}"))
    return out


def run_exercise(
    store: Store,
    agreement: Agreement,
    *,
    settings: ActSettings | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    step: timedelta = timedelta(hours=6),
) -> ExerciseResult:
    """Replay the store's records through the act stage from ``start`` to ``end`` (default: the data's span).

    The records reach the sandbox as they become known (an assessment at the end of its day, a
    finding when first seen, an incident when it starts), each step's arrivals just before that
    step's tick, which considers alerts for them only — as the pipeline's act step does after
    each batch. Whatever is left after ``end`` is copied in at the close.
    """
    if step <= timedelta(0):
        raise ValueError("the exercise step must be positive")
    base = settings or ActSettings()
    assessments, findings, incidents = ActStage(store, agreement, base).inputs()
    arrivals: list[tuple[datetime, Record]] = [(assessment_time(a), a) for a in assessments]
    arrivals += [(f.first_seen, f) for f in findings]
    arrivals += [(i.start, i) for i in incidents]
    arrivals.sort(key=lambda item: item[0])
    sandbox = MemoryStore()
    result = ExerciseResult(sandbox=sandbox)
    if not arrivals:
        return result
    start = start or arrivals[0][0]
    end = end or arrivals[-1][0]
    clock = FixedClock(start)
    desk = replace(base.desk, exercise=True, clock=clock) if isinstance(base.desk, DeskSettings) else base.desk
    stage = ActStage(sandbox, agreement, replace(base, desk=desk, assume_confirmed=True))
    now = start
    k = 0
    while now <= end:
        clock.advance((now - clock.now()).total_seconds())
        head = sandbox.tree_head("records")
        since = head.tree_size if head is not None else 0
        j = k
        while j < len(arrivals) and arrivals[j][0] <= now:
            j += 1
        if j > k:
            sandbox.put_records([r for _, r in arrivals[k:j]])
            k = j
        report = stage.tick(now, since_seq=since)
        result.reports.append(report)
        result.entries += _entries(report)
        now += step
    if k < len(arrivals):
        sandbox.put_records([r for _, r in arrivals[k:]])
    return result
