"""Errors raised by Truceline.

Every error carries the fields a user needs to fix the cause — which record, which field, why —
so a message never has to be parsed to act on it::

    TrucelineError
    ├── RecordError            one inbound record is unusable (record, field, reason)
    ├── AgreementError         the agreement file is invalid (file, path, reason)
    ├── StoreError             the store cannot do what was asked
    │   ├── StoreCorrupt       the database fails an integrity check
    │   └── SchemaVersionError the database was written by a newer Truceline
    ├── LedgerError            the evidence ledger does not verify (record, reason)
    └── UsageError             the caller passed unusable arguments (exit code 2 on the CLI)
"""

from __future__ import annotations


class TrucelineError(Exception):
    """Base of every error Truceline raises on purpose."""


class RecordError(TrucelineError):
    """An inbound record is unusable.

    ``record`` names the record as its reader knows it (``path:line``, or the idempotency key),
    ``field`` is the dotted path to the offending field (empty for the whole record) and
    ``reason`` says what is wrong in words a reporting analyst understands.
    """

    def __init__(self, record: str, field: str, reason: str) -> None:
        self.record = record
        self.field = field
        self.reason = reason
        where = f"{record}: {field}" if field else record
        super().__init__(f"{where}: {reason}")


class AgreementError(TrucelineError):
    """The agreement file (or one of its geodata files) is invalid."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        self.file = file
        self.path = path
        self.reason = reason
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {reason}")


class StoreError(TrucelineError):
    """The store cannot do what was asked."""


class StoreCorrupt(StoreError):
    """The database fails SQLite's (or PostgreSQL's) own integrity check."""


class SchemaVersionError(StoreError):
    """The database schema is newer than this version of Truceline understands."""


class LedgerError(TrucelineError):
    """The evidence ledger does not verify; ``record`` names the first bad record."""

    def __init__(self, record: str, reason: str) -> None:
        self.record = record
        self.reason = reason
        super().__init__(f"{record}: {reason}")


class UsageError(TrucelineError):
    """Unusable arguments from a caller (the CLI exits with status 2)."""
