"""Incidents no acoustic event makes: fire only radar tracked, and fire only observers fixed.

Records for what :mod:`truceline.fuse._radar_only` and :mod:`truceline.fuse._observers` decide;
the acoustic incidents (and the tracks and reports that join them) are built in
:func:`truceline.fuse._run.build_incidents`. Ids come from the earliest report (a track, a log
entry), so a later run writes new versions of the same incidents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from truceline.agreement import Agreement
from truceline.fuse._observers import ObserverFix, ObserverLinks, PatrolPoints
from truceline.fuse._radar_only import RadarOnly
from truceline.fuse._records import incident_id, make_incident, make_origin, merge_markings
from truceline.model import Incident, ObservationRef, PatrolReport, RadarTrack

if TYPE_CHECKING:
    from truceline.fuse._run import _Loaded


def observation_ref(o: PatrolReport | RadarTrack) -> ObservationRef:
    return ObservationRef(participant=o.participant, source=o.source, key=o.key)


def radar_only_incidents(
    loaded: _Loaded,
    tracks: Sequence[RadarTrack],
    rs: Sequence[RadarOnly],
    agreement: Agreement,
    created: datetime,
    epoch: datetime,
) -> list[Incident]:
    """One incident per group of tracks no acoustic event matched, citing the free picks it explains."""
    out: list[Incident] = []
    if not rs:
        return out
    sectors = agreement.sector_of(np.array([r.lon for r in rs]), np.array([r.lat for r in rs]))
    for r, sector in zip(rs, sectors.tolist(), strict=True):
        members = sorted(r.tracks, key=lambda k: (tracks[k].time, tracks[k].dedup_key))
        first = tracks[members[0]]
        iid = incident_id(first.dedup_key)
        t = epoch + timedelta(seconds=r.time_s)
        heard = f"; {len(r.picks)} free acoustic picks agree with it" if r.picks else ""
        origin = make_origin(
            iid, "radar", r.lon, r.lat, r.cov, t, 0.5, len(members), None, created,
            note=f"counter-battery radar origins combined in information form; no acoustic event matched{heard}",
        )  # fmt: skip
        refs = [observation_ref(tracks[k]) for k in members] + [loaded.refs[i] for i in r.picks]
        marks = [tracks[k].markings for k in members] + [loaded.marking_table[loaded.markings[i]] for i in r.picks]
        end = epoch + timedelta(seconds=float(loaded.arrivals.time_s[r.picks].max())) if r.picks else t
        out.append(
            make_incident(
                iid, refs, [origin], origin.id, t, max(t, end), merge_markings(marks), created, str(sector) or None,
            )
        )  # fmt: skip
    return out


def observer_incidents(
    pts: PatrolPoints, links: ObserverLinks, agreement: Agreement, created: datetime, epoch: datetime
) -> list[Incident]:
    """One incident per observers' fix (without origin, and with the reason, where it fails)."""
    out = []
    for fix in links.fixes:
        recs = [pts.records[k] for k in fix.members]
        start = epoch + timedelta(seconds=float(max(pts.t0[k] for k in fix.members)))
        end = epoch + timedelta(seconds=float(min(pts.t1[k] for k in fix.members)))
        note = f"bearings and distances of {len(recs)} observers (χ² {fix.chi2:.1f})"
        out.append(fix_incident(fix, recs, "observer", note, start, end, agreement, created, epoch))
    return out


def fix_incident(
    fix: ObserverFix,
    recs: Sequence[PatrolReport],
    method: str,
    note: str,
    start: datetime,
    end: datetime,
    agreement: Agreement,
    created: datetime,
    epoch: datetime,
) -> Incident:
    """The incident of one fix of reports ``recs``: its origin (``method``, ``note``) where the
    fix holds, none and the fix's reason where it fails; its id from the earliest report."""
    iid = incident_id(recs[0].dedup_key)
    origins = []
    sector = None
    if not fix.reason:
        t = epoch + timedelta(seconds=fix.time_s)
        origins.append(
            make_origin(
                iid, method, fix.lon, fix.lat, fix.cov.tolist(), t, fix.time_error_s, len(recs), None, created,
                note=note,
            )
        )  # fmt: skip
        sector = str(agreement.sector_of(np.array([fix.lon]), np.array([fix.lat]))[0]) or None
    return make_incident(
        iid, [observation_ref(r) for r in recs], origins, origins[0].id if origins else None, start, max(start, end),
        merge_markings([r.markings for r in recs]), created, sector, note=fix.reason,
    )  # fmt: skip
