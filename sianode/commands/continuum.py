"""``sianode continuum stress|critical-size|parameters``: the chemo-mechanical stress model.

Thin: parse SI options, call :mod:`sianode.continuum`, format. A dopant's D is Pell's
pure-Si D times D_eff / D_eff,pure of the database's hop networks
(:func:`sianode.analysis.persist.parameters_from_store`). Python users call
:func:`sianode.continuum.stress.run_stress` and
:func:`sianode.continuum.fracture.critical_radius` with the same names.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import typer

continuum_app = typer.Typer(
    help="Continuum chemo-mechanics of a lithiating Si particle: stress profiles, critical size.",
    no_args_is_help=True,
)

_DOPANT = typer.Option(None, "--dopant", help="B, P, S or Ge (default: pure Si).")
_PERCENT = typer.Option(None, "--percent", help="Dopant atom %, e.g. 3.125.")
_DIFF = typer.Option(None, "--diffusivity", help="Li diffusivity D, m^2/s (overrides the database/default).")
_OMEGA = typer.Option(None, "--omega", help="Partial molar volume of Li, m^3/mol.")
_YOUNGS = typer.Option(None, "--youngs", help="Young's modulus of Li_xSi used for stress, Pa.")
_POISSON = typer.Option(None, "--poisson", help="Poisson ratio of Li_xSi used for stress.")
_GAMMA = typer.Option(None, "--fracture-energy", help="Fracture energy of Li_xSi, J/m^2.")
_C_RATE = typer.Option(1.0, "--c-rate", help="Galvanostatic C-rate (1 = full charge in 1 h).")
_JSON = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")


_CALC = typer.Option(None, "--calculator", help="Calculator whose hop networks give D (default: the only one).")


def _params(ctx: typer.Context, dopant: str | None, percent: float | None, overrides: dict[str, Any],
            calculator: str | None = None) -> Any:
    """Parameters with a dopant's D = D_Pell x D_eff / D_eff,pure from the database's hop networks."""
    from sianode.analysis.persist import parameters_from_store

    db = getattr(ctx.obj, "db", None) if ctx.obj is not None else None
    return parameters_from_store(db, dopant, percent, overrides, calculator=calculator)


def _print_table(table: Any) -> None:
    from rich.console import Console

    Console(width=160).print(table)


@continuum_app.command("stress")
def stress(
    ctx: typer.Context,
    dopant: Optional[str] = _DOPANT,
    percent: Optional[float] = _PERCENT,
    radius: str = typer.Option("75nm", "--radius", help="Particle radius: 75nm, 1um, 7.5e-8 (m)."),
    c_rate: float = _C_RATE,
    flux: Optional[float] = typer.Option(None, "--flux", help="Surface flux J, mol m^-2 s^-1 (instead of --c-rate)."),
    time: Optional[float] = typer.Option(None, "--time", help="Simulated time, s (default one charge, 3600/C)."),
    nodes: int = typer.Option(101, "--nodes", help="Radial nodes (>= 3)."),
    steps: int = typer.Option(400, "--steps", help="Time steps."),
    outputs: int = typer.Option(11, "--outputs", help="Output times."),
    potentiostatic: bool = typer.Option(False, "--potentiostatic", help="Hold the surface at c_max instead of a flux."),
    diffusivity: Optional[float] = _DIFF,
    omega: Optional[float] = _OMEGA,
    youngs: Optional[float] = _YOUNGS,
    poisson: Optional[float] = _POISSON,
    calculator: Optional[str] = _CALC,
    as_json: bool = _JSON,
    plot: Optional[str] = typer.Option(None, "--plot", help="Write c and hoop-stress profiles to FILE (.png/.pdf)."),
) -> None:
    """Concentration and stress profiles of a particle over one charge."""
    from sianode.continuum.stress import run_stress
    from sianode.continuum.units import parse_length_m

    radius_m = parse_length_m(radius)
    params = _params(ctx, dopant, percent, {"diffusivity": diffusivity, "omega": omega, "youngs": youngs,
                                            "poisson": poisson}, calculator)
    result = run_stress(
        params,
        radius_m,
        c_rate=c_rate,
        flux_mol_m2_s=flux,
        potentiostatic=potentiostatic,
        time_s=time,
        n_nodes=nodes,
        n_steps=steps,
        n_out=outputs,
    )
    if plot:
        from sianode.continuum.plots import plot_profiles

        plot_profiles(result, plot)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    quiet = bool(getattr(ctx.obj, "quiet", False)) if ctx.obj is not None else False
    if not quiet:
        _print_table(params.table())
    typer.echo(f"radius {radius_m:.4g} m, {result.boundary}")
    typer.echo(f"{'t (s)':>10} {'c(0)':>11} {'c(R)':>11} {'sig_t(0) Pa':>12} {'sig_t(R) Pa':>12}")
    for i, t in enumerate(result.times_s):
        c, s = result.c_mol_m3[i], result.sigma_t_pa[i]
        typer.echo(f"{t:10.4g} {c[0]:11.4g} {c[-1]:11.4g} {s[0]:12.4g} {s[-1]:12.4g}")
    if plot:
        typer.echo(f"wrote {plot}")


@continuum_app.command("critical-size")
def critical_size(
    ctx: typer.Context,
    dopant: Optional[str] = _DOPANT,
    percent: Optional[float] = _PERCENT,
    criterion: str = typer.Option("energy_release_rate", "--criterion", help="energy_release_rate or hoop_strength."),
    c_rate: float = _C_RATE,
    diffusivity: Optional[float] = _DIFF,
    omega: Optional[float] = _OMEGA,
    youngs: Optional[float] = _YOUNGS,
    poisson: Optional[float] = _POISSON,
    fracture_energy: Optional[float] = _GAMMA,
    calculator: Optional[str] = _CALC,
    as_json: bool = _JSON,
) -> None:
    """Largest particle that does not crack on charging, with the criterion and its parameters."""
    from sianode.continuum.fracture import critical_radius

    overrides = {
        "diffusivity": diffusivity,
        "omega": omega,
        "youngs": youngs,
        "poisson": poisson,
        "fracture_energy": fracture_energy,
    }
    params = _params(ctx, dopant, percent, overrides, calculator)
    result = critical_radius(params, criterion, c_rate=c_rate)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    from rich.table import Table

    table = Table(title=f"criterion {result.criterion}: {result.citation}")
    for col in ("parameter", "value", "unit", "source"):
        table.add_column(col, overflow="fold")
    for name, p in result.criterion_parameters.items():
        table.add_row(name, f"{p['value']:.4g}", p["unit"], p["source"])
    _print_table(table)
    typer.echo(f"critical_radius_m   {result.critical_radius_m:.4g}")
    typer.echo(f"critical_diameter_m {result.critical_diameter_m:.4g}")
    if result.yield_limited:
        typer.echo("stress at R_c limited by the yield point of Li_xSi")


@continuum_app.command("parameters")
def parameters(
    ctx: typer.Context,
    dopant: Optional[str] = _DOPANT,
    percent: Optional[float] = _PERCENT,
    calculator: Optional[str] = _CALC,
    as_json: bool = _JSON,
) -> None:
    """Print the parameter set with sources."""
    params = _params(ctx, dopant, percent, {}, calculator)
    if as_json:
        typer.echo(json.dumps(params.as_dict()))
    else:
        _print_table(params.table())


def register(app: typer.Typer) -> None:
    """Add the ``continuum`` sub-command group to the ``sianode`` app."""
    app.add_typer(continuum_app, name="continuum")
