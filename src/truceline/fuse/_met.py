"""The speed of sound and the wind where and when a blast happened, from meteorological reports.

Sound travels at ``c = 331.3 + 0.606 T`` m/s in air at ``T`` °C, and the wind carries it: the
effective speed along a path is ``c + w · u`` with ``u`` the unit vector of travel. A 1 °C error
moves ``c`` by 0.18 %, and a wind error of ``δw`` moves a located origin by about ``δw`` times
the travel time, so both are taken from the weather stations rather than from a standard
atmosphere.

Each hour's station reports are fitted with a plane (temperature falls northwards and varies
across the theatre) and the wind is averaged as a vector; values between two hours are
interpolated linearly. With no reports at all the standard atmosphere (15 °C, calm) is used and
:attr:`Weather.standard` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from truceline.geo import to_metric

FloatArray = NDArray[np.float64]

STANDARD_TEMPERATURE_C = 15.0
HOUR_S = 3600.0
SMOOTH_HOURS = 1.0


def sound_speed(temperature_c: ArrayLike) -> FloatArray:
    """Speed of sound in dry air (m/s) at ``temperature_c`` (the linear law the field uses).

    >>> round(float(sound_speed(20.0)), 2)
    343.42
    """
    return np.asarray(331.3 + 0.606 * np.asarray(temperature_c, dtype=np.float64))


def _local_quadratic(hours: NDArray[np.int64], values: FloatArray, weights: FloatArray) -> FloatArray:
    """Each hour's values replaced by a weighted local quadratic fit over the hours within ±SMOOTH_HOURS."""
    out = values.copy()
    h = hours.astype(np.float64)
    for j in range(len(hours)):  # one tiny fit per hour of weather, not per arrival
        near = np.abs(h - h[j]) <= SMOOTH_HOURS
        dh = h[near] - h[j]
        if len(dh) < 4:
            out[j] = np.average(values[near], axis=0, weights=weights[near])
            continue
        sw = np.sqrt(weights[near] * (1.0 - (np.abs(dh) / (SMOOTH_HOURS + 1.0)) ** 3) ** 3)
        # Symmetric windows cancel the cubic term; at the edge of the data a line extrapolates better.
        terms = (
            [np.ones_like(dh), dh, dh * dh]
            if dh.min() < 0 < dh.max() and -dh.min() == dh.max()
            else [
                np.ones_like(dh),
                dh,
            ]
        )
        a = np.column_stack(terms) * sw[:, None]
        out[j] = np.linalg.lstsq(a, values[near] * sw[:, None], rcond=None)[0][0]
    return out


@dataclass(frozen=True)
class Weather:
    """Hourly fits of temperature (a plane in theatre km) and wind (a vector, m/s blowing toward).

    ``hours`` are hour numbers since the epoch (``t // 3600``); times are seconds since the epoch.
    """

    hours: NDArray[np.int64]
    temp_coef: FloatArray  # (H, 3): a + b·x_km + c·y_km
    wind_e: FloatArray
    wind_n: FloatArray
    n_reports: int
    correction_bins: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    correction: FloatArray = field(default_factory=lambda: np.zeros((0, 6)))
    """Per-hour corrections learnt from the arrivals (:meth:`corrected`): offsets of (c, wind east,
    wind north) at mid-hour and their drifts per hour."""

    def corrected(self, bins: NDArray[np.int64], theta: FloatArray) -> Weather:
        """This weather with per-hour corrections (offset + drift × (t − mid-hour) in hours)."""
        return replace(self, correction_bins=np.asarray(bins, np.int64), correction=np.asarray(theta, np.float64))

    def _correction(self, t: FloatArray) -> FloatArray:
        out = np.zeros((len(t), 3))
        if len(self.correction_bins) == 0:
            return out
        b = np.floor(t / HOUR_S).astype(np.int64)
        k = np.clip(np.searchsorted(self.correction_bins, b), 0, len(self.correction_bins) - 1)
        hit = self.correction_bins[k] == b
        tau = t / HOUR_S - b - 0.5
        th = self.correction[k]
        out[hit] = th[hit, :3] + tau[hit, None] * th[hit, 3:]
        return out

    @property
    def standard(self) -> bool:
        """True when no report was available and the standard atmosphere stands in."""
        return self.n_reports == 0

    @classmethod
    def from_reports(
        cls,
        time_s: ArrayLike,
        lon: ArrayLike,
        lat: ArrayLike,
        temperature_c: ArrayLike,
        wind_speed_mps: ArrayLike,
        wind_from_deg: ArrayLike,
    ) -> Weather:
        """Fit the hourly fields from station reports (arrays of equal length, times in epoch seconds)."""
        t = np.asarray(time_s, dtype=np.float64)
        if len(t) == 0:
            return cls(np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros(0), np.zeros(0), 0)
        x, y = to_metric(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
        xk, yk = np.asarray(x) / 1000.0, np.asarray(y) / 1000.0
        temp = np.asarray(temperature_c, dtype=np.float64)
        speed = np.asarray(wind_speed_mps, dtype=np.float64)
        frm = np.radians(np.asarray(wind_from_deg, dtype=np.float64))
        we, wn = -speed * np.sin(frm), -speed * np.cos(frm)  # "from" north → blowing south
        hour = np.round(t / HOUR_S).astype(np.int64)
        hours, inverse = np.unique(hour, return_inverse=True)
        coef = np.zeros((len(hours), 3))
        count = np.bincount(inverse, minlength=len(hours))
        mean_e = np.bincount(inverse, weights=we, minlength=len(hours)) / count
        mean_n = np.bincount(inverse, weights=wn, minlength=len(hours)) / count
        # One small least-squares fit per hour (tens of hours a day, not per arrival).
        for h in range(len(hours)):
            sel = inverse == h
            if sel.sum() >= 5 and np.ptp(xk[sel]) + np.ptp(yk[sel]) > 50.0:
                a = np.column_stack([np.ones(sel.sum()), xk[sel], yk[sel]])
                coef[h] = np.linalg.lstsq(a, temp[sel], rcond=None)[0]
            else:
                coef[h, 0] = temp[sel].mean()
        # The hourly values are noisy (a few stations, each ±5° and ±0.3 m/s): a local quadratic over
        # ±SMOOTH_HOURS keeps the diurnal swing and averages the noise (a wind error δw moves an origin
        # by δw times the travel time, metres at 10 km).
        smooth = _local_quadratic(hours, np.column_stack([coef, mean_e, mean_n]), count.astype(np.float64))
        return cls(hours, smooth[:, :3], smooth[:, 3], smooth[:, 4], len(t))

    def _bracket(self, time_s: FloatArray) -> tuple[NDArray[np.intp], NDArray[np.intp], FloatArray]:
        """Indices of the fitted hours on either side of each time and the weight of the later one."""
        hf = time_s / HOUR_S
        hi = np.clip(np.searchsorted(self.hours, hf, side="left"), 0, len(self.hours) - 1)
        lo = np.clip(hi - 1, 0, len(self.hours) - 1)
        h_lo, h_hi = self.hours[lo].astype(np.float64), self.hours[hi].astype(np.float64)
        span = np.where(h_hi > h_lo, h_hi - h_lo, 1.0)
        w = np.clip((hf - h_lo) / span, 0.0, 1.0)
        w = np.where(h_hi > h_lo, w, 0.0)
        return lo, hi, w

    def temperature_c(self, time_s: ArrayLike, lon: ArrayLike, lat: ArrayLike) -> FloatArray:
        """Temperature (°C) at each time and place."""
        t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
        if self.standard:
            return np.full(t.shape, STANDARD_TEMPERATURE_C)
        x, y = to_metric(np.atleast_1d(np.asarray(lon, np.float64)), np.atleast_1d(np.asarray(lat, np.float64)))
        xk, yk = np.asarray(x) / 1000.0, np.asarray(y) / 1000.0
        lo, hi, w = self._bracket(t)
        c_lo, c_hi = self.temp_coef[lo], self.temp_coef[hi]
        t_lo = c_lo[:, 0] + c_lo[:, 1] * xk + c_lo[:, 2] * yk
        t_hi = c_hi[:, 0] + c_hi[:, 1] * xk + c_hi[:, 2] * yk
        return np.asarray((1.0 - w) * t_lo + w * t_hi)

    def wind(self, time_s: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Wind (east, north) in m/s, blowing toward, at each time."""
        t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
        corr = self._correction(t)
        if self.standard:
            return corr[:, 1].copy(), corr[:, 2].copy()
        lo, hi, w = self._bracket(t)
        return (
            np.asarray((1.0 - w) * self.wind_e[lo] + w * self.wind_e[hi] + corr[:, 1]),
            np.asarray((1.0 - w) * self.wind_n[lo] + w * self.wind_n[hi] + corr[:, 2]),
        )

    def sound_speed(self, time_s: ArrayLike, lon: ArrayLike, lat: ArrayLike) -> FloatArray:
        """Still-air speed of sound (m/s) at each time and place."""
        t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
        return np.asarray(sound_speed(self.temperature_c(t, lon, lat)) + self._correction(t)[:, 0])
