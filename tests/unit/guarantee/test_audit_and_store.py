"""The serial-number audit of delivered equipment, and keeping the guarantee in the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from truceline.guarantee import (
    EXAMPLE_COALITION,
    CoalitionError,
    Declaration,
    DeliveredItem,
    Inspection,
    inspections_from_visits,
    load_audit,
    load_coalition,
    reconcile,
)
from truceline.guarantee.persist import pledge_history, save_coalition, save_deliveries
from truceline.model import FixedClock, StorageSiteVisit, observation_adapter
from truceline.store import MemoryStore

Write = Callable[[dict[str, Any] | str], Path]
EXAMPLE_AUDIT = EXAMPLE_COALITION.parent / "equipment_audit.yaml"


def _items(*serials: str) -> list[DeliveredItem]:
    return [DeliveredItem(id=s, donor="DEU", equipment_class="tank", delivered=date(2026, 10, 1)) for s in serials]


def test_every_kind_of_discrepancy_is_found() -> None:
    items = _items("A", "B", "C", "D", "E", "E")
    decl = Declaration(date(2026, 11, 1), {"S1": ("A", "B", "X"), "S2": ("D", "A")})
    seen = [Inspection(date(2026, 11, 5), "S1", ("A", "D")), Inspection(date(2026, 11, 5), "S2", ("D",))]
    report = reconcile(items, [decl], seen)
    kinds = {(d.serial, d.kind) for d in report.discrepancies}
    assert kinds == {
        ("A", "duplicated"),  # declared at two sites at once
        ("A", "not_found"),  # declared at S2, not seen there
        ("B", "not_found"),
        ("C", "missing"),
        ("D", "misplaced"),  # seen at S1, declared at S2
        ("D", "duplicated"),  # seen at two sites on one day
        ("E", "duplicated"),  # delivered twice
        ("E", "missing"),
        ("X", "unexpected"),
        ("X", "not_found"),  # and declared at S1, not seen there
    }
    assert report.verified == 2  # A at S1, D at S2


def test_a_later_inspection_that_sees_the_item_settles_it() -> None:
    items = _items("A")
    decl = Declaration(date(2026, 11, 1), {"S1": ("A",)})
    early, late = Inspection(date(2026, 11, 5), "S1", ()), Inspection(date(2026, 11, 20), "S1", ("A",))
    assert {d.kind for d in reconcile(items, [decl], [early]).discrepancies} == {"not_found"}
    assert reconcile(items, [decl], [late, early]).discrepancies == ()


def test_written_off_items_are_not_missing() -> None:
    report = reconcile(_items("A"), [Declaration(date(2026, 11, 1), {}, written_off=("A",))], [])
    assert report.discrepancies == () and report.written_off == 1


def test_monitors_visits_become_inspections_unless_access_was_denied() -> None:
    base = {
        "participant": "MVM", "source": "team-1", "reliability": "B", "credibility": 2, "time_error_s": 60,
        "location": {"lat": 49.6, "lon": 34.5, "error": {"semi_major_m": 50, "semi_minor_m": 50}},
        "markings": {"tlp": "green", "originator": "MVM"}, "kind": "storage_visit", "site_id": "UKR-S1",
    }  # fmt: skip
    ok = observation_adapter.validate_python({**base, "key": "v1", "time": "2026-11-05T10:00:00Z",
                                              "serials_present": ("A",)})  # fmt: skip
    denied = observation_adapter.validate_python({**base, "key": "v2", "time": "2026-11-06T10:00:00Z",
                                                  "access_granted": False})  # fmt: skip
    assert isinstance(ok, StorageSiteVisit) and isinstance(denied, StorageSiteVisit)
    (inspection,) = inspections_from_visits([ok, denied])
    assert (inspection.date, inspection.site, tuple(inspection.seen)) == (date(2026, 11, 5), "UKR-S1", ("A",))


def test_the_example_audit_has_one_discrepancy_of_each_kind() -> None:
    ledger = load_audit(EXAMPLE_AUDIT)
    report = reconcile(ledger.items, ledger.declarations, ledger.inspections)
    assert {d.kind for d in report.discrepancies} == {"missing", "unexpected", "duplicated", "not_found", "misplaced"}
    assert report.by_class["tank"] == (15, 14, 13)


def test_an_audit_file_with_an_unknown_donor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text("format_version: 1\ndeliveries:\n  - {donor: XXX, equipment_class: tank, date: 2026-10-01, "
                    "serials: [A]}\n")  # fmt: skip
    with pytest.raises(CoalitionError) as info:
        load_audit(path)
    assert info.value.path == "deliveries[0].donor" and info.value.line == 3


def test_saving_keeps_every_version_and_saving_again_adds_nothing(doc: dict[str, Any], write: Write) -> None:
    doc["amendments"] = [{"pledge": "DEU-tanks", "date": "2026-10-01", "quantity": 50, "reason": "more"}]
    coalition = load_coalition(write(doc))
    store = MemoryStore(clock=FixedClock(datetime(2026, 11, 15, tzinfo=UTC)))
    first = save_coalition(store, coalition)
    assert first == {"pledge": 7, "ratification": 2, "reassurance_unit": 2}
    assert save_coalition(store, coalition) == {"pledge": 0, "ratification": 0, "reassurance_unit": 0}
    assert [p.quantity for p in pledge_history(store, "DEU-tanks")] == [40, 50]
    stored = store.get_record("reassurance_unit", "GBR-BG")
    assert stored is not None and stored.record == coalition.units[0]
    assert store.verify_ledger().ok


def test_a_rewritten_history_is_refused(doc: dict[str, Any], write: Write) -> None:
    store = MemoryStore()
    save_coalition(store, load_coalition(write(doc)))
    doc["pledges"][3]["quantity"] = 45  # version 1 now differs from the stored version 1
    with pytest.raises(ValueError, match="history is never rewritten"):
        save_coalition(store, load_coalition(write(doc)))


def test_delivered_items_enter_the_serial_ledger() -> None:
    store = MemoryStore()
    items = load_audit(EXAMPLE_AUDIT).items
    # The serial delivered twice becomes a second version of its record: the ledger shows both entries.
    assert save_deliveries(store, items) == len(items) == len({i.id for i in items}) + 1
    assert len(store.record_history("delivered_item", "CAE-0623")) == 2
    assert save_deliveries(store, items) == 0
