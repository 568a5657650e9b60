"""The demo campaign: the whole pipeline in one command (``make demo`` / ``sianode demo``).

Pure Si and B, P, S, Ge at 1.5625 atom % (one dopant in the 64-site cell) with the
default calculator: host relaxations, Li at every symmetry-distinct T site, the CI-NEB
barrier of the hop nearest the dopant (and of the pure-Si hop), the bcc-Li reference;
then the insertion-energy and barrier table, ``insertion.png``, ``barriers.png`` and
``critical_size.png`` (continuum model fed from the campaign), and the validation
table. Everything goes through the store, so a second run reuses every result.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

#: The demo campaign spec (same keys as a campaign YAML file).
DEMO_CAMPAIGN: dict[str, Any] = {
    "name": "demo",
    "dopants": ["B", "P", "S", "Ge"],
    "counts": [1],  # one dopant in 64 sites = 1.5625 atom %
    "max_supercell": 2,
    "include_pure": True,
    "sites": "all",
    "hops": "near",
    "calculator": {"name": "sevennet"},
    "relax": {"fmax": 0.05, "steps": 300},
    "neb": {"n_images": 5, "fmax": 0.05, "steps": 500},
    "reference": {"fmax": 0.01},
    "threads": 1,
}


@dataclass
class DemoResult:
    """What the demo produced."""

    campaign: Any
    rows: list[dict[str, Any]]
    plots: dict[str, Path] = field(default_factory=dict)
    checks: list[Any] = field(default_factory=list)
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)


def demo_spec(calculator: str | None = None, name: str | None = None) -> Any:
    """The validated demo :class:`~sianode.workflows.spec.CampaignSpec` (optionally
    with another calculator, e.g. the cheap ``lj-test`` for tests)."""
    from sianode.workflows.spec import campaign_from_dict

    data = dict(DEMO_CAMPAIGN)
    if calculator:
        data["calculator"] = {"name": calculator}
        data["name"] = name or f"demo-{calculator}"
    if name:
        data["name"] = name
    return campaign_from_dict(data, source="demo campaign")


def summary_rows(store: Any, campaign: str, calculator: str, *, T_K: float = 300.0) -> list[dict[str, Any]]:
    """One row per (dopant, %): T-site E_ins (nearest class, min, Boltzmann average),
    the near-hop barrier and the diffusivity the continuum model uses: Pell's measured
    pure-Si D (Phys. Rev. 119 (1960) 1222) times exp(-(E_a - E_a,pure)/kT), the barrier change
    from the same calculator (harmonic TST with equal prefactors, Vineyard 1957)."""
    from sianode.analysis import derive

    e_values = derive.insertion_energies(store, campaign=campaign, calculator=calculator)
    averages = {(r["dopant"], round(r["percent"], 6)): r for r in derive.site_averages(e_values, T_K=T_K)}
    hops = derive.barriers(store, campaign=campaign, calculator=calculator)
    keys = sorted({(v.dopant, round(float(v.percent or 0.0), 6)) for v in e_values}
                  | {(b.dopant, round(float(b.percent or 0.0), 6)) for b in hops},
                  key=lambda k: (k[0] != "Si", str(k[0]), k[1]))
    pure_hop = derive.near_hop([b for b in hops if b.dopant == "Si"])
    rows = []
    for dopant, percent in keys:
        ts = [v for v in e_values if v.dopant == dopant and round(float(v.percent or 0.0), 6) == percent
              and v.site_kind in (None, "T")]
        done = [v for v in ts if v.e_ins_eV is not None]
        nearest = min(done, key=lambda v: (v.distance_to_dopant_A if v.distance_to_dopant_A is not None else 0.0,
                                           v.site or "")) if done else None
        hop = derive.near_hop([b for b in hops if b.dopant == dopant and round(float(b.percent or 0.0), 6) == percent])
        failed_hops = [b for b in hops if b.dopant == dopant and round(float(b.percent or 0.0), 6) == percent
                       and b.barrier_eV is None]
        avg = averages.get((dopant, percent), {})
        d = None
        if hop is not None and pure_hop is not None:  # the continuum model's D: Pell-anchored barrier shift
            from sianode.continuum.parameters import K_B_EV_K, pell_diffusivity

            d = pell_diffusivity(T_K) * math.exp(-(hop.barrier_eV - pure_hop.barrier_eV) / (K_B_EV_K * T_K))
        rows.append({
            "dopant": "pure Si" if dopant == "Si" else dopant,
            "percent": percent,
            "t_classes": f"{len(done)}/{len(ts)}",
            "e_ins_nearest_eV": nearest.e_ins_eV if nearest else None,
            "e_ins_min_eV": avg.get("e_min_eV"),
            "e_ins_avg_eV": avg.get("e_avg_eV"),
            "barrier_eV": hop.barrier_eV if hop else None,
            "barrier_note": None if hop else (failed_hops[0].reason if failed_hops else "no hop computed"),
            "diffusivity_m2_s": d,
        })
    return rows


def render_rows(rows: list[dict[str, Any]], title: str) -> Any:
    """A rich table of :func:`summary_rows`."""
    from rich.table import Table

    def f(x: Any, spec: str) -> str:
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)

    table = Table(title=title, caption="E_ins: eV per Li vs bcc Li (T sites); E_a: near-hop CI-NEB barrier, eV; "
                  "D: Pell's measured pure-Si D at 300 K x exp(-(E_a - E_a,pure)/kT), m^2/s")
    for name in ("dopant", "at.%", "T sites", "E_ins near", "E_ins min", "<E_ins> 300K", "E_a", "D 300K"):
        table.add_column(name, justify="left" if name == "dopant" else "right")
    for r in rows:
        table.add_row(r["dopant"], f(r["percent"], ".4g"), r["t_classes"], f(r["e_ins_nearest_eV"], "+.3f"),
                      f(r["e_ins_min_eV"], "+.3f"), f(r["e_ins_avg_eV"], "+.3f"),
                      f(r["barrier_eV"], ".3f") if r["barrier_eV"] is not None else "failed",
                      f(r["diffusivity_m2_s"], ".1e"))
    return table


def run_demo(
    *,
    db: str | None = None,
    outdir: str | Path = "demo-results",
    workers: int = 2,
    calculator: str | None = None,
    name: str | None = None,
    validate: bool = True,
    progress: Callable[[dict[str, int], int], None] | None = None,
    echo: Callable[[Any], None] | None = None,
) -> DemoResult:
    """Run the demo campaign and write its table, plots and validation report.

    Parameters
    ----------
    db
        MongoDB URI / launchpad file; default: the embedded server.
    outdir
        Folder for ``insertion.png``, ``barriers.png``, ``critical_size.png``.
    workers
        Local worker processes (one thread each).
    calculator
        Another calculator than the default (``lj-test`` makes a fast, not-physics run).
    echo
        Called with each table (rich renderables) as it is ready; None prints nothing.
    """
    from sianode.analysis.plots import plot_from_store
    from sianode.store import open_store
    from sianode.workflows.run import run_campaign

    t0 = time.perf_counter()
    spec = demo_spec(calculator, name)
    summary = run_campaign(spec, db=db, workers=workers, progress=progress)
    store = open_store(db)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    calc = spec.calculator.name
    result = DemoResult(campaign=summary, rows=summary_rows(store, spec.name, calc))
    result.problems = [f"{n}: {r}" for n, r in summary.failed]
    if echo is not None:
        echo(render_rows(result.rows, f"{spec.name}: Li insertion and diffusion ({calc}, 64-site cells)"))
    for what, filename in (("insertion", "insertion.png"), ("barriers", "barriers.png"),
                           ("critical-size", "critical_size.png")):
        try:
            plot_from_store(store, what, out / filename, calculator=calc, campaign=spec.name)
            result.plots[what] = out / filename
        except Exception as exc:  # a plot that cannot be drawn is reported, the rest goes on
            log.warning("plot %s not drawn: %s", what, exc)
            result.problems.append(f"plot {what}: {exc}")
    if validate:
        from sianode.analysis.validate import render_report, run_validation

        result.checks = run_validation(store, calculator=calc, quick=True)
        if echo is not None:
            echo(render_report(result.checks, title=f"validation of {calc} (sianode validate --quick)"))
    result.wall_s = time.perf_counter() - t0
    return result
