"""``truceline exercise`` runs a scenario through simulate → ingest → every stage → the playbook."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from truceline.cli import app


def test_exercise_runs_the_whole_pipeline_and_prints_the_timeline(tmp_path: Path) -> None:
    out = tmp_path / "ex"
    result = CliRunner().invoke(
        app, ["exercise", "--scenario", "default", "--days", "2", "--scale", "0.003", "--seed", "7", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for stage in ("fuse:", "attribute:", "verify:", "assess:", "act:"):
        assert stage in result.output, result.output
    assert "timeline entries" in result.output and "ground truth:" in result.output
    with sqlite3.connect(out / "exercise.db") as conn:
        (incidents,) = conn.execute("SELECT count(*) FROM records WHERE type = 'incident'").fetchone()
    assert incidents > 0
