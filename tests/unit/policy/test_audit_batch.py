"""Policy.audit_batch: a request's events written in one go, in order, even when it fails."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from truceline.model import FixedClock, Markings
from truceline.policy import AccessDenied, InMemoryAuditLog, Policy, PolicyContext, Principal

CONTEXT = PolicyContext(participants=("UKR", "USA"))
ANALYST = Principal(participant="USA", roles=("analyst",), subject="usa-1")
OWN = Markings(tlp="green", originator="USA")
OTHERS = Markings(tlp="green", originator="UKR")


class CountingLog(InMemoryAuditLog):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def record_many(self, events):  # type: ignore[no-untyped-def]
        self.calls.append(len(events))
        super().record_many(events)


def policy(log: InMemoryAuditLog) -> Policy:
    return Policy(CONTEXT, audit=log, clock=FixedClock(datetime(2026, 3, 1, tzinfo=UTC)))


def test_events_inside_a_batch_are_written_once_in_order() -> None:
    log = CountingLog()
    gate = policy(log)
    with gate.audit_batch():
        for i in range(5):
            gate.check_create(ANALYST, f"observation/{i}", OWN)
        assert len(log) == 0  # kept until the block ends
    assert log.calls == [5]
    assert [e.ref for e in log.events] == [f"observation/{i}" for i in range(5)]
    assert all(e.allowed and e.action == "write" for e in log.events)


def test_a_refusal_inside_the_batch_is_still_recorded() -> None:
    log = CountingLog()
    gate = policy(log)
    with pytest.raises(AccessDenied), gate.audit_batch():
        gate.check_create(ANALYST, "observation/1", OWN)
        gate.check_create(ANALYST, "observation/2", OTHERS)
    assert [(e.ref, e.allowed) for e in log.events] == [("observation/1", True), ("observation/2", False)]


def test_outside_the_batch_and_in_another_thread_events_go_straight_in() -> None:
    log = CountingLog()
    gate = policy(log)
    other = policy(InMemoryAuditLog())
    with gate.audit_batch():
        other.check_create(ANALYST, "elsewhere", OWN)  # another policy is not batched
        seen_from_thread: list[int] = []

        def write_from_a_thread() -> None:
            gate.check_create(ANALYST, "t", OWN)
            seen_from_thread.append(len(log))

        worker = threading.Thread(target=write_from_a_thread)
        worker.start()
        worker.join(timeout=10)
        assert seen_from_thread == [1]  # the thread's event was written at once
    gate.check_create(ANALYST, "after", OWN)
    assert [e.ref for e in log.events] == ["t", "after"]
    assert len(other.audit) == 1  # type: ignore[arg-type]
