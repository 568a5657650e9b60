"""``sianode plan campaign.yaml [--json]``: what a campaign will compute, before it runs.

Thin: load the campaign, call :func:`sianode.workflows.estimate.estimate_campaign` (a dry
run: no database write; the store is only read, and the embedded server is not started),
format a table or the JSON contract::

    {"hosts": [{"dopant", "percent", "supercell", "n_sites",
                "arrangement": {"id", "multiplicity", "weight", "dopant_indices"},
                "n_t_sites", "n_hops"}],
     "calculations": {"<kind>": n}, "in_store": n, "estimated_core_hours": x or null}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def _fmt_weight(w: Any) -> str:
    return "after hosts" if w is None else f"{w:.3g}"


def _print(spec: Any, est: Any) -> None:
    typer.echo(f"campaign {spec.name}: {len(est.hosts)} hosts, calculator {spec.calculator.name}, "
               f"arrangements {spec.arrangement_strategy.describe()}")
    header = ("dopant", "atom %", "requested", "sites", "class", "multiplicity", "weight", "weight source",
              "T sites", "hops")
    rows = [header]
    for row, detail in zip(est.hosts, est.host_details):
        arr = row["arrangement"]
        req = detail["requested_percent"]
        li = detail["carries_li"]
        rows.append((row["dopant"], f"{row['percent']:.5g}", "-" if req is None else f"{req:g}",
                     str(row["n_sites"]), str(arr["id"]) if arr["id"] >= 0 else "sqs", str(arr["multiplicity"]),
                     _fmt_weight(arr["weight"]), str(detail["weight_source"]),
                     str(row["n_t_sites"]) if li else "-", str(row["n_hops"]) if li else "-"))
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    for r in rows:
        typer.echo("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    if spec.arrangement_strategy.is_ensemble and not spec.arrangement_strategy.finite_temperature:
        covered: dict[tuple[str, float], float] = {}
        for row, detail in zip(est.hosts, est.host_details):
            if row["dopant"] != "Si" and detail["carries_li"]:
                key = (row["dopant"], row["percent"])
                covered[key] = covered.get(key, 0.0) + float(row["arrangement"]["weight"] or 0.0)
        for (dopant, pct), w in covered.items():
            typer.echo(f"ensemble {dopant} {pct:.5g} %: the classes with Li work cover {w:.3g} of the weight")
    total = sum(est.calculations.values())
    kinds = ", ".join(f"{k} {n}" for k, n in est.calculations.items())
    typer.echo(f"calculations: {kinds} (total {total})")
    if est.in_store is None:
        typer.echo(f"in store: not checked ({est.store})")
    else:
        failed = f", {est.failed_in_store} of them failed" if est.failed_in_store else ""
        typer.echo(f"in store: {est.in_store} of {total}{failed} ({est.store})")
    if est.estimated_core_hours is not None:
        basis = "; ".join(f"{k}: {v}" for k, v in est.cost_basis.items())
        typer.echo(f"estimated cost of the {total - (est.in_store or 0)} left: {est.estimated_core_hours:.3g} "
                   f"core hours ({basis or 'nothing left'})")
    elif est.in_store is not None:
        missing = ", ".join(k for k, v in est.by_kind_core_hours.items() if v is None) or "every kind"
        typer.echo(f"estimated cost: unknown (no timings of {spec.calculator.name} in the store for {missing})")
    for note in est.notes:
        typer.echo(f"note: {note}")


def plan(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Campaign file (YAML)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON (the contract scripts rely on)."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not look into the database at all."),
) -> None:
    """Dry run: hosts, arrangement classes, sites, hops, calculations, what the store has, cost."""
    from sianode.workflows.estimate import estimate_campaign
    from sianode.workflows.spec import load_campaign

    spec = load_campaign(path)
    db = getattr(ctx.obj, "db", None) if ctx.obj is not None else None
    est = estimate_campaign(spec, db=db, use_store=not no_store)
    if as_json:
        typer.echo(json.dumps(est.as_json()))
        return
    _print(spec, est)


def register(app: typer.Typer) -> None:
    """Add the top-level ``plan`` command to the sianode CLI."""
    app.command("plan")(plan)
