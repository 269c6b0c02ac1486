"""``truceline exercise``: a tabletop exercise, a simulated scenario through the whole pipeline.

Planners test the operating document before they need it: the scenario is simulated, its reports
ingested into a fresh store and run through every stage, and the act stage's playbook is then
replayed step by step (CAP status ``Exercise``) so the timeline shows when each warning, alert and
directive would have come, next to what the simulation says really happened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from truceline.cli._common import console, handle_errors


@handle_errors
def exercise(
    scenario: Annotated[
        str, typer.Option(help="Simulated scenario: default, quiet, spiral, buildup or northern-axis.")
    ] = "buildup",
    days: Annotated[int, typer.Option(min=1, max=60, help="Days of the scenario to simulate.")] = 21,
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 20260901,
    scale: Annotated[float, typer.Option(min=0.001, max=1.0, help="Fire-rate scale (1.0 is full scale).")] = 0.01,
    out: Annotated[Path, typer.Option(help="Directory for the simulated run and the exercise database.")] = Path(
        "exercise-out"
    ),
    playbook: Annotated[
        Path | None, typer.Option(help="Playbook YAML to exercise (default: the shipped one).")
    ] = None,
    step_hours: Annotated[float, typer.Option("--step-hours", min=0.1, help="Hours between engine steps.")] = 6.0,
) -> None:
    """Run SCENARIO through simulate → ingest → every stage, then print the playbook's timeline.

    The timeline lists, in time order, each warning-level change, alert and directive the playbook
    would issue; the scenario's true offensives (from the simulation's ground truth) are printed
    after it, so the lead time of the operating document can be read off directly.
    """
    from truceline.agreement import default_agreement
    from truceline.cli.act_cmd import print_exercise
    from truceline.ingest import ContextChecks, ingest_paths
    from truceline.model import SystemClock
    from truceline.pipeline import StageReport, process
    from truceline.sim import scenario as make_scenario
    from truceline.sim import simulate
    from truceline.store import SQLiteStore

    ag = default_agreement()
    out.mkdir(parents=True, exist_ok=True)
    run_dir = out / "run"
    db = out / "exercise.db"
    for stale in out.glob("exercise.db*"):
        stale.unlink()
    cfg = make_scenario(scenario, days=days, seed=seed, scale=scale)
    console.rule(f"[bold]Simulate {days} days of '{scenario}'")
    sim = simulate(cfg, run_dir, agreement=ag)
    console.print(f"{sim.observations:,} reports of {sim.events:,} firing events in {sim.seconds:.1f} s")
    store = SQLiteStore(db)
    try:
        console.rule("[bold]Ingest and run the stages")
        checks = ContextChecks(frozenset(ag.participant_ids()), SystemClock().now())
        report = ingest_paths([str(run_dir / "observations.ndjson")], store, checks, batch_size=5000)
        console.print(f"{report.stored:,} reports stored, {report.rejected} rejected")

        def show(stage: StageReport) -> None:
            counts = ", ".join(f"{k} {v:,}" for k, v in stage.counts.items())
            console.print(f"  {stage.name}: {counts or 'nothing new'} ({stage.seconds:.2f} s)")

        process(store, ag, on_stage=show, media_root=run_dir)
        console.rule("[bold]The playbook's timeline (CAP status Exercise)")
        print_exercise(store, ag, playbook=playbook, step_hours=step_hours)
    finally:
        store.close()
    truth = json.loads((run_dir / "truth.json").read_text())
    offensives = truth.get("offensives", [])
    if offensives:
        for off in offensives:
            console.print(f"[bold]ground truth:[/] offensive in {off.get('sector')} on {off.get('date')}")
    else:
        console.print("ground truth: no offensive in this scenario")
    console.print(f"database: {db}  (truceline act alerts --db {db})")
