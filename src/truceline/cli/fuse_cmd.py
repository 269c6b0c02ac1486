"""``truceline incidents``: list, show and review fused incidents; print staged bulletins.

Not registered here: the lead adds ``app`` to the main CLI (``app.add_typer(fuse_cmd.app,
name="incidents")``). Every review action needs ``--analyst`` and ``--why`` and writes a new
version of the incident; the automatic solution stays in its history.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

import typer
from rich.table import Table

from truceline.cli._common import DB_HELP, DEFAULT_DB, console, existing_db, handle_errors, opened_store
from truceline.fuse import ACTIONS, accept, bulletin, merge, reject, split
from truceline.model import Incident, ObservationRef, UsageError

app = typer.Typer(help="Fused incidents: list, show, review (accept, reject, merge, split), bulletins.")

DbOption = Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)]


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("list")
@handle_errors
def list_incidents(
    db: DbOption = DEFAULT_DB,
    status: Annotated[str | None, typer.Option(help="Only this evaluation status.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
) -> None:
    """Incidents, newest first: id, time, sector, reports, preferred origin and its 95 % ellipse."""
    with opened_store(existing_db(db)) as store:
        rows = [r.record for r in store.records("incident") if isinstance(r.record, Incident)]
    if status:
        rows = [i for i in rows if i.evaluation_status == status]
    rows.sort(key=lambda i: i.start, reverse=True)
    table = Table("id", "start", "sector", "reports", "origin", "ellipse 95 % (m)", "status")
    for inc in rows[:limit]:
        o = inc.preferred_origin
        where = f"{o.location.lat:.5f}, {o.location.lon:.5f} ({o.method})" if o else "not located"
        ell = f"{o.location.error.semi_major_m:.0f} × {o.location.error.semi_minor_m:.0f}" if o else ""
        table.add_row(
            inc.id,
            f"{inc.start:%Y-%m-%d %H:%M:%S}",
            inc.sector or "",
            str(len(inc.observations)),
            where,
            ell,
            inc.evaluation_status,
        )
    console.print(table)


@app.command()
@handle_errors
def show(incident_id: str, db: DbOption = DEFAULT_DB) -> None:
    """One incident as JSON, with the history of its versions (who changed it, when and why)."""
    with opened_store(existing_db(db)) as store:
        history = store.record_history("incident", incident_id)
    if not history:
        raise UsageError(f"no incident {incident_id!r}")
    doc = history[-1].record.model_dump(mode="json")
    doc["history"] = [
        {
            "version": h.version,
            "agent": h.record.creation_info.agent,
            "mode": h.record.creation_info.mode,
            "note": h.record.creation_info.note,
            "created": h.created.isoformat(),
        }
        for h in history
    ]
    console.print_json(json.dumps(doc))


def _parse_ref(text: str) -> ObservationRef:
    parts = text.split("/")
    if len(parts) != 3:
        raise UsageError(f"a report is PARTICIPANT/SOURCE/KEY, not {text!r}")
    return ObservationRef(participant=parts[0], source=parts[1], key=parts[2])


@app.command()
@handle_errors
def review(
    incident_id: str,
    action: Annotated[str, typer.Argument(help=f"One of: {', '.join(ACTIONS)}.")],
    analyst: Annotated[str, typer.Option(help="Who acts (recorded in the new version).")],
    why: Annotated[str, typer.Option(help="Why (recorded in the new version).")],
    db: DbOption = DEFAULT_DB,
    participant: Annotated[str | None, typer.Option(help="The analyst's participant code.")] = None,
    other: Annotated[str | None, typer.Option(help="merge: the incident that is the same event.")] = None,
    report: Annotated[list[str] | None, typer.Option(help="split: a report PARTICIPANT/SOURCE/KEY to move.")] = None,
) -> None:
    """Accept, reject, merge or split an incident; the automatic solution is never overwritten."""
    when = _now()
    with opened_store(existing_db(db)) as store:
        if action == "accept":
            done = [accept(store, incident_id, analyst=analyst, why=why, when=when, participant=participant)]
        elif action == "reject":
            done = [reject(store, incident_id, analyst=analyst, why=why, when=when, participant=participant)]
        elif action == "merge":
            if not other:
                raise UsageError("merge needs --other INCIDENT")
            done = list(merge(store, incident_id, other, analyst=analyst, why=why, when=when, participant=participant))
        elif action == "split":
            if not report:
                raise UsageError("split needs at least one --report PARTICIPANT/SOURCE/KEY")
            refs = [_parse_ref(r) for r in report]
            done = list(split(store, incident_id, refs, analyst=analyst, why=why, when=when, participant=participant))
        else:
            raise UsageError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    for inc in done:
        console.print(f"{inc.id}: {inc.evaluation_status} ({len(inc.observations)} reports)")


@app.command("bulletin")
@handle_errors
def bulletin_cmd(
    stage: Annotated[str, typer.Argument(help="automatic or reviewed.")] = "automatic",
    db: DbOption = DEFAULT_DB,
) -> None:
    """A staged bulletin as JSON: issue time, each incident's preferred origin and its latency."""
    if stage not in ("automatic", "reviewed"):
        raise UsageError("the stage is 'automatic' or 'reviewed'")
    chosen: Literal["automatic", "reviewed"] = "automatic" if stage == "automatic" else "reviewed"
    with opened_store(existing_db(db)) as store:
        b = bulletin(store, chosen, issued=_now())
    doc = {
        "stage": b.stage,
        "issued": b.issued.isoformat(),
        "incidents": len(b.entries),
        "median_latency_s": b.median_latency_s,
        "entries": [
            {
                "id": e.incident.id,
                "start": e.incident.start.isoformat(),
                "status": e.incident.evaluation_status,
                "origin": None
                if e.incident.preferred_origin is None
                else e.incident.preferred_origin.location.model_dump(mode="json"),
                "latency_s": e.latency_s,
            }
            for e in b.entries
        ],
    }
    console.print_json(json.dumps(doc))
