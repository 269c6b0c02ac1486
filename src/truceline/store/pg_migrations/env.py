"""The Alembic environment of the PostgreSQL store.

Alembic runs this file for every command; Truceline runs those commands in code
(:func:`truceline.store._postgres_schema.upgrade`), handing over an open connection, so no
``alembic.ini`` is needed. Imported any other way (a doctest collector, say) it does nothing.
"""

from truceline.store._postgres_schema import run_environment

run_environment()
