"""The bivariate Hawkes likelihood at a fixed decay β: one concave problem per type.

For a fixed β the log-likelihood separates into one problem per type ``i`` in θ_i = (μ_i per
baseline bin, α_i0, α_i1):

    f(θ) = Σ_{k: c_k=i} log(μ_{bin(k)} s_k + α_i0 β A_0(k) + α_i1 β A_1(k)) - θ · m

with ``s_k`` the baseline's daily cycle at event k (1 without one), ``A_j`` the excitation sums and
``m = (∫ s over each bin, kernel mass of type-0 events, of type-1 events)``. It is concave, so a
projected Newton method solves it in a few steps. The baseline rows of the design are indicator
columns, so the gradient and Hessian are built with ``bincount`` and a few dot products of length
N — no matrix product over the events. (That product, ``(x λ⁻²) xᵀ`` with one row per bin, went
multi-threaded in OpenBLAS from about 28 bins and ran ten times slower on a loaded 2-core
machine.) :class:`TypedEvents` holds the data of one window and evaluates the profile
log-likelihood at any β; the assess stage sums it over sectors to estimate a decay they share.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from truceline.stats.diurnal import DailyCycle
from truceline.stats.hawkes import excitation_sums

__all__ = ["TypedEvents"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


class TypedEvents:
    """One window's events split by type, for the profile likelihood over the decay β.

    ``t``: hours from the window's start (sorted), ``c``: types 0/1, ``horizon``: the window's
    length in hours, ``bins``: the number of equal baseline bins (a day each, say) or their edges
    (hours from the window's start, rising from 0 to ``horizon``), ``cycle``: the baseline's daily
    cycle, with ``clock_origin_h`` the time of t = 0 in hours from a midnight UTC.
    """

    def __init__(
        self,
        t: FloatArray,
        c: IntArray,
        horizon: float,
        bins: int | FloatArray = 1,
        *,
        cycle: DailyCycle | None = None,
        clock_origin_h: float = 0.0,
    ) -> None:
        edges = _edges(bins, horizon)
        self.t, self.c, self.horizon, self.bins = t, c, horizon, len(edges) - 1
        self.edges = edges
        self.index = [np.flatnonzero(c == i) for i in (0, 1)]
        self.bin_of = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, self.bins - 1)
        if cycle is None or cycle.flat:
            self.shape = np.ones(len(t))
            self.bin_mass = np.diff(edges)
        else:
            self.shape = cycle((t + clock_origin_h) * 3600.0)
            self.bin_mass = cycle.integral(edges[:-1] + clock_origin_h, edges[1:] + clock_origin_h)
        self.hessians: list[FloatArray] = []

    def profile(self, beta: float, warm: FloatArray, max_iter: int, tol: float) -> tuple[float, FloatArray, bool]:
        """(max log-likelihood over the baselines and α at this β, the maximiser, converged).

        The maximiser is laid out as (μ_0 bins, μ_1 bins, α_00, α_01, α_10, α_11); ``warm`` too.
        The per-type Hessians at the maximiser are left in ``hessians``.
        """
        (a,) = excitation_sums(self.t, self.c, beta, order=0)
        mass = np.bincount(self.c, weights=-np.expm1(-beta * (self.horizon - self.t)), minlength=2)
        nb = self.bins
        m = np.concatenate([self.bin_mass, mass])
        theta = np.empty(2 * nb + 4)
        total, ok = 0.0, True
        self.hessians = []
        for i in (0, 1):
            idx = self.index[i]
            xa = beta * a[:, idx]
            start = np.concatenate([warm[i * nb : (i + 1) * nb], warm[2 * nb + 2 * i : 2 * nb + 2 * i + 2]])
            value, th, conv, hess = binned_newton(self.bin_of[idx], self.shape[idx], xa, m, start, max_iter, tol)
            total += value
            ok &= conv
            theta[i * nb : (i + 1) * nb] = th[:nb]
            theta[2 * nb + 2 * i : 2 * nb + 2 * i + 2] = th[nb:]
            self.hessians.append(hess)
        return total, theta, ok


def _edges(bins: int | FloatArray, horizon: float) -> FloatArray:
    if np.ndim(bins) == 0:
        if int(bins) < 1:
            raise ValueError("bins must be at least 1")
        return np.linspace(0.0, horizon, int(bins) + 1)
    edges = np.asarray(bins, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("baseline bin edges must rise strictly, at least two of them")
    if abs(edges[0]) > 1e-9 or abs(edges[-1] - horizon) > 1e-6 * max(horizon, 1.0):
        raise ValueError(f"baseline bin edges must run from 0 to the horizon ({horizon} h)")
    return edges


def binned_newton(
    bin_of: IntArray,
    shape: FloatArray,
    xa: FloatArray,
    m: FloatArray,
    start: FloatArray,
    max_iter: int,
    tol: float,
) -> tuple[float, FloatArray, bool, FloatArray]:
    """Maximise ``Σ_k log(θ_b[bin_k] s_k + θ_a · xa_k) - θ · m`` over θ ≥ 0 by projected Newton.

    ``θ = (θ_b: one baseline per bin, θ_a: the excitation weights)``. Coordinates at their bound
    whose gradient points outward stay fixed (the free set of Bertsekas' projected Newton
    method); every step is checked to increase f (Armijo). Returns the value, the maximiser,
    whether it converged and the Hessian there.
    """
    n = len(bin_of)
    nb = len(m) - len(xa)
    dim = len(start)
    theta = np.maximum(start, 1e-12)
    theta[:nb] = np.maximum(theta[:nb], 1e-9)

    def intensity(th: FloatArray) -> FloatArray:
        lam = th[bin_of] * shape
        for j in range(len(xa)):
            lam = lam + th[nb + j] * xa[j]
        return lam

    def f(th: FloatArray) -> float:
        lam = intensity(th)
        return float(np.log(lam).sum() - float((th * m).sum())) if np.all(lam > 0) else -np.inf

    value = f(theta)
    hess = np.zeros((dim, dim))
    for _ in range(max_iter):
        inv = 1.0 / intensity(theta)
        grad, hess = _grad_hess(bin_of, shape, xa, inv, nb)
        grad -= m
        free = (theta > 1e-12) | (grad > 0)
        step = np.zeros(dim)
        try:
            step[free] = np.linalg.solve(-hess[np.ix_(free, free)] + 1e-12 * np.eye(int(free.sum())), grad[free])
        except np.linalg.LinAlgError:
            step[free] = grad[free] / max(n, 1)
        decrement = float((grad[free] * step[free]).sum())
        if decrement < tol * max(n, 1):
            return value, theta, True, hess
        s = 1.0
        while s > 1e-12:
            cand = np.maximum(theta + s * step, 0.0)
            cand[:nb] = np.maximum(cand[:nb], 1e-12)
            new = f(cand)
            if new >= value + 1e-4 * float((grad * (cand - theta)).sum()):
                break
            s *= 0.5
        else:
            return value, theta, False, hess
        theta, value = cand, new
    return value, theta, False, hess


def _grad_hess(
    bin_of: IntArray, shape: FloatArray, xa: FloatArray, inv: FloatArray, nb: int
) -> tuple[FloatArray, FloatArray]:
    """Σ_k x_k / λ_k and -Σ_k x_k x_kᵀ / λ_k², with x_k = (s_k at bin_k's slot, xa_k), without a matrix product."""
    na = len(xa)
    grad = np.empty(nb + na)
    hess = np.zeros((nb + na, nb + na))
    q = inv * inv
    grad[:nb] = np.bincount(bin_of, weights=shape * inv, minlength=nb)
    diag = np.arange(nb)
    hess[diag, diag] = -np.bincount(bin_of, weights=shape * shape * q, minlength=nb)
    for j in range(na):
        grad[nb + j] = float((xa[j] * inv).sum())
        cross = -np.bincount(bin_of, weights=shape * xa[j] * q, minlength=nb)
        hess[:nb, nb + j] = cross
        hess[nb + j, :nb] = cross
        for k in range(j, na):
            hess[nb + j, nb + k] = hess[nb + k, nb + j] = -float((xa[j] * xa[k] * q).sum())
    return grad, hess
