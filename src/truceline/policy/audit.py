"""The audit hook: every gated read and write leaves an event.

An event records who asked (participant and, when known, the user or token), what they asked to
do, to which record or collection, and whether it was allowed — nothing about *why* a read was
refused, so that the log itself never tells an auditor whether a refused record exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One decision. ``returned`` counts the records a list, count or export handed back."""

    time: datetime
    participant: str
    subject: str | None
    action: str
    ref: str
    allowed: bool
    returned: int | None = None


@runtime_checkable
class AuditLog(Protocol):
    """Where decisions go. Implementations must not drop events silently."""

    def record(self, event: AuditEvent) -> None: ...

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        """Record ``events`` in their order, all or none (one transaction where the log has them)."""
        ...


class InMemoryAuditLog:
    """An audit log kept in a list; for tests and the embedded mode.

    >>> log = InMemoryAuditLog()
    >>> len(log)
    0
    """

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        self.events.extend(events)

    def __len__(self) -> int:
        return len(self.events)

    def clear(self) -> None:
        self.events.clear()
