"""The CLI in-process: exit statuses, messages a user can act on, and documented help."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import observation_dict, observation_line
from truceline.cli import app

runner = CliRunner()


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ingest_of_valid_records_exits_zero_and_is_idempotent(tmp_path: Path) -> None:
    src = write(tmp_path / "a.ndjson", [observation_line(i) for i in range(20)])
    db = tmp_path / "t.db"
    first = runner.invoke(app, ["ingest", str(src), "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert "stored 20" in first.output
    again = runner.invoke(app, ["ingest", str(src), "--db", str(db)])
    assert again.exit_code == 0 and "stored 0, already stored 20" in again.output


def test_ingest_with_rejects_exits_three_names_each_and_stores_the_rest(tmp_path: Path) -> None:
    bad_lat = observation_dict(2)
    bad_lat["location"]["lat"] = 135
    lines = [
        observation_line(1),
        json.dumps(bad_lat),
        observation_line(3, time=1700000000),
        "{oops",
        observation_line(4),
    ]
    src = write(tmp_path / "b.ndjson", lines)
    db = tmp_path / "t.db"
    result = runner.invoke(app, ["ingest", str(src), "--db", str(db)])
    assert result.exit_code == 3, result.output
    assert f"{src}:2: location.lat: " in result.output
    assert f"{src}:3: time: " in result.output
    assert f"{src}:4: " in result.output
    rejects = [json.loads(x) for x in Path(f"{db}.rejects.ndjson").read_text().splitlines()]
    assert [r["record"] for r in rejects] == [f"{src}:2", f"{src}:3", f"{src}:4"]
    assert rejects[0]["field"] == "location.lat" and rejects[0]["input"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 2


def test_ingest_of_a_missing_file_exits_two(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope.ndjson"), "--db", str(tmp_path / "t.db")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_ingest_reads_stdin(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    result = runner.invoke(app, ["ingest", "-", "--db", str(db)], input=observation_line(1) + "\n")
    assert result.exit_code == 0, result.output and "stored 1" in result.output


def test_ledger_verify_passes_then_names_a_tampered_record(tmp_path: Path) -> None:
    src = write(tmp_path / "a.ndjson", [observation_line(i) for i in range(30)])
    db = tmp_path / "t.db"
    assert runner.invoke(app, ["ingest", str(src), "--db", str(db), "--batch-size", "7"]).exit_code == 0
    ok = runner.invoke(app, ["ledger", "verify", "--db", str(db)])
    assert ok.exit_code == 0, ok.output
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE observations SET body = CAST(replace(CAST(body AS TEXT), '14.0', '14.5') AS BLOB) WHERE seq = 9"
        )
    bad = runner.invoke(app, ["ledger", "verify", "--db", str(db)])
    assert bad.exit_code == 1
    assert "observation #9 (USA/ac-017/acoustic_arrival-0000008)" in bad.output


def test_a_damaged_tree_head_is_one_clear_line_for_head_and_prove(tmp_path: Path) -> None:
    src = write(tmp_path / "a.ndjson", [observation_line(i) for i in range(5)])
    db = tmp_path / "t.db"
    assert runner.invoke(app, ["ingest", str(src), "--db", str(db)]).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE tree_heads SET body = replace(body, '\"timestamp_ms\": ', '\"timestamp_ms\": 1e72, \"x\": ')"
        )
    for args in (["ledger", "head"], ["ledger", "prove", "1"]):
        result = runner.invoke(app, [*args, "--db", str(db)])
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "tree head of the observations log cannot be read" in result.output, result.output
        assert "Traceback" not in result.output


def test_ledger_prove_prints_a_verified_inclusion_proof(tmp_path: Path) -> None:
    src = write(tmp_path / "a.ndjson", [observation_line(i) for i in range(11)])
    db = tmp_path / "t.db"
    runner.invoke(app, ["ingest", str(src), "--db", str(db)])
    result = runner.invoke(app, ["ledger", "prove", "5", "--db", str(db)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["verified"] is True and doc["tree_size"] == 11 and doc["leaf_index"] == 4


def test_commands_on_a_missing_database_say_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ledger", "verify", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "no such database" in result.output


def test_process_is_incremental(tmp_path: Path) -> None:
    src = write(tmp_path / "a.ndjson", [observation_line(i) for i in range(5)])
    db = tmp_path / "t.db"
    runner.invoke(app, ["ingest", str(src), "--db", str(db)])
    first = runner.invoke(app, ["process", "--db", str(db)])
    assert first.exit_code == 0 and "acoustic_arrival 5" in first.output
    second = runner.invoke(app, ["process", "--db", str(db)])
    assert second.exit_code == 0 and "nothing new" in second.output


def test_agreement_check_names_the_field_of_a_typo(tmp_path: Path) -> None:
    from truceline.agreement import DEFAULT_AGREEMENT_PATH

    text = Path(DEFAULT_AGREEMENT_PATH).read_text()
    broken = tmp_path / "agreement.yaml"
    # Copy the geodata references by resolving them relative to the original file.
    for ref in Path(DEFAULT_AGREEMENT_PATH).parent.glob("*.geojson"):
        (tmp_path / ref.name).write_bytes(ref.read_bytes())
    broken.write_text(text.replace("reassurance_force:", "reassurance_forse:", 1))
    result = runner.invoke(app, ["agreement", "check", str(broken)])
    assert result.exit_code == 2
    assert str(broken) in result.output and "reassurance_for" in result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["ingest"],
        ["process"],
        ["demo"],
        ["ledger"],
        ["ledger", "verify"],
        ["ledger", "head"],
        ["ledger", "prove"],
        ["agreement"],
        ["agreement", "show"],
        ["agreement", "check"],
        ["simulate"],
        ["evaluate"],
        ["coalition"],
        ["forceplan"],
    ],
)
def test_every_command_explains_itself(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output) > 200


def test_demo_runs_end_to_end_and_catches_the_flipped_byte(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--no-serve", "--days", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "0 rejected" in result.output
    assert "nothing stored twice" in result.output
    assert "appears twice in one JSON object" in result.output
    assert ": verified" in result.output
    assert "ledger verify: FAILED — observation #" in result.output
    assert "stored bytes do not match their ledger leaf hash" in result.output
    # The run is simulated with its truth beside it, scored at the end, and drawn.
    assert (out / "run" / "truth.json").is_file() and (out / "simulated-run.png").stat().st_size > 10_000
    assert "true firing events; stored" in result.output
