"""Hypothesis strategies for hostile inputs: near-valid reports, damaged bytes and odd structure.

Random bytes alone rarely get past a JSON or CSV tokenizer, so most inputs start from valid
reports of every kind (tests/conftest.py) and are then damaged: fields dropped, retyped or added,
values swapped for arbitrary JSON, and the serialised bytes flipped, cut, duplicated or spliced.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.conftest import OBSERVATION_KINDS_UNDER_TEST, observation_dict
from truceline.act import DEFAULT_PLAYBOOK
from truceline.agreement.loader import DEFAULT_AGREEMENT_PATH

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=24)
    | st.sampled_from(["", "Z", "2026-03-01T12:00:00Z", "2026-02-30T25:00:00+99:00", "NaN", "1e400", "\u202e", "\x00"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    return out


@st.composite
def mutated_report(draw: st.DrawFn) -> dict[str, Any]:
    """A valid report of any kind with up to four fields dropped, replaced or added."""
    kind = draw(st.sampled_from(OBSERVATION_KINDS_UNDER_TEST))
    record = observation_dict(draw(st.integers(0, 9_999_999)), kind)
    for _ in range(draw(st.integers(0, 4))):
        paths = _paths(record)
        path = draw(st.sampled_from(paths))
        parent: Any = record
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["drop", "replace", "add"]))
        if action == "drop":
            parent.pop(path[-1], None)
        elif action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        else:
            parent[draw(st.text(min_size=1, max_size=12))] = draw(JSON_VALUES)
    return record


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with up to three byte-level injuries: flips, cuts, deletions, duplications, splices."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["flip", "cut", "delete", "duplicate", "insert"]))
        if action == "flip":
            out[i] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del out[i:]
        elif action == "delete":
            del out[i : i + draw(st.integers(1, 16))]
        elif action == "duplicate":
            out[i:i] = out[i : i + draw(st.integers(1, 64))]
        else:
            out[i:i] = draw(
                st.sampled_from([b"\n", b"\r", b",", b'"', b"{", b"}", b"[", b"\x00", b"\xff\xfe", b"\\u0000", b"\xc3"])
                | st.binary(max_size=8)
            )
    return bytes(out)


def _line(draw: st.DrawFn) -> bytes:
    choice = draw(st.sampled_from(["report", "report", "report", "json", "bytes", "blank"]))
    if choice == "report":
        text = json.dumps(draw(mutated_report()), allow_nan=True)
        if draw(st.booleans()):  # a duplicated key, which json.dumps cannot write
            text = text[:-1] + ', "kind": "claim"}'
        return text.encode()
    if choice == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    if choice == "bytes":
        return draw(st.binary(max_size=64))
    return b"   "


@st.composite
def ndjson_files(draw: st.DrawFn) -> bytes:
    lines = [_line(draw) for _ in range(draw(st.integers(0, 6)))]
    sep = draw(st.sampled_from([b"\n", b"\r\n"]))
    return draw(damaged(sep.join(lines)))


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict) and v:
                out.update(_flatten(v, f"{prefix}{k}."))
            elif isinstance(v, list):
                out[f"{prefix}{k}"] = (
                    ";".join(str(x) for x in v) if all(isinstance(x, str) for x in v) else json.dumps(v)
                )
            else:
                out[f"{prefix}{k}"] = "" if v is None else (json.dumps(v) if not isinstance(v, str) else v)
    return out


@st.composite
def csv_files(draw: st.DrawFn, delimiter: str = ",") -> bytes:
    rows = [_flatten(draw(mutated_report())) for _ in range(draw(st.integers(0, 4)))]
    columns = sorted({c for r in rows for c in r}) or ["kind"]
    if draw(st.booleans()) and columns:
        columns.append(draw(st.sampled_from(columns)))  # a repeated header
    if draw(st.booleans()):
        columns.insert(0, draw(st.text(max_size=10)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(columns)
    for row in rows:
        cells = [row.get(c, "") for c in columns]
        if draw(st.booleans()):
            cells.append(draw(st.text(max_size=10)))  # more cells than columns
        writer.writerow(cells)
    return draw(damaged(buffer.getvalue().encode("utf-8", errors="surrogatepass")))


@st.composite
def geojson_files(draw: st.DrawFn) -> bytes:
    features: list[Any] = []
    for _ in range(draw(st.integers(0, 4))):
        props = draw(mutated_report())
        location = props.pop("location", None)
        geometry: Any = None
        if isinstance(location, dict) and draw(st.booleans()):
            geometry = {"type": "Point", "coordinates": [location.get("lon"), location.get("lat")]}
            props["location"] = {k: v for k, v in location.items() if k not in ("lat", "lon")}
        elif draw(st.booleans()):
            geometry = draw(JSON_VALUES)
        feature: Any = {"type": "Feature", "properties": props, "geometry": geometry}
        if draw(st.integers(0, 5)) == 0:
            feature = draw(JSON_VALUES)
        features.append(feature)
    doc: Any = {"type": "FeatureCollection", "features": features}
    if draw(st.integers(0, 6)) == 0:
        doc["features"] = draw(JSON_VALUES)
    if draw(st.integers(0, 6)) == 0:
        doc = draw(JSON_VALUES)
    return draw(damaged(json.dumps(doc, allow_nan=True).encode()))


AGREEMENT_KEYS = (
    "format_version", "id", "version", "title", "effective", "description", "participants", "parties", "clauses",
    "contact_line", "borders", "controlled_areas", "oblasts", "withdrawal", "disengagement", "restricted_zones",
    "storage_sites", "ceilings", "reassurance_force", "sectors", "triggers",
)  # fmt: skip


@st.composite
def small_agreements(draw: st.DrawFn) -> bytes:
    """Short YAML documents with agreement-like keys and arbitrary values (fast to reject)."""
    doc = draw(st.dictionaries(st.sampled_from(AGREEMENT_KEYS) | st.text(max_size=8), JSON_VALUES, max_size=8))
    text = yaml.safe_dump(doc, allow_unicode=True)
    return draw(damaged(text.encode()))


_DEFAULT_LINES = DEFAULT_AGREEMENT_PATH.read_text(encoding="utf-8").splitlines(keepends=True)
_PLAYBOOK_LINES = DEFAULT_PLAYBOOK.read_text(encoding="utf-8").splitlines(keepends=True)


def _mutated_lines(draw: st.DrawFn, original: list[str]) -> bytes:
    lines = list(original)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "swap", "edit", "value"]))
        if action == "drop":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "edit":
            lines[i] = draw(damaged(lines[i].encode())).decode("utf-8", errors="replace")
        else:
            head, sep, _ = lines[i].partition(":")
            if sep:
                lines[i] = f"{head}: {json.dumps(draw(SCALARS), allow_nan=True)}\n"
    return "".join(lines).encode()


@st.composite
def mutated_default_agreement(draw: st.DrawFn) -> bytes:
    """The shipped agreement with lines dropped, duplicated, swapped or edited (reaches the geometry)."""
    return _mutated_lines(draw, _DEFAULT_LINES)


PLAYBOOK_KEYS = (
    "format_version", "id", "title", "directives", "scenarios", "guarantee", "owners", "escalation", "requires",
    "when", "all", "any", "warning_level", "findings", "trigger",
)  # fmt: skip


@st.composite
def small_playbooks(draw: st.DrawFn) -> bytes:
    """Short YAML documents with playbook-like keys and arbitrary values, some with aliases."""
    doc = draw(st.dictionaries(st.sampled_from(PLAYBOOK_KEYS) | st.text(max_size=8), JSON_VALUES, max_size=8))
    text = yaml.safe_dump(doc, allow_unicode=True)
    if draw(st.booleans()):  # an anchor and a few aliases to it (safe_dump writes none of its own)
        n = draw(st.integers(1, 12))
        text = "base: &base [1, 2, {x: 3}]\n" + text + "".join(f"alias{i}: *base\n" for i in range(n))
    return draw(damaged(text.encode()))


@st.composite
def mutated_default_playbook(draw: st.DrawFn) -> bytes:
    """The shipped playbook with lines dropped, duplicated, swapped or edited (reaches the checks)."""
    return _mutated_lines(draw, _PLAYBOOK_LINES)
