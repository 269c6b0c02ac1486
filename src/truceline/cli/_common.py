"""What every command shares: the consoles, option defaults, opening the store, error exits."""

from __future__ import annotations

import os
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


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn Truceline's errors into a one-line message and the documented exit status."""

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

    return wrapper  # type: ignore[return-value]


@contextmanager
def opened_store(db: str) -> Iterator[Any]:
    from truceline.store import open_store

    store = open_store(db)
    try:
        yield store
    finally:
        store.close()


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
