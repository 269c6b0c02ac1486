"""A baseline's daily cycle: a few harmonics of the hour of day, estimated from event times.

Fire along a contact line peaks at night. A Hawkes fit whose baseline is flat within each day
reads that cycle as clustering (more events near other events in the busy hours) and inflates the
excitation; with a known cycle ``s(h)`` the baseline becomes ``μ_bin s(h)``, still linear in the
``μ_bin``, so the fit stays a concave problem.

    s(h) = 1 + Σ_k a_k cos(2π k h / 24) + b_k sin(2π k h / 24)        h: hours of the day (UTC)

>>> rng = np.random.default_rng(0)
>>> h = rng.random(200_000) * 24
>>> keep = rng.random(h.size) < (1 + 0.3 * np.cos(2 * np.pi * (h - 1) / 24)) / 1.3
>>> cycle = DailyCycle.estimate(h[keep] * 3600.0)
>>> round(cycle.amplitude, 2), round(cycle.peak_h)  # true: 0.3 and 01:00 (estimated 1.07 h)
(0.3, 1)
>>> round(float(cycle.integral(np.array([0.0]), np.array([24.0]))[0]), 6)
24.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DailyCycle"]

FloatArray = NDArray[np.float64]
_OMEGA = 2.0 * np.pi / 24.0
_MIN_SHAPE = 0.05  # the cycle may dip this low, never to zero: a baseline of zero forbids events


@dataclass(frozen=True)
class DailyCycle:
    """``s(h)`` by its Fourier coefficients (``cos[k-1]``, ``sin[k-1]`` for harmonic k); none = flat."""

    cos: tuple[float, ...] = ()
    sin: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.cos) != len(self.sin):
            raise ValueError("a daily cycle needs as many sine as cosine coefficients")
        if not all(np.isfinite(self.cos + self.sin)):
            raise ValueError("a daily cycle's coefficients must be finite numbers")
        if self.cos and float(self(np.linspace(0.0, 24.0, 97) * 3600.0).min()) < _MIN_SHAPE:
            raise ValueError(f"a daily cycle must stay above {_MIN_SHAPE} of the mean")

    @property
    def flat(self) -> bool:
        return not any(self.cos + self.sin)

    @property
    def amplitude(self) -> float:
        """The first harmonic's relative amplitude (0 for a flat day)."""
        return float(np.hypot(self.cos[0], self.sin[0])) if self.cos else 0.0

    @property
    def peak_h(self) -> float:
        """The hour (UTC) at which the first harmonic peaks."""
        return float(np.arctan2(self.sin[0], self.cos[0]) / _OMEGA % 24.0) if self.cos else 0.0

    def __call__(self, time_s: ArrayLike) -> FloatArray:
        """``s`` at epoch seconds (or any seconds whose zero is a midnight UTC)."""
        h = np.asarray(time_s, dtype=np.float64) / 3600.0
        out = np.ones_like(h)
        for k, (a, b) in enumerate(zip(self.cos, self.sin, strict=True), start=1):
            out += a * np.cos(k * _OMEGA * h) + b * np.sin(k * _OMEGA * h)
        return out

    def integral(self, start_h: ArrayLike, end_h: ArrayLike) -> FloatArray:
        """∫ s over [start, end] with times in hours from a midnight UTC: the expected count per unit baseline."""
        h0 = np.asarray(start_h, dtype=np.float64)
        h1 = np.asarray(end_h, dtype=np.float64)
        out = h1 - h0
        for k, (a, b) in enumerate(zip(self.cos, self.sin, strict=True), start=1):
            w = k * _OMEGA
            out = out + (a * (np.sin(w * h1) - np.sin(w * h0)) - b * (np.cos(w * h1) - np.cos(w * h0))) / w
        return np.asarray(out)

    @classmethod
    def estimate(cls, time_s: ArrayLike, harmonics: int = 2, min_events: int = 200) -> DailyCycle:
        """The cycle of events at ``time_s`` (epoch seconds): each harmonic's coefficients are twice the
        mean cosine and sine of the events' phase (the Fourier series of their hour-of-day density
        against a flat day). Flat with fewer than ``min_events``; shrunk toward flat if it would dip
        below 5 % of the mean.
        """
        h = np.asarray(time_s, dtype=np.float64).ravel() / 3600.0
        if h.size < min_events or harmonics < 1:
            return cls()
        k = np.arange(1, harmonics + 1)[:, None]
        a = 2.0 * np.cos(k * _OMEGA * h[None, :]).mean(axis=1)
        b = 2.0 * np.sin(k * _OMEGA * h[None, :]).mean(axis=1)
        grid = np.linspace(0.0, 24.0, 97)
        wave = (a[:, None] * np.cos(k * _OMEGA * grid) + b[:, None] * np.sin(k * _OMEGA * grid)).sum(axis=0)
        low = float(wave.min())
        if 1.0 + low < 2.0 * _MIN_SHAPE:
            shrink = (1.0 - 2.0 * _MIN_SHAPE) / -low
            a, b = a * shrink, b * shrink
        return cls(tuple(float(x) for x in a), tuple(float(x) for x in b))
