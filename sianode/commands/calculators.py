"""``sianode calculators list|show``: the named calculators and their provenance."""

from __future__ import annotations

import json

import typer

calculators_app = typer.Typer(help="Named, offline calculators (ML potentials, DFT, classical Si, test).",
                              no_args_is_help=True)


@calculators_app.command("list")
def list_calculators(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Name, what it is, package version, weights file present, SHA-256 prefix."""
    from sianode.calculators import available_calculators, get_calculator

    rows = []
    for name in available_calculators():
        prov = get_calculator(name).provenance()
        present = prov["weights_present"]
        rows.append({
            "name": name, "what": prov["what"], "package": prov["package"],
            "version": prov["package_version"] or "not installed",
            "weights": "-" if present is None else ("yes" if present else "no"),
            "sha256": (prov["weights_sha256"] or "")[:12],
        })
    if as_json:
        typer.echo(json.dumps(rows))
        return
    typer.echo(f"{'name':14s} {'package':9s} {'version':14s} {'weights':7s} {'sha256':12s}  what")
    for r in rows:
        typer.echo(f"{r['name']:14s} {r['package']:9s} {r['version']:14s} {r['weights']:7s} {r['sha256']:12s}  "
                   f"{r['what']}")


@calculators_app.command("show")
def show(name: str = typer.Argument(..., help="Calculator name (see `sianode calculators list`).")) -> None:
    """Full provenance of one calculator as JSON."""
    from sianode.calculators import get_calculator

    spec = get_calculator(name)
    typer.echo(json.dumps({"provenance": spec.provenance(), "identity": spec.identity()}, indent=2))


def register(app: typer.Typer) -> None:
    """Add the ``calculators`` group to the sianode CLI."""
    app.add_typer(calculators_app, name="calculators")
