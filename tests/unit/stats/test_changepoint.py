"""The vectorised CUSUM against the plain recursion."""

from __future__ import annotations

import numpy as np

from truceline.stats import cusum


def _loop(z: np.ndarray, k: float) -> np.ndarray:
    s, out = 0.0, []
    for v in z:
        s = max(0.0, s + v - k)
        out.append(s)
    return np.array(out)


def test_cusum_matches_the_plain_recursion() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, 500) + np.r_[np.zeros(300), np.full(200, 1.0)]
    r = cusum(x, mean=0.0, sd=1.0, k=0.5, h=5.0)
    np.testing.assert_allclose(r.statistic, _loop(x, 0.5), atol=1e-9)
    assert r.first_alarm is not None and r.first_alarm >= 300


def test_cusum_stays_quiet_without_a_shift_and_survives_a_zero_sd() -> None:
    r = cusum(np.zeros(50), mean=0.0, sd=0.0)
    assert r.first_alarm is None and not np.any(np.isnan(r.statistic))
    assert cusum([], mean=0.0, sd=1.0).first_alarm is None
