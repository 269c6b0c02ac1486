"""The Hawkes process: the exact likelihood agrees with its O(N²) twin, and a long simulated sector's
fitted parameters come back to the true ones within their standard errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from truceline.sim import HawkesParams, fit_hawkes, loglik, loglik_reference, simulate_hawkes

TRUE = HawkesParams(mu=(0.25, 0.2), alpha=((0.25, 0.30), (0.28, 0.22)), beta=2.0)


@pytest.mark.parametrize("beta", [0.5, 2.0, 40.0])  # 40/h forces many recursion blocks over 150 h
def test_fast_log_likelihood_matches_the_quadratic_reference(beta: float) -> None:
    p = HawkesParams(mu=(0.8, 0.6), alpha=TRUE.alpha, beta=beta)
    ev = simulate_hawkes(p, 150.0, np.random.default_rng(2))
    assert len(ev.t) > 100
    fast, ref = loglik(p, ev.t, ev.type, 150.0), loglik_reference(p, ev.t, ev.type, 150.0)
    assert fast == pytest.approx(ref, rel=1e-9)


def test_cluster_simulation_keeps_parents_before_children_and_the_branching_ratio() -> None:
    ev = simulate_hawkes(TRUE, 24.0 * 400, np.random.default_rng(3))
    kids = ev.parent >= 0
    assert np.all(ev.t[ev.parent[kids]] <= ev.t[kids])
    assert np.all(ev.generation[kids] == ev.generation[ev.parent[kids]] + 1)
    # The share of triggered events estimates the branching ratio: 1 - 1/(1 + ρ + ρ² + …) = ρ.
    assert kids.mean() == pytest.approx(TRUE.branching_ratio, abs=0.02)


def test_fit_of_a_long_sector_recovers_the_true_parameters_within_their_standard_errors() -> None:
    horizon = 24.0 * 1500
    ev = simulate_hawkes(TRUE, horizon, np.random.default_rng(20260901))
    fit = fit_hawkes(ev.t, ev.type, horizon)
    assert fit.converged and fit.n_events > 15_000
    z = (fit.params_.vector() - TRUE.vector()) / fit.stderr_
    assert np.all(np.abs(z) < 3.0), fit.summary()
    assert np.all(fit.stderr_ < 0.1 * TRUE.vector())  # and the errors are small: the test has power
    assert abs(fit.branching_ratio_ - TRUE.branching_ratio) < 0.03
    assert "branching ratio" in fit.summary()


def test_too_few_events_to_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="too few"):
        fit_hawkes(np.array([1.0, 2.0]), np.array([0, 1]), 10.0)


def test_the_truth_records_each_sectors_parameters_and_the_spiral(buildup_run: Path, small_run: Path) -> None:
    truth = json.loads((small_run / "truth.json").read_text())
    spiral_sector = truth["escalation"]["spiral_sector"]
    h = truth["hawkes"]
    assert set(h) >= {"CL-01", "CL-06", spiral_sector}
    for sector in h.values():
        a = np.array(sector["alpha"])
        assert sector["branching_ratio"] == pytest.approx(float(np.max(np.abs(np.linalg.eigvals(a)))), abs=1e-5)
        assert len(sector["daily_branching_ratio"]) == truth["window"]["days"]
    long = json.loads((buildup_run / "truth.json").read_text())["hawkes"]["CL-07"]
    base = np.array(long["daily_baseline_multiplier"][0])
    rho = np.array(long["daily_branching_ratio"])
    # A sharp drop, a slow rise, then escalation toward a branching ratio near 1.
    assert base[0] == 1.0 and base.min() < 0.3 and base[-1] > 1.5
    drop = int(np.argmin(base))
    assert base[drop - 1] - base[drop] > 0.5 and np.all(np.diff(base[drop:]) >= 0)
    assert rho[0] < 0.7 and rho[-1] == pytest.approx(0.92, abs=1e-3)
