"""``sianode query``, ``sianode trends``, ``sianode plot ...`` and ``sianode validate``.

Thin wrappers: parse, call :mod:`sianode.analysis` (reads the database) or
:mod:`sianode.recipes.validate` (computes what it needs), format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sianode.commands import cli_store

plot_app = typer.Typer(
    help="Remake the figures from the database alone (PNG, PDF or SVG by the file extension).",
    no_args_is_help=True,
)


def query(
    ctx: typer.Context,
    dopant: Optional[str] = typer.Option(None, "--dopant", help="B, P, S, Ge, or Si/pure."),
    percent: Optional[float] = typer.Option(None, "--percent", help="Dopant atom % (matched within 1e-3)."),
    kind: Optional[str] = typer.Option(
        None, "--kind", help="insertion | barrier | relax | neb | reference | host (default: every calculation)."
    ),
    calculator: Optional[str] = typer.Option(None, "--calculator", help="Calculator name, e.g. sevennet."),
    status: Optional[str] = typer.Option(None, "--status", help="completed | failed | running."),
    campaign: Optional[str] = typer.Option(None, "--campaign", help="Campaign name."),
    fmt: str = typer.Option("table", "--format", help="table | json | csv."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write to FILE instead of stdout."),
) -> None:
    """Stored results, one row per calculation, with E_ins and barriers derived on the fly."""
    from sianode.analysis.query import FORMATS, format_results, results, rich_table
    from sianode.errors import InputError

    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not allowed; choose one of {', '.join(FORMATS)}")
    with cli_store(ctx) as store:
        df = results(store, dopant=dopant, percent=percent, kind=kind, calculator=calculator,
                     status=status, campaign=campaign)
    if output is not None:
        output.write_text(format_results(df, fmt))
        if not (ctx.obj is not None and ctx.obj.quiet):
            typer.echo(f"wrote {len(df)} row(s) to {output}", err=True)
    elif fmt == "table":
        from rich.console import Console

        Console().print(rich_table(df))
    else:
        typer.echo(format_results(df, fmt), nl=False)


def _plot(ctx: typer.Context, what: str, output: Path, **filters) -> None:
    from sianode.analysis.plots import plot_from_store

    with cli_store(ctx) as store:
        plot_from_store(store, what, output, **filters)
    if not (ctx.obj is not None and ctx.obj.quiet):
        typer.echo(f"wrote {output}", err=True)


_OUTPUT = typer.Option(..., "-o", "--output", help="Figure file: .png, .pdf or .svg.")
_CALC = typer.Option(None, "--calculator", help="Calculator name (default: the one in the database; "
                     "several present is an error).")
_CAMPAIGN = typer.Option(None, "--campaign", help="Only results of this campaign.")
_TEMPERATURE = typer.Option(300.0, "--temperature", help="Temperature, K (Boltzmann averages, D_eff).")


@plot_app.command("insertion")
def plot_insertion(
    ctx: typer.Context,
    output: Path = _OUTPUT,
    calculator: Optional[str] = _CALC,
    campaign: Optional[str] = _CAMPAIGN,
    temperature: float = _TEMPERATURE,
) -> None:
    """E_ins vs atom %: one line per dopant (Boltzmann average, lowest site), ensemble band, pure Si line."""
    _plot(ctx, "insertion", output, calculator=calculator, campaign=campaign, T_K=temperature)


@plot_app.command("neb")
def plot_neb(
    ctx: typer.Context,
    output: Path = _OUTPUT,
    calculator: Optional[str] = _CALC,
    campaign: Optional[str] = _CAMPAIGN,
    dopant: Optional[str] = typer.Option(None, "--dopant", help="Only this dopant (and pure Si)."),
) -> None:
    """NEB energy profiles (energy relative to the start image) per dopant."""
    _plot(ctx, "neb", output, calculator=calculator, campaign=campaign, dopant=dopant)


@plot_app.command("barriers")
def plot_barriers(
    ctx: typer.Context,
    output: Path = _OUTPUT,
    calculator: Optional[str] = _CALC,
    campaign: Optional[str] = _CAMPAIGN,
    temperature: float = _TEMPERATURE,
) -> None:
    """E_a,eff (hop network, superposition curve) and near-hop barriers vs atom %."""
    _plot(ctx, "barriers", output, calculator=calculator, campaign=campaign, T_K=temperature)


@plot_app.command("diffusivity")
def plot_diffusivity(
    ctx: typer.Context,
    output: Path = _OUTPUT,
    calculator: Optional[str] = _CALC,
    campaign: Optional[str] = _CAMPAIGN,
    temperature: float = _TEMPERATURE,
) -> None:
    """D_eff / D_pure (log) vs atom %: explicit networks and the superposition curve with its error band."""
    _plot(ctx, "diffusivity", output, calculator=calculator, campaign=campaign, T_K=temperature)


@plot_app.command("network")
def plot_network(
    ctx: typer.Context,
    output: Path = _OUTPUT,
    dopant: str = typer.Option(..., "--dopant", help="B, P, S, Ge, or Si/pure."),
    percent: Optional[float] = typer.Option(None, "--percent", help="Dopant atom % (matched within 1e-3)."),
    calculator: Optional[str] = _CALC,
    campaign: Optional[str] = _CAMPAIGN,
) -> None:
    """One host's hop network in 3D: T sites coloured by E_ins, hops by barrier."""
    _plot(ctx, "network", output, dopant=dopant, percent=percent, calculator=calculator, campaign=campaign)


@plot_app.command("critical-size")
def plot_critical_size(
    ctx: typer.Context,
    output: Path = _OUTPUT,
    calculator: Optional[str] = _CALC,
    campaign: Optional[str] = _CAMPAIGN,
    c_rate: float = typer.Option(1.0, "--c-rate", help="Galvanostatic C-rate."),
    temperature: float = _TEMPERATURE,
) -> None:
    """Critical particle size per dopant and atom %, D = Pell x D_eff / D_pure (continuum model)."""
    _plot(ctx, "critical-size", output, calculator=calculator, campaign=campaign, c_rate=c_rate, T_K=temperature)


def trends(
    ctx: typer.Context,
    calculator: Optional[str] = _CALC,
    campaign: Optional[str] = _CAMPAIGN,
    temperature: float = _TEMPERATURE,
    as_json: bool = typer.Option(False, "--json", help="Print the trends as JSON."),
) -> None:
    """E_ins, barriers and D_eff / D_pure vs atom % per dopant: explicit cells, superposition, difference."""
    import json

    from sianode.analysis.concentration import concentration_trends

    with cli_store(ctx) as store:
        result = concentration_trends(store, calculator=calculator, campaign=campaign, T_K=temperature)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=1))
        return
    from rich.console import Console

    from sianode.recipes.demo import render_comparisons, render_trend_rows

    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough for the tables
        console = Console(width=160)
    console.print(render_trend_rows(result, f"Li insertion and transport vs atom % ({result.calculator})"))
    console.print(render_comparisons(result))
    for problem in result.problems:
        console.print(f"[yellow]not computed[/yellow]: {problem}")


def validate(
    ctx: typer.Context,
    calculator: Optional[str] = typer.Option(None, "--calculator", help="Calculator to validate (default sevennet-mf0)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of checks."),
    quick: bool = typer.Option(False, "--quick", help="Skip the 216-site supercell convergence check."),
    skip: Optional[list[str]] = typer.Option(None, "--skip", help="A check not to run (repeatable): lattice, h-t, "
                                             "barrier, ordering, ge-trend, dft, convergence."),
) -> None:
    """Compare the calculator with literature values; exit 1 when a check fails."""
    import json

    from sianode.recipes.validate import exit_code, render_report, run_validation

    with cli_store(ctx) as store:
        checks = run_validation(store, calculator=calculator, quick=quick, skip=tuple(skip or ()),
                                progress=not (as_json or (ctx.obj is not None and ctx.obj.quiet)))
    if as_json:
        typer.echo(json.dumps([c.as_dict() for c in checks], indent=1))
    else:
        from rich.console import Console

        Console().print(render_report(checks))
    code = exit_code(checks)
    if code:
        # SystemExit, not typer.Exit: click returns typer.Exit's code in non-standalone mode
        # and sianode.cli.main discards a returned code.
        raise SystemExit(code)


def register(app: typer.Typer) -> None:
    app.command("query")(query)
    app.command("trends")(trends)
    app.command("validate")(validate)
    app.add_typer(plot_app, name="plot")
