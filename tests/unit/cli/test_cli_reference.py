"""The command-line reference in docs/ is generated from --help and must not drift."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[3] / "tools" / "cli_reference.py"


def test_docs_cli_reference_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("cli_reference", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        assert module.main(["--check"]) == 0, "docs/cli.md is stale: run python tools/cli_reference.py"
    finally:
        del sys.modules[spec.name]
