"""Maximum-likelihood fit of the bivariate Hawkes process, in the scikit-learn/statsmodels shape.

:class:`BivariateHawkes` only stores its settings; :meth:`BivariateHawkes.fit` maximises the
exact log-likelihood (O(N)) as a profile likelihood: for a fixed decay β the problem splits into
one concave 3-parameter problem per type, solved by projected Newton; β is found by a grid and
Brent's method on log β. It returns :class:`HawkesResults`: estimates, standard errors from the
observed information (the analytic Hessian, :func:`truceline.stats.loglik_hessian`), confidence
intervals, the branching ratio with its delta-method standard error, and a ``summary()``.
Bad input gets a clear ``status`` instead of an exception or a NaN: too few events (the prior is
returned and said to be the prior), no convergence, a singular information matrix. The baseline
may be piecewise constant (``baseline_bins``) and follow a daily cycle (``daily_cycle``).

>>> rng = np.random.default_rng(3)
>>> t = np.sort(rng.random(12) * 50.0); c = rng.integers(0, 2, 12)
>>> res = BivariateHawkes(min_events=30).fit(t, c, 50.0)
>>> res.status, round(res.branching_ratio_, 2)
('too_few_events', 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from truceline.stats.diurnal import DailyCycle
from truceline.stats.hawkes import (
    PARAM_NAMES,
    HawkesParams,
    _check_events,
    loglik_hessian,
    spectral_radius,
)
from truceline.stats.hawkes_profile import TypedEvents

__all__ = ["DEFAULT_PRIOR", "BivariateHawkes", "FitStatus", "HawkesResults", "fit_hawkes"]

FloatArray = NDArray[np.float64]

FitStatus = Literal["ok", "too_few_events", "not_converged", "singular_information"]

DEFAULT_PRIOR = HawkesParams(mu=(0.5, 0.5), alpha=((0.25, 0.25), (0.25, 0.25)), beta=2.0)
"""What we assume with too little data: tit-for-tat that dies out (branching ratio 0.5), 30-minute replies."""

_Z = {0.90: 1.6448536269514722, 0.95: 1.959963984540054, 0.99: 2.5758293035489004}


@dataclass(frozen=True)
class HawkesResults:
    """A fitted (or, with too few events, assumed) model. Attributes ending in ``_`` are estimates.

    ``stderr_`` is in the order of :data:`PARAM_NAMES`; a fixed decay has standard error 0 and an
    estimate on a bound (an α of 0) or a prior has an infinite one.
    """

    params_: HawkesParams
    stderr_: FloatArray
    loglik_: float
    n_events: int
    horizon: float
    status: FitStatus
    message: str = ""
    fixed_beta: bool = False
    iterations: int = 0
    branching_ratio_se_: float = field(default=float("inf"))
    baseline_: FloatArray | None = None  # (2, bins) with a piecewise-constant baseline, else None

    @property
    def converged(self) -> bool:
        return self.status == "ok"

    @property
    def branching_ratio_(self) -> float:
        return self.params_.branching_ratio

    def conf_int(self, level: float = 0.95) -> FloatArray:
        """(7, 2) Wald intervals, clipped at 0 where a parameter cannot be negative."""
        z = _z(level)
        est = self.params_.vector()
        lo = np.maximum(est - z * self.stderr_, 0.0)
        return np.column_stack([lo, est + z * self.stderr_])

    def branching_ratio_conf_int(self, level: float = 0.95) -> tuple[float, float]:
        z = _z(level)
        rho, se = self.branching_ratio_, self.branching_ratio_se_
        return max(rho - z * se, 0.0), rho + z * se

    def summary(self, level: float = 0.95) -> str:
        ci = self.conf_int(level)
        pct = f"{level:.0%}"
        rows = [
            f"Bivariate exponential-kernel Hawkes process — status {self.status}"
            + (f" ({self.message})" if self.message else ""),
            f"N = {self.n_events} events over {self.horizon:.1f} h; log-likelihood {self.loglik_:.3f}",
            f"{'parameter':>10} {'estimate':>11} {'std err':>11} {pct + ' low':>11} {pct + ' high':>11}",
        ]
        for name, est, se, (lo, hi) in zip(PARAM_NAMES, self.params_.vector(), self.stderr_, ci, strict=True):
            rows.append(f"{name:>10} {est:>11.5f} {se:>11.5f} {lo:>11.5f} {hi:>11.5f}")
        lo, hi = self.branching_ratio_conf_int(level)
        rows.append(
            f"branching ratio {self.branching_ratio_:.4f} (std err {self.branching_ratio_se_:.4f}, "
            f"{pct} interval {lo:.4f} – {hi:.4f}); retaliation α_01 = {self.params_.alpha[0][1]:.4f}, "
            f"α_10 = {self.params_.alpha[1][0]:.4f}"
        )
        return "\n".join(rows)


def _z(level: float) -> float:
    if level in _Z:
        return _Z[level]
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2.0))


class BivariateHawkes:
    """Exact MLE of a bivariate exponential-kernel Hawkes process.

    ``beta``: a fixed decay (1/hour), or ``None`` to estimate it. ``min_events``: below this the
    fit is not attempted and ``prior`` is returned with status ``too_few_events``.
    ``baseline_bins``: the baseline is piecewise constant on this many equal bins of the window (a
    day each, say), so that a baseline that moves (a build-up, an offensive, a renewed commitment)
    is not mistaken for excitation; ``params_.mu`` is then the baseline's mean and ``baseline_``
    holds the bins. Standard errors then come from the per-type information at the estimated β
    and, for β, from the curvature of the profile likelihood. ``daily_cycle``: the baseline's
    relative cycle over the hours of the day (:class:`~truceline.stats.DailyCycle`), so that fire
    that peaks at night is not read as fire answering fire; ``fit(..., clock_origin_h=...)`` then
    says when the window starts (hours from a midnight UTC, e.g. epoch hours).
    """

    def __init__(
        self,
        *,
        beta: float | None = None,
        min_events: int = 30,
        prior: HawkesParams = DEFAULT_PRIOR,
        max_iter: int = 100,
        tol: float = 1e-10,
        baseline_bins: int = 1,
        daily_cycle: DailyCycle | None = None,
    ) -> None:
        if baseline_bins < 1:
            raise ValueError("baseline_bins must be at least 1")
        self.baseline_bins = baseline_bins
        self.daily_cycle = daily_cycle
        self.beta = beta
        self.min_events = min_events
        self.prior = prior
        self.max_iter = max_iter
        self.tol = tol

    def fit(
        self,
        t: ArrayLike,
        c: ArrayLike,
        horizon: float,
        *,
        start: HawkesParams | None = None,
        clock_origin_h: float = 0.0,
        baseline_edges: ArrayLike | None = None,
    ) -> HawkesResults:
        """Fit to events at ``t`` (hours from the window's start, sorted) of types ``c`` on [0, ``horizon``).

        ``clock_origin_h``: the window's start in hours from a midnight UTC (only a daily cycle needs it).
        ``baseline_edges``: the baseline's bins for this window as edges (hours, 0 to ``horizon``),
        e.g. where the fire's level was found to change; they replace ``baseline_bins``.
        """
        if not (horizon > 0 and np.isfinite(horizon)):
            raise ValueError(f"horizon must be a positive number of hours, not {horizon}")
        tt, cc = _check_events(t, c, horizon)
        n = len(tt)
        counts = np.bincount(cc, minlength=2)
        if n < self.min_events or counts.min() == 0:
            why = f"{n} events ({counts[0]} + {counts[1]}) are too few to fit; the prior is given"
            return self._prior_result(n, horizon, why)
        v0 = self._start(start, counts, horizon)
        bins = self.baseline_bins if baseline_edges is None else np.asarray(baseline_edges, dtype=np.float64)
        cycle = self.daily_cycle if self.daily_cycle is not None and not self.daily_cycle.flat else None
        events = TypedEvents(tt, cc, horizon, bins, cycle=cycle, clock_origin_h=clock_origin_h)
        nb = events.bins
        warm = np.concatenate([np.full(nb, v0[0]), np.full(nb, v0[1]), v0[2:6]])
        if self.beta is not None:
            value, theta, ok = events.profile(self.beta, warm, self.max_iter, self.tol)
            beta, iterations = self.beta, 1
        else:
            beta, value, theta, ok, iterations = self._search_beta(events, warm, float(v0[6]))
        baseline = theta[: 2 * nb].reshape(2, nb)
        share = np.diff(events.edges) / horizon
        v = np.concatenate([baseline @ share, theta[2 * nb :], [beta]])
        status: FitStatus = "ok" if ok else "not_converged"
        message = "" if ok else "the inner Newton iterations did not converge"
        if nb == 1 and cycle is None:
            se, rho_se, singular = _standard_errors(v, tt, cc, horizon, self.beta is not None)
        else:
            se, rho_se, singular = _binned_standard_errors(events, beta, theta, self, value)
        if singular and status == "ok":
            status, message = (
                "singular_information",
                "the observed information is singular; standard errors are infinite",
            )
        return HawkesResults(
            params_=HawkesParams.from_vector(v),
            stderr_=se,
            loglik_=value,
            n_events=n,
            horizon=horizon,
            status=status,
            message=message,
            fixed_beta=self.beta is not None,
            iterations=iterations,
            branching_ratio_se_=rho_se,
            baseline_=baseline if nb > 1 or cycle is not None else None,
        )

    def _search_beta(
        self, events: TypedEvents, warm: FloatArray, beta0: float
    ) -> tuple[float, float, FloatArray, bool, int]:
        """Maximise the profile log-likelihood over log β: a coarse grid, then Brent inside the best bracket."""
        from scipy.optimize import minimize_scalar

        cache: dict[float, tuple[float, FloatArray, bool]] = {}

        def neg_profile(log_beta: float) -> float:
            nonlocal warm
            key = round(log_beta, 12)
            if key not in cache:
                cache[key] = events.profile(float(np.exp(log_beta)), warm, self.max_iter, self.tol)
                if np.isfinite(cache[key][0]):
                    warm = cache[key][1]
            return -cache[key][0] if np.isfinite(cache[key][0]) else 1e300

        centre = float(np.log(beta0))
        grid = centre + np.log(4.0) * np.arange(-3, 4)  # β from 1/64 to 64 times the start
        values = [neg_profile(float(g)) for g in grid]
        best = int(np.argmin(values))
        lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        res = minimize_scalar(neg_profile, bounds=(lo, hi), method="bounded", options={"xatol": 1e-7})
        # The best point evaluated (Brent's answer is one of them; taking the best guards against none).
        key = max(cache, key=lambda k: cache[k][0] if np.isfinite(cache[k][0]) else -np.inf)
        value, theta, ok = cache[key]
        return float(np.exp(key)), value, theta, ok and bool(res.success), len(cache)

    def _start(self, start: HawkesParams | None, counts: NDArray[np.intp], horizon: float) -> FloatArray:
        if start is not None:
            v = start.vector()
        else:
            # Half of each side's events as background and a branching ratio of 0.5 to begin with.
            rate = counts / horizon
            v = np.array([rate[0] * 0.5, rate[1] * 0.5, 0.25, 0.25, 0.25, 0.25, self.beta or self.prior.beta])
        return np.maximum(v, 1e-9)

    def _prior_result(self, n: int, horizon: float, why: str) -> HawkesResults:
        prior = self.prior if self.beta is None else HawkesParams(self.prior.mu, self.prior.alpha, self.beta)
        return HawkesResults(
            params_=prior,
            stderr_=np.full(7, np.inf),
            loglik_=-np.inf,
            n_events=n,
            horizon=horizon,
            status="too_few_events",
            message=why,
            fixed_beta=self.beta is not None,
        )


def _standard_errors(
    v: FloatArray, t: FloatArray, c: NDArray[np.intp], horizon: float, fixed_beta: bool
) -> tuple[FloatArray, float, bool]:
    """Standard errors from the observed information (the analytic Hessian at the estimate).

    Parameters on their bound (an α of 0) are left out of the inversion and get an infinite error;
    they add no variance to the branching ratio's delta-method error.
    """
    k = 6 if fixed_beta else 7
    free = [i for i in range(k) if not (2 <= i < 6 and v[i] <= 1e-8)]
    try:
        hess = loglik_hessian(v, t, c, horizon)
    except ValueError:
        se = np.full(7, np.inf)
        return se, float("inf"), True
    info = -hess[np.ix_(free, free)]
    info = 0.5 * (info + info.T)
    se = np.full(7, np.inf)
    if fixed_beta:
        se[6] = 0.0
    try:
        cov_free = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return se, float("inf"), True
    diag = np.diag(cov_free)
    if not np.all(np.isfinite(diag)) or np.any(diag <= 0):
        return se, float("inf"), True
    se[free] = np.sqrt(diag)
    # Delta method for the spectral radius over the α entries that are free.
    cov = np.zeros((7, 7))
    cov[np.ix_(free, free)] = cov_free
    grad_rho = np.zeros(7)
    alpha = v[2:6].reshape(2, 2)
    for i in range(2, 6):
        step = 1e-6 * max(abs(v[i]), 1e-3)
        a_up = alpha.copy().ravel()
        a_up[i - 2] += step
        grad_rho[i] = (spectral_radius(a_up.reshape(2, 2)) - spectral_radius(alpha)) / step
    rho_var = float(grad_rho @ cov @ grad_rho)
    return se, float(np.sqrt(max(rho_var, 0.0))), False


def _binned_standard_errors(
    events: TypedEvents, beta: float, theta: FloatArray, model: BivariateHawkes, value: float
) -> tuple[FloatArray, float, bool]:
    nb = events.bins
    events.profile(beta, theta, model.max_iter, model.tol)  # the per-type Hessians at the estimate
    se = np.full(7, np.inf)
    cov_alpha = np.zeros((4, 4))
    for i, hess in enumerate(events.hessians):
        th = np.concatenate([theta[i * nb : (i + 1) * nb], theta[2 * nb + 2 * i : 2 * nb + 2 * i + 2]])
        free = np.flatnonzero(th > 1e-8)
        try:
            cov = np.linalg.inv(-hess[np.ix_(free, free)])
        except np.linalg.LinAlgError:
            return se, float("inf"), True
        full = np.zeros((nb + 2, nb + 2))
        full[np.ix_(free, free)] = cov
        if np.any(np.diag(full)[free] <= 0):
            return se, float("inf"), True
        weights = np.concatenate([np.diff(events.edges) / events.horizon, [0.0, 0.0]])
        se[i] = float(np.sqrt(max(weights @ full @ weights, 0.0)))
        for j in (0, 1):
            if th[nb + j] > 1e-8:
                se[2 + 2 * i + j] = float(np.sqrt(full[nb + j, nb + j]))
        cov_alpha[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = full[nb:, nb:]
    if model.beta is not None:
        se[6] = 0.0
    else:
        h = 1e-3
        up = events.profile(beta * np.exp(h), theta, model.max_iter, model.tol)[0]
        down = events.profile(beta * np.exp(-h), theta, model.max_iter, model.tol)[0]
        curvature = (up - 2.0 * value + down) / (beta * h) ** 2
        se[6] = float(np.sqrt(-1.0 / curvature)) if curvature < 0 else float("inf")
    alpha = theta[2 * nb :].reshape(2, 2)
    grad_rho = np.zeros(4)
    for k in range(4):
        step = 1e-6 * max(abs(alpha.ravel()[k]), 1e-3)
        bumped = alpha.ravel().copy()
        bumped[k] += step
        grad_rho[k] = (spectral_radius(bumped.reshape(2, 2)) - spectral_radius(alpha)) / step
    return se, float(np.sqrt(max(float(grad_rho @ cov_alpha @ grad_rho), 0.0))), False


def fit_hawkes(
    t: ArrayLike, c: ArrayLike, horizon: float, start: HawkesParams | None = None, *, beta: float | None = None
) -> HawkesResults:
    """Shorthand for ``BivariateHawkes(beta=beta, min_events=20).fit(t, c, horizon, start=start)``.

    The result has the attributes of the simulator's own ``HawkesFit`` (``params_``, ``stderr_``,
    ``loglik_``, ``n_events``, ``horizon``, ``converged``, ``branching_ratio_``, ``summary()``).
    """
    return BivariateHawkes(beta=beta, min_events=20).fit(t, c, horizon, start=start)
