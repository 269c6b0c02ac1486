"""Counter-battery radar tracks folded into acoustic incidents, in information form.

A radar's extrapolated origin (with its 95 % ellipse) is matched to the acoustic origin that
fired within :data:`TIME_GATE_S` and lies inside the combined 99.9 % ellipse. The two
independent estimates are fused by adding their information matrices:
``P = (A⁻¹ + R⁻¹)⁻¹``, ``x = P (A⁻¹ a + R⁻¹ r)``. An ally re-reporting a partner's track sends
the *same* measurement under another name: such relays (same launch time and origin) are linked
to the incident but counted once in the fusion, so the information is not doubled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from truceline.fuse._locate import GEOD, OK, Solutions
from truceline.model import RadarTrack

FloatArray = NDArray[np.float64]
TIME_GATE_S = 2.0
GATE_CHI2 = 13.8  # 99.9 % for 2 degrees of freedom
GATE_CHI2_3 = 16.27  # 99.9 % for 3 degrees of freedom
WIDE_S = 30.0
"""How far apart in time the joint (position, time) test looks: an origin fixed by a few arrays on
one side slides kilometres along their rays and its origin time seconds with it (the two errors
are correlated in its covariance), so a track seconds from it may still be the same shot."""


@dataclass
class RadarTracks:
    time_s: FloatArray
    lon: FloatArray
    lat: FloatArray
    cov: FloatArray  # (N, 2, 2) east/north m²
    measurement: NDArray[np.intp]  # same number for relays of one measurement
    time_sigma: FloatArray | None = None  # stated launch-time error (1 σ); 0.5 s when None

    @classmethod
    def from_records(cls, tracks: list[RadarTrack], epoch: datetime) -> RadarTracks:
        """Columns of ``tracks``; times in seconds since ``epoch`` (the one the origins use)."""
        n = len(tracks)
        t = np.array([(r.time - epoch).total_seconds() for r in tracks], dtype=np.float64)
        lon = np.array([r.origin.lon for r in tracks], dtype=np.float64)
        lat = np.array([r.origin.lat for r in tracks], dtype=np.float64)
        cov = np.array([r.origin.error.covariance() for r in tracks], dtype=np.float64).reshape(n, 2, 2)
        # A stated zero-size ellipse (the model allows it) is no measurement to invert: below 1 m
        # the stated error is raised to 1 m (a no-op for any real radar's tens of metres).
        low = np.linalg.eigvalsh(cov)[:, 0] if n else np.zeros(0)
        cov[low < 1.0] += (1.0 - low[low < 1.0])[:, None, None] * np.eye(2)
        keys: dict[tuple[float, float, float], int] = {}
        meas = np.array([keys.setdefault((t[k], lon[k], lat[k]), len(keys)) for k in range(n)], dtype=np.intp)
        tsig = np.array([max(r.time_error_s, 0.01) for r in tracks], dtype=np.float64)
        return cls(t, lon, lat, cov, meas, tsig)


def fold_radar(tracks: RadarTracks, sol: Solutions) -> dict[int, tuple[list[int], float, float, list[list[float]]]]:
    """For each acoustic event a radar track confirms: (track indices, fused lon, lat, 2×2 covariance)."""
    out: dict[int, tuple[list[int], float, float, list[list[float]]]] = {}
    if len(tracks.time_s) == 0 or len(sol.lon) == 0:
        return out
    ok = np.flatnonzero(sol.status == OK)
    if len(ok) == 0:
        return out
    order = ok[np.argsort(sol.t0[ok])]
    t_sorted = sol.t0[order]
    lo = np.searchsorted(t_sorted, tracks.time_s - WIDE_S)
    hi = np.searchsorted(t_sorted, tracks.time_s + WIDE_S)
    tsig = tracks.time_sigma if tracks.time_sigma is not None else np.full(len(tracks.time_s), 0.5)
    # Few candidates per track (events within ±30 s): a short loop per radar track, not per arrival.
    for k in range(len(tracks.time_s)):
        cand = order[lo[k] : hi[k]]
        if len(cand) == 0:
            continue
        az, _, d = GEOD.inv(
            sol.lon[cand], sol.lat[cand], np.full(len(cand), tracks.lon[k]), np.full(len(cand), tracks.lat[k])
        )
        a = np.radians(np.asarray(az))
        off = np.stack([np.asarray(d) * np.sin(a), np.asarray(d) * np.cos(a)], -1)
        total = sol.cov[cand, :2, :2] + tracks.cov[k]
        m2 = np.einsum("ki,kij,kj->k", off, np.linalg.inv(total), off)
        near = np.abs(sol.t0[cand] - tracks.time_s[k]) <= TIME_GATE_S
        if (near & (m2 <= GATE_CHI2)).any():
            # Within 2 s and the 99.9 % ellipse: the nearest such origin (as before the joint test).
            j = int(np.argmin(np.where(near, m2, np.inf)))
        else:
            # The joint test on (east, north, time) with the origin's full covariance: a thin
            # ellipse's origin time moves with its position (see WIDE_S).
            off3 = np.concatenate([off, (tracks.time_s[k] - sol.t0[cand])[:, None]], -1)
            total3 = sol.cov[cand].copy()
            total3[:, :2, :2] += tracks.cov[k]
            total3[:, 2, 2] += tsig[k] ** 2
            m3 = np.einsum("ki,kij,kj->k", off3, np.linalg.inv(total3), off3)
            j = int(np.argmin(m3))
            if m3[j] > GATE_CHI2_3:
                continue
        out.setdefault(int(cand[j]), ([], 0.0, 0.0, []))[0].append(k)
    for e, (members, _, _, _) in list(out.items()):
        lon, lat, cov = fuse_tracks(tracks, members, float(sol.lon[e]), float(sol.lat[e]),
                                    np.linalg.inv(sol.cov[e, :2, :2]))  # fmt: skip
        out[e] = (members, lon, lat, cov)
    return out


def fuse_tracks(
    tracks: RadarTracks, members: list[int], lon0: float, lat0: float, prior_info: ArrayLike
) -> tuple[float, float, list[list[float]]]:
    """The members' origins fused in information form about (lon0, lat0), whose own estimate
    carries ``prior_info`` (zeros: none); relays of one measurement counted once."""
    info = np.array(prior_info, dtype=np.float64)
    vec = np.zeros(2)
    used: set[int] = set()
    for k in members:
        if int(tracks.measurement[k]) in used:
            continue  # a relay: the same measurement again
        used.add(int(tracks.measurement[k]))
        az, _, d = GEOD.inv(lon0, lat0, tracks.lon[k], tracks.lat[k])
        r = np.array([d * math.sin(math.radians(az)), d * math.cos(math.radians(az))])
        r_inf = np.linalg.inv(tracks.cov[k])
        info += r_inf
        vec += r_inf @ r
    cov = np.linalg.inv(info)
    shift = cov @ vec
    lon, lat, _ = GEOD.fwd(lon0, lat0, math.degrees(math.atan2(shift[0], shift[1])), float(np.hypot(*shift)))
    return float(lon), float(lat), cov.tolist()
