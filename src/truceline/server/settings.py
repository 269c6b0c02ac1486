"""What a server is built from: who takes part, where tokens and audit events live, and limits.

Nothing here reads the environment or opens a file at import; ``truceline serve`` builds a
:class:`ServerSettings` from its options and hands it, with a store, to ``create_app``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from truceline.model import Clock, SystemClock
from truceline.policy import AuditLog, InMemoryAuditLog, PolicyContext
from truceline.server.tokens import TokenRegistry

DEFAULT_MAX_REQUEST_BYTES = 10_000_000
DEFAULT_PAGE = 100
MAX_PAGE = 1_000


@dataclass(frozen=True)
class ServerSettings:
    """Everything ``create_app`` needs besides the store.

    ``cursor_key`` encrypts list cursors (they hold store positions, which would otherwise tell
    a client how many hidden records lie between two it can see); servers behind one load
    balancer must share it, and a restart with a new key only invalidates open cursors.
    """

    context: PolicyContext
    tokens: TokenRegistry
    audit: AuditLog = field(default_factory=InMemoryAuditLog)
    clock: Clock = field(default_factory=SystemClock)
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    future_tolerance: timedelta = timedelta(minutes=10)
    cursor_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    title: str = "Truceline"
