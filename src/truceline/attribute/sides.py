"""Which side's controlled area a point of origin lies in, integrated over its error ellipse.

An origin is a bivariate normal (its 95 % ellipse gives the covariance). The probability that the
true origin lies in a party's area is the normal's mass over that area. Two ways to compute it:

* :func:`side_probabilities_monte_carlo` — the plain reference: draw samples per incident and ask
  which area holds each. Simple, obviously right, slow (one point-in-polygon per sample).
* :meth:`SideAreas.probabilities` — the vectorised route used by the stage. A point farther than
  ``near_sigmas`` standard deviations from every boundary of an area is in it or not, to within
  4e-6 (a prepared distance-within test, all points at once). For the rest, a *straight* boundary
  gives the mass in closed form, Φ(s / σₙ), with ``s`` the signed distance from the mean to its
  nearest boundary point and σₙ the standard deviation along the boundary's normal. Where the
  boundary bends within reach of the ellipse that value is off, so we add a control-variate
  correction: the mean over fixed quadrature points of (inside the area) − (inside the tangent
  half-plane). It vanishes on straight stretches, so few points suffice and the result carries
  almost none of the Monte-Carlo noise.

Mass that falls in neither area (beyond an international border, at sea) is returned separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from truceline.agreement import Agreement
from truceline.geo import LineIndex, scale_factor, to_metric

FloatArray = NDArray[np.float64]

__all__ = ["SideAreas", "SideProbabilities", "covariance_arrays", "side_probabilities_monte_carlo"]


def _quadrature_points(n_rings: int = 8, n_angles: int = 24) -> tuple[FloatArray, FloatArray]:
    """Equal-weight points of a standard bivariate normal: rings at chi(2) quantiles, staggered angles."""
    # Radius of a 2-D standard normal: r² ~ chi²(2), so r = sqrt(-2 ln(1 - u)) at mid-quantiles u.
    u = (np.arange(n_rings) + 0.5) / n_rings
    r = np.sqrt(-2.0 * np.log1p(-u))
    zx, zy = [], []
    for k, rk in enumerate(r):
        # Staggered rings, turned by an irrational offset so no point sits on an axis-aligned boundary.
        a = 2.0 * np.pi * (np.arange(n_angles) + 0.5 * (k % 2)) / n_angles + 0.1234567
        zx.append(rk * np.cos(a))
        zy.append(rk * np.sin(a))
    return np.concatenate(zx), np.concatenate(zy)


_ZX, _ZY = _quadrature_points(12, 32)


def covariance_arrays(
    semi_major_m: ArrayLike, semi_minor_m: ArrayLike, orientation_deg: ArrayLike, confidence: ArrayLike = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Vectorised :meth:`ErrorEllipse.covariance`: (cee, cen, cnn) in m² (east, north).

    >>> cee, cen, cnn = covariance_arrays([2.4477], [2.4477], [0.0])
    >>> round(float(cee[0]), 4), round(float(cen[0]), 4), round(float(cnn[0]), 4)
    (1.0, 0.0, 1.0)
    """
    big, small, theta, conf = np.broadcast_arrays(
        *(np.asarray(v, np.float64) for v in (semi_major_m, semi_minor_m, orientation_deg, confidence))
    )
    k = np.sqrt(-2.0 * np.log1p(-conf))
    a, b = big / k, small / k
    th = np.radians(theta)
    ue, un = np.sin(th), np.cos(th)
    cee = a * a * ue * ue + b * b * un * un
    cnn = a * a * un * un + b * b * ue * ue
    cen = (a * a - b * b) * ue * un
    return cee.ravel(), cen.ravel(), cnn.ravel()


@dataclass(frozen=True)
class SideProbabilities:
    """Per point: the probability of lying in each party's area (columns in ``parties`` order) and outside all."""

    parties: tuple[str, ...]
    inside: FloatArray  # shape (n, len(parties))
    outside: FloatArray  # shape (n,)
    corrected: NDArray[np.bool_]  # which points needed the near-bend correction

    def of(self, party: str) -> FloatArray:
        return self.inside[:, self.parties.index(party)]


class SideAreas:
    """The parties' controlled areas, prepared for fast side-probability queries.

    >>> from truceline.agreement import default_agreement
    >>> areas = SideAreas.from_agreement(default_agreement())
    >>> p = areas.probabilities([30.52], [50.45], [100.0], [0.0], [100.0])  # Kyiv, 10 m sigma
    >>> p.parties, round(float(p.of("UKR")[0]), 6)
    (('UKR', 'RUS'), 1.0)
    """

    def __init__(
        self,
        parties: Sequence[str],
        areas_metric: Sequence[object],
        *,
        near_sigmas: float = 5.0,
        bend_tolerance: float = 0.02,
    ) -> None:
        self.parties = tuple(parties)
        self.areas = list(areas_metric)
        for area in self.areas:
            shapely.prepare(area)
        # Every ring of an area (outer and holes) is part of its boundary. The boundary is prepared
        # for a fast distance-within filter; the nearest-point index then sees only the few points
        # near a boundary, through its tree (its grid, built over the whole perimeter, would cost
        # more than it saves here).
        self._rings = [shapely.boundary(a) for a in self.areas]
        for ring in self._rings:
            shapely.prepare(ring)
        self._boundaries = [LineIndex(list(shapely.get_parts(ring)), grid_threshold=2**62) for ring in self._rings]
        self._segments = [_segments(ring) for ring in self._rings]
        self._trees = [shapely.STRtree(seg[2]) for seg in self._segments]
        self.bend_tolerance = float(bend_tolerance)
        self.near_sigmas = float(near_sigmas)

    @classmethod
    def from_agreement(cls, agreement: Agreement, **kwargs: float) -> SideAreas:
        parties = tuple(p.id for p in agreement.parties)
        return cls(parties, [agreement.controlled_area(p, metric=True) for p in parties], **kwargs)

    def probabilities(
        self, lon: ArrayLike, lat: ArrayLike, cee: ArrayLike, cen: ArrayLike, cnn: ArrayLike
    ) -> SideProbabilities:
        """P(in each area) for normals centred at (lon, lat) with (east, north) covariances in m²."""
        lo = np.ravel(np.asarray(lon, np.float64))
        la = np.ravel(np.asarray(lat, np.float64))
        x, y = to_metric(lo, la)
        sxx, sxy, syy = _to_grid(x, y, lo, la, *(np.ravel(np.asarray(v, np.float64)) for v in (cee, cen, cnn)))
        n = lo.size
        inside = np.zeros((n, len(self.parties)))
        corrected = np.zeros(n, dtype=bool)
        sd_max = np.sqrt(np.maximum(0.5 * (sxx + syy) + np.sqrt(0.25 * (sxx - syy) ** 2 + sxy * sxy), 0.0))
        reach = self.near_sigmas * sd_max
        for j, (area, ring, boundary, (starts, ends, _), tree) in enumerate(
            zip(self.areas, self._rings, self._boundaries, self._segments, self._trees, strict=True)
        ):
            contained = shapely.contains_xy(area, x, y)
            p = contained.astype(np.float64)
            # Farther than near_sigmas standard deviations (of the major axis) from every boundary,
            # the answer is 0 or 1 to within exp(−near_sigmas²/2) (4e-6 at 5σ): only the points
            # within reach need more.
            near = np.flatnonzero(shapely.dwithin(ring, shapely.points(x, y), reach))
            if near.size:
                xs, ys, inside_near = x[near], y[near], contained[near]
                dist, fx, fy = boundary.nearest(xs, ys)
                # Inward normal of the tangent half-plane at the nearest boundary point.
                with np.errstate(invalid="ignore", divide="ignore"):
                    nx = np.where(inside_near, xs - fx, fx - xs) / dist
                    ny = np.where(inside_near, ys - fy, fy - ys) / dist
                flat = ~np.isfinite(nx) | ~np.isfinite(ny)
                nx, ny = np.where(flat, 1.0, nx), np.where(flat, 0.0, ny)
                a, b, c = sxx[near], sxy[near], syy[near]
                sigma_n = np.sqrt(np.maximum(nx * nx * a + 2 * nx * ny * b + ny * ny * c, 0.0))
                signed = np.where(inside_near, dist, -dist)
                with np.errstate(invalid="ignore", divide="ignore"):
                    z = np.where(sigma_n > 0, signed / sigma_n, np.where(inside_near, np.inf, -np.inf))
                p[near] = ndtr(z)
                # The half-plane is exact where the boundary within reach is straight. Measure how
                # far every boundary segment within reach strays from the tangent line, in σₙ; where
                # some segment strays more than bend_tolerance (a bend, a corner, two shores), correct.
                pairs = tree.query(shapely.points(xs, ys), predicate="dwithin", distance=reach[near])
                pt, sg = pairs[0], pairs[1]
                stray = np.maximum(
                    np.abs((starts[sg, 0] - fx[pt]) * nx[pt] + (starts[sg, 1] - fy[pt]) * ny[pt]),
                    np.abs((ends[sg, 0] - fx[pt]) * nx[pt] + (ends[sg, 1] - fy[pt]) * ny[pt]),
                ) / np.maximum(sigma_n[pt], 1e-9)
                worst = np.zeros(near.size)
                np.maximum.at(worst, pt, stray)
                bent = np.flatnonzero(worst > self.bend_tolerance)
                if bent.size:
                    k = near[bent]
                    p[k] += self._correction(
                        area, xs[bent], ys[bent], a[bent], b[bent], c[bent], fx[bent], fy[bent], nx[bent], ny[bent]
                    )
                    corrected[k] = True
            inside[:, j] = np.clip(p, 0.0, 1.0)
        total = inside.sum(axis=1)
        over = total > 1.0  # the areas touch along the line: rounding can push the sum past 1
        inside[over] /= total[over, None]
        return SideProbabilities(self.parties, inside, np.clip(1.0 - inside.sum(axis=1), 0.0, 1.0), corrected)

    @staticmethod
    def _correction(
        area: object,
        x: FloatArray,
        y: FloatArray,
        sxx: FloatArray,
        sxy: FloatArray,
        syy: FloatArray,
        fx: FloatArray,
        fy: FloatArray,
        nx: FloatArray,
        ny: FloatArray,
    ) -> FloatArray:
        # Cholesky factor of each 2×2 covariance (a tiny floor keeps a degenerate ellipse finite).
        l11 = np.sqrt(np.maximum(sxx, 1e-9))
        l21 = sxy / l11
        l22 = np.sqrt(np.maximum(syy - l21 * l21, 1e-9))
        px = x[:, None] + l11[:, None] * _ZX[None, :]
        py = y[:, None] + l21[:, None] * _ZX[None, :] + l22[:, None] * _ZY[None, :]
        in_area = shapely.contains_xy(area, px.ravel(), py.ravel()).reshape(px.shape)
        in_half = (px - fx[:, None]) * nx[:, None] + (py - fy[:, None]) * ny[:, None] >= 0.0
        return np.asarray((in_area.astype(np.float64) - in_half).mean(axis=1), dtype=np.float64)


def _segments(ring: object) -> tuple[FloatArray, FloatArray, NDArray[np.object_]]:
    """Every two-point segment of a (multi)line: start and end coordinates, and as LineStrings."""
    parts = []
    for line in shapely.get_parts(ring):
        coords = shapely.get_coordinates(line)
        if len(coords) >= 2:
            parts.append(np.stack([coords[:-1], coords[1:]], axis=1))
    pairs = np.concatenate(parts) if parts else np.zeros((0, 2, 2))
    return pairs[:, 0, :], pairs[:, 1, :], np.asarray(shapely.linestrings(pairs))


def _to_grid(
    x: FloatArray, y: FloatArray, lon: FloatArray, lat: FloatArray, cee: FloatArray, cen: FloatArray, cnn: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(east, north) ground covariances → theatre-grid covariances.

    Grid north is not true north away from the projection's central meridian (the meridian
    convergence reaches several degrees in the east), and grid metres are ground metres times
    the scale factor: both matter for a long thin ellipse lying along the line.
    """
    xn, yn = to_metric(lon, lat + 1e-3)
    gamma = np.arctan2(xn - x, yn - y)  # grid azimuth of true north
    c, s = np.cos(gamma), np.sin(gamma)
    k2 = scale_factor(x, y) ** 2
    # x = e·cos γ + n·sin γ, y = −e·sin γ + n·cos γ  (then scaled by k)
    sxx = (c * c * cee + 2 * c * s * cen + s * s * cnn) * k2
    syy = (s * s * cee - 2 * c * s * cen + c * c * cnn) * k2
    sxy = (-c * s * cee + (c * c - s * s) * cen + c * s * cnn) * k2
    return sxx, sxy, syy


def side_probabilities_monte_carlo(
    agreement: Agreement,
    lon: ArrayLike,
    lat: ArrayLike,
    cee: ArrayLike,
    cen: ArrayLike,
    cnn: ArrayLike,
    *,
    samples: int = 4_000,
    seed: int = 0,
) -> SideProbabilities:
    """The plain reference: per incident, draw ``samples`` origins and count where they fall.

    Deliberately naive (a loop over incidents, samples drawn in local east/north metres and turned
    into lon/lat by the local metre scale, so it shares none of the fast route's covariance
    handling): the side-by-side peer of :meth:`SideAreas.probabilities` in the benchmark and its
    check in the tests. Membership is tested against the same polygons, the areas' theatre-metre
    projection; the lon/lat polygons (``Agreement.side_of``) have edges straight in degrees instead,
    which moves a long edge by up to some tens of metres — the definition, not the integration.
    """
    rng = np.random.default_rng(seed)
    parties = tuple(p.id for p in agreement.parties)
    lo = np.ravel(np.asarray(lon, np.float64))
    la = np.ravel(np.asarray(lat, np.float64))
    ce, cx, cn = (np.ravel(np.asarray(v, np.float64)) for v in (cee, cen, cnn))
    inside = np.zeros((lo.size, len(parties)))
    for i in range(lo.size):
        cov = np.array([[ce[i], cx[i]], [cx[i], cn[i]]])
        de, dn = rng.multivariate_normal([0.0, 0.0], cov, size=samples, method="eigh").T
        m_per_deg_lat = 111_132.0
        m_per_deg_lon = 111_320.0 * np.cos(np.radians(la[i]))
        sx, sy = to_metric(lo[i] + de / m_per_deg_lon, la[i] + dn / m_per_deg_lat)
        for j, party in enumerate(parties):
            inside[i, j] = float(np.mean(shapely.contains_xy(agreement.controlled_area(party, metric=True), sx, sy)))
    return SideProbabilities(parties, inside, 1.0 - inside.sum(axis=1), np.zeros(lo.size, dtype=bool))
