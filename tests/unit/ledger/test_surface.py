"""The ledger's public surface, its runnable docstrings, and its place in the layer order."""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

import truceline.ledger

MODULES = ["hashing", "reference", "tree", "signing", "audit"]


def test_the_public_surface_is_deliberate() -> None:
    assert sorted(truceline.ledger.__all__) == sorted(
        [
            "EMPTY_ROOT",
            "HASH_SIZE",
            "PERSIST_EVERY",
            "AuditReport",
            "Frontier",
            "LedgerKey",
            "MemoryNodeStore",
            "NodeReader",
            "SignedTreeHead",
            "audit_log",
            "consistency_proof",
            "inclusion_proof",
            "key_id",
            "leaf_hash",
            "load_public_key",
            "node_hash",
            "public_key_path",
            "range_hash",
            "root_at",
            "should_persist",
            "subtree_hash",
            "tree_head_bytes",
            "verify_consistency",
            "verify_inclusion",
            "verify_tree_head",
        ]
    )
    assert all(hasattr(truceline.ledger, name) for name in truceline.ledger.__all__)


@pytest.mark.parametrize("module", MODULES)
def test_the_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"truceline.ledger.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_ledger_imports_only_the_model_of_truceline() -> None:
    package = Path(truceline.ledger.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.startswith("truceline"):
                    assert name.startswith(("truceline.ledger", "truceline.model")), f"{path.name} imports {name}"
