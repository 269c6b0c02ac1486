"""``truceline act …``: alerts, playbooks, CAP checks and tabletop exercises (thin commands over ``truceline.act``).

``truceline exercise --scenario NAME`` (simulate → ingest → process → playbook) lives in
:mod:`truceline.cli.exercise_cmd` and prints its timeline with :func:`print_timeline`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from truceline.cli._common import (
    DB_HELP,
    DEFAULT_DB,
    EXIT_REJECTED,
    console,
    existing_db,
    fail,
    handle_errors,
    load_agreement_option,
    opened_store,
)

app = typer.Typer(
    help=(
        "Act on what was verified and assessed: CAP 1.2 alerts (validated, signed, addressed by markings), "
        "the playbook's directives with deadlines and escalation, the coordination hotline, the guarantee's "
        "trigger, and tabletop exercises. Formats and rules: docs/act.md."
    ),
    no_args_is_help=True,
)

DbOpt = Annotated[str, typer.Option("--db", help=DB_HELP)]
AgreementOpt = Annotated[str | None, typer.Option("--agreement", help="Agreement file (default: the shipped one).")]
PlaybookOpt = Annotated[Path | None, typer.Option("--playbook", help="Playbook file (default: the shipped one).")]


@app.command("run")
@handle_errors
def run_command(db: DbOpt = DEFAULT_DB, agreement: AgreementOpt = None) -> None:
    """Issue what is due now from the stored findings and assessments (the pipeline's act step)."""
    from truceline.act import run

    ag = load_agreement_option(agreement)
    with opened_store(existing_db(db)) as store:
        counts = run(store, ag, after_seq=0, upto_seq=store.max_seq())
    console.print(", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command("alerts")
@handle_errors
def alerts_command(
    db: DbOpt = DEFAULT_DB,
    xml: Annotated[str | None, typer.Option("--xml", help="Print this alert's signed CAP XML.")] = None,
) -> None:
    """List the alerts issued, or print one alert's CAP message."""
    from truceline.act import SignedCap
    from truceline.model import Alert, UsageError

    with opened_store(existing_db(db)) as store:
        if xml is not None:
            stored = store.get_record("signedcap", xml)
            if stored is None or not isinstance(stored.record, SignedCap):
                raise UsageError(f"no alert {xml!r} in {db}")
            console.print(stored.record.xml, markup=False)
            console.print(f"signature {stored.record.signature} (key {stored.record.key_id[:16]}…)", markup=False)
            return
        table = Table("sent", "kind", "severity", "sector", "headline", "addressed to")
        for s in store.records("alert"):
            a = s.record
            if isinstance(a, Alert):
                table.add_row(f"{a.sent:%Y-%m-%d %H:%M}", a.kind, a.severity, a.sector or "-", a.headline,
                              f"{len(a.addresses)} participants")
        console.print(table)


@app.command("check-playbook")
@handle_errors
def check_playbook_command(path: Path, agreement: AgreementOpt = None) -> None:
    """Check a playbook file against the agreement (exit 2 with the line, field and reason)."""
    from truceline.act import PlaybookError, load_playbook
    from truceline.model import UsageError

    try:
        playbook = load_playbook(path, load_agreement_option(agreement))
    except PlaybookError as exc:
        raise UsageError(str(exc)) from None
    console.print(f"{path}: playbook {playbook.id}: {len(playbook.directives)} directives, "
                  f"{len(playbook.scenarios)} scenarios — valid")


@app.command("check-cap")
@handle_errors
def check_cap_command(path: Path) -> None:
    """Read a CAP 1.2 message from another system; a bad one exits 3 with the schema's reason."""
    from truceline.interop.cap import CapError, parse_cap

    try:
        message = parse_cap(path.read_bytes(), str(path))
    except CapError as exc:
        for issue in exc.issues:
            console.print(f"{path}: {issue}", markup=False)
        raise fail(f"{path}: not a valid CAP 1.2 message", EXIT_REJECTED) from None
    console.print(f"{path}: valid CAP 1.2 — {message.identifier} from {message.sender}, {len(message.infos)} info")


def print_timeline(result: object) -> None:
    """Print an exercise's timeline, one entry a line, and how many entries it has."""
    from truceline.act import ExerciseResult

    assert isinstance(result, ExerciseResult)
    for entry in result.entries:
        console.print(str(entry), markup=False)
    console.print(f"{len(result.entries)} timeline entries")


def print_exercise(store: object, agreement: object, *, playbook: Path | None = None, step_hours: float = 6.0) -> None:
    """Run a tabletop exercise over a store's records and print its timeline (``truceline act exercise``)."""
    from truceline.act import ActSettings, load_playbook, run_exercise
    from truceline.agreement import Agreement
    from truceline.store import Store

    assert isinstance(store, Store) and isinstance(agreement, Agreement)
    settings = ActSettings(playbook=load_playbook(playbook, agreement))
    print_timeline(run_exercise(store, agreement, settings=settings, step=timedelta(hours=step_hours)))


@app.command("exercise")
@handle_errors
def exercise_command(
    db: DbOpt = DEFAULT_DB,
    agreement: AgreementOpt = None,
    playbook: PlaybookOpt = None,
    step_hours: Annotated[float, typer.Option("--step-hours", min=0.1, help="Hours between engine steps.")] = 6.0,
) -> None:
    """Replay a processed database through the playbook and print the timeline (CAP status Exercise)."""
    ag = load_agreement_option(agreement)
    with opened_store(existing_db(db)) as store:
        print_exercise(store, ag, playbook=playbook, step_hours=step_hours)
