"""``truceline ledger``: verify the evidence ledger, show tree heads, prove inclusion."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from truceline.cli._common import (
    DB_HELP,
    DEFAULT_DB,
    EXIT_FAILED,
    console,
    err_console,
    existing_db,
    handle_errors,
    opened_store,
)
from truceline.model import StoreCorrupt, UsageError

app = typer.Typer(help="The evidence ledger: an RFC 9162 Merkle log over every stored record.", no_args_is_help=True)


@app.command()
@handle_errors
def verify(
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
) -> None:
    """Recompute every leaf, node and signed tree head; name the first altered or missing record.

    Exit status 0 when everything verifies, 1 otherwise.
    """
    with opened_store(existing_db(db)) as store:
        result = store.verify_ledger()
    if result.integrity_errors:
        for problem in result.integrity_errors:
            err_console.print(f"database integrity: {problem}", markup=False)
        err_console.print("[bold red]FAILED[/]: the database file itself is damaged")
        raise typer.Exit(EXIT_FAILED)
    table = Table("log", "records", "tree heads", "result", title="ledger verify")
    for log, report in result.reports.items():
        table.add_row(
            log,
            f"{report.records_checked:,}",
            f"{report.tree_heads_checked:,}",
            "[green]ok[/]" if report.ok else "[red]FAILED[/]",
        )
    console.print(table)
    for log, report in result.reports.items():
        if not report.ok and report.first_error is not None:
            err_console.print(f"{log}: first bad record: {report.first_error}", markup=False, soft_wrap=True)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
@handle_errors
def head(
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
    log: Annotated[str, typer.Option(help="Which log: observations or records.")] = "observations",
) -> None:
    """Print the latest signed tree head as JSON."""
    _check_log(log)
    with opened_store(existing_db(db)) as store:
        sth = _tree_head(store, log, db)
    if sth is None:
        console.print("{}")
        return
    console.print_json(sth.to_json())


def _tree_head(store: Any, log: str, db: str) -> Any:
    """The latest signed tree head; a damaged one is a clear error, never a traceback."""
    try:
        return store.tree_head(log)
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreCorrupt(
            f"{db}: the latest signed tree head of the {log} log cannot be read ({exc}); "
            f"run 'truceline ledger verify --db {db}' to find the first altered record"
        ) from None


@app.command()
@handle_errors
def prove(
    seq: Annotated[int, typer.Argument(min=1, help="Sequence number of the record (its leaf index + 1).")],
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
    log: Annotated[str, typer.Option(help="Which log: observations or records.")] = "observations",
) -> None:
    """Print an inclusion proof of one record against the latest signed tree head, and check it."""
    from truceline.ledger import verify_inclusion

    _check_log(log)
    with opened_store(existing_db(db)) as store:
        sth = _tree_head(store, log, db)
        if sth is None or seq > sth.tree_size:
            raise UsageError(f"no record #{seq} in the {log} log (size {0 if sth is None else sth.tree_size})")
        if log == "observations":
            stored = next(iter(store.observations(_query(seq))), None)
            leaf = stored.leaf_hash if stored else None
        else:
            leaf = None
            for rec_type in ("incident", "finding", "assessment", "alert"):
                for r in store.records(rec_type):
                    if r.seq == seq:
                        leaf = r.leaf_hash
        if leaf is None:
            raise UsageError(f"record #{seq} not found")
        proof = store.inclusion_proof(log, seq, sth.tree_size)
    ok = verify_inclusion(leaf, seq - 1, sth.tree_size, proof, bytes.fromhex(sth.root_hash))
    console.print_json(
        json.dumps(
            {
                "log": log,
                "seq": seq,
                "leaf_index": seq - 1,
                "leaf_hash": leaf.hex(),
                "tree_size": sth.tree_size,
                "root_hash": sth.root_hash,
                "proof": [p.hex() for p in proof],
                "verified": ok,
                "tree_head": json.loads(sth.to_json()),
            }
        )
    )
    if not ok:
        raise typer.Exit(EXIT_FAILED)


def _check_log(log: str) -> None:

    if log not in ("observations", "records"):
        raise UsageError(f"unknown log {log!r}; use observations or records")


def _query(seq: int):  # type: ignore[no-untyped-def]
    from truceline.store import ObservationQuery

    return ObservationQuery(after_seq=seq - 1, limit=1)
