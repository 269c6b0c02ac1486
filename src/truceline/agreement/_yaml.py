"""YAML reading that remembers where each field was written, and refuses duplicate keys.

PyYAML's safe loader silently keeps the last of two equal keys; in an agreement that would hide a
mistake, so the node tree is walked once to record each field's line and to reject duplicates.

The walk also keeps YAML aliases (``*name``) in check. PyYAML composes an alias as a second
reference to the anchored node, so a short document can name an exponentially large tree (the
"billion laughs"): harmless while it stays a graph, ruinous once anything walks it as a tree (this
walk did, and so would validation). Each node is therefore walked once, the size the document
would have written out in full is counted as the walk goes, and a document whose aliases add more
than :data:`ALIAS_BUDGET` nodes, or that refers to itself, is refused. Time and memory stay linear
in the file's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from truceline.model import AgreementError

PathKey = tuple[str | int, ...]

ALIAS_BUDGET = 10_000
"""How many nodes YAML aliases may add to a document, written out in full (a few repeated blocks)."""


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


class _Walk:
    """One walk over a composed document: lines, duplicate keys, and what aliases add."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[PathKey, int] = {}
        self.sizes: dict[int, int] = {}  # id(node) → nodes it stands for, written out in full
        self.open: set[int] = set()  # nodes whose walk has not finished (an alias to one is a cycle)
        self.added = 0  # nodes added by aliases so far

    def error(self, path: PathKey, reason: str) -> AgreementError:
        line = line_of(self.lines, path)
        return AgreementError(self.file, format_path(path), reason + (f" (line {line})" if line else ""))

    def node(self, node: yaml.Node, path: PathKey) -> int:
        key = id(node)
        if key in self.open:
            raise self.error(path, "a YAML alias refers to a node that contains it (a recursive document)")
        size = self.sizes.get(key)
        if size is not None:  # a second reference: an alias
            self.added += size
            if self.added > ALIAS_BUDGET:
                raise self.error(
                    path,
                    f"YAML aliases expand the document by more than {ALIAS_BUDGET:,} nodes "
                    "(a 'billion laughs'?): write the repeated parts out, or use fewer aliases",
                )
            return size
        self.open.add(key)
        size = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                name = str(key_node.value)
                line = key_node.start_mark.line + 1
                if name in seen:
                    raise AgreementError(
                        self.file,
                        format_path((*path, name)),
                        f"duplicate key at line {line} (first at line {seen[name]})",
                    )
                seen[name] = line
                self.lines.setdefault((*path, name), line)
                size += self.node(key_node, (*path, name)) + self.node(value_node, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                if id(item) not in self.sizes and id(item) not in self.open:  # an alias has no mark of its own
                    self.lines.setdefault((*path, i), item.start_mark.line + 1)
                size += self.node(item, (*path, i))
        self.open.discard(key)
        self.sizes[key] = size
        return size


def parse_yaml(text: str, file: str) -> tuple[Any, dict[PathKey, int]]:
    """The document and a map from each field's path to its 1-based line number.

    Syntax errors (including characters YAML does not allow), duplicate keys and aliases beyond
    :data:`ALIAS_BUDGET` raise :class:`AgreementError` with the line and column.
    """
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # its reader refuses control characters here, before any parsing
        node = loader.get_single_node()
        if node is None:
            return None, {}
        walk = _Walk(file)
        walk.node(node, ())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise AgreementError(file, "", f"YAML syntax error at {where}{problem}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (control characters, …)
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        reason = f"YAML syntax error at line {line}, column {column}: character {_char(exc.character)} is not allowed"
        raise AgreementError(file, "", reason) from None
    except yaml.YAMLError as exc:
        raise AgreementError(file, "", f"YAML error: {' '.join(str(exc).split())}") from None
    except ValueError as exc:  # PyYAML's scanner on an escape beyond U+10FFFF ("\U100BFCB2")
        reason = f"YAML syntax error{_at(loader)}: a value YAML cannot represent ({exc})"
        raise AgreementError(file, "", reason) from None
    except RecursionError:
        raise AgreementError(file, "", f"YAML nested too deeply{_at(loader)}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, walk.lines


def _char(character: object) -> str:
    return f"#x{character:04x}" if isinstance(character, int) else repr(character)


def _at(loader: yaml.SafeLoader | None) -> str:
    """Where the loader's scanner stopped, as `` at line L, column C`` (empty when unknown)."""
    mark = getattr(loader, "get_mark", None)
    if mark is None:
        return ""
    try:
        m = mark()
    except Exception:  # the reader may be in any state after the error
        return ""
    return f" at line {m.line + 1}, column {m.column + 1}"


def line_of(lines: dict[PathKey, int], path: Sequence[str | int]) -> int | None:
    """The line of the deepest part of ``path`` that the document has."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return None
