"""STIX 2.1 export accepted by the OASIS validator, read back unchanged; malformed STIX refused."""

from __future__ import annotations

import copy
import json
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from stix2validator import ValidationOptions, validate_instance

from tests.unit.server.conftest import SEEDED_INCIDENTS, finding, incident, markings
from truceline.interop.stix import (
    TLP2_MARKING_IDS,
    TRUCELINE_EXTENSION,
    StixError,
    bundle,
    incident_objects,
    read_bundle,
    stix_id,
)
from truceline.model import Record


def items(*records: Record) -> list[tuple[str, dict[str, Any], Any]]:
    return [
        (type(r).__name__.lower(), r.model_dump(mode="json"), r.markings)  # type: ignore[attr-defined]
        for r in records
    ]


def validate(document: dict[str, Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return validate_instance(document, ValidationOptions(version="2.1", strict=False))


RECORDS: list[Record] = [incident(i, m, m.originator, "OSCE", "UKR") for i, m in SEEDED_INCIDENTS.items()]
RECORDS += [finding("FND-1", markings("amber", "GBR", "USA", group="G-SIGINT"), ("INC-sigint-amber",))]
RECORDS += [finding("FND-2", markings("green", "UKR"))]


def test_the_official_validator_accepts_the_bundle_without_errors_or_warnings() -> None:
    document = bundle(items(*RECORDS))
    result = validate(document)
    assert result.is_valid, [str(e) for e in result.errors]
    assert [str(w) for w in result.warnings or ()] == []


def test_every_object_carries_its_tlp_2_marking_and_creator() -> None:
    record = RECORDS[3]  # amber to GBR
    objects = incident_objects(record.model_dump(mode="json"), record.markings)  # type: ignore[attr-defined]
    kinds = sorted(o["type"] for o in objects)
    assert kinds == [
        "incident",
        "location",
        "location",
        "relationship",
        "relationship",
        "sighting",
        "sighting",
        "sighting",
    ]
    for obj in objects:
        assert TLP2_MARKING_IDS["amber"] in obj["object_marking_refs"]
        assert obj["created_by_ref"].startswith("identity--")


def test_a_truceline_marking_definition_carries_originator_releasability_and_group() -> None:
    document = bundle(items(RECORDS[-2]))
    ours = [
        o["extensions"][TRUCELINE_EXTENSION]
        for o in document["objects"]
        if o["type"] == "marking-definition" and TRUCELINE_EXTENSION in o.get("extensions", {})
    ]
    assert ours == [
        {
            "extension_type": "property-extension",
            "originator": "GBR",
            "releasable_to": ["USA"],
            "sharing_group": "G-SIGINT",
        }
    ]


def test_export_is_deterministic_and_ids_follow_the_records() -> None:
    assert bundle(items(*RECORDS)) == bundle(items(*RECORDS))
    ids = {o["id"] for o in bundle(items(RECORDS[0]))["objects"]}
    assert stix_id("incident", RECORDS[0].id) in ids  # type: ignore[attr-defined]


def test_records_read_back_equal_to_what_was_exported() -> None:
    document = json.loads(json.dumps(bundle(items(*RECORDS))))

    def by_id(records: list[Record]) -> list[Record]:
        return sorted(records, key=lambda r: (type(r).__name__, r.id))  # type: ignore[attr-defined]

    assert by_id(read_bundle(document).records) == by_id(RECORDS)
    assert by_id(read_bundle(json.dumps(document).encode()).records) == by_id(RECORDS)


def test_a_withheld_location_is_not_exported() -> None:
    doc = RECORDS[0].model_dump(mode="json")
    del doc["origins"][0]["location"]["lat"]
    objects = incident_objects(doc, RECORDS[0].markings)  # type: ignore[attr-defined]
    assert [o for o in objects if o["type"] == "location" and o["name"] == "origin"] == []


def test_foreign_incidents_are_skipped_with_a_reason() -> None:
    document = bundle(items(RECORDS[0]))
    foreign = {
        "type": "incident",
        "spec_version": "2.1",
        "id": "incident--0b5b6cd1-6c1e-4d4f-9d3e-2f0c4a3b1e2d",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "name": "someone else's",
    }
    document["objects"].append(foreign)
    result = read_bundle(document)
    assert len(result.records) == 1
    assert result.skipped == [(foreign["id"], "no Truceline record extension: not a Truceline incident or finding")]


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: "not json", "bundle"),
        (lambda d: {**d, "type": "report"}, "bundle"),
        (lambda d: {**d, "objects": {}}, "bundle"),
        (lambda d: {**d, "objects": [42]}, "objects[0]"),
        (lambda d: {**d, "objects": [{"type": "incident", "id": "incident--nope"}]}, "objects[0]"),
        (
            lambda d: {**d, "objects": [{"type": "note", "id": "incident--0b5b6cd1-6c1e-4d4f-9d3e-2f0c4a3b1e2d"}]},
            "objects[0]",
        ),
    ],
)
def test_malformed_stix_is_refused_naming_the_place(mutate: Any, where: str) -> None:
    document = bundle(items(RECORDS[0]))
    with pytest.raises(StixError) as info:
        read_bundle(mutate(document))
    assert info.value.where == where


def _incident_object(document: dict[str, Any]) -> dict[str, Any]:
    return next(o for o in document["objects"] if o["type"] == "incident")


def test_a_loosened_tlp_on_the_stix_object_is_refused() -> None:
    document = copy.deepcopy(bundle(items(RECORDS[5])))  # red
    _incident_object(document)["object_marking_refs"][0] = TLP2_MARKING_IDS["clear"]
    with pytest.raises(StixError, match="TLP marking"):
        read_bundle(document)


def test_an_invalid_embedded_record_is_refused() -> None:
    document = copy.deepcopy(bundle(items(RECORDS[0])))
    _incident_object(document)["extensions"][TRUCELINE_EXTENSION]["record"]["end"] = "2020-01-01T00:00:00Z"
    with pytest.raises(StixError, match="incident record is invalid"):
        read_bundle(document)
