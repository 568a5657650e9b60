"""``sianode crosscheck``: a campaign's E_ins and barriers against a reference calculator (DFT).

Thin: parse, call :func:`sianode.recipes.crosscheck.crosscheck`, format. Python users call
that function with the same names. Bad input raises :class:`~sianode.errors.InputError`;
``sianode.cli.main`` prints it as one line and exits 2.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import typer

from sianode.commands import cli_store


def render_table(report: Any) -> str:
    """A :class:`~sianode.recipes.crosscheck.CrosscheckReport` as a plain-text table and summary."""
    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:+.3f}"

    calc, ref = report.calculator, report.reference
    head = f"{'dopant':<7} {'at.%':>7} {'kind':<9} {'item':<22} {calc[:12]:>12} {ref[:12]:>12} {'diff':>8}"
    lines = [f"crosscheck of {calc} against {ref}, same geometries (eV; diff = {ref} - {calc})", head,
             "-" * len(head)]
    for r in report.rows:
        lines.append(f"{str(r.dopant):<7} {float(r.percent or 0.0):>7g} {r.kind:<9} {r.item[:22]:<22} "
                     f"{num(r.calc_eV):>12} {num(r.reference_eV):>12} {num(r.difference_eV):>8}"
                     + (f"  {r.reason}" if r.reason else ""))
    for kind, s in report.summary.items():
        if s["n_compared"]:
            lines.append(f"{kind}: {s['n_compared']}/{s['n']} compared, mean diff {s['mean_difference_eV']:+.3f} eV, "
                         f"mean |diff| {s['mean_abs_difference_eV']:.3f} eV, max |diff| "
                         f"{s['max_abs_difference_eV']:.3f} eV")
        else:
            lines.append(f"{kind}: 0/{s['n']} compared (reference single points failed)")
    st = report.stats
    lines.append(f"{len(report.rows)} of {report.n_candidates} candidate numbers; reference single points: computed "
                 f"{st.get('computed', 0)} ({st.get('wall_s', 0.0):.0f} s), found in the store {st.get('reused', 0)}, "
                 f"failed {st.get('failed', 0)}")
    return "\n".join(lines)


def parse_parameters(values: list[str] | None) -> dict[str, Any]:
    """``["ecut_eV=400", "kpts_density=3"]`` -> ``{"ecut_eV": 400, "kpts_density": 3}`` (values
    read as JSON where they parse, else kept as text)."""
    from sianode.errors import InputError

    out: dict[str, Any] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param {item!r} is not KEY=VALUE (e.g. --param ecut_eV=400)")
        try:
            out[key.strip()] = json.loads(raw)
        except ValueError:
            out[key.strip()] = raw
    return out


def crosscheck_command(
    ctx: typer.Context,
    reference: str = typer.Option("gpaw", "--reference", help="Reference calculator (gpaw: `make dft`)."),
    calculator: Optional[str] = typer.Option(
        None, "--calculator", help="The campaign's calculator (default: the only one in the store, else the default calculator)."),
    dopant: Optional[str] = typer.Option(None, "--dopant", help="B, P, S, Ge, or Si/pure."),
    percent: Optional[float] = typer.Option(None, "--percent", help="Dopant atom % (matched within 1e-3)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="insertion | barrier (default: both)."),
    sample: Optional[int] = typer.Option(
        None, "--sample", help="Check N numbers drawn (seeded, reproducibly) from the candidates."),
    seed: int = typer.Option(0, "--seed", help="Seed of --sample."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run failed reference single points again."),
    param: Optional[list[str]] = typer.Option(
        None, "--param", metavar="KEY=VALUE",
        help="A reference calculator parameter over the crosscheck defaults, e.g. --param kpts_density=3.0 "
             "(repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
) -> None:
    """Recompute stored insertion energies and barriers with a reference calculator as single
    points at the campaign's own geometries (stored and deduplicated), and show the differences."""
    from sianode.recipes.crosscheck import crosscheck

    quiet = bool(getattr(ctx.obj, "quiet", False)) or as_json
    parameters = parse_parameters(param)
    with cli_store(ctx) as store:
        report = crosscheck(store, reference=reference, calculator=calculator, dopant=dopant, kind=kind,
                            sample=sample, percent=percent, seed=seed, retry_failed=retry_failed,
                            reference_parameters=parameters,
                            progress=None if quiet else (lambda line: typer.echo(f"  {line}", err=True)))
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
    else:
        typer.echo(render_table(report))


def register(app: typer.Typer) -> None:
    app.command("crosscheck")(crosscheck_command)
