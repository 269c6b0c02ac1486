"""Rolling Hawkes fits: right on simulated fire, clear about too little data, indifferent to input order."""

from __future__ import annotations

import numpy as np

from truceline.assess import rolling_escalation
from truceline.assess.escalation import shared_decay
from truceline.sim import HawkesParams, simulate_hawkes

DAY = 86_400.0


def _fire(rho_scale: float, days: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    # About the busiest simulated sector's background rate at scale 0.01.
    p = HawkesParams(mu=(1.0, 0.8), alpha=((0.25, 0.3), (0.28, 0.22)), beta=2.0)
    alpha = tuple(tuple(a * rho_scale for a in row) for row in p.alpha)
    q = HawkesParams(p.mu, alpha, p.beta)  # type: ignore[arg-type]
    ev = simulate_hawkes(q, days * 24.0, np.random.default_rng(seed))
    return ev.t * 3600.0, np.where(ev.type == 0, 0.9, 0.1), q.branching_ratio


def test_the_branching_ratio_is_recovered_within_its_error() -> None:
    t, p, rho = _fire(1.0, 28, 1)
    est = rolling_escalation(t, p, np.array([14 * DAY, 28 * DAY]), window_days=14.0, coverage_start_s=0.0)
    for e in est:
        assert e.status == "ok" and e.branching_ratio is not None and e.branching_ratio_se is not None
        assert abs(e.branching_ratio - rho) < 3 * e.branching_ratio_se + 0.02
        assert not e.spiral


def test_a_near_critical_process_is_flagged_as_a_spiral() -> None:
    t, p, rho = _fire(1.8, 14, 2)
    assert rho > 0.9
    (e,) = rolling_escalation(t, p, np.array([14 * DAY]), window_days=14.0, coverage_start_s=0.0)
    assert e.spiral and "near 1" in e.message


def test_too_little_data_gives_no_ratio_and_says_why() -> None:
    t = np.array([100.0, 5_000.0, 9_000.0])
    est = rolling_escalation(t, np.array([0.9, 0.1, 0.9]), np.array([DAY, 5 * DAY]), coverage_start_s=0.0)
    assert est[0].branching_ratio is None and "days of data" in est[0].message
    assert est[1].branching_ratio is None and "too few" in est[1].message


def test_clock_skewed_input_in_any_order_gives_the_same_estimates() -> None:
    t, p, _ = _fire(1.0, 8, 3)
    order = np.random.default_rng(0).permutation(len(t))
    a = rolling_escalation(t, p, np.array([8 * DAY]), coverage_start_s=0.0)
    b = rolling_escalation(t[order], p[order], np.array([8 * DAY]), coverage_start_s=0.0)
    assert a == b


def test_a_decay_from_a_longer_span_keeps_the_ratio_within_its_error() -> None:
    t, p, rho = _fire(1.0, 28, 4)
    ends = np.array([21 * DAY, 28 * DAY])
    own = rolling_escalation(t, p, ends, window_days=7.0, target_events=0, coverage_start_s=0.0)
    long = rolling_escalation(
        t, p, ends, window_days=7.0, target_events=0, coverage_start_s=0.0, decay_window_days=28.0
    )
    for a, b in zip(own, long, strict=True):
        assert b.status == "ok" and b.branching_ratio is not None and b.branching_ratio_se is not None
        assert a.n_events == b.n_events
        assert abs(b.branching_ratio - rho) < 3 * b.branching_ratio_se + 0.02


def test_the_decay_shared_by_sectors_is_recovered_and_sharpens_each_sectors_ratio() -> None:
    a, b = _fire(1.0, 21, 5), _fire(0.8, 21, 6)
    ends = np.array([2 * DAY, 21 * DAY])
    decays = shared_decay([(a[0], a[1]), (b[0], b[1])], ends, coverage_start_s=0.0)
    assert np.isnan(decays[0])  # under three days of data: no decay
    own = [shared_decay([x], ends[1:], coverage_start_s=0.0)[0] for x in ((a[0], a[1]), (b[0], b[1]))]
    assert min(own) < decays[1] < max(own)  # pooled: between the sectors' own estimates
    assert abs(decays[1] - 2.0) < 0.5
    (e,) = rolling_escalation(a[0], a[1], ends[1:], window_days=14.0, coverage_start_s=0.0, decays=decays[1:])
    assert e.status == "ok" and e.branching_ratio is not None and e.branching_ratio_se is not None
    assert abs(e.branching_ratio - a[2]) < 3 * e.branching_ratio_se + 0.02
