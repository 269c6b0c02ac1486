"""The daily report of a full simulated day, beside the OSCE-style plain-text report of the same day.

Target (issue 11): the report (HTML with its map and plots) is generated in ≤ 60 s for a full
simulated day. The data: ``--scale 1.0`` simulated for two days (the report compares a day with
the one before), ingested into the embedded SQLite store, plus stand-in records for the stages
that do not run yet (one incident per firing event, findings, staging checks, assessments and
alerts made from the truth: ``tests/unit/report/simulated.py``). The peer is the plain-text
report the OSCE mission published (counts per area against the day before), made from the same
store by ``osce_text_report``. Each contender runs in a fresh child process (so its peak memory
is its own), the full view and a participant's view, interleaved over ``--rounds``; the best
round of each is kept. The PDF (headless Chromium) is timed once when Chromium is present.

    python benchmarks/report.py [--scale 1.0] [--rounds 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.unit.report.simulated

from _common import write_result

TARGET_S = 60.0
START = date(2026, 10, 1)
DAY = date(2026, 10, 2)


def prepare(workdir: Path, scale: float) -> Path:
    """Simulate two days, ingest them and store the stand-in stage records; return the database."""
    from tests.unit.report.simulated import load_truth_doc, records_from_truth
    from truceline.sim import scenario, simulate
    from truceline.store import SQLiteStore

    db = workdir / "t.db"
    if db.exists():
        return db
    began = time.perf_counter()
    simulate(scenario("default", days=2, scale=scale, start=START), workdir / "run")
    print(f"simulated in {time.perf_counter() - began:.0f} s", flush=True)
    began = time.perf_counter()
    exe = Path(sys.executable).parent / "truceline"
    subprocess.run(
        [str(exe), "ingest", str(workdir / "run" / "observations.ndjson"), "--db", str(db), "--quiet"], check=True
    )
    print(f"ingested in {time.perf_counter() - began:.0f} s", flush=True)
    began = time.perf_counter()
    truth = load_truth_doc(workdir / "run" / "truth.json")
    store = SQLiteStore(db)
    batch: list[Any] = []
    n = 0
    for record in records_from_truth(truth, created=datetime(2026, 10, 3, 6, tzinfo=UTC)):
        batch.append(record)
        if len(batch) >= 20_000:
            store.put_records(batch)
            n += len(batch)
            batch = []
    store.put_records(batch)
    n += len(batch)
    store.close()
    print(f"stored {n:,} stand-in stage records in {time.perf_counter() - began:.0f} s", flush=True)
    return db


def hwm_mb() -> float:
    """This process's peak resident memory (VmHWM) in MiB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(kind: str, db: str, out: str, reader: str | None) -> None:
    """Run one contender and print one JSON line: seconds and peak RSS."""
    from truceline.agreement import default_agreement
    from truceline.policy import PolicyContext
    from truceline.report import Viewer, build_report, osce_text_report, write_report
    from truceline.store import SQLiteStore

    agreement = default_agreement()
    viewer = Viewer.full()
    if reader:
        viewer = Viewer.for_participant(PolicyContext.of(sorted(agreement.participant_ids())), reader)
    began = time.perf_counter()
    store = SQLiteStore(db)
    if kind == "baseline":
        Path(out).write_text(osce_text_report(store, agreement, DAY, viewer))
        counts: dict[str, int] = {}
    else:
        report = build_report(store, agreement, DAY, viewer=viewer)
        write_report(report, out)
        counts = report.counts
    seconds = time.perf_counter() - began
    store.close()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child forked from the big
    # parent (which simulated the day) would report the parent's peak instead of its own.
    peak = hwm_mb()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": round(peak),
                "bytes": Path(out).stat().st_size,
                **counts,
            }
        )
    )


def run_child(kind: str, db: Path, out: Path, reader: str | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--db", str(db), "--out", str(out)]
    if reader:
        command += ["--reader", reader]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the simulated store in this directory")
    parser.add_argument("--child", choices=("report", "pdf", "baseline"))
    parser.add_argument("--db")
    parser.add_argument("--out")
    parser.add_argument("--reader")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.out, args.reader)
        return
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="truceline-report-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        db = prepare(workdir, args.scale)
        best: dict[str, dict[str, Any]] = {}
        for _ in range(args.rounds):
            for name, kind, reader, out in (
                ("report_full", "report", None, "full.html"),
                ("baseline_full", "baseline", None, "full.txt"),
                ("report_ukr", "report", "UKR", "ukr.html"),
                ("baseline_ukr", "baseline", "UKR", "ukr.txt"),
            ):
                result = run_child(kind, db, workdir / out, reader)
                print(f"  {name:<14} {result['seconds']:6.1f} s  peak {result['peak_rss_mb']:5d} MiB", flush=True)
                if name not in best or result["seconds"] < best[name]["seconds"]:
                    best[name] = result
        pdf: dict[str, Any] | None = None
        if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
            pdf = run_child("report", db, workdir / "full.pdf")
            print(f"  {'report_pdf':<14} {pdf['seconds']:6.1f} s  peak {pdf['peak_rss_mb']:5d} MiB", flush=True)
        else:
            print("  report_pdf     skipped: no Chromium", flush=True)
        full, base = best["report_full"], best["baseline_full"]
        print(
            f"\nreport of {DAY} at scale {args.scale}: {full['seconds']:.1f} s (target ≤ {TARGET_S:.0f} s), "
            f"{full['incidents']:,} incidents, {full['acoustic_reports']:,} acoustic reports; "
            f"OSCE-style text {base['seconds']:.1f} s"
        )
        write_result(
            "report",
            {
                "scale": args.scale,
                "day": DAY.isoformat(),
                "incidents": full["incidents"],
                "acoustic_reports": full["acoustic_reports"],
                "report_s": round(full["seconds"], 2),
                "report_peak_rss_mb": full["peak_rss_mb"],
                "report_html_mb": round(full["bytes"] / 2**20, 2),
                "participant_report_s": round(best["report_ukr"]["seconds"], 2),
                "pdf_s": None if pdf is None else round(pdf["seconds"], 2),
                "pdf_peak_rss_mb": None if pdf is None else pdf["peak_rss_mb"],
                "baseline_s": round(base["seconds"], 2),
                "baseline_peak_rss_mb": base["peak_rss_mb"],
                "participant_baseline_s": round(best["baseline_ukr"]["seconds"], 2),
                "ratio": round(base["seconds"] / full["seconds"], 3),
                "ratio_note": "speed of the full report relative to the OSCE-style text report (peer time / ours)",
                "targets": {"report_s": TARGET_S},
                "met": full["seconds"] <= TARGET_S and (pdf is None or pdf["seconds"] <= TARGET_S),
            },
        )
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
