"""Coverage: could the sensors have detected a shot at this place and time?

"Nothing seen where we could see" is evidence; "nothing seen where we were blind" is not. The
acoustic arrays are the dense layer: each hears a muzzle blast with a probability falling with
range, ``P(r) = p_max / (1 + exp((r − R50) / w))``, R50 depending on the weapon class (the arrays'
specification, :data:`ACOUSTIC_R50_M`). A shot becomes a located incident when at least
``min_sensors`` arrays hear it, so the coverage is the Poisson-binomial tail P(≥ min_sensors)
over the arrays that were *working* then — those that reported any pick within ``active_window``
of the time (no report says "array X is down", so silence is the only sign of an outage), times
``pipeline_efficiency`` for what association and location lose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import ArrayLike, NDArray

from truceline.geo import geodesic_distance_m
from truceline.store import ObservationQuery, Store

FloatArray = NDArray[np.float64]

__all__ = [
    "ACOUSTIC_R50_M",
    "HEARING_MARGIN_M",
    "ActivityNear",
    "Coverage",
    "CoverageModel",
    "at_least",
    "detection_probability",
]

ACOUSTIC_R50_M: dict[str, float] = {
    "tank": 8_000.0,
    "mortar": 9_000.0,
    "artillery_lt100": 11_000.0,
    "anti_tank_gun": 11_000.0,
    "artillery_ge100": 15_000.0,
    "mlrs": 17_000.0,
    "heavy_mlrs_missile": 22_000.0,
}
"""Range (m) at which an array hears half the blasts of each weapon class (arrays' specification)."""


HEARING_MARGIN_M = max(ACOUSTIC_R50_M.values()) + 30_000.0
"""Beyond this range from a shot no array's chance of hearing it passes 1e-6 (what ``at`` counts)."""

ActivityNear = Callable[[float, float, float], "SensorActivity"]
"""``(x, y, radius_m)`` in theatre metres → the arrays that could matter within that radius."""


def detection_probability(
    range_m: ArrayLike, r50_m: float, *, p_max: float = 0.95, width_m: float = 2_000.0
) -> FloatArray:
    """One array's chance of hearing a blast at ``range_m``.

    >>> [round(float(p), 3) for p in detection_probability([0.0, 15_000.0, 40_000.0], 15_000.0)]
    [0.949, 0.475, 0.0]
    """
    r = np.asarray(range_m, dtype=np.float64)
    return np.asarray(p_max / (1.0 + np.exp(np.clip((r - r50_m) / width_m, -50, 50))), dtype=np.float64)


def at_least(p: ArrayLike, k: int) -> float:
    """P(at least ``k`` of independent events with probabilities ``p`` happen) (Poisson-binomial).

    >>> round(at_least([0.5, 0.5], 1), 3), round(at_least([0.5, 0.5, 0.5], 3), 3)
    (0.75, 0.125)
    """
    probs = np.asarray(p, dtype=np.float64).ravel()
    if k <= 0:
        return 1.0
    # dist[j] = P(exactly j so far), truncated at k (k or more share the last cell).
    dist = np.zeros(k + 1)
    dist[0] = 1.0
    for q in probs:
        shifted = np.empty_like(dist)
        shifted[0] = dist[0] * (1 - q)
        shifted[1:k] = dist[1:k] * (1 - q) + dist[: k - 1] * q
        shifted[k] = dist[k] + dist[k - 1] * q
        dist = shifted
    return float(dist[k])


@dataclass(frozen=True)
class Coverage:
    """The chance a shot here and then would have become an incident, and what it rests on."""

    p_detect: float
    working_sensors: int
    description: str


@dataclass
class SensorActivity:
    """Where the acoustic arrays are and when each reported: read once, queried per claim in numpy."""

    lon: FloatArray  # per array
    lat: FloatArray
    pick_t: FloatArray  # every pick's time (s), sorted
    pick_sensor: NDArray[np.intp]  # the array of each pick

    @classmethod
    def from_store(cls, store: Store, start: datetime, end: datetime) -> SensorActivity:
        """Every acoustic pick between ``start`` and ``end`` (one read of the store)."""
        index: dict[tuple[str, str], int] = {}
        lon: list[float] = []
        lat: list[float] = []
        times: list[float] = []
        sensor: list[int] = []
        for stored in store.observations(ObservationQuery(kinds=("acoustic_arrival",), start=start, end=end)):
            o = stored.observation
            key = (o.participant, o.source)
            n = index.get(key)
            if n is None:
                n = index[key] = len(lon)
                lon.append(o.location.lon)
                lat.append(o.location.lat)
            times.append(o.time.timestamp())
            sensor.append(n)
        t = np.array(times, dtype=np.float64)
        order = np.argsort(t, kind="stable")
        return cls(
            np.array(lon, dtype=np.float64),
            np.array(lat, dtype=np.float64),
            t[order],
            np.array(sensor, dtype=np.intp)[order],
        )

    @classmethod
    def around(
        cls,
        store: Store,
        when: datetime,
        window: timedelta,
        *,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> SensorActivity:
        """The arrays that reported within ``window`` of ``when`` (and inside ``bbox``, lon/lat),
        from the store's hourly per-source summary (:meth:`Store.source_hours`): one read however
        many picks, each array keeping its first and last pick in the window widened to whole
        hours — up to an hour more each side, a lenient test of "working" that a busy server
        answers without reading the picks."""
        active = store.source_hours("acoustic_arrival", when - window, when + window, bbox)
        n = len(active)
        times = np.array([[a.first.timestamp(), a.last.timestamp()] for a in active], dtype=np.float64).reshape(n, 2)
        # Each array's first and last pick of those hours, brought inside the window: an array
        # that reported in the hours counts as working at ``when`` (``working`` with the same
        # ``when`` and ``window`` finds every one of them).
        t = np.clip(times.ravel(), (when - window).timestamp(), (when + window).timestamp())
        order = np.argsort(t, kind="stable")
        return cls(
            np.array([a.lon for a in active], dtype=np.float64),
            np.array([a.lat for a in active], dtype=np.float64),
            t[order],
            np.repeat(np.arange(n, dtype=np.intp), 2)[order],
        )

    def working(self, when: datetime, window: timedelta) -> NDArray[np.intp]:
        """The arrays that reported a pick within ``window`` of ``when``, both ends included
        (silence is the only sign of an outage)."""
        t, w = when.timestamp(), window.total_seconds()
        lo = int(np.searchsorted(self.pick_t, t - w, side="left"))
        hi = int(np.searchsorted(self.pick_t, t + w, side="right"))
        return np.unique(self.pick_sensor[lo:hi])


@dataclass(frozen=True)
class CoverageModel:
    """Parameters of the coverage estimate (the constructor only stores them)."""

    min_sensors: int = 3
    pipeline_efficiency: float = 0.95
    active_window: timedelta = timedelta(hours=3)

    def at(
        self, activity: SensorActivity, lon: float, lat: float, when: datetime, weapon_class: str | None
    ) -> Coverage:
        """Coverage of a shot fired at (lon, lat) at ``when`` (the weapon class decides the range)."""
        weapon = weapon_class if weapon_class in ACOUSTIC_R50_M else "artillery_ge100"
        r50 = ACOUSTIC_R50_M[weapon]
        working = activity.working(when, self.active_window)
        if working.size == 0:
            return Coverage(0.0, 0, f"no acoustic array reported within {self.active_window} of the time: blind")
        rng = geodesic_distance_m(
            np.full(working.size, lon), np.full(working.size, lat), activity.lon[working], activity.lat[working]
        )
        p_each = detection_probability(rng, r50)
        p = at_least(p_each[p_each > 1e-6], self.min_sensors) * self.pipeline_efficiency
        near = int((rng <= r50).sum())
        return Coverage(
            float(p),
            near,
            f"{near} working acoustic arrays within {r50 / 1000:.0f} km (half-detection range for {weapon}): "
            f"P(a shot becomes an incident) = {p:.2f}",
        )
