"""A bad coalition file is refused with a CoalitionError naming the file, the field and the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from truceline.guarantee import EXAMPLE_COALITION, CoalitionError, load_coalition, load_requirements
from truceline.model import RecordError

Write = Callable[[dict[str, Any] | str], Path]


def _error(path: Path) -> CoalitionError:
    with pytest.raises(CoalitionError) as info:
        load_coalition(path)
    return info.value


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_minimal_fixture_and_the_example_are_valid(doc: dict[str, Any], write: Write) -> None:
    c = load_coalition(write(doc))
    assert [p.id for p in c.pledges()][:2] == ["GBR-troops", "FRA-troops"]
    example = load_coalition(EXAMPLE_COALITION)
    assert len(example.participants()) >= 30
    assert example.participants() == list(dict.fromkeys(example.participants()))


def test_an_unknown_participant_is_named_with_path_line_and_suggestion(doc: dict[str, Any], write: Write) -> None:
    doc["pledges"][3]["participant"] = "DEX"
    path = write(doc)
    err = _error(path)
    assert isinstance(err, RecordError)
    assert (err.file, err.path) == (str(path), "pledges[3].participant")
    assert "unknown participant 'DEX'" in err.reason and "did you mean" in err.reason and "DEU" in err.reason
    assert err.line == _line_of(path, "participant: DEX")
    assert str(err).startswith(f"{path}: pledges[3].participant: unknown participant")


def test_a_negative_quantity_is_refused(doc: dict[str, Any], write: Write) -> None:
    doc["pledges"][0]["quantity"] = -5
    err = _error(write(doc))
    assert err.path == "pledges[0].quantity" and "must not be negative" in err.reason and "-5" in err.reason


def test_a_negative_delivery_and_deliveries_above_the_pledge_are_refused(doc: dict[str, Any], write: Write) -> None:
    doc["pledges"][3]["deliveries"][0]["quantity"] = -1
    assert _error(write(doc)).path == "pledges[3].deliveries[0].quantity"
    doc["pledges"][3]["deliveries"][0]["quantity"] = 35
    err = _error(write(doc))
    assert err.path.startswith("pledges[3]") and "more than the pledged 40" in err.reason


def test_an_unknown_capability_gets_the_closest_menu_items(doc: dict[str, Any], write: Write) -> None:
    doc["pledges"][3]["capability"] = "equipment.tanks"
    err = _error(write(doc))
    assert err.path == "pledges[3].capability"
    assert "unknown capability 'equipment.tanks'" in err.reason and "'equipment.tank'" in err.reason


def test_a_party_to_the_conflict_cannot_pledge(doc: dict[str, Any], write: Write) -> None:
    doc["pledges"][0]["participant"] = "RUS"
    err = _error(write(doc))
    assert err.path == "pledges[0].participant" and "party to the cease-fire" in err.reason


def test_a_misspelt_field_and_a_duplicate_key_are_named(doc: dict[str, Any], write: Write) -> None:
    doc["pledges"][0]["quantitty"] = 5
    err = _error(write(doc))
    assert err.path == "pledges[0].quantitty" and "did you mean 'quantity'" in err.reason
    text = "format_version: 1\nid: x\nid: y\ntitle: t\nas_of: 2026-01-01\n"
    err = _error(write(text))
    assert err.path == "id" and err.line == 3 and "duplicate key (first at line 2)" in err.reason


def test_ratification_out_of_its_procedure_order_is_refused(doc: dict[str, Any], write: Write) -> None:
    doc["ratification"][1]["steps"] = {"signed": "2026-08-28", "in_force": "2026-09-01"}
    err = _error(write(doc))
    assert err.path == "ratification[1].steps" and "out of order" in err.reason and "'approved'" in err.reason
    doc["ratification"][1]["steps"] = {"signed": "2026-08-28", "approved": "2026-08-01"}
    assert "dated before" in _error(write(doc)).reason
    doc["ratification"][1]["steps"] = {"signed": "2026-08-28", "voted": "2026-09-01"}
    assert "'voted' is not a step of procedure 'simple'" in _error(write(doc)).reason
    doc["ratification"][1]["procedure"] = "unknown"
    assert _error(write(doc)).path == "ratification[1].procedure"


def test_amendments_must_name_a_pledge_and_follow_it_in_time(doc: dict[str, Any], write: Write) -> None:
    doc["amendments"] = [{"pledge": "NOPE", "date": "2026-10-01", "reason": "r"}]
    assert _error(write(doc)).path == "amendments[0].pledge"
    doc["amendments"] = [{"pledge": "GBR-troops", "date": "2026-01-01", "reason": "r", "quantity": 1}]
    assert "cannot precede" in _error(write(doc)).reason
    doc["amendments"] = [
        {"pledge": "GBR-troops", "date": "2026-10-01", "reason": "r", "withdraw": True},
        {"pledge": "GBR-troops", "date": "2026-10-02", "reason": "r", "quantity": 1},
    ]
    err = _error(write(doc))
    assert err.path == "amendments[1]" and "withdrawn" in err.reason


def test_an_unknown_place_asks_for_coordinates(doc: dict[str, Any], write: Write) -> None:
    doc["units"][0]["planned"] = {"place": "Atlantis"}
    err = _error(write(doc))
    assert err.path == "units[0].planned.place" and "give lon and lat" in err.reason


def test_a_unit_inside_the_exclusion_distance_is_not_a_load_error(doc: dict[str, Any], write: Write) -> None:
    doc["units"][0]["planned"] = {"place": "Kharkiv"}  # 33 km from the line: a finding, see test_posture
    assert load_coalition(write(doc)).units[0].planned.place == "Kharkiv"


def test_the_mobilised_cannot_exceed_the_active_force(doc: dict[str, Any], write: Write) -> None:
    doc["force_plan"]["personnel"]["mobilised"] = 900000
    err = _error(write(doc))
    assert err.path == "force_plan.personnel" and "cannot exceed" in err.reason


def test_a_missing_file_and_bad_yaml_are_named(tmp_path: Path, write: Write) -> None:
    assert _error(tmp_path / "nope.yaml").reason == "file not found"
    err = _error(write("pledges: [\n"))
    assert "YAML syntax error" in err.reason and err.line is not None


def test_a_requirements_file_is_checked_like_the_coalition(tmp_path: Path) -> None:
    path = tmp_path / "req.yaml"
    path.write_text(
        "requirements:\n  - {capability: ground.troops, quantity: 9000}\n  - {capability: x.y, quantity: 1}\n"
    )
    with pytest.raises(CoalitionError) as info:
        load_requirements(path)
    assert info.value.path == "requirements[1].capability" and info.value.line == 3
    path.write_text("requirements:\n  - {capability: ground.troops, quantity: 9000, warning_level: 2}\n")
    (req,) = load_requirements(path)
    assert (req.capability, req.quantity, req.warning_level) == ("ground.troops", 9000, 2)
