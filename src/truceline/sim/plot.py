"""A picture of a simulated run: the map of one day, daily fire in the scripted sectors, and the
acoustic detection model. Reads ``truth.json`` (it is a picture of the truth, for people)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from truceline.agreement import Agreement, default_agreement
from truceline.sim.acoustic import R50_M, detection_probability
from truceline.sim.truth import Truth, load_truth

__all__ = ["plot_reliability", "plot_run"]

SIDE_COLOURS = {"UKR": "#1f5fbf", "RUS": "#c0392b"}


def _geoms(ax: Any, geom: Any, **kw: Any) -> None:
    import shapely

    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            x, y = part.exterior.xy
            ax.fill(x, y, **kw)
        else:
            x, y = part.xy
            ax.plot(x, y, **kw)


def plot_run(
    run_dir: str | Path, png: str | Path, *, day: int | None = None, agreement: Agreement | None = None
) -> Path:
    """Draw the run in ``run_dir`` to ``png``; ``day`` defaults to the last day before the offensive."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth = load_truth(Path(run_dir) / "truth.json")
    ag = agreement or default_agreement()
    doc = truth.doc
    days = int(truth.days or 1)
    off = (doc.get("buildup") or {}).get("offensive_day")
    if day is None:
        day = min(days - 1, max(0, (off - 1) if off is not None else days - 1))
    fig = plt.figure(figsize=(15, 8.5), dpi=110)
    grid = fig.add_gridspec(2, 2, width_ratios=[1.9, 1.0])
    ax = fig.add_subplot(grid[:, 0])
    _map(ax, truth, ag, day)
    _fire_per_day(fig.add_subplot(grid[0, 1]), truth, days)
    _detection(fig.add_subplot(grid[1, 1]))
    fig.suptitle(
        f"Simulated run '{doc.get('scenario', {}).get('name')}' (seed {doc.get('scenario', {}).get('seed')}, "
        f"scale {doc.get('scenario', {}).get('scale')}): day {day} of {days}",
        fontsize=12,
    )
    fig.tight_layout()
    out = Path(png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def _map(ax: Any, truth: Truth, ag: Agreement, day: int) -> None:
    _geoms(ax, ag.controlled_area("RUS"), color="#f3d9d5", lw=0)
    _geoms(ax, ag.contact_line, color="black", lw=0.8)
    for s in ag.sectors:
        if s.kind == "contact_line":
            c = s.geometry.centroid
            ax.annotate(s.id, (c.x, c.y), fontsize=7, color="#555", xytext=(6, 6), textcoords="offset points")
    arrays = truth.doc.get("sensors", {}).get("acoustic", {}).get("arrays", [])
    if arrays:
        ax.scatter(
            [a["lon"] for a in arrays],
            [a["lat"] for a in arrays],
            s=1.5,
            c="#777",
            label=f"acoustic arrays ({len(arrays)})",
        )
    radars = truth.doc.get("sensors", {}).get("radar", [])
    if radars:
        ax.scatter(
            [r["lon"] for r in radars],
            [r["lat"] for r in radars],
            marker="^",
            s=14,
            c="#2c7",
            label="counter-battery radars",
        )
    start = truth.start.isoformat()[:10] if truth.start else ""
    date = str(np.datetime64(start) + np.timedelta64(day, "D")) if start else ""
    evs = [e for e in truth.events if e["time"].startswith(date)]
    for side, colour in SIDE_COLOURS.items():
        mine = [e for e in evs if e["side"] == side]
        if mine:
            ox = np.array([e["origin"]["lon"] for e in mine])
            oy = np.array([e["origin"]["lat"] for e in mine])
            ax.scatter(ox, oy, s=3, c=colour, alpha=0.5, label=f"{side} fire, day {day} ({len(mine):,})")
            for e in mine[:: max(1, len(mine) // 150)]:
                ax.plot(
                    [e["origin"]["lon"], e["impact"]["lon"]],
                    [e["origin"]["lat"], e["impact"]["lat"]],
                    c=colour,
                    lw=0.3,
                    alpha=0.5,
                )
    pos = truth.doc.get("positions", [])
    t = f"{date}T12:00:00Z"
    now = [p for p in pos if p["from"] <= t < p["to"]]
    bad = [p for p in now if p.get("violation") and p["kind"] == "unit"]
    if bad:
        ax.scatter(
            [p["lon"] for p in bad],
            [p["lat"] for p in bad],
            marker="x",
            s=22,
            c="k",
            label=f"weapons in violation ({len(bad)})",
        )
    build = [p for p in now if p.get("note") == "build-up"]
    if build:
        ax.scatter(
            [p["lon"] for p in build],
            [p["lat"] for p in build],
            marker="s",
            s=10,
            c="#e67e22",
            label=f"build-up objects ({len(build)})",
        )
    ax.scatter(
        [s.lon for s in ag.storage_sites],
        [s.lat for s in ag.storage_sites],
        marker="D",
        s=18,
        c="#8e44ad",
        label="storage sites",
    )
    staged = [c for c in truth.claims if c.get("staged")]
    if staged:
        ax.scatter(
            [c["lon"] for c in staged],
            [c["lat"] for c in staged],
            marker="*",
            s=90,
            c="gold",
            edgecolors="k",
            label="staged claims",
        )
    ax.set_xlim(31.0, 40.5)
    ax.set_ylim(45.6, 51.6)
    ax.set_aspect(1.0 / np.cos(np.radians(48.5)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.legend(loc="lower left", fontsize=7, markerscale=2)
    ax.set_title("contact line, sensors, one day's fire (origin → impact) and the build-up", fontsize=10)


def _fire_per_day(ax: Any, truth: Truth, days: int) -> None:
    doc = truth.doc
    sectors = [
        s for s in (doc.get("escalation", {}).get("spiral_sector"), (doc.get("buildup") or {}).get("sector")) if s
    ]
    start = truth.start.date() if truth.start else None
    for sector in sectors:
        for side, colour in SIDE_COLOURS.items():
            counts = np.zeros(days)
            for e in truth.events:
                if e["sector"] == sector and e["side"] == side and start is not None:
                    d = (date.fromisoformat(e["time"][:10]) - start).days
                    if 0 <= d < days:
                        counts[d] += 1
            style = "-" if sector == sectors[0] else "--"
            shown = np.where(counts > 0, counts, np.nan)  # a log axis has no zero
            ax.plot(np.arange(days), shown, style, c=colour, label=f"{sector} {side}")
    b = doc.get("buildup")
    if b:
        ax.axvline(b["onset_day"], c="#e67e22", lw=1, ls=":", label="build-up onset")
        if b["offensive_day"] < days:
            ax.axvline(b["offensive_day"], c="k", lw=1, label="offensive")
    ax.set_yscale("log")
    ax.set_xlabel("day")
    ax.set_ylabel("firing events per day")
    ax.legend(fontsize=7)
    ax.set_title("escalation spiral (solid) and build-up sector (dashed)", fontsize=10)


def _detection(ax: Any) -> None:
    r = np.linspace(0, 35_000, 200)
    for cls in R50_M:
        ax.plot(r / 1000, detection_probability(r, cls), label=cls)
    ax.set_xlabel("range (km)")
    ax.set_ylabel("P(detect)")
    ax.legend(fontsize=7)
    ax.set_title("acoustic detection probability by weapon class", fontsize=10)


def plot_reliability(attribution: dict[str, Any], png: str | Path) -> Path:
    """The reliability diagram of ``evaluate``'s attribution section: stated P(UKR fired) per bin
    against how often Ukraine really fired, with the count per bin below. A calibrated attribution
    lies on the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = attribution.get("reliability") or []
    fig, (ax, ax_n) = plt.subplots(2, 1, figsize=(5.5, 6.5), height_ratios=(3, 1), sharex=True)
    ax.plot([0, 1], [0, 1], color="#888", lw=1, ls="--", label="perfect calibration")
    if bins:
        mean_p = [b["mean_p"] for b in bins]
        observed = [b["observed"] for b in bins]
        ax.plot(mean_p, observed, "o-", color=SIDE_COLOURS["UKR"], label="Truceline")
        centres = [(b["bin"][0] + b["bin"][1]) / 2 for b in bins]
        widths = [b["bin"][1] - b["bin"][0] for b in bins]
        ax_n.bar(centres, [b["n"] for b in bins], width=widths, color="#bbb", edgecolor="#666")
    ax.set_ylabel("observed share fired by UKR")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(
        f"Attribution reliability — Brier {attribution.get('brier')}, accuracy {attribution.get('accuracy')}, "
        f"n {attribution.get('n')}",
        fontsize=9,
    )
    ax.legend(loc="upper left", fontsize=8)
    ax_n.set_xlabel("stated probability that UKR fired")
    ax_n.set_ylabel("incidents")
    fig.tight_layout()
    out = Path(png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
