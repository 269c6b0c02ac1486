"""Playbooks: the default one loads; a bad one is refused with its file, line, field path and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from truceline.act import DEFAULT_PLAYBOOK, PlaybookError, load_playbook, parse_playbook
from truceline.agreement import Agreement
from truceline.guarantee import EXAMPLE_COALITION, load_coalition

MINIMAL = """\
format_version: 1
id: test
title: Test playbook
directives:
  D-ONE:
    title: Do one thing
    owners: [USA]
    deadline_hours: 2
scenarios:
  - id: S-ONE
    name: When level 4
    when: {warning_level: {at_least: 4}}
    directives: [D-ONE]
"""


def test_the_default_playbook_reflects_the_plan(agreement: Agreement) -> None:
    playbook = load_playbook(None, agreement)
    assert {"D-MONITOR-SURGE", "D-INTEL-SHARING", "D-DEMARCHE", "D-COALITION-ACTIVATION", "D-CONSULTATIONS",
            "D-RETURN-FIRE-AUTH", "D-HOTLINE-QUERY"} <= set(playbook.directives)
    assert playbook.directives["D-RETURN-FIRE-AUTH"].requires[0].logged is not None
    assert playbook.scenario("S-ARMED-ATTACK").scope == "line"


def test_the_default_playbook_calls_on_the_coalitions_pledges(agreement: Agreement) -> None:
    coalition = load_coalition(EXAMPLE_COALITION)
    playbook = load_playbook(DEFAULT_PLAYBOOK, agreement)
    called = {d for s in playbook.scenarios for d in s.directives}
    assert coalition.activated_by(called)  # the coalition's pledges answer the playbook's directives
    assert {"D-MONITOR-SURGE", "D-INTEL-SHARING", "D-COALITION-ACTIVATION"} <= set(coalition.directives())


def _broken(edit: str, new: str) -> str:
    assert edit in MINIMAL
    return MINIMAL.replace(edit, new)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (_broken("    deadline_hours: 2\n", "    deadline_hours: 2\n    colour: red\n"), 9, "directives.D-ONE.colour",
         "unknown field"),
        (_broken("at_least: 4", "at_least: 6"), 12, "scenarios[0].when.warning_level.at_least",
         "less than or equal to 5"),
        (_broken("{warning_level: {at_least: 4}}", "{findings: {clause_prefix: nonsense.}}"), 12,
         "scenarios[0].when.findings.clause_prefix", "can never hold"),
        (_broken("{warning_level: {at_least: 4}}", "{trigger: {id: invasion}}"), 12, "scenarios[0].when.trigger.id",
         "no trigger 'invasion'"),
        (_broken("{warning_level: {at_least: 4}}", "{warning_level: {at_least: 4, sectors: [CL-99]}}"), 12,
         "scenarios[0].when.warning_level.sectors", "CL-99"),
        (_broken("{warning_level: {at_least: 4}}", "{}"), 12, "scenarios[0].when", "this one is empty"),
        (_broken("{warning_level: {at_least: 4}}", "{warning_level: {at_least: 4}, trigger: {id: deep_strikes}}"), 12,
         "scenarios[0].when", "exactly one"),
        (_broken("directives: [D-ONE]", "directives: [D-TWO]"), 13, "scenarios[0].directives[0]", "not defined"),
        (_broken("owners: [USA]", "owners: [XYZ]"), 7, "directives.D-ONE.owners[0]", "not a participant"),
        (_broken("owners: [USA]", "owners: [role:king]"), 7, "directives.D-ONE.owners[0]", "unknown role"),
        (_broken("    deadline_hours: 2\n", "    deadline_hours: 2\n    action: launch\n"), 9,
         "directives.D-ONE.action", "'none' or 'hotline_query'"),
        (_broken("    deadline_hours: 2\n", "    deadline_hours: 2\n    deadline_hours: 3\n"), 9,
         "directives.D-ONE.deadline_hours", "duplicate key"),
        (_broken("    deadline_hours: 2\n", "    deadline_hours: 2\n    escalation: [{after_hours: 5, to: [USA]}, "
                 "{after_hours: 1, to: [USA]}]\n"), 9, "directives.D-ONE.escalation", "increasing"),
    ],
)
def test_a_bad_playbook_is_refused_with_line_field_and_reason(
    agreement: Agreement, text: str, line: int, field: str, words: str
) -> None:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text, agreement, file="p.yaml")
    err = caught.value
    assert err.field == field
    assert err.record == f"p.yaml:{line}"
    assert words in err.reason


def test_a_playbook_that_is_not_yaml_or_not_a_mapping_is_refused(agreement: Agreement, tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="not valid YAML"):
        parse_playbook("a: [1, 2", agreement)
    with pytest.raises(PlaybookError, match="mapping"):
        parse_playbook("- 1\n- 2\n", agreement)
    with pytest.raises(PlaybookError, match="cannot read"):
        load_playbook(tmp_path / "missing.yaml", agreement)


def test_the_minimal_playbook_loads(agreement: Agreement) -> None:
    playbook = parse_playbook(MINIMAL, agreement)
    assert playbook.directives["D-ONE"].owners == ("USA",)
    assert yaml.safe_load(MINIMAL)["id"] == playbook.id
