"""CAP 1.2 messages as plain frozen values, written to and read from the standard's XML.

Only what the schema allows is representable, and :func:`to_xml` validates what it writes, so a
message that leaves here is valid CAP 1.2 or an exception. Times are written with a numeric UTC
offset (``+00:00``) and whole seconds, as the schema's pattern requires (``Z`` is refused by it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, cast

from lxml import etree

from truceline.interop.cap.schema import (
    CAP_NAMESPACE,
    CapError,
    SchemaIssue,
    element_path,
    schema_issues,
    validate_cap,
)

__all__ = [
    "CapArea",
    "CapInfo",
    "CapMessage",
    "cap_time",
    "parse_cap",
    "to_xml",
]

Status = Literal["Actual", "Exercise", "System", "Test", "Draft"]
MsgType = Literal["Alert", "Update", "Cancel", "Ack", "Error"]
Scope = Literal["Public", "Restricted", "Private"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
Pair = tuple[str, str]

_FORBIDDEN_IN_ID = (" ", ",", "<", "&")


def cap_time(moment: datetime) -> str:
    """``moment`` in UTC as CAP writes it: whole seconds and ``+00:00``, never ``Z``.

    >>> from datetime import timedelta, timezone
    >>> cap_time(datetime(2026, 9, 1, 4, 5, 6, 789, tzinfo=timezone(timedelta(hours=3))))
    '2026-09-01T01:05:06+00:00'
    """
    if moment.tzinfo is None:
        raise ValueError("a CAP time needs a time zone")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class CapArea:
    """An ``<area>``: circles are (lat, lon, radius km), polygons closed rings of (lat, lon)."""

    area_desc: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[tuple[float, float, float], ...] = ()
    geocodes: tuple[Pair, ...] = ()
    altitude: float | None = None
    ceiling: float | None = None


@dataclass(frozen=True, slots=True)
class CapInfo:
    """An ``<info>`` block (one per language or audience)."""

    categories: tuple[str, ...]
    event: str
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    language: str = "en-GB"
    response_types: tuple[str, ...] = ()
    audience: str | None = None
    event_codes: tuple[Pair, ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[Pair, ...] = ()
    areas: tuple[CapArea, ...] = ()

    def parameter(self, name: str) -> str | None:
        """The first parameter called ``name``, if any."""
        return next((v for k, v in self.parameters if k == name), None)


@dataclass(frozen=True, slots=True)
class CapMessage:
    """An ``<alert>``. ``references`` are CAP's ``sender,identifier,sent`` triples."""

    identifier: str
    sender: str
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    source: str | None = None
    restriction: str | None = None
    addresses: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[str, ...] = ()
    incidents: tuple[str, ...] = ()
    infos: tuple[CapInfo, ...] = ()


# ---------------------------------------------------------------------------------------------
# writing


def _sub(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{name}").text = text


def _pairs(parent: etree._Element, name: str, pairs: tuple[Pair, ...]) -> None:
    for key, value in pairs:
        node = etree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{name}")
        _sub(node, "valueName", key)
        _sub(node, "value", value)


def _number(value: float) -> str:
    # Enough digits for ~1 m in latitude/longitude; repr would leak float noise into signed bytes.
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _address(value: str) -> str:
    return f'"{value}"' if any(c.isspace() for c in value) else value


def _check_identifier(what: str, value: str) -> None:
    # CAP 1.2 §3.2.1: identifiers and senders "MUST NOT include spaces, commas or restricted
    # characters (< and &)" — the schema types them as plain strings, so we check it here.
    bad = [c for c in _FORBIDDEN_IN_ID if c in value]
    if not value or bad:
        raise ValueError(f"CAP {what} {value!r} must be non-empty without spaces, commas, '<' or '&'")


def _info(root: etree._Element, info: CapInfo) -> None:
    node = etree.SubElement(root, f"{{{CAP_NAMESPACE}}}info")
    _sub(node, "language", info.language)
    for category in info.categories:
        _sub(node, "category", category)
    _sub(node, "event", info.event)
    for response in info.response_types:
        _sub(node, "responseType", response)
    _sub(node, "urgency", info.urgency)
    _sub(node, "severity", info.severity)
    _sub(node, "certainty", info.certainty)
    _sub(node, "audience", info.audience)
    _pairs(node, "eventCode", info.event_codes)
    for name in ("effective", "onset", "expires"):
        moment = getattr(info, name)
        _sub(node, name, None if moment is None else cap_time(moment))
    _sub(node, "senderName", info.sender_name)
    _sub(node, "headline", info.headline)
    _sub(node, "description", info.description)
    _sub(node, "instruction", info.instruction)
    _sub(node, "web", info.web)
    _sub(node, "contact", info.contact)
    _pairs(node, "parameter", info.parameters)
    for area in info.areas:
        area_node = etree.SubElement(node, f"{{{CAP_NAMESPACE}}}area")
        _sub(area_node, "areaDesc", area.area_desc)
        for ring in area.polygons:
            _sub(area_node, "polygon", " ".join(f"{_number(lat)},{_number(lon)}" for lat, lon in ring))
        for lat, lon, radius in area.circles:
            _sub(area_node, "circle", f"{_number(lat)},{_number(lon)} {_number(radius)}")
        _pairs(area_node, "geocode", area.geocodes)
        _sub(area_node, "altitude", None if area.altitude is None else _number(area.altitude))
        _sub(area_node, "ceiling", None if area.ceiling is None else _number(area.ceiling))


def to_element(message: CapMessage) -> etree._Element:
    """The message as an lxml element (not yet validated)."""
    _check_identifier("identifier", message.identifier)
    _check_identifier("sender", message.sender)
    root = etree.Element(f"{{{CAP_NAMESPACE}}}alert", nsmap={None: CAP_NAMESPACE})  # type: ignore[dict-item]
    _sub(root, "identifier", message.identifier)
    _sub(root, "sender", message.sender)
    _sub(root, "sent", cap_time(message.sent))
    _sub(root, "status", message.status)
    _sub(root, "msgType", message.msg_type)
    _sub(root, "source", message.source)
    _sub(root, "scope", message.scope)
    _sub(root, "restriction", message.restriction)
    _sub(root, "addresses", " ".join(_address(a) for a in message.addresses) if message.addresses else None)
    for code in message.codes:
        _sub(root, "code", code)
    _sub(root, "note", message.note)
    _sub(root, "references", " ".join(message.references) if message.references else None)
    _sub(root, "incidents", " ".join(message.incidents) if message.incidents else None)
    for info in message.infos:
        _info(root, info)
    return root


def to_xml(message: CapMessage) -> bytes:
    """The message as UTF-8 CAP 1.2 XML, validated against the schema (else :class:`CapError`).

    The bytes are deterministic for a given message, so a signature over them is reproducible.
    """
    root = to_element(message)
    issues = schema_issues(root)
    if issues:
        raise CapError(message.identifier, issues)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# ---------------------------------------------------------------------------------------------
# reading


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _text(node: etree._Element) -> str:
    return (node.text or "").strip()


def _time(node: etree._Element) -> datetime:
    return datetime.fromisoformat(_text(node))


def _split_addresses(value: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, part in enumerate(value.split('"')):
        out.extend([part] if i % 2 else part.split())
    return tuple(p for p in out if p)


def _read_pairs(node: etree._Element) -> Pair:
    children = list(node)
    return (_text(children[0]), _text(children[1]))


def _bad(record: str, node: etree._Element, reason: str) -> CapError:
    line = cast("int | None", node.sourceline)  # lxml-stubs leave sourceline untyped
    return CapError(record, (SchemaIssue(line or 0, element_path(node), reason),))


def _coordinate(record: str, node: etree._Element, text: str) -> tuple[float, float]:
    # CAP §3.3.2: WGS 84 "latitude,longitude" pairs; the schema types them as plain strings.
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise _bad(record, node, f"{text!r} is not a 'latitude,longitude' pair") from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise _bad(record, node, f"{text!r} is outside WGS 84 latitude/longitude ranges")
    return lat, lon


def _read_area(record: str, node: etree._Element) -> CapArea:
    desc = ""
    polygons: list[tuple[tuple[float, float], ...]] = []
    circles: list[tuple[float, float, float]] = []
    geocodes: list[Pair] = []
    heights: dict[str, float] = {}
    for child in node:
        name = _local(child)
        if name == "areaDesc":
            desc = _text(child)
        elif name == "polygon":
            ring = tuple(_coordinate(record, child, p) for p in _text(child).split())
            # CAP §3.3.2: at least four pairs, the first and last the same.
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise _bad(record, child, "a polygon needs at least 4 points and must be closed")
            polygons.append(ring)
        elif name == "circle":
            parts = _text(child).split()
            try:
                radius = float(parts[1]) if len(parts) == 2 else -1.0
            except ValueError:
                radius = -1.0
            if radius < 0.0:
                raise _bad(record, child, f"{_text(child)!r} is not 'latitude,longitude radius-km'")
            circles.append((*_coordinate(record, child, parts[0]), radius))
        elif name == "geocode":
            geocodes.append(_read_pairs(child))
        else:  # altitude, ceiling: xs:decimal, already checked by the schema
            heights[name] = float(_text(child))
    return CapArea(
        area_desc=desc,
        polygons=tuple(polygons),
        circles=tuple(circles),
        geocodes=tuple(geocodes),
        altitude=heights.get("altitude"),
        ceiling=heights.get("ceiling"),
    )


_INFO_TEXT = {
    "audience": "audience",
    "senderName": "sender_name",
    "headline": "headline",
    "description": "description",
    "instruction": "instruction",
    "web": "web",
    "contact": "contact",
    "language": "language",
    "event": "event",
    "urgency": "urgency",
    "severity": "severity",
    "certainty": "certainty",
}


def _read_info(record: str, node: etree._Element) -> CapInfo:
    values: dict[str, object] = {"language": "en-US"}
    lists: dict[str, list[object]] = {k: [] for k in ("categories", "response_types", "event_codes", "parameters")}
    areas: list[CapArea] = []
    for child in node:
        name = _local(child)
        if name in _INFO_TEXT:
            values[_INFO_TEXT[name]] = _text(child)
        elif name == "category":
            lists["categories"].append(_text(child))
        elif name == "responseType":
            lists["response_types"].append(_text(child))
        elif name == "eventCode":
            lists["event_codes"].append(_read_pairs(child))
        elif name == "parameter":
            lists["parameters"].append(_read_pairs(child))
        elif name in ("effective", "onset", "expires"):
            values[name] = _time(child)
        elif name == "area":
            areas.append(_read_area(record, child))
        # "resource" carries attachments we do not read; the schema has checked its shape.
    return CapInfo(**values, **{k: tuple(v) for k, v in lists.items()}, areas=tuple(areas))  # type: ignore[arg-type]


_HEADER_TEXT = {
    "identifier": "identifier",
    "sender": "sender",
    "status": "status",
    "msgType": "msg_type",
    "source": "source",
    "scope": "scope",
    "restriction": "restriction",
    "note": "note",
}


def parse_cap(data: bytes, record: str = "<cap>") -> CapMessage:
    """Read a CAP 1.2 message from another system, refusing it with the schema's reason if invalid.

    >>> from datetime import timedelta
    >>> msg = CapMessage("a-1", "sender@example.org", datetime(2026, 9, 1, tzinfo=UTC), "Exercise", "Alert",
    ...                  "Restricted", restriction="participants only", addresses=("USA", "GBR"))
    >>> parse_cap(to_xml(msg)) == msg
    True
    """
    root = validate_cap(data, record)
    values: dict[str, object] = {}
    codes: list[str] = []
    infos: list[CapInfo] = []
    for child in root:
        name = _local(child)
        if name in _HEADER_TEXT:
            values[_HEADER_TEXT[name]] = _text(child)
        elif name == "sent":
            values["sent"] = _time(child)
        elif name == "addresses":
            values["addresses"] = _split_addresses(child.text or "")
        elif name == "code":
            codes.append(_text(child))
        elif name in ("references", "incidents"):
            values[name] = tuple(_text(child).split())
        elif name == "info":
            infos.append(_read_info(record, child))
        # An XML signature (xmldsig namespace) is allowed by the schema; it is checked elsewhere.
    return CapMessage(**values, codes=tuple(codes), infos=tuple(infos))  # type: ignore[arg-type]
