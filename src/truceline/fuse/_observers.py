"""Observers' logs (patrol reports) joined to incidents, and located where several agree.

An OSCE-style log entry covers a period (``time`` … ``time + duration_s``) and gives a rough
bearing and distance from the observer to the *first* explosion of the period, with the
direction (outgoing: the point is where it was fired from; incoming: where it landed). With both
a bearing and a distance it is a position estimate: an error ellipse ``distance_error_m``
downrange and ``distance × tan(bearing_error)`` across (the observer's own position error
added). A bearing without a distance fixes nothing alone; it is never turned into a point.

- **Joining.** A report joins the incident it describes: among the located events that fired in
  the period (± the report's and the origin's time errors) whose origin — or, for incoming fire,
  a radar-predicted impact — lies inside the combined 99.9 % ellipse, the likeliest, provided no
  other is within a likelihood ratio of e² of it. When several are that good (a battery firing
  from one place all hour) the log's first explosion is one of them but which cannot be told:
  the report joins none and says so (a wrong link would be false evidence). An outgoing report's
  point is fused into the origin in information form (``P = (Σ Cᵢ⁻¹)⁻¹``): an observer's
  kilometre ellipse barely moves an acoustic origin, but the incident cites every report of it.
- **Observer-only incidents.** Outgoing reports that join nothing, from at least two observers
  whose periods overlap and whose points agree (pairwise inside the combined 99.9 % ellipse),
  make an incident of their own, located by Gauss–Newton on their bearings and distances with
  the covariance ``(JᵀWJ)⁻¹``; a fix whose χ² is improbable (p < 0.001) or whose ellipse is wider
  than :data:`MAX_SEMI_MAJOR_M` is refused with the reason. One report alone makes no incident.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from truceline.fuse._locate import GEOD, OK, Solutions, chi2_isf
from truceline.model import PatrolReport

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

GATE_CHI2 = 13.8  # 99.9 % for 2 degrees of freedom
TIE_CHI2 = 4.0  # a likelihood ratio of e²: candidates closer than this to the best are as good
MAX_BEARING_ERROR_DEG = 45.0  # beyond this the ellipse is no longer a fair picture of a fan
DEFAULT_BEARING_ERROR_DEG = 20.0  # an unstated error: rougher than the OSCE's usual 15°
DEFAULT_DISTANCE_ERROR = 0.5  # an unstated distance error, as a share of the distance
MIN_DISTANCE_ERROR_M = 100.0  # logs round distances to 100 m
MAX_SEMI_MAJOR_M = 20_000.0
FIX_P = 1e-3

REASON_NO_POSITION = "no bearing and distance: the report places nothing"
REASON_BEARING_ONLY = "a bearing without a distance: one observer fixes no point"
REASON_WIDE = f"bearing error above {MAX_BEARING_ERROR_DEG:.0f}°: too rough to place the explosion"
REASON_NO_MATCH = "no located incident in the period within the report's ellipse"
REASON_INCOMING = (
    "incoming fire: the report places an impact, and no incident in the period has an impact estimate near it"
)
REASON_ALONE = "joins no incident and no other observer's report agrees with it"
REASON_PENDING = "pending: this window does not hold the whole of the report's period"


@dataclass
class PatrolPoints:
    """Patrol reports as columns: period, point estimate (NaN when none) and its covariance."""

    records: list[PatrolReport]
    t0: FloatArray  # period start, seconds since the epoch the origins use
    t1: FloatArray  # period end
    terr: FloatArray  # stated time error (s)
    obs_lon: FloatArray
    obs_lat: FloatArray
    obs_var: FloatArray  # observer position variance (m², per axis)
    bearing: FloatArray  # deg, NaN when none
    bsig: FloatArray  # deg
    dist: FloatArray  # m, NaN when none
    dsig: FloatArray  # m
    lon: FloatArray  # point estimate
    lat: FloatArray
    cov: FloatArray  # (N, 2, 2) east/north m²
    direction: list[str]
    reason: list[str]  # '' where the report is a position estimate

    @classmethod
    def from_records(cls, reports: Sequence[PatrolReport], epoch: datetime) -> PatrolPoints:
        recs = list(reports)
        n = len(recs)
        t0 = np.array([(r.time - epoch).total_seconds() for r in recs], dtype=np.float64)
        t1 = t0 + np.array([r.duration_s for r in recs], dtype=np.float64)
        terr = np.array([r.time_error_s for r in recs], dtype=np.float64)
        olon = np.array([r.location.lon for r in recs], dtype=np.float64)
        olat = np.array([r.location.lat for r in recs], dtype=np.float64)
        ovar = np.array([0.5 * np.trace(np.asarray(r.location.error.covariance())) for r in recs], dtype=np.float64)
        ovar = np.maximum(ovar, 1.0)
        bearing = np.array([np.nan if r.bearing_deg is None else r.bearing_deg for r in recs], dtype=np.float64)
        bsig = np.array(
            [DEFAULT_BEARING_ERROR_DEG if r.bearing_error_deg is None else r.bearing_error_deg for r in recs],
            dtype=np.float64,
        )
        dist = np.array([np.nan if r.distance_m is None else r.distance_m for r in recs], dtype=np.float64)
        dsig = np.array(
            [
                DEFAULT_DISTANCE_ERROR * (r.distance_m or 0.0) if r.distance_error_m is None else r.distance_error_m
                for r in recs
            ],
            dtype=np.float64,
        )
        dsig = np.maximum(dsig, MIN_DISTANCE_ERROR_M)
        reason = []
        for k in range(n):
            if not np.isfinite(bearing[k]):
                reason.append(REASON_NO_POSITION)
            elif not np.isfinite(dist[k]):
                reason.append(REASON_BEARING_ONLY)
            elif bsig[k] > MAX_BEARING_ERROR_DEG:
                reason.append(REASON_WIDE)
            else:
                reason.append("")
        ok = np.array([not r for r in reason], dtype=bool)
        lon = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        cov = np.tile(np.eye(2), (n, 1, 1))
        if ok.any():
            plon, plat, _ = GEOD.fwd(olon[ok], olat[ok], bearing[ok], dist[ok])
            lon[ok], lat[ok] = np.asarray(plon), np.asarray(plat)
            b = np.radians(bearing[ok])
            u = np.stack([np.sin(b), np.cos(b)], -1)  # downrange
            v = np.stack([np.cos(b), -np.sin(b)], -1)  # crossrange
            # Floors keep a report at its observer (distance 0, a perfect fix) invertible.
            sc = np.maximum(dist[ok] * np.tan(np.radians(bsig[ok])), 1.0)
            cov[ok] = (
                (dsig[ok] ** 2)[:, None, None] * np.einsum("ki,kj->kij", u, u)
                + (sc**2)[:, None, None] * np.einsum("ki,kj->kij", v, v)
                + ovar[ok][:, None, None] * np.eye(2)
            )
        return cls(
            recs, t0, t1, terr, olon, olat, ovar, bearing, bsig, dist, dsig, lon, lat, cov,
            [r.direction for r in recs], reason,
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.records)


def members_by_event(event_of: IntArray) -> dict[int, list[int]]:
    """The reports joining each event (``event_of``: per report, its event or -1), in report order."""
    out: dict[int, list[int]] = {}
    for k, e in enumerate(event_of.tolist()):
        if e >= 0:
            out.setdefault(e, []).append(k)
    return out


@dataclass
class ObserverLinks:
    """What :func:`join_patrols` decided, per report and per event."""

    event_of: IntArray  # per report: the event it joins, -1 none
    ambiguous: NDArray[np.bool_]  # per report: several events fitted as well (then it joins none)
    reason: list[str]  # per report: why it joins nothing ('' when it joins)
    fixes: list[ObserverFix] = field(default_factory=list)

    def by_event(self) -> dict[int, list[int]]:
        return members_by_event(self.event_of)


@dataclass
class ObserverFix:
    """An observer-only incident: its reports and, when the fix holds, the located point."""

    members: list[int]
    lon: float
    lat: float
    cov: FloatArray  # 2×2 east/north m²
    time_s: float
    time_error_s: float
    chi2: float
    reason: str  # '' when located


def _offsets(lon0: FloatArray, lat0: FloatArray, lon1: FloatArray, lat1: FloatArray) -> FloatArray:
    """(east, north) metres from each (lon0, lat0) to (lon1, lat1) along the geodesic."""
    az, _, d = GEOD.inv(lon0, lat0, lon1, lat1)
    a = np.radians(np.asarray(az))
    d = np.asarray(d)
    return np.stack([d * np.sin(a), d * np.cos(a)], -1)


def _mahalanobis(off: FloatArray, cov: FloatArray) -> FloatArray:
    return np.asarray(np.einsum("ki,kij,kj->k", off, np.linalg.inv(cov), off))


def join_patrols(
    pts: PatrolPoints,
    sol: Solutions,
    impacts: dict[int, tuple[float, float, FloatArray]] | None = None,
    complete: tuple[float, float] | None = None,
) -> ObserverLinks:
    """Join each report to the event it describes (see the module's note); then fix the rest.

    ``impacts`` maps an event to a radar-predicted impact (lon, lat, 2×2 covariance), the only
    impact estimates the stage has, against which incoming reports are compared. ``complete`` is
    the span of origin times whose events the association holds whole (seconds since the epoch);
    a report whose period reaches outside it is left for a window that holds its whole period —
    with part of the period's explosions it could look unambiguous and join the wrong one."""
    n = len(pts)
    event_of = np.full(n, -1, dtype=np.intp)
    ambiguous = np.zeros(n, dtype=bool)
    reason = list(pts.reason)
    if complete is not None:
        for k in np.flatnonzero((pts.t0 - pts.terr < complete[0]) | (pts.t1 + pts.terr > complete[1])).tolist():
            if not reason[k]:
                reason[k] = REASON_PENDING
    impacts = impacts or {}
    ok = np.flatnonzero(sol.status == OK) if len(sol.lon) else np.zeros(0, dtype=np.intp)
    order = ok[np.argsort(sol.t0[ok], kind="stable")]
    t_sorted = sol.t0[order]
    tsig = np.sqrt(np.maximum(sol.cov[order, 2, 2], 0.0)) if len(order) else np.zeros(0)
    slack = float(tsig.max(initial=0.0))
    # A short loop per report (a few hundred a day), each over the events of its period.
    for k in range(n):
        if reason[k]:
            continue
        lo = np.searchsorted(t_sorted, pts.t0[k] - pts.terr[k] - slack)
        hi = np.searchsorted(t_sorted, pts.t1[k] + pts.terr[k] + slack, side="right")
        cand = order[lo:hi]
        cand = cand[
            (sol.t0[cand] >= pts.t0[k] - pts.terr[k] - 3 * tsig[lo:hi])
            & (sol.t0[cand] <= pts.t1[k] + pts.terr[k] + 3 * tsig[lo:hi])
        ]
        places: list[tuple[IntArray, FloatArray, FloatArray, FloatArray]] = []
        if pts.direction[k] != "incoming" and len(cand):
            places.append((cand, sol.lon[cand], sol.lat[cand], sol.cov[cand, :2, :2]))
        if pts.direction[k] != "outgoing":
            hit = [int(e) for e in cand.tolist() if int(e) in impacts]
            if hit:
                places.append(
                    (
                        np.asarray(hit, dtype=np.intp),
                        np.array([impacts[e][0] for e in hit]),
                        np.array([impacts[e][1] for e in hit]),
                        np.array([impacts[e][2] for e in hit]),
                    )
                )
        if not places:
            reason[k] = REASON_INCOMING if pts.direction[k] == "incoming" else REASON_NO_MATCH
            continue
        ev = np.concatenate([p[0] for p in places])
        off = _offsets(
            np.full(len(ev), pts.lon[k]), np.full(len(ev), pts.lat[k]),
            np.concatenate([p[1] for p in places]), np.concatenate([p[2] for p in places]),
        )  # fmt: skip
        m2 = _mahalanobis(off, np.concatenate([p[3] for p in places]) + pts.cov[k])
        inside = m2 <= GATE_CHI2
        if not inside.any():
            reason[k] = REASON_INCOMING if pts.direction[k] == "incoming" else REASON_NO_MATCH
            continue
        good = np.unique(ev[inside & (m2 <= m2[inside].min() + TIE_CHI2)])
        if len(good) > 1:
            # A battery firing from one place all period: the log's first explosion is one of
            # them, but which cannot be told (the earliest is right about 6 times in 10 on the
            # default scenario). A wrong link would be false evidence; none is made.
            ambiguous[k] = True
            reason[k] = f"ambiguous: {len(good)} located incidents in the period fit the report as well"
            continue
        event_of[k] = int(good[0])
    links = ObserverLinks(event_of, ambiguous, reason)
    links.fixes = observer_fixes(pts, links)
    for fix in links.fixes:
        for k in fix.members:
            links.reason[k] = fix.reason
    return links


def fusable(pts: PatrolPoints, links: ObserverLinks, k: int) -> bool:
    """Whether report ``k``'s point may be fused into its event's origin: an outgoing report (an
    incoming report's point is the impact, not the origin)."""
    return bool(links.event_of[k] >= 0 and pts.direction[k] == "outgoing")


def observer_fixes(pts: PatrolPoints, links: ObserverLinks) -> list[ObserverFix]:
    """Groups of ≥ 2 observers' unjoined outgoing reports that agree, each with its fix."""
    free = [
        k for k in range(len(pts))
        if links.event_of[k] < 0 and links.reason[k] == REASON_NO_MATCH and pts.direction[k] == "outgoing"
    ]  # fmt: skip
    if len(free) < 2:
        for k in free:
            links.reason[k] = REASON_ALONE
        return []
    idx = np.asarray(free, dtype=np.intp)
    observer = [f"{pts.records[k].participant}\x1f{pts.records[k].source}" for k in free]
    i, j = np.triu_indices(len(idx), 1)
    a, b = idx[i], idx[j]
    overlap = (pts.t0[a] - pts.terr[a] <= pts.t1[b] + pts.terr[b]) & (
        pts.t0[b] - pts.terr[b] <= pts.t1[a] + pts.terr[a]
    )
    other = np.array([observer[p] != observer[q] for p, q in zip(i.tolist(), j.tolist(), strict=True)], dtype=bool)
    pair = np.flatnonzero(overlap & other)
    if len(pair):
        m2 = _mahalanobis(
            _offsets(pts.lon[a[pair]], pts.lat[a[pair]], pts.lon[b[pair]], pts.lat[b[pair]]),
            pts.cov[a[pair]] + pts.cov[b[pair]],
        )
        pair = pair[m2 <= GATE_CHI2]
    fixes = []
    for members in linked_groups(len(idx), i[pair], j[pair]):
        ks = [int(idx[q]) for q in members]
        if len({observer[q] for q in members}) < 2:
            for k in ks:
                links.reason[k] = REASON_ALONE
            continue
        fixes.append(fix_point(pts, sorted(ks, key=lambda k: (pts.t0[k], k))))
    return fixes


def linked_groups(n: int, i: IntArray, j: IntArray) -> list[list[int]]:
    """The connected groups of ``n`` items joined by the pairs (``i``, ``j``), singletons included:
    each group's members ascending, groups in order of their smallest member."""
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    cuts = np.flatnonzero(np.diff(label[order])) + 1
    groups = [g.tolist() for g in np.split(order, cuts)] if n else []
    return sorted(groups, key=lambda g: g[0])


def fix_point(pts: PatrolPoints, ks: list[int]) -> ObserverFix:
    """Gauss–Newton on the reports' bearings and distances; covariance ``(JᵀWJ)⁻¹``.

    Started from the information-form mean of the reports' points; worked in the local plane of
    the current estimate (flat within the tens of kilometres an observer hears)."""
    kk = np.asarray(ks, dtype=np.intp)
    info = np.linalg.inv(pts.cov[kk])
    lon0, lat0 = float(pts.lon[kk[0]]), float(pts.lat[kk[0]])
    off = _offsets(np.full(len(kk), lon0), np.full(len(kk), lat0), pts.lon[kk], pts.lat[kk])
    p_cov = np.linalg.inv(info.sum(0))
    x = p_cov @ np.einsum("kij,kj->i", info, off)
    lon, lat = _move(lon0, lat0, x)
    # Observer position error adds to each observation: σ_b² += σ_obs²/d², σ_d² += σ_obs².
    cov = p_cov
    chi2 = 0.0
    for _ in range(10):
        o = _offsets(pts.obs_lon[kk], pts.obs_lat[kk], np.full(len(kk), lon), np.full(len(kk), lat))
        d = np.maximum(np.hypot(o[:, 0], o[:, 1]), 1.0)
        az = np.arctan2(o[:, 0], o[:, 1])
        rb = (np.radians(pts.bearing[kk]) - az + np.pi) % (2 * np.pi) - np.pi
        rd = pts.dist[kk] - d
        wb = 1.0 / (np.radians(pts.bsig[kk]) ** 2 + pts.obs_var[kk] / d**2)
        wd = 1.0 / (pts.dsig[kk] ** 2 + pts.obs_var[kk])
        jb = np.stack([o[:, 1] / d**2, -o[:, 0] / d**2], -1)  # ∂az/∂(e, n)
        jd = o / d[:, None]  # ∂d/∂(e, n)
        mat = np.einsum("k,ki,kj->ij", wb, jb, jb) + np.einsum("k,ki,kj->ij", wd, jd, jd)
        rhs = jb.T @ (wb * rb) + jd.T @ (wd * rd)
        try:
            cov = np.linalg.inv(mat)
        except np.linalg.LinAlgError:
            return ObserverFix(
                ks,
                math.nan,
                math.nan,
                np.full((2, 2), np.nan),
                0.0,
                0.0,
                math.inf,
                "not locatable: the bearings do not intersect",
            )
        step = cov @ rhs
        lon, lat = _move(lon, lat, step)
        chi2 = float(np.sum(wb * rb**2) + np.sum(wd * rd**2))
        if float(np.hypot(*step)) < 0.1:
            break
    t_lo = float(np.max(pts.t0[kk] - pts.terr[kk]))
    t_hi = float(np.min(pts.t1[kk] + pts.terr[kk]))
    t_hi = max(t_hi, t_lo)
    semi_major = math.sqrt(max(float(np.linalg.eigvalsh(cov)[-1]), 0.0)) * 2.4477
    reason = ""
    dof = 2 * len(kk) - 2
    if not np.all(np.isfinite(cov)) or semi_major > MAX_SEMI_MAJOR_M:
        reason = "not locatable: the observers' bearings and distances do not fix a point"
    elif dof > 0 and chi2 > float(chi2_isf(FIX_P, np.array([dof]))[0]):
        reason = (
            "not locatable: the observers' reports are inconsistent with one explosion (χ² improbable at p < 0.001)"
        )
    # The time is only known to lie in the periods' overlap: its middle, ± a uniform's s.d.
    return ObserverFix(ks, lon, lat, cov, 0.5 * (t_lo + t_hi), (t_hi - t_lo) / math.sqrt(12.0), chi2, reason)


def _move(lon: float, lat: float, step: FloatArray) -> tuple[float, float]:
    dist = float(np.hypot(step[0], step[1]))
    if dist == 0.0:
        return lon, lat
    lo, la, _ = GEOD.fwd(lon, lat, math.degrees(math.atan2(step[0], step[1])), dist)
    return float(lo), float(la)


def fuse_points(
    lon: float, lat: float, cov: Sequence[Sequence[float]], points: Sequence[tuple[float, float, FloatArray]]
) -> tuple[float, float, list[list[float]]]:
    """Independent estimates of one point combined in information form, about (lon, lat):
    ``P = (C⁻¹ + Σ Rᵢ⁻¹)⁻¹``, ``x = P Σ Rᵢ⁻¹ rᵢ`` (the first estimate is the origin of the plane)."""
    c0 = np.asarray(cov, dtype=np.float64)
    info = np.linalg.inv(c0)
    vec = np.zeros(2)
    for plon, plat, pcov in points:
        r = _offsets(np.array([lon]), np.array([lat]), np.array([plon]), np.array([plat]))[0]
        r_inf = np.linalg.inv(pcov)
        info = info + r_inf
        vec = vec + r_inf @ r
    p = np.linalg.inv(info)
    new_lon, new_lat = _move(lon, lat, p @ vec)
    return new_lon, new_lat, p.tolist()
