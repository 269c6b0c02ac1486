"""Simulation speed at full scale: a whole day of the dense sensor grid along the whole line.

Target (issue 3): ≥ 1,000,000 acoustic detections per simulated day, generated at ≥ 1,000,000
observations per minute on 2 cores. The peer is a plain per-record generator written the obvious
way — for each firing event, for each array: geodesic range, detection draw, arrival time, a
validated ``AcousticArrival`` model and its JSON — run on the same world and events in the same
process; its rate is measured on a sample of the day's events. Rounds are interleaved; the best
of each is kept. The vectorised simulator runs in one process (it needs no second core).

    python benchmarks/simulate.py [--scale 1.0] [--rounds 2] [--naive-events 150]
"""

from __future__ import annotations

import argparse
import math
import resource
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result
from truceline.agreement import default_agreement
from truceline.geo import geodesic_distance_m
from truceline.model import AcousticArrival
from truceline.sim import detection_probability, scenario, simulate
from truceline.sim._frame import build_frame
from truceline.sim.acoustic import layout_arrays
from truceline.sim.fire import simulate_fire
from truceline.sim.world import FIRE_CLASSES, build_world, lonlat

TARGET_PER_MIN = 1_000_000
TARGET_DETECTIONS_PER_DAY = 1_000_000


def naive_rate(scale: float, n_events: int, seed: int = 20260901) -> tuple[float, int]:
    """Reports per minute of a per-record generator (Python loops, pydantic models, json)."""
    cfg = scenario("default", days=1, scale=scale, seed=seed)
    ag = default_agreement()
    rng = np.random.default_rng(seed)
    world = build_world(ag, cfg, build_frame(ag), rng)
    shots = simulate_fire(world, rng).finish()
    arrays = layout_arrays(world, rng)
    pick = rng.choice(len(shots), min(n_events, len(shots)), replace=False)
    olon, olat = lonlat(shots.ox[pick], shots.oy[pick])
    start = cfg.start_time
    lines: list[str] = []
    t = time.perf_counter()
    for k, s in enumerate(pick.tolist()):
        for a in range(len(arrays.ids)):
            r = geodesic_distance_m(float(arrays.lon[a]), float(arrays.lat[a]), float(olon[k]), float(olat[k]))
            if r > 40_000 or rng.random() >= float(detection_probability(r, FIRE_CLASSES[int(shots.cls[s])])):
                continue
            c = 331.3 + 0.606 * float(world.temperature_c(np.array([shots.t_h[s]]), np.array([shots.oy[s]]))[0])
            arrival = start + timedelta(
                hours=float(shots.t_h[s]), seconds=r / c + rng.normal(0, float(arrays.sigma_t[a]))
            )
            obs = AcousticArrival(
                key=f"{arrival:%Y%m%dT%H%M%S%f}",
                participant=arrays.operator[a],
                source=arrays.ids[a],
                reliability="B",
                credibility=2,
                time=arrival,
                time_error_s=float(arrays.sigma_t[a]),
                location={
                    "lat": float(arrays.lat[a]),
                    "lon": float(arrays.lon[a]),
                    "error": {"semi_major_m": 3.0, "semi_minor_m": 3.0},
                },
                markings={
                    "tlp": "amber",
                    "originator": arrays.operator[a],
                    "releasable_to": ("MVM",) if arrays.operator[a] != "MVM" else ("USA",),
                },
                bearing_deg=float(math.degrees(math.atan2(olon[k] - arrays.lon[a], olat[k] - arrays.lat[a])) % 360.0),
                phase="muzzle",
            )
            lines.append(obs.model_dump_json())
    seconds = time.perf_counter() - t
    return len(lines) / seconds * 60.0, len(lines)


def fast_run(scale: float, seed: int = 20260901) -> tuple[float, int, int, float, dict[str, float]]:
    out = Path(tempfile.mkdtemp(prefix="truceline-sim-bench-"))
    try:
        summary = simulate(scenario("default", days=1, scale=scale, seed=seed), out)
        size = (out / "observations.ndjson").stat().st_size
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return (
        summary.per_minute,
        summary.observations,
        summary.by_kind.get("acoustic_arrival", 0),
        size / 1e6,
        summary.phases,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--naive-events", type=int, default=150)
    args = ap.parse_args()
    fast: list[float] = []
    naive: list[float] = []
    total = detections = naive_records = 0
    megabytes = 0.0
    phases: dict[str, float] = {}
    for _ in range(args.rounds):
        rate, total, detections, megabytes, phases = fast_run(args.scale)
        fast.append(rate)
        rate, naive_records = naive_rate(args.scale, args.naive_events)
        naive.append(rate)
    best, peer = max(fast), max(naive)
    print(
        f"one simulated day at scale {args.scale}: {total:,} reports "
        f"({detections:,} acoustic detections), {megabytes:,.0f} MB"
    )
    print(f"{'':>34}{'reports/min':>16}")
    print(f"{'truceline simulate (vectorised)':>34}{best:>16,.0f}")
    print(
        f"{'per-record generator (naive)':>34}{peer:>16,.0f}   "
        f"({naive_records:,} reports from {args.naive_events} events)"
    )
    print(
        f"{'ratio':>34}{best / peer:>16.1f}   "
        f"target: >= {TARGET_PER_MIN:,} reports/min, >= {TARGET_DETECTIONS_PER_DAY:,} detections/day"
    )
    write_result(
        "simulate",
        {
            "scale": args.scale,
            "observations_per_day": total,
            "acoustic_detections_per_day": detections,
            "observations_mb": round(megabytes, 1),
            "observations_per_min": round(best),
            "naive_per_min": round(peer),
            "phases_s": {k: round(v, 2) for k, v in phases.items()},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "processes": 1,
            "ratio": round(best / peer, 2),
            "targets": {
                "observations_per_min": TARGET_PER_MIN,
                "acoustic_detections_per_day": TARGET_DETECTIONS_PER_DAY,
            },
            "met": best >= TARGET_PER_MIN and detections >= TARGET_DETECTIONS_PER_DAY,
        },
    )


if __name__ == "__main__":
    main()
