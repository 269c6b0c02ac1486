"""YAML that remembers each field's line and refuses duplicate keys; the coalition file's error.

PyYAML's safe loader silently keeps the last of two equal keys, which in a pledge file would hide
a mistake (two ``quantity:`` lines), so the node tree is walked once to record lines and reject
duplicates. Pydantic's validation errors are translated into :class:`CoalitionError` naming the
file, the dotted path of the field and the reason, with the line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pydantic
import yaml

from truceline.model import RecordError

__all__ = ["CoalitionError", "PathKey", "format_path", "read_yaml"]

PathKey = tuple[str | int, ...]

# libyaml's parser is ~10× faster than PyYAML's pure-Python one and keeps the node marks we need.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CoalitionError(RecordError):
    """A coalition, requirements or audit file is unusable.

    ``file`` names the file, ``path`` the dotted path of the field (``pledges[3].quantity``),
    ``line`` the YAML line where it was written (when known) and ``reason`` what is wrong.
    It is a :class:`~truceline.model.RecordError` whose ``record`` is the file and ``field`` the path.
    """

    def __init__(self, file: str, path: str, reason: str, line: int | None = None) -> None:
        self.file = file
        self.path = path
        self.line = line
        super().__init__(file, path, reason + (f" (line {line})" if line else ""))


def format_path(path: Sequence[str | int]) -> str:
    """``('pledges', 3, 'quantity')`` → ``pledges[3].quantity``.

    >>> format_path(("units", 0, "planned", "lon"))
    'units[0].planned.lon'
    """
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


class Lines:
    """Where each field of a document was written."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[PathKey, int] = {}

    def of(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest part of ``path`` the document has."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return None

    def error(self, path: Sequence[str | int], reason: str) -> CoalitionError:
        return CoalitionError(self.file, format_path(path), reason, self.of(path))


def _walk(node: yaml.Node, path: PathKey, lines: Lines) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise CoalitionError(
                    lines.file, format_path((*path, key)), f"duplicate key (first at line {seen[key]})", line
                )
            seen[key] = line
            lines.lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), lines)


def read_yaml(path: str | Path) -> tuple[dict[str, Any], Lines]:
    """The document (a mapping) and where each of its fields was written."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CoalitionError(file, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CoalitionError(file, "", f"cannot read the file: {exc}") from None
    lines = Lines(file)
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise CoalitionError(file, "", "the file is empty")
        _walk(node, (), lines)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"column {mark.column + 1}: " if mark is not None else ""
        raise CoalitionError(
            file,
            "",
            f"YAML syntax error: {where}{exc.problem or exc.context or 'invalid YAML'}",
            None if mark is None else mark.line + 1,
        ) from None
    except yaml.YAMLError as exc:
        raise CoalitionError(file, "", f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise CoalitionError(file, "", "the document must be a mapping of fields")
    return data, lines


def translate(exc: pydantic.ValidationError, lines: Lines, data: Any, known_fields: Iterable[str]) -> CoalitionError:
    """The first validation error as a :class:`CoalitionError` (the next few appended)."""
    found: list[tuple[PathKey, str]] = []
    for err in exc.errors(include_url=False):
        loc = _document_path(err["loc"], data)
        found.append((loc, _describe(err, loc, known_fields)))
    (path, reason), rest = found[0], found[1:]
    if rest:
        also = "; ".join(f"{format_path(p)}: {r}" for p, r in rest[:3])
        reason += f" [also: {also}{f' and {len(rest) - 3} more' if len(rest) > 3 else ''}]"
    return lines.error(path, reason)


def _document_path(loc: Sequence[str | int], data: Any) -> PathKey:
    # pydantic's loc may carry union tags and '[key]' markers that are not in the document.
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if part == "[key]":
            continue
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            out.append(part)
            node = node[part]
        elif i == len(loc) - 1:
            out.append(part)
    return tuple(out)


def _describe(err: Any, loc: PathKey, known_fields: Iterable[str]) -> str:
    kind = err["type"]
    value = err.get("input")
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        hint = difflib.get_close_matches(name, sorted(set(known_fields)), n=1)
        return f"unknown field {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
    if kind == "missing":
        return "required field is missing"
    if kind == "greater_than_equal" and err.get("ctx", {}).get("ge") == 0:
        return f"must not be negative (got {value!r})"
    text = msg[0].lower() + msg[1:] if msg else kind
    if isinstance(value, str | int | float | bool):
        text += f" (got {value!r})"
    return text
