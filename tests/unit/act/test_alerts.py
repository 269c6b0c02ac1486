"""Alerts: which changes are alerted, every CAP message valid and signed, addressed by markings, stored once."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.act.factories import GREEN, T0, assessment, finding
from truceline.act import ActSettings, ActStage, SignedCap, run, verify_cap_signature
from truceline.agreement import Agreement
from truceline.interop.cap import parse_cap, validate_cap
from truceline.model import Alert, Markings
from truceline.store import MemoryStore


def _signed(store: MemoryStore) -> list[SignedCap]:
    return [s.record for s in store.records("signedcap") if isinstance(s.record, SignedCap)]


def _alerts(store: MemoryStore) -> list[Alert]:
    return [s.record for s in store.records("alert") if isinstance(s.record, Alert)]


def _populate(store: MemoryStore) -> None:
    days = ["2026-09-01", "2026-09-02", "2026-09-03", "2026-09-04"]
    store.put_records([assessment("CL-06", d, lvl) for d, lvl in zip(days, [1, 3, 4, 2], strict=True)])
    store.put_records([assessment("CL-05", d, 1) for d in days])
    store.put_records([
        finding("f-withdrawal", "withdrawal.mlrs", at=T0 + timedelta(hours=5)),
        finding("f-weak", "withdrawal.mlrs", at=T0 + timedelta(hours=6), confidence=0.6),
        finding("f-provisional", "withdrawal.tank", at=T0 + timedelta(hours=7), status="provisional"),
        finding("f-staging", "no_staging", at=T0 + timedelta(hours=8), status="provisional", confidence=0.7),
        finding("f-fom", "freedom_of_movement", at=T0 + timedelta(hours=9)),
    ])


def test_level_changes_violations_and_staging_are_alerted_and_nothing_else(agreement: Agreement,
                                                                          settings: ActSettings) -> None:
    store = MemoryStore()
    _populate(store)
    report = ActStage(store, agreement, settings).tick(T0 + timedelta(days=5))
    ids = sorted(a.id for a in report.alerts)
    assert ids == [
        "alert--staging--f-staging",
        "alert--violation--f-withdrawal",
        "alert--warning--CL-06--2026-09-02--L3",
        "alert--warning--CL-06--2026-09-03--L4",
        "alert--warning--CL-06--2026-09-04--L2",
    ]
    kinds = {a.id: a.kind for a in report.alerts}
    assert kinds["alert--staging--f-staging"] == "staging_suspicion"
    assert kinds["alert--violation--f-withdrawal"] == "serious_violation"


def test_every_alert_is_valid_cap_signed_and_entered_in_the_records_ledger(agreement: Agreement,
                                                                           settings: ActSettings) -> None:
    store = MemoryStore()
    _populate(store)
    ActStage(store, agreement, settings).tick(T0 + timedelta(days=5))
    signed = _signed(store)
    assert len(signed) == len(_alerts(store)) == 5
    for message in signed:
        xml = message.xml.encode("utf-8")
        validate_cap(xml)  # raises on any schema violation
        assert b"Z</sent>" not in xml and b"+00:00</sent>" in xml
        assert verify_cap_signature(xml, message.signature, settings.desk.signer.public_key)
        assert not verify_cap_signature(xml.replace(b"<identifier>", b"<identifier>x"), message.signature,
                                        settings.desk.signer.public_key)
        parsed = parse_cap(xml)
        assert parsed.identifier == message.alert_id
        assert parsed.infos[0].parameter("truceline:alert_id") == message.alert_id
    assert store.verify_ledger().ok
    assert store.tree_head("records") is not None


def test_rerunning_the_same_records_issues_nothing_twice(agreement: Agreement, settings: ActSettings) -> None:
    store = MemoryStore()
    _populate(store)
    first = run(store, agreement, after_seq=0, upto_seq=0, settings=settings)
    again = run(store, agreement, after_seq=0, upto_seq=0, settings=settings)
    assert first["alerts"] == 5
    assert again["alerts"] == 0
    assert len(_alerts(store)) == 5


def test_amber_alert_is_addressed_only_to_its_audience(agreement: Agreement, settings: ActSettings) -> None:
    store = MemoryStore()
    amber = Markings(tlp="amber", originator="USA", releasable_to=("GBR", "UKR"))
    store.put_records([assessment("CL-06", "2026-09-02", 4, markings=amber)])
    ActStage(store, agreement, settings).tick(T0 + timedelta(days=5))
    (alert,) = _alerts(store)
    assert alert.addresses == ("GBR", "UKR", "USA")
    assert alert.markings.tlp == "amber"
    (message,) = _signed(store)
    cap = parse_cap(message.xml.encode())
    assert cap.scope == "Private" and cap.addresses == ("GBR", "UKR", "USA")
    assert "TLP:AMBER" in cap.codes


def test_green_alert_reaches_every_participant(agreement: Agreement, settings: ActSettings) -> None:
    store = MemoryStore()
    store.put_records([assessment("CL-06", "2026-09-02", 5, markings=GREEN)])
    ActStage(store, agreement, settings).tick(T0 + timedelta(days=5))
    (alert,) = _alerts(store)
    assert set(alert.addresses) == {p.id for p in agreement.participants}
    assert alert.severity == "extreme"


def test_nothing_stored_means_nothing_done(agreement: Agreement, settings: ActSettings) -> None:
    counts = run(MemoryStore(), agreement, after_seq=0, upto_seq=0, settings=settings)
    assert counts["alerts"] == 0 and counts["activations"] == 0


def test_an_id_cap_would_refuse_is_sanitised_in_the_message_but_kept_in_the_record(
    agreement: Agreement, settings: ActSettings
) -> None:
    store = MemoryStore()
    store.put_records([finding("finding 7, east <bank> & co", "withdrawal.mlrs", at=T0)])
    (alert,) = ActStage(store, agreement, settings).tick(T0 + timedelta(days=1)).alerts
    assert alert.id == "alert--violation--finding 7, east <bank> & co"
    (message,) = _signed(store)
    cap = parse_cap(message.xml.encode())
    assert cap.identifier == "alert--violation--finding_7__east__bank>___co"
    assert cap.infos[0].parameter("truceline:alert_id") == alert.id
