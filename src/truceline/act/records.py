"""The act stage's own records, stored (and so entered in the records ledger) beside model ``Alert``.

An alert's CAP text and signature, each playbook activation and the directive tasks it issues, the
coordination hotline's entries, the guarantors' consultations and every delivery attempt: all are
immutable records, a change being a new version of the same id, so the store's history is the
audit trail. :func:`register_records` lets the store read them back.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from truceline.model import CreationInfo, Identifier, Markings, ParticipantId, Record, Timestamp
from truceline.model.products import Evidence

__all__ = [
    "RECORD_TYPES",
    "Activation",
    "Consultation",
    "DeliveryAttempt",
    "DirectiveTask",
    "HotlineEntry",
    "SignedCap",
    "register_records",
]

Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]*$", max_length=256)]
LongText = Annotated[str, StringConstraints(max_length=500_000)]
Note = Annotated[str, StringConstraints(max_length=20_000)]


class SignedCap(Record):
    """An alert's CAP 1.2 XML exactly as sent, with its Ed25519 signature and its addressees.

    ``signature`` covers ``b"truceline-cap-v1\\x00" + sha256(xml)`` (see :mod:`truceline.act.signing`).
    """

    id: Identifier
    alert_id: Identifier
    xml: LongText
    sha256: Hex
    signature: Hex
    key_id: Hex
    addresses: tuple[ParticipantId, ...] = ()
    markings: Markings
    creation_info: CreationInfo


class Activation(Record):
    """A playbook scenario whose conditions held, with the evidence that made them hold.

    ``parties`` are the sides the evidence points at (findings' sides, attributed incidents), to
    whom a hotline query goes.
    """

    id: Identifier
    playbook: Identifier
    scenario: Identifier
    name: Note = ""
    sector: Identifier | None = None
    activated: Timestamp
    ended: Timestamp | None = None
    directives: tuple[Identifier, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    references: tuple[Identifier, ...] = ()
    parties: tuple[ParticipantId, ...] = ()
    markings: Markings
    creation_info: CreationInfo


TaskStatus = Literal["blocked", "open", "acknowledged", "escalated", "done"]


class DirectiveTask(Record):
    """One directive of one activation for one owner: its deadline, acknowledgement and escalation."""

    id: Identifier
    activation_id: Identifier
    directive: Identifier
    title: Note = ""
    owner: ParticipantId
    sector: Identifier | None = None
    issued: Timestamp
    deadline: Timestamp
    status: TaskStatus = "open"
    blocked_by: Note = ""
    escalation_step: Annotated[int, Field(ge=0)] = 0
    escalated_to: tuple[ParticipantId, ...] = ()
    acknowledged_by: ParticipantId | None = None
    acknowledged_at: Timestamp | None = None
    note: Note = ""
    markings: Markings
    creation_info: CreationInfo


HotlineKind = Literal["query", "answer", "escalation", "coordination_attempt", "note"]


class HotlineEntry(Record):
    """One line of the shared coordination log; ``hash`` chains it to the entry before it."""

    id: Identifier
    seq: Annotated[int, Field(ge=1)]
    kind: HotlineKind
    thread: Identifier
    at: Timestamp
    sender: ParticipantId
    to: tuple[ParticipantId, ...] = ()
    incident: Identifier | None = None
    sector: Identifier | None = None
    deadline: Timestamp | None = None
    text: Note = ""
    prev_hash: Hex
    hash: Hex
    markings: Markings
    creation_info: CreationInfo


ConsultationStatus = Literal["open", "responded", "overdue"]


class Consultation(Record):
    """A guarantor's consultation opened by a verified trigger, under its own procedure and deadline."""

    id: Identifier
    trigger: Identifier
    alert_id: Identifier | None = None
    guarantor: ParticipantId
    procedure: Identifier
    response_kind: Literal["consultation", "activation"]
    opened: Timestamp
    deadline: Timestamp
    status: ConsultationStatus = "open"
    options: tuple[Identifier, ...] = ()
    response: tuple[Identifier, ...] = ()
    responded_at: Timestamp | None = None
    note: Note = ""
    markings: Markings
    creation_info: CreationInfo


class DeliveryAttempt(Record):
    """One try at handing an alert to one destination, successful or not (never silently dropped)."""

    id: Identifier
    alert_id: Identifier
    destination: Identifier
    recipient: ParticipantId | None = None
    attempt: Annotated[int, Field(ge=1)]
    at: Timestamp
    ok: bool
    status_code: int | None = None
    error: Note = ""
    markings: Markings
    creation_info: CreationInfo


RECORD_TYPES: dict[str, type[Record]] = {
    cls.__name__.lower(): cls
    for cls in (SignedCap, Activation, DirectiveTask, HotlineEntry, Consultation, DeliveryAttempt)
}
"""The store type name of each act record: its class name in lower case, the store's default, so that
one ``put_records`` call can hold records of several types in one transaction."""


def register_records() -> None:
    """Let the store read back the act stage's records (idempotent; call before storing them)."""
    from truceline.store import register_record_type

    for name, cls in RECORD_TYPES.items():
        register_record_type(name, cls)
