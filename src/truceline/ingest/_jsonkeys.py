"""Detecting duplicate keys in a JSON object cheaply.

JSON parsers (pydantic's included) keep the last of two equal keys and drop the first without
a word — a report with ``"lat": 48.1, …, "lat": 135`` would lose data silently. A full check
with ``object_pairs_hook`` costs more than validation itself, so we first compare the number of
keys written in the text with the number of fields the validated record says were set; only
when they differ (a duplicate, or unusual formatting) do we run the exact check.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel


class DuplicateKeyError(ValueError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"duplicate key {path!r} in a JSON object")


# Fields whose values hold JSON objects (and so keys of their own); everything else is a leaf
# or a list of strings. Kept in step with the model by a test.
NESTED_FIELDS = frozenset(
    {"location", "error", "markings", "origin", "impact", "intended_destination", "media", "weapons"}
)


def count_set_keys(value: Any) -> int:
    """How many JSON keys the input must have had to produce ``value`` (a validated model)."""
    fields_set = value.model_fields_set
    n = len(fields_set)
    nested = fields_set & NESTED_FIELDS
    if nested:
        fields = value.__dict__
        for name in nested:
            v = fields[name]
            if isinstance(v, BaseModel):
                n += count_set_keys(v)
            elif isinstance(v, dict):
                n += len(v)
            elif isinstance(v, tuple):
                n += sum(count_set_keys(x) for x in v)
    return n


def find_duplicate_key(text: bytes | str) -> str | None:
    """The dotted path of the first duplicated key in ``text``, or None. Exact but slow."""
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen and not found:
                found.append(k)
            seen.add(k)
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    return found[0] if found else None


def check_duplicate_keys(text: bytes, validated: BaseModel) -> str | None:
    """Return the duplicated key of ``text`` if it has one (fast path when it cannot)."""
    if text.count(b'":') == count_set_keys(validated):
        return None
    return find_duplicate_key(text)
