"""Escalation: per sector, is tit-for-tat fire feeding on itself?

Each day, each sector's fire of the trailing window (``window_days``, ending with the day) is
fitted by the exact bivariate Hawkes MLE (:class:`truceline.stats.BivariateHawkes`): type 0 is
fire attributed to Ukraine, type 1 to Russia (the more probable side of each incident). The
branching ratio (the spectral radius of the excitation matrix) says how many further shots one
shot brings, all generations counted; the cross terms α_01 and α_10 are retaliation. A *spiral*
is flagged when the branching ratio approaches 1 (its lower 95 % bound above ``spiral_ratio``) or
the retaliation terms jump against the sector's own earlier windows.

A window with too few events is not fitted: its estimate says so and carries no ratio (the
prior is named in the message), so no NaN ever reaches a record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truceline.stats import DEFAULT_PRIOR, BivariateHawkes, FitStatus, HawkesParams

__all__ = ["EscalationEstimate", "rolling_escalation", "shared_decay"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class EscalationEstimate:
    """One sector-day's fit. ``branching_ratio`` is None when the window could not be fitted."""

    day_end_s: float
    status: FitStatus
    n_events: int
    branching_ratio: float | None
    branching_ratio_se: float | None
    retaliation: tuple[float, float] | None  # (α_01: UKR answering RUS, α_10: RUS answering UKR)
    spiral: bool
    message: str


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
        bins = max(round(span_h / 24.0 / baseline_bin_days), 1)
        model = BivariateHawkes(min_events=min_events, baseline_bins=bins, prior=prior)
        lo = int(np.searchsorted(t_all, begin, side="left"))
        t = (t_all[lo:hi] - begin) / 3600.0
        c = side[lo:hi]
        if span_h < min_history_days * 24.0:
            why = f"only {span_h / 24.0:.1f} days of data"
            res = None
        else:
            beta = None
            if decays is not None and np.isfinite(decays[n_end]):
                beta = float(decays[n_end])
            elif decay_window_days is not None and decay_window_days * 86_400.0 > end - begin:
                beta = _decay(
                    t_all, side, end, max(end - decay_window_days * 86_400.0, floor), baseline_bin_days, model, warm
                )
            if beta is not None:
                model = BivariateHawkes(min_events=min_events, baseline_bins=bins, prior=prior, beta=beta)
            res = model.fit(np.clip(t, 0.0, span_h), c, span_h, start=warm)
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
            )
        )
    return out


def _decay(
    t_all: FloatArray,
    side: NDArray[np.intp],
    end: float,
    begin: float,
    bin_days: float,
    model: BivariateHawkes,
    warm: HawkesParams | None,
) -> float | None:
    """The decay β of the exact MLE on [begin, end) (days as baseline bins), or None if it cannot be fitted."""
    lo, hi = (int(i) for i in np.searchsorted(t_all, [begin, end], side="left"))
    span_h = (end - begin) / 3600.0
    long = BivariateHawkes(
        min_events=model.min_events, baseline_bins=max(round(span_h / 24.0 / bin_days), 1), prior=model.prior
    )
    res = long.fit(np.clip((t_all[lo:hi] - begin) / 3600.0, 0.0, span_h), side[lo:hi], span_h, start=warm)
    return float(res.params_.beta) if res.status == "ok" else None


def shared_decay(
    series: list[tuple[FloatArray, FloatArray]],
    day_ends_s: FloatArray,
    *,
    window_days: float = 28.0,
    coverage_start_s: float | None = None,
    min_events: int = 40,
    baseline_bin_days: float = 1.0,
) -> FloatArray:
    """The decay β (1/hour) shared by several sectors, by exact MLE on each trailing window.

    ``series`` holds each sector's (epoch seconds, P(UKR)). The joint model has its own baselines
    and α per sector and one β: its profile log-likelihood is the sum of the sectors' profiles,
    maximised over log β (a grid, then Brent). The response delay is a trait of the armies' fire
    discipline and weapons, common to the sectors; pooling them makes β nearly known, so it no
    longer carries noise into each sector's branching ratio. NaN where no sector can be fitted.
    """
    from scipy.optimize import minimize_scalar

    from truceline.stats.hawkes_fit import _TypedEvents

    floor = -np.inf if coverage_start_s is None else float(coverage_start_s)
    prepared = []
    for time_s, p_ukr in series:
        order = np.argsort(time_s, kind="stable")
        t = np.asarray(time_s, dtype=np.float64)[order]
        prepared.append((t, np.where(np.asarray(p_ukr, dtype=np.float64)[order] >= 0.5, 0, 1).astype(np.intp)))
    out = np.full(len(day_ends_s), np.nan)
    for k, end in enumerate(np.asarray(day_ends_s, dtype=np.float64)):
        begin = max(end - window_days * 86_400.0, floor)
        span_h = (end - begin) / 3600.0
        if span_h < 72.0:
            continue
        bins = max(round(span_h / 24.0 / baseline_bin_days), 1)
        problems = []
        for t, c in prepared:
            lo, hi = (int(i) for i in np.searchsorted(t, [begin, end], side="left"))
            cc = c[lo:hi]
            if hi - lo < min_events or np.bincount(cc, minlength=2).min() == 0:
                continue
            ev = _TypedEvents(np.clip((t[lo:hi] - begin) / 3600.0, 0.0, span_h), cc, span_h, bins)
            rate = np.bincount(cc, minlength=2) / span_h
            warm = np.concatenate([np.full(bins, rate[0] * 0.5), np.full(bins, rate[1] * 0.5), np.full(4, 0.25)])
            problems.append([ev, np.maximum(warm, 1e-9)])
        if not problems:
            continue

        def neg_profile(log_beta: float, problems: list[list[object]] = problems) -> float:
            total = 0.0
            for pr in problems:
                ev, warm = pr
                value, theta, _ = ev.profile(float(np.exp(log_beta)), warm, 100, 1e-10)  # type: ignore[attr-defined]
                if not np.isfinite(value):
                    return 1e300
                pr[1] = theta
                total += value
            return -total

        grid = np.log(2.0) * np.arange(-5, 7)  # β from 1/32 to 64 per hour
        values = [neg_profile(float(g)) for g in grid]
        best = int(np.argmin(values))
        lo_b, hi_b = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        res = minimize_scalar(neg_profile, bounds=(lo_b, hi_b), method="bounded", options={"xatol": 1e-4})
        out[k] = float(np.exp(res.x)) if res.fun < 1e299 else np.nan
    return out
