"""Tokens: kept hashed, checked in constant time, every failure the same 401; and the audit log."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.unit.server.conftest import NOW, Mechanism
from truceline.cli import serve_cmd
from truceline.model import FixedClock, UsageError
from truceline.policy import AuditEvent
from truceline.server import SQLiteAuditLog, TokenRegistry
from truceline.server.auth import UNAUTHORISED


def test_a_token_file_holds_no_secret_only_its_digest(tmp_path: Path) -> None:
    registry = TokenRegistry(tmp_path / "tokens.sqlite")
    token, info = registry.issue("USA", ["analyst"], subject="alice")
    registry.close()
    secret = token.rsplit("_", 1)[1]
    raw = (tmp_path / "tokens.sqlite").read_bytes()
    assert secret.encode() not in raw and token.encode() not in raw
    with sqlite3.connect(tmp_path / "tokens.sqlite") as conn:
        (digest,) = conn.execute("SELECT digest FROM tokens WHERE id = ?", (info.id,)).fetchone()
    assert len(digest) == 32
    assert (tmp_path / "tokens.sqlite").stat().st_mode & 0o077 == 0


def test_every_kind_of_bad_token_gets_the_same_401(mech: Mechanism) -> None:
    good = mech.token("USA", "observer")
    token_id = good.split("_")[1]
    expiring, _ = mech.tokens.issue("USA", ["observer"], subject="tmp", expires=NOW + timedelta(minutes=5))
    revoked, info = mech.tokens.issue("USA", ["observer"], subject="gone")
    assert mech.tokens.revoke(info.id)
    mech.clock.advance(seconds=360)
    candidates = {
        "none": {},
        "forged secret": {"Authorization": f"Bearer tl_{token_id}_{'A' * 43}"},
        "unknown id": {"Authorization": f"Bearer tl_000000000000_{good.rsplit('_', 1)[1]}"},
        "malformed": {"Authorization": "Bearer hello"},
        "wrong scheme": {"Authorization": f"Token {good}"},
        "expired": {"Authorization": f"Bearer {expiring}"},
        "revoked": {"Authorization": f"Bearer {revoked}"},
    }
    bodies = set()
    for name, headers in candidates.items():
        response = mech.client.get("/v1/incidents", headers=headers)
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer"
        bodies.add(response.content)
    assert bodies == {f'{{"detail":"{UNAUTHORISED}"}}'.encode()}
    assert mech.client.get("/v1/incidents", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_issuing_refuses_unknown_roles_bad_participants_and_past_expiry() -> None:
    registry = TokenRegistry(":memory:", clock=FixedClock(NOW))
    with pytest.raises(UsageError):
        registry.issue("USA", ["superuser"], subject="x")  # type: ignore[list-item]
    with pytest.raises(ValueError):
        registry.issue("usa", ["observer"], subject="x")
    with pytest.raises(UsageError):
        registry.issue("USA", ["observer"], subject="x", expires=NOW)
    with pytest.raises(ValueError):  # the audit subject (with the token id) must stay a valid identifier
        registry.issue("USA", ["observer"], subject="x" * 195)
    assert registry.tokens() == []


def test_audit_events_survive_in_the_file_and_only_administrators_read_their_own(
    tmp_path: Path, mech: Mechanism
) -> None:
    log = SQLiteAuditLog(tmp_path / "audit.sqlite")
    log.record(AuditEvent(NOW, "USA", "alice", "read", "incidents/INC-1", False))
    log.record(AuditEvent(NOW, "GBR", "bob", "read", "incidents", True, 3))
    log.close()
    reopened = SQLiteAuditLog(tmp_path / "audit.sqlite")
    assert [(n, e.participant, e.ref) for n, e in reopened.events("USA")] == [(1, "USA", "incidents/INC-1")]
    assert len(reopened) == 2
    reopened.close()

    mech.settings.audit.record(AuditEvent(NOW, "GBR", "bob", "read", "x", True))
    assert mech.get("/v1/audit", "USA", "observer").status_code == 403
    items = mech.get("/v1/audit", "USA", "administrator").json()["items"]
    assert [(i["participant"], i["action"], i["ref"], i["allowed"]) for i in items] == [
        ("USA", "administer", "audit", False),
        ("USA", "administer", "audit", True),
    ]


def test_the_audit_file_is_hash_chained_and_an_edit_is_named(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "audit.sqlite"
    log = SQLiteAuditLog(path)
    for i in range(5):
        log.record(AuditEvent(NOW, "USA", "alice", "read", f"incidents/INC-{i}", True, i))
    assert log.verify() is None
    log.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE audit SET allowed = 0 WHERE n = 3")  # hide that a read was allowed
    assert SQLiteAuditLog(path).verify() == 3
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE audit SET allowed = 1 WHERE n = 3")
        conn.execute("DELETE FROM audit WHERE n = 2")  # remove an event altogether
    assert SQLiteAuditLog(path).verify() == 2
    reopened = SQLiteAuditLog(tmp_path / "fresh.sqlite")
    reopened.record(AuditEvent(NOW, "GBR", "bob", "read", "x", True))
    reopened.close()
    assert SQLiteAuditLog(tmp_path / "fresh.sqlite").verify() is None  # the chain continues across reopening


def test_a_batch_of_audit_events_chains_as_the_same_events_one_by_one(tmp_path: Path) -> None:
    events = [AuditEvent(NOW, "USA", "alice", "write", f"observation/{i}", i % 3 != 0) for i in range(7)]
    one_by_one, batched = SQLiteAuditLog(tmp_path / "a.sqlite"), SQLiteAuditLog(tmp_path / "b.sqlite")
    one_by_one.record(events[0])
    batched.record(events[0])
    for event in events[1:]:
        one_by_one.record(event)
    batched.record_many(events[1:])
    batched.record_many([])
    assert batched.verify() is None
    assert batched.events("USA", limit=100) == one_by_one.events("USA", limit=100)
    for log in (one_by_one, batched):
        log.close()
    import sqlite3

    chains = [
        [bytes(c) for (c,) in sqlite3.connect(tmp_path / name).execute("SELECT chain FROM audit ORDER BY n")]
        for name in ("a.sqlite", "b.sqlite")
    ]
    assert chains[0] == chains[1]


def test_the_audit_endpoint_shows_an_administrator_its_own_participant_only(tmp_path: Path) -> None:
    log = SQLiteAuditLog(tmp_path / "audit.sqlite")
    mech = Mechanism(audit=log)
    mech.get("/v1/incidents/INC-red-to-fra", "GBR")
    mech.get("/v1/incidents/INC-clear", "USA")
    items = mech.get("/v1/audit", "USA", "administrator").json()["items"]
    assert {i["participant"] for i in items} == {"USA"}
    assert ("read", "incidents/INC-clear", True) in {(i["action"], i["ref"], i["allowed"]) for i in items}
    assert all("INC-red-to-fra" not in i["ref"] for i in items)
    log.close()


def test_token_commands_issue_list_and_revoke(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(serve_cmd.token_app, name="token")
    runner = CliRunner()
    tokens = str(tmp_path / "t.sqlite")
    issued = runner.invoke(app, ["token", "issue", "USA", "--role", "analyst", "--subject", "ops", "--tokens", tokens])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    assert token.startswith("tl_")
    registry = TokenRegistry(tokens)
    principal = registry.authenticate(token)
    assert principal is not None and principal.participant == "USA" and principal.roles == ("analyst",)
    token_id = token.split("_")[1]
    listed = runner.invoke(app, ["token", "list", "--tokens", tokens])
    assert token_id in listed.output and token.rsplit("_", 1)[1] not in listed.output
    assert runner.invoke(app, ["token", "revoke", token_id, "--tokens", tokens]).exit_code == 0
    assert registry.authenticate(token) is None
    assert runner.invoke(app, ["token", "revoke", token_id, "--tokens", tokens]).exit_code == 2
    bad = runner.invoke(app, ["token", "issue", "USA", "--role", "boss", "--subject", "x", "--tokens", tokens])
    assert bad.exit_code == 2
    registry.close()


def test_sharing_groups_load_from_json_and_bad_files_are_usage_errors(tmp_path: Path) -> None:
    good = tmp_path / "groups.json"
    good.write_text('[{"id": "G-AIR", "members": ["USA", "GBR"]}]')
    assert [g.id for g in serve_cmd.load_groups(str(good))] == ["G-AIR"]
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "G", "members": "USA"}]')
    with pytest.raises(UsageError):
        serve_cmd.load_groups(str(bad))
    with pytest.raises(UsageError):
        serve_cmd.load_groups(str(tmp_path / "missing.json"))
