"""Escalation: per sector, is tit-for-tat fire feeding on itself?

Each day, each sector's fire of the trailing window (``window_days``, ending with the day) is
fitted by the exact bivariate Hawkes MLE (:class:`truceline.stats.BivariateHawkes`): type 0 is
fire attributed to Ukraine, type 1 to Russia (the more probable side of each incident). The
branching ratio (the spectral radius of the excitation matrix) says how many further shots one
shot brings, all generations counted; the cross terms α_01 and α_10 are retaliation. A *spiral*
is flagged when the branching ratio approaches 1 (its lower 95 % bound above ``spiral_ratio``) or
the retaliation terms jump against the sector's own earlier windows.

What the fit holds fixed, so that it does not read other things as retaliation or miss it:
the baseline is piecewise constant over spans where the fire's level holds (:func:`level_edges`:
a day where it moves, longer where it does not — a bin per day soaks up part of the clustering),
follows the fire's daily cycle (:func:`daily_cycles`: fire peaks at night) and the response delay
1/β is shared by the sectors (:func:`shared_decay`). The stage fits four weeks and takes the last
two instead when their ratio differs beyond noise (``change_window_days``).

A window with too few events is not fitted: its estimate says so and carries no ratio (the
prior is named in the message), so no NaN ever reaches a record.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truceline.stats import (
    DEFAULT_PRIOR,
    BivariateHawkes,
    DailyCycle,
    FitStatus,
    HawkesParams,
    HawkesResults,
    TypedEvents,
)

__all__ = ["EscalationEstimate", "daily_cycles", "level_edges", "rolling_escalation", "shared_decay"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class EscalationEstimate:
    """One sector-day's fit. ``branching_ratio`` is None when the window could not be fitted.

    Standard errors are None where they are not finite (an estimate on its bound); they are
    conditional on the decay when it was given (``decays``).
    """

    day_end_s: float
    status: FitStatus
    n_events: int
    branching_ratio: float | None
    branching_ratio_se: float | None
    retaliation: tuple[float, float] | None  # (α_01: UKR answering RUS, α_10: RUS answering UKR)
    spiral: bool
    message: str
    window_days: float = 0.0  # the span fitted (or that would have been), ending at day_end_s
    retaliation_se: tuple[float | None, float | None] | None = None
    decay_per_hour: float | None = None  # β of the fit


def rolling_escalation(
    time_s: FloatArray,
    p_ukr: FloatArray,
    day_ends_s: FloatArray,
    *,
    window_days: float = 7.0,
    min_events: int = 40,
    spiral_ratio: float = 0.75,
    retaliation_jump: float = 3.0,
    coverage_start_s: float | None = None,
    min_history_days: float = 3.0,
    target_events: int = 1000,
    max_window_days: float = 28.0,
    baseline_bin_days: float = 1.0,
    decay_window_days: float | None = None,
    decays: FloatArray | None = None,
    cycles: Sequence[DailyCycle] | None = None,
    change_window_days: float | None = None,
    change_z: float = 2.0,
    segment_baseline: bool = True,
    prior: HawkesParams = DEFAULT_PRIOR,
) -> list[EscalationEstimate]:
    """Fit the window ending at each of ``day_ends_s`` (epoch seconds) to the events before it.

    The window never reaches back before ``coverage_start_s`` (when the data begin): an empty
    stretch before the first report would read as a quiet baseline and inflate the excitation.
    The baseline is piecewise constant by day, so a day-to-day change of the background (a
    renewed commitment, a build-up, the offensive itself) is not taken for retaliation. With less
    than ``min_history_days`` of data the window is not fitted (too short to tell a cluster from
    a baseline). A quiet sector's window is stretched back (up to ``max_window_days``) until it
    holds ``target_events``: the ratio's standard error falls as one over the root of the count,
    and a quiet sector's ratio changes slowly.

    ``decay_window_days``: the decay β (how fast a reply follows a shot) is estimated by the same
    exact MLE on this longer trailing span, and the window's baselines and α are then fitted at
    that β. β and the α's are strongly correlated in a short window, so a β from two weeks of
    fire carries most of the branching ratio's noise; the response delay is a trait of the units
    and their weapons and changes far more slowly than the excitation. ``None`` fits β on the
    window itself. ``decays``: the decay of each window given (one per day end, NaN where
    unknown), e.g. :func:`shared_decay` pooled over the sectors; it takes precedence.
    ``cycles``: the baseline's daily cycle for each window (:func:`daily_cycles`), so that fire
    that peaks at night is not read as fire answering fire; ``None`` takes the day as flat.

    ``change_window_days``: a long window halves the ratio's variance where the fire's excitation
    holds still and lags where it moves (a spiral). With this set, the trailing span of this many
    days is fitted too, and its ratio is taken instead when it differs from the long window's by
    more than ``change_z`` standard errors of the difference (for nested windows of an unchanged
    process, the variance of the difference is that of the short estimate less that of the long one).
    """
    order = np.argsort(time_s, kind="stable")  # clock-skewed input arrives out of order
    t_all = np.asarray(time_s, dtype=np.float64)[order]
    side = np.where(np.asarray(p_ukr, dtype=np.float64)[order] >= 0.5, 0, 1).astype(np.intp)
    floor = -np.inf if coverage_start_s is None else float(coverage_start_s)
    out: list[EscalationEstimate] = []
    history: list[tuple[float, float]] = []  # (α_01 + α_10, its standard error) of earlier windows
    warm = None
    for n_end, end in enumerate(np.asarray(day_ends_s, dtype=np.float64)):
        hi = int(np.searchsorted(t_all, end, side="left"))
        begin = end - window_days * 86_400.0
        if hi - int(np.searchsorted(t_all, begin, side="left")) < target_events:
            need = t_all[max(hi - target_events, 0)] if hi else begin
            begin = max(min(begin, float(need)), end - max_window_days * 86_400.0)
        begin = max(begin, floor)
        span_h = max((end - begin) / 3600.0, 1.0)
        lo = int(np.searchsorted(t_all, begin, side="left"))
        cycle = None if cycles is None else cycles[n_end]
        if span_h < min_history_days * 24.0:
            why = f"only {span_h / 24.0:.1f} days of data"
            res = None
        else:
            beta = None
            if decays is not None and np.isfinite(decays[n_end]):
                beta = float(decays[n_end])
            elif decay_window_days is not None and decay_window_days * 86_400.0 > end - begin:
                beta = _decay(
                    t_all, side, end, max(end - decay_window_days * 86_400.0, floor), baseline_bin_days,
                    min_events, prior, cycle, warm,
                )  # fmt: skip
            fit = functools.partial(
                _fit, t_all, side, end=end, bin_days=baseline_bin_days, min_events=min_events, prior=prior,
                beta=beta, cycle=cycle, segment=segment_baseline,
            )  # fmt: skip
            res = fit(begin, warm)
            if change_window_days is not None and res.status == "ok" and end - begin > change_window_days * 86_400.0:
                short_begin = max(end - change_window_days * 86_400.0, floor)
                short = fit(short_begin, res.params_)
                if short.status == "ok" and _changed(res, short, change_z):
                    res, begin = short, short_begin
                    span_h = (end - begin) / 3600.0
                    lo = int(np.searchsorted(t_all, begin, side="left"))
            why = res.message
        if res is None or res.status == "too_few_events":
            out.append(
                EscalationEstimate(
                    float(end),
                    "too_few_events",
                    hi - lo,
                    None,
                    None,
                    None,
                    False,
                    f"{why}: not fitted (prior branching ratio {prior.branching_ratio:.2f})",
                    window_days=float(span_h / 24.0),
                )
            )
            continue
        warm = res.params_ if res.status == "ok" else None
        rho = res.branching_ratio_
        se = res.branching_ratio_se_ if np.isfinite(res.branching_ratio_se_) else None
        a01, a10 = res.params_.alpha[0][1], res.params_.alpha[1][0]
        cross_se = float(np.hypot(res.stderr_[3], res.stderr_[4]))
        spiral = rho >= 1.0 or (se is not None and rho - 1.96 * se >= spiral_ratio)
        reasons = []
        if spiral:
            reasons.append(f"branching ratio {rho:.2f} near 1")
        if history and np.isfinite(cross_se):
            base = float(np.median([h[0] for h in history[-21:]]))
            if a01 + a10 - base > retaliation_jump * max(cross_se, 1e-6):
                spiral = True
                reasons.append(f"retaliation α_01+α_10 jumped to {a01 + a10:.2f} from {base:.2f}")
        if np.isfinite(cross_se):
            history.append((a01 + a10, cross_se))
        out.append(
            EscalationEstimate(
                float(end),
                res.status,
                res.n_events,
                float(min(rho, 10.0)),
                se,
                (float(a01), float(a10)),
                spiral,
                "; ".join(reasons) or res.message,
                window_days=float(span_h / 24.0),
                retaliation_se=(_finite(res.stderr_[3]), _finite(res.stderr_[4])),
                decay_per_hour=float(res.params_.beta),
            )
        )
    return out


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _fit(
    t_all: FloatArray,
    side: NDArray[np.intp],
    begin: float,
    warm: HawkesParams | None,
    *,
    end: float,
    bin_days: float,
    min_events: int,
    prior: HawkesParams,
    beta: float | None,
    cycle: DailyCycle | None,
    segment: bool = True,
) -> HawkesResults:
    """The exact MLE on [begin, end) (β estimated unless given); the baseline's bins are the spans of
    ``bin_days`` merged where the fire's level holds (:func:`level_edges`), or all of them."""
    lo, hi = (int(i) for i in np.searchsorted(t_all, [begin, end], side="left"))
    span_h = max((end - begin) / 3600.0, 1.0)
    t = np.clip((t_all[lo:hi] - begin) / 3600.0, 0.0, span_h)
    bins = max(round(span_h / 24.0 / bin_days), 1)
    edges = level_edges(t, span_h, bins) if segment else None
    model = BivariateHawkes(min_events=min_events, baseline_bins=bins, prior=prior, beta=beta, daily_cycle=cycle)
    return model.fit(t, side[lo:hi], span_h, start=warm, clock_origin_h=begin / 3600.0, baseline_edges=edges)


def level_edges(t_h: FloatArray, horizon_h: float, bins: int, *, penalty: float | None = None) -> FloatArray:
    """Edges (hours) of the spans over which the fire's level holds: ``bins`` equal spans, merged.

    A baseline bin per day lets each day's level soak up part of the clustering — the incidental-
    parameter problem: with 28 daily bins the branching ratio of four weeks of a busy sector came
    out 0.045 low, with one bin unbiased. But a level that really moves (a renewed commitment, a
    build-up, an offensive's 25-fold surge) must have its own bins, or the move reads as
    retaliation. So the daily counts are cut where their level changes, by optimal partitioning
    of an over-dispersed Poisson deviance (clusters make counts vary ``φ`` times more than Poisson;
    φ is estimated robustly from successive days, so a step does not inflate it) with a BIC
    penalty of ``2 log(bins) + 2`` per extra span (its level and its start).
    """
    if bins <= 1:
        return np.array([0.0, horizon_h])
    width = horizon_h / bins
    n = np.bincount(np.minimum((t_h / width).astype(np.intp), bins - 1), minlength=bins).astype(np.float64)
    pair = n[1:] + n[:-1]
    z2 = (n[1:] - n[:-1]) ** 2 / np.maximum(pair, 1.0)
    phi = max(float(np.median(z2)) / 0.4549, 1.0)  # median of χ²₁ is 0.4549
    pen = 2.0 * np.log(bins) + 2.0 if penalty is None else penalty
    csum = np.concatenate([[0.0], np.cumsum(n)])
    xlogx = np.concatenate([[0.0], np.cumsum(np.where(n > 0, n * np.log(np.maximum(n, 1.0)), 0.0))])

    best = np.full(bins + 1, np.inf)
    best[0] = -pen
    last = np.zeros(bins + 1, dtype=np.intp)
    for b in range(1, bins + 1):
        a = np.arange(b)
        total = csum[b] - csum[a]  # the deviance of days [a, b) around their mean, over φ
        mean_log = np.log(np.maximum(total, 1e-300) / (b - a))
        cost = np.where(total > 0, 2.0 * (xlogx[b] - xlogx[a] - total * mean_log) / phi, 0.0)
        value = best[a] + pen + cost
        last[b] = int(np.argmin(value))
        best[b] = value[last[b]]
    cuts = [bins]
    while cuts[-1] > 0:
        cuts.append(int(last[cuts[-1]]))
    return np.array(sorted(cuts), dtype=np.float64) * width


def _changed(long: HawkesResults, short: HawkesResults, z: float) -> bool:
    """Whether the short window's ratio differs from the long one's beyond the noise of the difference."""
    se_l, se_s = long.branching_ratio_se_, short.branching_ratio_se_
    if not (np.isfinite(se_l) and np.isfinite(se_s)):
        return False
    spread = np.sqrt(max(se_s**2 - se_l**2, 0.25 * se_s**2))
    return bool(abs(short.branching_ratio_ - long.branching_ratio_) > z * spread)


def _decay(
    t_all: FloatArray,
    side: NDArray[np.intp],
    end: float,
    begin: float,
    bin_days: float,
    min_events: int,
    prior: HawkesParams,
    cycle: DailyCycle | None,
    warm: HawkesParams | None,
) -> float | None:
    """The decay β of the exact MLE on [begin, end) (days as baseline bins), or None if it cannot be fitted."""
    res = _fit(
        t_all, side, begin, warm, end=end, bin_days=bin_days, min_events=min_events, prior=prior, beta=None,
        cycle=cycle,
    )  # fmt: skip
    return float(res.params_.beta) if res.status == "ok" else None


def _prepared(series: Sequence[tuple[FloatArray, FloatArray]]) -> list[tuple[FloatArray, NDArray[np.intp]]]:
    """Each sector's (times in order, side: 0 UKR / 1 RUS by the more probable side)."""
    out = []
    for time_s, p_ukr in series:
        order = np.argsort(time_s, kind="stable")
        t = np.asarray(time_s, dtype=np.float64)[order]
        out.append((t, np.where(np.asarray(p_ukr, dtype=np.float64)[order] >= 0.5, 0, 1).astype(np.intp)))
    return out


def daily_cycles(
    series: Sequence[tuple[FloatArray, FloatArray]],
    day_ends_s: FloatArray,
    *,
    window_days: float = 28.0,
    coverage_start_s: float | None = None,
    harmonics: int = 2,
) -> list[DailyCycle]:
    """The fire's daily cycle over the hours of the day, from every sector's fire of the trailing window.

    Fire peaks at night on the whole line (the monitoring missions logged it so); a baseline flat
    within each day reads those busy hours as fire answering fire. The cycle of the events
    themselves is the baseline's, to well under 1 %: replies follow within the hour while the cycle
    is a day long. Pooled over the sectors (thousands of events a window) it is nearly known.
    Flat where the window holds too few events (:meth:`~truceline.stats.DailyCycle.estimate`).
    """
    floor = -np.inf if coverage_start_s is None else float(coverage_start_s)
    t = np.sort(np.concatenate([np.asarray(ts, dtype=np.float64) for ts, _ in series])) if series else np.zeros(0)
    out = []
    for end in np.asarray(day_ends_s, dtype=np.float64):
        lo, hi = (int(i) for i in np.searchsorted(t, [max(end - window_days * 86_400.0, floor), end], side="left"))
        out.append(DailyCycle.estimate(t[lo:hi], harmonics=harmonics))
    return out


def shared_decay(
    series: Sequence[tuple[FloatArray, FloatArray]],
    day_ends_s: FloatArray,
    *,
    window_days: float = 28.0,
    coverage_start_s: float | None = None,
    min_events: int = 40,
    baseline_bin_days: float = 1.0,
    cycles: Sequence[DailyCycle] | None = None,
    segment_baseline: bool = True,
) -> FloatArray:
    """The decay β (1/hour) shared by several sectors, by exact MLE on each trailing window.

    ``series`` holds each sector's (epoch seconds, P(UKR)). The joint model has its own baselines
    and α per sector and one β: its profile log-likelihood is the sum of the sectors' profiles,
    maximised over log β (a grid, then Brent). The response delay is a trait of the armies' fire
    discipline and weapons, common to the sectors; pooling them makes β nearly known, so it no
    longer carries noise into each sector's branching ratio. ``cycles``: the baseline's daily
    cycle of each window (see :func:`daily_cycles`). NaN where no sector can be fitted.
    """
    from scipy.optimize import minimize_scalar

    floor = -np.inf if coverage_start_s is None else float(coverage_start_s)
    prepared = _prepared(series)
    out = np.full(len(day_ends_s), np.nan)
    for k, end in enumerate(np.asarray(day_ends_s, dtype=np.float64)):
        begin = max(end - window_days * 86_400.0, floor)
        span_h = (end - begin) / 3600.0
        if span_h < 72.0:
            continue
        bins = max(round(span_h / 24.0 / baseline_bin_days), 1)
        cycle = None if cycles is None else cycles[k]
        problems: list[tuple[TypedEvents, list[FloatArray]]] = []
        for t, c in prepared:
            lo, hi = (int(i) for i in np.searchsorted(t, [begin, end], side="left"))
            cc = c[lo:hi]
            if hi - lo < min_events or np.bincount(cc, minlength=2).min() == 0:
                continue
            tw = np.clip((t[lo:hi] - begin) / 3600.0, 0.0, span_h)
            edges = level_edges(tw, span_h, bins) if segment_baseline else bins
            ev = TypedEvents(tw, cc, span_h, edges, cycle=cycle, clock_origin_h=begin / 3600.0)
            rate = np.bincount(cc, minlength=2) / span_h
            nb = ev.bins
            warm = np.concatenate([np.full(nb, rate[0] * 0.5), np.full(nb, rate[1] * 0.5), np.full(4, 0.25)])
            problems.append((ev, [np.maximum(warm, 1e-9)]))
        if not problems:
            continue

        def neg_profile(log_beta: float, problems: list[tuple[TypedEvents, list[FloatArray]]] = problems) -> float:
            total = 0.0
            for ev, warm in problems:
                value, theta, _ = ev.profile(float(np.exp(log_beta)), warm[0], 100, 1e-10)
                if not np.isfinite(value):
                    return 1e300
                warm[0] = theta
                total += value
            return -total

        grid = np.log(2.0) * np.arange(-5, 7)  # β from 1/32 to 64 per hour
        values = [neg_profile(float(g)) for g in grid]
        best = int(np.argmin(values))
        lo_b, hi_b = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        res = minimize_scalar(neg_profile, bounds=(lo_b, hi_b), method="bounded", options={"xatol": 1e-4})
        out[k] = float(np.exp(res.x)) if res.fun < 1e299 else np.nan
    return out
