"""``truceline findings``: list, show and review findings; the daily compliance summary.

Not yet registered in ``truceline.cli`` (the lead wires it: ``app.add_typer(verify_cmd.app, name="findings")``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from truceline.cli._common import console, existing_db, fail, handle_errors, opened_store

app = typer.Typer(help="Findings: breaches of the agreement's clauses, with their evidence.", no_args_is_help=True)

DbOption = Annotated[str, typer.Option("--db", help="The store (SQLite file).")]


@app.command("list")
@handle_errors
def list_findings(
    db: DbOption,
    clause: Annotated[str | None, typer.Option(help="Only clauses starting with this (e.g. withdrawal).")] = None,
    side: Annotated[str | None, typer.Option(help="Only findings against this side.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
) -> None:
    """List findings (latest version of each), newest first."""
    from truceline.model import Finding

    with opened_store(existing_db(db)) as store:
        rows = [r.record for r in store.records("finding") if isinstance(r.record, Finding)]
    rows = [
        f
        for f in rows
        if (clause is None or f.clause_id.startswith(clause))
        and (side is None or f.side == side)
        and (status is None or f.status == status)
    ]
    rows.sort(key=lambda f: f.last_seen, reverse=True)
    for f in rows[:limit]:
        console.print(
            f"{f.id}  {f.clause_id:32} {f.side or '-':4} {f.status:11} {f.confidence:4.2f}  "
            f"{f.first_seen:%Y-%m-%d %H:%M} → {f.last_seen:%Y-%m-%d %H:%M}  {f.sector or '-'}",
            markup=False,
        )
    console.print(f"{min(len(rows), limit)} of {len(rows)} findings", markup=False)


@app.command()
@handle_errors
def show(db: DbOption, finding_id: Annotated[str, typer.Argument(help="The finding's id.")]) -> None:
    """A finding with its clause, evidence and review history."""
    with opened_store(existing_db(db)) as store:
        history = store.record_history("finding", finding_id)
    if not history:
        raise fail(f"no finding {finding_id!r}")
    f = history[-1].record
    console.print(f.model_dump_json(indent=2), markup=False)
    for h in history:
        info = h.record.creation_info
        status = h.record.status
        console.print(
            f"v{h.version} {h.created:%Y-%m-%d %H:%M:%S} {status:11} by {info.agent} {info.note}", markup=False
        )


@app.command("review")
@handle_errors
def review_finding(
    db: DbOption,
    finding_id: Annotated[str, typer.Argument(help="The finding's id.")],
    status: Annotated[str, typer.Option(help="confirmed, disputed or closed (or provisional to reopen).")],
    reviewer: Annotated[str, typer.Option(help="Who reviews.")],
    note: Annotated[str, typer.Option(help="Why.")],
    participant: Annotated[str | None, typer.Option(help="The reviewer's nation or body.")] = None,
) -> None:
    """Record a review: a new version of the finding with the new status and the reviewer."""
    from truceline.model import Finding
    from truceline.verify.review import ReviewError, review

    with opened_store(existing_db(db)) as store:
        current = store.get_record("finding", finding_id)
        if current is None or not isinstance(current.record, Finding):
            raise fail(f"no finding {finding_id!r}")
        try:
            new = review(
                current.record,
                status,
                reviewer=reviewer,
                participant=participant,
                note=note,
                when=datetime.now(UTC),
            )
        except ReviewError as exc:
            raise fail(str(exc)) from None
        stored = store.put_record(new, type="finding")
    console.print(f"{finding_id}: {current.record.status} → {status} (version {stored.version})", markup=False)


@app.command()
@handle_errors
def summary(
    db: DbOption,
    day: Annotated[str, typer.Option(help="The day (YYYY-MM-DD).")],
) -> None:
    """The daily compliance summary: findings per sector and side, against the day before."""
    from truceline.model import Finding
    from truceline.verify.review import daily_summary

    with opened_store(existing_db(db)) as store:
        rows = daily_summary(
            (r.record for r in store.records("finding") if isinstance(r.record, Finding)), date.fromisoformat(day)
        )
    console.print(f"{'sector':8} {'side':4} {'clause':20} {'today':>6} {'before':>6} {'change':>6}", markup=False)
    for r in rows:
        console.print(f"{r.sector:8} {r.side:4} {r.family:20} {r.count:6} {r.previous:6} {r.change:+6}", markup=False)
