"""Keeping the guarantee in the store: every pledge version, ratification, unit and delivered item.

The store keeps versions and enters each in the evidence ledger, so the audit trail of a pledge is
``store.record_history("pledge", id)``. Saving is idempotent: a version already stored (same
content, same place in the history) is not stored again, so saving the same file twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from truceline.guarantee.coalition import Coalition
from truceline.guarantee.records import DeliveredItem, Pledge, register_records
from truceline.model import Record
from truceline.store import Store

__all__ = ["SaveResult", "pledge_history", "save_coalition", "save_deliveries"]


class SaveResult(dict[str, int]):
    """Versions stored, by record type."""


def _save_versions(store: Store, type_name: str, record_id: str, versions: Sequence[Record]) -> int:
    stored = store.record_history(type_name, record_id)
    for i, (old, new) in enumerate(zip(stored, versions, strict=False)):
        if old.record != new:
            raise ValueError(
                f"{type_name} {record_id}: version {i + 1} in the store differs from the file's; "
                "history is never rewritten — add an amendment instead"
            )
    added = 0
    for record in versions[len(stored) :]:
        store.put_record(record, type=type_name)
        added += 1
    return added


def save_coalition(store: Store, coalition: Coalition) -> SaveResult:
    """Store the coalition's pledge versions, ratification status and units."""
    register_records()
    result = SaveResult(pledge=0, ratification=0, reassurance_unit=0)
    for pid, versions in coalition.versions.items():
        result["pledge"] += _save_versions(store, "pledge", pid, versions)
    for ratification in coalition.ratifications.values():
        result["ratification"] += _save_latest(store, "ratification", ratification)
    for unit in coalition.units:
        result["reassurance_unit"] += _save_latest(store, "reassurance_unit", unit)
    return result


def _save_latest(store: Store, type_name: str, record: Record) -> int:
    # Ratification and units change over time: a new version whenever the content differs.
    current = store.get_record(type_name, str(getattr(record, "id")))  # noqa: B009 (Record has no id in its type)
    if current is not None and current.record == record:
        return 0
    store.put_record(record, type=type_name)
    return 1


def save_deliveries(store: Store, items: Iterable[DeliveredItem]) -> int:
    """Enter delivered items in the serial-number ledger; an entry already stored is not stored again.

    A serial entered twice with different details (the audit's "duplicated") keeps both entries as
    versions of its record, so the ledger shows the duplicate rather than hiding it.
    """
    register_records()
    added = 0
    for item in items:
        if all(stored.record != item for stored in store.record_history("delivered_item", item.id)):
            store.put_record(item, type="delivered_item")
            added += 1
    return added


def pledge_history(store: Store, pledge_id: str) -> list[Pledge]:
    """Every stored version of a pledge, oldest first."""
    register_records()
    out = []
    for stored in store.record_history("pledge", pledge_id):
        assert isinstance(stored.record, Pledge)
        out.append(stored.record)
    return out
