"""Truceline records as STIX 2.1 objects: incidents, findings, their locations and sightings.

Exporters take the record as a JSON document *as the policy released it* (fields withheld for the
receiver are already absent) plus its markings, never the stored record, so nothing the
receiver may not see can slip into a STIX property.

Mapping:

- an Incident becomes an ``incident`` SDO with the Truceline extension (the record itself), a
  ``location`` per origin and impact (``precision`` is the error ellipse's semi-major axis in
  metres) linked by ``related-to`` relationships ("located at"), and a ``sighting`` of the incident per reporting
  participant (``where_sighted_refs`` its identity, ``count`` its reports);
- a Finding becomes a ``note`` about the incidents it rests on (``abstract`` the clause,
  ``content`` its text, ``confidence`` 0–100) with the extension, and a ``location`` when it has one;
- markings become ``object_marking_refs``: the TLP 2.0 marking definition and a Truceline marking
  definition with originator, releasability and sharing group; ``created_by_ref`` is the
  originator's identity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from truceline.interop.stix._common import (
    TLP2_MARKING_IDS,
    TRUCELINE_EXTENSION,
    fixed_objects,
    markings_definition,
    markings_definition_id,
    participant_identity,
    participant_identity_id,
    stix_id,
    stix_time,
)
from truceline.model import Markings

Document = Mapping[str, Any]
StixObject = dict[str, Any]


def _common(stix_type: str, key: str, doc: Document, markings: Markings) -> StixObject:
    created = doc.get("creation_info", {}).get("created") or doc.get("start") or doc.get("first_seen")
    stamp = stix_time(created) if isinstance(created, str) else "2026-01-01T00:00:00.000Z"
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": stix_id(stix_type, key),
        "created_by_ref": participant_identity_id(markings.originator),
        "created": stamp,
        "modified": stamp,
        "object_marking_refs": [TLP2_MARKING_IDS[markings.tlp], markings_definition_id(markings)],
    }


def _location(key: str, loc: Any, doc: Document, markings: Markings, name: str) -> StixObject | None:
    if not isinstance(loc, Mapping) or "lat" not in loc or "lon" not in loc:
        return None  # withheld, wholly or in part: export nothing rather than half a position
    obj = _common("location", key, doc, markings)
    obj.update(name=name, latitude=float(loc["lat"]), longitude=float(loc["lon"]))
    error = loc.get("error")
    if isinstance(error, Mapping) and "semi_major_m" in error:
        obj["precision"] = float(error["semi_major_m"])
    return obj


def _located_at(source: StixObject, target: StixObject, doc: Document, markings: Markings) -> StixObject:
    # STIX suggests "located-at" for other sources than incidents (the validator warns), so the
    # generic "related-to" is used and the description says which place it is.
    rel = _common("relationship", f"{source['id']}/located-at/{target['id']}", doc, markings)
    rel.update(
        relationship_type="related-to",
        description=f"located at: {target['name']}",
        source_ref=source["id"],
        target_ref=target["id"],
    )
    return rel


def incident_objects(doc: Document, markings: Markings) -> list[StixObject]:
    """The STIX objects of one incident (as released), without the shared fixed objects."""
    incident_id = str(doc["id"])
    incident = _common("incident", incident_id, doc, markings)
    kind = doc.get("kind", "incident")
    incident["name"] = f"{kind} {incident_id}" + (f" in sector {doc['sector']}" if doc.get("sector") else "")
    if doc.get("start") and doc.get("end"):
        incident["description"] = f"{kind} between {doc['start']} and {doc['end']}"
    incident["extensions"] = {
        TRUCELINE_EXTENSION: {"extension_type": "property-extension", "record_type": "incident", "record": dict(doc)}
    }
    objects: list[StixObject] = [incident]
    for origin in doc.get("origins", ()) or ():
        if not isinstance(origin, Mapping):
            continue
        loc = _location(f"{incident_id}/origin/{origin.get('id')}", origin.get("location"), doc, markings, "origin")
        if loc is not None:
            objects += [loc, _located_at(incident, loc, doc, markings)]
    for i, impact in enumerate(doc.get("impacts", ()) or ()):
        loc = _location(f"{incident_id}/impact/{i}", impact, doc, markings, "impact")
        if loc is not None:
            objects += [loc, _located_at(incident, loc, doc, markings)]
    reporters = Counter(
        ref["participant"]
        for ref in doc.get("observations", ()) or ()
        if isinstance(ref, Mapping) and "participant" in ref
    )
    for participant, count in sorted(reporters.items()):
        sighting = _common("sighting", f"{incident_id}/sighting/{participant}", doc, markings)
        sighting.update(
            sighting_of_ref=incident["id"],
            where_sighted_refs=[participant_identity_id(participant)],
            count=count,
        )
        if doc.get("start") and doc.get("end"):
            sighting.update(first_seen=stix_time(doc["start"]), last_seen=stix_time(doc["end"]))
        objects.append(sighting)
    return objects


def finding_objects(doc: Document, markings: Markings) -> list[StixObject]:
    """The STIX objects of one finding (as released): a note and, when given, its location."""
    finding_id = str(doc["id"])
    note = _common("note", f"finding/{finding_id}", doc, markings)
    objects: list[StixObject] = []
    refs = [stix_id("incident", str(i)) for i in doc.get("incidents", ()) or ()]
    loc = _location(f"finding/{finding_id}/location", doc.get("location"), doc, markings, "finding")
    if loc is not None:
        objects.append(loc)
        refs.append(loc["id"])
    if not refs:
        refs.append(participant_identity_id(markings.originator))  # a note must be about something
    clause = doc.get("clause_id", "?")
    note.update(
        abstract=f"Possible breach of clause {clause}" + (f" by {doc['side']}" if doc.get("side") else ""),
        content=str(doc.get("clause_text", "")) or f"clause {clause}",
        object_refs=refs,
    )
    if isinstance(doc.get("confidence"), int | float):
        note["confidence"] = round(float(doc["confidence"]) * 100)
    note["extensions"] = {
        TRUCELINE_EXTENSION: {"extension_type": "property-extension", "record_type": "finding", "record": dict(doc)}
    }
    return [note, *objects]


EXPORTERS = {"incident": incident_objects, "finding": finding_objects}


def bundle(items: Iterable[tuple[str, Document, Markings]]) -> dict[str, Any]:
    """A STIX bundle of ``(record_type, document, markings)`` items with everything they refer to.

    Identities of originators and reporting participants, the marking definitions and Truceline's
    extension definition are included once each, so the bundle validates on its own.
    """
    objects: dict[str, StixObject] = {o["id"]: o for o in fixed_objects()}
    participants: set[str] = set()
    for record_type, doc, markings in items:
        for obj in EXPORTERS[record_type](doc, markings):
            objects[obj["id"]] = obj
        md = markings_definition(markings)
        objects[md["id"]] = md
        participants.add(markings.originator)
        if record_type == "incident":
            participants.update(
                ref["participant"]
                for ref in doc.get("observations", ()) or ()
                if isinstance(ref, Mapping) and "participant" in ref
            )
    for participant in sorted(participants):
        identity = participant_identity(participant)
        objects[identity["id"]] = identity
    ids = sorted(objects)
    return {"type": "bundle", "id": stix_id("bundle", ",".join(ids)), "objects": [objects[i] for i in ids]}
