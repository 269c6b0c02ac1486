"""``truceline publish`` and ``truceline worker``: the NATS JetStream ingest bus."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from truceline.cli._common import (
    EXIT_REJECTED,
    console,
    err_console,
    handle_errors,
    load_agreement_option,
    opened_store,
)
from truceline.model import SystemClock, UsageError

NATS_HELP = "NATS server URL (JetStream enabled, ideally with sync_interval: always)."


@handle_errors
def publish(
    paths: Annotated[list[str], typer.Argument(help="NDJSON files of reports to put on the bus.")],
    nats: Annotated[str, typer.Option(envvar="TRUCELINE_NATS", help=NATS_HELP)] = "nats://127.0.0.1:4222",
    stream: Annotated[str, typer.Option(help="JetStream stream name.")] = "TRUCELINE_OBS",
    subject_prefix: Annotated[str, typer.Option(help="Subjects are PREFIX.<sector>.")] = "truceline.obs",
    agreement: Annotated[str | None, typer.Option(help="Agreement YAML (default: the shipped one).")] = None,
    per_message: Annotated[
        int,
        typer.Option(
            min=1,
            max=1_000,
            help="Reports of one sector carried by one message (as NDJSON lines). A stream that fsyncs every "
            "message takes a few hundred messages a second on ordinary disks: batch for thousands of reports.",
        ),
    ] = 1,
) -> None:
    """Validate reports at the edge and publish each good one on its sector's subject.

    Every invalid record is printed as 'path:line: field: reason' and not published. Each
    published message waits for the stream's acknowledgement. Exit status as for ingest.
    """
    from truceline.ingest import ContextChecks, Rejected
    from truceline.ingest.bus import publish_lines

    ag = load_agreement_option(agreement)
    checks = ContextChecks(frozenset(ag.participant_ids()), SystemClock().now())
    lines: list[tuple[str, int, bytes]] = []
    for path in paths:
        if not os.path.isfile(path):
            raise UsageError(f"{path}: no such file")
        with open(path, "rb") as f:
            lines.extend((path, n, raw) for n, raw in enumerate(f, start=1))

    def on_reject(item: Rejected) -> None:
        for err in item.errors:
            err_console.print(str(err), markup=False)

    report = publish_lines(
        lines, nats, checks, lambda lon, lat: str(ag.sector_of([lon], [lat])[0]),
        stream=stream, prefix=subject_prefix, on_reject=on_reject, per_message=per_message,
    )  # fmt: skip
    console.print(
        f"published {report.published:,} of {report.read:,} reports to {stream} "
        f"in {report.messages:,} messages in {report.seconds:.2f} s; "
        f"rejected {report.rejected:,}"
    )
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


@handle_errors
def worker(
    database: Annotated[str, typer.Option(envvar="TRUCELINE_DATABASE", help="Store: postgresql://… URL.")],
    nats: Annotated[str, typer.Option(envvar="TRUCELINE_NATS", help=NATS_HELP)] = "nats://127.0.0.1:4222",
    stream: Annotated[str, typer.Option(help="JetStream stream name.")] = "TRUCELINE_OBS",
    subject_prefix: Annotated[str, typer.Option(help="Subjects are PREFIX.<sector>.")] = "truceline.obs",
    durable: Annotated[str, typer.Option(help="Durable consumer shared by the workers.")] = "truceline-worker",
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Messages per durable commit.")] = 500,
    idle_exit: Annotated[
        float | None,
        typer.Option(help="Stop once the stream is drained and idle this many seconds (default: run for ever)."),
    ] = None,
    ack_wait: Annotated[
        float, typer.Option(min=1, help="Seconds before a fetched, unacknowledged message goes to another worker.")
    ] = 30.0,
    rejects: Annotated[str | None, typer.Option(help="Append rejected messages here (NDJSON).")] = None,
    agreement: Annotated[str | None, typer.Option(help="Agreement YAML (default: the shipped one).")] = None,
    future_tolerance: Annotated[float, typer.Option(min=0, help="Seconds a report may lie in the future.")] = 600.0,
) -> None:
    """Consume the ingest stream into the store; run several on any hosts for scale-out.

    A batch is acknowledged only after its durable commit; a worker killed before that leaves
    its messages to another, and the store's permanent key stores each report once.
    """
    from truceline.ingest import ContextChecks, Rejected
    from truceline.ingest.bus import WorkerReport, run_worker

    if not database.startswith(("postgresql://", "postgres://")):
        raise UsageError("workers share one server store: give --database postgresql://…")
    ag = load_agreement_option(agreement)
    checks = ContextChecks(
        frozenset(ag.participant_ids()), SystemClock().now(), future_tolerance=timedelta(seconds=future_tolerance)
    )
    rejects_file = Path(rejects).open("a", encoding="utf-8") if rejects else None  # noqa: SIM115

    def on_reject(item: Rejected) -> None:
        for err in item.errors:
            err_console.print(str(err), markup=False)
            if rejects_file is not None:
                rejects_file.write(json.dumps({"record": item.record, "field": err.field, "reason": err.reason}) + "\n")
                rejects_file.flush()

    def on_batch(r: WorkerReport) -> None:
        if r.batches % 50 == 0:
            console.print(f"{r.received:,} received, {r.stored:,} stored, {r.duplicates:,} already stored")

    try:
        with opened_store(database) as store:
            report = run_worker(
                store, checks, nats, stream=stream, prefix=subject_prefix, durable=durable, batch=batch,
                idle_exit=idle_exit, ack_wait=ack_wait, on_reject=on_reject, on_batch=on_batch,
            )  # fmt: skip
    finally:
        if rejects_file is not None:
            rejects_file.close()
    console.print(
        f"worker done: {report.received:,} received, {report.stored:,} stored, "
        f"{report.duplicates:,} already stored, {report.rejected:,} rejected in {report.seconds:.1f} s"
    )
