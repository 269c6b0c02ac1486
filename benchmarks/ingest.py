"""Durable ingest of ≥ 1,000,000 observations, beside a bare ``sqlite3.executemany``.

Targets (issue 2): ≥ 50,000 observations per second, and ≥ 0.5× the rate of a bare
``executemany`` of the same rows into a table with the same UNIQUE key and
``synchronous=FULL`` (SQLite's defaults otherwise), committing in batches of the same size.
The peer is timed on the ``executemany`` and ``COMMIT`` alone (its rows are parsed outside the
timer): it does no validation and keeps no ledger or spatial index. A second peer runs the same
``executemany`` with Truceline's own storage settings (WAL, 8 KiB pages, rare checkpoints), so
the table also shows how much of the ratio is SQLite tuning rather than our own work.
The contenders are interleaved over ``--rounds`` and the best round of each is compared.

Memory: the resident size of the ingest process is sampled after every acknowledged batch;
a flat curve shows the file is streamed, not loaded.

    python benchmarks/ingest.py [--n 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import rss_mb, write_result
from truceline.agreement import default_agreement
from truceline.ingest import ContextChecks, ingest_paths
from truceline.ingest.parallel import default_workers
from truceline.store import SQLiteStore
from truceline.store.sqlite import PAGE_SIZE, WAL_AUTOCHECKPOINT_PAGES

KINDS = ("acoustic_arrival",) * 17 + ("radar_track", "patrol_report", "imagery_detection")


def generate(path: Path, n: int, seed: int = 7) -> None:
    """Write ``n`` valid, varied reports as NDJSON (streamed; mostly acoustic arrivals)."""
    rng = random.Random(seed)
    nations = ["USA", "GBR", "FRA", "DEU", "POL", "UKR"]
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    with path.open("w") as f:
        for i in range(n):
            kind = KINDS[i % len(KINDS)]
            nation = nations[i % len(nations)]
            lat, lon = 47.0 + rng.random() * 2.5, 35.5 + rng.random() * 3.0
            t = (t0 + timedelta(seconds=i * 0.0864)).isoformat().replace("+00:00", "Z")
            rec = {
                "kind": kind,
                "key": f"{kind[:3]}-{i:08d}",
                "participant": nation,
                "source": f"{nation}-s{i % 400:03d}",
                "reliability": "B",
                "credibility": 2,
                "time": t,
                "time_error_s": 0.002,
                "location": {
                    "lat": round(lat, 5),
                    "lon": round(lon, 5),
                    "error": {"semi_major_m": 10.0, "semi_minor_m": 6.0, "orientation_deg": 40.0},
                },
                "markings": {"tlp": "amber", "originator": nation, "releasable_to": ["UKR", "USA"]},
            }
            if kind == "acoustic_arrival":
                rec |= {
                    "bearing_deg": round(rng.random() * 359.9, 2),
                    "snr_db": round(5 + rng.random() * 20, 1),
                }
            elif kind == "radar_track":
                rec |= {
                    "origin": {
                        "lat": round(lat + 0.1, 5),
                        "lon": round(lon + 0.1, 5),
                        "error": {"semi_major_m": 150.0, "semi_minor_m": 50.0},
                    },
                    "weapon_class_guess": "artillery_ge100",
                }
            elif kind == "patrol_report":
                rec |= {"explosions": rng.randint(1, 9), "bearing_deg": 90.0, "distance_m": 4000.0}
            else:
                rec |= {"object_class": "tank", "count": 2, "pass_id": f"p{i // 1000}"}
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")


def run_truceline(path: Path, db: Path, batch: int, workers: int) -> dict[str, float]:
    ag = default_agreement()
    checks = ContextChecks(frozenset(ag.participant_ids()), datetime.now(UTC))
    store = SQLiteStore(db)
    samples: list[float] = []
    started = time.perf_counter()
    report = ingest_paths(
        [str(path)],
        store,
        checks,
        batch_size=batch,
        workers=workers,
        on_ack=lambda _n, _p: samples.append(rss_mb()),
    )
    seconds = time.perf_counter() - started
    store.close()
    assert report.rejected == 0 and report.stored == report.read, report
    quarter = max(1, len(samples) // 4)
    return {
        "seconds": seconds,
        "rate": report.stored / seconds,
        "rss_mb_first_quarter": max(samples[:quarter]),
        "rss_mb_last_quarter": max(samples[-quarter:]),
        "stored": report.stored,
    }


def run_peer(path: Path, db: Path, batch: int, tuned: bool = False) -> dict[str, float]:
    """The peer: ``executemany`` + ``COMMIT`` per batch, timed alone.

    Bare (the issue's peer): SQLite's defaults plus ``synchronous=FULL``. Tuned: Truceline's own
    storage settings (WAL, 8 KiB pages, rare checkpoints), to show how much of the ratio is
    SQLite tuning rather than our own work.
    """
    conn = sqlite3.connect(db, isolation_level=None)
    if tuned:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE observations (seq INTEGER PRIMARY KEY, participant TEXT NOT NULL, source TEXT NOT NULL, "
        "key TEXT NOT NULL, kind TEXT NOT NULL, time REAL NOT NULL, lat REAL, lon REAL, tlp TEXT NOT NULL, "
        "sharing_group TEXT, received REAL NOT NULL, body BLOB NOT NULL, UNIQUE (participant, source, key))"
    )
    timed = 0.0
    n = 0
    rows: list[tuple[object, ...]] = []

    def flush() -> float:
        t = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT OR IGNORE INTO observations VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.execute("COMMIT")
        return time.perf_counter() - t

    with path.open("rb") as f:
        for line in f:
            d = json.loads(line)
            n += 1
            ts = datetime.fromisoformat(d["time"]).timestamp()
            rows.append(
                (
                    n,
                    d["participant"],
                    d["source"],
                    d["key"],
                    d["kind"],
                    ts,
                    d["location"]["lat"],
                    d["location"]["lon"],
                    d["markings"]["tlp"],
                    None,
                    time.time(),
                    line.rstrip(b"\n"),
                )
            )
            if len(rows) >= batch:
                timed += flush()
                rows = []
    if rows:
        timed += flush()
    conn.close()
    return {"seconds": timed, "rate": n / timed, "stored": n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="observations (default 1,000,000)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds of each (best is kept)")
    ap.add_argument("--batch", type=int, default=5_000, help="records per durable commit, both sides")
    ap.add_argument("--workers", type=int, default=default_workers(), help="validating workers for Truceline")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="truceline-bench-", dir=os.environ.get("BENCH_TMP")))
    try:
        data = work / "observations.ndjson"
        t = time.perf_counter()
        generate(data, args.n)
        print(
            f"generated {args.n:,} observations ({data.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s"
        )
        results: dict[str, list[dict[str, float]]] = {"truceline": [], "bare": [], "tuned": []}
        order = ["bare", "truceline", "tuned"]
        for r in range(args.rounds):
            for label in order if r % 2 == 0 else order[::-1]:
                db = work / f"{label}-{r}.db"
                if label == "truceline":
                    res = run_truceline(data, db, args.batch, args.workers)
                else:
                    res = run_peer(data, db, args.batch, tuned=label == "tuned")
                results[label].append(res)
                print(f"round {r + 1} {label:>9}: {res['rate']:>10,.0f} obs/s ({res['seconds']:.1f} s)", flush=True)
                for p in work.glob(f"{label}-{r}.db*"):
                    p.unlink()
        best = {k: max(v, key=lambda x: x["rate"]) for k, v in results.items()}
        ours = best["truceline"]
        ratio = ours["rate"] / best["bare"]["rate"]
        ratio_tuned = ours["rate"] / best["tuned"]["rate"]
        print(f"\n{'':>30}{'obs/s':>12}")
        print(f"{'truceline ingest':>30}{ours['rate']:>12,.0f}   validate, dedup, ledger, spatial index, fsync")
        print(f"{'bare executemany (the peer)':>30}{best['bare']['rate']:>12,.0f}   insert + commit only, defaults")
        print(f"{'executemany, our pragmas':>30}{best['tuned']['rate']:>12,.0f}   insert + commit only, WAL etc.")
        print(f"{'ratio to the peer':>30}{ratio:>12.2f}   target >= 0.5")
        print(f"{'ratio to the tuned executemany':>30}{ratio_tuned:>12.2f}   (for transparency)")
        print(f"{'absolute':>30}{ours['rate']:>12,.0f}   target >= 50,000 obs/s")
        print(
            f"peak RSS of the ingest process: first quarter {ours['rss_mb_first_quarter']:.0f} MiB, "
            f"last quarter {ours['rss_mb_last_quarter']:.0f} MiB"
        )
        write_result(
            "ingest",
            {
                "n": args.n,
                "batch": args.batch,
                "workers": args.workers,
                "truceline_obs_per_s": round(ours["rate"]),
                "peer_obs_per_s": round(best["bare"]["rate"]),
                "tuned_executemany_obs_per_s": round(best["tuned"]["rate"]),
                "ratio": round(ratio, 3),
                "ratio_vs_tuned_executemany": round(ratio_tuned, 3),
                "rss_mb_first_quarter": round(ours["rss_mb_first_quarter"]),
                "rss_mb_last_quarter": round(ours["rss_mb_last_quarter"]),
                "targets": {"obs_per_s": 50_000, "ratio": 0.5},
                "met": ours["rate"] >= 50_000 and ratio >= 0.5,
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
