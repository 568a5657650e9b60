"""``sianode structures arrangements|sites|hops|write``: doped cells, Li sites and hops.

Thin: parse options, call :mod:`sianode.structures`, format a rich table or JSON
(``--json``, the contract scripts rely on). Bad input raises
:class:`~sianode.errors.InputError` (one line, exit status 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from sianode.errors import InputError

structures_app = typer.Typer(
    help="Doped Si supercells, symmetry-distinct dopant arrangements, Li T/H sites and hops.",
    no_args_is_help=True,
)

_DOPANT_HELP = "Dopant element (B, P, S, Ge, ...) or mixed counts like 'B:1,Ge:2'."
_PERCENT_HELP = "Dopant atom %% (0 < p < 50); the nearest supercell (n = 1..4) and count are chosen."


def parse_dopant(text: str) -> str | dict[str, int]:
    """``"B"`` -> ``"B"``; ``"B:1,Ge:2"`` -> ``{"B": 1, "Ge": 2}`` (InputError if malformed)."""
    if ":" not in text:
        return text.strip()
    out: dict[str, int] = {}
    for part in text.split(","):
        el, _, n = part.partition(":")
        try:
            out[el.strip()] = int(n)
        except ValueError:
            raise InputError(f"dopant {text!r} not understood: use an element (B) or counts like B:1,Ge:2") from None
    return out


def parse_arrangement(text: str) -> Any:
    """``"8"`` -> class id 8; ``"dispersed"``/``"compact"``/``"sqs"`` -> that strategy."""
    text = str(text).strip()
    return int(text) if text.isdigit() else text


def _doped(dopant: Optional[str], percent: Optional[float], count: Optional[int], supercell: Optional[int],
           a: float, arrangement: Any) -> tuple[Any, Any]:
    """``(DopedCell, atoms)``, or ``(None, pure Si atoms)`` when no dopant is given."""
    from sianode.structures import doped_supercell, pure_supercell

    if dopant is None:
        if percent is not None or count is not None:
            raise InputError("--percent/--count need --dopant (an element such as B, P, S, Ge)")
        return None, pure_supercell(2 if supercell is None else supercell, a)
    dop = parse_dopant(dopant)
    if percent is None and count is None and not isinstance(dop, dict):
        count = 1
    cell = doped_supercell(dop, percent=percent, count=count, supercell=supercell, a=a,
                           arrangement=parse_arrangement(arrangement))
    return cell, cell.atoms


def _emit_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*[str(x) for x in r])
    Console().print(table)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(f"{x:.4f}" for x in v) + ")"
    return str(v)


_A = typer.Option(5.431, "--a", help="Lattice constant, Angstrom.")
_SC = typer.Option(None, "--supercell", "-n", help="Supercell n (n x n x n conventional cells).")
_JSON = typer.Option(False, "--json", help="Machine-readable JSON output.")
_ARR = typer.Option("dispersed", "--arrangement",
                    help="dispersed (dopants farthest apart), compact, sqs, or a class id (0 = most compact).")


@structures_app.command("arrangements")
def arrangements(
    dopant: Optional[str] = typer.Option(None, "--dopant", "-d", help=_DOPANT_HELP),
    count: Optional[int] = typer.Option(None, "--count", "-k", help="Number of dopants."),
    percent: Optional[float] = typer.Option(None, "--percent", "-p", help=_PERCENT_HELP),
    supercell: Optional[int] = _SC,
    a: float = _A,
    seed: int = typer.Option(0, "--seed", help="Seed of the random sample when enumeration is too big."),
    as_json: bool = _JSON,
) -> None:
    """Symmetry-distinct arrangements of the dopants on the Si sites (min d: the smallest
    dopant-dopant distance, minimum image; the dispersed strategy takes the largest)."""
    from sianode.structures import enumerate_arrangements, min_dopant_distance, pure_supercell, select_arrangements

    if count is None and percent is None and (dopant is None or ":" not in dopant):
        raise InputError("give --count (number of dopants) or --percent (0 < p < 50)")
    if dopant is not None:
        dop = parse_dopant(dopant)
        cell = _doped(dopant, percent, count, supercell, a, "0")[0]
        n_dopants, reps, requested = cell.n_dopants, cell.supercell, cell.requested_percent
    else:
        from sianode.structures.supercell import choose_cell

        if percent is not None:
            sc, n_dopants, _ = choose_cell(percent, (1, 2, 3, 4) if supercell is None else (supercell,))
        else:
            sc, n_dopants = (2 if supercell is None else supercell), count
        reps, requested, dop = sc, percent, None
    host = pure_supercell(reps, a)
    result = enumerate_arrangements(host, n_dopants, seed=seed)
    data = result.as_dict()
    data["actual_percent"] = 100.0 * n_dopants / len(host)
    data["requested_percent"] = requested
    data["supercell"] = list(reps) if isinstance(reps, tuple) else [reps] * 3
    data["dopant"] = dop
    data["dispersed_id"] = select_arrangements(host, n_dopants, "dispersed", arrangements=result)[0].id
    if as_json:
        typer.echo(json.dumps(data))
        return
    kind = "exact" if result.exact else f"sample, seed {result.seed}"
    _emit_table(
        f"{n_dopants} dopants on {result.n_sites} sites ({data['actual_percent']:.4g} %), "
        f"{len(result)} classes ({kind}); dispersed: class {data['dispersed_id']}",
        ["id", "multiplicity", "min d / A", "dopant indices"],
        [[c.id, c.multiplicity, _fmt(min_dopant_distance(host, c.dopant_indices) if n_dopants > 1 else None),
          " ".join(map(str, c.dopant_indices))] for c in result],
    )


@structures_app.command("sites")
def sites(
    dopant: Optional[str] = typer.Option(None, "--dopant", "-d", help=_DOPANT_HELP + " Omit for pure Si."),
    count: Optional[int] = typer.Option(None, "--count", "-k", help="Number of dopants (default 1)."),
    percent: Optional[float] = typer.Option(None, "--percent", "-p", help=_PERCENT_HELP),
    supercell: Optional[int] = _SC,
    a: float = _A,
    arrangement: str = _ARR,
    as_json: bool = _JSON,
) -> None:
    """Symmetry classes of the Li T and H sites, by distance to the nearest dopant."""
    from sianode.structures import li_sites

    cell, atoms = _doped(dopant, percent, count, supercell, a, arrangement)
    result = li_sites(atoms, cell.dopant_indices if cell else [])
    keys = ("label", "multiplicity", "frac", "distance_to_dopant")
    data = {kind: [{k: c.as_dict()[k] for k in keys} for c in getattr(result, kind)] for kind in ("T", "H")}
    if as_json:
        typer.echo(json.dumps(data))
        return
    rows = [[c["label"], c["multiplicity"], _fmt(c["frac"]), _fmt(c["distance_to_dopant"])]
            for kind in ("T", "H") for c in data[kind]]
    _emit_table(f"Li sites in {atoms.get_chemical_formula()}", ["site", "multiplicity", "frac", "d_dopant / A"], rows)


@structures_app.command("hops")
def hops(
    dopant: Optional[str] = typer.Option(None, "--dopant", "-d", help=_DOPANT_HELP + " Omit for pure Si."),
    count: Optional[int] = typer.Option(None, "--count", "-k", help="Number of dopants (default 1)."),
    percent: Optional[float] = typer.Option(None, "--percent", "-p", help=_PERCENT_HELP),
    supercell: Optional[int] = _SC,
    a: float = _A,
    arrangement: str = _ARR,
    select: str = typer.Option("all", "--select", help="near | far | all | within:R (saddle within R A of a dopant)"),
    as_json: bool = _JSON,
) -> None:
    """Symmetry-distinct Li T <-> H <-> T hop paths, unordered: one NEB each (a campaign's hops)."""
    from sianode.structures import li_hop_paths, select_hop_paths

    cell, atoms = _doped(dopant, percent, count, supercell, a, arrangement)
    result = select_hop_paths(li_hop_paths(atoms, cell.dopant_indices if cell else []), select)
    data = {"hops": [h.as_dict() for h in result]}
    if as_json:
        typer.echo(json.dumps(data))
        return
    rows = [[h["label"], h["multiplicity"], f"{h['start_site_label']}-{h['h_label']}-{h['end_site_label']}",
             _fmt(h["start"]), _fmt(h["end"]), _fmt(h["distance_to_dopant"])] for h in data["hops"]]
    _emit_table(f"Li hops in {atoms.get_chemical_formula()}",
                ["hop", "multiplicity", "path", "start", "end", "d_dopant(H) / A"], rows)


@structures_app.command("write")
def write(
    ctx: typer.Context,
    outdir: Path = typer.Option(..., "--output", "-o", help="Directory to write into (created)."),
    dopant: Optional[str] = typer.Option(None, "--dopant", "-d", help=_DOPANT_HELP + " Omit for pure Si."),
    count: Optional[int] = typer.Option(None, "--count", "-k", help="Number of dopants (default 1)."),
    percent: Optional[float] = typer.Option(None, "--percent", "-p", help=_PERCENT_HELP),
    supercell: Optional[int] = _SC,
    a: float = _A,
    arrangement: str = _ARR,
    select: str = typer.Option("all", "--select", help="Hop paths to write: near | far | all | within:R"),
    as_json: bool = _JSON,
) -> None:
    """Write the host, each Li-site insertion and the hop end points (extxyz and CIF)."""
    from sianode.structures import write_structures

    cell, atoms = _doped(dopant, percent, count, supercell, a, arrangement)
    files = write_structures(outdir, atoms, cell.dopant_indices if cell else [], select=select)
    if as_json:
        typer.echo(json.dumps({"directory": str(outdir), "files": files}))
    elif not (ctx.obj is not None and getattr(ctx.obj, "quiet", False)):
        typer.echo(f"wrote {len(files)} files to {outdir}")


def register(app: typer.Typer) -> None:
    """Add the ``structures`` group to the sianode CLI."""
    app.add_typer(structures_app, name="structures")
