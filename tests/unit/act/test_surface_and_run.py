"""The act package's public surface, its entry point on the embedded store, and the CLI commands."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

import truceline.act as act
from tests.unit.act.factories import T0, assessment, finding
from truceline.act import AlertSigner, DeliveryError, NatsSink, SignedCap, run
from truceline.act.run import ALERT_KEY_SUFFIX, default_signer
from truceline.agreement import Agreement
from truceline.cli.act_cmd import app
from truceline.interop.cap import validate_cap
from truceline.model import CreationInfo, Markings
from truceline.store import SQLiteStore

_H = timedelta(hours=1)


def test_public_surface_is_pinned() -> None:
    assert sorted(act.__all__) == sorted([
        "CAP_MEDIA_TYPE", "DEFAULT_PLAYBOOK", "RECORD_TYPES", "ActSettings", "ActStage", "Activation", "AlertDesk",
        "AlertSigner", "CapSignature", "Consultation", "DeliveryAttempt", "DeliveryError", "DeskSettings",
        "DirectiveTask", "ExerciseResult", "Facts", "FileSink", "Hotline", "HotlineEntry", "IssuedAlert", "NatsSink",
        "Playbook", "PlaybookEngine", "PlaybookError", "RetryPolicy", "SignedCap", "Sink", "StepResult",
        "TickReport", "TimelineEntry", "TriggerEvent", "Verdict", "WebhookSink", "acknowledge", "addressees",
        "alert_for_finding", "alert_for_warning", "assessment_time", "cap_message", "combine_markings", "deliver",
        "evaluate_triggers", "load_playbook", "mark_overdue", "open_consultations", "parse_playbook",
        "pending_deliveries", "record_response", "register_records", "run", "run_exercise", "verify_cap_signature",
    ])
    for name in act.__all__:
        assert getattr(act, name) is not None


def test_run_on_the_embedded_store_signs_with_a_private_key_beside_the_database(
    agreement: Agreement, tmp_path: Path
) -> None:
    db = tmp_path / "t.db"
    store = SQLiteStore(db)
    store.put_records([assessment("CL-06", "2026-09-02", 4), finding("f1", "withdrawal.mlrs", at=T0)])
    counts = run(store, agreement, after_seq=0, upto_seq=store.max_seq())
    assert counts["alerts"] == 2 and counts["activations"] >= 2
    key_path = Path(f"{db}{ALERT_KEY_SUFFIX}")
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    signer = default_signer(store)
    assert signer.key_id == AlertSigner.load_or_create(key_path).key_id
    store.close()
    reopened = SQLiteStore(db)
    signed = [s.record for s in reopened.records("signedcap") if isinstance(s.record, SignedCap)]
    assert {s.key_id for s in signed} == {signer.key_id}
    assert run(reopened, agreement, after_seq=0, upto_seq=reopened.max_seq())["alerts"] == 0
    assert reopened.verify_ledger().ok
    reopened.close()


def test_a_finding_confirmed_later_is_alerted_on_the_next_run(agreement: Agreement, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    store.put_records([finding("f1", "withdrawal.mlrs", at=T0, status="provisional")])
    assert run(store, agreement, after_seq=0, upto_seq=1)["alerts"] == 0
    store.put_records([finding("f1", "withdrawal.mlrs", at=T0, status="confirmed")])
    assert run(store, agreement, after_seq=0, upto_seq=1)["alerts"] == 1
    store.close()


def test_a_nats_server_that_is_not_there_is_one_failed_attempt() -> None:
    message = SignedCap(id="a", alert_id="a", xml="<alert/>", sha256="00", signature="00", key_id="00",
                        addresses=("USA",), markings=Markings(tlp="green", originator="MVM"),
                        creation_info=CreationInfo(agent="t", created=T0))
    sink = NatsSink("nats://127.0.0.1:9", timeout_s=0.5)
    try:
        sink.send(message, "USA")
    except DeliveryError as exc:
        assert "nats" in exc.reason and exc.retryable
    else:
        raise AssertionError("a missing server must fail the attempt")


def test_cli_lists_alerts_prints_cap_and_checks_files(agreement: Agreement, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    store = SQLiteStore(db)
    store.put_records([assessment("CL-06", "2026-09-02", 4)])
    store.close()
    runner = CliRunner()
    assert runner.invoke(app, ["run", "--db", str(db)]).exit_code == 0
    listed = runner.invoke(app, ["alerts", "--db", str(db)])
    assert listed.exit_code == 0 and "CL-06" in listed.output
    shown = runner.invoke(app, ["alerts", "--db", str(db), "--xml", "alert--warning--CL-06--2026-09-02--L4"])
    assert shown.exit_code == 0
    xml = shown.output.split("signature")[0].strip().encode()
    validate_cap(xml)
    bad = tmp_path / "bad.xml"
    bad.write_text("<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</identifier></alert>")
    checked = runner.invoke(app, ["check-cap", str(bad)])
    assert checked.exit_code == 3 and "sender" in checked.output
    good = runner.invoke(app, ["check-cap", str(Path(__file__).parents[1] / "interop/cap/data/other_system.xml")])
    assert good.exit_code == 0 and "valid CAP 1.2" in good.output
    playbook = tmp_path / "p.yaml"
    playbook.write_text("format_version: 1\nid: p\ntitle: t\ndirectives: {}\nscenarios: []\n")
    assert runner.invoke(app, ["check-playbook", str(playbook)]).exit_code == 2
    assert runner.invoke(app, ["check-playbook", str(act.DEFAULT_PLAYBOOK)]).exit_code == 0
    exercised = runner.invoke(app, ["exercise", "--db", str(db), "--step-hours", "12"])
    assert exercised.exit_code == 0 and "S-WARNING-4" in exercised.output


def test_a_record_not_yet_known_at_the_runs_moment_is_considered_by_a_later_run(
    agreement: Agreement, tmp_path: Path
) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    store.put_records([finding("early", "withdrawal.mlrs", at=T0), finding("late", "withdrawal.tank", at=T0 + _H * 5)])
    assert run(store, agreement, after_seq=0, upto_seq=0, now=T0 + _H)["alerts"] == 1
    assert run(store, agreement, after_seq=0, upto_seq=0, now=T0 + _H * 6)["alerts"] == 1
    store.close()
