"""A simulated run goes through ingest with no rejects; the pipeline never reads the truth; the
commands work end to end (simulate → ingest → process → evaluate)."""

from __future__ import annotations

import builtins
import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from truceline.agreement import default_agreement
from truceline.cli.sim_cmd import evaluate, simulate
from truceline.ingest import ContextChecks, ingest_paths
from truceline.pipeline import process
from truceline.sim import evaluate as score
from truceline.sim import load_truth, scenario
from truceline.sim import simulate as run_simulation
from truceline.store import SQLiteStore

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    run_simulation(scenario("default", days=2, scale=0.003, seed=5), out)
    return out


def _ingest_and_process(observations: Path, db: Path) -> dict[str, Any]:
    checks = ContextChecks(frozenset(default_agreement().participant_ids()), NOW)
    store = SQLiteStore(db)
    try:
        report = ingest_paths([str(observations)], store, checks, batch_size=2_000)
        processed = process(store, media_root=observations.parent)
        obs_head = store.tree_head("observations")
        return {
            "read": report.read,
            "stored": report.stored,
            "rejected": report.rejected,
            "observations_root": None if obs_head is None else obs_head.root_hash,
            "processed": dict(processed.by_kind),
            "stages": processed.stages_run,
            "stage_counts": {stage.name: stage.counts for stage in processed.stages},
            # Derived records carry their creation time, so the records ledger's root differs
            # between two runs; what each stage derived (types, ids, versions) must not.
            "records": _derived(db),
        }
    finally:
        store.close()


def _derived(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT type, id, version FROM records ORDER BY type, id, version").fetchall()
    return [(str(t), str(i), int(v)) for t, i, v in rows]


def test_a_simulated_run_ingests_with_no_rejects(run_dir: Path, tmp_path: Path) -> None:
    lines = (run_dir / "observations.ndjson").read_text().splitlines()
    result = _ingest_and_process(run_dir / "observations.ndjson", tmp_path / "t.db")
    assert result["rejected"] == 0
    assert (
        result["read"]
        == result["stored"]
        == len(lines)
        == load_truth(run_dir / "truth.json").doc["observations"]["total"]
    )


def test_the_pipeline_output_is_the_same_without_the_truth_and_never_opens_it(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_truth = _ingest_and_process(run_dir / "observations.ndjson", tmp_path / "a.db")
    blind = tmp_path / "blind"
    blind.mkdir()
    shutil.copy(run_dir / "observations.ndjson", blind / "observations.ndjson")
    shutil.copytree(run_dir / "media", blind / "media")
    real_open = builtins.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        assert not str(file).endswith("truth.json"), "the pipeline opened truth.json"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    without_truth = _ingest_and_process(blind / "observations.ndjson", tmp_path / "b.db")
    monkeypatch.undo()
    assert with_truth == without_truth
    assert with_truth["stages"] == ("fuse", "attribute", "verify", "assess", "act")
    assert with_truth["stage_counts"]["fuse"]["incidents"] > 0 and len(with_truth["records"]) > 0


runner = CliRunner()
app = typer.Typer()
app.command()(simulate)
app.command()(evaluate)


def test_simulate_ingest_process_evaluate_end_to_end_scores_every_stage(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = runner.invoke(
        app,
        [
            "simulate",
            "--out",
            str(out),
            "--days",
            "1",
            "--scale",
            "0.002",
            "--seed",
            "9",
            "--plot",
            str(tmp_path / "day.png"),
        ],
    )
    assert first.exit_code == 0, first.output
    assert "reports of" in first.output and (tmp_path / "day.png").stat().st_size > 10_000
    db = tmp_path / "t.db"
    _ingest_and_process(out / "observations.ndjson", db)
    result = runner.invoke(app, ["evaluate", "--truth", str(out / "truth.json"), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    # Every stage ran, so every section is scored (a section is absent, not zero, when its stage made nothing).
    for section in ("meta", "ingest", "association", "localization", "attribution", "verification"):
        assert section in doc, sorted(doc)
    assert doc["ingest"]["observations_stored"] == doc["ingest"]["observations_simulated"] > 1000
    assert doc["ingest"]["stored_share"] == 1.0
    table = runner.invoke(app, ["evaluate", "--truth", str(out / "truth.json"), "--db", str(db)])
    assert table.exit_code == 0 and "observations_stored" in table.output


def test_evaluate_scores_the_store_directly(run_dir: Path, tmp_path: Path) -> None:
    _ingest_and_process(run_dir / "observations.ndjson", tmp_path / "t.db")
    store = SQLiteStore(tmp_path / "t.db")
    try:
        doc = score(load_truth(run_dir / "truth.json"), store)
    finally:
        store.close()
    assert doc["meta"]["scenario"] == "default" and doc["meta"]["true_events"] > 100
    assert all(v["simulated"] == v["stored"] for v in doc["ingest"]["by_kind"].values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--truth", "nope/truth.json", "--db", "x.db"], "no such truth file"),
        (["simulate", "--out", "o", "--scenario", "doomsday"], "unknown scenario"),
        (["simulate", "--out", "o", "--start", "2099-01-01"], "earlier --start"),
        (["simulate", "--out", "o", "--start", "yesterday"], "not a date"),
    ],
)
def test_bad_arguments_exit_two_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.output, result.output
