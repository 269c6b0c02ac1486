"""Pushing to a peer's TAXII 2.1 server: only what may leave for that peer, as it may leave.

The peer is a participant (the one that runs the receiving server). A record goes only if the
policy lets the requester export it there (``Policy.export_mask``: the requester may read it, the
peer may read it, and AMBER+STRICT and RED never leave the requester's own server), and each
record's fields are cut to what that export allows (``Policy.export_many``). A sharing-group
record therefore never reaches a server whose participant is outside the group — the leak found
in intelligence-sharing platforms that synchronised group records to ineligible servers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from truceline.interop.stix import TRUCELINE_EXTENSION, bundle
from truceline.policy import MarkedDocument, MarkingsTable, Policy, Principal
from truceline.store import Store

PUSHED_TYPES = ("incident", "finding")


class TaxiiCollection(Protocol):
    """What is needed of a TAXII collection client (``taxii2client.v21.Collection`` fits)."""

    def add_objects(self, envelope: Any, wait_for_completion: bool = ..., **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class PushReport:
    records: int
    objects: int
    status: Any


def push_to_peer(
    store: Store,
    policy: Policy,
    principal: Principal,
    peer: str,
    collection: TaxiiCollection,
    *,
    group: str | None = None,
    record_types: Sequence[str] = PUSHED_TYPES,
    with_extension_definition: bool = True,
) -> PushReport:
    """Send the records of ``group`` (``None``: outside any group) that may go to ``peer``.

    ``with_extension_definition=False`` leaves out Truceline's ``extension-definition`` object (the
    objects still name it by id) for servers that predate STIX 2.1's extension definitions:
    medallion 3.0.0 takes its ``version`` ("1.0.0") for a timestamp and fails on every later read.
    """
    items: list[tuple[str, dict[str, Any], Any]] = []
    for record_type in record_types:
        stored = [s for s in store.records(record_type) if s.record.markings.sharing_group == group]  # type: ignore[attr-defined]
        table = MarkingsTable.from_markings(s.record.markings for s in stored)  # type: ignore[attr-defined]
        rows = [int(i) for i in np.flatnonzero(policy.export_mask(principal, table, peer))]
        documents = [
            MarkedDocument(stored[i].record.markings, stored[i].record.model_dump(mode="json"))  # type: ignore[attr-defined]
            for i in rows
        ]
        bodies = policy.export_many(principal, f"taxii/push/{peer}/{record_type}", documents, peer)
        items += [(record_type, body, doc.markings) for body, doc in zip(bodies, documents, strict=True)]
    if not items:
        return PushReport(records=0, objects=0, status=None)
    objects = bundle(items)["objects"]
    if not with_extension_definition:
        objects = [o for o in objects if o["id"] != TRUCELINE_EXTENSION]
    status = collection.add_objects({"objects": objects}, wait_for_completion=False)
    return PushReport(records=len(items), objects=len(objects), status=status)
