"""Field-level markings: parts of a record (``source``, ``location``) marked stricter than the rest.

A field marking is addressed by a dotted path of object keys (``location.lat``). Where a step
meets a list, the rest of the path applies to every element (``media.uri`` is the ``uri`` of each
media item), so no path ever depends on an element's position.

A withheld field is **removed**, key and all, not replaced with a marker: a marker would tell the
requester that the record holds something it may not see, and for a protected source or a
precise location that fact is itself sensitive. The response then reads exactly as if the field
had never been set, which is what a requester without access must see. API response schemas must
therefore make every markable field optional.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from truceline.model import Markings


def split_path(path: str) -> tuple[str, ...]:
    """The steps of a dotted field path; a malformed path is an error, never a no-op.

    >>> split_path("location.lat")
    ('location', 'lat')
    """
    parts = tuple(path.split("."))
    if not path or any(not part for part in parts):
        # Failing here (rather than ignoring the entry) means a typo in a field marking stops the
        # response instead of silently releasing the field it was meant to protect.
        raise ValueError(f"malformed field path {path!r}: expected dot-separated keys such as 'location.lat'")
    return parts


def _copy(node: Any) -> Any:
    # Documents are JSON-shaped; copying only dicts and lists is much faster than deepcopy and
    # guarantees the caller's document is never changed by redaction.
    if isinstance(node, dict):
        return {key: _copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_copy(item) for item in node]
    return node


def _remove(node: Any, steps: tuple[str, ...]) -> None:
    if isinstance(node, list):
        for item in node:
            _remove(item, steps)
        return
    if not isinstance(node, dict) or steps[0] not in node:
        return
    if len(steps) == 1:
        del node[steps[0]]
    else:
        _remove(node[steps[0]], steps[1:])


def withhold(
    document: Mapping[str, Any],
    field_markings: Mapping[str, Markings],
    may_see: Callable[[Markings], bool],
) -> dict[str, Any]:
    """A copy of ``document`` without every field whose markings ``may_see`` refuses.

    >>> m = Markings(tlp="red", originator="USA", releasable_to=("GBR",))
    >>> withhold({"id": "r1", "media": [{"uri": "u1", "hash": "h1"}]}, {"media.uri": m}, lambda _: False)
    {'id': 'r1', 'media': [{'hash': 'h1'}]}
    """
    steps_of = {path: split_path(path) for path in field_markings}  # every path checked, seen or not
    refused = [steps_of[path] for path, markings in field_markings.items() if not may_see(markings)]
    result: dict[str, Any] = _copy(dict(document))
    for steps in refused:
        _remove(result, steps)
    return result
