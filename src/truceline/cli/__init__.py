"""The ``truceline`` command: a thin layer of commands over library calls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from truceline import __version__
from truceline.cli import act_cmd, agreement_cmd, fuse_cmd, ledger_cmd, report_cmd, serve_cmd, verify_cmd
from truceline.cli._common import (
    DB_HELP,
    DEFAULT_DB,
    console,
    err_console,
    existing_db,
    handle_errors,
    opened_store,
)
from truceline.cli.assess_cmd import history as assess_history
from truceline.cli.attribute_cmd import attribute, claims
from truceline.cli.bus_cmd import publish, worker
from truceline.cli.demo_cmd import demo
from truceline.cli.exercise_cmd import exercise
from truceline.cli.guarantee_cmd import coalition_app, forceplan_app
from truceline.cli.ingest_cmd import ingest
from truceline.cli.sim_cmd import evaluate, simulate
from truceline.model import UsageError

app = typer.Typer(
    name="truceline",
    help=(
        "Truceline: cease-fire monitoring, verification and early warning.\n\n"
        "Reports flow ingest → store + ledger → fuse → attribute → verify → assess → act. "
        "Start with 'truceline demo', then 'truceline ingest FILE' and 'truceline ledger verify'."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command()(ingest)
app.command()(demo)
app.command()(publish)
app.command()(worker)
app.command()(simulate)
app.command()(evaluate)
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(agreement_cmd.app, name="agreement")
app.add_typer(coalition_app, name="coalition")
app.add_typer(forceplan_app, name="forceplan")
app.add_typer(fuse_cmd.app, name="incidents")
app.command()(attribute)
app.command()(claims)
app.add_typer(verify_cmd.app, name="findings")
app.command("assess-history")(assess_history)
app.add_typer(act_cmd.app, name="act")
app.command()(exercise)
app.command()(report_cmd.report)
app.command()(serve_cmd.serve)
app.add_typer(serve_cmd.token_app, name="token")


@app.command()
@handle_errors
def process(
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
    media_root: Annotated[
        Path | None,
        typer.Option(help="Where claims' relative media paths point (default: the database file's directory)."),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep running: process new observations as they arrive (server mode), until SIGTERM or Ctrl-C.",
        ),
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.01, max=60.0, help="With --follow: seconds to wait when nothing new has arrived.")
    ] = 0.25,
    idle_exit: Annotated[
        float | None,
        typer.Option(min=0.0, help="With --follow: also stop once nothing new has arrived for this many seconds."),
    ] = None,
    pace: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=600.0,
            help="With --follow: start rounds at most this many seconds apart, even under a steady feed "
            "(keeps a fuse follower from taking a whole core; its incidents wait up to this much longer).",
        ),
    ] = 0.0,
    stages: Annotated[
        str | None,
        typer.Option(
            help="Run only these stages, comma-separated (fuse,attribute,verify,assess,act), with their own cursor: "
            "a deployment follows fuse in one process and the rest in another, so association never delays an alert.",
        ),
    ] = None,
) -> None:
    """Run the stages (fuse, attribute, verify, assess, act) over observations that arrived since the last run.

    Safe to run again: a cursor in the store remembers what was processed, and each stage derives
    its record ids from its inputs, so a rerun writes new versions rather than duplicates.
    With --follow it runs round after round beside the API or the workers, each round taking
    what arrived during the last; a stop request lets the current round finish.
    """
    from truceline.pipeline import StageReport
    from truceline.pipeline import process as run_process

    def show(stage: StageReport) -> None:
        counts = ", ".join(f"{k} {v:,}" for k, v in stage.counts.items())
        console.print(f"  {stage.name}: {counts or 'nothing new'} ({stage.seconds:.2f} s)")

    from truceline.pipeline import selected_stages

    try:
        chosen = selected_stages([s.strip() for s in stages.split(",") if s.strip()] if stages is not None else None)
    except ValueError as exc:
        raise UsageError(f"--stages: {exc}") from None
    if follow:
        _follow(db, media_root, interval, idle_exit, pace, chosen)
        return
    if idle_exit is not None:
        raise UsageError("--idle-exit only applies with --follow")
    if pace:
        raise UsageError("--pace only applies with --follow")
    with opened_store(existing_db(db)) as store:
        report = run_process(store, on_stage=show, media_root=media_root, stages=chosen)
    if report.new_observations == 0:
        console.print("nothing new to process")
        return
    kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(report.by_kind.items()))
    console.print(f"processed #{report.first_seq:,}…#{report.last_seq:,}: {kinds}")
    console.print("stages run: " + (", ".join(report.stages_run) if report.stages_run else "none yet beyond ingest"))


def _follow(
    db: str, media_root: Path | None, interval: float, idle_exit: float | None, pace: float, stages: tuple[str, ...]
) -> None:
    """``process --follow``: rounds until a signal; one line per round that found something."""
    import signal
    from datetime import UTC, datetime

    from truceline.pipeline import ProcessReport, follow

    stop = {"asked": False}

    def ask_stop(signum: int, frame: object) -> None:
        if stop["asked"]:  # asked twice: stop now, the window is processed again next time
            raise KeyboardInterrupt
        stop["asked"] = True
        err_console.print("stopping after this round (again to stop at once)")

    previous = {s: signal.signal(s, ask_stop) for s in (signal.SIGTERM, signal.SIGINT)}

    def show_round(done: ProcessReport, took: float) -> None:
        times = ", ".join(f"{s.name} {s.seconds * 1000:.0f} ms" for s in done.stages)
        # The round's end on the wall clock (UTC, milliseconds): lines up with alerts' and
        # records' creation times when a slow alert is traced back to the round that made it.
        ended = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
        console.print(
            f"{ended} #{done.first_seq:,}…#{done.last_seq:,}: {done.new_observations:,} new in {took:.2f} s ({times})"
        )

    try:
        with opened_store(existing_db(db)) as store:
            console.print(f"following {db} ({', '.join(stages)}): new observations are processed as they arrive")
            report = follow(
                store, interval=interval, idle_exit=idle_exit, pace=pace, stages=stages,
                should_stop=lambda: stop["asked"], on_round=show_round, media_root=media_root,
            )  # fmt: skip
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    console.print(
        f"followed for {report.seconds:.1f} s (CPU {usage.ru_utime + usage.ru_stime:.1f} s): "
        f"{report.rounds:,} rounds, {report.observations:,} observations, "
        f"busiest round {report.busiest_round_s:.2f} s; {report.passed_over:,} windows held nothing for these stages"
    )


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"truceline {__version__}")


def main() -> None:
    app()
