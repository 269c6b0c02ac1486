"""Pledges keep their history, count according to the situation, and add up into the gap table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pydantic
import pytest

from truceline.guarantee import (
    EXAMPLE_COALITION,
    Coalition,
    Situation,
    amend,
    default_catalogue,
    gap_table,
    load_coalition,
    ratification_table,
    withdraw,
)

Write = Callable[[dict[str, Any] | str], Path]


@pytest.fixture
def coalition(doc: dict[str, Any], write: Write) -> Coalition:
    return load_coalition(write(doc))


def _row(rows: list[Any], capability: str) -> Any:
    return next(r for r in rows if r.capability == capability)


def test_the_menu_covers_every_category_with_units() -> None:
    menu = default_catalogue()
    assert {c.category for c in menu} == {
        "intelligence_surveillance", "air_policing", "maritime", "ground_forces", "training", "equipment",
        "financing", "medical", "cyber",
    }  # fmt: skip
    assert all(c.unit for c in menu)
    assert {c.equipment_class for c in menu if c.category == "equipment"} >= {"tank", "air_defence", "fighter"}


def test_gaps_follow_the_situation(coalition: Coalition) -> None:
    troops = _row(gap_table(coalition), "ground.troops")
    # GBR counts; FRA's 3,000 wait for France's ratification; the reserve waits for level 4.
    assert (troops.required, troops.pledged, troops.conditional, troops.gap) == (10000, 5000, 5000, 5000)
    assert troops.status == "short, conditional pledges would close it"
    assert troops.pledgers == (("GBR", 5000.0),)
    before = _row(gap_table(coalition, Situation(ceasefire=False)), "ground.troops")
    assert before.pledged == 0
    at_four = _row(gap_table(coalition, Situation(warning_level=4)), "ground.troops")
    assert (at_four.required, at_four.pledged) == (12000, 7000)  # the higher requirement step applies too
    tanks = _row(gap_table(coalition), "equipment.tank")
    assert tanks.status == "met" and tanks.covered == 1.0


def test_only_ratified_guarantors_count_when_asked(coalition: Coalition) -> None:
    rows = gap_table(coalition, Situation(ratified_only=True))
    assert _row(rows, "ground.troops").pledged == 5000  # GBR's ratification is in force
    assert _row(rows, "equipment.tank").pledged == 0  # Germany has not ratified in this file


def test_amendments_make_versions_and_never_overwrite(doc: dict[str, Any], write: Write) -> None:
    doc["amendments"] = [
        {"pledge": "GBR-troops", "date": "2026-10-01", "quantity": 4000, "reason": "smaller first rotation"},
        {"pledge": "GBR-troops", "date": "2026-11-01", "withdraw": True, "reason": "recalled"},
    ]
    c = load_coalition(write(doc))
    history = c.history("GBR-troops")
    assert [(p.quantity, p.status, p.reason) for p in history] == [
        (5000, "active", "pledged"),
        (4000, "active", "smaller first rotation"),
        (4000, "withdrawn", "recalled"),
    ]
    assert "GBR-troops" not in {p.id for p in c.pledges()}
    assert "GBR-troops" in {p.id for p in c.pledges(include_withdrawn=True)}


def test_amend_revalidates_the_whole_pledge(coalition: Coalition) -> None:
    tanks = coalition.pledge("DEU-tanks")
    with pytest.raises(pydantic.ValidationError, match="more than the pledged"):
        amend(tanks, as_of=date(2026, 12, 1), reason="cut", quantity=10)
    with pytest.raises(ValueError, match="cannot change"):
        amend(tanks, as_of=date(2026, 12, 1), reason="x", participant="FRA")
    gone = withdraw(tanks, as_of=date(2026, 12, 1), reason="r")
    assert gone.status == "withdrawn" and tanks.status == "active"


def test_directives_name_the_pledges_they_activate(coalition: Coalition) -> None:
    assert {d: [p.id for p in ps] for d, ps in coalition.directives().items()} == {
        "D-ACTIVATE": ["GBR-troops", "FRA-reserve"]
    }
    assert [p.id for p in coalition.activated_by(["D-ACTIVATE", "D-OTHER"])] == ["GBR-troops", "FRA-reserve"]


def test_ratification_lists_every_guarantor_in_its_procedure(coalition: Coalition) -> None:
    rows = {r.participant: r for r in ratification_table(coalition)}
    assert rows["GBR"].in_force and rows["GBR"].done == rows["GBR"].total == 3
    assert (rows["FRA"].current, rows["FRA"].next_step) == ("signed", "approved")
    assert rows["USA"].current is None and rows["USA"].next_step == "signature"  # a guarantor with no entry


def test_the_example_gap_table_is_complete() -> None:
    c = load_coalition(EXAMPLE_COALITION)
    rows = gap_table(c)
    assert {r.capability for r in rows} >= {r.capability for r in c.requirements}
    assert sum(1 for r in rows if r.status == "met") >= 3 and sum(1 for r in rows if r.gap > 0) >= 10
    assert _row(rows, "equipment.shells_155").status == "not required"  # a capability the file adds
