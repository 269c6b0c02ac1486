"""The report's figures, drawn with matplotlib from the agreement's geometry (no map tiles).

Every figure is returned as PNG bytes with no timestamp or software tag in its metadata, so the
same data gives the same bytes (the report's privacy test compares whole reports). Figures are
built on :class:`matplotlib.figure.Figure` directly, without pyplot's global state.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import shapely
from matplotlib.figure import Figure
from numpy.typing import NDArray

from truceline.agreement import Agreement

SIDE_COLOURS = {"UKR": "#1f5fbf", "RUS": "#c0392b", "undetermined": "#7f7f7f"}
AREA_COLOURS = {"UKR": "#dbe7f7", "RUS": "#f6dcd8"}
LEVEL_COLOURS = {1: "#2e8b57", 2: "#9acd32", 3: "#f1c40f", 4: "#e67e22", 5: "#c0392b"}
DPI = 100
MARGIN_DEG = 0.8


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, free of varying metadata."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight")
    return buf.getvalue()


def _draw_polygons(ax: Any, geom: Any, **style: Any) -> None:
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        x, y = poly.exterior.xy
        ax.fill(np.asarray(x), np.asarray(y), **style)


def _draw_lines(ax: Any, geom: Any, **style: Any) -> None:
    lines = shapely.get_parts(geom) if geom.geom_type.startswith("Multi") else [geom]
    for line in lines:
        if line.geom_type == "LineString":
            x, y = line.xy
            ax.plot(np.asarray(x), np.asarray(y), **style)
        elif line.geom_type == "Polygon":
            x, y = line.exterior.xy
            ax.plot(np.asarray(x), np.asarray(y), **style)


def map_figure(
    agreement: Agreement,
    *,
    incidents: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]],
    findings: Sequence[tuple[float, float]],
    denials: Sequence[tuple[float, float]],
    levels: Mapping[str, int],
    title: str,
) -> bytes:
    """The theatre: controlled areas, contact line, sectors (coloured by warning level), the day's
    incident origins by most likely side, findings and movement denials."""
    fig = Figure(figsize=(10.0, 6.6))
    ax = fig.add_subplot()
    for party in agreement.parties:
        _draw_polygons(ax, agreement.controlled_area(party.id), color=AREA_COLOURS.get(party.id, "#eeeeee"), lw=0)
    for area in agreement.disengagement_areas:
        _draw_polygons(ax, area.geometry, facecolor="none", edgecolor="#8e44ad", hatch="//", lw=0.6)
    _draw_lines(ax, agreement.contact_line, color="black", lw=0.9)
    for sector in agreement.sectors:
        level = levels.get(sector.id)
        colour = LEVEL_COLOURS.get(level, "#555555") if level is not None else "#999999"
        _draw_lines(ax, sector.geometry, color=colour, lw=3.2 if level is not None else 1.0, alpha=0.75)
        if sector.kind == "contact_line":
            point = shapely.line_interpolate_point(shapely.line_merge(sector.geometry), 0.5, normalized=True)
            if not point.is_empty:
                ax.annotate(sector.id, (point.x, point.y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    lon, lat, side = incidents
    for name, colour in SIDE_COLOURS.items():
        sel = (side == name) & np.isfinite(lon)
        if sel.any():
            ax.scatter(lon[sel], lat[sel], s=4, c=colour, alpha=0.5, lw=0, label=f"incidents, {name}", rasterized=True)
    if findings:
        fx, fy = zip(*findings, strict=True)
        ax.scatter(fx, fy, marker="^", s=40, facecolor="none", edgecolor="#8e44ad", lw=1.2, label="findings")
    if denials:
        dx, dy = zip(*denials, strict=True)
        ax.scatter(dx, dy, marker="x", s=45, c="black", lw=1.5, label="movement denials")
    # The theatre is the contact line and its hinterland: the whole country would shrink the line
    # to a sliver. Approach axes far from the line fall outside and are listed in the tables.
    minx, miny, maxx, maxy = agreement.contact_line.bounds
    minx, miny, maxx, maxy = minx - MARGIN_DEG, miny - MARGIN_DEG, maxx + MARGIN_DEG, maxy + MARGIN_DEG
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect(1.0 / math.cos(math.radians((miny + maxy) / 2.0)))
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.set_title(title, fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", fontsize=7)
    return png(fig)


def series_figure(
    days: Sequence[date],
    series: Mapping[str, NDArray[np.int64]],
    *,
    title: str,
    ylabel: str,
    colours: Mapping[str, str] | None = None,
) -> bytes:
    """One line per key over ``days`` (escalation plots)."""
    # Leading days where every series is zero are days before any record (not quiet days): drop them.
    stacked = np.vstack(list(series.values())) if series else np.zeros((1, len(days)))
    active = np.flatnonzero(stacked.sum(axis=0))
    first = min(int(active[0]) if active.size else 0, max(len(days) - 2, 0))
    days = list(days)[first:]
    series = {key: values[first:] for key, values in series.items()}
    fig = Figure(figsize=(10.0, 3.2))
    ax = fig.add_subplot()
    x = np.arange(len(days))
    for key, values in series.items():
        colour = (colours or {}).get(key)
        ax.plot(x, values, marker="o", ms=3, lw=1.4, label=key, color=colour)
    ax.set_xticks(x, [d.strftime("%d %b") for d in days], fontsize=7, rotation=45)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=4, loc="upper left")
    return png(fig)


def level_grid_figure(days: Sequence[date], sectors: Sequence[str], grid: NDArray[np.float64], *, title: str) -> bytes:
    """Warning level per sector (rows) and day (columns); blank where no assessment exists."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    fig = Figure(figsize=(10.0, 0.9 + 0.28 * len(sectors)))
    ax = fig.add_subplot()
    cmap = ListedColormap([LEVEL_COLOURS[k] for k in range(1, 6)]).with_extremes(bad="#ffffff")
    norm = BoundaryNorm([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], cmap.N)
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_yticks(np.arange(len(sectors)), list(sectors), fontsize=7)
    ax.set_xticks(np.arange(len(days)), [d.strftime("%d %b") for d in days], fontsize=7, rotation=45)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, ticks=[1, 2, 3, 4, 5], label="warning level")
    return png(fig)


def escalation_figure(
    days: Sequence[date], fits: Mapping[str, Sequence[Mapping[str, Any] | None]], *, title: str
) -> bytes:
    """The escalation model per sector over ``days``: the branching ratio with its 95 % interval
    (upper panel) and the retaliation terms (lower panel); ``fits[sector][k]`` is day k's fit or None.
    """
    fig = Figure(figsize=(10.0, 5.2))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    x = np.arange(len(days))

    def column(rows: Sequence[Mapping[str, Any] | None], key: str) -> NDArray[np.float64]:
        return np.array([np.nan if r is None or r.get(key) is None else float(r[key]) for r in rows])

    for k, (sector, rows) in enumerate(fits.items()):
        colour = f"C{k % 10}"
        ratio = column(rows, "ratio")
        top.fill_between(x, column(rows, "lo"), column(rows, "hi"), color=colour, alpha=0.15, lw=0)
        top.plot(x, ratio, marker="o", ms=3, lw=1.4, color=colour, label=sector)
        spiral = np.array([bool(r and r.get("spiral")) for r in rows])
        if spiral.any():
            top.plot(x[spiral], ratio[spiral], "o", ms=7, mfc="none", mec="#b71c1c", mew=1.5)
        bottom.plot(x, column(rows, "ukr_answers_rus"), lw=1.2, color=colour, label=f"{sector} UKR←RUS")
        bottom.plot(x, column(rows, "rus_answers_ukr"), lw=1.2, ls="--", color=colour, label=f"{sector} RUS←UKR")
    top.axhline(1.0, color="#b71c1c", lw=0.8, ls="--")
    top.axhline(0.75, color="#e67e22", lw=0.8, ls=":")
    top.set_ylim(bottom=0.0)
    top.set_ylabel("branching ratio")
    top.set_title(title, fontsize=10)
    top.grid(alpha=0.3)
    top.legend(fontsize=7, ncol=6, loc="upper left")
    bottom.set_ylabel("retaliation α")
    bottom.set_ylim(bottom=0.0)
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=6, ncol=4, loc="upper left")
    bottom.set_xticks(x, [d.strftime("%d %b") for d in days], fontsize=7, rotation=45)
    return png(fig)
