"""Tamper evidence on the PostgreSQL store: injected faults are all caught by ``verify_ledger``.

The short run here makes 2 faults of every class of tests/prove/pg_tamper.py, each in a fresh copy
of one template database; ``tools/prove_pg_tamper.py`` runs 1,000. A change PostgreSQL refuses is
not a fault that reached the store and is not counted, but only a body that the generated markings
columns cannot read as JSON may be refused, and every other class must have faults that got
through. A class listed in KNOWN_MISSED is left out here (none is today). Needs PostgreSQL +
PostGIS; skipped only with ``TRUCELINE_SKIP_POSTGRES=1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL, fresh_postgres_database
from tests.prove.pg_tamper import (
    KNOWN_MISSED,
    PgFaultGenerator,
    PgTemplate,
    _url,
    pg_template,
    run_fault,
    untouched,
)
from tests.prove.tamper import CRASH

PER_CLASS = 2


@pytest.fixture(scope="module")
def template() -> Iterator[PgTemplate]:
    # The template is a fresh database (skipped only with TRUCELINE_SKIP_POSTGRES=1), dropped afterwards.
    with fresh_postgres_database() as url, pg_template(database=url.rsplit("/", 1)[1]) as t:
        yield t


@pytest.fixture(scope="module")
def admin(template: PgTemplate) -> Iterator[Any]:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        yield conn


def test_the_untouched_copy_verifies(template: PgTemplate, admin: Any) -> None:
    detected, named = untouched(template, admin)
    assert not detected, named


def test_every_fault_is_detected_and_the_changed_record_named(template: PgTemplate, admin: Any) -> None:
    generator = PgFaultGenerator(template)
    classes = [c for c in generator.classes if c not in KNOWN_MISSED]
    missed, crashed, misnamed, refused = [], [], [], []
    applied: dict[tuple[str, str], int] = dict.fromkeys(classes, 0)
    for i in range(PER_CLASS * len(classes)):
        kind, target = classes[i % len(classes)]
        outcome = run_fault(template, admin, *generator.one(kind, target, number=i))
        if outcome.refused:
            if target not in ("observations.body", "records.body"):  # only JSON the markings columns cannot read
                refused.append(f"{outcome.fault}: {outcome.refused}")
            continue
        applied[(kind, target)] += 1
        if not outcome.detected:
            missed.append(str(outcome.fault))
        elif outcome.named.startswith(CRASH):
            crashed.append(f"{outcome.fault}: {outcome.named}")
        elif outcome.named_exactly is False:
            misnamed.append(f"{outcome.fault}: named {outcome.named}")
    assert not missed, missed
    assert not crashed, crashed
    assert not misnamed, misnamed
    assert not refused, refused
    # Only a body fault may be refused every time (the generated columns read the body as JSON);
    # every class must otherwise have reached the store at least once.
    never = [c for c, n in applied.items() if n == 0 and not c[1].endswith(".body")]
    assert not never, f"no fault of these classes got into the store: {never}"


def test_a_refused_body_fault_is_refused_by_postgresql(template: PgTemplate, admin: Any) -> None:
    """A cut body is refused by the generated markings columns: nothing reaches the store."""
    generator = PgFaultGenerator(template, seed=11)
    refusals = [
        run_fault(template, admin, *generator.one("truncate", "observations.body", number=n)).refused for n in range(3)
    ]
    assert any(refusals), "a truncated JSON body should be refused by the markings columns"
    assert all(r.startswith(("InvalidTextRepresentation", "CharacterNotInRepertoire")) for r in refusals if r)


def test_ledger_verify_on_the_command_line_names_the_bad_record(template: PgTemplate, admin: Any) -> None:
    """``truceline ledger verify --db postgresql://…`` on a copy with one flipped report body."""
    victim = "truceline_tamper_cli_" + template.name.rsplit("_", 1)[1]
    admin.execute(f"CREATE DATABASE {victim} TEMPLATE {template.name}")
    try:
        url = _url(victim)
        with psycopg.connect(url) as conn:
            conn.execute("ALTER TABLE observations ALTER COLUMN originator DROP EXPRESSION")
            conn.execute("ALTER TABLE observations ALTER COLUMN releasable_to DROP EXPRESSION")
            conn.execute("UPDATE observations SET body = overlay(body placing 'X' from 40 for 1) WHERE seq = 17")
        done = subprocess.run(
            [sys.executable, "-m", "truceline", "ledger", "verify", "--db", url],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "TRUCELINE_LEDGER_KEY": str(template.key_path)},
        )
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {victim} WITH (FORCE)")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "first bad record: observation #17 (" in " ".join(done.stderr.split()), done.stderr
