"""The implementation against the reference policy on generated cases — and proof the check bites.

``TRUCELINE_POLICY_CASES`` sets the number of cases (100,000 by default; ``make prove`` runs
1,000,000). Each case goes through every read path; any disagreement, down to one withheld key
in a redacted document or one character of an error message, fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Set
from typing import Any

import numpy as np
import pytest

from tests.unit.policy import equivalence
from truceline.model import Markings
from truceline.policy import PolicyContext, columns, errors, fields, gate, principals, rules

CASES = int(os.environ.get("TRUCELINE_POLICY_CASES", "100000"))
PATHS = (
    "single",
    "error message",
    "redacted read",
    "list",
    "count",
    "export",
    "redacted export",
    "bulk export",
    "create",
    "groups",
)


def test_the_policy_agrees_with_the_reference_on_every_generated_case() -> None:
    report = equivalence.run(CASES)
    print(f"\npolicy equivalence: {report.cases:,} cases in {report.seconds:.1f} s; checks {dict(report.checks)}")
    assert report.failures == []
    assert report.cases == CASES
    assert set(report.checks) == set(PATHS) and all(report.checks[p] > 0 for p in PATHS)
    assert report.checks["single"] == report.checks["list"] == report.checks["export"] == CASES


def test_the_generated_cases_do_not_depend_on_the_number_of_workers() -> None:
    one, two = equivalence.run(10_000, seed=5, workers=1), equivalence.run(10_000, seed=5, workers=2)
    assert dict(one.checks) == dict(two.checks) and one.failures == two.failures == []


def _amber_without_list_is_green(context: PolicyContext, participant: str, groups: Set[str], m: Markings) -> bool:
    if m.tlp == "amber" and not m.releasable_to:
        return context.is_participant(participant)
    return ORIGINAL_SEES(context, participant, groups, m)


def _originator_skips_group(context: PolicyContext, participant: str, groups: Set[str], m: Markings) -> bool:
    if participant == m.originator and m.tlp != "clear":
        return context.is_participant(participant)
    return ORIGINAL_SEES(context, participant, groups, m)


def _lists_ignored(node: Any, steps: tuple[str, ...]) -> None:
    if isinstance(node, dict) and steps[0] in node:
        if len(steps) == 1:
            del node[steps[0]]
        else:
            _lists_ignored(node[steps[0]], steps[1:])


def _read_leaks_originator(self: gate.Policy, principal: Any, ref: str, document: Any) -> Any:
    try:
        return ORIGINAL_READ(self, principal, ref, document)
    except errors.NotFoundOrHidden:
        if document is None:
            raise
        raise errors.NotFoundOrHidden(f"{ref} (held by {document.markings.originator})") from None


ORIGINAL_SEES = rules.participant_sees
ORIGINAL_READ = gate.Policy.read
MUTATIONS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "amber with no list read as green": lambda mp: mp.setattr(rules, "participant_sees", _amber_without_list_is_green),
    "originator bypasses its sharing group": lambda mp: mp.setattr(rules, "participant_sees", _originator_skips_group),
    "group claims trusted unconfirmed": lambda mp: mp.setattr(
        principals.PolicyContext, "acting_groups", lambda self, p: frozenset(p.sharing_groups)
    ),
    "red re-shareable onward": lambda mp: mp.setattr(rules, "NOT_ONWARD", frozenset({"amber+strict"})),
    "field marking skips list elements": lambda mp: mp.setattr(fields, "_remove", _lists_ignored),
    "error for a hidden record names its originator": lambda mp: mp.setattr(
        gate.Policy, "read", _read_leaks_originator
    ),
    "vectorised mask ignores sharing groups": lambda mp: mp.setattr(
        columns.MarkingsTable, "group_codes", lambda self, groups: np.arange(len(self.groups), dtype=np.int32)
    ),
    "administrator reads everything": lambda mp: mp.setattr(
        gate.Policy, "visible", lambda self, p, m: "administrator" in p.roles or rules.visible(self.context, p, m)
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_comparison_catches_a_planted_leak(monkeypatch: pytest.MonkeyPatch, mutation: str) -> None:
    MUTATIONS[mutation](monkeypatch)
    report = equivalence.run(3_000, seed=11, workers=1)
    assert report.failures, f"the planted bug {mutation!r} went unnoticed"
