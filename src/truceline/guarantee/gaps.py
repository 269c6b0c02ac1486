"""Requirements against pledges: the gap table, and where each guarantor stands in ratification.

A requirement names a capability and the quantity the plan needs from a warning level on; the
pledges that count in a :class:`~truceline.guarantee.coalition.Situation` are summed per
capability. Pledges that exist but do not count yet (a higher warning level, awaiting the
cease-fire or ratification) are shown beside them as *conditional*, so a planner sees both what
is there now and what would come.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from truceline.guarantee.catalogue import CATEGORIES
from truceline.guarantee.coalition import Coalition, Requirement, Situation

__all__ = ["GapRow", "RatificationRow", "gap_table", "ratification_table"]


@dataclass(frozen=True, slots=True)
class GapRow:
    """One capability: required, pledged (counted now), conditional (pledged, not counted), gap."""

    capability: str
    name: str
    category: str
    unit: str
    required: float
    pledged: float
    conditional: float
    pledgers: tuple[tuple[str, float], ...]

    @property
    def gap(self) -> float:
        return max(self.required - self.pledged, 0.0)

    @property
    def covered(self) -> float | None:
        """Pledged as a fraction of the requirement (capped at 1), or None without a requirement."""
        return None if self.required <= 0 else min(self.pledged / self.required, 1.0)

    @property
    def status(self) -> str:
        if self.required <= 0:
            return "not required"
        if self.gap <= 1e-9:
            return "met"
        return (
            "short, conditional pledges would close it" if self.pledged + self.conditional >= self.required else "short"
        )


def gap_table(
    coalition: Coalition,
    situation: Situation | None = None,
    requirements: tuple[Requirement, ...] | None = None,
) -> list[GapRow]:
    """One row per capability that is required or pledged, in menu order (category, then menu)."""
    situation = situation or Situation()
    if requirements is not None:
        coalition = replace(coalition, requirements=requirements)
    pledged: dict[str, float] = {}
    conditional: dict[str, float] = {}
    pledgers: dict[str, dict[str, float]] = {}
    for p in coalition.pledges():
        if coalition.counts(p, situation):
            pledged[p.capability] = pledged.get(p.capability, 0.0) + p.quantity
            who = pledgers.setdefault(p.capability, {})
            who[p.participant] = who.get(p.participant, 0.0) + p.quantity
        else:
            conditional[p.capability] = conditional.get(p.capability, 0.0) + p.quantity
    wanted = {r.capability for r in coalition.requirements}
    rows = []
    menu_order = {c.id: i for i, c in enumerate(coalition.catalogue)}
    for cap_id in sorted(wanted | set(pledged) | set(conditional), key=lambda c: menu_order[c]):
        cap = coalition.catalogue[cap_id]
        rows.append(
            GapRow(
                capability=cap_id,
                name=cap.name,
                category=cap.category,
                unit=cap.unit,
                required=coalition.requirement_at(cap_id, situation.warning_level),
                pledged=pledged.get(cap_id, 0.0),
                conditional=conditional.get(cap_id, 0.0),
                pledgers=tuple(sorted(pledgers.get(cap_id, {}).items(), key=lambda kv: -kv[1])),
            )
        )
    rows.sort(key=lambda r: (CATEGORIES.index(r.category), menu_order[r.capability]))
    return rows


@dataclass(frozen=True, slots=True)
class RatificationRow:
    participant: str
    name: str
    procedure: str
    done: int
    total: int
    current: str | None
    since: date | None
    next_step: str | None
    in_force: bool


def ratification_table(coalition: Coalition) -> list[RatificationRow]:
    """Every guarantor of the agreement and where it stands in its own procedure.

    Guarantors with no ratification entry are listed as not yet signed.
    """
    agreement = coalition.agreement
    guarantors = [p.id for p in agreement.participants if "guarantor" in p.roles]
    rows = []
    for pid in [*guarantors, *(r for r in coalition.ratifications if r not in guarantors)]:
        r = coalition.ratifications.get(pid)
        name = agreement.participant(pid).name
        if r is None:
            rows.append(RatificationRow(pid, name, "—", 0, 0, None, None, "signature", False))
            continue
        rows.append(
            RatificationRow(
                participant=pid,
                name=name,
                procedure=r.procedure,
                done=len(r.steps),
                total=len(r.procedure_steps),
                current=r.current,
                since=r.steps[-1].date if r.steps else None,
                next_step=r.next_step,
                in_force=r.in_force,
            )
        )
    return rows
