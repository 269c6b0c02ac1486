"""A directive task acknowledged from the dashboard's feed, stored as a new version of the task.

The act stage issues one :class:`~truceline.act.DirectiveTask` per directive and owner and
escalates it while nobody acknowledges it. Here the owner says "we have it": the owner
participant's reviewer or analyst (the roles that act; an observer only reads) sends a note, and
:func:`truceline.act.acknowledge` makes the acknowledged version, which is stored beside the old
ones (the history is the audit trail). The act stage reads the latest version on its next step
and stops escalating.

The checks run in the order the rest of the server uses: a task the requester may not see is the
same 404 as a missing one; only a requester that may see it learns why it is refused (not the
owner, no acting role, or already acknowledged).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from truceline.act import DirectiveTask, acknowledge
from truceline.policy import AccessDenied, Action, AuditEvent, MarkedDocument, Policy, Principal, reading_as_requester
from truceline.store import Store

TYPE = "directivetask"
ACTING: tuple[Action, ...] = ("review", "write")
"""Actions of the roles that may acknowledge (reviewer, analyst)."""
CLOSED = frozenset({"acknowledged", "done"})


class AcknowledgeRequest(BaseModel):
    """What the owner sends: a note kept with the acknowledged version."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(max_length=2_000)] = ""


class AcknowledgeConflict(ValueError):
    """The task cannot be acknowledged as it now stands (409): the message says why."""


def may_acknowledge(policy: Policy, principal: Principal, owner: str, status: str) -> bool:
    """Whether ``principal`` could acknowledge a visible task of ``owner`` in ``status`` (for the page)."""
    return (
        owner == principal.participant
        and status not in CLOSED
        and status != "blocked"
        and any(policy.may(principal, a) for a in ACTING)
    )


def acknowledge_directive(
    store: Store, policy: Policy, principal: Principal, task_id: str, request: AcknowledgeRequest, now: datetime
) -> dict[str, object]:
    """Store the acknowledged version of ``task_id`` and return it as the requester may see it."""
    ref = f"directives/{task_id}"
    with reading_as_requester(store, policy, principal):  # a hidden record reads as missing
        stored = store.get_record(TYPE, task_id)
    task = stored.record if stored is not None else None
    markings = task.markings if isinstance(task, DirectiveTask) else None
    action: Action = next((a for a in ACTING if policy.may(principal, a)), "review")
    if markings is None or not policy.visible(principal, markings):
        policy.check_action(principal, action, ref, None)  # the same 404 as a missing task, audited
    assert stored is not None and isinstance(task, DirectiveTask)
    if task.owner != principal.participant:
        policy.audit.record(AuditEvent(now, principal.participant, principal.subject, "acknowledge", ref, False))
        raise AccessDenied(principal.participant, "acknowledge", ref, f"only its owner {task.owner} may acknowledge it")
    # A reviewer's or analyst's act; an observer gets 403 (audited by the policy).
    policy.check_action(principal, action, ref, markings)
    if task.status in CLOSED:
        by = f" by {task.acknowledged_by}" if task.acknowledged_by else ""
        at = f" at {task.acknowledged_at.isoformat()}" if task.acknowledged_at else ""
        raise AcknowledgeConflict(f"the directive is already {task.status}{by}{at}")
    try:
        acknowledged = acknowledge(task, principal.participant, at=now, note=request.note)
    except ValueError as exc:  # blocked: its precondition has not happened yet
        raise AcknowledgeConflict(str(exc)) from None
    body = acknowledged.model_dump(mode="json")
    body["creation_info"] = {
        # Who acknowledged: the token's holder (the audit log has the same subject).
        "agent": principal.subject or "truceline.dashboard.directives",
        "created": now.isoformat(),
        "mode": "manual",
        "participant": principal.participant,
        "version": str(stored.version + 1),
        "note": request.note,
    }
    # Through JSON so that the new version is validated exactly as the store will read it back.
    record = DirectiveTask.model_validate_json(json.dumps(body))
    new = store.put_record(record, type=TYPE)
    shown = policy.read(principal, ref, MarkedDocument(record.markings, record.model_dump(mode="json")))
    return {"task": shown, "version": new.version}
