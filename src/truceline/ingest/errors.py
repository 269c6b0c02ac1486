"""Turning pydantic's validation errors into ``RecordError``s a reporting analyst can act on."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from truceline.model import OBSERVATION_KINDS, RecordError

_MAX_ERRORS_PER_RECORD = 5


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    # The discriminated union puts the kind first (``acoustic_arrival.location.lat``); the field
    # path the user wrote is what follows it.
    if parts and parts[0] in OBSERVATION_KINDS:
        parts = parts[1:]
    # Pydantic labels validators of constrained types like "function-after[...]"; drop them.
    parts = [p for p in parts if not p.startswith(("function-", "tagged-union", "union["))]
    return ".".join(parts)


def _reason(error: dict[str, Any]) -> str:
    etype = error.get("type", "")
    msg = str(error.get("msg", "invalid"))
    if etype == "union_tag_not_found":
        return "missing; give one of: " + ", ".join(OBSERVATION_KINDS)
    if etype == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag", "?")
        return f"{tag!r} is not an observation kind; expected one of: " + ", ".join(OBSERVATION_KINDS)
    if etype == "extra_forbidden":
        return "unknown field (check the spelling; see `truceline ingest --help` for the format)"
    if etype == "missing":
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if etype in ("json_invalid",):
        return f"malformed JSON: {error.get('ctx', {}).get('error', msg)}"
    return msg


def record_errors(record: str, exc: ValidationError) -> list[RecordError]:
    """One ``RecordError`` per problem (at most five) for the record named ``record``."""
    out: list[RecordError] = []
    errors = exc.errors(include_url=False)
    for err in errors[:_MAX_ERRORS_PER_RECORD]:
        field = _field_path(tuple(err.get("loc", ())))
        if err.get("type") in ("union_tag_not_found", "union_tag_invalid"):
            field = "kind"
        out.append(RecordError(record, field, _reason(dict(err))))
    if len(errors) > _MAX_ERRORS_PER_RECORD:
        out.append(RecordError(record, "", f"… and {len(errors) - _MAX_ERRORS_PER_RECORD} more problems"))
    return out
