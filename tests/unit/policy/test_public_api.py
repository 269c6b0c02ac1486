"""The package's surface, its place in the layers, and docs that cannot drift from the rules."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import truceline.policy as policy
from tests.unit.policy import reference as ref
from truceline.policy import PRINCIPAL_ROLES, ROLE_ACTIONS, TLP_LEVELS

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "src" / "truceline" / "policy"
DOCS = ROOT / "docs" / "policy.md"


def test_public_surface_is_pinned() -> None:
    # Adding or removing a public name is a deliberate act: update this list with it.
    assert sorted(policy.__all__) == sorted(
        [
            "PRINCIPAL_ROLES", "ROLE_ACTIONS", "TLP_LEVELS", "AccessDenied", "Action", "AuditEvent", "AuditLog",
            "ExportRefused", "InMemoryAuditLog", "MarkedDocument", "MarkingsTable", "NotFoundOrHidden", "Policy",
            "PolicyContext", "PolicyError", "Principal", "PrincipalRole", "SharingGroup", "not_found_or_hidden",
            "MECHANISM", "derived_markings", "RowSecuredStore", "reading_as_requester",
        ]
    )  # fmt: skip
    for name in policy.__all__:
        assert hasattr(policy, name), name


def test_policy_imports_only_the_model_of_truceline_and_no_new_dependency() -> None:
    allowed_third_party = {"numpy", "pydantic"}
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top == "truceline":
                    assert name.startswith(("truceline.model", "truceline.policy")), f"{module.name} imports {name}"
                else:
                    assert top in sys.stdlib_module_names or top in allowed_third_party, f"{module.name} imports {name}"


def test_the_reference_shares_no_code_with_the_implementation() -> None:
    source = (Path(ref.__file__)).read_text()
    assert "import truceline" not in source and "from truceline" not in source


def _docs_table() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in DOCS.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and (m := re.fullmatch(r"(?:TLP:)?`?([a-z+]+)`?", cells[0])) and m.group(1) in TLP_LEVELS:
            rows[m.group(1)] = (cells[1], cells[2])
    return rows


def test_the_docs_list_every_level_with_the_reference_rules() -> None:
    table = _docs_table()
    assert list(table) == list(TLP_LEVELS) == list(ref.RULES)
    for level, (reader, onward) in table.items():
        assert ref.RULES[level]["reader"] in reader.lower(), level
        assert ref.RULES[level]["onward"] in onward.lower(), level


def test_the_docs_and_the_reference_grant_each_role_the_same_actions() -> None:
    text = DOCS.read_text()
    for role in PRINCIPAL_ROLES:
        assert set(ROLE_ACTIONS[role]) == ref.ROLE_GRANTS[role]
        assert f"`{role}`" in text, role
