"""The gates the API calls: reads, redaction, errors that hide existence, exports, creation, audit."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest

from tests.unit.policy.conftest import CONTEXT, NOW, marked, who
from truceline.policy import (
    AccessDenied,
    AuditEvent,
    AuditLog,
    ExportRefused,
    InMemoryAuditLog,
    MarkedDocument,
    MarkingsTable,
    NotFoundOrHidden,
    Policy,
    Principal,
    not_found_or_hidden,
)

BODY: dict[str, Any] = {
    "id": "INC-1",
    "source": "agent KESTREL",
    "location": {"lat": 48.02, "lon": 37.80},
    "media": [{"uri": "s3://a", "hash": "h1"}, {"uri": "s3://b", "hash": "h2"}],
}
RECORD = MarkedDocument(
    marked("green", "USA"),
    BODY,
    {
        "source": marked("red", "USA", "GBR"),
        "location.lat": marked("amber", "USA", "UKR"),
        "media.uri": marked("amber"),
    },
)


def test_a_withheld_field_is_removed_key_and_all(policy: Policy) -> None:
    seen = policy.read(who("UKR"), "incident/INC-1", RECORD)
    assert seen == {"id": "INC-1", "location": {"lat": 48.02, "lon": 37.80}, "media": [{"hash": "h1"}, {"hash": "h2"}]}
    assert "KESTREL" not in json.dumps(seen) and "source" not in seen and "s3://" not in json.dumps(seen)


def test_field_markings_reach_into_every_list_element_and_never_change_the_input(policy: Policy) -> None:
    before = copy.deepcopy(BODY)
    seen = policy.read(who("FRA"), "incident/INC-1", RECORD)
    assert seen == {"id": "INC-1", "location": {"lon": 37.80}, "media": [{"hash": "h1"}, {"hash": "h2"}]}
    assert before == BODY
    seen["location"]["lon"] = 0.0
    assert before == BODY


def test_the_originator_sees_every_field(policy: Policy) -> None:
    assert policy.read(who("USA"), "incident/INC-1", RECORD) == BODY


def test_a_malformed_field_path_stops_the_response_instead_of_releasing_the_field(policy: Policy) -> None:
    with pytest.raises(ValueError, match="malformed field path"):
        policy.redact(BODY, {"location..lat": marked("red", "USA", "GBR")}, who("USA"))


def test_a_hidden_record_and_a_missing_one_give_the_same_error_and_audit_event(
    policy: Policy, audit: InMemoryAuditLog
) -> None:
    hidden = MarkedDocument(marked("red", "USA", "GBR", group="G-SIGINT"), {"id": "INC-9"})
    with pytest.raises(NotFoundOrHidden) as on_hidden:
        policy.read(who("UKR"), "incident/INC-9", hidden)
    with pytest.raises(NotFoundOrHidden) as on_missing:
        policy.read(who("UKR"), "incident/INC-9", None)
    assert str(on_hidden.value) == str(on_missing.value) == "'incident/INC-9' was not found or is not visible to you"
    assert vars(on_hidden.value) == vars(on_missing.value) == {"ref": "incident/INC-9"}
    assert audit.events[-1] == audit.events[-2] == AuditEvent(NOW, "UKR", None, "read", "incident/INC-9", False)
    assert str(not_found_or_hidden("incident/INC-9")) == str(on_missing.value)


def test_lists_and_counts_include_only_visible_records(policy: Policy, audit: InMemoryAuditLog) -> None:
    docs = [
        MarkedDocument(marked("green"), {"id": "a"}),
        MarkedDocument(marked("amber", "USA", "GBR"), {"id": "b"}),
        MarkedDocument(marked("clear", group="G-AIR"), {"id": "c"}),
    ]
    assert policy.read_many(who("UKR", groups=("G-AIR",)), "incident", docs) == [{"id": "a"}, {"id": "c"}]
    table = MarkingsTable.from_markings(d.markings for d in docs)
    assert policy.count(who("UKR"), "incident", table) == 1
    assert policy.count(who("GBR"), "incident", table, where=np.array([False, True, True])) == 1
    assert [(e.action, e.ref, e.returned) for e in audit.events] == [
        ("read", "incident", 2),
        ("count", "incident", 1),
        ("count", "incident", 1),
    ]


def test_export_removes_fields_the_destination_may_not_receive(policy: Policy) -> None:
    sent = policy.export(who("USA"), "incident/INC-1", RECORD, "UKR")
    assert sent == {"id": "INC-1", "location": {"lat": 48.02, "lon": 37.80}, "media": [{"hash": "h1"}, {"hash": "h2"}]}
    own = policy.export(who("USA"), "incident/INC-1", RECORD, "USA")
    assert own == BODY


def test_export_refusals_hide_existence_from_those_who_cannot_read(policy: Policy) -> None:
    doc = MarkedDocument(marked("amber+strict", "USA", "UKR"), {"id": "INC-2"})
    with pytest.raises(NotFoundOrHidden):
        policy.export(who("GBR"), "incident/INC-2", doc, "GBR")
    with pytest.raises(NotFoundOrHidden):
        policy.export(who("GBR"), "incident/INC-2", None, "GBR")
    with pytest.raises(ExportRefused, match="requester's own"):
        policy.export(who("UKR"), "incident/INC-2", doc, "USA")
    with pytest.raises(ExportRefused, match="destination may not read"):
        policy.export(who("USA"), "incident/INC-2", MarkedDocument(marked("amber"), {}), "GBR")


def test_bulk_export_sends_only_what_may_go(policy: Policy) -> None:
    docs = [
        MarkedDocument(marked("green", group="G-SIGINT"), {"id": "a"}),
        MarkedDocument(marked("green", group="G-AIR"), {"id": "b"}),
        MarkedDocument(marked("red", "USA", "UKR"), {"id": "c"}),
    ]
    sender = who("USA", groups=("G-SIGINT", "G-AIR"))
    assert policy.export_many(sender, "incident", docs, "UKR") == [{"id": "b"}]
    table = MarkingsTable.from_markings(d.markings for d in docs)
    assert policy.export_mask(sender, table, "UKR").tolist() == [False, True, False]


@pytest.mark.parametrize(
    ("principal", "markings", "reason"),
    [
        (who("USA", "observer"), marked("green"), "analyst role"),
        (who("XAA", "analyst"), marked("green", "XAA"), "current participants"),
        (who("UKR", "analyst"), marked("green", "USA"), "originator must be the writer"),
        (who("UKR", "analyst", groups=("G-SIGINT",)), marked("green", "UKR", group="G-SIGINT"), "do not act in"),
        (who("UKR", "analyst"), marked("green", "UKR", group="G-NOWHERE"), "do not act in"),
        (who("UKR", "analyst"), marked("amber", "UKR", "XAA"), "non-participants"),
    ],
)
def test_creation_fixes_the_audience_and_refuses_bad_markings(
    policy: Policy, principal: Any, markings: Any, reason: str
) -> None:
    with pytest.raises(AccessDenied, match=reason):
        policy.check_create(principal, "incident/new", markings)


def test_creation_is_allowed_with_sound_markings_and_audited(policy: Policy, audit: InMemoryAuditLog) -> None:
    policy.check_create(
        who("UKR", "analyst", groups=("G-AIR",)), "incident/new", marked("red", "UKR", "USA", group="G-AIR")
    )
    assert audit.events == [AuditEvent(NOW, "UKR", None, "write", "incident/new", True)]


def test_an_action_on_a_hidden_record_is_not_found_whatever_the_roles(policy: Policy) -> None:
    hidden = marked("amber", "USA")
    with pytest.raises(NotFoundOrHidden):
        policy.check_action(who("UKR", "reviewer", "administrator"), "review", "incident/INC-1", hidden)
    with pytest.raises(AccessDenied, match="no role"):
        policy.check_action(who("USA", "analyst"), "review", "incident/INC-1", hidden)
    policy.check_action(who("USA", "reviewer"), "review", "incident/INC-1", hidden)


def test_administration_needs_the_administrator_role(policy: Policy) -> None:
    policy.check_administer(who("OSCE", "administrator"), "tokens")
    with pytest.raises(AccessDenied):
        policy.check_administer(who("OSCE", "analyst"), "tokens")


def test_the_audit_log_records_reads_and_writes_with_the_subject() -> None:
    log: AuditLog = InMemoryAuditLog()
    policy = Policy(CONTEXT, audit=log)
    principal = Principal(participant="USA", roles=("analyst",), subject="alice")
    policy.read(principal, "incident/x", MarkedDocument(marked("green"), {"id": "x"}))
    policy.check_create(principal, "incident/y", marked("green"))
    assert isinstance(log, InMemoryAuditLog)
    assert [(e.subject, e.action, e.ref, e.allowed) for e in log.events] == [
        ("alice", "read", "incident/x", True),
        ("alice", "write", "incident/y", True),
    ]
