"""``truceline demo``: the whole flow that exists today, end to end, on a built-in example."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from truceline.cli._common import console, handle_errors


@handle_errors
def demo(
    days: Annotated[int, typer.Option(min=1, max=30, help="Days of example reports to generate.")] = 2,
    out: Annotated[Path, typer.Option(help="Directory for the example files and the database.")] = Path(
        "demo-out"
    ),
    seed: Annotated[
        int, typer.Option(help="Random seed of the example (same seed, same reports).")
    ] = 20260901,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Exit when done instead of serving the results.")
    ] = False,
) -> None:
    """Run every stage that exists on a small example laid on the real contact line.

    Writes the example reports and a file of typical mistakes to OUT, ingests them into
    OUT/truceline.db, shows that re-sending stores nothing twice and that every bad record is
    named with its reason, processes the new data, verifies the evidence ledger, prints an
    inclusion proof, and shows that one flipped byte in a copy of the database is caught and named.
    """
    from truceline.agreement import default_agreement
    from truceline.ingest import ContextChecks, Rejected, ingest_paths
    from truceline.model import SystemClock
    from truceline.pipeline import process
    from truceline.sim import ExampleConfig, bad_reports, example_reports
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

    console.rule("[bold]2. Ingest a built-in example")
    reports = example_reports(ag, ExampleConfig(days=days, seed=seed))
    good = out / "reports.ndjson"
    good.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in reports))
    checks = ContextChecks(frozenset(ag.participant_ids()), SystemClock().now())
    store = SQLiteStore(db)
    try:
        report = ingest_paths([str(good)], store, checks, batch_size=1000)
        console.print(
            f"{good}: {report.read:,} reports from {len({r['participant'] for r in reports})} participants stored in "
            f"{report.seconds:.2f} s; ledger size {report.tree_head.tree_size if report.tree_head else 0:,}"
        )
        console.rule("[bold]3. Send the same file again")
        again = ingest_paths([str(good)], store, checks)
        console.print(
            f"stored {again.stored}, already stored {again.duplicates:,}: re-sending changes nothing"
        )

        console.rule("[bold]4. A file of typical mistakes")
        bad = out / "bad-reports.ndjson"
        bad.write_text(
            "\n".join(bad_reports(next(r for r in reports if r["kind"] == "met_observation"))) + "\n"
        )
        rejected: list[Rejected] = []
        bad_report = ingest_paths([str(bad)], store, checks, on_reject=rejected.append)
        for item in rejected:
            console.print(
                f"  [red]rejected[/] {item.errors[0]}", markup=True, highlight=False, soft_wrap=True
            )
        console.print(f"{bad_report.rejected} rejected, {bad_report.stored} stored, nothing half-written")

        console.rule("[bold]5. Process, and verify the evidence ledger")
        processed = process(store)
        console.print(
            f"processed #{processed.first_seq}…#{processed.last_seq}; stages after ingest: "
            + (", ".join(processed.stages_run) or "none yet (fuse, attribute, verify, assess, act land next)")
        )
        verification = store.verify_ledger()
        obs_report = verification.reports["observations"]
        console.print(f"ledger verify: {obs_report.summary()}")
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
    finally:
        store.close()

    console.rule("[bold]6. Tamper with a copy: flip one byte")
    tampered = out / "tampered.db"
    shutil.copyfile(db, tampered)
    for suffix in (".key", ".key.pub"):  # the copy is checked against the original's key
        shutil.copy2(Path(f"{db}{suffix}"), Path(f"{tampered}{suffix}"))  # copy2 keeps mode 0600
    victim = _flip_a_byte(tampered)
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

    console.rule("[bold]Summary")
    console.print(summary)
    console.print(
        Panel.fit(
            f"database: {db}\nreports: {good}\nmistakes: {bad}\n"
            f"try: truceline ledger verify --db {db}\n     truceline ledger prove {seq} --db {db}",
            title="files",
        )
    )
    if not no_serve:
        console.print("The dashboard (`truceline serve`) is not built yet; nothing to serve.")


def _after(seq: int):  # type: ignore[no-untyped-def]
    from truceline.store import ObservationQuery

    return ObservationQuery(after_seq=seq, limit=1)


_COLUMNS = {
    "acoustic_arrival": "acoustic",
    "radar_track": "radar",
    "patrol_report": "patrol",
    "weapon_sighting": "weapons",
    "storage_visit": "storage",
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
    table = Table("sector", "reports", *columns, title="reports per sector and kind", min_width=100)
    for sector in sorted({s for s, _ in counts}):
        row = [counts.get((sector, k), 0) for k in columns]
        table.add_row(sector, str(sum(row)), *[str(n) if n else "" for n in row])
    return table


def _flip_a_byte(db: Path) -> int:
    """Flip one bit inside a stored report's JSON in the database file; return its seq."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        seq, body = conn.execute(
            "SELECT seq, body FROM observations WHERE kind = 'weapon_sighting' LIMIT 1"
        ).fetchone()
    data = bytearray(db.read_bytes())
    at = data.find(bytes(body))
    # The last digit of the latitude: the record still parses, but no longer matches its leaf.
    target = at + bytes(body).find(b',"lon":') - 1
    data[target] ^= 0x01
    db.write_bytes(bytes(data))
    return int(seq)
