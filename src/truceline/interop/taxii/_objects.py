"""The STIX objects of one TAXII collection as one principal may see them, with their dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from truceline.interop.stix._common import fixed_objects, markings_definition, participant_identity
from truceline.interop.stix.export import EXPORTERS
from truceline.model import Markings
from truceline.policy import MarkedDocument, MarkingsTable, Policy, Principal, reading_as_requester
from truceline.store import Store, StoredRecord

EXPORTED_TYPES = ("incident", "finding")


def collection_objects(
    store: Store, policy: Policy, principal: Principal, group: str | None, collection_ref: str
) -> list[tuple[datetime, dict[str, Any]]]:
    """``(date_added, STIX object)`` for the collection of ``group`` (``None``: outside any group).

    Records are filtered by the policy first and redacted by it before conversion; objects that
    several records share (identities, marking definitions) appear once, dated by the first.
    """
    added: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for record_type in EXPORTED_TYPES:
        with reading_as_requester(store, policy, principal):  # the database's wall behind the policy's
            stored: list[StoredRecord] = [
                s
                for s in store.records(record_type)
                if getattr(s.record, "markings", None) is not None and s.record.markings.sharing_group == group  # type: ignore[attr-defined]
            ]
        markings: list[Markings] = [s.record.markings for s in stored]  # type: ignore[attr-defined]
        mask = policy.visible_mask(principal, MarkingsTable.from_markings(markings))
        rows = [int(i) for i in np.flatnonzero(mask)]
        shown = [stored[i] for i in rows]
        documents = [MarkedDocument(markings[i], stored[i].record.model_dump(mode="json")) for i in rows]
        bodies = policy.read_many(principal, collection_ref, documents)
        for item, doc, document in zip(shown, bodies, documents, strict=True):
            objects = [
                *EXPORTERS[record_type](doc, document.markings),
                markings_definition(document.markings),
                participant_identity(document.markings.originator),
            ]
            if record_type == "incident":
                objects += [participant_identity(ref["participant"]) for ref in doc.get("observations", ())]
            for obj in objects:
                if obj["id"] not in added or added[obj["id"]][0] > item.created:
                    added[obj["id"]] = (item.created, obj)
    if added:
        first = min(date for date, _ in added.values())
        for obj in fixed_objects():
            added[obj["id"]] = (first, obj)
    return sorted(added.values(), key=lambda entry: (entry[0], entry[1]["id"]))
