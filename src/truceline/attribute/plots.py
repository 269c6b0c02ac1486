"""The reliability diagram: are the attribution probabilities calibrated?"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_reliability"]


def plot_reliability(
    rows: Sequence[Mapping[str, Any]], path: str | Path, *, title: str = "Attribution: P(UKR)"
) -> Path:
    """Draw a reliability diagram from :func:`reliability_table` rows (or ``evaluate``'s, with ``bin``) to ``path``.

    Forecast probability against observed frequency per bin, the diagonal of perfect calibration,
    and the count per bin (log scale) underneath.
    """
    # A bare Figure (no pyplot): no global backend switch, nothing left open in a long process.
    from matplotlib.figure import Figure

    lo = [float(r["bin"][0]) if "bin" in r else float(r["bin_lo"]) for r in rows]
    hi = [float(r["bin"][1]) if "bin" in r else float(r["bin_hi"]) for r in rows]
    mean_p = [float(r["mean_p"]) for r in rows]
    observed = [float(r["observed"]) for r in rows]
    counts = [int(r["n"]) for r in rows]
    fig = Figure(figsize=(5, 6))
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 1], sharex=True)
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    # Wilson 95 % intervals: a bin of three incidents says little, and the plot should show it.
    z = 1.96
    low, high = [], []
    for q, n in zip(observed, counts, strict=True):
        centre = (q + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(q * (1 - q) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        low.append(max(q - (centre - half), 0.0))
        high.append(max((centre + half) - q, 0.0))
    top.errorbar(
        mean_p, observed, yerr=[low, high], marker="o", color="tab:blue", capsize=3, label="Truceline (95 % CI)"
    )
    top.set_ylabel("observed frequency")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_title(title)
    top.legend(loc="upper left")
    bottom.bar(
        [(a + b) / 2 for a, b in zip(lo, hi, strict=True)],
        counts,
        width=[b - a for a, b in zip(lo, hi, strict=True)],
        color="tab:blue",
        alpha=0.6,
        edgecolor="white",
    )
    bottom.set_yscale("log")
    bottom.set_xlabel("forecast probability")
    bottom.set_ylabel("incidents")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    return out
