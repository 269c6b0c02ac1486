"""The demo's tamper step flips a byte of a stored report, with or without a weapon sighting in the run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from truceline.agreement import default_agreement
from truceline.cli.demo_cmd import _flip_a_byte
from truceline.ingest import ContextChecks, ingest_paths
from truceline.store import SQLiteStore

MET = {
    "kind": "met_observation", "key": "000-00", "participant": "MVM", "source": "wx-000", "reliability": "A",
    "credibility": 1, "time": "2026-09-01T00:00:00Z", "time_error_s": 30.0,
    "location": {"lat": 46.61526, "lon": 32.193157, "error": {"semi_major_m": 10.0, "semi_minor_m": 10.0}},
    "markings": {"tlp": "green", "originator": "MVM"}, "temperature_c": 12.8, "wind_speed_mps": 2.5,
    "wind_from_deg": 198.0, "relative_humidity": 0.63, "pressure_hpa": 1014.5,
}  # fmt: skip
WEAPON = {
    "kind": "weapon_sighting", "key": "patrol-MVM-11-000-w617", "participant": "MVM", "source": "patrol-MVM-11",
    "reliability": "B", "credibility": 2, "time": "2026-09-01T07:11:15Z", "time_error_s": 600.0,
    "location": {"lat": 51.045322, "lon": 34.912829, "error": {"semi_major_m": 400.0, "semi_minor_m": 400.0}},
    "markings": {"tlp": "green", "originator": "MVM"}, "weapon_class": "artillery_ge100", "count": 2,
    "observed_side": "UKR",
}  # fmt: skip


def _store(tmp_path: Path, reports: list[dict[str, object]]) -> tuple[Path, dict[str, int]]:
    """A database holding ``reports``; with the seq of each by key."""
    db = tmp_path / "truceline.db"
    store = SQLiteStore(db)
    try:
        if reports:
            path = tmp_path / "reports.ndjson"
            path.write_text("".join(json.dumps(r) + "\n" for r in reports))
            checks = ContextChecks(frozenset(default_agreement().participant_ids()), datetime.now(UTC))
            assert ingest_paths([str(path)], store, checks).rejected == 0
        seqs = {s.observation.key: s.seq for s in store.observations()}
    finally:
        store.close()
    return db, seqs


def _verify(db: Path) -> tuple[bool, str]:
    store = SQLiteStore(db)
    try:
        result = store.verify_ledger()
    finally:
        store.close()
    first = result.reports["observations"].first_error if result.reports else None
    return result.ok, str(first)


def test_a_run_without_weapon_sightings_flips_another_report(tmp_path: Path) -> None:
    db, seqs = _store(tmp_path, [MET])
    assert _verify(db)[0]
    victim = _flip_a_byte(db)
    assert victim == seqs[str(MET["key"])]
    ok, first = _verify(db)
    assert not ok and f"#{victim}" in first and "do not match their ledger leaf hash" in first


def test_a_weapon_sighting_is_flipped_first(tmp_path: Path) -> None:
    db, seqs = _store(tmp_path, [MET, WEAPON])
    victim = _flip_a_byte(db)
    assert victim == seqs[str(WEAPON["key"])]
    assert not _verify(db)[0]


def test_with_nothing_to_flip_the_file_is_left_alone(tmp_path: Path) -> None:
    db, _ = _store(tmp_path, [])
    assert _flip_a_byte(db) is None
    assert _verify(db)[0]
