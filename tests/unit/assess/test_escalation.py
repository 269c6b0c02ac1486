"""Rolling Hawkes fits: right on simulated fire, clear about too little data, indifferent to input order."""

from __future__ import annotations

import numpy as np
import pytest

from truceline.assess import rolling_escalation
from truceline.assess.escalation import level_edges, shared_decay
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


def test_daily_baselines_are_merged_where_the_level_holds_and_cut_where_it_moves() -> None:
    extra = 0
    for seed in range(20):
        steady = np.sort(np.random.default_rng(seed).random(2_000) * 28 * 24.0)
        edges = level_edges(steady, 28 * 24.0, 28)
        assert edges[0] == 0.0 and edges[-1] == pytest.approx(28 * 24.0)
        extra += len(edges) - 2
    assert extra <= 4  # a steady level is (nearly always) one bin
    rng = np.random.default_rng(8)
    # An offensive's surge on day 20 (25 times the fire) gets a bin of its own from that day on.
    surge = np.sort(np.concatenate([steady, 20 * 24.0 + rng.random(20_000) * 8 * 24.0]))
    assert 20 * 24.0 in level_edges(surge, 28 * 24.0, 28)
    assert list(level_edges(steady[:3], 24.0, 1)) == [0.0, 24.0]


def test_one_bin_per_day_would_read_clusters_as_baseline_the_merged_bins_do_not() -> None:
    errors: dict[str, list[float]] = {"daily": [], "merged": []}
    for seed in range(4):
        t, p, rho = _fire(1.0, 28, 20 + seed)
        for name, merge in (("daily", False), ("merged", True)):
            (e,) = rolling_escalation(
                t, p, np.array([28 * DAY]), window_days=28.0, coverage_start_s=0.0, segment_baseline=merge
            )
            assert e.branching_ratio is not None
            errors[name].append(e.branching_ratio - rho)
    assert np.mean(errors["daily"]) < -0.02  # the incidental-parameter bias of 28 daily baselines
    assert abs(np.mean(errors["merged"])) < 0.02


def test_a_recent_change_takes_the_short_window_and_a_steady_sector_keeps_the_long_one() -> None:
    quiet = _fire(0.3, 14, 30)
    loud = _fire(1.7, 14, 31)
    t = np.concatenate([quiet[0], 14 * DAY + loud[0]])
    p = np.concatenate([quiet[1], loud[1]])
    ends = np.array([14 * DAY, 28 * DAY])
    before, after = rolling_escalation(t, p, ends, window_days=28.0, change_window_days=14.0, coverage_start_s=0.0)
    assert before.window_days == pytest.approx(14.0)  # all the data there is
    assert after.window_days == pytest.approx(14.0) and after.branching_ratio is not None
    assert after.branching_ratio > 0.7 and after.decay_per_hour is not None
    steady = _fire(1.0, 28, 32)
    (e,) = rolling_escalation(
        steady[0], steady[1], ends[1:], window_days=28.0, change_window_days=14.0, coverage_start_s=0.0
    )
    assert e.window_days == pytest.approx(28.0) and e.retaliation_se is not None
