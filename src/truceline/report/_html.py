"""The report as one self-contained HTML file: inline CSS, figures as base64 PNG, no external resource.

Every piece of text is escaped; nothing is fetched when the file is opened (no script, no link,
no font or image URL), so it opens offline and prints to PDF unchanged.
"""

from __future__ import annotations

import base64
from html import escape

from truceline.report._content import DailyReport, Section, Table

TLP_COLOURS = {
    "clear": ("#ffffff", "#000000"),
    "green": ("#33ff00", "#000000"),
    "amber": ("#ffc000", "#000000"),
    "amber+strict": ("#ffc000", "#000000"),
    "red": ("#ff2b2b", "#000000"),
}
"""FIRST TLP 2.0 label colours (text on a black background)."""

CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt; color: #1b1b1b;
       max-width: 1100px; margin: 0 auto; padding: 0 8px; }
h1 { font-size: 17pt; margin: 6px 0 2px; }
h2 { font-size: 13pt; border-bottom: 2px solid #33475b; padding-bottom: 2px; margin-top: 22px;
     break-after: avoid; }
.banner { display: flex; justify-content: space-between; align-items: center; background: #000; color: #fff;
          padding: 4px 10px; font-weight: bold; font-size: 9pt; }
.tlp { padding: 1px 8px; background: #000; font-family: monospace; font-size: 11pt; }
.meta { color: #555; font-size: 9pt; margin-bottom: 8px; }
.nodata { border: 2px solid #c0392b; background: #fdecea; padding: 8px 12px; font-weight: bold; }
.note { margin: 4px 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 8.5pt; break-inside: auto; }
caption { text-align: left; font-weight: bold; padding: 2px 0 4px; }
th, td { border: 1px solid #c8ced6; padding: 2px 5px; vertical-align: top; }
th { background: #eef2f6; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr { break-inside: avoid; }
figure { margin: 8px 0 14px; break-inside: avoid; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: #444; }
nav ol { columns: 3; font-size: 9pt; }
"""


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = "".join(
            f'<td class="num">{escape(v)}</td>' if k in table.numeric else f"<td>{escape(v)}</td>"
            for k, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    if not table.rows:
        return f'<p class="note">{escape(table.caption)}</p>' if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(section: Section) -> str:
    parts = [f'<section id="{escape(section.id)}"><h2>{escape(section.title)}</h2>']
    parts.extend(f'<p class="note">{escape(n)}</p>' for n in section.notes)
    for plot in section.plots:
        data = base64.b64encode(plot.png).decode("ascii")
        parts.append(
            f'<figure><img alt="{escape(plot.alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(plot.caption)}</figcaption></figure>"
        )
    parts.extend(_table(t) for t in section.tables)
    parts.append("</section>")
    return "\n".join(parts)


def render_html(report: DailyReport) -> str:
    """The report as a self-contained HTML document."""
    background, _ = TLP_COLOURS.get(report.tlp, ("#ffffff", "#000"))
    tlp = f'<span class="tlp" style="color:{background}">TLP:{escape(report.tlp.upper())}</span>'
    banner = f'<div class="banner"><span>Prepared for: {escape(report.reader)}</span>{tlp}</div>'
    nav = "".join(f'<li><a href="#{escape(s.id)}">{escape(s.title)}</a></li>' for s in report.sections)
    summary = "".join(f'<p class="note">{escape(s)}</p>' for s in report.summary)
    nodata = (
        f'<p class="nodata">No data for {report.day}: the store holds no observations and no records for this day'
        " that this reader may see.</p>"
        if report.no_data
        else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>Truceline daily report {report.day}</title><style>{CSS}</style></head><body>\n"
        f"{banner}\n<h1>Cease-fire daily report — {report.day:%A %d %B %Y}</h1>\n"
        f'<div class="meta">Agreement {escape(report.agreement)} · generated '
        f"{report.generated:%Y-%m-%d %H:%M} UTC by Truceline · all times UTC</div>\n"
        f"{nodata}{summary}<nav><ol>{nav}</ol></nav>\n"
        + "\n".join(_section(s) for s in report.sections)
        + f"\n{banner}\n</body></html>\n"
    )
