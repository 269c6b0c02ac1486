"""CAP 1.2 (OASIS Common Alerting Protocol): messages, the vendored official schema, reading and writing.

Every message written is validated against ``data/CAP-v1.2.xsd`` before it is returned; every
message read is validated before it is believed, and a bad one is refused with a
:class:`CapError` naming the element, the line and the schema's reason.

>>> from datetime import UTC, datetime
>>> msg = CapMessage("tl-1", "truceline@mvm", datetime(2026, 9, 1, tzinfo=UTC), "Exercise", "Alert", "Private",
...                  addresses=("USA",))
>>> b"<sent>2026-09-01T00:00:00+00:00</sent>" in to_xml(msg)
True

The public surface is listed in ``__all__`` (pinned by a test); the modules are private.
"""

from truceline.interop.cap.message import CapArea, CapInfo, CapMessage, cap_time, parse_cap, to_xml
from truceline.interop.cap.schema import CAP_NAMESPACE, SCHEMA_PATH, CapError, SchemaIssue, validate_cap

__all__ = [
    "CAP_NAMESPACE",
    "SCHEMA_PATH",
    "CapArea",
    "CapError",
    "CapInfo",
    "CapMessage",
    "SchemaIssue",
    "cap_time",
    "parse_cap",
    "to_xml",
    "validate_cap",
]
