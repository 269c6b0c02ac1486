"""Alembic migrations of the PostgreSQL store, against a real PostgreSQL.

A fresh database goes to the head revision on open; a database at revision 1 holding data (and
one made before Alembic, by the store's earlier mechanism) is upgraded in place, its new markings
columns filled from the stored bytes, its ledger intact; a database from a newer Truceline is
refused, untouched.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import NOW, fresh_postgres_database, observation_dict
from truceline.ledger import LedgerKey
from truceline.model import (
    CreationInfo,
    FixedClock,
    Incident,
    Markings,
    ObservationRef,
    Participant,
    SchemaVersionError,
    observation_adapter,
)
from truceline.store import PreparedObservation
from truceline.store._common import source_hours_of
from truceline.store._postgres_schema import current_revision, head_revision, upgrade
from truceline.store.postgres import PostgresStore

HOURS = (NOW - timedelta(hours=7), NOW)  # the whole hours around every report of these tests

MARKINGS = (
    Markings(tlp="clear", originator="USA"),
    Markings(tlp="green", originator="UKR", sharing_group="G-AIR"),
    Markings(tlp="amber", originator="USA", releasable_to=("GBR", "UKR")),
    Markings(tlp="amber+strict", originator="GBR", releasable_to=("USA",), sharing_group="G-SIGINT"),
    Markings(tlp="red", originator="FRA", releasable_to=("DEU",)),
)


def prepared(i: int, m: Markings) -> PreparedObservation:
    body = json.dumps(observation_dict(i, markings=m.model_dump(mode="json", exclude_none=True))).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)


def incident(record_id: str, m: Markings) -> Incident:
    return Incident(
        id=record_id,
        start=NOW,
        end=NOW + timedelta(seconds=5),
        observations=(ObservationRef(participant="USA", source="ac-017", key=record_id),),
        markings=m,
        creation_info=CreationInfo(agent="test", created=NOW),
    )


def columns(url: str, table: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))
        return {r[0] for r in rows}


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def fill_at_revision_1(url: str, key: LedgerKey) -> None:
    """Data written by the store into a database at revision 1: observations, incidents (two
    versions of one) and a record with no markings at all."""
    upgrade(url, "0001")
    store = PostgresStore(url, clock=FixedClock(NOW), key=key, migrate=False)
    try:
        store.add_observations([prepared(i, m) for i, m in enumerate(MARKINGS)])
        store.add_observations([prepared(10 + i, m) for i, m in enumerate(MARKINGS)])
        store.put_records([incident(f"INC-{i}", m) for i, m in enumerate(MARKINGS)])
        store.put_record(incident("INC-0", MARKINGS[4]))  # v2 of INC-0, now RED
        store.put_record(Participant(id="USA", name="United States"))
    finally:
        store.close()
    assert current_revision(url) == "0001"
    assert "originator" not in columns(url, "observations") and "tlp" not in columns(url, "records")


def check_upgraded(url: str, key: LedgerKey) -> None:
    store = PostgresStore(url, clock=FixedClock(NOW), key=key)
    try:
        assert current_revision(url) == head_revision() == "0006"
        # Back-filled from the bodies: every observation's and every record's markings, as columns.
        for body, tlp, originator, to, group in query(
            url, "SELECT body, tlp, originator, releasable_to, sharing_group FROM observations ORDER BY seq"
        ):
            m = json.loads(bytes(body))["markings"]
            assert (tlp, originator, to, group) == (
                m["tlp"],
                m["originator"],
                m.get("releasable_to", []),
                m.get("sharing_group"),
            )
        rows = query(url, "SELECT type, id, version, tlp, originator, releasable_to, sharing_group FROM records")
        got = {(t, i, v): rest for t, i, v, *rest in rows}
        for i, m in enumerate(MARKINGS):
            assert got[("incident", f"INC-{i}", 1)] == [m.tlp, m.originator, list(m.releasable_to), m.sharing_group]
        assert got[("incident", "INC-0", 2)] == ["red", "FRA", ["DEU"], None]
        assert got[("participant", "USA", 1)] == [None, None, [], None]  # no markings: no reader sees it
        assert store.verify_ledger().ok  # the ledger went through the upgrade untouched
        # Row-level security holds on the old rows.
        with store.reading_as("GBR"):
            assert [s.observation.key for s in store.observations()] == [
                "acoustic_arrival-0000000",
                "acoustic_arrival-0000002",
                "acoustic_arrival-0000010",
                "acoustic_arrival-0000012",
            ]
            assert [r.id for r in store.records("incident")] == ["INC-2"]  # INC-0's newest version is RED
            assert store.get_record("participant", "USA") is None
            # A participant's source_hours counts only what it may read (the reports, not the summary).
            visible = list(store.observations())
            assert store.source_hours("acoustic_arrival", *HOURS) == source_hours_of(
                visible, "acoustic_arrival", *HOURS
            )
            assert sum(a.count for a in store.source_hours("acoustic_arrival", *HOURS)) == 4
        # The summary (revision 0006) takes in the reports stored before it existed.
        everything = list(store.observations())
        assert store.source_hours("acoustic_arrival", *HOURS) == source_hours_of(everything, "acoustic_arrival", *HOURS)
        assert sum(a.count for a in store.source_hours("acoustic_arrival", *HOURS)) == 10
        # And the store goes on writing where it left off.
        assert store.add_observations([prepared(20, MARKINGS[2])]).seqs == (11,)
        assert sum(a.count for a in store.source_hours("acoustic_arrival", *HOURS)) == 11
        assert store.put_record(incident("INC-9", MARKINGS[0])).seq == 8
        assert store.verify_ledger().ok
    finally:
        store.close()


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_postgres_database() as u:
        yield u


def test_a_fresh_database_goes_to_head(url: str) -> None:
    assert current_revision(url) is None
    PostgresStore(url, key=LedgerKey.generate()).close()
    assert current_revision(url) == head_revision() == "0006"
    assert {"originator", "releasable_to"} <= columns(url, "observations")
    assert {"tlp", "originator", "releasable_to", "sharing_group"} <= columns(url, "records")
    assert query(
        url,
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relname IN ('observations', 'records') ORDER BY relname",
    ) == [("observations", True, True), ("records", True, True)]
    # The pre-Alembic version table says 6, so a Truceline older than Alembic refuses the database.
    assert query(url, "SELECT max(version) FROM truceline_schema") == [(6,)]
    PostgresStore(url, key=LedgerKey.generate()).close()  # opening again changes nothing
    assert query(url, "SELECT version_num FROM alembic_version") == [("0006",)]


def test_a_database_at_revision_1_with_data_upgrades_to_head_with_markings_back_filled(url: str) -> None:
    key = LedgerKey.generate()
    fill_at_revision_1(url, key)
    check_upgraded(url, key)


def test_a_database_made_before_alembic_is_stamped_and_upgraded(url: str) -> None:
    key = LedgerKey.generate()
    fill_at_revision_1(url, key)
    # What the earlier mechanism left: revision 1's tables and truceline_schema at version 1, and
    # no Alembic version table.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE alembic_version")
    assert current_revision(url) is None
    assert query(url, "SELECT version FROM truceline_schema") == [(1,)]
    check_upgraded(url, key)


def test_a_database_from_a_newer_truceline_is_refused_untouched(url: str) -> None:
    PostgresStore(url, key=LedgerKey.generate()).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(SchemaVersionError, match="0099 is newer"):
        PostgresStore(url, key=LedgerKey.generate())
    assert query(url, "SELECT version_num FROM alembic_version") == [("0099",)]


def test_stores_opening_a_fresh_database_together_upgrade_it_once(url: str) -> None:
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            PostgresStore(url, key=LedgerKey.generate()).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert query(url, "SELECT version_num FROM alembic_version") == [("0006",)]
    assert query(url, "SELECT version FROM truceline_schema ORDER BY version") == [(1,), (2,), (3,), (4,), (5,), (6,)]


def test_processes_opening_a_fresh_database_together_upgrade_it_once(url: str, tmp_path: Path) -> None:
    # As workers starting on several hosts do: the advisory lock, not the in-process one, decides.
    script = (
        "import sys\n"
        "from truceline.ledger import LedgerKey\n"
        "from truceline.store.postgres import PostgresStore\n"
        "PostgresStore(sys.argv[1], key=LedgerKey.generate()).close()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, url], stderr=subprocess.PIPE, cwd=tmp_path) for _ in range(3)
    ]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert query(url, "SELECT version_num FROM alembic_version") == [("0006",)]
    assert query(url, "SELECT version FROM truceline_schema ORDER BY version") == [(1,), (2,), (3,), (4,), (5,), (6,)]
