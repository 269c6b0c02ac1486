"""The database's own wall: reads that run as the requester where the store can enforce it.

The policy filters every read path in Python. A store that also enforces the markings itself
(PostgreSQL with row-level security, :meth:`truceline.store.postgres.PostgresStore.reading_as`)
is given the requester's identity for the duration of a read, so that a bug in one wall is caught
by the other. Stores without such a wall (SQLite, memory) are read as they are.

Only what the policy context confirms is handed down: the participant when it is a current one,
and the sharing groups it acts in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, runtime_checkable

from truceline.policy.gate import Policy
from truceline.policy.principals import Principal


@runtime_checkable
class RowSecuredStore(Protocol):
    """A store that can run its reads as one participant acting in some sharing groups."""

    def reading_as(self, participant: str | None, groups: Iterable[str] = ()) -> AbstractContextManager[None]: ...


@contextmanager
def reading_as_requester(store: object, policy: Policy, principal: Principal) -> Iterator[None]:
    """Inside the block, ``store`` reads as ``principal`` if it can; otherwise nothing changes."""
    if not isinstance(store, RowSecuredStore):
        yield
        return
    context = policy.context
    participant = principal.participant if context.is_participant(principal.participant) else None
    with store.reading_as(participant, context.acting_groups(principal)):
        yield


__all__ = ["RowSecuredStore", "reading_as_requester"]
