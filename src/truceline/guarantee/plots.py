"""PNG charts and maps of the guarantee: gaps, posture and coverage, the force-plan projection.

Matplotlib is imported only when a plot is drawn (it costs a noticeable fraction of a second),
and figures are made without pyplot so that nothing global is touched and no display is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from truceline.geo import unproject_geometry
from truceline.guarantee.coalition import Coalition
from truceline.guarantee.posture import posture

if TYPE_CHECKING:
    from truceline.guarantee.coverage import Coverage
    from truceline.guarantee.forceplan import ForcePlanResult
    from truceline.guarantee.gaps import GapRow
    from truceline.guarantee.posture import PostureRow

__all__ = ["plot_forceplan", "plot_gaps", "plot_map"]

_STATUS_COLOURS = {"met": "#2e7d32", "short": "#c62828", "not required": "#9e9e9e"}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def plot_gaps(rows: Sequence[GapRow], path: str | Path, title: str) -> Path:
    """A horizontal bar per required capability: share pledged, conditional share, gap in words."""
    rows = [r for r in rows if r.required > 0]
    fig = _figure(10, 0.32 * len(rows) + 1.6)
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    pledged = np.array([min(r.pledged / r.required, 1.0) * 100 for r in rows])
    cond = np.array([min((r.pledged + r.conditional) / r.required, 1.0) * 100 for r in rows]) - pledged
    colours = [_STATUS_COLOURS["met" if r.gap <= 1e-9 else "short"] for r in rows]
    ax.barh(y, pledged, color=colours, label="pledged (counted)")
    ax.barh(y, cond, left=pledged, color="#ffb300", alpha=0.7, label="conditional")
    ax.axvline(100, color="black", lw=0.8)
    ax.set_yticks(y, [f"{r.name} ({r.unit})" for r in rows], fontsize=8)
    for yi, r in zip(y, rows, strict=True):
        text = "met" if r.gap <= 1e-9 else f"gap {r.gap:,.0f}"
        ax.text(101, yi, f"{r.pledged:,.0f} / {r.required:,.0f}  {text}", va="center", fontsize=7)
    ax.set_xlim(0, 150)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("% of the requirement pledged")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def _patch(ax: Any, geom: Any, **kw: Any) -> None:
    """Draw a (multi)polygon with its holes."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    for poly in shapely.get_parts(geom):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        rings = [np.asarray(poly.exterior.coords), *(np.asarray(r.coords) for r in poly.interiors)]
        verts = np.concatenate(rings)
        codes = np.concatenate(
            [[MplPath.MOVETO] + [MplPath.LINETO] * (len(r) - 2) + [MplPath.CLOSEPOLY] for r in rings]
        )
        ax.add_patch(PathPatch(MplPath(verts, codes), **kw))
        kw.pop("label", None)  # one legend entry per layer, not per part


def _line(ax: Any, geom: Any, **kw: Any) -> None:
    for i, part in enumerate(shapely.get_parts(geom)):
        xy = shapely.get_coordinates(part)
        ax.plot(xy[:, 0], xy[:, 1], **(kw if i == 0 else {k: v for k, v in kw.items() if k != "label"}))


def plot_map(
    coalition: Coalition,
    path: str | Path,
    *,
    posture_rows: Sequence[PostureRow] = (),
    coverages: Sequence[Coverage] = (),
    title: str = "",
) -> Path:
    """The theatre with the basing area, the exclusion band, units, findings and range rings."""
    from truceline.geo import buffer_line

    a = coalition.agreement
    fig = _figure(11, 8)
    ax = fig.add_subplot()
    _patch(ax, a.controlled_area("UKR"), facecolor="#f5f5f0", edgecolor="#777", lw=0.6)
    for party in a.party_ids() - {"UKR"}:
        _patch(ax, a.controlled_area(party), facecolor="#d7ccc8", edgecolor="#8d6e63", lw=0.6)
    band = unproject_geometry(buffer_line(a.contact_line_metric, a.reassurance_force.min_distance_km * 1000.0))
    _patch(
        ax,
        shapely.intersection(band, a.controlled_area("UKR")),
        facecolor="#ef9a9a",
        alpha=0.25,
        edgecolor="none",
        label=f"within {a.reassurance_force.min_distance_km:.0f} km of the line",
    )
    _patch(
        ax,
        a.reassurance_force.basing_area,
        facecolor="#90caf9",
        alpha=0.35,
        edgecolor="#1565c0",
        lw=0.8,
        label="basing area",
    )
    for zone in a.restricted_zones:
        if zone.kind == "sea":
            _patch(ax, zone.geometry, facecolor="#b3e5fc", alpha=0.5, edgecolor="#0277bd", lw=0.6, hatch="//")
    _line(ax, a.contact_line, color="#b71c1c", lw=1.4, label="contact line")
    palette = {"air": "#1565c0", "sea": "#00838f"}
    for cov in coverages:
        colour = palette.get(cov.domain, "#555")
        _patch(ax, cov.covered, facecolor=colour, alpha=0.12, edgecolor="none")
        for ring in cov.rings:
            _line(ax, ring.geometry.exterior, color=colour, lw=0.7, ls="--" if cov.which == "planned" else "-")
        ax.plot(
            [],
            [],
            color=colour,
            ls="--" if cov.which == "planned" else "-",
            label=f"{cov.domain} rings ({cov.which}): {cov.percent:.0f}% covered",
        )
    rows = posture_rows or posture(coalition)
    for row in rows:
        bad = bool(row.findings)
        face = "#c62828" if bad else ("#37474f" if row.which == "actual" else "white")
        ax.plot(
            row.position.lon,
            row.position.lat,
            marker="o" if row.which == "actual" else "s",
            ms=6,
            mfc=face,
            mec="#c62828" if bad else "#37474f",
            ls="none",
        )
        if bad or row.which == "planned":
            ax.annotate(
                row.unit.id,
                (row.position.lon, row.position.lat),
                fontsize=6,
                xytext=(3, 3),
                textcoords="offset points",
                color="#c62828" if bad else "#263238",
            )
    ax.plot([], [], "s", mfc="white", mec="#37474f", ls="none", label="planned position")
    ax.plot([], [], "o", mfc="#37474f", mec="#37474f", ls="none", label="actual position")
    if any(r.findings for r in rows):
        ax.plot([], [], "o", mfc="#c62828", mec="#c62828", ls="none", label="posture finding")
    x0, y0, x1, y1 = a.controlled_area("UKR").union(a.controlled_area("RUS")).bounds
    ax.set_xlim(x0 - 2.5, x1 + 0.5)
    ax.set_ylim(y0 - 1.2, y1 + 0.5)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    ax.set_title(title or coalition.title, fontsize=10)
    return _save(fig, path)


def plot_forceplan(result: ForcePlanResult, path: str | Path, variant: ForcePlanResult | None = None) -> Path:
    """Personnel against the target and ceiling, and each equipment stock as a share of its target."""
    p = result.projection
    months = np.arange(len(p.months))
    ticks = months[:: max(len(months) // 10, 1)]
    fig = _figure(12, 8)
    grid = fig.add_gridspec(2, 2)
    ax = fig.add_subplot(grid[0, :])
    ax.plot(months, p.strength / 1000, color="#1565c0", label="strength (active + in training)")
    ax.plot(months, p.active / 1000, color="#1565c0", lw=0.8, ls=":", label="active (trained)")
    if variant is not None:
        ax.plot(
            months,
            variant.projection.strength / 1000,
            color="#c62828",
            ls="--",
            label=f"what-if: {variant.whatif.describe()}",
        )
    ax.axhline(result.plan.personnel.target / 1000, color="black", lw=0.8, label="target")
    if result.plan.personnel.ceiling is not None:
        ax.axhline(result.plan.personnel.ceiling / 1000, color="#c62828", lw=0.8, ls="-.", label="ceiling")
    by = p.months.index(result.shortfalls[0].by) if result.shortfalls else len(months) - 1
    ax.axvline(by, color="#555", lw=0.6, ls=":")
    ax.text(by, ax.get_ylim()[1], " target month", fontsize=7, va="top")
    ax.set_ylabel("thousand personnel")
    ax.set_xticks(ticks, [p.months[i] for i in ticks], fontsize=7)
    ax.legend(fontsize=7, loc="best")
    ax.set_title("Ukraine's force plan: personnel", fontsize=10)

    flows = fig.add_subplot(grid[1, 0])
    for name, series in (
        ("recruited", p.recruited),
        ("graduated", p.graduated),
        ("demobilised", p.demobilised),
        ("separated", p.separated),
        ("attrition", p.attrition),
    ):
        flows.plot(months, series / 1000, label=name, lw=1)
    flows.set_ylabel("thousand per month")
    flows.set_xticks(ticks, [p.months[i] for i in ticks], fontsize=6, rotation=45)
    flows.legend(fontsize=7)
    flows.set_title("personnel flows", fontsize=9)

    eq = fig.add_subplot(grid[1, 1])
    for c, cat in enumerate(p.categories):
        target = result.plan.equipment[cat].target
        if not target:
            continue
        (line,) = eq.plot(months, 100 * p.stock[c] / target, lw=1, label=result.plan.equipment[cat].name)
        if variant is not None:
            eq.plot(months, 100 * variant.projection.stock[c] / target, lw=1, ls="--", color=line.get_color())
    eq.axhline(100, color="black", lw=0.8)
    eq.axvline(by, color="#555", lw=0.6, ls=":")
    eq.set_ylabel("% of target")
    eq.set_xticks(ticks, [p.months[i] for i in ticks], fontsize=6, rotation=45)
    eq.legend(fontsize=6, ncols=2)
    eq.set_title("equipment stocks" + (" (dashed: what-if)" if variant is not None else ""), fontsize=9)
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out
