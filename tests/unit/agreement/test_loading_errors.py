"""A broken agreement is refused with an AgreementError naming the file, the field and the reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from truceline.agreement import AgreementError, load_agreement

Write = Callable[[dict[str, Any] | str], Path]


def _error(path: Path) -> AgreementError:
    with pytest.raises(AgreementError) as info:
        load_agreement(path)
    return info.value


def test_the_minimal_fixture_is_itself_valid(doc: dict[str, Any], write: Write) -> None:
    a = load_agreement(write(doc))
    assert a.party_ids() == {"UKR", "RUS"}
    assert a.withdrawal_distance_m("mlrs") == 35_000.0
    assert a.side_of([30.0, 34.0], [48.0, 48.0]).tolist() == ["UKR", "RUS"]


def test_a_typo_in_a_field_name_is_named_with_its_path_line_and_a_suggestion(
    doc: dict[str, Any], write: Write
) -> None:
    doc["withdrawal"]["mlrs"] = {"distnace_km": 35}
    path = write(doc)
    err = _error(path)
    assert err.file == str(path)
    assert err.path == "withdrawal.mlrs.distnace_km"
    assert "unknown field 'distnace_km'" in err.reason and "did you mean 'distance_km'" in err.reason
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "distnace_km" in text)
    assert f"line {line}" in err.reason
    assert str(err).startswith(f"{path}: withdrawal.mlrs.distnace_km: ")


def test_a_wrong_value_type_names_the_field(doc: dict[str, Any], write: Write) -> None:
    doc["withdrawal"]["tank"] = {"distance_km": "far"}
    err = _error(write(doc))
    assert err.path == "withdrawal.tank.distance_km" and "'far'" in err.reason


def test_an_unknown_weapon_class_in_the_withdrawal_table_is_refused(
    doc: dict[str, Any], write: Write
) -> None:
    doc["withdrawal"]["mlsr"] = {"distance_km": 35}
    err = _error(write(doc))
    assert err.path == "withdrawal.mlsr"
    assert "weapon class" in err.reason and "'mlsr'" in err.reason


def test_an_unknown_weapon_class_in_an_inventory_is_refused(doc: dict[str, Any], write: Write) -> None:
    doc["storage_sites"][0]["inventory"][0]["weapon_class"] = "howitzer"
    err = _error(write(doc))
    assert err.path == "storage_sites[0].inventory[0].weapon_class"
    assert "unknown weapon class 'howitzer'" in err.reason


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["storage_sites"][0].update(party="BLR"), "storage_sites[0].party"),
        (lambda d: d["ceilings"].update(BLR={"troops": 1}), "ceilings.BLR"),
        (lambda d: d["triggers"][0].update(by=["RUS", "XYZ"]), "triggers[0].by[1]"),
        (lambda d: d["controlled_areas"].update(XYZ=d["controlled_areas"]["UKR"]), "controlled_areas.XYZ"),
        (lambda d: d.update(parties=["UKR", "GBR"]), "parties[1]"),
    ],
)
def test_a_reference_to_an_unknown_party_is_refused(
    doc: dict[str, Any], write: Write, mutate: Callable[[dict[str, Any]], None], path: str
) -> None:
    mutate(doc)
    err = _error(write(doc))
    assert err.path == path and "unknown party" in err.reason


def test_a_self_intersecting_polygon_is_refused_with_the_reason(doc: dict[str, Any], write: Write) -> None:
    bowtie = [[32.0, 47.0], [36.0, 49.0], [36.0, 47.0], [32.0, 49.0], [32.0, 47.0]]
    doc["controlled_areas"]["RUS"] = {"type": "Polygon", "coordinates": [bowtie]}
    err = _error(write(doc))
    assert err.path == "controlled_areas.RUS" and "Self-intersection" in err.reason


def test_overlapping_controlled_areas_are_refused(doc: dict[str, Any], write: Write) -> None:
    doc["controlled_areas"]["RUS"]["coordinates"][0] = [
        [31.0, 47.0],
        [36.0, 47.0],
        [36.0, 49.0],
        [31.0, 49.0],
        [31.0, 47.0],
    ]
    err = _error(write(doc))
    assert err.path == "controlled_areas.RUS" and "overlaps" in err.reason


def test_bad_yaml_syntax_gives_the_line(write: Write) -> None:
    path = write("format_version: 1\nid: x\nparticipants: [UKR,\n  title: oops: here\n")
    err = _error(path)
    assert err.file == str(path) and "YAML syntax error at line" in err.reason


def test_a_duplicate_key_is_refused_rather_than_silently_overwritten(
    doc: dict[str, Any], write: Write
) -> None:
    text = yaml.safe_dump(doc, sort_keys=False).replace("version: '1'\n", "version: '1'\nversion: '2'\n", 1)
    err = _error(write(text))
    assert err.path == "version" and "duplicate key" in err.reason


def test_a_few_yaml_aliases_are_allowed(doc: dict[str, Any], write: Write) -> None:
    # One list object used twice: safe_dump writes it once with an anchor and then an alias.
    roles = ["party"]
    doc["participants"][0]["roles"] = doc["participants"][1]["roles"] = roles
    text = yaml.safe_dump(doc, sort_keys=False)
    assert "&id001" in text and "*id001" in text
    assert load_agreement(write(text)).party_ids() == {"UKR", "RUS"}


def test_aliases_that_expand_the_document_past_the_budget_are_refused_at_the_alias(write: Write) -> None:
    # Each level names ten of the one before: 10**5 strings from seven lines.
    lines = ["format_version: 1", "l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 6)]
    path = write("\n".join(lines) + "\n")
    err = _error(path)
    assert err.file == str(path)
    assert err.path.startswith("l") and "YAML aliases expand the document by more than 10,000 nodes" in err.reason
    assert "(line " in err.reason


def test_a_yaml_alias_to_its_own_anchor_is_refused(write: Write) -> None:
    err = _error(write("format_version: 1\nid: &me [1, *me]\n"))
    assert err.path == "id[1]" and "recursive" in err.reason and "(line 2)" in err.reason


def test_a_document_nested_too_deeply_is_a_clean_error(write: Write) -> None:
    err = _error(write("id: " + "[" * 1500 + "]" * 1500 + "\n"))
    assert err.path == "" and "nested too deeply" in err.reason and "line 1" in err.reason


def test_a_missing_geometry_file_is_named(doc: dict[str, Any], write: Write) -> None:
    doc["contact_line"]["geometry"] = {"file": "nowhere.geojson"}
    err = _error(write(doc))
    assert err.path == "contact_line.geometry.file" and "file not found: nowhere.geojson" in err.reason


def test_a_referenced_file_that_is_not_json_names_that_file(
    doc: dict[str, Any], write: Write, tmp_path: Path
) -> None:
    (tmp_path / "line.geojson").write_text(
        '{"type": "LineString", "coordinates": [[32, 47],', encoding="utf-8"
    )
    doc["contact_line"]["geometry"] = {"file": "line.geojson"}
    err = _error(write(doc))
    assert err.file == str(tmp_path / "line.geojson")
    assert err.path == "contact_line.geometry" and "not valid JSON" in err.reason


def test_a_feature_missing_from_a_file_is_named(doc: dict[str, Any], write: Write, tmp_path: Path) -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": "A", "properties": {}, "geometry": doc["contact_line"]["geometry"]}
        ],
    }
    (tmp_path / "lines.geojson").write_text(json.dumps(fc), encoding="utf-8")
    doc["contact_line"]["geometry"] = {"file": "lines.geojson", "feature": "B"}
    err = _error(write(doc))
    assert err.path == "contact_line.geometry.feature" and "no feature 'B'" in err.reason


def test_file_references_resolve_relative_to_the_agreement(
    doc: dict[str, Any], write: Write, tmp_path: Path
) -> None:
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "line.geojson").write_text(
        json.dumps(doc["contact_line"]["geometry"]), encoding="utf-8"
    )
    doc["contact_line"]["geometry"] = {"file": "geo/line.geojson"}
    assert load_agreement(write(doc)).contact_line.length == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (lambda d: d.update(format_version=2), "format_version", "expected 1"),
        (
            lambda d: d["contact_line"].update(geometry=d["controlled_areas"]["UKR"]),
            "contact_line.geometry",
            "expected LineString",
        ),
        (
            lambda d: d["contact_line"].update(
                geometry={"type": "LineString", "coordinates": [[32, 47], [32, 135]]}
            ),
            "contact_line.geometry",
            "out of range",
        ),
        (
            lambda d: d["contact_line"].update(geometry={"fiel": "x.geojson"}),
            "contact_line.geometry",
            "a geometry is inline GeoJSON",
        ),
        (
            lambda d: d["withdrawal"].update(mlrs={"distance_km": 35, "zone_width_km": 70}),
            "withdrawal.mlrs",
            "exactly one",
        ),
        (
            lambda d: d["storage_sites"][0].update(location=[31.9, 48.0]),
            "storage_sites[0].inventory[0].weapon_class",
            "withdrawal zone",
        ),
        (
            lambda d: d["storage_sites"][0].update(location=[34.0, 48.0]),
            "storage_sites[0].location",
            "outside the area UKR controls",
        ),
        (
            lambda d: d["storage_sites"].append({**d["storage_sites"][0], "id": "UKR-S2"}),
            "storage_sites[1].inventory[0].serials[0]",
            "already declared",
        ),
        (lambda d: d["sectors"]["contact_line"].pop(), "sectors.contact_line", "uncovered"),
        (lambda d: d["triggers"][0].update(lines=["border.XYZ"]), "triggers[0].lines[0]", "unknown line"),
        (lambda d: d["triggers"][0].update(clause="nonsense"), "triggers[0].clause", "unknown clause"),
        (
            lambda d: d["triggers"][0].update(kind="earthquake"),
            "triggers[0]",
            "does not match any of the expected tags",
        ),
        (
            lambda d: d["restricted_zones"][0].update(applies_to=["zeppelin"]),
            "restricted_zones[0].applies_to[0]",
            "unknown air craft",
        ),
        (
            lambda d: d["disengagement"]["areas"][0].update(
                geometry={"type": "Polygon", "coordinates": [[[29, 48], [29.1, 48], [29.1, 48.1], [29, 48]]]}
            ),
            "disengagement.areas[0].geometry",
            "straddle",
        ),
        (
            lambda d: d["reassurance_force"].update(min_distance_km=500),
            "reassurance_force.basing",
            "comes within",
        ),
        (lambda d: d["participants"].append(d["participants"][0]), "participants[3].id", "listed twice"),
    ],
)
def test_each_kind_of_mistake_is_refused_at_its_field(
    doc: dict[str, Any], write: Write, mutate: Callable[[dict[str, Any]], None], path: str, words: str
) -> None:
    mutate(doc)
    err = _error(write(doc))
    assert err.path == path, err
    assert words in err.reason, err


def test_a_missing_agreement_file_and_a_non_mapping_document_are_refused(
    tmp_path: Path, write: Write
) -> None:
    assert "file not found" in _error(tmp_path / "absent.yaml").reason
    assert "must be a mapping" in _error(write("- just\n- a list\n")).reason
