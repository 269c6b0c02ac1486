"""Which model class a stored derived record is read back as, by its type name."""

from __future__ import annotations

from pydantic import TypeAdapter

from truceline.model import (
    Alert,
    Assessment,
    Attribution,
    Finding,
    Incident,
    Origin,
    Participant,
    Record,
    Source,
)

_REGISTRY: dict[str, type[Record]] = {
    cls.__name__.lower(): cls
    for cls in (Alert, Assessment, Attribution, Finding, Incident, Origin, Participant, Source)
}


def register_record_type(name: str, cls: type[Record]) -> None:
    """Let a stage store its own record type (e.g. the guarantee's pledges) under ``name``."""
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"record type {name!r} is already registered for {existing.__name__}")
    _REGISTRY[name] = cls


def is_record_type(name: str) -> bool:
    """Whether records stored under ``name`` can be read back (the type is registered)."""
    return name in _REGISTRY


def parse_record(type_name: str, body: bytes) -> Record:
    cls = _REGISTRY.get(type_name)
    if cls is None:
        raise ValueError(f"unknown record type {type_name!r}; register it with register_record_type")
    validate = getattr(cls, "model_validate_json", None)
    if validate is not None:  # a pydantic model: no adapter to build for every record read
        return validate(body)  # type: ignore[no-any-return]
    return TypeAdapter(cls).validate_json(body)
