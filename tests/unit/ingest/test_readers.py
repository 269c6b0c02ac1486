"""Format adapters and contextual checks: every bad record gets a precise, named reason."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOW, OBSERVATION_KINDS_UNDER_TEST, PARTICIPANTS, observation_dict, observation_line
from truceline.ingest import (
    ContextChecks,
    CSVReader,
    GeoJSONReader,
    NDJSONReader,
    Parsed,
    Rejected,
    find_duplicate_key,
    ingest_paths,
    reader_for,
)
from truceline.model import UsageError, observation_adapter
from truceline.store import MemoryStore


def read_all(reader: Any, data: bytes, name: str = "in.ndjson") -> list[Parsed | Rejected]:
    return list(reader.read(io.BufferedReader(io.BytesIO(data)), name))  # type: ignore[arg-type]


def test_ndjson_keeps_the_exact_bytes_received() -> None:
    line = observation_line(3)
    (item,) = read_all(NDJSONReader(), (line + "\n").encode())
    assert isinstance(item, Parsed)
    assert item.body == line.encode() and item.record == "in.ndjson:1"


def test_ndjson_skips_blank_lines_but_counts_them_in_line_numbers() -> None:
    data = f"\n{observation_line(1)}\n\n{observation_line(2)}\n".encode()
    items = read_all(NDJSONReader(), data)
    assert [i.record for i in items] == ["in.ndjson:2", "in.ndjson:4"]


def test_malformed_json_is_rejected_with_its_line() -> None:
    data = f'{observation_line(1)}\n{{"kind": "acoustic_arrival", \n'.encode()
    items = read_all(NDJSONReader(), data)
    assert isinstance(items[1], Rejected)
    assert items[1].record == "in.ndjson:2"
    assert "malformed JSON" in items[1].errors[0].reason or "EOF" in items[1].errors[0].reason


def test_an_unknown_kind_names_the_kinds_that_exist() -> None:
    (item,) = read_all(
        NDJSONReader(), json.dumps(observation_dict(kind="claim") | {"kind": "rumour"}).encode()
    )
    assert isinstance(item, Rejected)
    assert item.errors[0].field == "kind" and "acoustic_arrival" in item.errors[0].reason


def test_wrong_type_names_the_field_path() -> None:
    d = observation_dict()
    d["location"]["error"]["semi_major_m"] = "eight"
    (item,) = read_all(NDJSONReader(), json.dumps(d).encode())
    assert isinstance(item, Rejected)
    assert item.errors[0].field == "location.error.semi_major_m"
    assert str(item.errors[0]).startswith("in.ndjson:1: location.error.semi_major_m: ")


def test_duplicate_json_keys_are_rejected_not_silently_merged() -> None:
    line = observation_line(1).replace('"lat": 48.02', '"lat": 48.02, "lat": 48.5')
    (item,) = read_all(NDJSONReader(), line.encode())
    assert isinstance(item, Rejected)
    assert item.errors[0].field == "lat" and "twice" in item.errors[0].reason


def test_duplicate_key_finder_is_exact() -> None:
    assert find_duplicate_key('{"a": 1, "b": {"c": 1, "c": 2}}') == "c"
    assert find_duplicate_key('{"a": 1, "b": {"a": 2}}') is None


def test_pretty_printed_json_without_duplicates_passes_the_slow_check() -> None:
    line = json.dumps(observation_dict(2), separators=(" , ", " : "))
    (item,) = read_all(NDJSONReader(), line.encode())
    assert isinstance(item, Parsed)


def _csv_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    columns = list(dict.fromkeys(c for r in rows for c in r))
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        if isinstance(v, dict) and k not in ("weapons",):
            out |= _flat(v, f"{prefix}{k}.")
        elif isinstance(v, list) and all(isinstance(x, str) for x in v):
            out[prefix + k] = ";".join(v)
        elif isinstance(v, list | dict):
            out[prefix + k] = json.dumps(v)
        else:
            out[prefix + k] = str(v).lower() if isinstance(v, bool) else str(v)
    return out


@pytest.mark.parametrize("kind", OBSERVATION_KINDS_UNDER_TEST)
def test_csv_reads_every_kind_like_ndjson(kind: str) -> None:
    d = observation_dict(5, kind)
    (item,) = read_all(CSVReader(), _csv_bytes([_flat(d)]), "in.csv")
    assert isinstance(item, Parsed), item
    assert item.observation == observation_adapter.validate_json(json.dumps(d))


def test_csv_rejects_a_numeric_time_and_names_line_and_field() -> None:
    good, bad = _flat(observation_dict(1)), _flat(observation_dict(2))
    bad["time"] = "1700000000"
    items = read_all(CSVReader(), _csv_bytes([good, bad]), "in.csv")
    assert isinstance(items[0], Parsed) and isinstance(items[1], Rejected)
    assert str(items[1].errors[0]).startswith("in.csv:3: time: ")


def test_csv_row_with_too_many_cells_is_rejected() -> None:
    data = _csv_bytes([_flat(observation_dict(1))]).decode().rstrip("\r\n") + ",extra\r\n"
    (item,) = read_all(CSVReader(), data.encode(), "in.csv")
    assert isinstance(item, Rejected) and "more cells" in item.errors[0].reason


def test_geojson_point_gives_the_location() -> None:
    props = observation_dict(1)
    loc = props.pop("location")
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [loc["lon"], loc["lat"]]},
        "properties": props | {"location": {"error": loc["error"]}},
    }
    doc = {
        "type": "FeatureCollection",
        "features": [feature, {"type": "Feature", "geometry": None, "properties": {}}],
    }
    items = read_all(GeoJSONReader(), json.dumps(doc).encode(), "in.geojson")
    assert isinstance(items[0], Parsed)
    assert items[0].observation == observation_adapter.validate_json(json.dumps(observation_dict(1)))
    assert isinstance(items[1], Rejected) and items[1].record == "in.geojson:features[1]"


def test_formats_are_sniffed_without_extensions() -> None:
    assert reader_for("x", observation_line(1).encode()).name == "ndjson"
    assert reader_for("x", b"kind,key,participant\n").name == "csv"
    assert reader_for("x", b'{"type": "FeatureCollection", "features": []}').name == "geojson"
    with pytest.raises(UsageError, match="cannot tell the format"):
        reader_for("x", b"\x89PNG\r\n")


def checks(**kw: Any) -> ContextChecks:
    return ContextChecks(participants=PARTICIPANTS, now=NOW, **kw)


def _obs(**over: Any) -> Any:
    return observation_adapter.validate_json(json.dumps(observation_dict(1, **over)))


def test_unknown_participant_is_named() -> None:
    err = checks().check("f:1", _obs(participant="XYZ"))
    assert err is not None and err.field == "participant" and "'XYZ'" in err.reason


def test_unknown_recipient_in_markings_is_named() -> None:
    err = checks().check(
        "f:1", _obs(markings={"tlp": "amber", "originator": "USA", "releasable_to": ["GBR", "ZZZ"]})
    )
    assert err is not None and err.field == "markings.releasable_to.1"


def test_unknown_accused_party_in_a_claim_is_named() -> None:
    err = checks().check("f:1", _obs(kind="claim", accused="NOPE"))
    assert err is not None and err.field == "accused"


def test_time_beyond_the_future_tolerance_is_rejected() -> None:
    ahead = (NOW + timedelta(minutes=30)).isoformat()
    err = checks().check("f:1", _obs(time=ahead))
    assert err is not None and err.field == "time" and "future" in err.reason
    within = (NOW + timedelta(minutes=5)).isoformat()
    assert checks().check("f:1", _obs(time=within)) is None


def test_ingest_stores_the_good_and_names_every_bad_record(tmp_path: Path) -> None:
    lines = [observation_line(i) for i in range(10)]
    lines[3] = lines[3].replace('"participant": "USA"', '"participant": "XYZ"')
    lines[7] = "{not json"
    path = tmp_path / "day.ndjson"
    path.write_text("\n".join(lines) + "\n")
    store = MemoryStore()
    rejects: list[Rejected] = []
    acks: list[tuple[str, int]] = []
    report = ingest_paths(
        [str(path)],
        store,
        checks(),
        batch_size=4,
        on_reject=rejects.append,
        on_ack=lambda n, p: acks.append((n, p)),
    )
    assert (report.read, report.stored, report.rejected) == (10, 8, 2)
    assert [r.record for r in rejects] == [f"{path}:4", f"{path}:8"]
    assert rejects[0].errors[0].field == "participant"
    assert store.max_seq() == 8
    assert acks[-1] == (str(path), 10)
    again = ingest_paths([str(path)], store, checks(), on_reject=lambda r: None)
    assert (again.stored, again.duplicates, again.rejected) == (0, 8, 2)


def test_missing_input_file_is_a_usage_error_and_nothing_is_read(tmp_path: Path) -> None:
    good = tmp_path / "a.ndjson"
    good.write_text(observation_line(1) + "\n")
    store = MemoryStore()
    with pytest.raises(UsageError, match="no such file"):
        ingest_paths([str(good), str(tmp_path / "missing.ndjson")], store, checks())
    assert store.max_seq() == 0
