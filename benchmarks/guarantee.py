"""The guarantee stage on the example coalition: gap table and force-plan projection, and the
vectorised stock-and-flow model beside its plain per-month loop twin.

Target (issue 9): the example coalition (about 30 participants, loaded from its YAML file)
produces the gap table and the force-plan projection in under a second. Measured three ways:

* ``warm_s``: load the file, build the gap table, run the force plan (which projects the plan
  and one scenario per pledge for the shortfall analysis) in a process that has already loaded the
  agreement — what a service or a second command pays;
* ``cold_s``: the same in a fresh interpreter, including imports and loading the agreement's
  geodata — what ``truceline coalition gaps`` pays from the shell;
* the peer: the same batch of scenarios projected by ``project_reference``, the naive per-month
  Python loop kept as the model's reference twin, interleaved with the vectorised ``project``.
  ``ratio`` is loop time / vectorised time on the example's batch; ``ratio_sweep`` on a what-if
  sweep of 1,000 scenarios over ten years.

    python benchmarks/guarantee.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result
from truceline.agreement import default_agreement
from truceline.guarantee import EXAMPLE_COALITION, gap_table, load_coalition, project, project_reference, run_force_plan
from truceline.guarantee.forceplan import scenario_inputs
from truceline.guarantee.stockflow import FlowInputs

COLD = f"""
import time
t0 = time.perf_counter()
from truceline.guarantee import gap_table, load_coalition, run_force_plan
c = load_coalition({str(EXAMPLE_COALITION)!r})
rows = gap_table(c)
result = run_force_plan(c)
assert rows and result.shortfalls
print(time.perf_counter() - t0)
"""


def sweep(inputs: FlowInputs, scenarios: int, months: int, seed: int = 9) -> FlowInputs:
    """A what-if sweep: the plan with random recruitment and delivery scales, over ``months``."""
    rng = np.random.default_rng(seed)
    base = inputs.scenario(0)
    reps = -(-months // len(base.months))

    def longer(a: np.ndarray) -> np.ndarray:
        return np.tile(a, (1,) * (a.ndim - 1) + (reps,))[..., :months]

    scale = rng.uniform(0.7, 1.3, size=(scenarios, 1))
    return replace(
        base,
        months=tuple(f"m{i}" for i in range(months)),
        recruitment=longer(base.recruitment) * scale,
        capacity=np.broadcast_to(longer(base.capacity), (scenarios, months)).copy(),
        attrition=longer(base.attrition),
        demobilisation=longer(base.demobilisation),
        separation=longer(base.separation),
        washout=np.full(scenarios, float(base.washout)),
        active0=np.full(scenarios, float(base.active0)),
        mobilised0=np.full(scenarios, float(base.mobilised0)),
        training0=np.full(scenarios, float(base.training0)),
        stock0=np.broadcast_to(base.stock0, (scenarios, len(base.categories))).copy(),
        inflow=longer(base.inflow) * scale[..., None],
        delivered=longer(base.delivered) * scale[..., None],
        equipment_attrition=longer(base.equipment_attrition),
    )


def timed_pair(inputs: FlowInputs, rounds: int) -> tuple[float, float]:
    """Best-of-``rounds`` seconds of (vectorised, loop) on the same batch, interleaved."""
    n = inputs.recruitment.shape[0] if inputs.recruitment.ndim > 1 else inputs.capacity.shape[0]
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        t = time.perf_counter()
        fast = project(inputs)
        best[0] = min(best[0], time.perf_counter() - t)
        t = time.perf_counter()
        slow = [project_reference(inputs.scenario(i)) for i in range(n)]
        best[1] = min(best[1], time.perf_counter() - t)
    # The twins must agree, or the comparison is meaningless.
    for i in (0, n // 2, n - 1):
        np.testing.assert_allclose(fast.scenario(i).strength, slow[i].strength, rtol=1e-9)
        np.testing.assert_allclose(fast.scenario(i).stock, slow[i].stock, rtol=1e-9)
    return best[0], best[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    cold = min(
        float(subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    )
    default_agreement()
    coalition = load_coalition(EXAMPLE_COALITION)  # warms the gazetteer and the agreement
    warm = float("inf")
    parts = {"load_s": float("inf"), "gaps_s": float("inf"), "forceplan_s": float("inf")}
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        coalition = load_coalition(EXAMPLE_COALITION)
        t1 = time.perf_counter()
        rows = gap_table(coalition)
        t2 = time.perf_counter()
        result = run_force_plan(coalition)
        t3 = time.perf_counter()
        warm = min(warm, t3 - t0)
        for key, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            parts[key] = min(parts[key], value)

    batch = scenario_inputs(coalition)
    scenarios = batch.capacity.shape[0]
    fast, slow = timed_pair(batch, args.rounds)
    big = sweep(batch, 1000, 120)
    fast_big, slow_big = timed_pair(big, max(args.rounds // 2, 1))

    participants = len(coalition.participants())
    print(f"example coalition: {participants} participants, {len(coalition.pledges())} pledges, "
          f"{len(rows)} gap rows, force plan of {len(result.projection.months)} months")  # fmt: skip
    print(f"{'':<46}{'seconds':>10}")
    print(f"{'warm: load + gap table + force plan':<46}{warm:>10.4f}")
    for key, value in parts.items():
        print(f"{'  ' + key:<46}{value:>10.4f}")
    print(f"{'cold: fresh interpreter, imports included':<46}{cold:>10.4f}")
    print(f"{f'projection of {scenarios} scenarios, vectorised':<46}{fast:>10.5f}")
    print(f"{f'projection of {scenarios} scenarios, per-month loop':<46}{slow:>10.5f}   ratio {slow / fast:.1f}")
    print(f"{'sweep 1,000 × 120 months, vectorised':<46}{fast_big:>10.5f}")
    print(f"{'sweep 1,000 × 120 months, per-month loop':<46}{slow_big:>10.5f}   ratio {slow_big / fast_big:.1f}")
    met = warm < 1.0
    print(f"target: gap table and projection of the example in under 1 s: {'met' if warm < 1.0 else 'NOT met'} "
          f"(warm {warm:.3f} s; cold, with interpreter start-up and geodata, {cold:.2f} s)")  # fmt: skip
    write_result(
        "guarantee",
        {
            "participants": participants,
            "pledges": len(coalition.pledges()),
            "months": len(result.projection.months),
            "scenarios": scenarios,
            "warm_s": round(warm, 4),
            **{k: round(v, 5) for k, v in parts.items()},
            "cold_s": round(cold, 3),
            "projection_s": round(fast, 6),
            "reference_s": round(slow, 6),
            "ratio": round(slow / fast, 2),
            "sweep_projection_s": round(fast_big, 5),
            "sweep_reference_s": round(slow_big, 5),
            "ratio_sweep": round(slow_big / fast_big, 1),
            "targets": {"warm_s": 1.0},
            "met": bool(met),
        },
    )


if __name__ == "__main__":
    main()
