"""A reviewer's decision on an incident, stored as a new version of it (nothing is overwritten).

Following obspy's review model, a reviewer moves an incident from ``preliminary`` to ``reviewed``
or ``final``, or ``rejected``, and may pick which of the competing origins and attributions is
preferred. The earlier versions stay in the store and its ledger: the history is the audit
trail. The policy decides first: a record the reviewer may not see is the same 404 as a missing
one; only then does a missing ``reviewer`` role give 403.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from truceline.model import Incident
from truceline.policy import MarkedDocument, Policy, Principal, reading_as_requester
from truceline.store import Store

AGENT = "truceline.dashboard.review"
TERMINAL = frozenset({"final", "rejected"})
"""Statuses no further review changes: a final incident is cited in reports, a rejected one is gone."""


class ReviewRequest(BaseModel):
    """The decision as the reviewer sends it."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["reviewed", "final", "rejected"]
    version: Annotated[int, Field(ge=1, description="the version the reviewer looked at (optimistic locking)")]
    note: Annotated[str, Field(max_length=2_000)] = ""
    preferred_origin_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    preferred_attribution_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class ReviewConflict(ValueError):
    """The review cannot apply to the incident as it now stands (409): the message says why."""


class ReviewInvalid(ValueError):
    """The review names something the incident does not have (422)."""


def review_incident(
    store: Store, policy: Policy, principal: Principal, incident_id: str, request: ReviewRequest, now: datetime
) -> dict[str, object]:
    """Store the reviewed version and return it as the reviewer may see it."""
    ref = f"incidents/{incident_id}"
    with reading_as_requester(store, policy, principal):  # a hidden record reads as missing
        stored = store.get_record("incident", incident_id)
    record = stored.record if stored is not None else None
    markings = record.markings if isinstance(record, Incident) else None
    policy.check_action(principal, "review", ref, markings)
    assert stored is not None and isinstance(record, Incident)  # check_action raised otherwise
    if stored.version != request.version:
        raise ReviewConflict(
            f"the incident changed since you opened it (now version {stored.version}, you saw {request.version}); "
            "reload it and review again"
        )
    if record.evaluation_status in TERMINAL:
        raise ReviewConflict(f"the incident is already {record.evaluation_status}; it takes no further review")
    body = record.model_dump(mode="json")
    if request.preferred_origin_id is not None:
        if request.preferred_origin_id not in {o.id for o in record.origins}:
            raise ReviewInvalid(f"preferred_origin_id {request.preferred_origin_id!r} is no origin of this incident")
        body["preferred_origin_id"] = request.preferred_origin_id
    if request.preferred_attribution_id is not None:
        if request.preferred_attribution_id not in {a.id for a in record.attributions}:
            raise ReviewInvalid(
                f"preferred_attribution_id {request.preferred_attribution_id!r} is no attribution of this incident"
            )
        body["preferred_attribution_id"] = request.preferred_attribution_id
    body["evaluation_status"] = request.status
    body["creation_info"] = {
        # Who decided: the token's holder when it names one (the audit log has the same subject).
        "agent": principal.subject or AGENT,
        "created": now.isoformat(),
        "mode": "manual",
        "participant": principal.participant,
        "version": str(stored.version + 1),
        "note": request.note,
    }
    # Through JSON so that the new version is validated exactly as the store will read it back.
    reviewed = Incident.model_validate_json(json.dumps(body))
    new = store.put_record(reviewed, type="incident")
    result = policy.read(principal, ref, MarkedDocument(reviewed.markings, reviewed.model_dump(mode="json")))
    return {"incident": result, "version": new.version}
