"""Reading STIX 2.1 bundles back into Truceline records.

Objects that carry the Truceline extension (``incident`` and ``note`` SDOs exported by a
Truceline server) become :class:`~truceline.model.Incident` and :class:`~truceline.model.Finding`
records again, after two checks: the record validates as its model, and the TLP 2.0 marking the
STIX object carries agrees with the record's own markings (a peer must not be able to loosen a
record's TLP by editing one of the two). Other objects are listed as skipped with the reason;
malformed STIX raises :class:`StixError`, and nothing of the bundle is returned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from truceline.interop.stix._common import TLP2_LEVEL_OF_ID, TRUCELINE_EXTENSION
from truceline.model import Finding, Incident, Record, TrucelineError

MAX_OBJECTS = 100_000
_STIX_ID = re.compile(r"^[a-z][a-z0-9-]{0,249}--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MODELS: dict[str, type[Incident] | type[Finding]] = {"incident": Incident, "finding": Finding}


class StixError(TrucelineError):
    """A bundle that is not STIX 2.1 as Truceline reads it; ``where`` names the object."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


@dataclass
class StixImport:
    records: list[Record] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (STIX id, why)


def parse_bundle(data: bytes | str | Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The objects of a bundle (or a TAXII envelope's ``objects``), checked for the STIX basics."""
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            raise StixError("bundle", "not JSON") from None
    if not isinstance(data, Mapping):
        raise StixError("bundle", "expected a JSON object")
    if data.get("type", "bundle") != "bundle":
        raise StixError("bundle", "expected type 'bundle'")
    objects = data.get("objects")
    if not isinstance(objects, list):
        raise StixError("bundle", "'objects' must be a list")
    if len(objects) > MAX_OBJECTS:
        raise StixError("bundle", f"more than {MAX_OBJECTS} objects")
    for i, obj in enumerate(objects):
        where = f"objects[{i}]"
        if not isinstance(obj, Mapping):
            raise StixError(where, "expected a JSON object")
        stix_id, stix_type = obj.get("id"), obj.get("type")
        if not isinstance(stix_id, str) or not _STIX_ID.match(stix_id):
            raise StixError(where, "'id' must be a STIX identifier ('type--UUID')")
        if not isinstance(stix_type, str) or not stix_id.startswith(f"{stix_type}--"):
            raise StixError(where, "'type' must match the identifier's prefix")
        if (
            stix_type not in ("bundle",)
            and obj.get("spec_version", "2.1") != "2.1"
            and stix_type != "marking-definition"
        ):
            raise StixError(where, "only STIX 2.1 objects are read")
    return objects


def read_bundle(data: bytes | str | Mapping[str, Any]) -> StixImport:
    """The Truceline records a bundle carries; raises :class:`StixError` for any malformed part."""
    result = StixImport()
    for i, obj in enumerate(parse_bundle(data)):
        stix_id = str(obj["id"])
        extension = (
            (obj.get("extensions") or {}).get(TRUCELINE_EXTENSION)
            if isinstance(obj.get("extensions"), Mapping)
            else None
        )
        if obj["type"] not in ("incident", "note"):
            continue  # identities, locations, sightings, markings: views of the records, rebuilt from them
        if not isinstance(extension, Mapping):
            result.skipped.append((stix_id, "no Truceline record extension: not a Truceline incident or finding"))
            continue
        record_type = extension.get("record_type")
        model = _MODELS.get(record_type) if isinstance(record_type, str) else None
        if model is None:
            raise StixError(f"objects[{i}]", "the Truceline extension names no known record_type")
        try:
            record = model.model_validate_json(json.dumps(extension.get("record")))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            path = ".".join(str(p) for p in first.get("loc", ()))
            raise StixError(
                f"objects[{i}]", f"the {record_type} record is invalid at {path or 'top'}: {first['msg']}"
            ) from None
        levels = {TLP2_LEVEL_OF_ID[r] for r in obj.get("object_marking_refs") or () if r in TLP2_LEVEL_OF_ID}
        if levels != {record.markings.tlp}:
            raise StixError(f"objects[{i}]", "the TLP marking of the STIX object disagrees with the record's markings")
        result.records.append(record)
    return result
