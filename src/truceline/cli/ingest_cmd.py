"""``truceline ingest``: validate reports and store them durably, reporting every reject."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from truceline.cli._common import (
    DB_HELP,
    DEFAULT_DB,
    EXIT_REJECTED,
    console,
    err_console,
    handle_errors,
    load_agreement_option,
    opened_store,
)
from truceline.model import SystemClock

MAX_REJECTS_SHOWN = 50


@handle_errors
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files to read (.ndjson/.jsonl, .csv, .geojson; sniffed if unnamed); '-' is stdin."
        ),
    ],
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
    rejects: Annotated[
        str | None,
        typer.Option(
            help="Where rejected records go (NDJSON: record, field, reason, input). Default: <db>.rejects.ndjson"
        ),
    ] = None,
    agreement: Annotated[
        str | None,
        typer.Option(help="Agreement YAML whose participants are known (default: the shipped one)."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Records per durable commit.")
    ] = 5_000,
    future_tolerance: Annotated[
        float,
        typer.Option(min=0, help="Seconds a report's time may lie ahead of this clock (sensor clock error)."),
    ] = 600.0,
    ack_file: Annotated[
        str | None,
        typer.Option(
            help="Append 'FILE<TAB>LINE' after every durable commit: what is safe to stop re-sending."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Validating worker processes for NDJSON files (default: one per core, for files over 8 MB; 0: none).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
) -> None:
    """Validate reports and store every valid one durably; list every invalid one with its reason.

    Each report is identified for ever by (participant, source, key): sending it again changes
    nothing, and a key reused for a different report is refused. Every stored report becomes a
    leaf of the evidence ledger. Invalid records are printed as 'path:line: field: reason' on
    stderr and written, with their input, to the rejects file.

    Exit status: 0 when every record was accepted, 3 when some were rejected (the rest are
    stored), 2 for unusable arguments (a missing file, an unknown format).
    """
    from truceline.ingest import ContextChecks, Rejected, ingest_paths
    from truceline.ingest.parallel import PARALLEL_MIN_BYTES, default_workers

    ag = load_agreement_option(agreement)
    checks = ContextChecks(
        participants=frozenset(ag.participant_ids()),
        now=SystemClock().now(),
        future_tolerance=timedelta(seconds=future_tolerance),
    )
    total_bytes = sum(os.path.getsize(p) for p in paths if p != "-" and os.path.isfile(p))
    rejects_path = Path(rejects) if rejects else Path(f"{db}.rejects.ndjson")
    rejects_file: TextIO | None = None
    shown = 0
    n_rejected = 0

    def on_reject(item: Rejected) -> None:
        nonlocal rejects_file, shown, n_rejected
        n_rejected += 1
        if rejects_file is None:
            rejects_file = open(rejects_path, "a", encoding="utf-8")  # noqa: SIM115 - closed below
        for err in item.errors:
            if shown < MAX_REJECTS_SHOWN:
                err_console.print(str(err), markup=False, soft_wrap=True)
            shown += 1
            rejects_file.write(
                json.dumps(
                    {"record": item.record, "field": err.field, "reason": err.reason, "input": item.raw}
                )
                + "\n"
            )

    ack_stream: TextIO | None = open(ack_file, "a", encoding="utf-8") if ack_file else None  # noqa: SIM115

    def on_ack(name: str, position: int) -> None:
        if ack_stream is not None:
            ack_stream.write(f"{name}\t{position}\n")
            ack_stream.flush()
        if rejects_file is not None:
            rejects_file.flush()

    progress = Progress(
        TextColumn("ingest"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet or not err_console.is_terminal,
        transient=True,
    )
    try:
        with opened_store(db) as store, progress:
            task = progress.add_task("ingest", total=total_bytes or None)
            report = ingest_paths(
                paths,
                store,
                checks,
                batch_size=batch_size,
                on_reject=on_reject,
                on_ack=on_ack,
                progress=lambda n: progress.advance(task, n),
                workers=default_workers() if workers is None else workers,
                # Workers asked for by name are used whatever the file's size.
                parallel_min_bytes=PARALLEL_MIN_BYTES if workers is None else 0,
            )
    finally:
        if rejects_file is not None:
            rejects_file.close()
        if ack_stream is not None:
            ack_stream.close()
    if shown > MAX_REJECTS_SHOWN:
        err_console.print(f"… {shown - MAX_REJECTS_SHOWN} more problems in {rejects_path}")
    if not quiet:
        head = report.tree_head
        console.print(
            f"read {report.read:,} records from {report.files} file(s) in {report.seconds:.2f} s "
            f"({report.rate:,.0f}/s): stored {report.stored:,}, already stored {report.duplicates:,}, "
            f"rejected {report.rejected:,}"
            + (f"; ledger size {head.tree_size:,}, root {head.root_hash[:16]}…" if head else "")
        )
        if report.rejected:
            console.print(f"rejects written to {rejects_path}")
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)
