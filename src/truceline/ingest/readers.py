"""Format adapters: each can ``sniff`` a file's first bytes and ``read`` it into observations.

Every adapter yields, in input order, either a :class:`Parsed` record (validated, with the bytes
the store keeps) or a :class:`Rejected` one (with every reason, and the raw input so nothing is
lost). ``reader_for(path, head)`` picks the adapter.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from pydantic import ValidationError

from truceline.ingest._jsonkeys import check_duplicate_keys, find_duplicate_key
from truceline.ingest.errors import record_errors
from truceline.model import ObservationBase, RecordError, UsageError, observation_adapter

MAX_RECORD_BYTES = 1_000_000  # one report larger than this is refused, not parsed


@dataclass(frozen=True, slots=True)
class Parsed:
    record: str  # "path:line" (or "path:features[i]")
    position: int  # line or feature number, for acknowledgements
    observation: ObservationBase
    body: bytes


@dataclass(frozen=True, slots=True)
class Rejected:
    record: str
    position: int
    errors: tuple[RecordError, ...]
    raw: str


class Reader(Protocol):
    name: str

    def sniff(self, head: bytes, filename: str) -> bool: ...

    def read(self, stream: BinaryIO, filename: str) -> Iterator[Parsed | Rejected]: ...


def _raw(data: bytes) -> str:
    return data[:10_000].decode("utf-8", errors="replace")


class NDJSONReader:
    """One JSON object per line (``.ndjson``, ``.jsonl``); blank lines are skipped."""

    name = "ndjson"

    def sniff(self, head: bytes, filename: str) -> bool:
        if filename.endswith((".ndjson", ".jsonl")):
            return True
        first = head.lstrip()[:1]
        if first != b"{":
            return False
        # A GeoJSON FeatureCollection also starts with "{"; NDJSON's first line is a whole record.
        line = head.lstrip().split(b"\n", 1)[0]
        return b'"FeatureCollection"' not in line and b'"Feature"' not in line[:200]

    def read(self, stream: BinaryIO, filename: str) -> Iterator[Parsed | Rejected]:
        for lineno, raw in enumerate(stream, start=1):
            item = parse_ndjson_line(filename, lineno, raw)
            if item is not None:
                yield item


def parse_ndjson_line(filename: str, lineno: int, raw: bytes) -> Parsed | Rejected | None:
    """Validate one NDJSON line; ``None`` for a blank line. Shared by the parallel workers."""
    line = raw.strip()
    if not line:
        return None
    where = f"{filename}:{lineno}"
    if len(line) > MAX_RECORD_BYTES:
        err = RecordError(where, "", f"record of {len(line)} bytes exceeds the {MAX_RECORD_BYTES}-byte limit")
        return Rejected(where, lineno, (err,), _raw(line))
    try:
        obs: ObservationBase = observation_adapter.validate_json(line)
    except ValidationError as exc:
        return Rejected(where, lineno, tuple(record_errors(where, exc)), _raw(line))
    dup = check_duplicate_keys(line, obs)
    if dup is not None:
        err = RecordError(where, dup, "appears twice in one JSON object; send each field once")
        return Rejected(where, lineno, (err,), _raw(line))
    return Parsed(where, lineno, obs, line)


# Fields that hold lists; in CSV they are written separated by ";" (or as a JSON array).
_LIST_FIELDS = frozenset({"releasable_to", "serials", "serials_present", "serials_missing", "media"})


def _unflatten(row: dict[str, str]) -> dict[str, Any]:
    """``{"location.lat": "48.1"}`` → ``{"location": {"lat": "48.1"}}``; empty cells are absent."""
    out: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None or cell is None:
            continue
        cell = cell.strip()
        if cell == "":
            continue
        parts = column.strip().split(".")
        target = out
        for part in parts[:-1]:
            nxt = target.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ValueError(f"column {column!r} conflicts with column {part!r}")
            target = nxt
        leaf = parts[-1]
        value: Any = cell
        if cell[:1] in "[{":
            try:
                value = json.loads(cell)
            except json.JSONDecodeError as exc:
                raise ValueError(f"column {column!r}: malformed JSON in cell: {exc.msg}") from None
        elif leaf in _LIST_FIELDS:
            value = [v.strip() for v in cell.split(";") if v.strip()]
        target[leaf] = value
    return out


class CSVReader:
    """A header row, then one record per row; nested fields as dotted columns.

    Columns are field paths (``location.lat``, ``markings.tlp``); list fields are separated by
    ``;`` and structured cells may be JSON. Values are converted by field type (lax mode), but a
    time must still be ISO 8601 with an offset.
    """

    name = "csv"

    def sniff(self, head: bytes, filename: str) -> bool:
        if filename.endswith((".csv", ".tsv")):
            return True
        first = head.split(b"\n", 1)[0]
        return b"kind" in first and b"," in first and not head.lstrip().startswith(b"{")

    def read(self, stream: BinaryIO, filename: str) -> Iterator[Parsed | Rejected]:
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")
        delimiter = "\t" if filename.endswith(".tsv") else ","
        reader = csv.DictReader(text, delimiter=delimiter)
        try:
            header = reader.fieldnames
        except UnicodeDecodeError as exc:
            raise UsageError(f"{filename}: not UTF-8 text ({exc.reason})") from None
        if not header:
            return
        dupes = {c for c in header if header.count(c) > 1}
        if dupes:
            raise UsageError(f"{filename}:1: the header repeats column(s) {', '.join(sorted(dupes))}")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                where = f"{filename}:{reader.line_num + 1}"
                raise UsageError(f"{where}: not UTF-8 text ({exc.reason}); nothing after this line was read") from None
            except csv.Error as exc:
                where = f"{filename}:{reader.line_num}"
                yield Rejected(where, reader.line_num, (RecordError(where, "", f"malformed CSV: {exc}"),), "")
                continue
            lineno = reader.line_num
            where = f"{filename}:{lineno}"
            raw = ",".join(v or "" for v in row.values() if isinstance(v, str))
            if None in row:
                err = RecordError(where, "", f"{len(row[None])} more cells than the header has columns")
                yield Rejected(where, lineno, (err,), raw)
                continue
            try:
                data = _unflatten(row)
                obs: ObservationBase = observation_adapter.validate_python(data, strict=False)
            except ValidationError as exc:
                yield Rejected(where, lineno, tuple(record_errors(where, exc)), raw)
                continue
            except ValueError as exc:
                yield Rejected(where, lineno, (RecordError(where, "", str(exc)),), raw)
                continue
            yield Parsed(where, lineno, obs, obs.model_dump_json(exclude_none=True).encode())


class GeoJSONReader:
    """A FeatureCollection whose Point features are observations.

    Each feature's ``properties`` hold the observation's fields; its Point geometry gives the
    location's longitude and latitude, and ``properties.location`` may add ``error`` and
    ``alt_m``. Features are named ``path:features[i]``.
    """

    name = "geojson"

    def sniff(self, head: bytes, filename: str) -> bool:
        return filename.endswith(".geojson") or b'"FeatureCollection"' in head[:4096]

    def read(self, stream: BinaryIO, filename: str) -> Iterator[Parsed | Rejected]:
        data = stream.read()
        try:
            doc = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{filename}: malformed GeoJSON: {exc}") from None
        dup = find_duplicate_key(data)
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
            raise UsageError(f"{filename}: a GeoJSON FeatureCollection is expected")
        if dup is not None:
            raise UsageError(f"{filename}: duplicate key {dup!r} in a JSON object; nothing was read")
        features = doc.get("features")
        if not isinstance(features, list):
            raise UsageError(f"{filename}: 'features' must be a list")
        for i, feature in enumerate(features):
            where = f"{filename}:features[{i}]"
            raw = json.dumps(feature)[:10_000]
            try:
                props = self._properties(feature)
                obs: ObservationBase = observation_adapter.validate_json(json.dumps(props))
            except ValidationError as exc:
                yield Rejected(where, i, tuple(record_errors(where, exc)), raw)
                continue
            except RecordError as exc:
                yield Rejected(where, i, (RecordError(where, exc.field, exc.reason),), raw)
                continue
            yield Parsed(where, i, obs, obs.model_dump_json(exclude_none=True).encode())

    @staticmethod
    def _properties(feature: Any) -> dict[str, Any]:
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise RecordError("", "type", "each element of 'features' must be a GeoJSON Feature")
        props = feature.get("properties")
        if not isinstance(props, dict):
            raise RecordError("", "properties", "a feature needs a properties object")
        props = dict(props)
        geometry = feature.get("geometry")
        if geometry is None:
            return props
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise RecordError("", "geometry", "only Point geometries (or null) are observations")
        coords = geometry.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            raise RecordError("", "geometry.coordinates", "a Point needs [longitude, latitude]")
        location = dict(props.get("location") or {})
        location["lon"], location["lat"] = coords[0], coords[1]
        if len(coords) > 2 and "alt_m" not in location:
            location["alt_m"] = coords[2]
        props["location"] = location
        return props


READERS: tuple[Reader, ...] = (GeoJSONReader(), NDJSONReader(), CSVReader())


def reader_for(filename: str, head: bytes) -> Reader:
    """The adapter for a file, by its name first and then by its first bytes."""
    for reader in READERS:
        if reader.sniff(head, filename):
            return reader
    raise UsageError(
        f"{filename}: cannot tell the format; use .ndjson/.jsonl, .csv or .geojson, "
        "or start the file with a JSON object or a CSV header that has a 'kind' column"
    )
