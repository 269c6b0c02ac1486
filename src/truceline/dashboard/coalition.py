"""The coalition view: pledges against requirements, the reassurance force's posture, the force plan.

The document is built from the guarantee stage's own functions — :func:`~truceline.guarantee.gap_table`,
:func:`~truceline.guarantee.posture` and :func:`~truceline.guarantee.run_force_plan` — over a
coalition file (``truceline serve --coalition``; by default the shipped example), loaded against
the agreement the server serves. Pledges are not secret between guarantors in this model, so they
carry no markings and every logged-in participant gets the same ones; the route still needs a
token and leaves an audit event, like every other read. Unit positions pass the policy layer
with the markings the verify stage gives a posture breach (:func:`posture_markings`), on the
coalition page and on the main map's force layer (:func:`force_view`) alike.

Building it is cheap once the coalition is loaded (a few milliseconds for 90 pledges and 60
months of force plan), except the exclusion band's edge (a buffer of the whole contact line),
which is drawn once per process and kept.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shapely

from truceline.agreement import Agreement
from truceline.geo import buffer_line, unproject_geometry
from truceline.guarantee import (
    Coalition,
    CoalitionError,
    Situation,
    gap_table,
    posture,
    ratification_table,
    run_force_plan,
)
from truceline.model import Markings, UsageError
from truceline.policy import MarkedDocument, Policy, Principal

SIMPLIFY_M = 500.0
"""Douglas–Peucker tolerance (theatre metres) for the min-distance line: it is drawn, not measured."""


class NoCoalition(LookupError):
    """This server has no coalition to show (404); the message says why, in words for the page."""


def _finite(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 3)


def _host_party(agreement: Agreement) -> str | None:
    """The party whose area holds the basing area (the force is based on its side of the line)."""
    basing = agreement.reassurance_force.basing_area
    best, area = None, 0.0
    for party in sorted(agreement.party_ids()):
        overlap = float(shapely.area(shapely.intersection(agreement.controlled_area(party), basing)))
        if overlap > area:
            best, area = party, overlap
    return best


def exclusion_geometry(agreement: Agreement) -> dict[str, Any]:
    """The line at ``min_distance_km`` from the contact line on the host party's side, as GeoJSON."""
    rf = agreement.reassurance_force
    line = shapely.simplify(agreement.contact_line_metric, SIMPLIFY_M)
    band = buffer_line(line, rf.min_distance_km * 1000.0, quad_segs=4)
    host = _host_party(agreement)
    edge = shapely.boundary(band)
    if host is not None:
        edge = shapely.intersection(edge, agreement.controlled_area(host, metric=True))
    geometry = shapely.set_precision(unproject_geometry(shapely.simplify(edge, SIMPLIFY_M)), 1e-4)
    return {
        "type": "Feature",
        "properties": {"min_distance_km": rf.min_distance_km, "party": host},
        "geometry": shapely.geometry.mapping(geometry),
    }


def _situation(level: int, ceasefire: bool, ratified_only: bool) -> Situation:
    return Situation(ceasefire=ceasefire, warning_level=level, ratified_only=ratified_only)


def posture_markings(participant: str) -> Markings:
    """A unit position's markings: the contributing nation declared it, and every participant may read it.

    The coalition file carries no markings; these are the ones the verify stage gives a posture
    breach (:func:`truceline.verify.reassurance.reassurance_findings`), so a position and its
    finding reach the same readers. A principal that is no current participant sees none.
    """
    return Markings(tlp="green", originator=participant)


def unit_rows(coalition: Coalition) -> list[dict[str, Any]]:
    """Every unit's planned and (where reported) actual position, checked by :func:`~truceline.guarantee.posture`."""
    return [
        {
            "unit": r.unit.id,
            "name": r.unit.name,
            "participant": r.unit.participant,
            "capability": r.unit.capability,
            "basing": r.unit.basing,
            "which": r.which,
            "lon": r.position.lon,
            "lat": r.position.lat,
            "place": r.position.place,
            "reported": r.position.reported.isoformat() if r.position.reported else None,
            "distance_km": _finite(r.distance_km),
            "on_ukraine": r.on_ukraine,
            "in_basing_area": r.in_basing_area,
            "range_km": r.unit.range_km,
            "status": r.status,
            "breaches": [{"clause": f.clause_id, "reason": f.reason, "text": f.clause_text} for f in r.findings],
        }
        for r in posture(coalition)
    ]


def visible_units(policy: Policy, principal: Principal, collection: str, units: list[dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    """The unit positions ``principal`` may read (:meth:`Policy.read_many`: one audited read with their number)."""
    documents = [MarkedDocument(posture_markings(u["participant"]), u) for u in units]
    return policy.read_many(principal, collection, documents)


def _breaches(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"unit": u["unit"], "participant": u["participant"], "which": u["which"], "place": u["place"], **b}
        for u in units
        for b in u["breaches"]
    ]


def force_view(coalition: Coalition, exclusion: dict[str, Any], units: list[dict[str, Any]]) -> dict[str, Any]:
    """The reassurance force's posture for the main map: ``units`` (already through the policy) and the rules.

    Each unit's status is ``breach`` when a position breaks a clause, ``deployed`` when a position
    was reported, else ``planned`` (declared, not yet reported).
    """
    rf = coalition.agreement.reassurance_force
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for u in units:
        by_unit.setdefault(u["unit"], []).append(u)
    status: dict[str, str] = {}
    for unit, rows in by_unit.items():
        if any(r["breaches"] for r in rows):
            status[unit] = "breach"
        elif any(r["which"] == "actual" for r in rows):
            status[unit] = "deployed"
        else:
            status[unit] = "planned"
    counts = {k: sum(1 for v in status.values() if v == k) for k in ("deployed", "planned", "breach")}
    return {
        "coalition": {"id": coalition.id, "title": coalition.title, "as_of": coalition.as_of.isoformat()},
        "min_distance_km": rf.min_distance_km,
        "basing_oblasts": list(rf.basing_oblasts),
        "contributors": list(rf.contributors),
        "min_distance_line": exclusion,
        "units": [{**u, "unit_status": status[u["unit"]]} for u in units],
        "summary": {"units": len(status), **counts},
        "breaches": _breaches(units),
    }


def coalition_view(coalition: Coalition, exclusion: dict[str, Any], situation: Situation,
                   units: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the coalition page draws, for one situation (warning level, cease-fire, ratification).

    ``units`` are the unit positions the asker may read (:func:`visible_units`).
    """
    agreement = coalition.agreement
    gaps = gap_table(coalition, situation)
    names = {p.id: p.name for p in agreement.participants}
    pledges = [
        {
            "id": p.id,
            "participant": p.participant,
            "capability": p.capability,
            "name": coalition.catalogue[p.capability].name,
            "unit": coalition.catalogue[p.capability].unit,
            "quantity": p.quantity,
            "based": p.based,
            "base": p.base,
            "after_ceasefire": p.after_ceasefire,
            "warning_level": p.warning_level,
            "after_ratification": p.after_ratification,
            "deliveries": [{"month": d.month, "quantity": d.quantity} for d in p.deliveries],
            "status": p.status,
            "counted": coalition.counts(p, situation),
            "as_of": p.as_of.isoformat(),
            "versions": len(coalition.versions[p.id]),
        }
        for p in coalition.pledges(include_withdrawn=True)
    ]
    rf = agreement.reassurance_force
    return {
        "coalition": {
            "id": coalition.id,
            "title": coalition.title,
            "as_of": coalition.as_of.isoformat(),
            "source": Path(coalition.source).name,  # not the server's own path
            "note": coalition.note,
            "agreement": {"id": agreement.id, "version": agreement.version, "title": agreement.title},
            "participants": [{"id": p, "name": names.get(p, p)} for p in coalition.participants()],
        },
        "situation": {
            "warning_level": situation.warning_level,
            "ceasefire": situation.ceasefire,
            "ratified_only": situation.ratified_only,
            "description": situation.describe(),
        },
        "gaps": [
            {
                "capability": g.capability,
                "name": g.name,
                "category": g.category,
                "unit": g.unit,
                "required": g.required,
                "pledged": g.pledged,
                "conditional": g.conditional,
                "gap": g.gap,
                "covered": g.covered,
                "status": g.status,
                "pledgers": [{"participant": p, "quantity": q} for p, q in g.pledgers],
            }
            for g in gaps
        ],
        "pledges": pledges,
        "ratification": [
            {
                "participant": r.participant,
                "name": r.name,
                "procedure": r.procedure,
                "done": r.done,
                "total": r.total,
                "current": r.current,
                "since": r.since.isoformat() if r.since else None,
                "next_step": r.next_step,
                "in_force": r.in_force,
            }
            for r in ratification_table(coalition)
        ],
        "reassurance_force": {
            "min_distance_km": rf.min_distance_km,
            "basing_oblasts": list(rf.basing_oblasts),
            "contributors": list(rf.contributors),
            "min_distance_line": exclusion,
        },
        "units": units,
        "breaches": _breaches(units),
        "force_plan": _force_plan(coalition, situation),
    }


def _force_plan(coalition: Coalition, situation: Situation) -> dict[str, Any] | None:
    if coalition.force_plan is None:
        return None
    result = run_force_plan(coalition, situation=situation)
    plan, p = result.plan, result.projection

    def series(values: Any) -> list[float]:
        return [round(float(v), 1) for v in values]

    return {
        "months": list(p.months),
        "target_by": result.shortfalls[0].by if result.shortfalls else None,
        "personnel": {
            "strength": series(p.strength),
            "active": series(p.active),
            "target": plan.personnel.target,
            "ceiling": plan.personnel.ceiling,
        },
        "equipment": [
            {
                "id": cat,
                "name": plan.equipment[cat].name,
                "stock": series(p.stock[c]),
                "target": plan.equipment[cat].target,
            }
            for c, cat in enumerate(p.categories)
        ],
        "shortfalls": [
            {
                "item": s.item,
                "name": s.name,
                "target": s.target,
                "by": s.by,
                "projected": round(s.projected, 1),
                "shortfall": round(s.shortfall, 1),
                "met_from": s.met_from,
                "closable": s.closable,
                "contributors": [
                    {"pledge": c.pledge, "participant": c.participant, "amount": round(c.amount, 1)}
                    for c in s.contributors
                ],
                "closers": [
                    {"pledge": c.pledge, "participant": c.participant, "amount": round(c.amount, 1), "note": c.note}
                    for c in s.closers
                ],
            }
            for s in result.shortfalls
        ],
        "above_ceiling": list(result.above_ceiling),
    }


class CoalitionCache:
    """The coalition (loaded on first use) and its min-distance line; views are built per request.

    ``load`` gives the coalition, or raises :class:`~truceline.guarantee.CoalitionError` (a file
    that does not fit the served agreement): the page then says so, as a 404, and nothing else
    of the server is affected.
    """

    def __init__(self, load: Callable[[], Coalition]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._loaded: tuple[Coalition, dict[str, Any]] | None = None
        self._problem: str | None = None
        self._units: list[dict[str, Any]] | None = None
        self._warming = False

    def get(self) -> tuple[Coalition, dict[str, Any]]:
        with self._lock:
            if self._loaded is None and self._problem is None:
                try:
                    coalition = self._load()
                    self._loaded = (coalition, exclusion_geometry(coalition.agreement))
                except (CoalitionError, UsageError, OSError) as exc:
                    self._problem = str(exc)
            if self._loaded is None:
                raise NoCoalition(f"this server has no coalition to show: {self._problem}")
            return self._loaded

    def warm(self) -> None:
        """Load the coalition and check its positions in the background (once), so the map's first ask is quick."""
        with self._lock:
            if self._warming:
                return
            self._warming = True

        def load() -> None:
            with contextlib.suppress(NoCoalition):  # the routes say why, when asked
                self.units()

        threading.Thread(target=load, name="dashboard-coalition", daemon=True).start()

    def units(self) -> list[dict[str, Any]]:
        """Every unit position, checked once (positions change only with the coalition file)."""
        coalition, _ = self.get()
        with self._lock:
            if self._units is None:
                self._units = unit_rows(coalition)
            return self._units

    def view(self, level: int, ceasefire: bool, ratified_only: bool, units: list[dict[str, Any]]) -> dict[str, Any]:
        coalition, exclusion = self.get()
        return coalition_view(coalition, exclusion, _situation(level, ceasefire, ratified_only), units)

    def force(self, units: list[dict[str, Any]]) -> dict[str, Any]:
        coalition, exclusion = self.get()
        return force_view(coalition, exclusion, units)
