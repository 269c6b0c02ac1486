"""The (not yet registered) ``attribute`` and ``claims`` commands, in-process on a SQLite store."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from PIL import Image
from typer.testing import CliRunner

from truceline.cli.attribute_cmd import attribute, claims
from truceline.model import CreationInfo, ErrorEllipse, Incident, Location, Markings, ObservationRef, Origin
from truceline.store import open_store

runner = CliRunner()
app = typer.Typer()
app.command()(attribute)
app.command()(claims)

T = datetime(2026, 9, 5, 14, 30, tzinfo=UTC)


def test_attribute_then_claims_lists_the_verdict_and_its_reasons(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    # A photo taken two days before the claimed shelling, beside the database (the default media root).
    (tmp_path / "media").mkdir()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = (T - timedelta(days=2)).strftime("%Y:%m:%d %H:%M:%S")
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 130, 140)).save(buf, "JPEG", exif=exif.tobytes())
    (tmp_path / "media" / "p.jpg").write_bytes(buf.getvalue())
    store = open_store(db)
    try:
        ci = CreationInfo(agent="test", created=T)
        origin = Origin(
            id="o1",
            location=Location(lon=37.80, lat=48.00, error=ErrorEllipse(semi_major_m=100, semi_minor_m=50)),
            time=T - timedelta(hours=3),
            method="test",
            creation_info=ci,
        )
        store.put_records(
            [
                Incident(
                    id="inc-1",
                    start=origin.time,
                    end=origin.time,
                    observations=(ObservationRef(participant="USA", source="ac-1", key="1"),),
                    origins=(origin,),
                    preferred_origin_id="o1",
                    markings=Markings(tlp="green", originator="USA"),
                    creation_info=ci,
                )
            ]
        )
        line = (
            '{"kind":"claim","key":"c-9","participant":"RUS","source":"mod-press-RUS","time":"2026-09-05T20:00:00Z",'
            '"markings":{"tlp":"clear","originator":"RUS"},"claimant":"RUS","accused":"UKR","claim_kind":"shelling",'
            '"claimed_time":"2026-09-05T14:30:00Z","place_name":"Makiivka",'
            '"media":[{"uri":"media/p.jpg","media_type":"image/jpeg"}]}\n'
        )
        from truceline.agreement import default_agreement
        from truceline.ingest import ContextChecks, ingest_paths

        (tmp_path / "c.ndjson").write_text(line)
        ag = default_agreement()
        ingest_paths(
            [str(tmp_path / "c.ndjson")], store, ContextChecks(frozenset(ag.participant_ids()), T + timedelta(days=1))
        )
    finally:
        store.close()
    first = runner.invoke(app, ["attribute", "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert "attributed" in first.output and "claims" in first.output
    listed = runner.invoke(app, ["claims", "--db", str(db), "--reasons"])
    assert listed.exit_code == 0, listed.output
    assert "staging:RUS:mod-press-RUS:c-9" in listed.output
    assert "media_predates" in listed.output and "predates the claimed time by 48.0 h" in listed.output
    missing = runner.invoke(app, ["claims", "--db", str(tmp_path / "nope.db")])
    assert missing.exit_code == 2 and "no such database" in missing.output
