"""The daily report: per sector and side, what happened, what it means and what we could not see.

``build_report(store, agreement, day, viewer=...)`` reads the day (and the days before it) out of
the store as the reader may see it — through :mod:`truceline.policy`, so a nation's report never
contains what it may not read — and returns a :class:`DailyReport`; ``render_html`` makes it one
self-contained HTML file and ``write_report`` writes ``.html`` or ``.pdf`` (printed by headless
Chromium). Each section is built from whatever records exist and says so when a stage made none.
``osce_text_report`` is the plain-text baseline it is measured against. ``docs/report.md`` has
the sections and their rules.

The public surface is listed in ``__all__``; the modules are private.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from truceline.agreement import Agreement
from truceline.model import Clock, SystemClock, UsageError
from truceline.report._collect import HISTORY_DAYS, DayData, collect
from truceline.report._content import DailyReport, Plot, Section, Table
from truceline.report._counts import count_by_sector_side, count_by_sector_side_reference, incident_columns
from truceline.report._escalation import Z95 as ESCALATION_Z95
from truceline.report._escalation import escalation_of
from truceline.report._html import render_html
from truceline.report._pdf import find_chromium, html_to_pdf
from truceline.report._sections import build_sections
from truceline.report._text import osce_text_report
from truceline.report._view import Viewer, strictest_tlp
from truceline.store import Store

__all__ = [
    "ESCALATION_Z95",
    "HISTORY_DAYS",
    "DailyReport",
    "DayData",
    "Plot",
    "Section",
    "Table",
    "Viewer",
    "build_report",
    "collect",
    "count_by_sector_side",
    "count_by_sector_side_reference",
    "escalation_of",
    "find_chromium",
    "html_to_pdf",
    "incident_columns",
    "osce_text_report",
    "render_html",
    "write_report",
]


def build_report(
    store: Store, agreement: Agreement, day: date, *, viewer: Viewer | None = None, clock: Clock | None = None
) -> DailyReport:
    """The daily report for ``day`` as ``viewer`` (default: the operator's full view) may see it."""
    view = viewer if viewer is not None else Viewer.full()
    data = collect(store, agreement, day, view)
    sections = build_sections(data, agreement)
    start, end = data.start, data.end
    todays_observations = sum(1 for o in data.details if start <= o.time < end)
    counts = {
        "reports": todays_observations,
        "acoustic_reports": data.acoustic.total or 0,
        "incidents": sum(1 for i in data.incidents if start <= i.start < end),
        "findings": sum(1 for f in data.findings if start <= f.first_seen < end),
        "assessments": sum(1 for a in data.assessments if a.day == day.isoformat()),
        "alerts": sum(1 for a in data.alerts if start <= a.sent < end),
        "directives": sum(1 for d in data.directives if start <= d.issued < end),
    }
    todays_records = sum(counts[k] for k in ("incidents", "findings", "assessments", "alerts", "directives"))
    summary = [
        f"{counts['reports']:,} patrol, inspection, imagery and party reports for the day"
        + ("" if data.acoustic.total is None else f" and {data.acoustic.total:,} acoustic reports")
        + "; "
        f"{counts['incidents']:,} incidents, {counts['assessments']} sector assessments, "
        f"{counts['alerts']} alerts.",
    ]
    if view.is_full:
        summary.append(
            "This is the operator's full view: it shows every record whatever its markings and must not be "
            "released. Make a participant's report with --for PARTICIPANT."
        )
    else:
        summary.append(
            f"Prepared for {view.label}: it contains only what the markings allow {view.label} to read, and "
            "its counts are counts of those records only."
        )
    return DailyReport(
        day=day,
        reader=view.label,
        tlp=strictest_tlp(data.all_markings()),
        generated=(clock or SystemClock()).now(),
        agreement=f"{agreement.id} v{agreement.version}",
        no_data=todays_observations == 0 and todays_records == 0 and not data.acoustic.heard.any(),
        summary=summary,
        sections=sections,
        counts=counts,
    )


def write_report(report: DailyReport, out: str | Path, *, chromium: str | None = None) -> Path:
    """Write ``report`` as HTML or PDF, chosen by ``out``'s suffix."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_html(report), encoding="utf-8")
    elif suffix == ".pdf":
        html_to_pdf(render_html(report), path, chromium=chromium)
    else:
        raise UsageError(f"{path}: the report is written as .html or .pdf, not {suffix or 'a file without suffix'}")
    return path
