"""The guarantee's records: pledges, ratification status, reassurance-force units, delivered items.

They are :class:`truceline.model.Record` models (frozen, strict, no unknown fields) with a string
``id``, so the store keeps every version of them: a pledge that is amended or withdrawn is a new
version, never an edit, and its history is the audit trail. :func:`register_records` tells the
store how to read them back; call it once before storing (the pipeline or the CLI does).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from truceline.model import ParticipantId, Record

__all__ = [
    "RECORD_TYPES",
    "Basing",
    "DeliveredItem",
    "Delivery",
    "Month",
    "Pledge",
    "PledgeStatus",
    "Position",
    "Ratification",
    "RatificationStep",
    "ReassuranceUnit",
    "register_records",
]

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""A calendar month, ``YYYY-MM``."""

Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")]
Quantity = Annotated[float, Field(ge=0.0, le=1e12)]
WarningLevel = Annotated[int, Field(ge=1, le=5)]
Text = Annotated[str, StringConstraints(max_length=5_000)]

Basing = Literal["in_ukraine", "home", "abroad", "at_sea", "not_applicable"]
"""Where a pledged capability sits: deployed in Ukraine, at home, at a third-country base, at sea."""

PledgeStatus = Literal["active", "withdrawn"]


class Delivery(Record):
    """A dated tranche of a pledge (equipment arriving in a month)."""

    month: Month
    quantity: Quantity


class Pledge(Record):
    """One version of one guarantor's pledge of a capability.

    Conditions: ``after_ceasefire`` (most troop pledges stand only once a cease-fire holds),
    ``warning_level`` (the pledge is activated when a sector's warning reaches it; ``None`` means
    always), ``after_ratification`` (only once the guarantor's ratification is in force).
    ``directives`` are the playbook directive ids that call on it. ``as_of`` and ``reason`` say
    when and why this version was made (pledged, amended, withdrawn).
    """

    id: Slug
    participant: ParticipantId
    capability: Slug
    quantity: Quantity
    based: Basing = "not_applicable"
    base: Text = ""
    after_ceasefire: bool = False
    warning_level: WarningLevel | None = None
    after_ratification: bool = False
    directives: tuple[Slug, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    start: Month | None = None
    end: Month | None = None
    status: PledgeStatus = "active"
    as_of: date
    reason: Text = ""
    source: Text = ""

    @model_validator(mode="after")
    def _consistent(self) -> Pledge:
        delivered = sum(d.quantity for d in self.deliveries)
        # A tolerance of a millionth absorbs float sums of fractional tranches.
        if delivered > self.quantity * (1 + 1e-9) + 1e-9:
            raise ValueError(f"deliveries add up to {delivered:g}, more than the pledged {self.quantity:g}")
        months = [d.month for d in self.deliveries]
        if months != sorted(months):
            raise ValueError("deliveries must be listed in month order")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def undated(self) -> float:
        """The pledged quantity no delivery tranche schedules yet."""
        return max(self.quantity - sum(d.quantity for d in self.deliveries), 0.0)


class RatificationStep(Record):
    step: Slug
    date: date
    note: Text = ""


class Ratification(Record):
    """A guarantor's progress through its own ratification procedure (``id`` is the guarantor)."""

    id: ParticipantId
    procedure: Slug
    procedure_steps: tuple[Slug, ...] = Field(min_length=1)
    steps: tuple[RatificationStep, ...] = ()

    @model_validator(mode="after")
    def _follows_procedure(self) -> Ratification:
        order = {s: i for i, s in enumerate(self.procedure_steps)}
        if len(order) != len(self.procedure_steps):
            raise ValueError(f"procedure {self.procedure!r} lists a step twice")
        for i, done in enumerate(self.steps):
            if done.step not in order:
                raise ValueError(
                    f"{done.step!r} is not a step of procedure {self.procedure!r} ({' → '.join(self.procedure_steps)})"
                )
            if order[done.step] != i:
                expected = self.procedure_steps[i] if i < len(self.procedure_steps) else "nothing"
                raise ValueError(f"step {done.step!r} out of order: procedure {self.procedure!r} expects {expected!r}")
            if i and done.date < self.steps[i - 1].date:
                raise ValueError(f"step {done.step!r} on {done.date} is dated before the step it follows")
        return self

    @property
    def current(self) -> str | None:
        """The last step completed, or None before signature."""
        return self.steps[-1].step if self.steps else None

    @property
    def next_step(self) -> str | None:
        n = len(self.steps)
        return self.procedure_steps[n] if n < len(self.procedure_steps) else None

    @property
    def in_force(self) -> bool:
        return len(self.steps) == len(self.procedure_steps)


class Position(Record):
    """Where a unit is (or is planned to be), with the place's name and when it was reported."""

    lon: Annotated[float, Field(ge=-180.0, le=180.0)]
    lat: Annotated[float, Field(ge=-90.0, le=90.0)]
    place: Text = ""
    reported: date | None = None


class ReassuranceUnit(Record):
    """A unit of the reassurance force (or an air/sea unit securing Ukraine from outside).

    ``basing`` is what the contributor declares; posture checks apply to units declared
    ``in_ukraine`` and to any position that lies on Ukraine's territory, whatever was declared.
    """

    id: Slug
    participant: ParticipantId
    capability: Slug
    name: Text = ""
    pledge: Slug | None = None
    basing: Basing = "in_ukraine"
    planned: Position
    actual: Position | None = None
    range_km: Annotated[float, Field(ge=0.0, le=5_000.0)] | None = None


class DeliveredItem(Record):
    """One piece of delivered equipment in the serial-number ledger (``id`` is its serial)."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    donor: ParticipantId
    equipment_class: Slug
    model: Text = ""
    pledge: Slug | None = None
    delivered: date


RECORD_TYPES: dict[str, type[Record]] = {
    "pledge": Pledge,
    "ratification": Ratification,
    "reassurance_unit": ReassuranceUnit,
    "delivered_item": DeliveredItem,
}
"""The store type name of each guarantee record."""


def register_records() -> None:
    """Let the store read back the guarantee's records (idempotent; call before storing them)."""
    from truceline.store import register_record_type

    for name, cls in RECORD_TYPES.items():
        register_record_type(name, cls)
