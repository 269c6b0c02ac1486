"""``truceline process --follow`` beside an ingest: every report is processed, in more than one
round, and the records are those one ``process`` over the same reports derives."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from truceline.agreement import default_agreement
from truceline.ingest import ContextChecks, ingest_paths
from truceline.pipeline import PROCESS_CURSOR, FollowReport, cursor_name, follow, process
from truceline.sim import scenario
from truceline.sim import simulate as run_simulation
from truceline.store import MemoryStore, SQLiteStore

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small simulated run's reports, cut in two files in arrival order."""
    out = tmp_path_factory.mktemp("sim")
    run_simulation(scenario("default", days=2, scale=0.003, seed=11), out)
    lines = (out / "observations.ndjson").read_text().splitlines(keepends=True)
    first, second = out / "first.ndjson", out / "second.ndjson"
    first.write_text("".join(lines[: len(lines) // 2]))
    second.write_text("".join(lines[len(lines) // 2 :]))
    return first, second


def _ingest(path: Path, db: Path) -> int:
    store = SQLiteStore(db)
    try:
        checks = ContextChecks(frozenset(default_agreement().participant_ids()), NOW)
        return ingest_paths([str(path)], store, checks).stored
    finally:
        store.close()


def _derived(db: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return {(str(t), str(i)) for t, i in conn.execute("SELECT type, id FROM records")}


def _cursor_and_max(db: Path, cursors: list[str]) -> tuple[int, int]:
    store = SQLiteStore(db)
    try:
        return min(store.get_cursor(name) for name in cursors), store.max_seq()
    finally:
        store.close()


@pytest.mark.parametrize("groups", [[None], [["fuse"], ["attribute", "verify", "assess", "act"]]], ids=["one", "split"])
def test_follow_processes_what_arrives_while_it_runs(
    groups: list[list[str] | None], halves: tuple[Path, Path], tmp_path: Path
) -> None:
    """One follower of every stage, or fuse and the rest in two (as server mode deploys them)."""
    db = tmp_path / "follow.db"
    assert _ingest(halves[0], db) > 0
    env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(tmp_path / "ledger.key")}
    procs = []
    for stages in groups:
        cmd = [sys.executable, "-m", "truceline", "process", "--db", str(db), "--follow", "--interval", "0.1"]
        if stages is not None:
            cmd += ["--stages", ",".join(stages)]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env))
    cursors = [cursor_name(stages) for stages in groups]
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # the first half is processed before the second arrives
            cursor, top = _cursor_and_max(db, cursors)
            if cursor == top:
                break
            assert all(p.poll() is None for p in procs), [p.communicate()[0] for p in procs]
            time.sleep(0.2)
        assert _ingest(halves[1], db) > 0
        while time.monotonic() < deadline:
            cursor, top = _cursor_and_max(db, cursors)
            if cursor == top:
                break
            assert all(p.poll() is None for p in procs), [p.communicate()[0] for p in procs]
            time.sleep(0.2)
        assert cursor == top
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)  # asks it to stop after the round; it exits cleanly
        outs = [proc.communicate(timeout=120)[0] for proc in procs]
    for proc, out in zip(procs, outs, strict=True):
        assert proc.returncode == 0, out
        assert "followed for" in out
    rounds = [line for line in outs[0].splitlines() if " #" in line and " new in " in line]  # "HH:MM:SS.mmm #a…#b: …"
    assert len(rounds) >= 2, outs[0]

    once = tmp_path / "once.db"
    _ingest(halves[0], once)
    _ingest(halves[1], once)
    store = SQLiteStore(once)
    try:
        process(store)
    finally:
        store.close()
    # Rounds derive what one run over everything derives: nothing more (no incident counted twice
    # under another id) and nearly nothing less. Known gap (issue 4): a blast whose picks straddle
    # two rounds is now and then not associated at all, and its incident and cease-fire finding
    # are missing; at most 1 % of the incidents here.
    derived, whole = _derived(db), _derived(once)
    assert derived <= whole, derived - whole
    incidents = sum(1 for t, _ in whole if t == "incident")
    missing = whole - derived
    assert sum(1 for t, _ in missing if t == "incident") <= max(1, incidents // 100), missing
    assert {t for t, _ in missing} <= {"incident", "finding"}, missing


def test_a_stage_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from truceline.cli import app

    db = tmp_path / "x.db"
    SQLiteStore(db).close()
    result = CliRunner().invoke(app, ["process", "--db", str(db), "--stages", "fuse,fusion"])
    assert result.exit_code != 0
    assert "fusion" in result.output and "attribute" in result.output


def test_some_stages_keep_their_own_cursor(halves: tuple[Path, Path], tmp_path: Path) -> None:
    db = tmp_path / "some.db"
    _ingest(halves[0], db)
    store = SQLiteStore(db)
    try:
        done = process(store, stages=["fuse"])
        assert done.stages_run == ("fuse",)
        assert store.get_cursor(cursor_name(["fuse"])) == store.max_seq()
        assert store.get_cursor(PROCESS_CURSOR) == 0  # the whole pipeline has not run
        again = process(store, stages=["fuse"])
        assert again.new_observations == 0 and again.stages_run == ()
        rest = process(store, stages=["act", "attribute", "verify", "assess"])
        assert rest.stages_run == ("attribute", "verify", "assess", "act")
    finally:
        store.close()


def test_follow_stops_when_idle_and_counts_only_rounds_with_news() -> None:
    store = MemoryStore()
    now = [0.0]
    seen: list[int] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    report = follow(
        store, interval=0.5, idle_exit=2.0, clock=lambda: now[0], sleep=sleep,
        on_round=lambda done, took: seen.append(done.new_observations),
    )  # fmt: skip
    assert isinstance(report, FollowReport)
    assert report.rounds == 0 and seen == []
    assert report.seconds >= 2.0


def test_follow_paces_rounds_that_found_news(halves: tuple[Path, Path], tmp_path: Path) -> None:
    db = tmp_path / "paced.db"
    _ingest(halves[0], db)
    store = SQLiteStore(db)
    now = [0.0]
    slept: list[float] = []
    asked = [0]

    def should_stop() -> bool:
        asked[0] += 1
        return asked[0] > 2

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    try:
        report = follow(store, pace=5.0, stages=["assess"], should_stop=should_stop, clock=lambda: now[0], sleep=sleep)
    finally:
        store.close()
    # Round 1 found the reports and took no (fake) time: the next starts 5 s later; round 2 found
    # nothing and waited the idle interval.
    assert report.rounds == 1
    assert slept == [5.0, 0.25]


def test_follow_asks_before_each_round() -> None:
    asked = [0]

    def should_stop() -> bool:
        asked[0] += 1
        return asked[0] > 3

    report = follow(MemoryStore(), interval=0.01, should_stop=should_stop, sleep=lambda s: None)
    assert asked[0] == 4 and report.rounds == 0


def test_idle_exit_without_follow_is_a_usage_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from truceline.cli import app

    db = tmp_path / "x.db"
    SQLiteStore(db).close()
    result = CliRunner().invoke(app, ["process", "--db", str(db), "--idle-exit", "1"])
    assert result.exit_code != 0
    assert "--follow" in result.output


def test_round_gate_runs_on_its_kinds_on_new_records_and_on_the_heartbeat() -> None:
    from collections import Counter

    from truceline.model import Participant
    from truceline.pipeline import RoundGate

    store = MemoryStore()
    now = [0.0]
    claims = RoundGate(store, ("attribute", "verify", "act"), heartbeat=10.0, clock=lambda: now[0])
    picks_only = Counter({"acoustic_arrival": 500})
    assert claims(picks_only)  # the first round always runs
    now[0] = 1.0
    assert not claims(picks_only)  # nothing it reads arrived, no record was written
    assert claims(Counter({"acoustic_arrival": 5, "claim": 1}))
    now[0] = 2.0
    store.put_record(Participant(id="USA", name="United States"))  # another stage wrote
    assert claims(picks_only)
    assert not claims(picks_only)
    now[0] = 12.5
    assert claims(picks_only)  # the heartbeat: time-driven work (claims ripening, overdue tasks)
    assert claims.skipped == 2

    fuse = RoundGate(store, ("fuse",), clock=lambda: now[0])
    assert fuse(picks_only)
    store.put_record(Participant(id="GBR", name="United Kingdom"))
    assert not fuse(Counter({"claim": 3}))  # fuse reads no records and no claims
    everything = RoundGate(store, ("fuse", "attribute", "verify", "assess", "act"), clock=lambda: now[0])
    assert everything(picks_only) and everything(picks_only)  # fuse reads the picks


def test_a_follower_that_passed_windows_over_writes_its_cursor_when_the_feed_pauses(
    halves: tuple[Path, Path], tmp_path: Path
) -> None:
    """Windows with nothing for act move the follower in memory; once the feed pauses the cursor
    is written, not only on a later window (a watcher waiting for the pipeline to catch up
    otherwise waits for ever)."""
    db = tmp_path / "paused.db"
    _ingest(halves[0], db)
    lines = halves[1].read_text().splitlines(keepends=True)
    parts = [tmp_path / "a.ndjson", tmp_path / "b.ndjson"]
    parts[0].write_text("".join(lines[: len(lines) // 2]))
    parts[1].write_text("".join(lines[len(lines) // 2 :]))
    store = SQLiteStore(db)
    now = [0.0]
    asked = [0]
    seen: list[tuple[int, int]] = []

    def should_stop() -> bool:
        asked[0] += 1
        if asked[0] in (2, 3):
            _ingest(parts[asked[0] - 2], db)
        if asked[0] == 5:  # after two windows and a look that found nothing
            seen.append((store.get_cursor(cursor_name(["act"])), store.max_seq()))
        return asked[0] >= 5

    def sleep(seconds: float) -> None:
        now[0] += seconds

    try:
        report = follow(store, stages=["act"], should_stop=should_stop, clock=lambda: now[0], sleep=sleep)
    finally:
        store.close()
    assert report.passed_over >= 1
    cursor, top = seen[0]
    assert cursor == top > 0
