"""Escalation on long simulated runs, through the whole pipeline: the branching ratio against the truth.

Target (issue 7): ``escalation.branching_ratio_error`` ≤ 0.05 on a long simulated sector, where the
error is the mean |estimate − truth| over every sector-day the assess stage fitted, the truth being
the sector's branching ratio that day (``daily_branching_ratio`` in the run's ``truth.json``).

For each seed this runs the real commands, as an analyst would, on the embedded SQLite store:

1. ``truceline simulate --scenario spiral --days 84 --scale 0.01`` — twelve weeks in which all
   twelve contact-line sectors fire at the training scale (each sector at its own branching
   ratio, about 0.5) while CL-07 drops (a renewed commitment), recovers and then spirals to 0.92.
   Twelve weeks give every sector at least eight weeks of full 28-day context; the spiral
   scenario has no build-up, so the error is not dominated by an offensive's 25-fold surge.
2. ``truceline ingest``, 3. ``truceline process`` (fuse, attribute, verify, assess, act),
4. ``truceline evaluate --json``: the run's ``escalation`` section (and ``early_warning``: no
   offensive here, so only false alarms count).

It prints each seed's ``branching_ratio_error``, ``max_error`` and ``n``, the error per sector
(read from the same store), the time of each step, and the mean. There is no peer program: the
final JSON line's ``ratio`` is the worst seed's error over the target (≤ 1 is met).

``--reuse`` keeps an earlier run's store (``--workdir``) and reruns only the assess stage on it
before evaluating: for trying the estimator without redoing fuse and attribute; the figures to
quote come from a full run.

    python benchmarks/escalation_long.py [--seeds 301 302 303] [--days 84] [--scale 0.01]
        [--scenario spiral] [--workdir DIR] [--reuse] [--name escalation_long]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result

TARGET = 0.05
CLI = [sys.executable, "-m", "truceline"]


def _run(args: list[str]) -> tuple[str, float]:
    """Run one ``truceline`` command; its stdout and wall seconds. A failure stops the benchmark."""
    began = time.perf_counter()
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"truceline {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout, seconds


def _reassess(db: Path) -> float:
    """Rerun only the assess stage over the whole store (``--reuse``); its seconds."""
    from truceline.agreement import default_agreement
    from truceline.assess import run
    from truceline.store import SQLiteStore

    store = SQLiteStore(db)
    try:
        began = time.perf_counter()
        run(store, default_agreement(), after_seq=0, upto_seq=store.max_seq())
        return time.perf_counter() - began
    finally:
        store.close()


def per_sector(truth_path: Path, db: Path) -> dict[str, dict[str, float]]:
    """The escalation error of each sector (the same definition, one sector at a time)."""
    from truceline.model import Assessment
    from truceline.sim import load_truth
    from truceline.sim.metrics import score_escalation
    from truceline.store import SQLiteStore

    truth = load_truth(truth_path)
    store = SQLiteStore(db)
    try:
        by_sector: dict[str, list[Assessment]] = defaultdict(list)
        for r in store.records("assessment"):
            if isinstance(r.record, Assessment):
                by_sector[r.record.sector].append(r.record)
    finally:
        store.close()
    out = {}
    for sector, records in sorted(by_sector.items()):
        score = score_escalation(truth, records)
        if score is not None:
            out[sector] = {"error": score["branching_ratio_error"], "max": score["max_error"], "n": score["n"]}
    return out


def one_seed(args: argparse.Namespace, seed: int, root: Path) -> dict[str, Any]:
    run_dir = root / f"{args.scenario}-{seed}"
    db = run_dir / "truceline.db"
    times: dict[str, float] = {}
    if args.reuse and db.exists():
        times["assess"] = round(_reassess(db), 1)
    else:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        _, times["simulate"] = _run(
            ["simulate", "--out", str(run_dir), "--scenario", args.scenario, "--days", str(args.days),
             "--seed", str(seed), "--scale", str(args.scale), "--quiet"]
        )  # fmt: skip
        _, times["ingest"] = _run(["ingest", str(run_dir / "observations.ndjson"), "--db", str(db)])
        (run_dir / "observations.ndjson").unlink()  # stored now; the bulk of the run's disk
        out, times["process"] = _run(["process", "--db", str(db), "--media-root", str(run_dir)])
        print(out.rstrip())
    out, times["evaluate"] = _run(["evaluate", "--truth", str(run_dir / "truth.json"), "--db", str(db), "--json"])
    result = json.loads(out)
    esc = result.get("escalation")
    if esc is None:
        raise SystemExit(f"seed {seed}: evaluate has no escalation section (did the assess stage run?)")
    return {
        "seed": seed,
        "escalation": esc,
        "early_warning": result.get("early_warning"),
        "association": {k: result.get("association", {}).get(k) for k in ("precision", "recall")},
        "attribution_accuracy": result.get("attribution", {}).get("accuracy"),
        "per_sector": per_sector(run_dir / "truth.json", db),
        "seconds": {k: round(v, 1) for k, v in times.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[301, 302, 303])
    ap.add_argument("--days", type=int, default=84)
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--scenario", default="spiral")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the runs here (default: a temporary directory)")
    ap.add_argument("--reuse", action="store_true", help="rerun only assess on the stores already in --workdir")
    ap.add_argument("--name", default="escalation_long", help="the results file: benchmarks/results/NAME.json")
    args = ap.parse_args()
    if args.reuse and args.workdir is None:
        ap.error("--reuse needs --workdir")
    root = args.workdir or Path(tempfile.mkdtemp(prefix="truceline-escalation-"))
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for seed in args.seeds:
            row = one_seed(args, seed, root)
            rows.append(row)
            esc = row["escalation"]
            sectors = ", ".join(f"{s} {v['error']:.3f}" for s, v in row["per_sector"].items())
            print(
                f"seed {seed}: branching_ratio_error {esc['branching_ratio_error']:.4f}, max_error "
                f"{esc['max_error']:.3f}, n {esc['n']}; seconds {row['seconds']}\n  per sector: {sectors}",
                flush=True,
            )
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    errors = [r["escalation"]["branching_ratio_error"] for r in rows]
    mean = sum(errors) / len(errors)
    print(f"{'seed':>6}{'error':>10}{'max':>8}{'n':>7}   seconds (simulate, ingest, process, evaluate)")
    for r in rows:
        e = r["escalation"]
        print(f"{r['seed']:>6}{e['branching_ratio_error']:>10.4f}{e['max_error']:>8.3f}{e['n']:>7}   {r['seconds']}")
    print(f"{'mean':>6}{mean:>10.4f}   target: <= {TARGET} for every seed")
    write_result(
        args.name,
        {
            "scenario": args.scenario,
            "days": args.days,
            "scale": args.scale,
            "seeds": rows,
            "mean_error": round(mean, 4),
            "worst_error": max(errors),
            "target": TARGET,
            "ratio": round(max(errors) / TARGET, 3),
            "met": max(errors) <= TARGET,
            "reused_stores": bool(args.reuse),
        },
    )


if __name__ == "__main__":
    main()
