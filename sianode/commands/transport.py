"""``sianode transport ...``: Li transport through the hop network (issue 11, item 5).

Thin: parse, call :mod:`sianode.transport`, format. Python users call
:func:`sianode.transport.diffusion_tensor` and :func:`sianode.transport.arrhenius_fit` with
the same names. Bad input raises :class:`~sianode.errors.InputError`; ``sianode.cli.main``
prints it as one line and exits 2.

Commands here: ``network`` (a network file). The ``diffusivity`` and ``export`` commands
(from the store) are added below, in the marked section, by their owner.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import typer

from sianode.commands import cli_store

transport_app = typer.Typer(
    help="Li transport through the whole hop network: exact D_eff, Arrhenius fit, networks from the store.",
    no_args_is_help=True,
)

_JSON = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")


def network_report(path: str, temperature_K: float, arrhenius: str | None) -> dict[str, Any]:
    """The numbers of ``sianode transport network``: D, tensor, and the Arrhenius fit if asked.

    Raises :class:`~sianode.errors.InputError` for a bad file, temperature or range.
    """
    from sianode.errors import InputError
    from sianode.transport import HopNetwork, arrhenius_fit, diffusion_tensor
    from sianode.transport.arrhenius import parse_t_range

    if not (temperature_K > 0 and temperature_K < float("inf")):
        raise InputError(f"--temperature {temperature_K!r}; need a positive number of kelvin")
    t_range = parse_t_range(arrhenius) if arrhenius is not None else None
    net = HopNetwork.from_json_file(path).validate()
    tensor = diffusion_tensor(net, temperature_K)
    out: dict[str, Any] = {
        "D_m2_s": float(tensor.trace() / 3.0),
        "D_tensor_m2_s": tensor.tolist(),
        "temperature_K": float(temperature_K),
        "n_sites": net.n_sites,
        "n_hops": net.n_hops,
        "attempt_frequency_Hz": net.attempt_frequency_Hz,
    }
    if t_range is not None:
        fit = arrhenius_fit(net, t_range)
        out.update({"Ea_eff_eV": fit.Ea_eV, "D0_m2_s": fit.D0_m2_s, "arrhenius_range_K": list(fit.t_range_K)})
    return out


@transport_app.command("network")
def network(
    file: str = typer.Argument(..., metavar="FILE.json", help="Hop network file (format: sianode.transport.network)."),
    temperature: float = typer.Option(300.0, "--temperature", help="Temperature, K."),
    arrhenius: Optional[str] = typer.Option(
        None, "--arrhenius", metavar="T1:T2", help="Also fit E_a,eff and D0 over this range in K, e.g. 250:400."
    ),
    as_json: bool = _JSON,
) -> None:
    """Exact diffusion tensor of a periodic hop network file (cell problem, PHYSICS.md section 6)."""
    out = network_report(file, temperature, arrhenius)
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"network        {out['n_sites']} sites, {out['n_hops']} hops, nu = {out['attempt_frequency_Hz']:.4g} Hz")
    typer.echo(f"temperature_K  {out['temperature_K']:g}")
    typer.echo(f"D_m2_s         {out['D_m2_s']:.6g}")
    typer.echo("D_tensor_m2_s")
    for row in out["D_tensor_m2_s"]:
        typer.echo("  " + " ".join(f"{x:13.6g}" for x in row))
    if "Ea_eff_eV" in out:
        lo, hi = out["arrhenius_range_K"]
        typer.echo(f"Ea_eff_eV      {out['Ea_eff_eV']:.4f}   (Arrhenius fit {lo:g}-{hi:g} K)")
        typer.echo(f"D0_m2_s        {out['D0_m2_s']:.6g}")


# --------------------------------------------------------------------------------------
# Store-backed commands (`diffusivity`, `export`): added here by their owner, as
# `@transport_app.command("diffusivity")` / `@transport_app.command("export")`.
# Python: sianode.analysis.network.transport_summary / host_network (same names).
# --------------------------------------------------------------------------------------
_DOPANT = typer.Option(..., "--dopant", help="B, P, S, Ge, or Si/pure.")
_PERCENT = typer.Option(None, "--percent", help="Dopant atom % (within 1e-3; default: the only one stored).")
_CALCULATOR = typer.Option(None, "--calculator", help="Calculator name (default: the only one with such a host).")


@transport_app.command("diffusivity")
def diffusivity_command(
    ctx: typer.Context,
    dopant: str = _DOPANT,
    percent: Optional[float] = _PERCENT,
    calculator: Optional[str] = _CALCULATOR,
    temperature: float = typer.Option(300.0, "--temperature", help="Temperature, K."),
    as_json: bool = _JSON,
) -> None:
    """D_eff of a stored host's whole hop network, its ratio to pure Si and E_a,eff, with sources."""
    from sianode.analysis.network import transport_summary

    with cli_store(ctx) as store:
        s = transport_summary(store, dopant=dopant, percent=percent, calculator=calculator,
                              temperature_K=temperature)
    if as_json:
        typer.echo(json.dumps(s))
        return

    def num(value: Any, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    name = "pure Si" if s["dopant"] == "Si" else f"{s['dopant']} {s['percent']:g} %"
    lo, hi = s["arrhenius_range_K"]
    typer.echo(f"{name} ({s['calculator']}), T = {s['temperature_K']:g} K: {s['n_site_classes']} T-site and "
               f"{s['n_hop_classes']} hop classes, nu = {s['attempt_frequency_Hz']:.3g} Hz")
    typer.echo(f"D_eff_m2_s     {num(s['D_eff_m2_s'], '.4g')}")
    typer.echo(f"D_pure_m2_s    {num(s['D_pure_m2_s'], '.4g')}")
    typer.echo(f"ratio_to_pure  {num(s['ratio_to_pure'], '.4g')}")
    typer.echo(f"Ea_eff_eV      {num(s['Ea_eff_eV'], '.4f')}   (Arrhenius {lo:g}-{hi:g} K; pure Si "
               f"{num(s['Ea_pure_eV'], '.4f')})")
    for line in s["missing"]:
        typer.echo(f"missing: {line}")
    for line in s["warnings"]:
        typer.echo(f"warning: {line}")
    typer.echo(f"sources: {len(s['sources'])} documents ({', '.join(k[:12] for k in s['sources'][:4])}"
               f"{', ...' if len(s['sources']) > 4 else ''}; --json lists them)")


@transport_app.command("export")
def export_command(
    ctx: typer.Context,
    dopant: str = _DOPANT,
    percent: Optional[float] = _PERCENT,
    calculator: Optional[str] = _CALCULATOR,
    output: str = typer.Option(..., "-o", "--output", help="Network file to write (JSON)."),
) -> None:
    """Write a stored host's hop network as a `sianode transport network` file (edit it, feed it back)."""
    from sianode.analysis.network import host_network
    from sianode.errors import InputError

    with cli_store(ctx) as store:
        asm = host_network(store, dopant=dopant, percent=percent, calculator=calculator)
    name = "pure Si" if asm.dopant == "Si" else f"{asm.dopant} {asm.percent:g} %"
    if asm.network is None:
        raise InputError(f"no hop network of {name} ({asm.calculator}) to export: missing "
                         + "; ".join(asm.missing))
    data = asm.network.to_json_dict()
    data["source"] = {"dopant": asm.dopant, "percent": asm.percent, "calculator": asm.calculator,
                      "host_key": asm.host_key,
                      "energies": "E_ins, eV vs bcc Li; saddles E_ins(start) + forward barrier",
                      "sources": list(asm.sources), "warnings": list(asm.warnings)}
    with open(output, "w") as fh:
        fh.write(json.dumps(data, indent=1))
    if not (ctx.obj is not None and getattr(ctx.obj, "quiet", False)):
        typer.echo(f"wrote {output}: {asm.network.n_sites} sites, {asm.network.n_hops} hops of {name} "
                   f"({asm.calculator})", err=True)


def register(app: typer.Typer) -> None:
    """Add the ``transport`` sub-command group to the ``sianode`` app."""
    app.add_typer(transport_app, name="transport")
