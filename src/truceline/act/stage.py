"""The act stage over a store: one :meth:`ActStage.tick` does everything act does as of a moment.

A tick reads what the other stages stored (assessments, findings, incidents) and act's own state
(activations, tasks, the hotline, consultations), then, in this order: finds the triggers met;
steps the playbook engine; issues the alerts due (warning-level changes, serious confirmed
violations, staging suspicions, guarantee triggers); opens the guarantors' consultations; marks
overdue consultations; escalates unanswered hotline queries; retries undelivered alerts.
Everything it creates is stored with ``put_records`` and so enters the records ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from truceline.act.alerts import IssuedAlert, alert_for_finding, alert_for_warning
from truceline.act.desk import AlertDesk, DeskSettings
from truceline.act.engine import Facts, PlaybookEngine, assessment_time
from truceline.act.hotline import Hotline
from truceline.act.markings import addressees, combine_markings
from truceline.act.playbook import Playbook, load_playbook
from truceline.act.records import Activation, Consultation, DirectiveTask, HotlineEntry, register_records
from truceline.act.signing import AlertSigner
from truceline.act.trigger import TriggerEvent, evaluate_triggers, mark_overdue, open_consultations
from truceline.agreement import Agreement
from truceline.model import Alert, Assessment, CreationInfo, Finding, Incident, Record
from truceline.store import Store, StoredRecord

if TYPE_CHECKING:
    from truceline.guarantee import Coalition

__all__ = ["ActSettings", "ActStage", "RecordCache", "TickReport"]

R = TypeVar("R", bound=Record)


@dataclass
class ActSettings:
    """Everything the stage needs beyond the store and the agreement."""

    desk: DeskSettings = field(default_factory=lambda: DeskSettings(signer=AlertSigner.generate()))
    playbook: Playbook | None = None
    coalition: Coalition | None = None
    issuer: str = "MVM"
    assume_confirmed: bool = False
    hotline_escalation_to: tuple[str, ...] = ("USA",)


@dataclass
class TickReport:
    """What one tick created, for the report and the exercise timeline."""

    now: datetime
    alerts: list[Alert] = field(default_factory=list)
    activations: list[Activation] = field(default_factory=list)
    tasks: list[DirectiveTask] = field(default_factory=list)
    consultations: list[Consultation] = field(default_factory=list)
    hotline: list[HotlineEntry] = field(default_factory=list)
    delivered: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "alerts": len(self.alerts),
            "activations": sum(1 for a in self.activations if a.ended is None),
            "directive_tasks": len(self.tasks),
            "consultations": len(self.consultations),
            "hotline_escalations": len(self.hotline),
            "deliveries": self.delivered,
        }


def _latest(store: Store, type_name: str, cls: type[R]) -> list[R]:
    return [s.record for s in store.records(type_name) if isinstance(s.record, cls)]


INPUT_TYPES = ("assessment", "finding", "incident")


@dataclass
class RecordCache:
    """The latest version of every assessment, finding and incident, kept between ticks by a
    following process: each read asks the store only for what changed since the last (by the
    records log's size), instead of every record ever stored — a tick a second would otherwise
    read the whole history each time."""

    size: int = -1
    latest: dict[str, dict[str, StoredRecord]] = field(default_factory=dict)

    def read(self, store: Store) -> dict[str, list[StoredRecord]]:
        head = store.tree_head("records")
        size = head.tree_size if head is not None else -1
        if size < 0 or self.size < 0:  # the first read, or no log to tell changes by: all of it
            self.latest = {t: {s.id: s for s in store.records(t)} for t in INPUT_TYPES}
        elif size != self.size:
            # records(t, after_seq) gives each record changed since, at its latest version, in
            # order of first appearance: new ones go at the end, as a full read would put them.
            for t in INPUT_TYPES:
                for s in store.records(t, after_seq=self.size):
                    self.latest[t][s.id] = s
        self.size = size
        return {t: list(self.latest[t].values()) for t in INPUT_TYPES}


class ActStage:
    """Act for one store and agreement."""

    def __init__(
        self,
        store: Store,
        agreement: Agreement,
        settings: ActSettings | None = None,
        *,
        records: RecordCache | None = None,
    ) -> None:
        register_records()
        self.store = store
        self.agreement = agreement
        self.settings = settings or ActSettings()
        self.playbook = self.settings.playbook or load_playbook(None, agreement)
        self.engine = PlaybookEngine(self.playbook, agreement, issuer=self.settings.issuer)
        self.desk = AlertDesk(store, agreement, self.settings.desk)
        self.hotline = Hotline(store)
        self.fresh: set[str] | None = None
        self._read: tuple[int, dict[str, list[StoredRecord]]] | None = None
        self.records = records
        self.deferred = False

    # -- reading ---------------------------------------------------------------------------------
    def inputs(self, since_seq: int | None = None) -> tuple[list[Assessment], list[Finding], list[Incident]]:
        """The latest assessments, findings and incidents; with ``since_seq``, also note in
        :attr:`fresh` the assessments and findings with a version stored after that records seq."""
        if self.records is not None:
            stored = self.records.read(self.store)
        else:
            # One read per state of the records log: ``data_time`` and the tick that follows share it.
            head = self.store.tree_head("records")
            size = head.tree_size if head is not None else -1  # no log: nothing tells a change, read again
            if self._read is None or size < 0 or self._read[0] != size:
                self._read = (size, {t: list(self.store.records(t)) for t in INPUT_TYPES})
            stored = self._read[1]
        self.fresh = None if since_seq is None else {
            s.id for t in ("assessment", "finding") for s in stored[t] if s.seq > since_seq
        }
        return (
            [s.record for s in stored["assessment"] if isinstance(s.record, Assessment)],
            [s.record for s in stored["finding"] if isinstance(s.record, Finding)],
            [s.record for s in stored["incident"] if isinstance(s.record, Incident)],
        )

    def data_time(self) -> datetime | None:
        """The latest moment the stored records speak of (the stage's "now" when replaying)."""
        assessments, findings, incidents = self.inputs()
        times = [assessment_time(a) for a in assessments] + [f.last_seen for f in findings]
        times += [i.end for i in incidents]
        return max(times) if times else None

    # -- one tick --------------------------------------------------------------------------------
    def tick(self, now: datetime, *, since_seq: int | None = None) -> TickReport:
        """Do everything due as of ``now`` (data time), storing what is created.

        ``since_seq`` limits the alerts considered to assessments and findings with a version
        stored after that records seq (what changed since the last tick); ``None`` considers all,
        which is always correct, only slower (every candidate is looked up).
        """
        report = TickReport(now)
        # Earlier alerts still undelivered go first (and not again right after a fresh failure below).
        report.delivered = self.desk.retry_pending()
        assessments, findings, incidents = self.inputs(since_seq)
        fresh = self.fresh
        known_a = [a for a in assessments if assessment_time(a) <= now]
        known_f = [f for f in findings if f.first_seen <= now]
        # A changed record not yet known at ``now`` must be considered again on a later tick.
        later = {a.id for a in assessments if assessment_time(a) > now} | {f.id for f in findings if f.first_seen > now}
        self.deferred = bool(fresh and fresh & later)
        assessments, findings = known_a, known_f
        incidents = [i for i in incidents if i.start <= now]
        triggers = evaluate_triggers(
            self.agreement, findings, incidents, now=now, assume_confirmed=self.settings.assume_confirmed,
            issuer=self.settings.issuer,
        )
        facts = Facts(assessments=assessments, findings=findings, incidents=incidents,
                      hotline=self.hotline.entries(), triggers=triggers)
        step = self.engine.step(
            facts, now,
            activations=_latest(self.store, "activation", Activation),
            tasks=_latest(self.store, "directivetask", DirectiveTask),
        )
        if step.records():
            self.store.put_records(step.records())
        report.activations, report.tasks = step.activations, step.tasks
        report.hotline += self._hotline_queries(step.activations, now)
        for issued in self._due_alerts(assessments, findings, fresh):
            signed = self.desk.issue(issued)
            if signed is not None:
                report.alerts.append(issued.alert)
        for event in triggers:
            self._trigger(event, report)
        overdue = mark_overdue(_latest(self.store, "consultation", Consultation), now)
        if overdue:
            self.store.put_records(overdue)
            report.consultations += overdue
        report.hotline += self.hotline.escalate_overdue(now, to=self.settings.hotline_escalation_to,
                                                       sender=self.settings.issuer)
        return report

    def _hotline_queries(self, activations: Sequence[Activation], now: datetime) -> list[HotlineEntry]:
        """File the queries that new activations' ``hotline_query`` directives call for."""
        out = []
        for act in activations:
            if act.ended is not None:
                continue
            for did in act.directives:
                directive = self.playbook.directives[did]
                if directive.action != "hotline_query":
                    continue
                subject = next(iter(act.references), None)
                # A query shows the party the evidence's ids, so it goes only to a party the
                # activation's markings let read them, and carries those markings.
                for party in addressees(self.engine.context, act.markings, act.parties):
                    text = (f"{act.name} ({act.sector or 'the line'}): please explain "
                            f"{', '.join(act.references[:10])}; answer by the deadline")
                    out.append(self.hotline.query(subject, sender=self.settings.issuer, to=party, text=text[:2000],
                                                  at=now, deadline_hours=directive.deadline_hours, sector=act.sector,
                                                  markings=act.markings))
        return out

    def _due_alerts(self, assessments: Sequence[Assessment], findings: Sequence[Finding],
                    fresh: set[str] | None = None) -> list[IssuedAlert]:
        """The alerts the records call for; with ``fresh``, only those about a record in it (an
        alert's first reference is the assessment or finding it is about)."""
        sent = self.settings.desk.clock.now()
        out: list[IssuedAlert] = []
        by_sector: dict[str, list[Assessment]] = defaultdict(list)
        for a in assessments:
            by_sector[a.sector].append(a)
        for sector in sorted(by_sector):
            previous: int | None = None
            for a in sorted(by_sector[sector], key=lambda a: (a.day, a.id)):
                if fresh is None or a.id in fresh:
                    markings = combine_markings([a.markings], originator=self.settings.issuer)
                    issued = alert_for_warning(a, previous, sent=sent, markings=markings)
                    if issued is not None:
                        out.append(issued)
                previous = a.warning_level
        for f in findings:
            if fresh is not None and f.id not in fresh:
                continue
            issued = alert_for_finding(f, sent=sent, markings=combine_markings([f.markings],
                                                                                originator=self.settings.issuer))
            if issued is not None:
                out.append(issued)
        return out

    def _trigger(self, event: TriggerEvent, report: TickReport) -> None:
        alert_id = f"alert--{event.id}"
        if self.store.get_record("alert", alert_id) is None:
            sent = self.settings.desk.clock.now()
            guarantee_words = "activation of the guarantee" if event.response == "activation" else "consultations"
            alert = Alert(
                id=alert_id,
                kind="guarantee_trigger",
                sent=sent,
                headline=f"Guarantee trigger met: {event.name}"[:500],
                description=(
                    f"Trigger {event.trigger} of the agreement is met: {event.count} verified records"
                    + (f" attributed to {event.side}" if event.side else "")
                    + (f" in {event.sector}" if event.sector else "")
                    + f", threshold reached at {event.at.isoformat()}. Response: {guarantee_words}."
                ),
                severity="extreme",
                sector=event.sector,
                references=event.references[:200],
                markings=event.markings,
                creation_info=CreationInfo(agent="truceline.act", created=sent),
            )
            issued = IssuedAlert(alert, event="Guarantee trigger: armed attack as defined by the agreement",
                                 urgency="Immediate", certainty="Observed",
                                 parameters=(("trigger", event.trigger), ("count", str(event.count)),
                                             ("response", event.response)))
            if self.desk.issue(issued) is not None:
                report.alerts.append(alert)
        fresh = [
            c for c in open_consultations(event, self.agreement, self.playbook.guarantee,
                                          coalition=self.settings.coalition, alert_id=alert_id)
            if self.store.get_record("consultation", c.id) is None
        ]
        if fresh:
            self.store.put_records(fresh)
            report.consultations += fresh
