"""``truceline attribute`` and ``truceline claims``: who fired, and which claims the evidence contradicts.

Not registered yet: the lead wires them into the app (``app.command()(attribute)``,
``app.command()(claims)``) together with the stage in ``truceline process``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from truceline.cli._common import (
    DB_HELP,
    DEFAULT_DB,
    console,
    existing_db,
    handle_errors,
    load_agreement_option,
    opened_store,
)


@handle_errors
def attribute(
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
    media_root: Annotated[
        Path | None,
        typer.Option(help="Directory that claims' relative media URIs point into (default: beside the database)."),
    ] = None,
    agreement: Annotated[str | None, typer.Option(help="Agreement YAML (default: the shipped one).")] = None,
) -> None:
    """Attribute every fire incident not yet attributed and check every stored claim.

    Writes new versions of the incidents (P per party with its evidence) and one no_staging
    finding per claim (verdict, staging suspicion, reasons). Safe to run again.
    """
    from truceline.attribute import run

    ag = load_agreement_option(agreement)
    with opened_store(existing_db(db)) as store:
        counts = run(store, ag, after_seq=0, upto_seq=store.max_seq(), media_root=media_root, full=True)
    table = Table("what", "count")
    for key, value in counts.items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)


@handle_errors
def claims(
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
    min_suspicion: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Show only claims at least this suspicious.")
    ] = 0.0,
    reasons: Annotated[bool, typer.Option("--reasons", help="Print every piece of evidence under each claim.")] = False,
) -> None:
    """List the checked claims: verdict, staging suspicion and, with --reasons, why."""
    from truceline.attribute import STAGING_CLAUSE
    from truceline.model import Finding

    with opened_store(existing_db(db)) as store:
        found = [
            s.record
            for s in store.records("finding")
            if isinstance(s.record, Finding) and s.record.clause_id == STAGING_CLAUSE
        ]
    found = sorted((f for f in found if f.confidence >= min_suspicion), key=lambda f: (-f.confidence, f.first_seen))
    table = Table("claimed time", "claimant", "place", "verdict", "suspicion", title="claims against evidence")
    for f in found:
        place = f"{f.location.lat:.3f}, {f.location.lon:.3f}" if f.location else "unplaced"
        verdict = f.creation_info.note.removeprefix("verdict: ")
        table.add_row(f"{f.first_seen:%Y-%m-%d %H:%M}", f.side or "", place, verdict, f"{f.confidence:.2f}")
    console.print(table)
    if reasons:
        for f in found:
            console.print(f"\n[bold]{f.id}[/] ({f.confidence:.2f})")
            for e in f.evidence:
                weight = "" if e.weight is None else f" [{e.weight:+.2f}]"
                console.print(f"  - {e.kind}{weight}: {e.description}")
