"""``truceline demo``: the whole flow that exists today, end to end, on a simulated scenario."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from truceline.cli._common import console, handle_errors


@handle_errors
def demo(
    days: Annotated[int, typer.Option(min=1, max=60, help="Days of the scenario to simulate.")] = 3,
    out: Annotated[Path, typer.Option(help="Directory for the simulated run, the database and the plot.")] = Path(
        "demo-out"
    ),
    seed: Annotated[int, typer.Option(help="Random seed of the simulation (same seed, same reports).")] = 20260901,
    scale: Annotated[
        float, typer.Option(min=0.001, max=1.0, help="Fire-rate scale of the simulation (1.0 is a full-scale day).")
    ] = 0.01,
    scenario: Annotated[
        str, typer.Option(help="Simulated scenario: default, quiet, spiral, buildup or northern-axis.")
    ] = "default",
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Exit when done instead of serving the results.")
    ] = False,
) -> None:
    """Simulate a scenario on the real contact line, run every stage that exists, and score it.

    Simulates DAYS of SCENARIO (reports from sensors, monitors and participants, with a separate
    ground truth), ingests the reports into OUT/truceline.db, shows that re-sending stores nothing
    twice and that every bad record is named with its reason, runs every stage over the new data,
    verifies the evidence ledger with an inclusion proof, shows that one flipped byte in a copy of
    the database is caught, and finally scores what the stages produced against the ground truth
    (what 'truceline evaluate' prints). A map of the simulated run is drawn to OUT/simulated-run.png.
    """
    from truceline.agreement import default_agreement
    from truceline.ingest import ContextChecks, Rejected, ingest_paths
    from truceline.model import SystemClock
    from truceline.pipeline import StageReport, process
    from truceline.sim import bad_reports, load_truth, plot_run, simulate
    from truceline.sim import evaluate as score
    from truceline.sim import scenario as make_scenario
    from truceline.store import SQLiteStore

    out.mkdir(parents=True, exist_ok=True)
    db = out / "truceline.db"
    for stale in out.glob("truceline.db*"):
        stale.unlink()
    ag = default_agreement()
    console.rule("[bold]1. The agreement as code")
    length_km = ag.contact_line_metric.length / 1000
    console.print(
        f"{ag.title} (version {ag.version}, effective {ag.effective}): contact line {length_km:,.0f} km, "
        f"{len(ag.sectors)} sectors, {len(ag.clauses)} clauses, {len(ag.participants)} participants"
    )
    wd = Table("weapon class", "withdrawal per side", title="withdrawal distances")
    for w in ag.withdrawal.values():
        wd.add_row(w.weapon_class, f"{w.distance_km:g} km")
    console.print(wd)

    console.rule(f"[bold]2. Simulate {days} days of the '{scenario}' scenario")
    run_dir = out / "run"
    cfg = make_scenario(scenario, days=days, seed=seed, scale=scale)
    sim = simulate(cfg, run_dir, agreement=ag)
    kinds = ", ".join(f"{k} {n:,}" for k, n in sim.by_kind.items())
    console.print(
        f"{sim.observations:,} reports of {sim.events:,} firing events in {sim.seconds:.1f} s: {kinds}", soft_wrap=True
    )
    console.print(
        f"reports: {run_dir}/observations.ndjson; ground truth (never read by the stages): {run_dir}/truth.json"
    )
    good = run_dir / "observations.ndjson"
    checks = ContextChecks(frozenset(ag.participant_ids()), SystemClock().now())
    store = SQLiteStore(db)
    try:
        console.rule("[bold]3. Ingest the reports")
        report = ingest_paths([str(good)], store, checks, batch_size=5000)
        console.print(
            f"{good}: {report.read:,} reports stored in {report.seconds:.2f} s "
            f"({report.read / max(report.seconds, 1e-9):,.0f}/s), {report.rejected} rejected; "
            f"ledger size {report.tree_head.tree_size if report.tree_head else 0:,}"
        )
        again = ingest_paths([str(good)], store, checks, batch_size=5000)
        console.print(
            f"sent again: stored {again.stored}, already stored {again.duplicates:,}: nothing stored twice",
            soft_wrap=True,
        )

        console.rule("[bold]4. A file of typical mistakes")
        bad = out / "bad-reports.ndjson"
        with good.open() as lines:
            met = next(json.loads(line) for line in lines if '"met_observation"' in line)
        bad.write_text("\n".join(bad_reports(met)) + "\n")
        rejected: list[Rejected] = []
        bad_report = ingest_paths([str(bad)], store, checks, on_reject=rejected.append)
        for item in rejected:
            console.print(f"  [red]rejected[/] {item.errors[0]}", markup=True, highlight=False, soft_wrap=True)
        console.print(f"{bad_report.rejected} rejected, {bad_report.stored} stored, nothing half-written")

        console.rule("[bold]5. Run the stages")

        def show(stage: StageReport) -> None:
            counts = ", ".join(f"{k} {v:,}" for k, v in stage.counts.items())
            console.print(f"  {stage.name}: {counts or 'nothing new'} ({stage.seconds:.2f} s)")

        processed = process(store, ag, on_stage=show, media_root=run_dir)
        console.print(
            f"processed #{processed.first_seq:,}…#{processed.last_seq:,}; stages: "
            + (", ".join(processed.stages_run) or "none yet beyond ingest")
        )

        console.rule("[bold]6. Verify the evidence ledger")
        verification = store.verify_ledger()
        for name, log_report in verification.reports.items():
            console.print(f"ledger verify ({name}): {log_report.summary()}")
        seq = max(1, store.max_seq() // 2)
        head = store.tree_head()
        proof = store.inclusion_proof("observations", seq)
        stored = next(iter(store.observations(_after(seq - 1))))
        from truceline.ledger import verify_inclusion

        ok = head is not None and verify_inclusion(
            stored.leaf_hash, seq - 1, head.tree_size, proof, bytes.fromhex(head.root_hash)
        )
        console.print(
            f"inclusion proof of report #{seq} ({'/'.join(stored.observation.dedup_key)}): {len(proof)} hashes "
            f"against signed tree head of size {head.tree_size if head else 0:,}: "
            + ("[green]verified[/]" if ok else "[red]FAILED[/]")
        )
        summary = _per_sector(ag, store)
        evaluation = score(load_truth(run_dir / "truth.json"), store)
    finally:
        store.close()

    console.rule("[bold]7. Tamper with a copy: flip one byte")
    tampered = out / "tampered.db"
    shutil.copyfile(db, tampered)
    for suffix in (".key", ".key.pub"):  # the copy is checked against the original's key
        shutil.copy2(Path(f"{db}{suffix}"), Path(f"{tampered}{suffix}"))  # copy2 keeps mode 0600
    victim = _flip_a_byte(tampered)
    if victim is None:
        console.print("[yellow]no stored report has a latitude to flip in place: the tamper check is skipped[/]")
    else:
        check = SQLiteStore(tampered)
        try:
            result = check.verify_ledger()
        finally:
            check.close()
        first = result.reports["observations"].first_error if result.reports else None
        console.print(
            f"flipped one byte inside report #{victim}; ledger verify: "
            + ("[red]FAILED[/] — " + str(first) if not result.ok else "[yellow]passed (unexpected)[/]"),
            soft_wrap=True,
        )

    console.rule("[bold]8. Score against the ground truth (truceline evaluate)")
    console.print(summary)
    _print_evaluation(evaluation)
    png = plot_run(run_dir, out / "simulated-run.png", agreement=ag)
    console.print(
        Panel.fit(
            f"database: {db}\nreports: {good}\ntruth: {run_dir}/truth.json\nmistakes: {bad}\nmap: {png}\n"
            f"try: truceline evaluate --truth {run_dir}/truth.json --db {db} --json\n"
            f"     truceline ledger verify --db {db}\n     truceline ledger prove {seq} --db {db}",
            title="files",
        )
    )
    if not no_serve:
        console.print("The dashboard (`truceline serve`) is not built yet; nothing to serve.")


def _print_evaluation(evaluation: dict[str, Any]) -> None:
    """The evaluation's scored sections as one table (meta and ingest in a line each)."""
    meta, ingest = evaluation.get("meta", {}), evaluation.get("ingest", {})
    console.print(
        f"scenario {meta.get('scenario')} seed {meta.get('seed')} scale {meta.get('scale')}: "
        f"{meta.get('true_events', 0):,} true firing events; stored {ingest.get('observations_stored', 0):,} of "
        f"{ingest.get('observations_simulated', 0):,} simulated reports"
    )
    table = Table("stage", "metric", "value", title="evaluation against the ground truth")
    for section, values in evaluation.items():
        if section in ("meta", "ingest") or not isinstance(values, dict):
            continue
        for key, value in values.items():
            if isinstance(value, dict | list):
                continue
            shown = "—" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
            table.add_row(section, key, shown)
    if table.row_count:
        console.print(table)
    else:
        console.print("no stage beyond ingest has produced records yet, so there is nothing else to score")


def _after(seq: int):  # type: ignore[no-untyped-def]
    from truceline.store import ObservationQuery

    return ObservationQuery(after_seq=seq, limit=1)


_COLUMNS = {
    "acoustic_arrival": "acoustic",
    "radar_track": "radar",
    "patrol_report": "patrol",
    "imagery_detection": "imagery",
    "weapon_sighting": "weapons",
    "uav_sighting": "uav",
    "air_track": "air",
    "sea_track": "sea",
    "met_observation": "weather",
}


def _per_sector(ag, store) -> Table:  # type: ignore[no-untyped-def]
    import numpy as np

    counts: Counter[tuple[str, str]] = Counter()
    lons, lats, kinds = [], [], []
    for s in store.observations():
        kind = _COLUMNS.get(s.observation.kind, "other")
        loc = s.observation.location
        if loc is None:
            counts[("(no location)", kind)] += 1
            continue
        lons.append(loc.lon)
        lats.append(loc.lat)
        kinds.append(kind)
    if lons:
        sectors = ag.sector_of(np.array(lons), np.array(lats))
        for sector, kind in zip(sectors, kinds, strict=True):
            label = str(sector) if sector else "(rear)"
            counts[(label, kind)] += 1
    columns = [*_COLUMNS.values(), "other"]
    table = Table("sector", "reports", *columns, title="reports per sector and kind")
    for sector in sorted({s for s, _ in counts}):
        row = [counts.get((sector, k), 0) for k in columns]
        table.add_row(sector, str(sum(row)), *[str(n) if n else "" for n in row])
    return table


def _flip_a_byte(db: Path) -> int | None:
    """Flip one bit inside a stored report's JSON in the database file; return its seq.

    The last digit of the report's latitude: the record still parses, but no longer matches its
    leaf. The report is the first weapon sighting, or, in a run without one, the first stored
    report that has a latitude and lies in one piece, once, in the file. None (the file
    untouched) if no report does."""
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = bytearray(db.read_bytes())
        found = None
        for query in (
            "SELECT seq, body FROM observations WHERE kind = 'weapon_sighting' ORDER BY seq",
            "SELECT seq, body FROM observations WHERE kind != 'weapon_sighting' ORDER BY seq",
        ):
            for seq, body in conn.execute(query):
                target = _latitude_digit(data, bytes(body))
                if target is not None:
                    found = (int(seq), target)
                    break
            if found is not None:
                break
    if found is None:
        return None
    seq, target = found
    data[target] ^= 0x01
    db.write_bytes(bytes(data))
    return seq


_LATITUDE = re.compile(rb'"lat"\s*:\s*-?[0-9]+(?:\.[0-9]+)?')


def _latitude_digit(data: bytes | bytearray, body: bytes) -> int | None:
    """Where in ``data`` the last digit of ``body``'s latitude is, if ``body`` lies there whole and once."""
    m = _LATITUDE.search(body)
    if m is None:
        return None
    at = data.find(body)
    if at < 0 or data.find(body, at + 1) >= 0:
        return None
    return at + m.end() - 1
