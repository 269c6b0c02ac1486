"""The OSCE-style plain-text report: the baseline Truceline's daily report is compared with.

Before 2022 the OSCE Special Monitoring Mission published, each next day, a text counting the
cease-fire violations it recorded per area, with the explosions among them and the change from
the previous report. This is that report made from the same store — counts per sector and the
day before, nothing more (no attribution, no map, no warning) — written the plain way, as the
peer of the benchmark and as a fallback a reader can paste into a message.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from truceline.agreement import Agreement
from truceline.model import Incident, PatrolReport
from truceline.report._collect import day_bounds
from truceline.report._counts import EXPLOSIVE_CLASSES
from truceline.report._view import Viewer
from truceline.store import ObservationQuery, Store


def osce_text_report(store: Store, agreement: Agreement, day: date, viewer: Viewer | None = None) -> str:
    """Violations and explosions per sector for ``day`` against the day before, as plain text."""
    view = viewer or Viewer.full()
    prev = day - timedelta(days=1)
    start, end = day_bounds(prev)[0], day_bounds(day)[1]
    incidents = [
        s.record for s in store.records("incident") if isinstance(s.record, Incident) and start <= s.record.start < end
    ]
    incidents = view.keep("incident", incidents, lambda r: r.markings)
    patrols = [
        s.observation
        for s in store.observations(ObservationQuery(kinds=("patrol_report",), start=start, end=end))
        if isinstance(s.observation, PatrolReport)
    ]
    patrols = view.keep("observations", patrols, lambda o: o.markings)
    names = {s.id: s.name for s in agreement.sectors}
    violations: dict[date, Counter[str]] = {prev: Counter(), day: Counter()}
    explosions: dict[date, Counter[str]] = {prev: Counter(), day: Counter()}
    for inc in incidents:
        sector = inc.sector
        if sector is None and inc.preferred_origin is not None:
            loc = inc.preferred_origin.location
            sector = str(agreement.sector_of([loc.lon], [loc.lat])[0]) or None
        d = inc.start.date()
        violations[d][sector or "elsewhere"] += 1
        if inc.weapon_class in EXPLOSIVE_CLASSES:
            explosions[d][sector or "elsewhere"] += 1
    logged: dict[date, Counter[str]] = {prev: Counter(), day: Counter()}
    for p in patrols:
        sector = str(agreement.sector_of([p.location.lon], [p.location.lat])[0]) or "elsewhere"
        logged[p.time.date()][sector] += p.explosions
    lines = [
        f"DAILY REPORT {day.isoformat()} (for {view.label})",
        "",
        f"Since the previous report the mechanism recorded {sum(violations[day].values())} cease-fire "
        f"violations (previous day: {sum(violations[prev].values())}), including "
        f"{sum(explosions[day].values())} explosions (previous day: {sum(explosions[prev].values())}).",
        f"Patrols logged {sum(logged[day].values())} explosions (previous day: {sum(logged[prev].values())}).",
        "",
    ]
    if not incidents and not patrols:
        lines.append(f"No data for {day.isoformat()}.")
    for sector in sorted(set(violations[day]) | set(violations[prev]) | set(logged[day])):
        lines.append(
            f"- {sector} {names.get(sector, '')}: {violations[day][sector]} violations "
            f"({violations[prev][sector]} the day before), {explosions[day][sector]} explosions; "
            f"patrols logged {logged[day][sector]} explosions."
        )
    return "\n".join(lines) + "\n"
