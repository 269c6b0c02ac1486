"""``truceline simulate`` and ``truceline evaluate``: scenarios with ground truth, and their scores."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from truceline.cli._common import DB_HELP, DEFAULT_DB, console, err_console, existing_db, handle_errors, opened_store
from truceline.model import UsageError


@handle_errors
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Directory for observations.ndjson, truth.json and media/.")],
    days: Annotated[int, typer.Option(min=1, max=400, help="Days to simulate.")] = 7,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 20260901,
    scale: Annotated[
        float,
        typer.Option(min=0.0001, max=20.0, help="Fire-rate multiplier: 1.0 is > 1,000,000 acoustic detections a day."),
    ] = 0.01,
    scenario: Annotated[
        str, typer.Option(help="default, quiet, spiral, buildup or northern-axis (see docs/simulation.md).")
    ] = "default",
    start: Annotated[
        str | None,
        typer.Option(help="First simulated day, YYYY-MM-DD (default 2026-09-01); the run must end in the past."),
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Also draw the run to this PNG (a map of a day and plots).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
    firing_positions_in_sector: Annotated[
        bool,
        typer.Option(
            "--firing-positions-in-sector/--no-firing-positions-in-sector",
            help="Keep every firing position inside its own sector as the agreement defines it: the "
            "per-sector escalation model assumes a sector's fire comes from that sector, and the long "
            "escalation benchmark simulates with it. Off by default for now: about a tenth of the "
            "positions stand nearer a neighbour's line (see docs/assess.md).",
        ),
    ] = False,
) -> None:
    """Simulate a scenario on the real contact line, writing the reports and their ground truth.

    OUT/observations.ndjson is in the ingest format (feed it to 'truceline ingest'); OUT/truth.json
    holds every true event, weapon position, violation, staged claim, the build-up's onset and the
    offensive's date and the Hawkes parameters per sector, for 'truceline evaluate' only.
    """
    from truceline.sim import plot_run
    from truceline.sim import scenario as make_scenario
    from truceline.sim import simulate as run

    overrides: dict[str, object] = {
        "days": days,
        "seed": seed,
        "scale": scale,
        "firing_positions_in_sector": firing_positions_in_sector,
    }
    if start is not None:
        try:
            overrides["start"] = date.fromisoformat(start)
        except ValueError:
            raise UsageError(f"--start {start!r} is not a date (YYYY-MM-DD)") from None
    cfg = make_scenario(scenario, **overrides)

    def progress(done: int, total: int) -> None:
        if not quiet and err_console.is_terminal:
            err_console.print(f"simulated day {done}/{total}", end="\r")

    summary = run(cfg, out, progress=progress)
    if plot is not None:
        plot_run(out, plot)
    if quiet:
        return
    table = Table("kind", "reports", title=f"{out}/observations.ndjson")
    for kind, n in summary.by_kind.items():
        table.add_row(kind, f"{n:,}")
    console.print(table)
    extra = ""
    if cfg.onset is not None and cfg.offensive is not None:
        extra = f"; build-up in {cfg.buildup_sector} from day {cfg.onset}, offensive on day {cfg.offensive}"
        extra += "" if cfg.offensive < cfg.days else " (after the window)"
    console.print(
        f"{summary.observations:,} reports of {summary.events:,} firing events over {cfg.days} days "
        f"in {summary.seconds:.1f} s ({summary.per_minute:,.0f} reports/min){extra}; truth in {out}/truth.json"
    )


@handle_errors
def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="The run's truth.json (written by 'truceline simulate').")],
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    plots: Annotated[
        Path | None,
        typer.Option(help="Also draw the evaluation's plots into this directory (e.g. the reliability diagram)."),
    ] = None,
) -> None:
    """Score what the pipeline stored against a simulated run's ground truth.

    Only sections whose stage produced records appear (association, localization, attribution,
    staging, verification, escalation, early_warning); meta and ingest are always there. The
    definitions of every number are in docs/simulation.md.
    """
    from truceline.sim import evaluate as score
    from truceline.sim import load_truth

    truth_doc = load_truth(truth)
    with opened_store(existing_db(db)) as store:
        result = score(truth_doc, store)
    drawn: list[Path] = []
    if plots is not None and "attribution" in result:
        from truceline.sim import plot_reliability

        drawn.append(plot_reliability(result["attribution"], plots / "reliability.png"))
    if as_json:
        typer.echo(json.dumps(result, sort_keys=False))
        return
    for section, values in result.items():
        table = Table("metric", "value", title=section)
        for key, value in values.items():
            if isinstance(value, dict | list):
                value = json.dumps(value)
            table.add_row(key, "—" if value is None else str(value))
        console.print(table)
    for path in drawn:
        console.print(f"drew {path}")
    if plots is not None and not drawn:
        console.print("no plots: no stage that has a plot (attribution's reliability diagram) has produced records")
