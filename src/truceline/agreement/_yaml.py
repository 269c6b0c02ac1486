"""YAML reading that remembers where each field was written, and refuses duplicate keys.

PyYAML's safe loader silently keeps the last of two equal keys; in an agreement that would hide a
mistake, so the node tree is walked once to record each field's line and to reject duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from truceline.model import AgreementError

PathKey = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """A field path as written in errors: ``withdrawal.mlrs.distance_km``, ``storage_sites[2].party``.

    >>> format_path(("storage_sites", 2, "inventory", 0, "serials"))
    'storage_sites[2].inventory[0].serials'
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _walk(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise AgreementError(
                    file,
                    format_path((*path, key)),
                    f"duplicate key at line {line} (first at line {seen[key]})",
                )
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), lines, file)


def parse_yaml(text: str, file: str) -> tuple[Any, dict[PathKey, int]]:
    """The document and a map from each field's path to its 1-based line number.

    Syntax errors and duplicate keys raise :class:`AgreementError` with the line and column.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[PathKey, int] = {}
        if node is None:
            return None, lines
        _walk(node, (), lines, file)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise AgreementError(file, "", f"YAML syntax error at {where}{problem}") from None
    except yaml.YAMLError as exc:
        raise AgreementError(file, "", f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    return data, lines


def line_of(lines: dict[PathKey, int], path: Sequence[str | int]) -> int | None:
    """The line of the deepest part of ``path`` that the document has."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return None
