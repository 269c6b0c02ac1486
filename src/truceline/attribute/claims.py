"""Claims against evidence: did the sensors see what a party says happened, and is it staged?

A claim says: side X shelled place Y at time T (with weapon W, with media). We resolve the place,
look at the located fire incidents around it and at the coverage, check the media, and weigh two
hypotheses — *genuine* against *staged* (which the simulator, like the history it follows, knows
in two forms: nothing was fired at all, or the claimant's own side fired) — with a small model:

    A = some incident could be the accused's shot (P(accused) ≥ ½, in time, in reach of the place)
    C = some incident is the claimant's own fire landing on or next to the place

    P(A | genuine) = 1 − (1 − d_A)(1 − b_A)     P(A | staged) = b_A
    P(C | own-side staging) = 1 − (1 − d_C)(1 − b_C)     P(C | otherwise) = b_C

``d`` is the coverage (:mod:`truceline.attribute.coverage`: would the shot have become an incident)
and ``b`` the chance of such an incident by coincidence, measured from the same kind of incidents in
the twelve hours either side. So a match in a busy sector says little, a match in a quiet one much,
and silence says much only where the sensors could hear. The physical log-likelihood ratio joins the
media's (:mod:`truceline.attribute.media`) and a prior; the result is the staging suspicion, and a
verdict — corroborated, not corroborated despite coverage, contradicted, unverifiable — with every
reason it rests on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.attribute._records import AGENT, derived_markings, ref_of
from truceline.attribute.coverage import HEARING_MARGIN_M, ActivityNear, Coverage, CoverageModel, SensorActivity
from truceline.attribute.media import MediaCorpus, MediaFinding, check_media, combined_weight, read_media
from truceline.geo import Gazetteer, to_metric
from truceline.model import (
    Claim,
    CreationInfo,
    ErrorEllipse,
    Evidence,
    Finding,
    Incident,
    Location,
    Markings,
    MediaRef,
    ObservationRef,
)

FloatArray = NDArray[np.float64]

__all__ = ["STAGING_CLAUSE", "ClaimCheck", "ClaimChecker", "IncidentIndex", "Verdict", "staging_finding_id"]

Verdict = Literal["corroborated", "not_corroborated", "contradicted", "unverifiable"]
STAGING_CLAUSE = "no_staging"


def staging_finding_id(claim: Claim) -> str:
    """The id of the ``no_staging`` finding that judges ``claim`` (one per claim, for ever)."""
    return f"staging:{claim.participant}:{claim.source}:{claim.key}"


REACH_M: dict[str, float] = {
    "small_arms": 1_500.0,
    "anti_tank_gun": 4_000.0,
    "armoured_vehicle": 4_000.0,
    "tank": 5_000.0,
    "mortar": 8_000.0,
    "artillery_lt100": 15_000.0,
    "artillery_ge100": 30_000.0,
    "mlrs": 40_000.0,
    "air_defence": 40_000.0,
    "heavy_mlrs_missile": 120_000.0,
}
"""Greatest range (m) of each weapon class: how far from a place its shot can have come."""
DEFAULT_REACH_M = 30_000.0


IndexRow = tuple[float, float, float, float, float, float, tuple[float, ...]]
"""An incident's entry in the index: time (s), origin and best impact (lon, lat; NaN if none),
reach (m) and P per party."""


def index_row(inc: Incident, parties: Sequence[str]) -> IndexRow | None:
    """The index's entry for ``inc``: ``None`` unless it is fire carrying its preferred attribution."""
    if inc.kind != "fire":
        return None
    att = next((a for a in inc.attributions if a.id == inc.preferred_attribution_id), None)
    if att is None:
        return None
    origin = inc.preferred_origin
    impact = min(inc.impacts, key=lambda loc: loc.error.semi_major_m) if inc.impacts else None
    when = origin.time if origin is not None else inc.start
    nan = float("nan")
    return (
        when.timestamp(),
        origin.location.lon if origin else nan,
        origin.location.lat if origin else nan,
        impact.lon if impact else nan,
        impact.lat if impact else nan,
        REACH_M.get(inc.weapon_class or "", DEFAULT_REACH_M),
        tuple(float(att.probabilities.get(p, 0.0)) for p in parties),
    )


class _Fetched(Sequence[Incident]):
    """Incidents by position, fetched when asked (a claim's few matches), not held in memory."""

    def __init__(self, order: list[int], fetch: Callable[[int], Incident]) -> None:
        self._order, self._fetch = order, fetch

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [self._fetch(k) for k in self._order[i]]
        return self._fetch(self._order[i])


@dataclass
class IncidentIndex:
    """Located fire incidents as arrays: time (s), origin and best impact in theatre metres, P per party."""

    parties: tuple[str, ...]
    ids: list[str]
    incidents: Sequence[Incident]
    t: FloatArray
    ox: FloatArray
    oy: FloatArray
    ix: FloatArray
    iy: FloatArray
    reach: FloatArray
    p: FloatArray  # (n, parties)

    @classmethod
    def build(cls, parties: Sequence[str], incidents: Sequence[Incident]) -> IncidentIndex:
        keep: list[Incident] = []
        rows: list[tuple[str, IndexRow]] = []
        for inc in incidents:
            row = index_row(inc, parties)
            if row is not None:
                rows.append((inc.id, row))
                keep.append(inc)
        return cls.from_rows(parties, rows, keep.__getitem__)

    @classmethod
    def from_rows(
        cls, parties: Sequence[str], rows: Sequence[tuple[str, IndexRow]], fetch: Callable[[int], Incident]
    ) -> IncidentIndex:
        """The index of ``(id, row)`` entries (:func:`index_row`); ``fetch(k)`` gives the incident of
        ``rows[k]`` when a claim's check names it (a following process keeps the rows, not the
        incidents, and reads those few from the store)."""
        if rows:
            t, olon, olat, ilon, ilat, reach = (
                np.array([r[i] for _, r in rows], dtype=np.float64) for i in range(6)
            )
            ox, oy = to_metric(olon, olat)
            ix, iy = to_metric(ilon, ilat)
            p = np.array([r[6] for _, r in rows], dtype=np.float64).reshape(len(rows), len(parties))
        else:
            t = ox = oy = ix = iy = reach = np.zeros(0)
            p = np.zeros((0, len(parties)))
        order = np.argsort(t, kind="stable")
        return cls(
            tuple(parties),
            [rows[i][0] for i in order],
            _Fetched([int(i) for i in order], fetch),
            t[order],
            np.asarray(ox, np.float64)[order],
            np.asarray(oy, np.float64)[order],
            np.asarray(ix, np.float64)[order],
            np.asarray(iy, np.float64)[order],
            reach[order],
            p[order],
        )

    def between(self, t0: float, t1: float) -> NDArray[np.intp]:
        lo, hi = np.searchsorted(self.t, [t0, t1])
        return np.arange(lo, hi)


@dataclass
class ClaimCheck:
    """The outcome of checking one claim."""

    claim: Claim
    ref: ObservationRef
    verdict: Verdict
    suspicion: float
    place: Location | None
    place_text: str
    evidence: list[Evidence] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    media: list[MediaFinding] = field(default_factory=list)


@dataclass
class ClaimChecker:
    """Checks claims against stored incidents, coverage and media (the constructor only stores parameters)."""

    agreement: Agreement
    prior_staged: float = 0.1
    before: timedelta = timedelta(minutes=15)
    after: timedelta = timedelta(minutes=25)
    background: timedelta = timedelta(hours=12)
    impact_radius_m: float = 15_000.0  # a place is the settlement nearest the impact, often kilometres off
    own_impact_radius_m: float = 3_000.0
    own_origin_radius_m: float = 8_000.0
    max_physical_llr: float = 5.0
    context_radius_m: float = 60_000.0
    max_namesakes: int = 4
    namesake_distance_m: float = 30_000.0  # a namesake farther from the line (×4 across it) is not considered
    coverage: CoverageModel = field(default_factory=CoverageModel)

    # -- the place ------------------------------------------------------------------------
    def resolve_places(self, claim: Claim) -> tuple[list[tuple[Location, str]], list[Evidence]]:
        """The plausible places a claim names, best first (each with how it was found), and the evidence.

        A given position is the one place. A name may match several settlements: we keep those a
        shelling could plausibly concern — near the line, counting one across the line as four
        times as far (the nearest settlement to an impact can lie just across it) — up to
        ``max_namesakes``, and :meth:`check` gives the claimant the benefit of the doubt among them.
        """
        ref = ref_of(claim)
        if claim.location is not None:
            text = f"the claim gives a position ({claim.location.lat:.4f}, {claim.location.lon:.4f})"
            return [(claim.location, text)], [Evidence(kind="place", description=text, refs=(ref,))]
        assert claim.place_name is not None
        candidates = Gazetteer.default().resolve(claim.place_name)
        if not candidates:
            text = f"the place {claim.place_name!r} is not in the gazetteer: the claim cannot be placed"
            return [], [Evidence(kind="place_unresolved", description=text, refs=(ref,))]
        lon = np.array([c.lon for c in candidates])
        lat = np.array([c.lat for c in candidates])
        side = self.agreement.side_of(lon, lat)
        score = np.where(side == claim.claimant, 1.0, 4.0) * self.agreement.distance_to_line_m(lon, lat)
        order = np.argsort(score, kind="stable")
        keep = [int(i) for i in order[: self.max_namesakes] if score[i] <= self.namesake_distance_m] or [int(order[0])]
        places = []
        for i in keep:
            c = candidates[i]
            loc = Location(lat=c.lat, lon=c.lon, error=ErrorEllipse(semi_major_m=3_000.0, semi_minor_m=3_000.0))
            places.append((loc, f"{c.name}, {c.oblast} ({c.lat:.4f}, {c.lon:.4f})"))
        if len(candidates) == 1:
            text = f"{claim.place_name!r} resolved by the gazetteer to {places[0][1]}"
        else:
            text = (
                f"{claim.place_name!r} names {len(candidates)} places in the gazetteer; "
                f"{len(places)} near enough the line to have been shelled: {'; '.join(p for _, p in places)}"
            )
        return places, [Evidence(kind="place", description=text, refs=(ref,))]

    # -- the physical evidence ----------------------------------------------------------------
    def _accused_mask(
        self, idx: IncidentIndex, sel: NDArray[np.intp], px: float, py: float, party: int
    ) -> NDArray[np.bool_]:
        by_impact = np.hypot(idx.ix[sel] - px, idx.iy[sel] - py) <= self.impact_radius_m
        by_origin = np.hypot(idx.ox[sel] - px, idx.oy[sel] - py) <= idx.reach[sel] + self.impact_radius_m
        reach = np.where(np.isfinite(idx.ix[sel]), by_impact, by_origin)
        return np.asarray((idx.p[sel, party] >= 0.5) & reach, dtype=bool)

    def _own_mask(
        self, idx: IncidentIndex, sel: NDArray[np.intp], px: float, py: float, party: int
    ) -> NDArray[np.bool_]:
        by_impact = np.hypot(idx.ix[sel] - px, idx.iy[sel] - py) <= self.own_impact_radius_m
        by_origin = np.hypot(idx.ox[sel] - px, idx.oy[sel] - py) <= self.own_origin_radius_m
        near = np.where(np.isfinite(idx.ix[sel]), by_impact, by_origin)
        return np.asarray((idx.p[sel, party] >= 0.5) & near, dtype=bool)

    def _rate(self, hits_bg: int, window_s: float, bg_s: float) -> float:
        # Chance of at least one such incident by coincidence in the match window; a floor and a
        # ceiling keep a single busy or silent day from making the evidence absolute.
        lam = (hits_bg + 0.5) * window_s / bg_s
        return float(np.clip(1.0 - math.exp(-lam), 0.01, 0.99))

    def physical(
        self, activity: SensorActivity | ActivityNear, claim: Claim, place: Location, idx: IncidentIndex
    ) -> tuple[float, list[Evidence], list[Incident], bool, bool, float]:
        """(LLR toward staged, evidence, matched incidents, A, C, max coverage) for a placed claim.

        ``activity`` is the arrays' activity, or a function giving it for the arrays near a
        point (read from the store once the place is known, so only arrays that could matter)."""
        parties = idx.parties
        if claim.accused not in parties or claim.claimant not in parties:
            text = f"{claim.claimant} or {claim.accused} is not a party: physical evidence not weighed"
            return 0.0, [Evidence(kind="physical", description=text)], [], False, False, 0.0
        acc, own = parties.index(claim.accused), parties.index(claim.claimant)
        px, py = (float(v) for v in to_metric(place.lon, place.lat))
        t = claim.claimed_time.timestamp()
        w0, w1 = t - self.before.total_seconds(), t + self.after.total_seconds()
        window_s = w1 - w0
        bg = self.background.total_seconds()
        near = idx.between(t - bg, t + bg)
        around = np.hypot(idx.ox[near] - px, idx.oy[near] - py) <= self.context_radius_m
        around |= np.hypot(idx.ix[near] - px, idx.iy[near] - py) <= self.context_radius_m
        if not around.any():
            # No incident at all near here for a day: fuse has not covered this period (or the
            # sector is silent). Either way absence of a match would say nothing: do not weigh it.
            text = (
                f"no located fire incident of either side within {self.context_radius_m / 1000:.0f} km in the "
                f"{bg / 3600:.0f} h either side of the claimed time: physical evidence not weighed"
            )
            return (
                0.0,
                [Evidence(kind="physical_unavailable", description=text, refs=(ref_of(claim),))],
                [],
                False,
                False,
                0.0,
            )
        in_window = (idx.t[near] >= w0) & (idx.t[near] < w1)
        acc_mask = self._accused_mask(idx, near, px, py, acc)
        own_mask = self._own_mask(idx, near, px, py, own)
        a_hits = near[in_window & acc_mask]
        c_hits = near[in_window & own_mask]
        bg_len = 2 * bg - window_s
        b_a = self._rate(int((~in_window & acc_mask).sum()), window_s, bg_len)
        b_c = self._rate(int((~in_window & own_mask).sum()), window_s, bg_len)
        # Where the accused's shot would have been fired from: across the line from the place, at
        # depths up to the weapon's reach (heavy rockets fire from far back, where arrays hear little).
        weapon = claim.weapon_class
        if not isinstance(activity, SensorActivity):
            # Every position the coverage looks at lies within this of the place (the accused's
            # up to 0.7 × reach beyond the line's foot, the claimant's up to 8 km behind it).
            foot = self._line_foot(px, py)
            spread = math.hypot(px - foot[0], py - foot[1]) + 0.7 * REACH_M.get(weapon or "", DEFAULT_REACH_M)
            activity = activity(px, py, max(spread, 8_000.0) + HEARING_MARGIN_M)
        cov_a = self._accused_coverage(activity, px, py, claim.claimed_time, weapon)
        cov_c = self._own_coverage(activity, px, py, claim.claimed_time)
        d_a, d_c = cov_a.p_detect, cov_c.p_detect
        a, c = bool(a_hits.size), bool(c_hits.size)
        pa_g = 1 - (1 - d_a) * (1 - b_a)
        pc_os = 1 - (1 - d_c) * (1 - b_c)

        def lik(p: float, seen: bool) -> float:
            return p if seen else 1.0 - p

        genuine = lik(pa_g, a) * lik(b_c, c)
        staged = 0.5 * lik(b_a, a) * lik(b_c, c) + 0.5 * lik(b_a, a) * lik(pc_os, c)
        llr = float(np.clip(math.log(staged / genuine), -self.max_physical_llr, self.max_physical_llr))
        refs = (ref_of(claim),)
        ev: list[Evidence] = [
            Evidence(
                kind="coverage",
                description=f"{cov_a.description}; {cov_c.description}",
                refs=refs,
            )
        ]
        when = f"{claim.claimed_time:%Y-%m-%d %H:%M} UTC (−{self.before.seconds // 60}/+{self.after.seconds // 60} min)"
        if a:
            ids = ", ".join(idx.ids[i] for i in a_hits[:5])
            text = (
                f"{a_hits.size} located incident(s) of fire attributed to {claim.accused} could have hit the "
                f"place at {when}: {ids}; such fire there by coincidence: {b_a:.2f}"
            )
        else:
            text = (
                f"no located fire attributed to {claim.accused} could have hit the place at {when}, "
                f"where a shot would have been located with probability {d_a:.2f}"
            )
        ev.append(
            Evidence(
                kind="accused_fire",
                description=text,
                weight=round(-math.log(lik(pa_g, a) / lik(b_a, a)), 4),
                refs=tuple(r for i in a_hits[:5] for r in idx.incidents[i].observations[:3]) or refs,
            )
        )
        if c:
            ids = ", ".join(idx.ids[i] for i in c_hits[:5])
            text = (
                f"{c_hits.size} located incident(s) of fire from {claim.claimant}'s own side landed on or "
                f"next to the place at {when}: {ids}; such fire there by coincidence: {b_c:.2f}"
            )
            ev.append(
                Evidence(
                    kind="own_side_fire",
                    description=text,
                    weight=round(math.log(pc_os / b_c), 4),
                    refs=tuple(r for i in c_hits[:5] for r in idx.incidents[i].observations[:3]),
                )
            )
        else:
            text = (
                f"no located fire from {claim.claimant}'s own side landed on or next to the place at {when}, "
                f"where such a shot would have been located with probability {d_c:.2f}"
            )
            # Its weight toward an own-side staging alone (the verdict's total mixes both forms).
            ev.append(
                Evidence(
                    kind="no_own_side_fire", description=text, weight=round(math.log(1 - d_c + 1e-12), 4), refs=refs
                )
            )
        matched = [idx.incidents[i] for i in (*a_hits[:5], *c_hits[:5])]
        return llr, ev, matched, a, c, max(d_a, d_c)

    def _coverage_along(
        self,
        activity: SensorActivity,
        start: tuple[float, float],
        toward: tuple[float, float],
        depths: Sequence[float],
        when: datetime,
        weapon: str | None,
        label: str,
    ) -> Coverage:
        """Mean coverage over positions ``depths`` metres from ``start`` in the direction of ``toward``."""
        ux, uy = toward[0] - start[0], toward[1] - start[1]
        norm = math.hypot(ux, uy) or 1.0
        covs = [
            self.coverage.at(activity, *_lonlat(start[0] + d * ux / norm, start[1] + d * uy / norm), when, weapon)
            for d in depths
        ]
        p = float(np.mean([c.p_detect for c in covs]))
        return Coverage(
            p,
            max(c.working_sensors for c in covs),
            f"{label} {depths[0] / 1000:.0f}–{depths[-1] / 1000:.0f} km: P(a shot becomes an incident) = {p:.2f} "
            f"(nearest: {covs[0].description})",
        )

    def _line_foot(self, px: float, py: float) -> tuple[float, float]:
        import shapely

        foot = shapely.get_coordinates(shapely.shortest_line(shapely.Point(px, py), self.agreement.contact_line_metric))
        return float(foot[1][0]), float(foot[1][1])

    def _accused_coverage(
        self, activity: SensorActivity, px: float, py: float, when: datetime, weapon: str | None
    ) -> Coverage:
        # Firing depths spread over the weapon's reach beyond the line; the mean is the chance a
        # shot from a plausible position would have been located.
        foot = self._line_foot(px, py)
        reach = REACH_M.get(weapon or "", DEFAULT_REACH_M)
        beyond = (2 * foot[0] - px, 2 * foot[1] - py)
        depths = [reach * f for f in (0.1, 0.3, 0.5, 0.7)]
        return self._coverage_along(
            activity, foot, beyond, depths, when, weapon, "at firing positions beyond the line,"
        )

    def _own_coverage(self, activity: SensorActivity, px: float, py: float, when: datetime) -> Coverage:
        # A staged shelling is fired from the claimant's own side, behind the place: from the
        # place itself to 8 km deeper, with the quietest weapon (a mortar).
        foot = self._line_foot(px, py)
        away = (2 * px - foot[0], 2 * py - foot[1])
        return self._coverage_along(
            activity,
            (px, py),
            away,
            [0.0, 4_000.0, 8_000.0],
            when,
            "mortar",
            "for a mortar at and behind the place, 0–8 km deep",
        )

    # -- all together ---------------------------------------------------------------------------
    def check(
        self,
        activity: SensorActivity | ActivityNear,
        claim: Claim,
        idx: IncidentIndex,
        *,
        corpus: MediaCorpus,
        media_root: Path | None,
    ) -> ClaimCheck:
        """Check one claim; with several plausible namesakes, the one most favourable to the claim counts."""
        places, place_evidence = self.resolve_places(claim)
        files = [(m, read_media(m.uri, media_root)) for m in claim.media]
        if not places:
            media = self._media(claim, files, None, corpus, learn=True)
            return self._judge(claim, None, "", place_evidence, media, None)
        outcomes = []
        for n, (loc, text) in enumerate(places):
            # The corpus learns the claim's files once, with the last candidate.
            media = self._media(claim, files, loc, corpus, learn=n == len(places) - 1)
            outcomes.append(
                self._judge(claim, loc, text, list(place_evidence), media, self.physical(activity, claim, loc, idx))
            )
        best = min(outcomes, key=lambda o: o.suspicion)
        if len(outcomes) > 1:
            best.evidence.insert(
                2,
                Evidence(
                    kind="place_chosen",
                    description=f"judged at {best.place_text}, the namesake most favourable to the claim "
                    f"(suspicion there {best.suspicion:.2f}; at the others "
                    f"{', '.join(f'{o.suspicion:.2f}' for o in outcomes if o is not best)})",
                    refs=(ref_of(claim),),
                ),
            )
        return best

    def _media(
        self,
        claim: Claim,
        files: Sequence[tuple[MediaRef, bytes | None]],
        place: Location | None,
        corpus: MediaCorpus,
        *,
        learn: bool,
    ) -> list[MediaFinding]:
        found: list[MediaFinding] = []
        for m, data in files:
            found += check_media(
                m.uri,
                data,
                claimed_time=claim.claimed_time,
                place=None if place is None else (place.lon, place.lat),
                claim_key=claim_label(claim),
                corpus=corpus,
                sha256=m.sha256,
                media_type=m.media_type,
                learn=learn,
            )
        return found

    def _judge(
        self,
        claim: Claim,
        place: Location | None,
        place_text: str,
        evidence: list[Evidence],
        media: list[MediaFinding],
        physical: tuple[float, list[Evidence], list[Incident], bool, bool, float] | None,
    ) -> ClaimCheck:
        ref = ref_of(claim)
        if not claim.media:
            evidence.append(Evidence(kind="media", description="no media attached", refs=(ref,)))
        for f in media:
            evidence.append(Evidence(kind=f.kind, description=f.description, weight=f.weight, refs=(ref,)))
        media_llr = combined_weight(media)
        matched: list[Incident] = []
        a = c = False
        covered = 0.0
        physical_llr = 0.0
        if physical is not None:
            physical_llr, ev, matched, a, c, covered = physical
            evidence += ev
        logit = math.log(self.prior_staged / (1 - self.prior_staged)) + physical_llr + media_llr
        suspicion = 1.0 / (1.0 + math.exp(-logit))
        predates = any(f.kind == "media_predates" for f in media)
        verdict: Verdict
        if place is None:
            verdict = "unverifiable"
        elif (c and (not a or suspicion >= 0.5)) or (predates and suspicion >= 0.5):
            verdict = "contradicted"
        elif a:
            verdict = "corroborated"
        elif covered >= 0.5:
            verdict = "not_corroborated"
        else:
            verdict = "unverifiable"
        summary = (
            f"{claim.claimant} claims {claim.accused} ({claim.claim_kind}) at "
            f"{claim.place_name or place_text} at {claim.claimed_time:%Y-%m-%d %H:%M} UTC: {verdict.replace('_', ' ')}"
            f"{' despite coverage' if verdict == 'not_corroborated' else ''}; staging suspicion {suspicion:.2f} "
            f"(prior {self.prior_staged:.2f}, physical evidence {physical_llr:+.2f}, "
            f"media {media_llr:+.2f} in log-odds)"
        )
        evidence.insert(0, Evidence(kind="verdict", description=summary, weight=round(logit, 4), refs=(ref,)))
        return ClaimCheck(claim, ref, verdict, suspicion, place, place_text, evidence, matched, media)

    def finding(self, check: ClaimCheck, created: datetime) -> Finding:
        claim = check.claim
        sources: list[Markings] = [claim.markings, *(i.markings for i in check.incidents)]
        try:
            clause_text = self.agreement.clause(STAGING_CLAUSE).text
        except KeyError:
            clause_text = "No party stages an attack in order to blame the other side."
        sector = None
        if check.place is not None:
            s = str(self.agreement.sector_of([check.place.lon], [check.place.lat])[0])
            sector = s or None
        return Finding(
            id=staging_finding_id(claim),
            clause_id=STAGING_CLAUSE,
            clause_text=clause_text,
            side=claim.claimant,
            confidence=round(check.suspicion, 6),
            evidence=tuple(check.evidence),
            incidents=tuple(dict.fromkeys(i.id for i in check.incidents)),
            location=check.place,
            sector=sector,
            first_seen=claim.claimed_time,
            last_seen=claim.claimed_time,
            status="provisional",
            markings=derived_markings(sources),
            creation_info=CreationInfo(agent=AGENT, created=created, note=f"verdict: {check.verdict}"),
        )


def claim_label(claim: Claim) -> str:
    """A claim's identity as one string (participant/source/key), as media findings name it."""
    return f"{claim.participant}/{claim.source}/{claim.key}"


def _lonlat(x: float, y: float) -> tuple[float, float]:
    from truceline.geo import to_lonlat

    lon, lat = to_lonlat(x, y)
    return float(lon), float(lat)
