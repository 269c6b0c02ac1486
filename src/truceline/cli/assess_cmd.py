"""``truceline assess-history``: the escalation model on real events (UCDP GED), as a table and a plot.

Not registered yet: the lead wires it into the CLI group, e.g. ``app.command("assess-history")(history)``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from truceline.cli._common import console, handle_errors
from truceline.model import UsageError


@handle_errors
def history(
    csv_path: Annotated[
        Path, typer.Argument(help="A UCDP GED CSV extract (e.g. ../shared/data/ucdp_ged_ukraine_2014_2019).")
    ],
    plot: Annotated[Path | None, typer.Option(help="Also draw the history to this PNG.")] = None,
    first: Annotated[str, typer.Option(help="First window end, YYYY-MM-DD.")] = "2014-06-01",
    last: Annotated[str, typer.Option(help="Last window end, YYYY-MM-DD.")] = "2019-12-31",
    window_days: Annotated[float, typer.Option(min=30.0, help="Days in each fitted window.")] = 120.0,
    step_days: Annotated[int, typer.Option(min=1, help="Days between window ends.")] = 30,
) -> None:
    """Fit the bivariate Hawkes escalation model to rolling windows of real conflict events."""
    from truceline.assess.history import escalation_history, plot_history, read_ucdp

    if not csv_path.is_file():
        raise UsageError(f"{csv_path}: no such file")
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        raise UsageError(f"not a date: {exc}") from None
    fire = read_ucdp(csv_path)
    points = escalation_history(fire, start, end, window_days=window_days, step_days=step_days)
    table = Table("window end", "events", "branching ratio", "± 1.96 se", "retaliation UKR←, ←UKR", "status")
    for p in points:
        rho = "—" if p.branching_ratio is None else f"{p.branching_ratio:.2f}"
        se = "—" if p.branching_ratio_se is None else f"{1.96 * p.branching_ratio_se:.2f}"
        ret = "—" if p.retaliation is None else f"{p.retaliation[0]:.2f}, {p.retaliation[1]:.2f}"
        table.add_row(p.end.isoformat(), str(p.n_events), rho, se, ret, p.status)
    console.print(table)
    if plot is not None:
        console.print(f"wrote {plot_history(points, fire, plot)}")
