"""Identifiers, timestamps and the fixed objects every Truceline STIX bundle refers to.

Identifiers are derived from Truceline's own ids (a SHA-256 of a namespaced key, shaped as a
version-4 UUID as STIX 2.1 asks for SDOs), so exporting the same record twice gives the same
STIX id and a peer's TAXII server sees a new version, not a new object.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from truceline.model import Markings

STIX_EPOCH = "2026-01-01T00:00:00.000Z"
"""``created`` of the objects Truceline defines once (its identity and extension definition)."""

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
"""The OASIS extension that defines TLP 2.0 marking definitions."""

TLP2_MARKING_IDS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""The published STIX ids of the five TLP 2.0 levels."""
TLP2_LEVEL_OF_ID = {v: k for k, v in TLP2_MARKING_IDS.items()}


def stix_id(stix_type: str, key: str) -> str:
    """A deterministic STIX id for ``key`` (UUIDv4-shaped, from SHA-256).

    >>> stix_id("incident", "INC-1") == stix_id("incident", "INC-1")
    True
    >>> stix_id("incident", "INC-1").startswith("incident--")
    True
    """
    digest = hashlib.sha256(f"truceline/{stix_type}/{key}".encode()).digest()[:16]
    return f"{stix_type}--{uuid.UUID(bytes=digest, version=4)}"


TRUCELINE_IDENTITY = stix_id("identity", "truceline")
TRUCELINE_EXTENSION = stix_id("extension-definition", "truceline-record-1")


def stix_time(value: str | datetime) -> str:
    """A STIX timestamp (UTC, milliseconds, ``Z``) from an ISO 8601 string or an aware datetime.

    >>> stix_time("2026-03-01T14:05:06.123456+02:00")
    '2026-03-01T12:05:06.123Z'
    """
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def participant_identity_id(participant: str) -> str:
    return stix_id("identity", f"participant/{participant}")


def markings_definition_id(markings: Markings) -> str:
    key = "|".join([markings.originator, ",".join(sorted(markings.releasable_to)), markings.sharing_group or ""])
    return stix_id("marking-definition", key)


def fixed_objects() -> list[dict[str, Any]]:
    """Truceline's identity, its extension definition and the five TLP 2.0 marking definitions."""
    objects: list[dict[str, Any]] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": TRUCELINE_IDENTITY,
            "created": STIX_EPOCH,
            "modified": STIX_EPOCH,
            "name": "Truceline cease-fire monitoring mechanism",
            "identity_class": "system",
        },
        {
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": TRUCELINE_EXTENSION,
            "created_by_ref": TRUCELINE_IDENTITY,
            "created": STIX_EPOCH,
            "modified": STIX_EPOCH,
            "name": "Truceline record",
            "description": "Carries a Truceline record (incident or finding) and Truceline's markings beyond TLP.",
            "schema": (
                "Property extension. On an incident or note: 'record_type' ('incident' or 'finding') and 'record', "
                "the Truceline record as JSON (truceline.model.Incident or Finding; withheld fields absent). On a "
                "marking-definition: 'originator' (participant code), 'releasable_to' (list of participant codes) "
                "and 'sharing_group' (optional). See Truceline's docs/api.md."
            ),
            "version": "1.0.0",
            "extension_types": ["property-extension"],
        },
    ]
    for level, marking_id in TLP2_MARKING_IDS.items():
        objects.append(
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": marking_id,
                "created": "2022-10-01T00:00:00.000Z",
                "name": f"TLP:{level.upper()}",
                "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
            }
        )
    return objects


def participant_identity(participant: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": participant_identity_id(participant),
        "created_by_ref": TRUCELINE_IDENTITY,
        "created": STIX_EPOCH,
        "modified": STIX_EPOCH,
        "name": participant,
        "identity_class": "organization",
    }


def markings_definition(markings: Markings) -> dict[str, Any]:
    """The marking definition carrying originator, releasability and sharing group."""
    extension: dict[str, Any] = {"extension_type": "property-extension", "originator": markings.originator}
    if markings.releasable_to:  # STIX forbids empty lists: absent means "originator only"
        extension["releasable_to"] = list(markings.releasable_to)
    if markings.sharing_group is not None:
        extension["sharing_group"] = markings.sharing_group
    released = ", ".join(markings.releasable_to) or "originator only"
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": markings_definition_id(markings),
        "created_by_ref": TRUCELINE_IDENTITY,
        "created": STIX_EPOCH,
        "name": f"Truceline: originator {markings.originator}; releasable to {released}"
        + (f"; sharing group {markings.sharing_group}" if markings.sharing_group else ""),
        "extensions": {TRUCELINE_EXTENSION: extension},
    }
