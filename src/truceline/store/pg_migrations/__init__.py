"""Alembic migrations of the PostgreSQL store's schema (run in code by ``_postgres_schema.upgrade``)."""
