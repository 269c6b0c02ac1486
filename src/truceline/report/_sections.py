"""The report's sections, each built from whatever records exist and saying so when a stage made none."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from truceline.agreement import Agreement
from truceline.model import Claim, Finding, ImageryDetection, MovementDenial, PatrolReport, StorageSiteVisit
from truceline.report._collect import HISTORY_DAYS, STAGE_OF_TYPE, DayData, day_bounds
from truceline.report._content import Plot, Section, Table
from truceline.report._counts import (
    NO_SECTOR,
    UNDETERMINED,
    IncidentColumns,
    count_by_sector_side,
    daily_counts,
    incident_columns,
)
from truceline.report._escalation import escalation_of
from truceline.report._figures import SIDE_COLOURS, escalation_figure, level_grid_figure, map_figure, series_figure

STAGING_CLAUSES = frozenset({"no_staging"})
SUSPICION_FLAG = 0.5
"""A staging finding at or above this confidence is listed as a suspicion; below it, as checked."""


def _on(moment: datetime, day: date) -> bool:
    start, end = day_bounds(day)
    return start <= moment < end


def _fmt_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _change(today: float, before: float) -> str:
    delta = today - before
    return f"{delta:+.0f}" if delta else "±0"


def absent(data: DayData, type_name: str, what: str) -> str:
    """Why a section is empty, without revealing to a participant whether hidden records exist."""
    stage = STAGE_OF_TYPE[type_name]
    if type_name in data.unreadable:
        return f"No {what}: the store cannot read these records ({data.unreadable[type_name]})."
    if not data.viewer.is_full:
        return f"No {what} that you may see for {data.day} (none stored, or the {stage} stage has not run)."
    if type_name not in data.types_in_store:
        return f"No {what}: the {stage} stage has not run (the store holds none)."
    return f"No {what} for {data.day} (the {stage} stage has run and produced none for this day)."


class Builder:
    """Builds every section from one :class:`DayData`."""

    def __init__(self, data: DayData, agreement: Agreement) -> None:
        self.data = data
        self.agreement = agreement
        self.day = data.day
        self.prev = data.previous_day
        self.parties = tuple(p.id for p in agreement.parties)
        self.cols: IncidentColumns = incident_columns(data.incidents, agreement)
        self.sector_ids = [s.id for s in agreement.sectors]
        self.sector_names = {s.id: s.name for s in agreement.sectors}
        self.levels_today = {a.sector: a.warning_level for a in data.assessments if a.day == self.day.isoformat()}
        self.levels_prev = {a.sector: a.warning_level for a in data.assessments if a.day == self.prev.isoformat()}

    # -- helpers -----------------------------------------------------------------------------
    def _sector_of(self, lon: float | None, lat: float | None) -> str:
        if lon is None or lat is None:
            return NO_SECTOR
        return str(self.agreement.sector_of([lon], [lat])[0]) or NO_SECTOR

    def _sectors_with_data(self) -> list[str]:
        used = set(self.cols.sector.tolist()) | set(self.levels_today) | set(self.levels_prev)
        contact = [s.id for s in self.agreement.sectors if s.kind == "contact_line"]
        ordered = contact + [s for s in self.sector_ids if s in used and s not in contact]
        return ordered + ([NO_SECTOR] if NO_SECTOR in used else [])

    def _findings(self) -> tuple[list[Finding], list[Finding]]:
        """(compliance findings, staging findings) the viewer may see."""
        compliance = [f for f in self.data.findings if f.clause_id not in STAGING_CLAUSES]
        staging = [f for f in self.data.findings if f.clause_id in STAGING_CLAUSES]
        return compliance, staging

    # -- sections ----------------------------------------------------------------------------
    def overview(self) -> Section:
        sec = Section("overview", "Per sector at a glance")
        sectors = self._sectors_with_data()
        today = count_by_sector_side(self.cols, self.day, sectors)
        prev = count_by_sector_side(self.cols, self.prev, sectors)
        compliance, _ = self._findings()
        opened = Counter(f.sector or NO_SECTOR for f in compliance if _on(f.first_seen, self.day))
        denials = Counter(
            self._sector_of(o.location.lon, o.location.lat) for o in self.data.details_on(self.day, "movement_denial")
        )
        rows = []
        for i, sector in enumerate(sectors):
            level = self.levels_today.get(sector)
            level_prev = self.levels_prev.get(sector)
            n, n_prev = int(today.count[i].sum()), int(prev.count[i].sum())
            if not (n or n_prev or level or opened[sector] or denials[sector]):
                continue
            rows.append(
                (
                    sector,
                    self.sector_names.get(sector, ""),
                    "—"
                    if level is None
                    else f"{level}" + ("" if level_prev in (None, level) else f" (was {level_prev})"),
                    str(n),
                    str(n_prev),
                    _change(n, n_prev),
                    str(opened[sector]),
                    str(denials[sector]),
                )
            )
        if rows:
            sec.tables.append(
                Table(
                    (
                        "Sector",
                        "Name",
                        "Warning level",
                        "Incidents",
                        "Previous day",
                        "Change",
                        "Findings opened",
                        "Movement denials",
                    ),
                    rows,
                    numeric=frozenset({3, 4, 5, 6, 7}),
                )
            )
        else:
            sec.notes.append(f"Nothing was recorded in any sector on {self.day} or the day before.")
        return sec

    def violations(self) -> Section:
        sec = Section("violations", "Cease-fire violations per sector and side")
        if not self.data.incidents:
            sec.notes.append(absent(self.data, "incident", "incidents"))
        else:
            sec.notes.append(
                "An incident counts for a side when its preferred attribution gives that side at least 60 %; "
                "otherwise it is undetermined. 'Expected' sums the probabilities, so it carries the "
                "attribution's uncertainty. Explosive share: incidents of artillery, rocket, mortar, tank and "
                "anti-tank fire among those whose weapon class is known."
            )
            sectors = self._sectors_with_data()
            today = count_by_sector_side(self.cols, self.day, sectors)
            prev = count_by_sector_side(self.cols, self.prev, sectors)
            rows = []
            line_explosive = max(int(today.explosive.sum()), 1)
            for i, sector in enumerate(sectors):
                for j, side in enumerate(today.sides):
                    n, n_prev = int(today.count[i, j]), int(prev.count[i, j])
                    if not (n or n_prev):
                        continue
                    known = int(today.known_class[i, j])
                    share = f"{100.0 * today.explosive[i, j] / known:.0f} %" if known else "—"
                    rows.append(
                        (
                            sector,
                            side,
                            str(n),
                            f"{today.expected[i, j]:.1f}",
                            str(n_prev),
                            _change(n, n_prev),
                            str(int(today.explosive[i, j])),
                            share,
                            f"{100.0 * today.explosive[i, j] / line_explosive:.1f} %",
                        )
                    )
            totals = [
                (
                    "all sectors",
                    side,
                    str(int(today.count[:, j].sum())),
                    f"{today.expected[:, j].sum():.1f}",
                    str(int(prev.count[:, j].sum())),
                    _change(int(today.count[:, j].sum()), int(prev.count[:, j].sum())),
                    str(int(today.explosive[:, j].sum())),
                    f"{100.0 * today.explosive[:, j].sum() / max(int(today.known_class[:, j].sum()), 1):.0f} %",
                    f"{100.0 * today.explosive[:, j].sum() / line_explosive:.1f} %",
                )
                for j, side in enumerate(today.sides)
                if today.count[:, j].sum() or prev.count[:, j].sum()
            ]
            sec.tables.append(
                Table(
                    (
                        "Sector",
                        "Side",
                        "Incidents",
                        "Expected",
                        "Previous day",
                        "Change",
                        "Explosive",
                        "Explosive share",
                        "Share of line's explosions",
                    ),
                    rows + totals,
                    caption=f"Incidents that started on {self.day}, by most likely firing side",
                    numeric=frozenset(range(2, 9)),
                )
            )
        sec.tables.extend(self._patrol_table())
        return sec

    def _patrol_table(self) -> list[Table]:
        """Explosions, bursts and shots logged by observers (the OSCE mission's own measure)."""
        totals: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
        for day in (self.prev, self.day):
            for o in self.data.details_on(day, "patrol_report"):
                assert isinstance(o, PatrolReport)
                cell = totals[self._sector_of(o.location.lon, o.location.lat)][day]
                cell[0] += 1
                cell[1] += o.explosions
                cell[2] += o.bursts
                cell[3] += o.shots
        if not totals:
            return [Table(("Sector",), [], caption=f"No patrol reports on {self.day} or the day before.")]
        rows = []
        for sector in sorted(totals):
            t, p = totals[sector][self.day], totals[sector][self.prev]
            seen = t[1] + t[2] + t[3]
            rows.append(
                (
                    sector,
                    str(t[0]),
                    str(t[1]),
                    str(p[1]),
                    _change(t[1], p[1]),
                    str(t[2]),
                    str(t[3]),
                    f"{100.0 * t[1] / seen:.0f} %" if seen else "—",
                )
            )
        return [
            Table(
                (
                    "Sector",
                    "Patrol reports",
                    "Explosions",
                    "Previous day",
                    "Change",
                    "Bursts",
                    "Shots",
                    "Explosion share",
                ),
                rows,
                caption="Observed by patrols (counts as logged; patrol reports do not attribute a side)",
                numeric=frozenset(range(1, 8)),
            )
        ]

    def map(self) -> Section:
        sec = Section("map", "Map")
        sel = self.cols.day == self.day.isoformat()
        compliance, _ = self._findings()
        findings = [
            (f.location.lon, f.location.lat)
            for f in compliance
            if f.location is not None and (_on(f.first_seen, self.day) or _on(f.last_seen, self.day))
        ]
        denials = [(o.location.lon, o.location.lat) for o in self.data.details_on(self.day, "movement_denial")]
        image = map_figure(
            self.agreement,
            incidents=(self.cols.lon[sel], self.cols.lat[sel], self.cols.side[sel]),
            findings=findings,
            denials=denials,
            levels=self.levels_today,
            title=f"{self.day}: incident origins by most likely side; sectors coloured by warning level",
        )
        sec.plots.append(
            Plot(
                image,
                "Contact line (black), controlled areas (blue: UKR, red: RUS), disengagement areas (hatched), "
                "sectors coloured by warning level (green 1 … red 5; grey: not assessed), incident origins "
                "(dots), findings (triangles), movement denials (crosses). Drawn from the agreement's geodata.",
                "map of the contact line and the day's incidents",
            )
        )
        if not int(sel.sum()):
            sec.notes.append("No incidents to plot for this day.")
        return sec

    def escalation(self) -> Section:
        sec = Section("escalation", "Escalation")
        days = [self.day - timedelta(days=k) for k in range(HISTORY_DAYS - 1, -1, -1)]
        if self.data.incidents:
            sides = [*self.parties, UNDETERMINED]
            per_side = daily_counts(self.cols, days, sides, "side")
            sec.plots.append(
                Plot(
                    series_figure(
                        days,
                        {s: per_side[i] for i, s in enumerate(sides)},
                        title="Incidents per day by most likely side",
                        ylabel="incidents",
                        colours=SIDE_COLOURS,
                    ),
                    f"Incidents per day over the {HISTORY_DAYS} days to {self.day}.",
                    "incidents per day by side",
                )
            )
            sectors = [s for s in self.sector_ids]
            per_sector = daily_counts(self.cols, days, sectors, "sector")
            top = np.argsort(-per_sector[:, -3:].sum(axis=1), kind="stable")[:6]
            top = top[per_sector[top].sum(axis=1) > 0]
            if top.size:
                sec.plots.append(
                    Plot(
                        series_figure(
                            days,
                            {sectors[i]: per_sector[i] for i in top.tolist()},
                            title="Incidents per day in the busiest sectors of the last three days",
                            ylabel="incidents",
                        ),
                        "The six sectors with most incidents over the last three days.",
                        "incidents per day by sector",
                    )
                )
        else:
            sec.notes.append(absent(self.data, "incident", "incidents to plot"))
        if self.data.assessments:
            sectors = sorted({a.sector for a in self.data.assessments})
            grid = np.full((len(sectors), len(days)), np.nan)
            index = {d.isoformat(): k for k, d in enumerate(days)}
            for a in self.data.assessments:
                grid[sectors.index(a.sector), index[a.day]] = a.warning_level
            sec.plots.append(
                Plot(
                    level_grid_figure(days, sectors, grid, title="Warning level per sector and day"),
                    "Blank cells: no assessment for that sector and day.",
                    "warning levels per sector and day",
                )
            )
            self._escalation_model(sec, days)
        else:
            sec.notes.append(absent(self.data, "assessment", "assessments to plot"))
        return sec

    def _escalation_model(self, sec: Section, days: list[date]) -> None:
        """The assess stage's Hawkes fits: the sectors with the highest branching ratio on the day (up to six)."""
        index = {d.isoformat(): k for k, d in enumerate(days)}
        fits: dict[str, list[dict[str, Any] | None]] = {}
        for a in self.data.assessments:
            e = escalation_of(a)
            if e is not None and e["fitted"] and a.day in index:
                fits.setdefault(a.sector, [None] * len(days))[index[a.day]] = e
        if not fits:
            sec.notes.append("No escalation fit to plot: no sector had enough fire in its window to fit the model.")
            return

        def latest(sector: str) -> float:
            last = next((r for r in reversed(fits[sector]) if r is not None), None)
            return -1.0 if last is None else float(last["ratio"])

        top = sorted(fits, key=lambda s: (-latest(s), s))[:6]
        title = "Escalation model: branching ratio and retaliation"
        sec.plots.append(
            Plot(
                escalation_figure(days, {s: fits[s] for s in top}, title=title),
                "The assess stage's bivariate Hawkes fit of each sector's fire over its trailing window, for the "
                f"{len(top)} sector{'s' if len(top) != 1 else ''} with the highest latest branching ratio. Upper: the "
                "branching ratio (how many further shots one shot brings, all generations) with its 95 % interval "
                "(shaded); dashed red at 1, dotted orange at 0.75 (a spiral is flagged when the interval's lower "
                "bound reaches it; circled in red). Lower: retaliation, how strongly each side's fire answers the "
                "other's (solid UKR←RUS, dashed RUS←UKR).",
                "escalation model per sector: branching ratio with 95 % interval and retaliation terms",
            )
        )

    def warnings(self) -> Section:
        sec = Section("warnings", "Indicators and warning levels")
        today = sorted((a for a in self.data.assessments if a.day == self.day.isoformat()), key=lambda a: a.sector)
        if not today:
            sec.notes.append(absent(self.data, "assessment", "assessments"))
            return sec
        rows = []
        for a in today:
            was = self.levels_prev.get(a.sector)
            drivers = sorted(a.drivers, key=lambda d: -abs(d.contribution))[:3]
            rows.append(
                (
                    a.sector,
                    str(a.warning_level),
                    "—" if was is None else str(was),
                    f"{a.p_offensive_7d:.2f}",
                    f"{a.p_offensive_14d:.2f}",
                    "—" if a.branching_ratio is None else f"{a.branching_ratio:.2f}",
                    "; ".join(
                        f"{d.indicator} {d.value:.3g}"
                        + ("" if d.baseline is None else f" (baseline {d.baseline:.3g})")
                        + f" → {d.contribution:+.2f}"
                        for d in drivers
                    )
                    or "—",
                )
            )
        sec.tables.append(
            Table(
                (
                    "Sector",
                    "Level",
                    "Previous day",
                    "P(offensive, 7 d)",
                    "P(offensive, 14 d)",
                    "Branching ratio",
                    "Main drivers",
                ),
                rows,
                caption="Assessments for the day (levels 1–5; the branching ratio is the escalation model's share "
                "of fire that answers earlier fire)",
                numeric=frozenset({1, 2, 3, 4, 5}),
            )
        )
        return sec

    def findings(self) -> Section:
        sec = Section("findings", "Findings opened and closed")
        compliance, _ = self._findings()
        if not compliance:
            sec.notes.append(absent(self.data, "finding", "findings"))
            return sec
        opened = [f for f in compliance if _on(f.first_seen, self.day)]
        closed = [f for f in compliance if f.status == "closed" and _on(_closed_at(f), self.day)]
        still_open = [f for f in compliance if f.status != "closed" and f.first_seen < self.data.end]
        sec.notes.append(
            f"{len(opened)} opened, {len(closed)} closed on {self.day}; {len(still_open)} not closed at the day's end."
        )
        for title, items in (("Opened", opened), ("Closed", closed)):
            if not items:
                continue
            sec.tables.append(
                Table(
                    (
                        "Finding",
                        "Clause",
                        "Side",
                        "Sector",
                        "Confidence",
                        "Status",
                        "First seen",
                        "Evidence",
                        "Incidents",
                    ),
                    [
                        (
                            f.id,
                            f.clause_id,
                            f.side or "—",
                            f.sector or "—",
                            f"{f.confidence:.2f}",
                            f.status,
                            _fmt_time(f.first_seen),
                            str(len(f.evidence)),
                            str(len(f.incidents)),
                        )
                        for f in sorted(items, key=lambda f: (-f.confidence, f.id))
                    ],
                    caption=f"{title} on {self.day}",
                    numeric=frozenset({4, 7, 8}),
                )
            )
        return sec

    def staging(self) -> Section:
        sec = Section("staging", "Staging suspicions")
        _, staging = self._findings()
        todays = [f for f in staging if _on(f.first_seen, self.day) or _on(f.creation_info.created, self.day)]
        claims = [o for o in self.data.details_on(self.day, "claim") if isinstance(o, Claim)]
        checked = {f.id for f in staging}
        if not staging and self.data.viewer.is_full and "finding" not in self.data.types_in_store:
            sec.notes.append(absent(self.data, "finding", "claim checks"))
        elif not todays:
            sec.notes.append(f"No claim checks for {self.day} that you may see.")
        flagged = [f for f in todays if f.confidence >= SUSPICION_FLAG]
        if todays:
            sec.notes.append(
                f"{len(flagged)} of {len(todays)} claims checked for {self.day} are suspected of staging "
                f"(suspicion ≥ {SUSPICION_FLAG:.1f})."
            )
            sec.tables.append(
                Table(
                    ("Claim check", "Claimant", "Sector", "Suspicion", "Verdict", "Main reasons"),
                    [
                        (
                            f.id,
                            f.side or "—",
                            f.sector or "—",
                            f"{f.confidence:.2f}" + (" ⚑" if f.confidence >= SUSPICION_FLAG else ""),
                            f.creation_info.note.removeprefix("verdict: ") or "—",
                            "; ".join(e.description for e in f.evidence[:3])[:400] or "—",
                        )
                        for f in sorted(todays, key=lambda f: (-f.confidence, f.id))
                    ],
                    numeric=frozenset({3}),
                )
            )
        unchecked = [c for c in claims if f"staging:{c.participant}:{c.source}:{c.key}" not in checked]
        if claims:
            sec.tables.append(
                Table(
                    ("Time", "Claimant", "Accuses", "Kind", "Place", "Checked"),
                    [
                        (
                            _fmt_time(c.claimed_time),
                            c.claimant,
                            c.accused,
                            c.claim_kind,
                            c.place_name or (f"{c.location.lat:.3f}, {c.location.lon:.3f}" if c.location else "—"),
                            "no" if c in unchecked else "yes",
                        )
                        for c in sorted(claims, key=lambda c: c.claimed_time)
                    ],
                    caption=f"Claims received on {self.day}",
                )
            )
        staged_incidents = [i for i in self.data.incidents if i.kind == "staging" and _on(i.start, self.day)]
        if staged_incidents:
            sec.notes.append(f"{len(staged_incidents)} incidents of kind 'staging' started on {self.day}.")
        return sec

    def alerts(self) -> Section:
        sec = Section("alerts", "Alerts and directives")
        todays = sorted((a for a in self.data.alerts if _on(a.sent, self.day)), key=lambda a: (a.sent, a.id))
        if todays:
            sec.tables.append(
                Table(
                    ("Sent", "Kind", "Severity", "Sector", "Headline"),
                    [(_fmt_time(a.sent), a.kind, a.severity, a.sector or "—", a.headline) for a in todays],
                    caption=f"Alerts sent on {self.day}",
                )
            )
        elif not self.data.alerts:
            sec.notes.append(absent(self.data, "alert", "alerts"))
        else:
            sec.notes.append(f"No alerts sent on {self.day}.")
        activations = sorted(
            (a for a in self.data.activations if _on(a.activated, self.day)), key=lambda a: (a.activated, a.id)
        )
        if activations:
            sec.tables.append(
                Table(
                    ("Activated", "Playbook", "Scenario", "Sector", "Directives"),
                    [
                        (_fmt_time(a.activated), a.playbook, a.scenario, a.sector or "—", str(len(a.directives)))
                        for a in activations
                    ],
                    caption="Playbook scenarios activated",
                    numeric=frozenset({4}),
                )
            )
        directives = sorted(
            (d for d in self.data.directives if _on(d.issued, self.day) or d.status in ("open", "escalated")),
            key=lambda d: (d.deadline, d.id),
        )
        if directives:
            sec.tables.append(
                Table(
                    ("Directive", "Owner", "Sector", "Issued", "Deadline", "Status"),
                    [
                        (
                            d.title or d.directive,
                            d.owner,
                            d.sector or "—",
                            _fmt_time(d.issued),
                            _fmt_time(d.deadline),
                            d.status + (f" (step {d.escalation_step})" if d.escalation_step else ""),
                        )
                        for d in directives
                    ],
                    caption="Directives issued on the day or still open",
                )
            )
        elif not self.data.directives:
            sec.notes.append(absent(self.data, "directivetask", "directives"))
        return sec

    def blind_spots(self) -> Section:
        sec = Section("blind-spots", "What we could not see")
        denials = [o for o in self.data.details_on(self.day, "movement_denial") if isinstance(o, MovementDenial)]
        prev_denials = self.data.details_on(self.prev, "movement_denial")
        if denials:
            sec.tables.append(
                Table(
                    ("Time", "Sector", "Denied by", "Reported by", "Reason given"),
                    [
                        (
                            _fmt_time(o.time),
                            self._sector_of(o.location.lon, o.location.lat),
                            o.denied_by,
                            o.participant,
                            o.reason_given or "—",
                        )
                        for o in sorted(denials, key=lambda o: o.time)
                    ],
                    caption=f"Movement denials: {len(denials)} (previous day {len(prev_denials)})",
                )
            )
            by_party = Counter(o.denied_by for o in denials)
            sec.notes.append(
                "Denials by party: " + ", ".join(f"{party} {n}" for party, n in sorted(by_party.items())) + "."
            )
        else:
            sec.notes.append(f"No movement denials reported on {self.day} (previous day {len(prev_denials)}).")
        refused = [
            o
            for o in self.data.details_on(self.day, "storage_visit")
            if isinstance(o, StorageSiteVisit) and not o.access_granted
        ]
        if refused:
            sec.notes.append(
                "Storage sites where inspectors were refused access: "
                + ", ".join(sorted({o.site_id for o in refused}))
                + "."
            )
        cloudy = sorted(
            {
                o.pass_id
                for o in self.data.details_on(self.day, "imagery_detection")
                if isinstance(o, ImageryDetection) and o.cloud_cover is not None and o.cloud_cover >= 0.5
            }
        )
        if cloudy:
            sec.notes.append(f"Imagery passes at least half clouded: {', '.join(cloudy)}.")
        sec.tables.append(self._coverage_table())
        return sec

    def _coverage_table(self) -> Table:
        """Per contact-line sector: hours its acoustic sensors were heard, silent spans, patrols present."""
        acoustic = self.data.acoustic
        patrols = Counter(
            self._sector_of(o.location.lon, o.location.lat) for o in self.data.details_on(self.day, "patrol_report")
        )
        rows = []
        for i, sid in enumerate(acoustic.sectors):
            heard = acoustic.heard[i]
            rows.append(
                (sid, self.sector_names.get(sid, ""), str(int(heard.sum())), _silent_spans(heard), str(patrols[sid]))
            )
        total = "" if acoustic.total is None else f" ({acoustic.total:,} acoustic reports on the whole line)"
        return Table(
            ("Sector", "Name", "Hours heard", "Silent hours (UTC)", "Patrol reports"),
            rows,
            caption="Coverage: an hour in which no acoustic sensor near the sector reported at all is a gap "
            "(outage or jamming), not a quiet hour; a sector without patrol reports had no observer on the "
            f"ground{total}",
            numeric=frozenset({2, 4}),
        )


def _silent_spans(heard: Any) -> str:
    """'02–05, 17' for the runs of hours nothing was heard (``02–05``: from 02:00 to 05:00).

    >>> _silent_spans([True] * 2 + [False] * 3 + [True] * 12 + [False] + [True] * 6)
    '02–05, 17'
    """
    spans: list[str] = []
    start: int | None = None
    for h in range(25):
        silent = h < 24 and not heard[h]
        if silent and start is None:
            start = h
        elif not silent and start is not None:
            spans.append(f"{start:02d}" if h - 1 == start else f"{start:02d}–{h:02d}")
            start = None
    return ", ".join(spans) if spans else "none"


def _closed_at(finding: Finding) -> datetime:
    # A closed finding's closing time is its latest version's creation (the closing review).
    return finding.creation_info.created


def build_sections(data: DayData, agreement: Agreement) -> list[Section]:
    b = Builder(data, agreement)
    return [
        b.overview(),
        b.violations(),
        b.map(),
        b.escalation(),
        b.warnings(),
        b.findings(),
        b.staging(),
        b.alerts(),
        b.blind_spots(),
    ]
