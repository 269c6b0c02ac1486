"""A small agreement: six participants, an outsider, and two sharing groups."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from truceline.model import FixedClock, Markings
from truceline.policy import InMemoryAuditLog, Policy, PolicyContext, Principal, SharingGroup

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONTEXT = PolicyContext(
    participants=("UKR", "USA", "GBR", "FRA", "POL", "OSCE"),
    sharing_groups=(
        SharingGroup(id="G-AIR", members=("USA", "GBR", "UKR"), description="air picture"),
        SharingGroup(id="G-SIGINT", members=("USA", "GBR")),
    ),
)


def who(participant: str, *roles: str, groups: tuple[str, ...] = ()) -> Principal:
    """A principal; ``groups`` are the groups it claims to act in."""
    return Principal(participant=participant, roles=roles, sharing_groups=groups)  # type: ignore[arg-type]


def marked(tlp: str, originator: str = "USA", *to: str, group: str | None = None) -> Markings:
    return Markings(tlp=tlp, originator=originator, releasable_to=to, sharing_group=group)  # type: ignore[arg-type]


@pytest.fixture
def audit() -> InMemoryAuditLog:
    return InMemoryAuditLog()


@pytest.fixture
def policy(audit: InMemoryAuditLog) -> Policy:
    return Policy(CONTEXT, audit=audit, clock=FixedClock(NOW))
