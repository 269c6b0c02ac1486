"""Request and response shapes of the HTTP API, separate from the stored records.

Record bodies are returned as JSON objects of their model's shape *minus* whatever the requester
may not see: a withheld field is absent, key and all (see ``docs/policy.md``), so the item schemas
are open objects rather than the strict stored models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from truceline.model import Identifier


class ErrorBody(BaseModel):
    """Every refusal: one sentence that names only what the requester sent."""

    detail: str


class RecordProblem(BaseModel):
    record: str = Field(description="'request:N': the N-th report (line, or array element) of the request")
    field: str = Field(description="dotted path of the offending field; empty for the whole report")
    reason: str


class IngestRefusal(BaseModel):
    """A refused batch: nothing of it was stored."""

    detail: str
    errors: list[RecordProblem] = []


class IngestResult(BaseModel):
    received: int = Field(description="reports in the request")
    stored: int = Field(description="reports stored now")
    duplicates: int = Field(description="reports stored earlier and sent again (no change)")
    conflicts: list[RecordProblem] = Field(
        default=[], description="reports whose key another request used at the same moment for different content"
    )


class RecordPage(BaseModel):
    """One page of the records the requester may see; ``total`` counts only those."""

    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


class ObservationPage(BaseModel):
    """One page of visible observations; pass ``next`` back as ``cursor`` for the following page."""

    items: list[dict[str, Any]]
    next: str | None = None


class GroupView(BaseModel):
    id: Identifier
    members: list[str]
    description: str = ""


class Me(BaseModel):
    """Who the token stands for, and the sharing groups it acts in (members shown to members only)."""

    participant: str
    roles: list[str]
    subject: str | None
    groups: list[GroupView]


class AuditEntry(BaseModel):
    position: int
    time: str
    participant: str
    subject: str | None
    action: str
    ref: str
    allowed: bool
    returned: int | None


class AuditPage(BaseModel):
    items: list[AuditEntry]


class Health(BaseModel):
    status: str
