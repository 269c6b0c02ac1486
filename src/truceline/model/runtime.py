"""Injected time and identifiers, so every output can be reproduced.

Stages never call ``datetime.now()`` or ``uuid4()`` directly: they take a :class:`Clock` and an
:class:`IdFactory`. Tests pin both and compare outputs to exact expected documents.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests and reproducible runs.

    >>> clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    >>> clock.advance(seconds=90).isoformat()
    '2026-03-01T00:01:30+00:00'
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now = self._now + timedelta(seconds=seconds)
        return self._now


class IdFactory(Protocol):
    """Makes identifiers for new records of a given kind."""

    def new(self, kind: str) -> str: ...


class RandomIds:
    """Random UUID4-based identifiers (``incident--<uuid>``) for production runs."""

    def new(self, kind: str) -> str:
        return f"{kind}--{uuid.uuid4()}"


class SequentialIds:
    """Deterministic identifiers derived from a seed and a counter per kind.

    >>> ids = SequentialIds("test")
    >>> ids.new("incident") == SequentialIds("test").new("incident")
    True
    """

    def __init__(self, seed: str = "truceline") -> None:
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:truceline:{seed}")
        self._counters: dict[str, int] = {}

    def new(self, kind: str) -> str:
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        return f"{kind}--{uuid.uuid5(self._namespace, f'{kind}/{n}')}"
