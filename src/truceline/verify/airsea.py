"""Air and sea: military tracks inside restricted zones.

Plots are grouped into tracks by (reporter, source, track number). A track breaches
``<air|sea>.<zone>`` when a plot lies inside the zone and the craft is military, of a kind the
zone closes (``applies_to``), flown or sailed by a participant the zone does not exempt (the
side most of its plots identify), and — for air zones with a ceiling — below ``max_altitude_m``.
Two nations tracking the same craft under their own track numbers give one finding: tracks in
the same zone are merged when their plots, matched in time, lie close together.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.agreement import RestrictedZone
from truceline.geo import geodesic_distance_m
from truceline.model import AirTrack, Evidence, Finding, SeaTrack
from truceline.verify._common import Context, location_of_points, ref_of, ref_text

__all__ = ["MERGE_DISTANCE_M", "MERGE_TIME_S", "airsea_findings"]

MERGE_DISTANCE_M = 5_000.0
"""Two tracks whose time-matched plots lie this close (median) are the same craft."""
MERGE_TIME_S = 120.0
"""Plots of two tracks this close in time are compared."""

Plot = AirTrack | SeaTrack


@dataclass
class _Track:
    plots: list[tuple[int, Plot]]
    zone: RestrictedZone
    inside: list[int] = field(default_factory=list)  # positions in ``plots`` inside the zone

    @property
    def side(self) -> str | None:
        sides = Counter(p.identified_side for _, p in self.plots if p.identified_side)
        return sides.most_common(1)[0][0] if sides else None

    @property
    def craft(self) -> str:
        p = self.plots[0][1]
        return p.aircraft_class if isinstance(p, AirTrack) else p.vessel_class

    def times(self) -> NDArray[np.float64]:
        return np.array([self.plots[i][1].time.timestamp() for i in self.inside])


def _breaches(zone: RestrictedZone, track: list[tuple[int, Plot]]) -> list[int]:
    """Positions of the track's plots that breach the zone (empty when the craft may be there)."""
    first = track[0][1]
    if (zone.kind == "air") != isinstance(first, AirTrack):
        return []
    lon = np.array([p.location.lon for _, p in track])
    lat = np.array([p.location.lat for _, p in track])
    inside = shapely.contains_xy(zone.geometry, lon, lat)
    military = np.array([p.military for _, p in track])
    ok = inside & military
    if zone.max_altitude_m is not None:
        alt = np.array(
            [p.altitude_m if isinstance(p, AirTrack) and p.altitude_m is not None else 0.0 for _, p in track]
        )
        ok &= alt <= zone.max_altitude_m
    return np.flatnonzero(ok).tolist()


def _same_craft(a: _Track, b: _Track) -> bool:
    ta, tb = a.times(), b.times()
    if not len(ta) or not len(tb) or ta.max() + MERGE_TIME_S < tb.min() or tb.max() + MERGE_TIME_S < ta.min():
        return False
    j = np.clip(np.searchsorted(tb, ta), 1, len(tb) - 1) if len(tb) > 1 else np.zeros(len(ta), dtype=np.intp)
    if len(tb) > 1:
        j = np.where(np.abs(tb[j - 1] - ta) < np.abs(tb[j] - ta), j - 1, j)
    close = np.abs(tb[j] - ta) <= MERGE_TIME_S
    if not close.any():
        return False
    pa = [a.plots[a.inside[i]][1].location for i in np.flatnonzero(close).tolist()]
    pb = [b.plots[b.inside[int(j[i])]][1].location for i in np.flatnonzero(close).tolist()]
    d = geodesic_distance_m([p.lon for p in pa], [p.lat for p in pa], [p.lon for p in pb], [p.lat for p in pb])
    return bool(np.median(d) <= MERGE_DISTANCE_M)


def airsea_findings(ctx: Context, plots: Sequence[tuple[int, Plot]], *, after_seq: int = 0) -> list[Finding]:
    tracks: dict[tuple[str, str, str], list[tuple[int, Plot]]] = defaultdict(list)
    for seq, p in plots:
        tracks[(p.participant, p.source, p.track_id)].append((seq, p))
    breaching: list[_Track] = []
    for key in sorted(tracks):
        track = sorted(tracks[key], key=lambda sp: (sp[1].time, sp[0]))
        for zone in ctx.agreement.restricted_zones:
            inside = _breaches(zone, track)
            if not inside:
                continue
            t = _Track(track, zone, inside)
            if t.craft not in zone.applies_to or (t.side is not None and t.side in zone.exempt):
                continue
            breaching.append(t)
    # Merge the same craft reported by several nations (union-find over the few breaching tracks).
    parent = list(range(len(breaching)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(breaching)):
        for j in range(i + 1, len(breaching)):
            a, b = breaching[i], breaching[j]
            if a.zone.id == b.zone.id and (a.side == b.side or None in (a.side, b.side)) and _same_craft(a, b):
                parent[root(j)] = root(i)
    groups: dict[int, list[_Track]] = defaultdict(list)
    for i, t in enumerate(breaching):
        groups[root(i)].append(t)
    out = []
    for members in groups.values():
        if not any(seq > after_seq for t in members for seq, _ in t.plots):
            continue
        out.append(_finding(ctx, members))
    return out


def _finding(ctx: Context, members: list[_Track]) -> Finding:
    zone = members[0].zone
    all_plots = [p for t in members for _, p in t.plots]
    inside = [t.plots[i][1] for t in members for i in t.inside]
    sides = Counter(t.side for t in members if t.side)
    side = sides.most_common(1)[0][0] if sides else None
    times: list[datetime] = [p.time for p in inside]
    anchor_plot = min(inside, key=lambda p: (p.time, ref_text(ref_of(p))))
    craft = members[0].craft
    evidence = [
        Evidence(
            kind=f"{zone.kind}_track",
            description=f"{t.plots[0][1].participant} track {t.plots[0][1].track_id}: {len(t.inside)} of "
            f"{len(t.plots)} plots inside {zone.name} ({craft}, identified as {t.side or 'unknown'})",
            refs=tuple(ref_of(p) for _, p in t.plots),
        )
        for t in members
    ]
    location = location_of_points(
        [p.location.lon for p in inside],
        [p.location.lat for p in inside],
        [p.location.error.semi_major_m for p in inside],
    )
    return ctx.finding(
        clause_id=zone.clause,
        anchor=ref_text(ref_of(anchor_plot)),
        side=side,
        confidence=0.95 if side is not None else 0.6,
        evidence=evidence,
        sources=all_plots,
        first_seen=min(times),
        last_seen=max(times),
        location=location,
        note=f"{len(members)} track(s) merged",
    )
