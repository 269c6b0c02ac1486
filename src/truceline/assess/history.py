"""The escalation model on real history: UCDP's georeferenced events of the 2014–2019 Donbas war.

UCDP GED records events with at least one death, by day, with the two parties and the deaths on
each side — not who fired. As a proxy, an event in which the government side died is counted as
the other side's fire (type 1) and one in which only the armed groups died as Ukraine's (type 0);
events with only civilian or unknown deaths go with the government's side (type 0). Only events
placed within a settlement or a 25-km radius (``where_prec`` ≤ 2) and dated to the day or to a
few days (``date_prec`` ≤ 2) are kept. Day-resolution times are spread uniformly over their day
(seeded), because a Hawkes likelihood needs distinct times; the decay is then a matter of days.

>>> points = escalation_history(FireEvents.empty(), date(2015, 1, 1), date(2015, 3, 1))
>>> [p.status for p in points]
['too_few_events', 'too_few_events']
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from truceline.assess.escalation import rolling_escalation
from truceline.assess.indicators import FireEvents
from truceline.stats import FitStatus, HawkesParams

__all__ = ["CEASEFIRES", "HistoryPoint", "escalation_history", "plot_history", "read_ucdp"]

# Replies measured in days, not hours: UCDP dates events to the day.
HISTORY_PRIOR = HawkesParams(mu=(0.02, 0.02), alpha=((0.25, 0.25), (0.25, 0.25)), beta=1.0 / 24.0)


@dataclass(frozen=True)
class HistoryPoint:
    """The fit of the window ending on ``end``."""

    end: date
    n_events: int
    status: FitStatus
    branching_ratio: float | None
    branching_ratio_se: float | None
    retaliation: tuple[float, float] | None
    message: str


def read_ucdp(path: str | Path, *, seed: int = 2014) -> FireEvents:
    """Events of a UCDP GED extract as fire arrays (see the module docstring for the side proxy)."""
    rng = np.random.default_rng(seed)
    times: list[float] = []
    p_ukr: list[float] = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if int(row["where_prec"]) > 2 or int(row["date_prec"]) > 2 or row["type_of_violence"] != "1":
                continue
            day = date.fromisoformat(row["date_start"])
            start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
            times.append(start + float(rng.random()) * 86_400.0)
            gov, groups = int(row["deaths_a"]), int(row["deaths_b"])
            p_ukr.append(0.0 if gov > groups else 1.0)
    order = np.argsort(times, kind="stable")
    return FireEvents(np.array(times)[order], np.full(len(times), "DONBAS", dtype=np.str_), np.array(p_ukr)[order])


def escalation_history(
    fire: FireEvents, first: date, last: date, *, window_days: float = 120.0, step_days: int = 30
) -> list[HistoryPoint]:
    """Rolling fits every ``step_days`` from ``first`` to ``last``, each over the ``window_days`` before it."""
    ends = []
    d = first
    while d <= last:
        ends.append(d)
        d += timedelta(days=step_days)
    ends_s = np.array([datetime(e.year, e.month, e.day, tzinfo=UTC).timestamp() for e in ends], dtype=np.float64)
    estimates = rolling_escalation(
        fire.time_s,
        fire.p_ukr,
        ends_s,
        window_days=window_days,
        min_events=30,
        target_events=0,
        max_window_days=window_days,
        baseline_bin_days=30.0,
        segment_baseline=False,  # a baseline per month, as the plot in docs/assess.md was made
        prior=HISTORY_PRIOR,
        min_history_days=30.0,
    )
    return [
        HistoryPoint(
            e, est.n_events, est.status, est.branching_ratio, est.branching_ratio_se, est.retaliation, est.message
        )
        for e, est in zip(ends, estimates, strict=True)
    ]


CEASEFIRES: tuple[tuple[date, str], ...] = (
    (date(2014, 9, 5), "Minsk Protocol"),
    (date(2015, 2, 15), "Minsk II"),
    (date(2015, 9, 1), "school truce"),
    (date(2018, 7, 1), "harvest truce"),
    (date(2019, 7, 21), "2019 cease-fire"),
)
"""Cease-fires of the Donbas war drawn on the history plot (start dates)."""


def plot_history(points: list[HistoryPoint], fire: FireEvents, png: str | Path) -> Path:
    """Monthly events by (proxy) side above the rolling branching ratio with its 95 % band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(png)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]})
    months = np.array([datetime.fromtimestamp(t, UTC).date().replace(day=1) for t in fire.time_s])
    if len(months):
        keys = sorted(set(months.tolist()))
        for label, mask, colour in (
            ("Ukraine's fire (proxy)", fire.p_ukr >= 0.5, "#1f5fbf"),
            ("armed groups' fire (proxy)", fire.p_ukr < 0.5, "#c0392b"),
        ):
            counts = [int(np.sum((months == k) & mask)) for k in keys]
            top.plot(keys, counts, drawstyle="steps-mid", color=colour, label=label)
    top.set_ylabel("UCDP events / month")
    top.set_yscale("symlog", linthresh=10)
    top.legend(loc="upper right", fontsize=8)
    # Unfitted windows are gaps (NaN), so the line does not bridge years without data.
    x = [p.end for p in points]
    rho = np.array([np.nan if p.branching_ratio is None else p.branching_ratio for p in points])
    se = np.array([np.nan if p.branching_ratio_se is None else p.branching_ratio_se for p in points])
    bottom.fill_between(x, np.maximum(rho - 1.96 * se, 0), rho + 1.96 * se, color="#888", alpha=0.3, label="95 %")
    bottom.plot(x, rho, "o-", color="black", ms=3, label="branching ratio (window ending that day)")
    bottom.axhline(1.0, color="#c0392b", ls="--", lw=1)
    unfit = [p.end for p in points if p.branching_ratio is None]
    bottom.plot(unfit, np.zeros(len(unfit)), "x", color="#aaa", ms=4, label="too few events to fit")
    bottom.set_ylim(0, 1.3)
    bottom.set_ylabel("branching ratio")
    bottom.legend(loc="center right", fontsize=8)
    for ax in (top, bottom):
        for when, name in CEASEFIRES:
            ax.axvline(when, color="#2a8", lw=1, alpha=0.8)
            if ax is bottom:
                ax.text(when, 1.28, f" {name}", fontsize=7, color="#2a8", rotation=90, va="top")
    fig.suptitle("Escalation model on UCDP GED, Donbas 2014–2019: rolling 120-day bivariate Hawkes fits")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
