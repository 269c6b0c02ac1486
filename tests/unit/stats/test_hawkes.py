"""The exact Hawkes likelihood, its derivatives and the MLE, against references and simulated truth."""

from __future__ import annotations

import numpy as np
import pytest

from truceline.sim import simulate_hawkes
from truceline.stats import (
    PARAM_NAMES,
    BivariateHawkes,
    HawkesParams,
    excitation_sums,
    fit_hawkes,
    loglik,
    loglik_and_grad,
    loglik_hessian,
    loglik_reference,
)

TRUE = HawkesParams(mu=(0.5, 0.4), alpha=((0.2, 0.3), (0.3, 0.2)), beta=2.0)


def _events(horizon: float, seed: int, params: HawkesParams = TRUE) -> tuple[np.ndarray, np.ndarray]:
    ev = simulate_hawkes(params, horizon, np.random.default_rng(seed))
    return ev.t, ev.type


@pytest.mark.parametrize("beta", [0.05, 2.0, 40.0])
def test_fast_loglik_matches_the_quadratic_reference_to_1e9_across_many_blocks(beta: float) -> None:
    t, c = _events(600.0, 1)  # 600 h at β = 40 is 80 blocks of 300/β hours
    p = HawkesParams(mu=(0.45, 0.5), alpha=((0.15, 0.35), (0.25, 0.1)), beta=beta)
    fast, slow = loglik(p, t, c, 600.0), loglik_reference(p, t, c, 600.0)
    assert abs(fast - slow) <= 1e-9 * abs(slow)


def test_excitation_sums_match_direct_double_sums_with_derivatives() -> None:
    t, c = _events(300.0, 2)
    beta = 3.0
    a, b, c2 = excitation_sums(t, c, beta, order=2)
    for k in (0, 5, len(t) // 2, len(t) - 1):
        d = t[k] - t[:k]
        for j in (0, 1):
            sel = c[:k] == j
            assert a[j, k] == pytest.approx(np.exp(-beta * d[sel]).sum(), rel=1e-10, abs=1e-14)
            assert b[j, k] == pytest.approx((d[sel] * np.exp(-beta * d[sel])).sum(), rel=1e-8, abs=1e-12)
            assert c2[j, k] == pytest.approx((d[sel] ** 2 * np.exp(-beta * d[sel])).sum(), rel=1e-7, abs=1e-12)


def test_gradient_and_hessian_match_finite_differences() -> None:
    t, c = _events(800.0, 3)
    v = TRUE.vector() * np.array([1.1, 0.9, 1.2, 0.8, 1.0, 1.1, 0.7])
    _, grad = loglik_and_grad(v, t, c, 800.0)
    eye = np.eye(7)
    h = 1e-6
    numeric = np.array([(loglik(v + h * e, t, c, 800.0) - loglik(v - h * e, t, c, 800.0)) / (2 * h) for e in eye])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)
    hess = loglik_hessian(v, t, c, 800.0)
    numeric_h = np.array(
        [
            (loglik_and_grad(v + h * e, t, c, 800.0)[1] - loglik_and_grad(v - h * e, t, c, 800.0)[1]) / (2 * h)
            for e in eye
        ]
    )
    np.testing.assert_allclose(hess, numeric_h, rtol=1e-5, atol=1e-3)


def test_fit_recovers_all_seven_parameters_within_three_standard_errors() -> None:
    t, c = _events(8_000.0, 4)
    res = BivariateHawkes().fit(t, c, 8_000.0)
    assert res.status == "ok"
    z = (res.params_.vector() - TRUE.vector()) / res.stderr_
    assert np.all(np.abs(z) < 3.0), dict(zip(PARAM_NAMES, z.round(2), strict=True))
    assert abs(res.branching_ratio_ - TRUE.branching_ratio) < 3 * res.branching_ratio_se_
    lo, hi = res.branching_ratio_conf_int()
    assert lo < res.branching_ratio_ < hi
    # At the maximum the score vanishes (relative to the information's scale).
    _, grad = loglik_and_grad(res.params_, t, c, 8_000.0)
    assert np.all(np.abs(grad * res.stderr_) < 1e-2)


def test_the_fit_is_a_maximum_no_worse_than_a_generic_optimiser() -> None:
    from scipy.optimize import minimize

    t, c = _events(1_500.0, 5)
    res = fit_hawkes(t, c, 1_500.0)
    generic = minimize(
        lambda x: -loglik(np.exp(x), t, c, 1_500.0),
        np.log(TRUE.vector()),
        method="Nelder-Mead",
        options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-10},
    )
    assert res.loglik_ >= -generic.fun - 1e-6


def test_fixed_decay_fits_six_parameters_and_reports_zero_error_on_beta() -> None:
    t, c = _events(3_000.0, 6)
    res = BivariateHawkes(beta=2.0).fit(t, c, 3_000.0)
    assert res.params_.beta == 2.0 and res.stderr_[6] == 0.0 and res.fixed_beta
    assert np.all(np.isfinite(res.stderr_[:6]))
    assert "branching ratio" in res.summary() and "alpha_01" in res.summary()


def test_too_few_events_give_the_prior_with_a_clear_status_and_no_nan() -> None:
    res = BivariateHawkes(min_events=30).fit(np.array([1.0, 2.0, 3.0]), np.array([0, 1, 0]), 10.0)
    assert res.status == "too_few_events" and "too few" in res.message
    assert res.params_ == BivariateHawkes().prior
    assert not np.any(np.isnan(res.conf_int())) and not np.isnan(res.branching_ratio_)


def test_one_silent_side_is_too_few_to_fit_the_cross_terms() -> None:
    t = np.linspace(0.5, 99.5, 200)
    res = BivariateHawkes().fit(t, np.zeros(200, dtype=int), 100.0)
    assert res.status == "too_few_events"


def test_a_poisson_window_gives_a_small_branching_ratio() -> None:
    rng = np.random.default_rng(7)
    t = np.sort(rng.random(3_000) * 1_000.0)
    c = rng.integers(0, 2, 3_000)
    res = BivariateHawkes().fit(t, c, 1_000.0)
    assert res.status in ("ok", "singular_information")
    assert res.branching_ratio_ < 0.1
    assert not np.any(np.isnan(res.stderr_))


@pytest.mark.parametrize(
    ("t", "c", "horizon"),
    [
        (np.array([2.0, 1.0]), np.array([0, 1]), 5.0),  # not sorted (clock skew)
        (np.array([1.0, 9.0]), np.array([0, 1]), 5.0),  # beyond the window
        (np.array([1.0, 2.0]), np.array([0, 2]), 5.0),  # a third type
    ],
)
def test_bad_events_are_refused_with_a_reason(t: np.ndarray, c: np.ndarray, horizon: float) -> None:
    with pytest.raises(ValueError, match=r"sorted|types"):
        loglik(TRUE, t, c, horizon)


def test_an_empty_window_has_only_the_compensator() -> None:
    assert loglik(TRUE, np.zeros(0), np.zeros(0, dtype=int), 10.0) == pytest.approx(-0.9 * 10.0)
