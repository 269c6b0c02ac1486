"""What a server is built from: who takes part, where tokens and audit events live, and limits.

Nothing here reads the environment or opens a file at import; ``truceline serve`` builds a
:class:`ServerSettings` from its options and hands it, with a store, to ``create_app``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from truceline.model import Clock, SystemClock
from truceline.policy import AuditLog, InMemoryAuditLog, PolicyContext
from truceline.server.tokens import TokenRegistry

if TYPE_CHECKING:
    from truceline.agreement import Agreement
    from truceline.guarantee import Coalition

DEFAULT_MAX_REQUEST_BYTES = 10_000_000
DEFAULT_PAGE = 100
MAX_PAGE = 1_000


@dataclass(frozen=True)
class Bucket:
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``.

    >>> Bucket(per_second=0.1, burst=20).describe()
    '20 at once, then 0.1 a second'
    """

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not self.per_second > 0 or self.burst < 1:
            raise ValueError(f"a rate limit needs per_second > 0 and burst >= 1, not {self.per_second}, {self.burst}")

    def describe(self) -> str:
        return f"{self.burst} at once, then {self.per_second:g} a second"


@dataclass(frozen=True)
class RateLimits:
    """Request rates the server accepts, kept in process memory (one server process, one budget).

    * ``per_token``: every request that presents a valid token, counted against that token;
    * ``per_address``: requests that present no credentials (the dashboard's pages, ``/health``,
      ``/openapi.json``), counted against the client's address (IPv6: its /64);
    * ``failures``: failed authentications — a presented token (Bearer, or Basic's password) that
      is refused, or credentials in a scheme no route takes — counted against the client's
      address. Once it is spent, *every* request from that address gets ``429`` until it refills,
      before any token is checked, so a guess cannot be confirmed. A request with no credentials
      at all is not a guess: it is counted in ``per_address``.

    ``None`` switches a limit off. The defaults leave an analyst's scripts and the dashboard well
    clear of the limits; they are there against runaway clients and credential guessing.
    """

    per_token: Bucket | None = Bucket(per_second=50.0, burst=1_000)
    per_address: Bucket | None = Bucket(per_second=20.0, burst=300)
    failures: Bucket | None = Bucket(per_second=0.1, burst=20)
    max_tracked: int = 100_000
    """Buckets kept per kind; the least recently used go first (a full bucket is a fresh one)."""


@dataclass(frozen=True)
class ServerSettings:
    """Everything ``create_app`` needs besides the store.

    ``cursor_key`` encrypts list cursors (they hold store positions, which would otherwise tell
    a client how many hidden records lie between two it can see); servers behind one load
    balancer must share it, and a restart with a new key only invalidates open cursors.

    ``agreement`` is the agreement served (the dashboard's map and the coalition's posture
    checks); ``None`` means the shipped default, loaded on first use. ``coalition`` is the
    guarantee's coalition the dashboard shows; ``None`` means the shipped example
    (``truceline.guarantee.EXAMPLE_COALITION``), loaded against ``agreement`` on first use.
    ``monotonic`` is the clock of the rate limits (seconds; tests pass their own).
    """

    context: PolicyContext
    tokens: TokenRegistry
    audit: AuditLog = field(default_factory=InMemoryAuditLog)
    clock: Clock = field(default_factory=SystemClock)
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    future_tolerance: timedelta = timedelta(minutes=10)
    cursor_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    title: str = "Truceline"
    agreement: Agreement | None = None
    coalition: Coalition | None = None
    rate_limits: RateLimits = field(default_factory=RateLimits)
    monotonic: Callable[[], float] = time.monotonic
