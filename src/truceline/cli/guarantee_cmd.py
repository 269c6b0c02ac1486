"""``truceline coalition`` and ``truceline forceplan``: the guarantee as live, checkable data.

Thin commands over :mod:`truceline.guarantee`: each loads a coalition file (the shipped example
by default), asks the library, and prints rich tables; ``--png`` also draws the chart or map.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from truceline.cli._common import (
    DB_HELP,
    DEFAULT_DB,
    EXIT_FAILED,
    console,
    existing_db,
    handle_errors,
    opened_store,
)
from truceline.model import UsageError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from truceline.guarantee import Coalition, ForcePlanResult, Situation

coalition_app = typer.Typer(
    help=(
        "The coalition's guarantee: the pledge menu, who pledged what, gaps against the plan's "
        "requirements, each guarantor's ratification, the reassurance force's posture and the "
        "coverage of skies and seas.\n\n"
        "Every command reads a coalition file (YAML; format in docs/guarantee.md). Without --file "
        "it reads $TRUCELINE_COALITION, else the example coalition shipped with Truceline. A bad file exits "
        "2 naming the file, the field and the reason."
    ),
    no_args_is_help=True,
)
forceplan_app = typer.Typer(
    help=(
        "Ukraine's force plan: personnel (recruitment, training places, demobilisation, attrition) "
        "and equipment (stocks, attrition, pledged deliveries) projected month by month against the "
        "800,000 target and the equipment lists, with the shortfalls and the pledges that would close "
        "them; 'whatif' compares a change (a delivery slips three months) with the plan."
    ),
    no_args_is_help=True,
)

FILE_HELP = "Coalition file (YAML). Default: $TRUCELINE_COALITION, else the example coalition shipped with Truceline."
PNG_HELP = "Also draw a PNG to this path."
LEVEL_HELP = "Warning level 1–5: pledges activated at a higher level are shown as conditional."

FileOpt = Annotated[str | None, typer.Option("--file", "-f", help=FILE_HELP)]
PngOpt = Annotated[Path | None, typer.Option("--png", help=PNG_HELP, dir_okay=False)]
LevelOpt = Annotated[int, typer.Option("--level", min=1, max=5, help=LEVEL_HELP)]


def _coalition(file: str | None) -> Coalition:
    from truceline.guarantee import EXAMPLE_COALITION, CoalitionError, load_coalition

    path = file or os.environ.get("TRUCELINE_COALITION") or str(EXAMPLE_COALITION)
    if not Path(path).exists():
        raise UsageError(f"{path}: no such coalition file")
    try:
        return load_coalition(path)
    except CoalitionError as exc:
        raise UsageError(str(exc)) from None


def _num(value: float) -> str:
    # Whole numbers of people and vehicles; one decimal only for small fractional values (5.5 orbits).
    return f"{value:,.1f}" if abs(value) < 10 and abs(value - round(value)) > 0.05 else f"{value:,.0f}"


def _drew(path: Path) -> None:
    console.print(f"wrote {path}")


# -- coalition ----------------------------------------------------------------------------------


@coalition_app.command()
@handle_errors
def menu(file: FileOpt = None) -> None:
    """The menu of capabilities a guarantor can pledge, with units of measure."""
    c = _coalition(file)
    table = Table("capability", "category", "name", "unit", "secures", "force-plan item", title="the menu")
    for cap in c.catalogue:
        secures = f"{cap.domain} ({cap.range_km:.0f} km)" if cap.domain != "none" else ""
        table.add_row(cap.id, cap.category, cap.name, cap.unit, secures, cap.equipment_class or "")
    console.print(table)


@coalition_app.command()
@handle_errors
def pledges(
    file: FileOpt = None,
    participant: Annotated[str | None, typer.Option(help="Only this participant's pledges (e.g. GBR).")] = None,
    capability: Annotated[
        str | None, typer.Option(help="Only pledges of this capability (prefix: 'equipment.').")
    ] = None,
    history: Annotated[str | None, typer.Option(help="Show every version of this pledge: its audit trail.")] = None,
    withdrawn: Annotated[bool, typer.Option("--withdrawn", help="Include withdrawn pledges.")] = False,
) -> None:
    """Who pledged what, how much, where based and under what conditions.

    Conditions: 'cease-fire' (stands only once a cease-fire holds), 'level N' (activated at warning
    level N), 'ratified' (only once the guarantor's ratification is in force). 'v' counts the versions
    of a pledge; --history ID lists them, with the reason for each change.
    """
    c = _coalition(file)
    if history is not None:
        try:
            versions = c.history(history)
        except KeyError as exc:
            raise UsageError(str(exc.args[0])) from None
        unit = c.catalogue[versions[0].capability].unit
        table = Table("v", "as of", "status", "quantity", "deliveries", "reason", title=f"history of {history}")
        for i, p in enumerate(versions, 1):
            tranches = ", ".join(f"{d.month}: {_num(d.quantity)}" for d in p.deliveries)
            table.add_row(str(i), p.as_of.isoformat(), p.status, f"{_num(p.quantity)} {unit}", tranches, p.reason)
        console.print(table)
        return
    table = Table(
        "pledge", "by", "capability", "quantity", "based", "conditions", "directives", "v", title=f"{c.title}: pledges"
    )
    shown = 0
    for p in c.pledges(include_withdrawn=withdrawn):
        if participant and p.participant != participant:
            continue
        if capability and not p.capability.startswith(capability):
            continue
        conditions = [
            *(["cease-fire"] if p.after_ceasefire else []),
            *([f"level {p.warning_level}"] if p.warning_level else []),
            *(["ratified"] if p.after_ratification else []),
        ]
        based = p.based.replace("_", " ") if p.based != "not_applicable" else ""
        status = "" if p.status == "active" else " [red](withdrawn)[/]"
        table.add_row(
            p.id + status,
            p.participant,
            p.capability,
            f"{_num(p.quantity)} {c.catalogue[p.capability].unit}",
            f"{based}: {p.base}" if p.base else based,
            ", ".join(conditions),
            ", ".join(p.directives),
            str(len(c.history(p.id))),
        )
        shown += 1
    console.print(table)
    console.print(
        f"{shown} pledges shown; {len(c.pledges())} current pledges from {len(c.participants())} participants "
        f"(as of {c.as_of})"
    )


def _situation(level: int, before_ceasefire: bool, ratified_only: bool) -> Situation:
    from truceline.guarantee import Situation

    return Situation(ceasefire=not before_ceasefire, warning_level=level, ratified_only=ratified_only)


@coalition_app.command()
@handle_errors
def gaps(
    file: FileOpt = None,
    level: LevelOpt = 1,
    before_ceasefire: Annotated[
        bool, typer.Option("--before-ceasefire", help="Count pledges as before a cease-fire.")
    ] = False,
    ratified_only: Annotated[
        bool, typer.Option("--ratified-only", help="Count only guarantors whose ratification is in force.")
    ] = False,
    requirements: Annotated[
        str | None, typer.Option(help="Requirements file (YAML 'requirements:' list) instead of the coalition's.")
    ] = None,
    png: PngOpt = None,
) -> None:
    """Requirements of the plan against pledges: the gap per capability.

    'pledged' counts the pledges available in the situation; 'conditional' those pledged but not
    available yet (a higher warning level, awaiting the cease-fire or ratification).
    """
    from truceline.guarantee import gap_table, load_requirements

    c = _coalition(file)
    situation = _situation(level, before_ceasefire, ratified_only)
    reqs = None
    if requirements is not None:
        from truceline.guarantee import CoalitionError

        try:
            reqs = load_requirements(requirements, c.catalogue)
        except CoalitionError as exc:
            raise UsageError(str(exc)) from None
    rows = gap_table(c, situation, reqs)
    table = Table(
        "capability",
        "unit",
        "required",
        "pledged",
        "conditional",
        "gap",
        "covered",
        "status",
        "largest pledgers",
        title=f"gaps: {situation.describe()}",
    )
    for r in rows:
        covered = "" if r.covered is None else f"{100 * r.covered:.0f}%"
        colour = {"met": "green", "short": "red"}.get(r.status, "yellow" if r.required else "dim")
        who = ", ".join(f"{p} {_num(q)}" for p, q in r.pledgers[:3])
        table.add_row(
            r.name,
            r.unit,
            _num(r.required),
            _num(r.pledged),
            _num(r.conditional) if r.conditional else "",
            _num(r.gap) if r.gap else "",
            covered,
            f"[{colour}]{r.status}[/]",
            who,
        )
    console.print(table)
    short = sum(1 for r in rows if r.required > 0 and r.gap > 0)
    console.print(f"{short} of {sum(1 for r in rows if r.required > 0)} required capabilities short")
    if png is not None:
        from truceline.guarantee.plots import plot_gaps

        _drew(plot_gaps(rows, png, f"{c.title} — {situation.describe()}"))


@coalition_app.command()
@handle_errors
def directives(
    file: FileOpt = None,
    directive: Annotated[str | None, typer.Option(help="Only this playbook directive id.")] = None,
) -> None:
    """Which pledges each playbook directive activates (directive ids as the playbook names them)."""
    c = _coalition(file)
    table = Table("directive", "pledge", "by", "capability", "quantity", "conditions", title="pledges by directive")
    for d, pledged in c.directives().items():
        if directive and d != directive:
            continue
        for i, p in enumerate(pledged):
            level = f"level {p.warning_level}" if p.warning_level else ""
            table.add_row(
                d if i == 0 else "",
                p.id,
                p.participant,
                p.capability,
                f"{_num(p.quantity)} {c.catalogue[p.capability].unit}",
                level,
            )
    console.print(table)


@coalition_app.command()
@handle_errors
def ratification(file: FileOpt = None) -> None:
    """Each guarantor's progress through its own ratification procedure (procedures are data in the file)."""
    from truceline.guarantee import ratification_table

    c = _coalition(file)
    table = Table("guarantor", "procedure", "progress", "last step", "since", "next step", title="ratification")
    rows = ratification_table(c)
    for r in rows:
        bar = "█" * r.done + "░" * (r.total - r.done)
        last = f"[green]{r.current}[/]" if r.in_force else (r.current or "[red]not signed[/]")
        table.add_row(
            f"{r.name} ({r.participant})",
            r.procedure,
            bar,
            last,
            r.since.isoformat() if r.since else "",
            r.next_step or "",
        )
    console.print(table)
    console.print(f"in force for {sum(r.in_force for r in rows)} of {len(rows)} guarantors (as of {c.as_of})")


@coalition_app.command()
@handle_errors
def posture(
    file: FileOpt = None,
    png: PngOpt = None,
    fail_on_findings: Annotated[
        bool, typer.Option("--fail-on-findings", help="Exit 1 when any position breaches a clause.")
    ] = False,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Also store the breaches as findings in this database (closing those now cured)."),
    ] = None,
) -> None:
    """Planned and actual unit positions checked against the agreement.

    Every position of a unit declared in Ukraine, and any position on Ukraine's territory, must be
    at least the agreed distance from the contact line (the default agreement: 200 km); any position
    on Ukraine's territory must be inside the basing area (the western oblasts). A breach is a finding
    citing the clause; it is not a load error.
    """
    from truceline.guarantee import posture as check

    c = _coalition(file)
    rows = check(c)
    rf = c.agreement.reassurance_force
    table = Table(
        "unit",
        "by",
        "capability",
        "position",
        "place",
        "from line",
        "basing area",
        "status",
        title=f"posture: at least {rf.min_distance_km:.0f} km from the line, based in {', '.join(rf.basing_oblasts)}",
    )
    for r in rows:
        status = f"[red]{r.status}[/]" if r.findings else f"[green]{r.status}[/]"
        basing = "yes" if r.in_basing_area else ("—" if not r.on_ukraine else "no")
        table.add_row(
            r.unit.id,
            r.unit.participant,
            r.unit.capability,
            r.which,
            r.position.place,
            f"{r.distance_km:,.0f} km",
            basing,
            status,
        )
    console.print(table)
    findings = [f for r in rows for f in r.findings]
    console.print(f"{len(findings)} findings on {len(rows)} positions of {len(c.units)} units")
    for f in findings:
        console.print(f"  [red]{f.clause_id}[/] {f.unit} ({f.which}, {f.place}): {f.reason}", soft_wrap=True)
    if png is not None:
        from truceline.guarantee.plots import plot_map

        _drew(plot_map(c, png, posture_rows=rows, title=f"{c.title}: reassurance-force posture"))
    if db is not None:
        _store_posture_findings(c, db)
    if fail_on_findings and findings:
        raise typer.Exit(EXIT_FAILED)


def _store_posture_findings(c: Any, db: str) -> None:
    """Write the posture's findings (verify's clause 8) into ``db``; unchanged ones are not rewritten."""
    from truceline.model import Finding, SystemClock
    from truceline.verify import reassurance_findings

    with opened_store(existing_db(db)) as store:
        existing: dict[str, Finding] = {}
        for stored in store.records("finding"):
            if isinstance(stored.record, Finding) and stored.record.clause_id.startswith("reassurance."):
                existing[stored.id] = stored.record
        new = [
            f
            for f in reassurance_findings(c, now=SystemClock().now(), existing=existing)
            if f.id not in existing
            or f.model_dump(exclude={"creation_info", "first_seen", "last_seen"})
            != existing[f.id].model_dump(exclude={"creation_info", "first_seen", "last_seen"})
        ]
        if new:
            store.put_records(new, type="finding")
    console.print(f"stored {len(new)} new finding versions in {db} (truceline findings list --db {db})")


@coalition_app.command()
@handle_errors
def coverage(
    file: FileOpt = None,
    which: Annotated[
        str, typer.Option(help="Positions to use: planned or actual (units not yet deployed drop out).")
    ] = "planned",
    png: PngOpt = None,
) -> None:
    """How much of Ukraine's skies and of the maritime zones the range rings cover.

    Air-policing and air-defence units secure a disc of their range (the menu's default or the unit's
    own); the air target is the area Ukraine controls, the sea target the agreement's maritime zones.
    """
    from truceline.guarantee import coverage as cover

    if which not in ("planned", "actual"):
        raise UsageError(f"--which must be planned or actual, not {which!r}")
    c = _coalition(file)
    results = [cover(c, "air", which), cover(c, "sea", which)]  # type: ignore[arg-type]
    table = Table("domain", "units", "covered", "target area", "share", title=f"coverage ({which} positions)")
    for r in results:
        table.add_row(
            r.domain, str(len(r.rings)), f"{r.covered_km2:,.0f} km²", f"{r.target_km2:,.0f} km²", f"{r.percent:.1f}%"
        )
    console.print(table)
    detail = Table("area", "share covered", title="by area")
    for r in results:
        for name, pct in sorted(r.by_area, key=lambda kv: -kv[1]):
            detail.add_row(f"{r.domain}: {name}", f"{pct:.0f}%")
    console.print(detail)
    if png is not None:
        from truceline.guarantee.plots import plot_map

        _drew(plot_map(c, png, coverages=results, title=f"{c.title}: coverage of skies and seas ({which})"))


@coalition_app.command()
@handle_errors
def audit(
    audit_file: Annotated[Path, typer.Argument(help="Equipment-audit file: deliveries, declarations, inspections.")],
) -> None:
    """Reconcile delivered equipment serial by serial with declarations and inspections.

    Lists missing (delivered, not declared), unexpected (declared or seen, never delivered),
    duplicated, not found at inspection, and misplaced serials. Exit 1 when any is found.
    """
    from truceline.guarantee import CoalitionError, load_audit, reconcile

    if not audit_file.exists():
        raise UsageError(f"{audit_file}: no such audit file")
    try:
        ledger = load_audit(audit_file)
    except CoalitionError as exc:
        raise UsageError(str(exc)) from None
    report = reconcile(ledger.items, ledger.declarations, ledger.inspections)
    table = Table("equipment", "delivered", "declared", "verified", title="equipment audit")
    for cls, (delivered, declared, verified) in report.by_class.items():
        table.add_row(cls, str(delivered), str(declared), str(verified))
    console.print(table)
    found = Table("serial", "discrepancy", "detail", title=f"{len(report.discrepancies)} discrepancies")
    for d in report.discrepancies:
        found.add_row(d.serial, f"[red]{d.kind}[/]", d.detail)
    if report.discrepancies:
        console.print(found)
    console.print(
        f"delivered {report.delivered}, declared {report.declared}, written off {report.written_off}, "
        f"verified by inspection {report.verified}"
    )
    if report.discrepancies:
        raise typer.Exit(EXIT_FAILED)


@coalition_app.command()
@handle_errors
def save(
    file: FileOpt = None,
    db: Annotated[str, typer.Option("--db", envvar="TRUCELINE_DB", help=DB_HELP)] = DEFAULT_DB,
) -> None:
    """Store every pledge version, ratification and unit in the database (and its evidence ledger).

    Idempotent: versions already stored are not stored again; a stored version that differs from the
    file's is refused (history is never rewritten — add an amendment instead).
    """
    from truceline.guarantee.persist import save_coalition

    c = _coalition(file)
    with opened_store(db) as store:
        try:
            added = save_coalition(store, c)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    console.print("stored " + ", ".join(f"{n} {k} versions" for k, n in added.items()))


# -- force plan ---------------------------------------------------------------------------------


def _signed(value: float) -> str:
    colour = "red" if value < -0.5 else ("green" if value > 0.5 else "dim")
    return f"[{colour}]{value:+,.0f}[/]"


def _series(result: ForcePlanResult, item: str) -> NDArray[np.float64]:
    p = result.projection
    return p.strength if item == "personnel" else p.stock[p.categories.index(item)]


MonthsOpt = Annotated[
    int | None, typer.Option("--months", min=1, max=600, help="Months to project (default: the file's).")
]


def _print_projection(result: ForcePlanResult, every: int) -> None:
    p = result.projection
    table = Table(
        "month",
        "strength",
        "regulars",
        "mobilised",
        "in training",
        "waiting",
        "recruited",
        "intake",
        "demobilised",
        "separated",
        "attrition",
        title="personnel (end of month; flows per month)",
    )
    idx = sorted({*range(0, len(p.months), every), len(p.months) - 1})
    for i in idx:
        table.add_row(
            p.months[i],
            *(
                _num(float(v[i]))
                for v in (
                    p.strength,
                    p.regular,
                    p.mobilised,
                    p.in_training,
                    p.waiting,
                    p.recruited,
                    p.intake,
                    p.demobilised,
                    p.separated,
                    p.attrition,
                )
            ),
        )
    console.print(table)


def _print_shortfalls(result: ForcePlanResult) -> None:
    table = Table(
        "item",
        "target",
        "projected",
        "shortfall",
        "met from",
        "largest contributors",
        "would close it",
        title=f"targets at {result.shortfalls[0].by} ({result.situation.describe()})",
    )
    for s in result.shortfalls:
        contributors = ", ".join(f"{c.pledge} {_num(c.amount)}" for c in s.contributors[:3])
        closers = ", ".join(
            f"{c.pledge} +{_num(c.amount)} ({c.note})" if c.note else f"{c.pledge} +{_num(c.amount)}" for c in s.closers
        )
        if s.shortfall > 0:
            closers = (closers + ("" if s.closable else " — not enough; new pledges needed")).lstrip(" —") or (
                "[red]no pledge closes it[/]"
            )
        colour = "green" if s.shortfall <= 0 else "red"
        table.add_row(
            s.name,
            _num(s.target),
            _num(s.projected),
            f"[{colour}]{_num(s.shortfall)}[/]",
            s.met_from or "",
            contributors,
            closers if s.shortfall > 0 else "",
        )
    console.print(table)
    if result.above_ceiling:
        first, last = result.above_ceiling[0], result.above_ceiling[-1]
        console.print(
            f"[yellow]above the agreement's ceiling of {_num(result.plan.personnel.ceiling or 0)}[/] "
            f"in {len(result.above_ceiling)} months ({first} … {last})"
        )


@forceplan_app.command()
@handle_errors
def project(
    file: FileOpt = None,
    months: MonthsOpt = None,
    level: LevelOpt = 1,
    every: Annotated[int, typer.Option(min=1, help="Print every N-th month.")] = 6,
    png: PngOpt = None,
) -> None:
    """Project personnel and equipment month by month; shortfalls and the pledges that close them.

    Pledges count when available at --level (after a cease-fire); tranches dated before the plan's
    start are taken to be in the starting stock. 'would close it' lists pledges not (fully) counted
    yet — activated at a higher warning level, or not delivered by the target month — with what each
    would add if it came in the first month.
    """
    from truceline.guarantee import run_force_plan

    c = _coalition(file)
    result = run_force_plan(c, situation=_situation(level, False, False), months=months)
    _print_projection(result, every)
    _print_shortfalls(result)
    if png is not None:
        from truceline.guarantee.plots import plot_forceplan

        _drew(plot_forceplan(result, png))


@forceplan_app.command()
@handle_errors
def whatif(
    file: FileOpt = None,
    slip: Annotated[
        list[str] | None,
        typer.Option(
            help="PLEDGE:MONTHS — delay a pledge's deliveries (or training start); '*:3' delays all. Repeatable."
        ),
    ] = None,
    withdraw: Annotated[list[str] | None, typer.Option(help="Treat this pledge as withdrawn. Repeatable.")] = None,
    recruitment_scale: Annotated[
        float, typer.Option(min=0, help="Multiply recruitment (0.8 = 20 % fewer recruits).")
    ] = 1.0,
    training_scale: Annotated[float, typer.Option(min=0, help="Multiply domestic training places.")] = 1.0,
    attrition_scale: Annotated[float, typer.Option(min=0, help="Multiply the attrition rate.")] = 1.0,
    months: MonthsOpt = None,
    level: LevelOpt = 1,
    png: PngOpt = None,
) -> None:
    """Compare a change with the plan: e.g. --slip BEL-f16:3 (Belgium's F-16s slip three months)."""
    from truceline.guarantee import WhatIf, run_force_plan

    slips: dict[str, int] = {}
    for item in slip or []:
        pid, sep, n = item.rpartition(":")
        if not sep or not pid or not n.lstrip("-").isdigit():
            raise UsageError(f"--slip {item!r}: write PLEDGE:MONTHS, e.g. BEL-f16:3")
        slips[pid] = int(n)
    change = WhatIf(
        slips=slips,
        withdrawn=frozenset(withdraw or ()),
        recruitment_scale=recruitment_scale,
        training_scale=training_scale,
        attrition_scale=attrition_scale,
    )
    c = _coalition(file)
    situation = _situation(level, False, False)
    base = run_force_plan(c, situation=situation, months=months)
    variant = run_force_plan(c, situation=situation, whatif=change, months=months)
    table = Table(
        "item",
        "target",
        "plan",
        "what-if",
        "change",
        "shortfall (plan → what-if)",
        "stock-months",
        title=f"what if: {change.describe()} — at {base.shortfalls[0].by}",
    )
    for a, b in zip(base.shortfalls, variant.shortfalls, strict=True):
        delta = b.projected - a.projected
        # A later delivery can even leave more at the target date (less time to wear out), so the
        # cost of a delay is also shown as stock-months forgone up to the target month.
        difference = _series(variant, a.item) - _series(base, a.item)
        forgone = float(difference[: base.projection.months.index(a.by) + 1].sum())
        table.add_row(
            a.name,
            _num(a.target),
            _num(a.projected),
            _num(b.projected),
            _signed(delta),
            f"{_num(a.shortfall)} → {_num(b.shortfall)}",
            _signed(forgone),
        )
    console.print(table)
    if png is not None:
        from truceline.guarantee.plots import plot_forceplan

        _drew(plot_forceplan(base, png, variant))
