"""``sianode calculators list|show``: the named calculators and their provenance."""

from __future__ import annotations

import json

import typer

calculators_app = typer.Typer(help="Named, offline calculators (ML potentials, DFT, classical Si, test).",
                              no_args_is_help=True)


@calculators_app.command("list")
def list_calculators(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Name, elements, licence, package version, weights checksum and whether it is installed."""
    from sianode.calculators.registry import calculator_table

    rows = calculator_table()
    if as_json:
        typer.echo(json.dumps(rows))
        return
    typer.echo(f"{'name':14s} {'installed':9s} {'package':9s} {'version':14s} {'weights':7s} {'sha256':12s} "
               f"{'elements':10s} licence / what")
    for r in rows:
        elements = r["elements"] if isinstance(r["elements"], str) else (
            ",".join(r["elements"]) if len(r["elements"]) <= 4 else f"{len(r['elements'])} el.")
        typer.echo(f"{r['name']:14s} {'yes' if r['installed'] else 'no':9s} {r['package']:9s} {r['version']:14s} "
                   f"{r['weights']:7s} {r['sha256']:12s} {elements:10s} {r['licence']}; {r['what']}")


@calculators_app.command("show")
def show(name: str = typer.Argument(..., help="Calculator name (see `sianode calculators list`).")) -> None:
    """Full provenance of one calculator as JSON."""
    from sianode.calculators import get_calculator

    spec = get_calculator(name)
    typer.echo(json.dumps({"provenance": spec.provenance(), "identity": spec.identity()}, indent=2))


def register(app: typer.Typer) -> None:
    """Add the ``calculators`` group to the sianode CLI."""
    app.add_typer(calculators_app, name="calculators")
