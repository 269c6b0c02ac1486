"""Withdrawal zones: a weapon seen closer to the line on its own side than its class allows.

The reports that place weapons (:mod:`truceline.verify.sightings`) are grouped into objects;
each object's class is the posterior over every report's label (a radar's guess, an imagery
class with its confidence, a patrol's reading, the range of the shots it fired). An object is a
finding when the probability that it stands inside the withdrawal zone of its class (on the side
of the party holding the ground) reaches :data:`MIN_CONFIDENCE`; the clause is the most probable
breaching class once the depth at which it stands is weighed in. One object is one finding,
however many passes, nations and nights saw it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.geo import to_lonlat
from truceline.model import Evidence, Finding, ObservationRef
from truceline.verify._common import Context, chunks, finding_id, location_of_points, ref_of, ref_text
from truceline.verify.sightings import CATEGORIES, Sightings, group_objects, standoff_log_likelihood
from truceline.verify.zones import ZoneChecker

__all__ = ["LINK_M", "MIN_CONFIDENCE", "ObjectClasses", "classify_objects", "withdrawal_findings"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

LINK_M = 400.0
"""Reports closer than this (metres), or than their errors allow, are taken to be the same object."""

MIN_CONFIDENCE = 0.8
"""An object becomes a finding when the probability that it breaches some withdrawal clause reaches this."""

_KIND_LABEL = {
    "radar_track": ("radar_origin", "counter-battery radar tracks fired from here"),
    "imagery_detection": ("imagery", "imagery detections"),
    "uav_sighting": ("uav_sighting", "monitoring-UAV sightings"),
    "weapon_sighting": ("weapon_sighting", "weapons seen in place by patrols"),
}


class ObjectClasses:
    """Objects (groups of reports) with their class posterior and centre."""

    def __init__(self, sightings: Sightings, labels: IntArray, agreement: Agreement) -> None:
        self.labels = labels
        n = int(labels.max()) + 1 if labels.size else 0
        self.n = n
        counts = np.bincount(labels, minlength=n).astype(np.float64)
        self.x = np.bincount(labels, sightings.x, minlength=n) / np.maximum(counts, 1)
        self.y = np.bincount(labels, sightings.y, minlength=n) / np.maximum(counts, 1)
        self.lon, self.lat = to_lonlat(self.x, self.y)
        self.distance_m = agreement.distance_to_line_m(self.lon, self.lat) if n else np.zeros(0)
        loglik = np.zeros((n, len(CATEGORIES)))
        np.add.at(loglik, labels, sightings.loglik)
        self.loglik = loglik
        self.posterior = _normalise(loglik)
        """P(class) from what the reports say (labels, shot ranges): decides whether there is a breach."""
        self.posterior_standoff = _normalise(loglik + standoff_log_likelihood(self.distance_m))
        """The same with the class's typical depth behind the line: chooses the clause."""


def _normalise(loglik: FloatArray) -> FloatArray:
    if not len(loglik):
        return loglik
    p = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    return np.asarray(p / p.sum(axis=1, keepdims=True), dtype=np.float64)


def classify_objects(sightings: Sightings, agreement: Agreement, link_m: float = LINK_M) -> ObjectClasses:
    """Group the sightings into objects and give each its class posterior."""
    return ObjectClasses(sightings, group_objects(sightings.x, sightings.y, link_m, sightings.error_m), agreement)


def withdrawal_findings(
    ctx: Context,
    sightings: Sightings,
    checker: ZoneChecker,
    *,
    after_seq: int = 0,
    link_m: float = LINK_M,
    existing: Mapping[str, Finding] | None = None,
) -> list[Finding]:
    """One finding per object in a withdrawal zone, for objects with a report after ``after_seq``.

    ``existing`` holds earlier withdrawal findings by id: one whose object, with the new reports,
    no longer breaches (or was merged into another object's finding) gets a closing version with
    confidence 0, so a rerun never leaves a stale judgement standing.
    """
    if len(sightings) == 0:
        return []
    objects = classify_objects(sightings, ctx.agreement, link_m)
    clon, clat = objects.lon, objects.lat
    # For each restricted class: whose zone each object's centre lies in (0: none).
    zone = np.zeros((objects.n, len(CATEGORIES)), dtype=np.int8)
    for cls in checker.restricted:
        zone[:, CATEGORIES.index(cls)] = checker.zone_codes(clon, clat, cls)
    breach = objects.posterior * (zone > 0)
    p_any = breach.sum(axis=1)
    # Whether there is a breach rests on what the reports say; which clause, on that and on how deep
    # the object stands (imagery's "artillery" fits either calibre; a lone radar guess of a heavy
    # rocket system 3 km from the line is more likely a wrong guess than a heavy rocket system).
    best = np.argmax(objects.posterior_standoff * (zone > 0), axis=1)
    fresh = np.zeros(objects.n, dtype=bool)
    fresh[objects.labels[sightings.seq > after_seq]] = True
    out: list[Finding] = []
    was_anchor = _earlier_anchors(sightings, after_seq, link_m) if existing is not None else None
    members = np.argsort(objects.labels, kind="stable")
    starts = np.searchsorted(objects.labels[members], np.arange(objects.n + 1))
    for k in np.flatnonzero(fresh).tolist():
        rows = members[starts[k] : starts[k + 1]]
        kept: str | None = None
        if p_any[k] >= MIN_CONFIDENCE:
            c = int(best[k])
            cls = CATEGORIES[c]
            party = checker.parties[int(zone[k, c]) - 1]
            f = _finding(ctx, sightings, rows, cls, party, float(breach[k, c]), float(p_any[k]), objects, k)
            out.append(f)
            kept = f.id
        if existing is not None and was_anchor is not None:
            # An earlier finding anchored on one of this object's earlier objects, if not its own now.
            for i in rows[was_anchor[rows]].tolist():
                old = existing.get(finding_id("withdrawal", ref_text(ref_of(sightings.observations[i]))))
                if old is not None and old.id != kept and old.confidence > 0:
                    out.append(_withdrawn(ctx, old, kept))
    return out


def _earlier_anchors(sightings: Sightings, after_seq: int, link_m: float) -> NDArray[np.bool_]:
    """Rows that anchored an object when only the reports up to ``after_seq`` were in.

    The previous window's findings took their ids from exactly these rows, so they are the only
    ids to look up (one per earlier object, not one per report).
    """
    anchor = np.zeros(len(sightings), dtype=bool)
    old = np.flatnonzero(sightings.seq <= after_seq)
    if after_seq <= 0 or not old.size:
        return anchor
    labels = group_objects(sightings.x[old], sightings.y[old], link_m, sightings.error_m[old])
    first_time = np.full(int(labels.max()) + 1, np.inf)
    np.minimum.at(first_time, labels, sightings.time_s[old])
    tied = old[sightings.time_s[old] == first_time[labels]]
    best: dict[int, tuple[str, int]] = {}
    for row, label in zip(tied.tolist(), labels[sightings.time_s[old] == first_time[labels]].tolist(), strict=True):
        key = (ref_text(ref_of(sightings.observations[row])), row)
        if label not in best or key < best[label]:
            best[label] = key
    anchor[[row for _, row in best.values()]] = True
    return anchor


def _withdrawn(ctx: Context, old: Finding, replaced_by: str | None) -> Finding:
    why = f"merged into {replaced_by}" if replaced_by else "the reports no longer show a breach"
    return old.model_copy(
        update={
            "status": "closed",
            "confidence": 0.0,
            "evidence": (*old.evidence, Evidence(kind="withdrawn", description=f"withdrawn: {why}")),
            "creation_info": ctx.creation_info(f"withdrawn: {why}"),
        }
    )


def _finding(
    ctx: Context,
    s: Sightings,
    rows: IntArray,
    cls: str,
    party: str,
    confidence: float,
    p_any: float,
    objects: ObjectClasses,
    k: int,
) -> Finding:
    obs = [s.observations[i] for i in rows.tolist()]
    order = sorted(range(len(obs)), key=lambda i: (obs[i].time, ref_text(ref_of(obs[i]))))
    anchor = ref_text(ref_of(obs[order[0]]))
    c = CATEGORIES.index(cls)
    # Each report's log-likelihood ratio for "this class" against the mean of the others.
    others = np.delete(s.loglik[rows], c, axis=1)
    llr = s.loglik[rows, c] - (np.log(np.mean(np.exp(others), axis=1)))
    evidence: list[Evidence] = []
    kinds = [str(getattr(o, "kind", "")) for o in obs]
    for kind, (ev_kind, what) in _KIND_LABEL.items():
        pick = [i for i, kd in enumerate(kinds) if kd == kind]
        if not pick:
            continue
        refs: Sequence[ObservationRef] = [ref_of(obs[i]) for i in pick]
        participants = sorted({r.participant for r in refs})
        for part in chunks(refs):
            evidence.append(
                Evidence(
                    kind=ev_kind,
                    description=f"{len(pick)} {what} (by {', '.join(participants)})",
                    weight=float(np.sum(llr[pick])),
                    refs=part,
                )
            )
    limit_km = ctx.agreement.withdrawal_distance_m(cls) / 1000.0
    location = location_of_points(s.lon[rows], s.lat[rows], s.error_m[rows])
    distance_km = float(ctx.agreement.distance_to_line_m([location.lon], [location.lat])[0]) / 1000.0
    evidence.append(
        Evidence(
            kind="position",
            description=(
                f"{cls} (P = {objects.posterior[k, c]:.2f}) at {distance_km:.1f} km from the contact line on "
                f"{party}'s side, inside its {limit_km:g} km withdrawal zone; P(any withdrawal breach) = {p_any:.2f}"
            ),
        )
    )
    times = s.time_s[rows]
    return ctx.finding(
        clause_id=f"withdrawal.{cls}",
        anchor=anchor,
        id_scope="withdrawal",
        side=party,
        confidence=confidence,
        evidence=evidence,
        sources=obs,
        first_seen=datetime.fromtimestamp(float(times.min()), UTC),
        last_seen=datetime.fromtimestamp(float(times.max()), UTC),
        location=location,
        note=f"{len(obs)} reports grouped within {LINK_M:g} m",
    )
