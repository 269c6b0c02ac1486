"""Storage sites: every visit reconciled against the declared inventory, serial by serial.

A declared serial not found at a visit opens a finding under ``storage.<site>`` — "missing since"
the last visit that saw it — which stays open through later visits until the serial is seen
at the site again (then it is closed, with the visit that saw it as evidence). A declared serial
read by a patrol anywhere else is evidence on the same finding (or opens one). A refused visit
is a ``freedom_of_movement`` finding against the site's party. Visits to an undeclared site and
serials that no declaration lists are ``declarations`` findings: never a silent pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from truceline.agreement import StorageSite
from truceline.geo import geodesic_distance_m
from truceline.model import Evidence, Finding, StorageSiteVisit, WeaponSighting
from truceline.verify._common import Context, point_location, ref_of, ref_text

__all__ = ["storage_findings"]

DECLARATIONS = "declarations"
FREEDOM_OF_MOVEMENT = "freedom_of_movement"


@dataclass
class _Episode:
    """One stretch of time a declared serial was missing from its site."""

    site: StorageSite
    serial: str
    last_present: StorageSiteVisit | None
    missing: list[StorageSiteVisit] = field(default_factory=list)
    elsewhere: list[WeaponSighting] = field(default_factory=list)
    found_again: StorageSiteVisit | None = None
    seqs: list[int] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        first = self.missing[0] if self.missing else self.elsewhere[0]
        return f"{self.site.id}/{self.serial}/{ref_text(ref_of(first))}"


def storage_findings(
    ctx: Context,
    visits: Sequence[tuple[int, StorageSiteVisit]],
    sightings: Sequence[tuple[int, WeaponSighting]] = (),
    *,
    after_seq: int = 0,
) -> list[Finding]:
    """Findings from every visit and serial sighting; those touched by a report after ``after_seq``."""
    sites = {s.id: s for s in ctx.agreement.storage_sites}
    home = {serial: s for s in ctx.agreement.storage_sites for serial in s.serials()}
    out: list[Finding] = []
    by_site: dict[str, list[tuple[int, StorageSiteVisit]]] = defaultdict(list)
    for seq, v in visits:
        site = sites.get(v.site_id)
        if site is None:
            if seq > after_seq:
                out.append(_undeclared_site(ctx, v))
            continue
        if not v.access_granted:
            if seq > after_seq:
                out.append(_denied(ctx, site, v))
            continue
        by_site[site.id].append((seq, v))
        unknown = sorted((set(v.serials_present) | set(v.serials_missing)) - site.serials())
        if unknown and seq > after_seq:
            out.append(_undeclared_serials(ctx, site, v, unknown))
    episodes: list[_Episode] = []
    open_now: dict[tuple[str, str], _Episode] = {}
    for site_id, items in by_site.items():
        site = sites[site_id]
        items.sort(key=lambda sv: (sv[1].time, sv[0]))
        last_present: dict[str, StorageSiteVisit] = {}
        current: dict[str, _Episode] = {}
        for seq, v in items:
            present = set(v.serials_present)
            for serial in sorted(site.serials()):
                if serial in present:
                    ep = current.pop(serial, None)
                    if ep is not None:
                        ep.found_again = v
                        ep.seqs.append(seq)
                    last_present[serial] = v
                    continue
                ep = current.get(serial)
                if ep is None:
                    ep = _Episode(site, serial, last_present.get(serial))
                    current[serial] = ep
                    episodes.append(ep)
                ep.missing.append(v)
                ep.seqs.append(seq)
        for serial, ep in current.items():
            open_now[(site_id, serial)] = ep
    # A declared serial read by a patrol away from its site: the weapon left storage.
    for seq, w in sorted(sightings, key=lambda sw: (sw[1].time, sw[0])):
        for serial in w.serials:
            site = home.get(serial)
            if site is None:
                continue
            if geodesic_distance_m(site.lon, site.lat, w.location.lon, w.location.lat) <= site.radius_m:
                continue
            ep = open_now.get((site.id, serial))
            if ep is None:
                ep = _Episode(site, serial, None)
                open_now[(site.id, serial)] = ep
                episodes.append(ep)
            ep.elsewhere.append(w)
            ep.seqs.append(seq)
    for ep in episodes:
        if any(s > after_seq for s in ep.seqs):
            out.append(_missing(ctx, ep))
    return out


def _missing(ctx: Context, ep: _Episode) -> Finding:
    site = ep.site
    evidence = []
    if ep.missing:
        evidence.append(
            Evidence(
                kind="storage_visit",
                description=f"serial {ep.serial} not present at {len(ep.missing)} visit(s) to {site.id}",
                refs=tuple(ref_of(v) for v in ep.missing),
            )
        )
    if ep.last_present is not None:
        evidence.append(
            Evidence(
                kind="last_seen",
                description=f"last seen at {site.id} on {ep.last_present.time.isoformat()}",
                refs=(ref_of(ep.last_present),),
            )
        )
    if ep.elsewhere:
        evidence.append(
            Evidence(
                kind="serial_seen_elsewhere",
                description=f"serial {ep.serial} read by a patrol away from {site.id}",
                refs=tuple(ref_of(w) for w in ep.elsewhere),
            )
        )
    if ep.found_again is not None:
        evidence.append(
            Evidence(
                kind="found_again",
                description=f"serial {ep.serial} present again at {site.id}",
                refs=(ref_of(ep.found_again),),
            )
        )
    seen: list[datetime] = [v.time for v in ep.missing] + [w.time for w in ep.elsewhere]
    since = ep.last_present.time if ep.last_present is not None else min(seen)
    sources = [*ep.missing, *ep.elsewhere, *([ep.found_again] if ep.found_again else [])]
    return ctx.finding(
        clause_id=site.clause,
        anchor=ep.anchor,
        side=site.party,
        confidence=0.99 if ep.missing else 0.8,
        evidence=evidence,
        sources=sources,
        first_seen=since,
        last_seen=max(seen),
        location=point_location(site.lon, site.lat, site.radius_m),
        status="closed" if ep.found_again is not None else "provisional",
        note=f"missing since {since.isoformat()}",
    )


def _denied(ctx: Context, site: StorageSite, v: StorageSiteVisit) -> Finding:
    return ctx.finding_on(
        v,
        clause_id=FREEDOM_OF_MOVEMENT,
        side=site.party,
        confidence=0.95,
        kind="storage_visit_refused",
        description=f"inspectors refused access to storage site {site.id} ({site.name}); "
        f"its inventory of {len(site.serials())} serials went unverified",
        location=point_location(site.lon, site.lat, site.radius_m),
    )


def _undeclared_site(ctx: Context, v: StorageSiteVisit) -> Finding:
    return ctx.finding_on(
        v,
        clause_id=DECLARATIONS,
        side=None,
        confidence=0.9,
        kind="undeclared_site",
        description=f"a visit to site {v.site_id!r}, which no declaration lists "
        f"({len(v.serials_present)} serials present)",
        location=v.location,
    )


def _undeclared_serials(ctx: Context, site: StorageSite, v: StorageSiteVisit, serials: list[str]) -> Finding:
    return ctx.finding(
        clause_id=DECLARATIONS,
        anchor=f"serials/{ref_text(ref_of(v))}",
        side=site.party,
        confidence=0.9,
        evidence=[
            Evidence(
                kind="undeclared_serials",
                description=f"{len(serials)} serial(s) at {site.id} not in its declared inventory: "
                + ", ".join(serials[:20]),
                refs=(ref_of(v),),
            )
        ],
        sources=[v],
        first_seen=v.time,
        last_seen=v.time,
        location=point_location(site.lon, site.lat, site.radius_m),
    )
