"""Review actions keep the automatic solution and record who and why; bulletins are staged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from truceline.fuse import accept, bulletin, merge, reject, split
from truceline.model import (
    CreationInfo,
    ErrorEllipse,
    Incident,
    Location,
    Markings,
    ObservationRef,
    Origin,
    UsageError,
)
from truceline.store import MemoryStore

T = datetime(2026, 9, 1, 12, tzinfo=UTC)


def _incident(n: int, refs: tuple[ObservationRef, ...]) -> Incident:
    info = CreationInfo(agent="truceline.fuse", created=T + timedelta(seconds=5))
    origin = Origin(
        id=f"inc-{n}/tdoa",
        location=Location(lat=48.0, lon=37.0 + n / 100, error=ErrorEllipse(semi_major_m=10.0, semi_minor_m=5.0)),
        time=T,
        method="tdoa",
        n_observations=len(refs),
        creation_info=info,
    )
    return Incident(
        id=f"inc-{n}",
        start=T,
        end=T + timedelta(seconds=30),
        observations=refs,
        origins=(origin,),
        preferred_origin_id=origin.id,
        markings=Markings(tlp="green", originator="MVM"),
        creation_info=info,
    )


def _refs(*keys: str) -> tuple[ObservationRef, ...]:
    return tuple(ObservationRef(participant="USA", source="ac-1", key=k) for k in keys)


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.put_records([_incident(1, _refs("a", "b", "c")), _incident(2, _refs("d", "e"))], type="incident")
    return s


def test_accept_adds_a_manual_origin_and_keeps_the_automatic_one(store: MemoryStore) -> None:
    new = accept(store, "inc-1", analyst="analyst-7", why="clear signal on 9 arrays", when=T + timedelta(hours=1))
    assert new.evaluation_status == "reviewed"
    assert new.creation_info.mode == "manual" and new.creation_info.agent == "analyst-7"
    assert new.creation_info.note == "clear signal on 9 arrays"
    assert {o.id for o in new.origins} == {"inc-1/tdoa", "inc-1/reviewed"}
    assert new.preferred_origin_id == "inc-1/reviewed"
    history = store.record_history("incident", "inc-1")
    assert len(history) == 2 and history[0].record.evaluation_status == "preliminary"  # type: ignore[attr-defined]


def test_reject_merge_and_split_record_their_reasons(store: MemoryStore) -> None:
    when = T + timedelta(hours=2)
    assert reject(store, "inc-2", analyst="a", why="thunder", when=when).evaluation_status == "rejected"
    merged, gone = merge(store, "inc-1", "inc-2", analyst="a", why="one blast", when=when)
    assert len(merged.observations) == 5 and gone.evaluation_status == "rejected"
    assert "merged into inc-1" in gone.creation_info.note
    kept, new = split(store, "inc-1", _refs("d", "e"), analyst="a", why="two blasts", when=when)
    assert {r.key for r in kept.observations} == {"a", "b", "c"}
    assert {r.key for r in new.observations} == {"d", "e"}
    assert kept.preferred_origin_id is None and kept.origins  # the machine's origins remain, unpreferred
    with pytest.raises(UsageError):
        reject(store, "inc-1", analyst="a", why=" ", when=when)
    with pytest.raises(UsageError):
        split(store, "inc-1", _refs("zz"), analyst="a", why="x", when=when)


def test_bulletins_are_staged_automatic_then_reviewed(store: MemoryStore) -> None:
    auto = bulletin(store, "automatic", issued=T + timedelta(minutes=1))
    assert len(auto.entries) == 2
    assert len(bulletin(store, "reviewed", issued=T).entries) == 0
    accept(store, "inc-1", analyst="a", why="ok", when=T + timedelta(hours=1))
    reviewed = bulletin(store, "reviewed", issued=T + timedelta(hours=1))
    assert [e.incident.id for e in reviewed.entries] == ["inc-1"]
    assert reviewed.entries[0].latency_s is None  # its reports are not in this store


def test_cli_review_accepts_and_shows_history(tmp_path: pytest.TempPathFactory) -> None:
    import typer
    from typer.testing import CliRunner

    from truceline.cli import fuse_cmd
    from truceline.store import open_store

    db = str(tmp_path / "t.db")  # type: ignore[operator]
    s = open_store(db)
    s.put_records([_incident(1, _refs("a", "b", "c"))], type="incident")
    s.close()
    cli = typer.Typer()
    cli.add_typer(fuse_cmd.app, name="incidents")
    runner = CliRunner()
    done = runner.invoke(cli, ["incidents", "review", "inc-1", "accept", "--analyst", "a7", "--why", "ok", "--db", db])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(cli, ["incidents", "show", "inc-1", "--db", db])
    assert shown.exit_code == 0 and '"mode": "manual"' in shown.output
    listed = runner.invoke(cli, ["incidents", "list", "--db", db])
    assert "inc-1" in listed.output
    bad = runner.invoke(cli, ["incidents", "review", "inc-1", "merge", "--analyst", "a", "--why", "x", "--db", db])
    assert bad.exit_code == 2
