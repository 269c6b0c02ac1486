"""Act: alerts in CAP 1.2, playbooks with directives and escalation, the coordination hotline,
the guarantee's trigger and tabletop exercises.

Act turns what verify and assess stored (findings, assessments, incidents) into actions and keeps
the record: every alert is validated against the official CAP 1.2 schema, signed with Ed25519,
stored (so it enters the records ledger) and delivered per participant as its markings allow;
every playbook activation, directive, acknowledgement, escalation, hotline entry and guarantor
consultation is a stored record. The stage entry point is :func:`run`; ``docs/act.md`` has the
formats and the rules.

The public surface is listed in ``__all__`` (pinned by a test).
"""

from truceline.act.alerts import IssuedAlert, alert_for_finding, alert_for_warning, cap_message
from truceline.act.delivery import (
    CAP_MEDIA_TYPE,
    DeliveryError,
    FileSink,
    NatsSink,
    RetryPolicy,
    Sink,
    WebhookSink,
    deliver,
    pending_deliveries,
)
from truceline.act.desk import AlertDesk, DeskSettings
from truceline.act.engine import Facts, PlaybookEngine, StepResult, Verdict, acknowledge, assessment_time
from truceline.act.exercise import ExerciseResult, TimelineEntry, run_exercise
from truceline.act.hotline import Hotline
from truceline.act.markings import addressees, combine_markings
from truceline.act.playbook import DEFAULT_PLAYBOOK, Playbook, PlaybookError, load_playbook, parse_playbook
from truceline.act.records import (
    RECORD_TYPES,
    Activation,
    Consultation,
    DeliveryAttempt,
    DirectiveTask,
    HotlineEntry,
    SignedCap,
    register_records,
)
from truceline.act.run import run
from truceline.act.signing import AlertSigner, CapSignature, verify_cap_signature
from truceline.act.stage import ActSettings, ActStage, TickReport
from truceline.act.trigger import TriggerEvent, evaluate_triggers, mark_overdue, open_consultations, record_response

__all__ = [
    "CAP_MEDIA_TYPE",
    "DEFAULT_PLAYBOOK",
    "RECORD_TYPES",
    "ActSettings",
    "ActStage",
    "Activation",
    "AlertDesk",
    "AlertSigner",
    "CapSignature",
    "Consultation",
    "DeliveryAttempt",
    "DeliveryError",
    "DeskSettings",
    "DirectiveTask",
    "ExerciseResult",
    "Facts",
    "FileSink",
    "Hotline",
    "HotlineEntry",
    "IssuedAlert",
    "NatsSink",
    "Playbook",
    "PlaybookEngine",
    "PlaybookError",
    "RetryPolicy",
    "SignedCap",
    "Sink",
    "StepResult",
    "TickReport",
    "TimelineEntry",
    "TriggerEvent",
    "Verdict",
    "WebhookSink",
    "acknowledge",
    "addressees",
    "alert_for_finding",
    "alert_for_warning",
    "assessment_time",
    "cap_message",
    "combine_markings",
    "deliver",
    "evaluate_triggers",
    "load_playbook",
    "mark_overdue",
    "open_consultations",
    "parse_playbook",
    "pending_deliveries",
    "record_response",
    "register_records",
    "run",
    "run_exercise",
    "verify_cap_signature",
]
