"""What every command shares: the consoles, option defaults, opening the store, error exits."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from truceline.model import AgreementError, LedgerError, StoreError, TrucelineError, UsageError

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

DEFAULT_DB = "truceline.db"
DB_HELP = "SQLite database file of the embedded store (created if missing)."

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn Truceline's errors into a one-line message and the documented exit status.

    The stores already turn a failed write into a :class:`StoreError` naming the database, the
    batch and the cause (a full disk, an I/O error) and saying whether the batch is in. What may
    still come from below — a database error while reading, a full disk while writing an output
    file — is also one line and exit status 1, never a traceback.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        except AgreementError as exc:
            raise fail(f"agreement: {exc}", EXIT_USAGE) from None
        except (StoreError, LedgerError) as exc:
            raise fail(str(exc)) from None
        except TrucelineError as exc:
            raise fail(str(exc)) from None
        except sqlite3.Error as exc:
            raise fail(f"database error: {exc}") from None
        except OSError as exc:
            if exc.errno not in _DISK_FULL:
                raise
            where = exc.filename or "a file"
            raise fail(f"disk full while writing {where} ({exc.strerror}); free space and run it again") from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def opened_store(db: str) -> Iterator[Any]:
    from truceline.store import open_store

    register_record_types()
    store = open_store(db)
    try:
        yield store
    finally:
        store.close()


def register_record_types() -> None:
    """Let the store read back every record type the stages write (and ``ledger verify`` check them).

    Stages register their own types before storing them; a command that only reads, or verifies,
    the store may not have loaded those stages, so the command line registers them all.
    """
    from truceline.act.records import register_records as register_act
    from truceline.guarantee.records import register_records as register_guarantee

    register_act()
    register_guarantee()


def existing_db(db: str) -> str:
    if db != ":memory:" and "://" not in db and not Path(db).exists():
        raise UsageError(f"{db}: no such database; ingest something first or pass --db")
    return db


def load_agreement_option(path: str | None) -> Any:
    from truceline.agreement import default_agreement, load_agreement

    if path is None:
        return default_agreement()
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such agreement file")
    return load_agreement(path)
