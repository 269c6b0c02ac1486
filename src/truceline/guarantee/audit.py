"""Equipment audit: delivered equipment reconciled piece for piece with declarations and inspections.

As the Korean armistice's neutral inspection teams did, every delivered item is followed by its
serial number: the donors' delivery ledger, Ukraine's declarations of where each item is held
(or that it was written off), and the inspectors' lists of serials seen at each site. Discrepancies:

``missing``     delivered, but neither held nor written off in the latest declaration
``unexpected``  declared or seen, but never delivered
``duplicated``  a serial delivered twice, declared at two places at once, or seen at two sites on one day
``not_found``   declared at a site, not seen when that site was inspected
``misplaced``   seen at a site other than the one it was declared at

An item is *verified* once it was seen at the site it was declared at. Inspections can also be
made from the monitors' :class:`~truceline.model.StorageSiteVisit` observations.

>>> from datetime import date
>>> items = [DeliveredItem(id=s, donor="DEU", equipment_class="tank", delivered=date(2026, 10, 1)) for s in "ABC"]
>>> decl = Declaration(date(2026, 11, 1), {"S1": ("A", "B", "X")})
>>> seen = Inspection(date(2026, 11, 5), "S1", ("A", "X"))
>>> report = reconcile(items, [decl], [seen])
>>> sorted((d.serial, d.kind) for d in report.discrepancies)
[('B', 'not_found'), ('C', 'missing'), ('X', 'unexpected')]
>>> report.verified
1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import pydantic

from truceline.agreement import Agreement, default_agreement
from truceline.guarantee._yaml import PathKey, read_yaml, translate
from truceline.guarantee.records import DeliveredItem
from truceline.model import StorageSiteVisit

__all__ = [
    "AuditLedger",
    "AuditReport",
    "Declaration",
    "Discrepancy",
    "DiscrepancyKind",
    "Inspection",
    "inspections_from_visits",
    "load_audit",
    "reconcile",
]

DiscrepancyKind = Literal["missing", "unexpected", "duplicated", "not_found", "misplaced"]


@dataclass(frozen=True)
class Declaration:
    """Ukraine's declaration on a date: serials held per site (or unit), and serials written off."""

    date: date
    holdings: Mapping[str, Sequence[str]]
    written_off: Sequence[str] = ()


@dataclass(frozen=True)
class Inspection:
    """The serials an inspection team saw at one site on one date."""

    date: date
    site: str
    seen: Sequence[str]
    by: str = ""


@dataclass(frozen=True, order=True)
class Discrepancy:
    serial: str
    kind: DiscrepancyKind
    detail: str


@dataclass(frozen=True)
class AuditReport:
    delivered: int
    declared: int
    written_off: int
    verified: int
    discrepancies: tuple[Discrepancy, ...]
    by_class: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)
    """equipment class → (delivered, declared, verified)."""

    def counts(self) -> dict[str, int]:
        return dict(Counter(d.kind for d in self.discrepancies))


@dataclass(frozen=True)
class AuditLedger:
    items: tuple[DeliveredItem, ...]
    declarations: tuple[Declaration, ...]
    inspections: tuple[Inspection, ...]


def _latest(declarations: Sequence[Declaration], on: date | None = None) -> Declaration | None:
    usable = [d for d in declarations if on is None or d.date <= on]
    return max(usable, key=lambda d: d.date) if usable else None


def _sites(declaration: Declaration | None) -> dict[str, list[str]]:
    """serial → every site the declaration holds it at."""
    out: dict[str, list[str]] = {}
    if declaration is not None:
        for site, serials in declaration.holdings.items():
            for s in serials:
                out.setdefault(s, []).append(site)
    return out


def reconcile(
    items: Iterable[DeliveredItem], declarations: Sequence[Declaration], inspections: Sequence[Inspection]
) -> AuditReport:
    """Reconcile the serial-number ledger with the declarations and inspections."""
    items = list(items)
    found: set[Discrepancy] = set()
    delivered_count = Counter(i.id for i in items)
    delivered = {i.id: i for i in items}
    for serial, n in delivered_count.items():
        if n > 1:
            found.add(Discrepancy(serial, "duplicated", f"delivered {n} times in the ledger"))

    latest = _latest(declarations)
    held = _sites(latest)
    written_off = set(latest.written_off) if latest is not None else set()
    for decl in declarations:
        for serial, sites in _sites(decl).items():
            if len(sites) > 1:
                found.add(Discrepancy(serial, "duplicated", f"declared on {decl.date} at {', '.join(sorted(sites))}"))
    for serial, item in delivered.items():
        if serial not in held and serial not in written_off:
            when = f"in the declaration of {latest.date}" if latest else "(no declaration yet)"
            found.add(
                Discrepancy(serial, "missing", f"delivered by {item.donor} on {item.delivered}, not declared {when}")
            )
    # One "unexpected" per serial, however many places it turned up in.
    unexpected: dict[str, list[str]] = {s: ["declared"] for s in set(held) | written_off if s not in delivered}

    verified: set[str] = set()
    seen_on: dict[tuple[str, date], set[str]] = {}
    # (serial, site) → date of the latest inspection of the site that did not see it; a later
    # inspection that sees it there settles it, so the open list is "not seen since".
    unseen: dict[tuple[str, str], date] = {}
    for insp in sorted(inspections, key=lambda i: i.date):
        declared_then = _sites(_latest(declarations, insp.date))
        seen = set(insp.seen)
        for serial in seen:
            seen_on.setdefault((serial, insp.date), set()).add(insp.site)
            unseen.pop((serial, insp.site), None)
            if serial not in delivered:
                unexpected.setdefault(serial, []).append(f"seen at {insp.site} on {insp.date}")
            sites = declared_then.get(serial, [])
            if insp.site in sites:
                verified.add(serial)
            elif sites:
                found.add(
                    Discrepancy(
                        serial, "misplaced", f"seen at {insp.site} on {insp.date}, declared at {', '.join(sites)}"
                    )
                )
        for serial, sites in declared_then.items():
            if insp.site in sites and serial not in seen:
                unseen[(serial, insp.site)] = insp.date
    for serial, where in unexpected.items():
        found.add(Discrepancy(serial, "unexpected", f"{', '.join(where)}, never delivered"))
    for (serial, site), day in unseen.items():
        found.add(Discrepancy(serial, "not_found", f"declared at {site}, not seen there on {day}"))
    for (serial, day), places in seen_on.items():
        if len(places) > 1:
            found.add(Discrepancy(serial, "duplicated", f"seen on {day} at {', '.join(sorted(places))}"))

    by_class: dict[str, list[int]] = {}
    for serial, item in delivered.items():
        row = by_class.setdefault(item.equipment_class, [0, 0, 0])
        row[0] += 1
        row[1] += serial in held
        row[2] += serial in verified
    return AuditReport(
        delivered=len(delivered),
        declared=len(held),
        written_off=len(written_off),
        verified=len(verified & set(delivered)),
        discrepancies=tuple(sorted(found)),
        by_class={k: (v[0], v[1], v[2]) for k, v in sorted(by_class.items())},
    )


def inspections_from_visits(visits: Iterable[StorageSiteVisit]) -> list[Inspection]:
    """Inspections from monitors' storage-site visits (visits refused access verify nothing)."""
    return [
        Inspection(v.time.date(), v.site_id, tuple(v.serials_present), v.participant)
        for v in visits
        if v.access_granted
    ]


class _Spec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


Serial = Annotated[str, pydantic.StringConstraints(min_length=1, max_length=64)]


class _DeliveryGroup(_Spec):
    donor: str
    equipment_class: str
    model: str = ""
    pledge: str | None = None
    date: date
    serials: tuple[Serial, ...] = pydantic.Field(min_length=1)


class _DeclarationSpec(_Spec):
    date: date
    by: str = "UKR"
    holdings: dict[str, tuple[Serial, ...]] = pydantic.Field(default_factory=dict)
    written_off: tuple[Serial, ...] = ()


class _InspectionSpec(_Spec):
    date: date
    by: str
    site: str
    seen: tuple[Serial, ...] = ()


class _AuditSpec(_Spec):
    format_version: Literal[1]
    note: str = ""
    deliveries: tuple[_DeliveryGroup, ...] = ()
    declarations: tuple[_DeclarationSpec, ...] = ()
    inspections: tuple[_InspectionSpec, ...] = ()


def load_audit(path: str | Path, agreement: Agreement | None = None) -> AuditLedger:
    """Read an equipment-audit file (deliveries, declarations, inspections); errors name file, path, reason."""
    data, lines = read_yaml(path)
    try:
        spec = _AuditSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        fields = {n for m in (_AuditSpec, _DeliveryGroup, _DeclarationSpec, _InspectionSpec) for n in m.model_fields}
        raise translate(exc, lines, data, fields) from None
    agreement = agreement or default_agreement()
    known = agreement.participant_ids()
    checks: list[tuple[PathKey, str]] = [(("deliveries", i, "donor"), g.donor) for i, g in enumerate(spec.deliveries)]
    checks += [(("declarations", i, "by"), d.by) for i, d in enumerate(spec.declarations)]
    checks += [(("inspections", i, "by"), d.by) for i, d in enumerate(spec.inspections)]
    for where, who in checks:
        if who not in known:
            raise lines.error(where, f"unknown participant {who!r}: not a participant of {agreement.id}")
    items = []
    for i, g in enumerate(spec.deliveries):
        for j, serial in enumerate(g.serials):
            try:
                items.append(
                    DeliveredItem(
                        id=serial,
                        donor=g.donor,
                        equipment_class=g.equipment_class,
                        model=g.model,
                        pledge=g.pledge,
                        delivered=g.date,
                    )
                )
            except pydantic.ValidationError as exc:
                reason = str(exc.errors()[0]["msg"])
                raise lines.error(("deliveries", i, "serials", j), reason) from None
    return AuditLedger(
        items=tuple(items),
        declarations=tuple(Declaration(d.date, d.holdings, d.written_off) for d in spec.declarations),
        inspections=tuple(Inspection(s.date, s.site, s.seen, s.by) for s in spec.inspections),
    )
