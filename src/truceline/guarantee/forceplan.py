"""Ukraine's force plan: personnel and equipment projected month by month against the targets.

The plan (from the coalition file's ``force_plan:``) gives the starting stocks, recruitment,
domestic training capacity and production, and the rates of attrition and demobilisation;
pledges add training capacity (``training`` capabilities measured per year) and equipment
deliveries by month (equipment capabilities whose ``equipment_class`` the plan models).
Tranches dated before the plan's start are taken to be in the starting stock already.

:func:`run_force_plan` projects the plan and says, for each target (800,000 personnel; each
equipment list), the shortfall at the target month, which counted pledges contribute how much,
and which pledges not (fully) counted yet would close it. :class:`WhatIf` changes the inputs
(a delivery slips three months, a pledge is withdrawn, recruitment falls short) for a comparison.
The projections of all these scenarios run as one batch of the vectorised model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
from numpy.typing import NDArray

from truceline.guarantee.catalogue import Capability
from truceline.guarantee.coalition import Coalition, Situation
from truceline.guarantee.records import Pledge
from truceline.guarantee.stockflow import FlowInputs, Projection, project
from truceline.model import UsageError

__all__ = [
    "Contribution",
    "EquipmentPlan",
    "ForcePlan",
    "ForcePlanResult",
    "PersonnelPlan",
    "Shortfall",
    "WhatIf",
    "add_months",
    "flow_inputs",
    "month_index",
    "run_force_plan",
    "scenario_inputs",
]

FloatArray = NDArray[np.float64]
Schedule = Mapping[str, float]
"""A step function over months: ``{"2026-09": 9000, "2027-09": 8000}`` holds each value from its month on."""


def month_index(month: str) -> int:
    """Months since year 0 of a ``YYYY-MM`` month.

    >>> month_index("2026-09") - month_index("2025-12")
    9
    """
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def add_months(month: str, n: int) -> str:
    """The month ``n`` months after ``month``.

    >>> add_months("2026-11", 3)
    '2027-02'
    """
    i = month_index(month) + n
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def _month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _steps(schedule: Schedule, start: str, n: int) -> FloatArray:
    out = np.zeros(n, dtype=np.float64)
    s0 = month_index(start)
    for month, value in sorted(schedule.items()):
        out[max(month_index(month) - s0, 0) :] = value
    return out


@dataclass(frozen=True)
class PersonnelPlan:
    """Personnel: starting stocks, monthly recruitment and domestic training capacity, monthly rates.

    ``mobilised`` is the part of ``active`` mobilised in wartime (released at the ``demobilisation``
    rate); the rest are regulars (who leave at the ``separation`` rate as contracts end).
    """

    active: float
    mobilised: float
    in_training: float
    recruitment: Schedule
    training_capacity: Schedule
    training_months: int
    washout: float
    attrition: Schedule
    demobilisation: Schedule
    separation: Schedule
    target: float
    ceiling: float | None = None


@dataclass(frozen=True)
class EquipmentPlan:
    """One equipment category: starting stock, monthly production and attrition rate, target."""

    name: str
    stock: float
    attrition: Schedule
    production: Schedule
    target: float | None = None


@dataclass(frozen=True)
class ForcePlan:
    start: str
    months: int
    personnel: PersonnelPlan
    equipment: Mapping[str, EquipmentPlan]
    target_by: str | None = None

    @property
    def month_labels(self) -> tuple[str, ...]:
        return tuple(add_months(self.start, i) for i in range(self.months))


@dataclass(frozen=True)
class WhatIf:
    """Changes to study: delivery slips by pledge id (``"*"`` for all), withdrawals, scaled inputs."""

    slips: Mapping[str, int] = field(default_factory=dict)
    withdrawn: frozenset[str] = frozenset()
    recruitment_scale: float = 1.0
    training_scale: float = 1.0
    attrition_scale: float = 1.0

    def describe(self) -> str:
        parts = [f"{'every delivery' if k == '*' else k} slips {v} months" for k, v in self.slips.items()]
        parts += [f"{p} withdrawn" for p in sorted(self.withdrawn)]
        for name, v in (
            ("recruitment", self.recruitment_scale),
            ("domestic training", self.training_scale),
            ("attrition", self.attrition_scale),
        ):
            if v != 1.0:
                parts.append(f"{name} × {v:g}")
        return "; ".join(parts) or "no change"

    def check(self, coalition: Coalition) -> None:
        known = set(coalition.versions)
        for pid in [*self.slips, *self.withdrawn]:
            if pid != "*" and pid not in known:
                raise UsageError(f"what-if names no pledge of {coalition.id}: {pid!r}")
        if any(v < 0 for v in (self.recruitment_scale, self.training_scale, self.attrition_scale)):
            raise UsageError("what-if scales must not be negative")


@dataclass(frozen=True)
class Contribution:
    pledge: str
    participant: str
    amount: float
    note: str = ""


@dataclass(frozen=True)
class Shortfall:
    """One target at the target month: projected value, shortfall, who contributes, what would close it."""

    item: str
    name: str
    target: float
    by: str
    projected: float
    met_from: str | None
    contributors: tuple[Contribution, ...]
    closers: tuple[Contribution, ...]

    @property
    def shortfall(self) -> float:
        return max(self.target - self.projected, 0.0)

    @property
    def closable(self) -> bool:
        """Whether the listed closers together would make up the shortfall (each assessed alone)."""
        return sum(c.amount for c in self.closers) >= self.shortfall - 1e-6


@dataclass(frozen=True)
class ForcePlanResult:
    plan: ForcePlan
    situation: Situation
    whatif: WhatIf
    projection: Projection
    shortfalls: tuple[Shortfall, ...]
    above_ceiling: tuple[str, ...]


@dataclass
class _Effect:
    """What one pledge adds to the model's inputs: training capacity and equipment inflow."""

    pledge: Pledge
    capacity: FloatArray
    inflow: FloatArray
    note: str = ""


def _feeds(cap: Capability, plan: ForcePlan) -> str | None:
    """Which model item a capability feeds: 'personnel' (training), an equipment class, or None."""
    if cap.category == "training" and cap.measure == "per_year":
        return "personnel"
    if cap.equipment_class is not None and cap.equipment_class in plan.equipment:
        return cap.equipment_class
    return None


def _effect(
    pledge: Pledge, item: str, plan: ForcePlan, n: int, cats: tuple[str, ...], slip: int, until: str | None
) -> _Effect:
    """The pledge's inputs as scheduled (shifted by ``slip``; nothing from month ``until`` on)."""
    s0 = month_index(plan.start)
    stop = n if until is None else min(max(month_index(until) - s0, 0), n)
    capacity = np.zeros(n)
    inflow = np.zeros((len(cats), n))
    if item == "personnel":
        first = max(month_index(pledge.start or plan.start) + slip - s0, 0)
        last = n if pledge.end is None else month_index(pledge.end) + slip - s0 + 1
        capacity[first : min(last, stop)] = pledge.quantity / 12.0
    else:
        row = cats.index(item)
        for d in pledge.deliveries:
            i = month_index(d.month) + slip - s0
            if 0 <= i < stop:
                inflow[row, i] += d.quantity
    return _Effect(pledge, capacity, inflow)


def _potential(
    pledge: Pledge,
    item: str,
    plan: ForcePlan,
    n: int,
    cats: tuple[str, ...],
    by: int,
    counted: _Effect | None,
    note: str,
) -> _Effect | None:
    """What the pledge could still add if the part not arriving by the target came in the first month."""
    capacity = np.zeros(n)
    inflow = np.zeros((len(cats), n))
    if item == "personnel":
        if counted is not None:
            return None  # a counted training pledge is already running; its timing is the plan's
        capacity[:] = pledge.quantity / 12.0
    else:
        arrived = 0.0 if counted is None else float(counted.inflow[cats.index(item), : by + 1].sum())
        missing = pledge.quantity - arrived
        if missing <= 1e-9:
            return None
        inflow[cats.index(item), 0] = missing
        note = note or f"{missing:,.0f} not delivered by the target month"
    return _Effect(pledge, capacity, inflow, note)


def _why_not_counted(coalition: Coalition, pledge: Pledge, situation: Situation) -> str:
    if pledge.warning_level is not None and pledge.warning_level > situation.warning_level:
        return f"activated only at warning level {pledge.warning_level}"
    if pledge.after_ceasefire and not situation.ceasefire:
        return "only after a cease-fire"
    return "awaits ratification in force"


def flow_inputs(plan: ForcePlan, whatif: WhatIf | None = None) -> FlowInputs:
    """The model inputs of the plan alone (no pledges); :func:`run_force_plan` adds the pledges."""
    whatif = whatif or WhatIf()
    n = plan.months
    cats = tuple(plan.equipment)
    p = plan.personnel
    equipment = list(plan.equipment.values())
    production = np.array([_steps(e.production, plan.start, n) for e in equipment]).reshape(len(cats), n)
    return FlowInputs(
        months=plan.month_labels,
        categories=cats,
        recruitment=_steps(p.recruitment, plan.start, n) * whatif.recruitment_scale,
        capacity=_steps(p.training_capacity, plan.start, n) * whatif.training_scale,
        training_months=p.training_months,
        washout=np.asarray(p.washout, dtype=np.float64),
        attrition=_steps(p.attrition, plan.start, n) * whatif.attrition_scale,
        demobilisation=_steps(p.demobilisation, plan.start, n),
        separation=_steps(p.separation, plan.start, n),
        active0=np.asarray(p.active, dtype=np.float64),
        mobilised0=np.asarray(p.mobilised, dtype=np.float64),
        training0=np.asarray(p.in_training, dtype=np.float64),
        stock0=np.array([e.stock for e in equipment], dtype=np.float64),
        inflow=production,
        delivered=np.zeros((len(cats), n)),
        equipment_attrition=np.array([_steps(e.attrition, plan.start, n) for e in equipment]).reshape(len(cats), n),
    )


@dataclass
class _Batch:
    """The plan as a batch of scenarios: 0 the plan itself, then one without each counted pledge,
    then one with each candidate pledge added — so every pledge's effect comes from one projection."""

    plan: ForcePlan
    by: int
    counted: list[tuple[str, _Effect]]
    candidates: list[tuple[str, _Effect]]
    inputs: FlowInputs


def _batch(coalition: Coalition, situation: Situation, whatif: WhatIf, months: int | None) -> _Batch:
    if coalition.force_plan is None:
        raise UsageError(f"{coalition.source}: the coalition file has no force_plan section")
    whatif.check(coalition)
    plan = coalition.force_plan
    if months is not None:
        if not 1 <= months <= 600:
            raise UsageError(f"months must be 1–600, got {months}")
        plan = replace(plan, months=months)
    n = plan.months
    cats = tuple(plan.equipment)
    by = min(max(month_index(plan.target_by or plan.month_labels[-1]) - month_index(plan.start), 0), n - 1)

    counted: list[tuple[str, _Effect]] = []
    candidates: list[tuple[str, _Effect]] = []
    for pledge in coalition.pledges(include_withdrawn=True):
        item = _feeds(coalition.catalogue[pledge.capability], plan)
        if item is None or pledge.id in whatif.withdrawn:
            continue
        slip = whatif.slips.get(pledge.id, whatif.slips.get("*", 0))
        effect: _Effect | None = None
        if pledge.status == "withdrawn":
            # Tranches delivered before the withdrawal stay delivered.
            effect = _effect(pledge, item, plan, n, cats, slip, until=_month_of(pledge.as_of))
        elif coalition.counts(pledge, situation):
            effect = _effect(pledge, item, plan, n, cats, slip, until=None)
        if effect is not None and (effect.capacity.any() or effect.inflow.any()):
            counted.append((item, effect))
        if pledge.status == "active":
            note = "" if effect is not None else _why_not_counted(coalition, pledge, situation)
            potential = _potential(pledge, item, plan, n, cats, by, effect, note)
            if potential is not None:
                candidates.append((item, potential))

    base = flow_inputs(plan, whatif)
    capacity0 = base.capacity + sum((e.capacity for _, e in counted), np.zeros(n))
    delivered0 = sum((e.inflow for _, e in counted), np.zeros((len(cats), n)))
    capacity = [
        capacity0,
        *(capacity0 - e.capacity for _, e in counted),
        *(capacity0 + e.capacity for _, e in candidates),
    ]
    delivered = [
        delivered0,
        *(delivered0 - e.inflow for _, e in counted),
        *(delivered0 + e.inflow for _, e in candidates),
    ]
    size = len(capacity)
    delivered_arr = np.maximum(np.array(delivered), 0.0)  # float dust from subtraction
    inputs = replace(
        base,
        capacity=np.maximum(np.array(capacity), 0.0),
        washout=np.full(size, float(base.washout)),
        active0=np.full(size, float(base.active0)),
        mobilised0=np.full(size, float(base.mobilised0)),
        training0=np.full(size, float(base.training0)),
        stock0=np.broadcast_to(base.stock0, (size, len(cats))).copy(),
        inflow=base.inflow + delivered_arr,
        delivered=delivered_arr,
    )
    return _Batch(plan, by, counted, candidates, inputs)


def scenario_inputs(
    coalition: Coalition,
    *,
    situation: Situation | None = None,
    whatif: WhatIf | None = None,
    months: int | None = None,
) -> FlowInputs:
    """The batch of scenarios :func:`run_force_plan` projects (scenario 0 is the plan itself)."""
    return _batch(coalition, situation or Situation(), whatif or WhatIf(), months).inputs


def run_force_plan(
    coalition: Coalition,
    *,
    situation: Situation | None = None,
    whatif: WhatIf | None = None,
    months: int | None = None,
) -> ForcePlanResult:
    """Project the coalition's force plan with its pledges and assess every target."""
    situation = situation or Situation()
    whatif = whatif or WhatIf()
    b = _batch(coalition, situation, whatif, months)
    plan, by, counted, candidates = b.plan, b.by, b.counted, b.candidates
    cats = tuple(plan.equipment)
    everything = project(b.inputs)
    single = everything.scenario(0)

    def value(scenario: int, item: str) -> float:
        if item == "personnel":
            return float(everything.strength[scenario, by])
        return float(everything.stock[scenario, cats.index(item), by])

    targets: list[tuple[str, str, float]] = [("personnel", "Personnel (active and in training)", plan.personnel.target)]
    targets += [(c, e.name, e.target) for c, e in plan.equipment.items() if e.target is not None]
    shortfalls = []
    for item, name, target in targets:
        projected = value(0, item)
        series = single.strength if item == "personnel" else single.stock[cats.index(item)]
        below = np.flatnonzero(series[: by + 1] < target - 1e-6)
        # The month from which the item stays at or above target through the target month.
        met_from = None
        if not (below.size and below[-1] == by):
            met_from = plan.month_labels[int(below[-1]) + 1 if below.size else 0]
        contributors = [
            Contribution(e.pledge.id, e.pledge.participant, projected - value(1 + i, item))
            for i, (it, e) in enumerate(counted)
            if it == item
        ]
        gains = sorted(
            (
                Contribution(e.pledge.id, e.pledge.participant, value(1 + len(counted) + j, item) - projected, e.note)
                for j, (it, e) in enumerate(candidates)
                if it == item
            ),
            key=lambda c: -c.amount,
        )
        closers: list[Contribution] = []
        need = max(target - projected, 0.0)
        for gain in gains:  # greedy: the biggest first, until the shortfall is made up
            if need <= 1e-6 or gain.amount <= 1e-9:
                break
            closers.append(gain)
            need -= gain.amount
        contributors.sort(key=lambda c: -c.amount)
        shortfalls.append(
            Shortfall(
                item, name, target, plan.month_labels[by], projected, met_from, tuple(contributors), tuple(closers)
            )
        )
    ceiling = plan.personnel.ceiling
    above = () if ceiling is None else tuple(np.array(plan.month_labels)[single.strength > ceiling + 1e-6].tolist())
    return ForcePlanResult(plan, situation, whatif, single, tuple(shortfalls), above)
