"""``truceline exercise``: a tabletop exercise, a simulated scenario through the whole pipeline.

Planners test the operating document before they need it: the scenario is simulated, its reports
ingested into a fresh store and run through every stage, and the act stage's playbook is then
replayed step by step (CAP status ``Exercise``) so the timeline shows when each warning, alert and
directive would have come, next to what the simulation says really happened.

:func:`run_scenario_exercise` does the work (the test of the build-up scenario calls it too); the
command prints what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from truceline.cli._common import console, handle_errors

if TYPE_CHECKING:
    from truceline.act import ExerciseResult
    from truceline.pipeline import StageReport


@dataclass
class ScenarioExercise:
    """What a scenario exercise produced: the playbook's timeline and the simulation's truth."""

    result: ExerciseResult
    db: Path
    observations: int = 0
    stored: int = 0
    offensives: list[dict[str, Any]] = field(default_factory=list)

    def offensive_dates(self, sector: str | None = None) -> list[datetime]:
        """When the true offensives began (optionally in one sector), from the simulation's truth."""
        return sorted(datetime.fromisoformat(str(o["date"]).replace("Z", "+00:00"))
                      for o in self.offensives if sector is None or o.get("sector") == sector)


def run_scenario_exercise(
    scenario: str,
    out: Path,
    *,
    days: int = 21,
    seed: int = 20260901,
    scale: float = 0.01,
    playbook: Path | None = None,
    step_hours: float = 6.0,
    buildup_days: int | None = None,
    say: Callable[[str], None] = lambda text: None,
    on_stage: Callable[[StageReport], None] | None = None,
) -> ScenarioExercise:
    """Simulate ``scenario`` into ``out``/run, ingest it into a fresh ``out``/exercise.db, run every
    stage (:func:`truceline.pipeline.process`), then replay the stored records through the playbook."""
    from datetime import timedelta

    from truceline.act import ActSettings, load_playbook, run_exercise
    from truceline.agreement import default_agreement
    from truceline.ingest import ContextChecks, ingest_paths
    from truceline.model import SystemClock
    from truceline.pipeline import process
    from truceline.sim import scenario as make_scenario
    from truceline.sim import simulate
    from truceline.store import SQLiteStore

    ag = default_agreement()
    out.mkdir(parents=True, exist_ok=True)
    run_dir = out / "run"
    db = out / "exercise.db"
    for stale in out.glob("exercise.db*"):
        stale.unlink()
    overrides: dict[str, Any] = {"days": days, "seed": seed, "scale": scale}
    if buildup_days is not None:
        overrides["buildup_days"] = buildup_days
    cfg = make_scenario(scenario, **overrides)
    say(f"Simulate {days} days of '{scenario}'")
    sim = simulate(cfg, run_dir, agreement=ag)
    say(f"{sim.observations:,} reports of {sim.events:,} firing events in {sim.seconds:.1f} s")
    store = SQLiteStore(db)
    try:
        say("Ingest and run the stages")
        checks = ContextChecks(frozenset(ag.participant_ids()), SystemClock().now())
        report = ingest_paths([str(run_dir / "observations.ndjson")], store, checks, batch_size=5000)
        say(f"{report.stored:,} reports stored, {report.rejected} rejected")
        process(store, ag, on_stage=on_stage, media_root=run_dir)
        settings = ActSettings(playbook=load_playbook(playbook, ag))
        result = run_exercise(store, ag, settings=settings, step=timedelta(hours=step_hours))
    finally:
        store.close()
    truth = json.loads((run_dir / "truth.json").read_text())
    return ScenarioExercise(result=result, db=db, observations=sim.observations, stored=report.stored,
                            offensives=list(truth.get("offensives", [])))


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
    buildup_days: Annotated[
        int | None, typer.Option("--buildup-days", min=7, max=60,
                                 help="Length of the build-up before the offensive (default: the scenario's, 21).")
    ] = None,
) -> None:
    """Run SCENARIO through simulate → ingest → every stage, then print the playbook's timeline.

    The timeline lists, in time order, each warning-level change, alert and directive the playbook
    would issue; the scenario's true offensives (from the simulation's ground truth) are printed
    after it, so the lead time of the operating document can be read off directly.
    """
    from truceline.cli.act_cmd import print_timeline

    def show(stage: StageReport) -> None:
        counts = ", ".join(f"{k} {v:,}" for k, v in stage.counts.items())
        console.print(f"  {stage.name}: {counts or 'nothing new'} ({stage.seconds:.2f} s)")

    def say(text: str) -> None:
        if text.startswith(("Simulate", "Ingest")):
            console.rule(f"[bold]{text}")
        else:
            console.print(text)

    done = run_scenario_exercise(scenario, out, days=days, seed=seed, scale=scale, playbook=playbook,
                                 step_hours=step_hours, buildup_days=buildup_days, say=say, on_stage=show)
    console.rule("[bold]The playbook's timeline (CAP status Exercise)")
    print_timeline(done.result)
    if done.offensives:
        for off in done.offensives:
            console.print(f"[bold]ground truth:[/] offensive in {off.get('sector')} on {off.get('date')}")
    else:
        console.print("ground truth: no offensive in this scenario")
    console.print(f"database: {done.db}  (truceline act alerts --db {done.db})")
