"""Change detection: Page's one-sided CUSUM on a standardised series, without a Python loop.

The CUSUM ``S_t = max(0, S_{t-1} + z_t - k)`` is a reflected random walk, and a reflected walk
is its cumulative sum minus the running minimum of that sum (Lindley): ``S_t = C_t - min(0,
min_{s≤t} C_s)`` with ``C_t = Σ_{s≤t} (z_s - k)`` — one ``cumsum`` and one ``minimum.accumulate``.
``k`` is half the shift (in standard deviations) we want to detect quickly; an alarm is
``S_t > h``.

>>> r = cusum([0, 0, 0, 3, 3, 3], mean=0.0, sd=1.0, k=0.5, h=4.0)
>>> r.statistic.tolist(), r.first_alarm
([0.0, 0.0, 0.0, 2.5, 5.0, 7.5], 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["CusumResult", "cusum"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CusumResult:
    """The CUSUM statistic per step, which steps are in alarm, and the first alarm (None if none)."""

    statistic: FloatArray
    alarm: NDArray[np.bool_]
    first_alarm: int | None


def cusum(x: ArrayLike, *, mean: ArrayLike, sd: ArrayLike, k: float = 0.5, h: float = 4.0) -> CusumResult:
    """Upward CUSUM of ``x`` against a baseline ``mean`` and ``sd`` (scalars or per-step arrays).

    A zero or negative ``sd`` is read as 1 (a degenerate baseline must not divide by zero).
    """
    xs = np.asarray(x, dtype=np.float64)
    sds = np.asarray(sd, dtype=np.float64)
    sds = np.where(sds > 0, sds, 1.0)
    z = np.nan_to_num((xs - np.asarray(mean, dtype=np.float64)) / sds, nan=0.0, posinf=0.0, neginf=0.0)
    walk = np.cumsum(z - k)
    stat = walk - np.minimum(np.minimum.accumulate(walk), 0.0) if len(walk) else walk
    alarm = stat > h
    hits = np.flatnonzero(alarm)
    return CusumResult(statistic=stat, alarm=alarm, first_alarm=int(hits[0]) if len(hits) else None)
