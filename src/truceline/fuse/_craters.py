"""Crater analyses joined to incidents by their direction of fire, and fixed where they cross.

A crater analysis is a patrol report with ``impact_bearing_deg``: its ``location`` is the crater
(the impact, metres of error), the bearing points from the crater back toward where the round
came from (σ 10–20°: crater analysis is rough), ``time`` is the estimated time of impact with
hours of error (the crater is found in daylight; only that it is fresh is known), and it may
guess the weapon. A back-bearing is a line, never a point: alone it locates nothing.

- **Joining.** A crater joins the located event whose origin lies along its back-bearing: the
  angular residual ``b − az(crater → origin)`` against ``σ_b² + (σ_⊥² + σ_crater²) / d²`` (σ_⊥
  the origin's error across the line of sight, ``d`` the range) inside the χ²₁ 99.9 % gate; whose
  origin is within the guessed weapon's reach; that fired within the time gate (99.9 %,
  ``3.29 √(σ_t² + σ_t0²)``); and, where a radar track predicted the event's impact, whose impact
  is consistent with the crater (combined 99.9 % ellipse) — a round that landed elsewhere made
  another crater. Among those, the likeliest joins, provided no other is within a likelihood
  ratio of e² of it (the cost ``z_b² + z_t² + log`` variances, plus for the position either the
  impact's Mahalanobis term and ``log det 2πC``, or, without an impact estimate, the log of the
  area an unconfirmed round may have landed in). A battery firing from one place for hours
  gives several equally good events: the crater is one of them, which one cannot be told, and a
  wrong link would be false evidence, so it joins none and says why.
- **Fusing.** A joined crater's bearing is a line constraint on the origin: information
  ``JᵀJ / σ²`` with ``J = ∂az/∂(e, n)`` (rank one, across the line of sight), so the origin's
  covariance shrinks across the bearing and not along it (:func:`fuse_bearings`). At 15 km and
  15° the line is kilometres wide: it barely moves an acoustic origin, but the incident cites it.
- **Crossings.** Craters that join nothing (no candidate at all, not ambiguous: an ambiguous
  crater's origin is already a located incident) from different places whose back-bearings cross
  in front of both, at an angle of at least :data:`MIN_CROSS_DEG`, within both guessed reaches
  and within the time gate, are grouped and fixed by Gauss–Newton on their bearings, covariance
  ``(JᵀWJ)⁻¹`` (:func:`fix_bearings`); a fix whose χ² is improbable or whose ellipse is wider
  than :data:`MAX_FIX_SEMI_MAJOR_M` is refused with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.fuse._locate import OK, Solutions, chi2_isf
from truceline.fuse._observers import ObserverFix, _move, _offsets, linked_groups, members_by_event
from truceline.fuse._solo import fix_incident
from truceline.model import Incident, PatrolReport

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

BEARING_GATE_CHI2 = 10.83  # 99.9 % for 1 degree of freedom
IMPACT_GATE_CHI2 = 13.8  # 99.9 % for 2
TIME_GATE_Z = 3.29  # 99.9 %, two-sided
TIE_CHI2 = 4.0  # a likelihood ratio of e²
DEFAULT_BEARING_ERROR_DEG = 20.0  # an unstated crater-analysis error: the rough end of 10–20°
MAX_BEARING_ERROR_DEG = 45.0
MIN_TIME_ERROR_S = 600.0  # a crater's time is never known to better than minutes
UNCONFIRMED_AREA_M2 = math.pi * 10_000.0**2  # where a round without an impact estimate may have landed
# Farthest origin a guessed weapon reaches (m). A crater taken for a howitzer shell's may be a
# 122 mm rocket's (the classic confusion), one taken for an MLRS rocket's a heavy rocket's: each
# guess is given its look-alike's reach. An unknown or other class: the heaviest.
MAX_RANGE_M = {"artillery_ge100": 45_000.0, "artillery_lt100": 45_000.0, "mortar": 45_000.0, "tank": 45_000.0}
HEAVIEST_RANGE_M = 130_000.0
MIN_CROSS_DEG = 30.0
MAX_FIX_SEMI_MAJOR_M = 15_000.0  # beyond this a bearing fix's ellipse is no fair picture of its lens
FIX_P = 1e-3

REASON_WIDE = f"bearing error above {MAX_BEARING_ERROR_DEG:.0f}°: too rough to point at an origin"
REASON_NONE = "no located incident within the time error along the crater's back-bearing"
REASON_PENDING = "pending: this window does not hold the whole of the crater's time error"
REASON_ALONE = "joins no incident and no other crater's back-bearing crosses it"


@dataclass
class CraterReports:
    """Crater analyses as columns (times in seconds since the epoch the origins use)."""

    records: list[PatrolReport]
    t: FloatArray
    terr: FloatArray
    lon: FloatArray
    lat: FloatArray
    pos_var: FloatArray  # crater position variance per axis (m²)
    bearing: FloatArray  # deg, from the crater toward the origin
    bsig: FloatArray  # deg
    max_range: FloatArray  # m
    reason: list[str]

    @classmethod
    def from_records(cls, reports: Sequence[PatrolReport], epoch: datetime) -> CraterReports:
        recs = [r for r in reports if r.impact_bearing_deg is not None]
        t = np.array([(r.time - epoch).total_seconds() for r in recs], dtype=np.float64)
        terr = np.maximum(np.array([r.time_error_s for r in recs], dtype=np.float64), MIN_TIME_ERROR_S)
        lon = np.array([r.location.lon for r in recs], dtype=np.float64)
        lat = np.array([r.location.lat for r in recs], dtype=np.float64)
        pvar = np.array([0.5 * np.trace(np.asarray(r.location.error.covariance())) for r in recs], dtype=np.float64)
        bearing = np.array([r.impact_bearing_deg for r in recs], dtype=np.float64)
        bsig = np.array(
            [DEFAULT_BEARING_ERROR_DEG if r.bearing_error_deg is None else r.bearing_error_deg for r in recs],
            dtype=np.float64,
        )
        reach = np.array(
            [MAX_RANGE_M.get(r.weapon_class_guess or "", HEAVIEST_RANGE_M) for r in recs], dtype=np.float64
        )
        reason = [REASON_WIDE if s > MAX_BEARING_ERROR_DEG else "" for s in bsig.tolist()]
        return cls(recs, t, terr, lon, lat, np.maximum(pvar, 1.0), bearing, bsig, reach, reason)

    def __len__(self) -> int:
        return len(self.records)

    def line_var(self, k: int | IntArray, d: FloatArray, cross_var: FloatArray | float = 0.0) -> FloatArray:
        """Variance (rad²) of the azimuth from crater ``k`` to a point ``d`` metres away whose own
        error across the line of sight has variance ``cross_var``."""
        return np.asarray(np.radians(self.bsig[k]) ** 2 + (self.pos_var[k] + cross_var) / np.maximum(d, 1.0) ** 2)


CraterFix = ObserverFix
"""A crater-only incident: its reports and, when the crossing holds, the located firing point
(the fields of an observers' fix)."""


@dataclass
class CraterLinks:
    """What :func:`join_craters` decided, per crater analysis."""

    event_of: IntArray  # the event it joins, -1 none
    ambiguous: NDArray[np.bool_]
    candidates: IntArray  # events that passed every gate
    reason: list[str]
    fixes: list[CraterFix] = field(default_factory=list)

    def by_event(self) -> dict[int, list[int]]:
        return members_by_event(self.event_of)


def _wrap(a: FloatArray) -> FloatArray:
    return np.asarray((a + np.pi) % (2 * np.pi) - np.pi)


def _azimuth_to(
    cr: CraterReports, k: int, lon: FloatArray, lat: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(offsets east/north, range, azimuth in radians) from crater ``k`` to the points."""
    o = _offsets(np.full(len(lon), cr.lon[k]), np.full(len(lon), cr.lat[k]), lon, lat)
    d = np.hypot(o[:, 0], o[:, 1])
    return o, d, np.arctan2(o[:, 0], o[:, 1])


def join_craters(
    cr: CraterReports,
    sol: Solutions,
    impacts: dict[int, tuple[float, float, FloatArray]] | None = None,
    complete: tuple[float, float] | None = None,
) -> CraterLinks:
    """Join each crater analysis to the event that made it (see the module's note); then fix the
    craters that join nothing where their back-bearings cross.

    ``impacts``: radar-predicted impacts per event (lon, lat, 2×2 covariance). ``complete``: the
    span of origin times whose events the association holds whole; a crater whose time gate
    reaches outside it waits for a window that holds it (with part of the candidates it could
    look unambiguous and join the wrong one)."""
    n = len(cr)
    impacts = impacts or {}
    event_of = np.full(n, -1, dtype=np.intp)
    ambiguous = np.zeros(n, dtype=bool)
    n_cand = np.zeros(n, dtype=np.intp)
    reason = list(cr.reason)
    if complete is not None:
        reach_t = TIME_GATE_Z * cr.terr
        for k in np.flatnonzero((cr.t - reach_t < complete[0]) | (cr.t + reach_t > complete[1])).tolist():
            if not reason[k]:
                reason[k] = REASON_PENDING
    ok = np.flatnonzero(sol.status == OK) if len(sol.lon) else np.zeros(0, dtype=np.intp)
    order = ok[np.argsort(sol.t0[ok], kind="stable")]
    t_sorted = sol.t0[order]
    tvar = np.maximum(sol.cov[order, 2, 2], 0.0) if len(order) else np.zeros(0)
    slack = float(np.sqrt(tvar.max(initial=0.0)))
    log_unconfirmed = 2.0 * math.log(UNCONFIRMED_AREA_M2)
    # A short loop per crater (a few a day), each over the events of its time gate.
    for k in range(n):
        if reason[k]:
            continue
        half = TIME_GATE_Z * (cr.terr[k] + slack)
        lo = int(np.searchsorted(t_sorted, cr.t[k] - half))
        hi = int(np.searchsorted(t_sorted, cr.t[k] + half, side="right"))
        cand = order[lo:hi]
        vt = cr.terr[k] ** 2 + tvar[lo:hi]
        zt2 = (sol.t0[cand] - cr.t[k]) ** 2 / vt
        keep = zt2 <= TIME_GATE_Z**2
        cand, vt, zt2 = cand[keep], vt[keep], zt2[keep]
        if len(cand) == 0:
            reason[k] = REASON_NONE
            continue
        _, d, az = _azimuth_to(cr, k, sol.lon[cand], sol.lat[cand])
        perp = np.stack([np.cos(az), -np.sin(az)], -1)  # across the line of sight
        cross_var = np.einsum("ki,kij,kj->k", perp, sol.cov[cand, :2, :2], perp)
        vb = cr.line_var(k, d, cross_var)
        zb2 = _wrap(np.radians(cr.bearing[k]) - az) ** 2 / vb
        cost = zb2 + np.log(vb) + zt2 + np.log(vt) + log_unconfirmed
        good = (zb2 <= BEARING_GATE_CHI2) & (d <= cr.max_range[k])
        for j in np.flatnonzero(good).tolist():
            imp = impacts.get(int(cand[j]))
            if imp is None:
                continue
            c = np.asarray(imp[2], dtype=np.float64) + cr.pos_var[k] * np.eye(2)
            r = _offsets(np.array([cr.lon[k]]), np.array([cr.lat[k]]), np.array([imp[0]]), np.array([imp[1]]))[0]
            m2 = float(r @ np.linalg.solve(c, r))
            if m2 > IMPACT_GATE_CHI2:
                good[j] = False  # the radar saw this round land elsewhere
            else:
                cost[j] += m2 + float(np.log(np.linalg.det(2 * np.pi * c))) - log_unconfirmed
        n_cand[k] = int(good.sum())
        if not good.any():
            reason[k] = REASON_NONE
            continue
        best = float(cost[good].min())
        tied = np.unique(cand[good & (cost <= best + TIE_CHI2)])
        if len(tied) > 1:
            ambiguous[k] = True
            reason[k] = f"ambiguous: {len(tied)} located incidents along the back-bearing fit the crater as well"
            continue
        event_of[k] = int(tied[0])
    links = CraterLinks(event_of, ambiguous, n_cand, reason)
    links.fixes = crater_fixes(cr, links)
    for fix in links.fixes:
        for k in fix.members:
            links.reason[k] = fix.reason
    return links


def fuse_bearings(
    lon: float,
    lat: float,
    cov: Sequence[Sequence[float]] | FloatArray,
    cr: CraterReports,
    ks: Sequence[int],
) -> tuple[float, float, list[list[float]]]:
    """The origin (lon, lat, 2×2 east/north covariance) with crater back-bearings ``ks`` fused in
    information form: each adds ``JᵀJ / σ²`` (``J = ∂az/∂(e, n)`` at the origin, rank one, across
    the line of sight) and ``Jᵀ r / σ²`` (``r`` the bearing residual); one Gauss–Newton step
    from the origin, which the kilometre-wide lines move by metres at most."""
    c0 = np.asarray(cov, dtype=np.float64)
    info = np.linalg.inv(c0)
    vec = np.zeros(2)
    kk = np.asarray(ks, dtype=np.intp)
    o = _offsets(cr.lon[kk], cr.lat[kk], np.full(len(kk), lon), np.full(len(kk), lat))
    d = np.maximum(np.hypot(o[:, 0], o[:, 1]), 1.0)
    jac = np.stack([o[:, 1] / d**2, -o[:, 0] / d**2], -1)  # ∂az/∂(e, n) of the origin
    var = cr.line_var(kk, d)
    res = _wrap(np.radians(cr.bearing[kk]) - np.arctan2(o[:, 0], o[:, 1]))
    info = info + np.einsum("k,ki,kj->ij", 1.0 / var, jac, jac)
    vec = vec + jac.T @ (res / var)
    p = np.linalg.inv(info)
    new_lon, new_lat = _move(lon, lat, p @ vec)
    return new_lon, new_lat, p.tolist()


def _rays_cross(cr: CraterReports, a: IntArray, b: IntArray) -> tuple[NDArray[np.bool_], FloatArray]:
    """Whether the back-bearings of craters ``a`` and ``b`` cross in front of both, within both
    reaches, at an angle of at least :data:`MIN_CROSS_DEG` (and at most its supplement)."""
    off = _offsets(cr.lon[a], cr.lat[a], cr.lon[b], cr.lat[b])  # b relative to a, local plane of a
    ua = np.stack([np.sin(np.radians(cr.bearing[a])), np.cos(np.radians(cr.bearing[a]))], -1)
    ub = np.stack([np.sin(np.radians(cr.bearing[b])), np.cos(np.radians(cr.bearing[b]))], -1)
    # a + s ua = b + t ub  →  s ua − t ub = off
    det = -ua[:, 0] * ub[:, 1] + ua[:, 1] * ub[:, 0]
    safe = np.where(np.abs(det) < 1e-9, 1e-9, det)
    s = (-off[:, 0] * ub[:, 1] + off[:, 1] * ub[:, 0]) / safe
    t = (ua[:, 0] * off[:, 1] - ua[:, 1] * off[:, 0]) / safe
    angle = np.degrees(np.arccos(np.clip(np.abs(np.einsum("ki,ki->k", ua, ub)), 0.0, 1.0)))
    ok = (angle >= MIN_CROSS_DEG) & (s > 0) & (t > 0) & (s <= cr.max_range[a]) & (t <= cr.max_range[b])
    return ok, angle


def crater_fixes(cr: CraterReports, links: CraterLinks) -> list[CraterFix]:
    """Groups of ≥ 2 free craters whose back-bearings cross, each with its fix."""
    free = [k for k in range(len(cr)) if links.event_of[k] < 0 and links.reason[k] == REASON_NONE]
    if len(free) < 2:
        for k in free:
            links.reason[k] = REASON_ALONE
        return []
    idx = np.asarray(free, dtype=np.intp)
    i, j = np.triu_indices(len(idx), 1)
    a, b = idx[i], idx[j]
    timely = np.abs(cr.t[a] - cr.t[b]) <= TIME_GATE_Z * np.hypot(cr.terr[a], cr.terr[b])
    crossing, _ = _rays_cross(cr, a, b)
    pair = np.flatnonzero(timely & crossing)
    fixes = []
    for members in linked_groups(len(idx), i[pair], j[pair]):
        ks = [int(idx[q]) for q in members]
        if len(ks) < 2:
            links.reason[ks[0]] = REASON_ALONE
            continue
        fixes.append(fix_bearings(cr, sorted(ks, key=lambda k: (cr.t[k], k))))
    return fixes


def fix_bearings(cr: CraterReports, ks: list[int]) -> CraterFix:
    """Gauss–Newton on the craters' back-bearings; covariance ``(JᵀWJ)⁻¹``.

    Started from the crossing of the first two lines; worked in the local plane of the current
    estimate (flat within the tens of kilometres a gun reaches)."""
    kk = np.asarray(ks, dtype=np.intp)
    a, b = kk[:1], kk[1:2]
    off = _offsets(cr.lon[a], cr.lat[a], cr.lon[b], cr.lat[b])[0]
    ua = np.array([math.sin(math.radians(cr.bearing[a[0]])), math.cos(math.radians(cr.bearing[a[0]]))])
    ub = np.array([math.sin(math.radians(cr.bearing[b[0]])), math.cos(math.radians(cr.bearing[b[0]]))])
    fail = CraterFix(ks, math.nan, math.nan, np.full((2, 2), np.nan), 0.0, 0.0, math.inf, "")
    try:
        s, _ = np.linalg.solve(np.stack([ua, -ub], -1), off)
    except np.linalg.LinAlgError:
        fail.reason = "not locatable: the craters' back-bearings do not cross"
        return fail
    lon, lat = _move(float(cr.lon[a[0]]), float(cr.lat[a[0]]), s * ua)
    cov = np.full((2, 2), np.nan)
    chi2 = math.inf
    for _ in range(10):
        o = _offsets(cr.lon[kk], cr.lat[kk], np.full(len(kk), lon), np.full(len(kk), lat))
        d = np.maximum(np.hypot(o[:, 0], o[:, 1]), 1.0)
        res = _wrap(np.radians(cr.bearing[kk]) - np.arctan2(o[:, 0], o[:, 1]))
        w = 1.0 / cr.line_var(kk, d)
        jac = np.stack([o[:, 1] / d**2, -o[:, 0] / d**2], -1)
        mat = np.einsum("k,ki,kj->ij", w, jac, jac)
        try:
            cov = np.linalg.inv(mat)
        except np.linalg.LinAlgError:
            fail.reason = "not locatable: the craters' back-bearings do not cross"
            return fail
        step = cov @ (jac.T @ (w * res))
        lon, lat = _move(lon, lat, step)
        chi2 = float(np.sum(w * res**2))
        if float(np.hypot(*step)) < 0.1:
            break
    # The bearings' residuals at the final point (the loop's last χ² was before its last step).
    o = _offsets(cr.lon[kk], cr.lat[kk], np.full(len(kk), lon), np.full(len(kk), lat))
    d = np.maximum(np.hypot(o[:, 0], o[:, 1]), 1.0)
    chi2 = float(np.sum(_wrap(np.radians(cr.bearing[kk]) - np.arctan2(o[:, 0], o[:, 1])) ** 2 / cr.line_var(kk, d)))
    semi_major = (
        math.sqrt(max(float(np.linalg.eigvalsh(cov)[-1]), 0.0)) * 2.4477 if np.all(np.isfinite(cov)) else math.inf
    )
    dof = len(kk) - 2
    reason = ""
    if not math.isfinite(semi_major) or semi_major > MAX_FIX_SEMI_MAJOR_M:
        reason = "not locatable: the craters' back-bearings do not fix a point"
    elif dof > 0 and chi2 > float(chi2_isf(FIX_P, np.array([dof]))[0]):
        reason = "not locatable: the craters' back-bearings are inconsistent with one firing point (p < 0.001)"
    elif np.any(d > cr.max_range[kk]):
        reason = "not locatable: the crossing lies beyond a guessed weapon's reach"
    # The craters may be different rounds of one battery's fire: the time is the craters' times in
    # information form, its error at least half their spread.
    w_t = 1.0 / cr.terr[kk] ** 2
    t = float(np.sum(w_t * cr.t[kk]) / w_t.sum())
    t_err = max(1.0 / math.sqrt(float(w_t.sum())), 0.5 * float(np.ptp(cr.t[kk])))
    return CraterFix(ks, lon, lat, cov, t, t_err, chi2, reason)


def crater_incidents(
    cr: CraterReports, links: CraterLinks, agreement: Agreement, created: datetime, epoch: datetime
) -> list[Incident]:
    """One incident per crossing of craters' back-bearings (without origin, and with the reason,
    where the fix fails); its id comes from the earliest crater's report."""
    out = []
    for fix in links.fixes:
        recs = [cr.records[k] for k in fix.members]
        start = epoch + timedelta(seconds=float(min(cr.t[k] for k in fix.members)))
        end = epoch + timedelta(seconds=float(max(cr.t[k] for k in fix.members)))
        note = f"back-bearings of {len(recs)} craters crossing (χ² {fix.chi2:.1f})"
        out.append(fix_incident(fix, recs, "crater", note, start, end, agreement, created, epoch))
    return out
