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

__all__ = ["EscalationEstimate", "rolling_escalation"]

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
    """
    order = np.argsort(time_s, kind="stable")  # clock-skewed input arrives out of order
    t_all = np.asarray(time_s, dtype=np.float64)[order]
    side = np.where(np.asarray(p_ukr, dtype=np.float64)[order] >= 0.5, 0, 1).astype(np.intp)
    floor = -np.inf if coverage_start_s is None else float(coverage_start_s)
    out: list[EscalationEstimate] = []
    history: list[tuple[float, float]] = []  # (α_01 + α_10, its standard error) of earlier windows
    warm = None
    for end in np.asarray(day_ends_s, dtype=np.float64):
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
