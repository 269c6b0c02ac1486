"""The line as a frame of reference: samples along every sector with a normal toward each side.

Everything in the simulated world is placed relative to the line — a battery 12 km behind it on
its own side, an impact 2 km across it — so each sector's geometry (theatre metres) is sampled
every :data:`STEP_M` with its tangent and normal, and for each party we record which way the
normal points into its area and how deep that area goes (a sample near a border or a pocket has
little depth). On an approach axis the far side is the neighbour's territory, outside both
controlled areas; the attacker's forces stand there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.geo import to_lonlat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

STEP_M = 500.0
# Offsets (m) at which a sample's side is checked; depth is the last offset still on the side.
_PROBES_M = np.array([250, 500, 1e3, 2e3, 3e3, 5e3, 8e3, 12e3, 16e3, 20e3, 25e3, 30e3, 40e3, 50e3, 60e3, 75e3, 90e3])
PARTIES = ("UKR", "RUS")


@dataclass(frozen=True)
class Frame:
    """Samples along every sector: position, unit tangent and normal, side signs and depths."""

    sector_ids: tuple[str, ...]
    sector_kinds: tuple[str, ...]
    x: FloatArray
    y: FloatArray
    tx: FloatArray
    ty: FloatArray
    nx: FloatArray
    ny: FloatArray
    sector: IntArray
    sign: FloatArray  # (2, n): +1/-1 along the normal into party p's side, 0 where it has none
    depth: FloatArray  # (2, n): metres of the party's side straight behind the sample

    def samples(self, sector_id: str) -> IntArray:
        return np.flatnonzero(self.sector == self.sector_ids.index(sector_id))

    def place(
        self, i: IntArray, party: IntArray | int, offset_m: FloatArray | float, along_m: FloatArray | float = 0.0
    ) -> tuple[FloatArray, FloatArray]:
        """Theatre metres of points ``offset_m`` behind samples ``i`` on ``party``'s side."""
        s = self.sign[party, i]
        return (
            self.x[i] + s * offset_m * self.nx[i] + along_m * self.tx[i],
            self.y[i] + s * offset_m * self.ny[i] + along_m * self.ty[i],
        )

    def draw(self, rng: np.random.Generator, candidates: IntArray, party: int, need_m: FloatArray) -> IntArray:
        """For each required depth, a random sample among ``candidates`` deep enough on ``party``'s side.

        Falls back to the deepest candidates when none is deep enough (a short pocket sector).
        """
        depth = self.depth[party, candidates]
        order = np.argsort(depth, kind="stable")
        sorted_depth = depth[order]
        # Candidates at least as deep as each requirement are a suffix of the sorted order; a
        # requirement deeper than any candidate settles for the deepest ones (all of them).
        first = np.searchsorted(sorted_depth, np.minimum(need_m, sorted_depth[-1]), side="left")
        span = len(order) - first
        pick = first + (rng.random(len(need_m)) * span).astype(np.intp)
        return np.asarray(candidates[order[np.minimum(pick, len(order) - 1)]], dtype=np.intp)


def build_frame(ag: Agreement) -> Frame:
    """Sample every sector of ``ag`` and probe each sample's sides (vectorised, ~0.1 s)."""
    xs, ys, txs, tys, secs = [], [], [], [], []
    for k, sector in enumerate(ag.sectors):
        for part in shapely.get_parts(sector.geometry_metric):
            length = float(part.length)
            if length < STEP_M:
                continue
            d = np.arange(STEP_M / 2, length, STEP_M)
            p = shapely.get_coordinates(shapely.line_interpolate_point(part, d))
            a = shapely.get_coordinates(shapely.line_interpolate_point(part, np.maximum(d - 400.0, 0.0)))
            b = shapely.get_coordinates(shapely.line_interpolate_point(part, np.minimum(d + 400.0, length)))
            t = b - a
            t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-9)[:, None]
            xs.append(p[:, 0])
            ys.append(p[:, 1])
            txs.append(t[:, 0])
            tys.append(t[:, 1])
            secs.append(np.full(len(d), k, dtype=np.intp))
    x, y, tx, ty = (np.concatenate(v) for v in (xs, ys, txs, tys))
    sector_of = np.concatenate(secs)
    nx, ny = -ty, tx
    n = len(x)
    axis = np.array([s.kind == "approach_axis" for s in ag.sectors])[sector_of]
    # side[sig, probe, sample] for the two normal directions.
    sides = np.empty((2, len(_PROBES_M), n), dtype=object)
    for si, sig in enumerate((1.0, -1.0)):
        px = x[None, :] + sig * _PROBES_M[:, None] * nx[None, :]
        py = y[None, :] + sig * _PROBES_M[:, None] * ny[None, :]
        lon, lat = to_lonlat(px.ravel(), py.ravel())
        sides[si] = ag.side_of(lon, lat).reshape(px.shape).astype(object)
    sign = np.zeros((2, n))
    depth = np.zeros((2, n))
    for p, party in enumerate(PARTIES):
        for si, sig in enumerate((1.0, -1.0)):
            # On an approach axis the neighbour's side (outside both areas) stands for the attacker.
            label = np.where(axis & (party != "UKR"), "", party)
            ok = sides[si] == label[None, :]
            run = np.cumprod(ok, axis=0).astype(bool)  # on the side at every probe so far
            deep = np.where(run.any(axis=0), _PROBES_M[np.maximum(run.sum(axis=0) - 1, 0)], 0.0)
            better = deep > depth[p]
            sign[p] = np.where(better, sig, sign[p])
            depth[p] = np.where(better, deep, depth[p])
    return Frame(
        sector_ids=tuple(s.id for s in ag.sectors),
        sector_kinds=tuple(s.kind for s in ag.sectors),
        x=x,
        y=y,
        tx=tx,
        ty=ty,
        nx=nx,
        ny=ny,
        sector=sector_of,
        sign=sign,
        depth=depth,
    )
