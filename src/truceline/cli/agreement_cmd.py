"""``truceline agreement``: show or check an agreement file."""

from __future__ import annotations

from typing import Annotated

import typer

from truceline.cli._common import console, handle_errors, load_agreement_option

app = typer.Typer(
    help="The agreement as code: parties, lines, zones, limits, sectors, triggers.", no_args_is_help=True
)


@app.command()
@handle_errors
def show(
    path: Annotated[str | None, typer.Argument(help="Agreement YAML (default: the shipped one).")] = None,
) -> None:
    """Summarise an agreement: clauses, zones, sectors and participants."""
    from truceline.agreement import describe

    console.print(describe(load_agreement_option(path)), markup=False)


@app.command()
@handle_errors
def check(path: Annotated[str, typer.Argument(help="Agreement YAML to validate.")]) -> None:
    """Validate an agreement file; errors name the file, the field's path and the reason."""
    ag = load_agreement_option(path)
    console.print(f"{path}: valid ({len(ag.clauses)} clauses, {len(ag.sectors)} sectors)")
