"""``truceline report``: the daily report of one day as HTML, PDF or the OSCE-style plain text.

The lead registers it in ``truceline.cli``::

    app.command()(report_cmd.report)
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from truceline.cli._common import DB_HELP, DEFAULT_DB, console, existing_db, handle_errors, load_agreement_option
from truceline.model import UsageError


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--day {text!r}: expected a date as YYYY-MM-DD") from None


def _register_act_records() -> None:
    """Let the store read back the act stage's directives and activations (when that stage exists)."""
    try:
        from truceline.act import register_records
    except ImportError:
        return
    register_records()


@handle_errors
def report(
    day: Annotated[str, typer.Option("--day", help="The report day, YYYY-MM-DD (UTC).")],
    out: Annotated[
        str, typer.Option("--out", "-o", help="Output file: .html (self-contained), .pdf (needs Chromium) or .txt.")
    ],
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
    for_participant: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="Make the report for this participant: it shows only what the markings let it read. "
            "Default: the operator's full view, not for release.",
        ),
    ] = None,
    groups: Annotated[
        str | None,
        typer.Option(help="JSON file of sharing groups (as for 'truceline serve'); the reader acts in its own."),
    ] = None,
    agreement: Annotated[str | None, typer.Option(help="Agreement YAML (default: the shipped one).")] = None,
) -> None:
    """Write the daily report: per sector and side, violations, map, escalation, warnings, findings,
    staging suspicions, alerts and directives, and what could not be seen."""
    from pathlib import Path

    from truceline.cli.serve_cmd import load_groups
    from truceline.policy import PolicyContext
    from truceline.report import Viewer, build_report, osce_text_report, write_report
    from truceline.store import open_store

    report_day = _parse_day(day)
    suffix = Path(out).suffix.lower()
    if suffix not in (".html", ".htm", ".pdf", ".txt"):
        raise UsageError(f"--out {out}: write .html, .pdf or .txt")
    ag = load_agreement_option(agreement)
    viewer = Viewer.full()
    if for_participant is not None:
        if for_participant not in ag.participant_ids():
            raise UsageError(f"--for {for_participant}: not a participant of {ag.id}")
        try:
            context = PolicyContext.of(sorted(ag.participant_ids()), load_groups(groups))
        except ValueError as exc:
            raise UsageError(f"sharing groups: {exc}") from None
        viewer = Viewer.for_participant(context, for_participant)
    _register_act_records()
    store = open_store(existing_db(db))
    try:
        if suffix == ".txt":
            Path(out).write_text(osce_text_report(store, ag, report_day, viewer), encoding="utf-8")
            console.print(f"wrote {out} (plain-text report for {viewer.label})")
            return
        result = build_report(store, ag, report_day, viewer=viewer)
    finally:
        store.close()
    path = write_report(result, out)
    note = " — no data for this day" if result.no_data else ""
    console.print(f"wrote {path} (TLP:{result.tlp.upper()}, for {result.reader}){note}")
