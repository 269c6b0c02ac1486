"""The baseline's daily cycle, and the per-type Newton problem built without a matrix product."""

from __future__ import annotations

import numpy as np
import pytest

from truceline.sim import simulate_hawkes
from truceline.stats import BivariateHawkes, DailyCycle, HawkesParams, TypedEvents
from truceline.stats.hawkes_profile import binned_newton

PEAK_H = 1.0


def test_the_cycle_of_events_is_recovered_and_its_integral_is_exact() -> None:
    rng = np.random.default_rng(1)
    h = rng.random(400_000) * 24.0 * 30
    shape = 1 + 0.3 * np.cos(2 * np.pi * (h - PEAK_H) / 24) + 0.1 * np.sin(4 * np.pi * h / 24)
    cycle = DailyCycle.estimate(h[rng.random(h.size) * 1.4 < shape] * 3600.0)
    assert cycle.amplitude == pytest.approx(0.3, abs=0.01) and cycle.peak_h == pytest.approx(PEAK_H, abs=0.1)
    assert cycle.sin[1] == pytest.approx(0.1, abs=0.01)
    grid = np.linspace(5.0, 41.3, 200_001)
    numeric = float(np.trapezoid(cycle(grid * 3600.0), grid))
    assert float(cycle.integral(np.array([5.0]), np.array([41.3]))[0]) == pytest.approx(numeric, rel=1e-9)
    assert float(cycle.integral(np.array([7.0]), np.array([31.0]))[0]) == pytest.approx(24.0, abs=1e-9)


def test_too_few_events_give_a_flat_day_and_a_cycle_never_reaches_zero() -> None:
    assert DailyCycle.estimate(np.arange(50) * 3600.0).flat
    with pytest.raises(ValueError, match="above"):
        DailyCycle((1.2,), (0.0,))
    with pytest.raises(ValueError, match="finite"):
        DailyCycle((float("nan"),), (0.0,))
    # Every event at the same hour: the estimate is shrunk until the cycle stays positive.
    spiky = DailyCycle.estimate((np.arange(1_000) * 24.0 + 3.0) * 3600.0)
    assert float(spiky(np.linspace(0, 24, 1_000) * 3600.0).min()) >= 0.05


def test_the_gradient_and_hessian_equal_the_dense_products_they_replace() -> None:
    rng = np.random.default_rng(2)
    n, nb = 500, 7
    bin_of = np.sort(rng.integers(0, nb, n))
    shape = rng.uniform(0.5, 1.5, n)
    xa = rng.exponential(1.0, (2, n))
    m = np.concatenate([np.full(nb, 24.0), [300.0, 200.0]])
    value, theta, ok, hess = binned_newton(bin_of, shape, xa, m, np.full(nb + 2, 0.3), 100, 1e-12)
    x = np.vstack([(bin_of[None, :] == np.arange(nb)[:, None]) * shape, xa])
    lam = theta @ x
    assert ok and value == pytest.approx(float(np.log(lam).sum() - theta @ m), rel=1e-12)
    np.testing.assert_allclose(hess, -(x / lam**2) @ x.T, rtol=1e-12)
    grad = x @ (1 / lam) - m
    assert np.all((np.abs(grad) < 1e-6) | ((theta <= 1e-12) & (grad <= 0)))  # a constrained maximum


def _diurnal_fire(seed: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Four weeks of a busy sector's fire whose baseline peaks at night (amplitude 0.3, as simulated)."""
    p = HawkesParams(mu=(1.4, 1.1), alpha=((0.25, 0.3), (0.28, 0.22)), beta=2.0)

    def night(t: np.ndarray, c: np.ndarray) -> np.ndarray:
        return 1.0 + 0.3 * np.cos(2 * np.pi * (t - PEAK_H) / 24.0)

    ev = simulate_hawkes(p, 28 * 24.0, np.random.default_rng(seed), baseline=night, baseline_max=1.3)
    return ev.t, ev.type, 28 * 24.0, p.branching_ratio


def test_a_baseline_that_peaks_at_night_is_not_read_as_retaliation() -> None:
    flat_err, cycle_err = [], []
    for seed in range(4):
        t, c, horizon, rho = _diurnal_fire(seed)
        cycle = DailyCycle.estimate(t * 3600.0)
        assert cycle.amplitude == pytest.approx(0.3, abs=0.06)
        flat = BivariateHawkes(beta=2.0).fit(t, c, horizon)
        known = BivariateHawkes(beta=2.0, daily_cycle=cycle).fit(t, c, horizon)
        assert known.status == "ok" and known.baseline_ is not None
        assert abs(known.branching_ratio_ - rho) < 3 * known.branching_ratio_se_
        flat_err.append(flat.branching_ratio_ - rho)
        cycle_err.append(known.branching_ratio_ - rho)
    assert np.mean(flat_err) > np.mean(cycle_err) + 0.01  # the flat day inflates the excitation
    assert abs(np.mean(cycle_err)) < 0.03


def test_typed_events_profile_is_the_fit_s_likelihood() -> None:
    t, c, horizon, _ = _diurnal_fire(9)
    cycle = DailyCycle.estimate(t * 3600.0)
    res = BivariateHawkes(beta=2.0, baseline_bins=28, daily_cycle=cycle).fit(t, c, horizon)
    ev = TypedEvents(t, c, horizon, 28, cycle=cycle)
    warm = np.concatenate([np.full(56, 0.5), np.full(4, 0.25)])
    value, theta, ok = ev.profile(2.0, warm, 100, 1e-10)
    assert ok and value == pytest.approx(res.loglik_, rel=1e-9)
    assert theta[56:] == pytest.approx(res.params_.vector()[2:6], abs=1e-6)
