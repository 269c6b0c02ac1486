"""A plain-text summary of an agreement (what ``truceline agreement show`` prints)."""

from __future__ import annotations

import shapely

from truceline.agreement.core import Agreement
from truceline.agreement.loader import WEAPON_LABELS
from truceline.geo import metric_distance_m

__all__ = ["describe"]


def _length_km(geom_metric: object) -> float:
    coords = shapely.get_coordinates(geom_metric)
    if len(coords) < 2:
        return 0.0
    parts = shapely.get_parts(geom_metric)
    total = 0.0
    for part in parts:  # a handful of parts; the segments themselves are summed vectorised
        c = shapely.get_coordinates(part)
        total += float(metric_distance_m(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1]).sum())
    return total / 1000.0


def describe(agreement: Agreement) -> str:
    """A summary of the agreement: parties, line, zones, sites, ceilings, sectors and triggers.

    >>> from truceline.agreement import default_agreement
    >>> print(describe(default_agreement()).splitlines()[0])  # doctest: +ELLIPSIS
    Truceline default agreement ... (truceline-default, version ...)
    """
    a = agreement
    roles: dict[str, list[str]] = {}
    for p in a.participants:
        for r in p.roles:
            roles.setdefault(r, []).append(p.id)
    lines = [
        f"{a.title} ({a.id}, version {a.version})",
        f"  effective {a.effective.isoformat()}; source {a.source}",
        f"  parties: {', '.join(f'{p.id} ({p.name})' for p in a.parties)}",
        f"  participants: {len(a.participants)} — "
        + "; ".join(
            f"{role} {len(ids)}: {' '.join(ids)}" for role, ids in sorted(roles.items()) if role != "party"
        ),
        f"  contact line: {_length_km(a.contact_line_metric):,.0f} km ({a.contact_line_source})",
    ]
    for b in a.borders:
        lines.append(f"  approach axis: {b.name}, {_length_km(b.geometry_metric):,.0f} km monitored")
    for party in (p.id for p in a.parties):
        area = a.controlled_area(party, metric=True).area / 1e6
        lines.append(f"  controlled by {party}: {area:,.0f} km² (planar)")
    lines.append("  withdrawal from the line (per side / zone width):")
    for rule in a.withdrawal.values():
        label = WEAPON_LABELS.get(rule.weapon_class, rule.weapon_class)
        lines.append(f"    {label}: {rule.distance_km:g} km / {rule.zone_width_km:g} km  [{rule.clause}]")
    lines.append(
        f"  disengagement areas ({a.quiet_days_required} quiet days required): "
        + (", ".join(d.name for d in a.disengagement_areas) or "none")
    )
    for z in a.restricted_zones:
        lines.append(f"  {z.kind} zone {z.id}: {z.name} [{z.clause}]")
    for s in a.storage_sites:
        counts = ", ".join(f"{n} {w}" for w, n in s.counts().items())
        lines.append(f"  storage {s.id} ({s.party}) {s.name}: {counts}")
    for p in a.parties:
        ceiling = a.troop_ceiling(p.id)
        if ceiling is not None:
            lines.append(f"  troop ceiling {p.id}: {ceiling:,}")
    rf = a.reassurance_force
    lines.append(
        f"  reassurance force: ≥ {rf.min_distance_km:g} km from the line, "
        f"based in {', '.join(rf.basing_oblasts) or 'its area'}"
    )
    n_line = sum(1 for s in a.sectors if s.kind == "contact_line")
    lines.append(
        f"  sectors: {n_line} on the contact line, {len(a.sectors) - n_line} on approach axes "
        f"(assignment within {a.sector_max_distance_km:g} km)"
    )
    for sec in a.sectors:
        lines.append(f"    {sec.id} {sec.name} ({_length_km(sec.geometry_metric):,.0f} km)")
    for t in a.triggers:
        params = ", ".join(f"{k}={v}" for k, v in t.parameters.items() if v not in ((), None, False))
        lines.append(f"  trigger {t.id} → {t.response}: {t.name} ({t.kind}: {params})")
    lines.append(f"  clauses: {len(a.clauses)}")
    return "\n".join(lines)
