"""Cease-fire violations: every incident of fire is a finding under ``ceasefire``.

The side is the preferred attribution's most probable party and the confidence its probability
(none yet: no side, and the confidence that fire happened at all, taken from the number of
independent reports). Fire whose origin and impact lie on different sides is marked as
across-the-line fire.
"""

from __future__ import annotations

from collections.abc import Sequence

from truceline.agreement import Agreement
from truceline.model import Evidence, Finding, Incident
from truceline.verify._common import Context

__all__ = ["CEASEFIRE", "across_the_line", "ceasefire_findings"]

CEASEFIRE = "ceasefire"


def across_the_line(agreement: Agreement, incident: Incident) -> bool | None:
    """Whether the incident's origin and an impact lie on different sides (None: cannot tell)."""
    origin = incident.preferred_origin
    if origin is None or not incident.impacts:
        return None
    lon = [origin.location.lon, *(i.lon for i in incident.impacts)]
    lat = [origin.location.lat, *(i.lat for i in incident.impacts)]
    sides = agreement.side_of(lon, lat).tolist()
    if not sides[0] or not any(sides[1:]):
        return None
    return any(s and s != sides[0] for s in sides[1:])


def ceasefire_findings(ctx: Context, incidents: Sequence[Incident]) -> list[Finding]:
    out = []
    for inc in incidents:
        if inc.kind != "fire":
            continue
        att = next((a for a in inc.attributions if a.id == inc.preferred_attribution_id), None)
        att = att or (inc.attributions[-1] if inc.attributions else None)
        side: str | None = None
        if att is not None and att.probabilities:
            side, confidence = max(att.probabilities.items(), key=lambda kv: kv[1])
        else:
            confidence = 1.0 - 0.5 ** max(len(inc.observations), 1)
        across = across_the_line(ctx.agreement, inc)
        label = {True: "across the contact line", False: "on one side of the line", None: "side of impact unknown"}
        origin = inc.preferred_origin
        evidence = [
            Evidence(
                kind="incident",
                description=f"{inc.weapon_class or 'unknown weapon'} fire {label[across]} "
                f"({len(inc.observations)} reports)",
                refs=inc.observations[:500],
            )
        ]
        if att is not None:
            evidence.append(
                Evidence(
                    kind="attribution",
                    description=", ".join(f"P({p}) = {v:.2f}" for p, v in sorted(att.probabilities.items())),
                )
            )
        out.append(
            ctx.finding(
                clause_id=CEASEFIRE,
                anchor=inc.id,
                side=side,
                confidence=confidence,
                evidence=evidence,
                sources=[],
                markings=inc.markings,
                first_seen=inc.start,
                last_seen=inc.end,
                location=None if origin is None else origin.location,
                incidents=(inc.id,),
                sector=inc.sector,
                note="across-the-line fire" if across else "",
            )
        )
    return out
