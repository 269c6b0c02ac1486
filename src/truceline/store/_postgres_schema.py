"""The PostgreSQL + PostGIS store's schema, managed by Alembic.

The revisions live in the package (``pg_migrations/versions``) and run in code: opening a
:class:`~truceline.store.postgres.PostgresStore` calls :func:`upgrade`, which builds the Alembic
configuration itself (no ``alembic.ini``) and hands Alembic one connection. Everything happens in
one transaction under an advisory lock, so workers starting together upgrade a database once.

A database made before Alembic (by the store's own mechanism, which kept its version in
``truceline_schema``) is stamped at the matching revision and upgraded from there. Revisions keep
``truceline_schema`` up to date too, so that such an older Truceline refuses a newer database.

Making a new revision: add ``vNNNN_<what>.py`` under ``pg_migrations/versions`` with
``down_revision`` the current head (``alembic.command.revision(alembic_config(), "what",
rev_id="0003")`` writes the skeleton; rename it to that pattern). ``LEGACY_REVISIONS`` stays as it
is: it only maps the old mechanism's versions.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from truceline.model import SchemaVersionError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("pg_migrations")

LEGACY_REVISIONS: dict[int, str] = {1: "0001"}
"""``truceline_schema`` version of the pre-Alembic mechanism → the Alembic revision it equals."""

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('truceline-migrate'))"
_IN_PROCESS = threading.Lock()
"""Alembic keeps the running command in module globals (``alembic.context``): one at a time here,
whatever the database; the advisory lock serialises processes."""


def alembic_config() -> Config:
    """The Alembic configuration of the store's migrations, built in code."""
    try:
        from alembic.config import Config
    except ImportError as exc:  # pragma: no cover - the server extra is installed in tests
        raise StoreError("the PostgreSQL store needs the server extra: pip install 'truceline[server]'") from exc
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision this Truceline knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (the newest by default).

    Raises :class:`SchemaVersionError` if the database is at a revision this Truceline does not
    know (written by a newer one).
    """
    import psycopg
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    # The URL goes to psycopg as it is (any libpq URL), not through SQLAlchemy's URL parser.
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url), poolclass=NullPool)
    try:
        with _IN_PROCESS, engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except DBAPIError as exc:
        # Say what PostgreSQL said (and its hint), not SQLAlchemy's page of SQL.
        cause = exc.orig
        message = str(cause).strip().splitlines()[0] if cause is not None else str(exc)
        hint = getattr(getattr(cause, "diag", None), "message_hint", None)
        raise StoreError(
            f"cannot bring the database schema up to date: {message}" + (f" ({hint})" if hint else "")
        ) from exc
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (None: not under Alembic)."""
    import psycopg

    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('alembic_version') IS NULL").fetchone() == (True,):
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])


def _legacy_version(connection: Any) -> int | None:
    from sqlalchemy import text

    if connection.execute(text("SELECT to_regclass('truceline_schema')")).scalar() is None:
        return None
    version = connection.execute(text("SELECT max(version) FROM truceline_schema")).scalar()
    return None if version is None else int(version)


def run_environment() -> None:
    """The body of ``pg_migrations/env.py``: run the migrations on the connection handed over."""
    from alembic import context

    if not hasattr(context, "config"):  # imported outside an Alembic command: nothing to run
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
    from sqlalchemy import text

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise StoreError("run the store's migrations with truceline.store._postgres_schema.upgrade(url)")
    context.configure(connection=connection, transactional_ddl=True)
    script = ScriptDirectory.from_config(context.config)
    with context.begin_transaction():
        connection.execute(text(_LOCK))  # one migrator at a time; held until the transaction ends
        migration = context.get_context()
        current = migration.get_current_heads()
        for rev in current:
            try:
                script.get_revision(rev)
            except CommandError:
                raise SchemaVersionError(
                    f"database schema revision {rev} is newer than this Truceline understands "
                    f"({script.get_current_head()}); upgrade Truceline"
                ) from None
        if not current:
            legacy = _legacy_version(connection)
            if legacy is not None:
                if legacy not in LEGACY_REVISIONS:
                    raise SchemaVersionError(
                        f"database schema version {legacy} is newer than this Truceline understands; upgrade Truceline"
                    )
                migration.stamp(script, LEGACY_REVISIONS[legacy])
        context.run_migrations()
