"""Validation against the official OASIS CAP 1.2 XML schema, vendored in ``data/CAP-v1.2.xsd``.

The schema is compiled once per process (lxml's ``XMLSchema`` is reusable and validation is the
hot path of every alert). Errors name the element path, the line and the schema's own reason, so
the sender of a bad message knows exactly what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from lxml import etree

from truceline.model import RecordError

__all__ = ["CAP_NAMESPACE", "SCHEMA_PATH", "CapError", "SchemaIssue", "element_path", "schema_issues", "validate_cap"]

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "CAP-v1.2.xsd"

# lxml reports elements as "{urn:oasis:names:tc:emergency:cap:1.2}sent"; people read "sent".
_CLARK = re.compile(r"\{" + re.escape(CAP_NAMESPACE) + r"\}")


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One violation of the schema: where (element path and line) and the schema's reason."""

    line: int
    path: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.path}: {self.reason}"


class CapError(RecordError):
    """A CAP message is not well-formed XML or breaks the CAP 1.2 schema.

    ``record`` names the message (its identifier or the file), ``field`` the first offending
    element path, ``reason`` the schema's words; ``issues`` lists every violation found.
    """

    def __init__(self, record: str, issues: tuple[SchemaIssue, ...]) -> None:
        self.issues = issues
        first = issues[0] if issues else SchemaIssue(0, "", "not a CAP 1.2 message")
        super().__init__(record, first.path, f"line {first.line}: {first.reason}")


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _parser() -> etree.XMLParser:
    # No entity expansion and no network: an incoming message must not make us fetch or explode.
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)


def parse_xml(data: bytes, record: str = "<cap>") -> etree._Element:
    """Parse ``data`` as XML, raising :class:`CapError` with the parser's reason if it is not."""
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 0
        raise CapError(record, (SchemaIssue(line, "", f"not well-formed XML: {exc.msg}"),)) from None
    if cast(Any, root.getroottree().docinfo).doctype:  # lxml-stubs omit DocInfo.doctype
        # CAP has no DTD; a DOCTYPE can only declare entities, the vehicle of expansion attacks.
        raise CapError(record, (SchemaIssue(1, "", "a DOCTYPE is not allowed in a CAP message"),))
    return root


def schema_issues(root: etree._Element) -> tuple[SchemaIssue, ...]:
    """Every violation of the CAP 1.2 schema in an already parsed document (empty when valid)."""
    schema = _schema()
    if schema.validate(root):
        return ()
    tree = root.getroottree()
    issues = []
    # lxml-stubs declare the error log opaque; at run time it iterates _LogEntry objects.
    for entry in cast(Iterable[Any], schema.error_log):
        path = _readable_path(tree, str(entry.path or ""))
        issues.append(SchemaIssue(int(entry.line), path, _CLARK.sub("", entry.message)))
    return tuple(issues)


def element_path(node: etree._Element) -> str:
    """``/alert/info[1]/area[2]/circle``-style path with local names (lxml's uses ``*`` for namespaces)."""
    steps: list[str] = []
    current: etree._Element | None = node
    while current is not None:
        parent = current.getparent()
        name = etree.QName(current).localname
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == current.tag]
            if len(same) > 1:
                name = f"{name}[{same.index(current) + 1}]"
        steps.append(name)
        current = parent
    return "/" + "/".join(reversed(steps))


def _readable_path(tree: etree._ElementTree, path: str) -> str:
    try:
        found = tree.xpath(path) if path else []
    except etree.XPathError:
        found = []
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return element_path(found[0])
    return _CLARK.sub("", path)


def validate_cap(data: bytes, record: str = "<cap>") -> etree._Element:
    """Parse and validate a CAP 1.2 message; return its root or raise :class:`CapError`.

    >>> validate_cap(b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'/>")
    Traceback (most recent call last):
    ...
    truceline.interop.cap.schema.CapError: <cap>: /alert: line 1: Element 'alert': Missing child element(s). \
Expected is ( identifier ).
    """
    root = parse_xml(data, record)
    issues = schema_issues(root)
    if issues:
        raise CapError(record, issues)
    return root
