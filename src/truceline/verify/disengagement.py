"""Disengagement areas: any force or weapon inside one, and the run of quiet days before a step.

Sightings (imagery, UAV, patrols — not radar origins, which are fire and so cease-fire
violations) inside an area are grouped per area and side into stretches of time with gaps of
at most :data:`GAP_S`; each stretch is one finding under ``disengagement.<area>``.
:func:`quiet_days` counts, per area, the consecutive days without fire in it up to a day: the
counter a disengagement waits on (``quiet_days_required``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.model import Evidence, Finding, Incident
from truceline.verify._common import Context, location_of_points, ref_of, ref_text
from truceline.verify.sightings import Sightings

__all__ = ["GAP_S", "disengagement_findings", "inside_areas", "quiet_days"]

GAP_S = 2 * 86_400.0
"""Sightings in an area further apart than this are separate breaches."""

IntArray = NDArray[np.intp]


def inside_areas(ctx: Context, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> IntArray:
    """For each position, the index of the disengagement area containing it, or -1."""
    out = np.full(len(lon), -1, dtype=np.intp)
    for k, area in enumerate(ctx.agreement.disengagement_areas):
        hit = shapely.contains_xy(area.geometry, lon, lat) & (out < 0)
        out[hit] = k
    return out


def disengagement_findings(ctx: Context, sightings: Sightings, area: IntArray, *, after_seq: int = 0) -> list[Finding]:
    """Findings for the sightings with ``area >= 0`` (radar origins are ignored)."""
    areas = ctx.agreement.disengagement_areas
    rows = np.flatnonzero((area >= 0) & ~sightings.fire)
    if not rows.size:
        return []
    sides = ctx.agreement.side_of(sightings.lon[rows], sightings.lat[rows])
    out = []
    for k in np.unique(area[rows]).tolist():
        for side in np.unique(sides).tolist():
            sel = rows[(area[rows] == k) & (sides == side)]
            sel = sel[np.argsort(sightings.time_s[sel], kind="stable")]
            breaks = np.flatnonzero(np.diff(sightings.time_s[sel]) > GAP_S) + 1
            for part in np.split(sel, breaks):
                if part.size and (sightings.seq[part] > after_seq).any():
                    out.append(_finding(ctx, sightings, part, areas[k].id, areas[k].clause, areas[k].name, side))
    return out


def _finding(ctx: Context, s: Sightings, rows: IntArray, area_id: str, clause: str, name: str, side: str) -> Finding:
    obs = [s.observations[i] for i in rows.tolist()]
    anchor = min(obs, key=lambda o: (o.time, ref_text(ref_of(o))))
    post = np.exp(s.loglik[rows].sum(axis=0) - s.loglik[rows].sum(axis=0).max())
    post /= post.sum()
    p_force = 1.0 - float(post[-1])  # the last category is "none": no weapon
    return ctx.finding(
        clause_id=clause,
        anchor=f"{area_id}/{ref_text(ref_of(anchor))}",
        side=side or None,
        confidence=p_force,
        evidence=[
            Evidence(
                kind="sighting_in_area",
                description=f"{len(obs)} sighting(s) of weapons or forces inside the {name} disengagement area",
                refs=tuple(ref_of(o) for o in obs),
            )
        ],
        sources=obs,
        first_seen=datetime.fromtimestamp(float(s.time_s[rows].min()), UTC),
        last_seen=datetime.fromtimestamp(float(s.time_s[rows].max()), UTC),
        location=location_of_points(s.lon[rows], s.lat[rows], s.error_m[rows]),
    )


def quiet_days(ctx: Context, incidents: Sequence[Incident], day: date) -> dict[str, int]:
    """Per disengagement area, the consecutive days up to ``day`` (inclusive) without fire in it.

    Fire "in" an area is an incident whose preferred origin or any impact lies inside it. With no
    fire at all the count runs from the agreement's effective date.
    """
    last_fire: dict[str, date] = {}
    for inc in incidents:
        if inc.kind != "fire" or inc.start.date() > day:
            continue
        points = [inc.preferred_origin.location] if inc.preferred_origin is not None else []
        points += list(inc.impacts)
        if not points:
            continue
        k = inside_areas(ctx, np.array([p.lon for p in points]), np.array([p.lat for p in points]))
        for idx in set(k[k >= 0].tolist()):
            aid = ctx.agreement.disengagement_areas[idx].id
            d = inc.start.astimezone(UTC).date()
            last_fire[aid] = max(last_fire.get(aid, d), d)
    out = {}
    for a in ctx.agreement.disengagement_areas:
        since = last_fire.get(a.id)
        # The day of the last fire is not quiet; with no fire, every day since the agreement is.
        out[a.id] = max((day - since).days, 0) if since else max((day - ctx.agreement.effective).days + 1, 0)
    return out
