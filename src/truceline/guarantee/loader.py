"""Load a coalition file: YAML → validated spec → cross-checked :class:`Coalition`.

Every problem raises :class:`CoalitionError` naming the file, the dotted path of the field
(``pledges[3].quantity``) and the reason, with the YAML line: an unknown participant or
capability, a negative quantity, a pledge by a party to the conflict, a ratification step out of
its procedure's order. A unit based inside the exclusion distance is *not* a load error: it is a
posture finding (:mod:`truceline.guarantee.posture`). See ``docs/guarantee.md`` for the format.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from truceline.agreement import Agreement, AgreementError, default_agreement, load_agreement
from truceline.guarantee._yaml import CoalitionError, Lines, PathKey, read_yaml, translate
from truceline.guarantee.catalogue import CATEGORIES, Capability, Catalogue, default_catalogue
from truceline.guarantee.coalition import Coalition, Requirement, amend, withdraw
from truceline.guarantee.forceplan import EquipmentPlan, ForcePlan, PersonnelPlan
from truceline.guarantee.records import (
    Basing,
    Delivery,
    Month,
    Pledge,
    Position,
    Ratification,
    RatificationStep,
    ReassuranceUnit,
)

__all__ = ["load_coalition", "load_requirements"]

Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=16)]
NonNegative = Annotated[float, Field(ge=0.0)]
Rate = Annotated[float, Field(ge=0.0, lt=0.99)]
Level = Annotated[int, Field(ge=1, le=5)]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CapabilitySpec(Spec):
    id: Slug
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    name: str
    unit: str
    measure: Literal["count", "per_year", "per_month", "per_day", "money"] = "count"
    domain: Literal["air", "sea", "none"] = "none"
    range_km: NonNegative = 0.0
    equipment_class: Slug | None = None
    description: str = ""


class ConditionsSpec(Spec):
    after_ceasefire: bool = False
    warning_level: Level | None = None
    after_ratification: bool = False


class DeliverySpec(Spec):
    month: Month
    quantity: NonNegative


class PledgeSpec(Spec):
    id: Slug
    participant: Code
    capability: Slug
    quantity: NonNegative
    based: Basing = "not_applicable"
    base: str = ""
    conditions: ConditionsSpec = ConditionsSpec()
    directives: tuple[Slug, ...] = ()
    deliveries: tuple[DeliverySpec, ...] = ()
    start: Month | None = None
    end: Month | None = None
    as_of: date | None = None
    source: str = ""


class AmendmentSpec(Spec):
    pledge: Slug
    date: date
    reason: Annotated[str, StringConstraints(min_length=1)]
    withdraw: bool = False
    quantity: NonNegative | None = None
    deliveries: tuple[DeliverySpec, ...] | None = None
    conditions: ConditionsSpec | None = None
    base: str | None = None
    start: Month | None = None
    end: Month | None = None


class RatificationSpec(Spec):
    participant: Code
    procedure: Slug
    steps: dict[Slug, date] = Field(default_factory=dict)
    notes: dict[Slug, str] = Field(default_factory=dict)


class RequirementSpec(Spec):
    capability: Slug
    quantity: NonNegative
    warning_level: Level = 1
    note: str = ""


class PlaceSpec(Spec):
    place: str = ""
    lon: Annotated[float, Field(ge=-180.0, le=180.0)] | None = None
    lat: Annotated[float, Field(ge=-90.0, le=90.0)] | None = None
    reported: date | None = None

    @model_validator(mode="after")
    def _located(self) -> PlaceSpec:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither (then the place is looked up by name)")
        if self.lon is None and not self.place:
            raise ValueError("give a place name (a Ukrainian settlement) or lon and lat")
        return self


class UnitSpec(Spec):
    id: Slug
    participant: Code
    capability: Slug
    name: str = ""
    pledge: Slug | None = None
    basing: Basing = "in_ukraine"
    planned: PlaceSpec
    actual: PlaceSpec | None = None
    range_km: NonNegative | None = None


Schedule = NonNegative | dict[Month, NonNegative]
RateSchedule = Rate | dict[Month, Rate]


class PersonnelSpec(Spec):
    active: NonNegative
    mobilised: NonNegative = 0.0
    in_training: NonNegative = 0.0
    recruitment: Schedule
    training_capacity: Schedule
    training_months: Annotated[int, Field(ge=0, le=36)] = 2
    washout: Rate = 0.0
    attrition: RateSchedule = 0.0
    demobilisation: RateSchedule = 0.0
    separation: RateSchedule = 0.0
    target: NonNegative | None = None

    @model_validator(mode="after")
    def _mobilised_within_active(self) -> PersonnelSpec:
        if self.mobilised > self.active:
            raise ValueError(
                f"mobilised ({self.mobilised:,.0f}) is part of active ({self.active:,.0f}) and cannot exceed it"
            )
        return self


class EquipmentSpec(Spec):
    name: str
    stock: NonNegative
    attrition: RateSchedule = 0.0
    production: Schedule = 0.0
    target: NonNegative | None = None


class ForcePlanSpec(Spec):
    start: Month
    months: Annotated[int, Field(ge=1, le=600)]
    target_by: Month | None = None
    personnel: PersonnelSpec
    equipment: dict[Slug, EquipmentSpec] = Field(default_factory=dict)


class CoalitionSpec(Spec):
    format_version: Literal[1]
    id: Slug
    title: str
    as_of: date
    pledge_date: date | None = None
    agreement: str = "default"
    note: str = ""
    capabilities: tuple[CapabilitySpec, ...] = ()
    procedures: dict[Slug, tuple[Slug, ...]] = Field(default_factory=dict)
    ratification: tuple[RatificationSpec, ...] = ()
    pledges: tuple[PledgeSpec, ...] = ()
    amendments: tuple[AmendmentSpec, ...] = ()
    requirements: tuple[RequirementSpec, ...] = ()
    units: tuple[UnitSpec, ...] = ()
    force_plan: ForcePlanSpec | None = None


_SPECS: tuple[type[BaseModel], ...] = (
    CoalitionSpec,
    CapabilitySpec,
    ConditionsSpec,
    DeliverySpec,
    PledgeSpec,
    AmendmentSpec,
    RatificationSpec,
    RequirementSpec,
    PlaceSpec,
    UnitSpec,
    PersonnelSpec,
    EquipmentSpec,
    ForcePlanSpec,
)
_FIELDS = frozenset(name for m in _SPECS for name in m.model_fields)


def _validate(model: type[Spec], data: Any, lines: Lines, prefix: PathKey = ()) -> Any:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        err = translate(exc, lines, data, _FIELDS)
        if prefix:  # re-anchor a sub-document's error at its place in the file
            raise lines.error((*prefix, *err.path.split(".")) if err.path else prefix, err.reason) from None
        raise err from None


def load_coalition(path: str | Path, agreement: Agreement | None = None) -> Coalition:
    """Read, validate and cross-check a coalition file; raise :class:`CoalitionError` on any problem.

    ``agreement`` overrides the file's ``agreement:`` (``default`` or a path relative to the file).
    """
    data, lines = read_yaml(path)
    spec: CoalitionSpec = _validate(CoalitionSpec, data, lines)
    if agreement is None:
        agreement = _agreement(spec.agreement, Path(path), lines)
    return _Builder(spec, lines, agreement, str(path)).build()


def load_requirements(path: str | Path, catalogue: Catalogue | None = None) -> tuple[Requirement, ...]:
    """A requirements file (``requirements: [...]``) to compare pledges against instead of the coalition's."""
    data, lines = read_yaml(path)
    unknown = set(data) - {"requirements", "note"}
    if unknown:
        raise lines.error((sorted(unknown)[0],), "unknown field; a requirements file has 'requirements' and 'note'")
    raw = data.get("requirements")
    if not isinstance(raw, list):
        raise lines.error(("requirements",), "give a list of requirements")
    catalogue = catalogue or default_catalogue()
    out = []
    for i, item in enumerate(raw):
        req: RequirementSpec = _validate(RequirementSpec, item, lines, ("requirements", i))
        if req.capability not in catalogue:
            raise lines.error(("requirements", i, "capability"), catalogue.unknown(req.capability))
        out.append(Requirement(req.capability, req.quantity, req.warning_level, req.note))
    return tuple(out)


def _agreement(ref: str, path: Path, lines: Lines) -> Agreement:
    if ref == "default":
        return default_agreement()
    try:
        return load_agreement(path.parent / ref)
    except AgreementError as exc:
        raise lines.error(("agreement",), f"cannot load the agreement: {exc}") from None


class _Builder:
    def __init__(self, spec: CoalitionSpec, lines: Lines, agreement: Agreement, source: str) -> None:
        self.spec = spec
        self.lines = lines
        self.agreement = agreement
        self.source = source
        self.catalogue = default_catalogue()

    def error(self, path: Sequence[str | int], reason: str) -> CoalitionError:
        return self.lines.error(path, reason)

    def participant(self, code: str, path: PathKey, *, pledging: bool = False) -> str:
        known = self.agreement.participant_ids()
        if code not in known:
            close = difflib.get_close_matches(code, sorted(known), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise self.error(path, f"unknown participant {code!r}: not a participant of {self.agreement.id}{hint}")
        if pledging and code in self.agreement.party_ids():
            raise self.error(path, f"{code} is a party to the cease-fire, not a guarantor: it cannot pledge")
        return code

    def capability(self, cap_id: str, path: PathKey) -> Capability:
        if cap_id not in self.catalogue:
            raise self.error(path, self.catalogue.unknown(cap_id))
        return self.catalogue[cap_id]

    def build(self) -> Coalition:
        s = self.spec
        extra = [Capability(**c.model_dump()) for c in s.capabilities]
        try:
            self.catalogue = self.catalogue.extended(extra)
        except ValueError as exc:
            raise self.error(("capabilities",), str(exc)) from None
        ratifications = self._ratifications()
        versions = self._pledges()
        requirements = []
        for i, r in enumerate(s.requirements):
            self.capability(r.capability, ("requirements", i, "capability"))
            requirements.append(Requirement(r.capability, r.quantity, r.warning_level, r.note))
        units = self._units(versions)
        plan = self._force_plan()
        return Coalition(
            id=s.id,
            title=s.title,
            as_of=s.as_of,
            source=self.source,
            note=s.note,
            agreement=self.agreement,
            catalogue=self.catalogue,
            versions=versions,
            ratifications=ratifications,
            requirements=tuple(requirements),
            units=tuple(units),
            force_plan=plan,
        )

    def _ratifications(self) -> dict[str, Ratification]:
        out: dict[str, Ratification] = {}
        for i, r in enumerate(self.spec.ratification):
            path: PathKey = ("ratification", i)
            self.participant(r.participant, (*path, "participant"))
            if r.participant in out:
                raise self.error((*path, "participant"), f"{r.participant} has a ratification entry already")
            steps = self.spec.procedures.get(r.procedure)
            if steps is None:
                raise self.error(
                    (*path, "procedure"),
                    f"unknown procedure {r.procedure!r}; defined: {', '.join(self.spec.procedures)}",
                )
            for step in r.notes:
                if step not in r.steps:
                    raise self.error((*path, "notes", step), f"a note on {step!r}, which has no date in 'steps'")
            try:
                out[r.participant] = Ratification(
                    id=r.participant,
                    procedure=r.procedure,
                    procedure_steps=steps,
                    steps=tuple(RatificationStep(step=k, date=v, note=r.notes.get(k, "")) for k, v in r.steps.items()),
                )
            except pydantic.ValidationError as exc:
                reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
                raise self.error((*path, "steps"), reason) from None
        return out

    def _pledges(self) -> dict[str, tuple[Pledge, ...]]:
        versions: dict[str, list[Pledge]] = {}
        for i, p in enumerate(self.spec.pledges):
            path: PathKey = ("pledges", i)
            if p.id in versions:
                raise self.error((*path, "id"), f"pledge id {p.id!r} is used twice")
            self.participant(p.participant, (*path, "participant"), pledging=True)
            self.capability(p.capability, (*path, "capability"))
            fields = {
                "id": p.id,
                "participant": p.participant,
                "capability": p.capability,
                "quantity": p.quantity,
                "based": p.based,
                "base": p.base,
                "directives": p.directives,
                "start": p.start,
                "end": p.end,
                "as_of": p.as_of or self.spec.pledge_date or self.spec.as_of,
                "reason": "pledged",
                "source": p.source,
                "deliveries": tuple(Delivery(month=d.month, quantity=d.quantity) for d in p.deliveries),
                **p.conditions.model_dump(),
            }
            versions[p.id] = [self._record(lambda f=fields: Pledge.model_validate(f), path)]
        for i, a in enumerate(self.spec.amendments):
            path = ("amendments", i)
            if a.pledge not in versions:
                raise self.error((*path, "pledge"), f"no pledge {a.pledge!r} to amend")
            current = versions[a.pledge][-1]
            changes: dict[str, Any] = {
                k: v
                for k, v in (("quantity", a.quantity), ("base", a.base), ("start", a.start), ("end", a.end))
                if v is not None
            }
            if a.deliveries is not None:
                changes["deliveries"] = tuple(Delivery(month=d.month, quantity=d.quantity) for d in a.deliveries)
            if a.conditions is not None:
                changes.update(a.conditions.model_dump())
            if a.withdraw and changes:
                raise self.error(path, "a withdrawal changes nothing else; amend first, then withdraw")

            def revise(c: Pledge = current, a: AmendmentSpec = a, ch: dict[str, Any] = changes) -> Pledge:
                if a.withdraw:
                    return withdraw(c, as_of=a.date, reason=a.reason)
                return amend(c, as_of=a.date, reason=a.reason, **ch)

            versions[a.pledge].append(self._record(revise, path))
        return {k: tuple(v) for k, v in versions.items()}

    def _record(self, make: Any, path: PathKey) -> Any:
        try:
            return make()
        except pydantic.ValidationError as exc:
            err = exc.errors()[0]
            reason = str(err["msg"]).removeprefix("Value error, ")
            raise self.error((*path, *[p for p in err["loc"] if isinstance(p, str)][:1]), reason) from None
        except ValueError as exc:
            raise self.error(path, str(exc)) from None

    def _position(self, place: PlaceSpec, path: PathKey) -> Position:
        if place.lon is not None and place.lat is not None:
            return Position(lon=place.lon, lat=place.lat, place=place.place, reported=place.reported)
        from truceline.geo import Gazetteer

        found = Gazetteer.default().resolve(place.place, limit=1)
        if not found:
            raise self.error(
                (*path, "place"),
                f"unknown place {place.place!r} (not a Ukrainian settlement in the gazetteer); give lon and lat",
            )
        return Position(lon=found[0].lon, lat=found[0].lat, place=found[0].name, reported=place.reported)

    def _units(self, versions: dict[str, tuple[Pledge, ...]]) -> list[ReassuranceUnit]:
        out: list[ReassuranceUnit] = []
        seen: set[str] = set()
        for i, u in enumerate(self.spec.units):
            path: PathKey = ("units", i)
            if u.id in seen:
                raise self.error((*path, "id"), f"unit id {u.id!r} is used twice")
            seen.add(u.id)
            self.participant(u.participant, (*path, "participant"), pledging=True)
            self.capability(u.capability, (*path, "capability"))
            if u.pledge is not None:
                if u.pledge not in versions:
                    raise self.error((*path, "pledge"), f"no pledge {u.pledge!r}")
                if versions[u.pledge][0].participant != u.participant:
                    raise self.error((*path, "pledge"), f"pledge {u.pledge!r} is {versions[u.pledge][0].participant}'s")
            out.append(
                ReassuranceUnit(
                    id=u.id,
                    participant=u.participant,
                    capability=u.capability,
                    name=u.name,
                    pledge=u.pledge,
                    basing=u.basing,
                    planned=self._position(u.planned, (*path, "planned")),
                    actual=None if u.actual is None else self._position(u.actual, (*path, "actual")),
                    range_km=u.range_km,
                )
            )
        return out

    def _force_plan(self) -> ForcePlan | None:
        fp = self.spec.force_plan
        if fp is None:
            return None
        p = fp.personnel
        ceiling = self.agreement.troop_ceiling("UKR") if "UKR" in self.agreement.party_ids() else None
        target = p.target if p.target is not None else ceiling
        if target is None:
            raise self.error(("force_plan", "personnel", "target"), "no target, and the agreement sets no ceiling")
        if fp.target_by is not None and fp.target_by < fp.start:
            raise self.error(("force_plan", "target_by"), f"{fp.target_by} is before the start {fp.start}")
        personnel = PersonnelPlan(
            active=p.active,
            mobilised=p.mobilised,
            in_training=p.in_training,
            recruitment=_schedule(p.recruitment, fp.start),
            training_capacity=_schedule(p.training_capacity, fp.start),
            training_months=p.training_months,
            washout=p.washout,
            attrition=_schedule(p.attrition, fp.start),
            demobilisation=_schedule(p.demobilisation, fp.start),
            separation=_schedule(p.separation, fp.start),
            target=target,
            ceiling=None if ceiling is None else float(ceiling),
        )
        for other in ("demobilisation", "separation"):  # each pair drains one stock: it must leave some of it
            rates = [_schedule(p.attrition, fp.start), _schedule(getattr(p, other), fp.start)]
            for m in sorted({m for r in rates for m in r}):
                total = sum(max((v for k, v in r.items() if k <= m), default=0.0) for r in rates)
                if total >= 0.99:
                    raise self.error(
                        ("force_plan", "personnel", other),
                        f"attrition and {other} together reach {total:g} a month from {m}",
                    )
        equipment = {
            k: EquipmentPlan(
                e.name, e.stock, _schedule(e.attrition, fp.start), _schedule(e.production, fp.start), e.target
            )
            for k, e in fp.equipment.items()
        }
        return ForcePlan(fp.start, fp.months, personnel, equipment, fp.target_by)


def _schedule(value: float | dict[str, float], start: str) -> dict[str, float]:
    return {start: float(value)} if isinstance(value, int | float) else dict(value)
