"""The demo: the whole pipeline in one command (``make demo`` / ``sianode demo``).

B, P, S and Ge at three concentrations and pure Si, with the default calculator
(SevenNet 7net-0), as three campaigns (:data:`DEMO_CAMPAIGNS`) in 64-site cells that share
every common document through the store:

==========  ===========================  =====================  ===========================
campaign    cells                        Li sites               hops (CI-NEB, 3 images)
==========  ===========================  =====================  ===========================
demo        1/64 = 1.5625 %, pure Si     every T class (9 per   every hop path (10 per
                                         dopant, 1 pure)        dopant, 1 pure)
demo-2in64  2/64 = 3.125 %, dispersed    every T class (5)      every hop path (5)
demo-4in64  4/64 = 6.25 %, dispersed     every T class (5)      every hop path (4)
==========  ===========================  =====================  ===========================

Every hop network is complete, so each dopant has its exact D_eff / D_pure and E_a,eff at
all three concentrations, and from its one-dopant network the dilute-superposition kernel
and curve D(x), E_a,eff(x) (0-7.8 %); at 3.125 % and 6.25 % the explicit networks test the
superposition (where the shifts do not add up, the table marks it ``sup!`` and the plots
draw the curve dotted). ``dispersed``: the arrangement class that keeps the dopants farthest
apart (the dilute random-alloy representative, PHYSICS.md section 7); its share of the
random-alloy weight is shown. Then: the table per dopant and actual % (E_ins nearest /
lowest / Boltzmann average; D_eff / D_pure and E_a,eff from the network where complete, else
from the superposition, marked which), the explicit-vs-superposition comparison,
``insertion.png``, ``barriers.png``, ``diffusivity.png``, ``critical_size.png`` (continuum
with D = Pell x D_eff / D_pure) and ``network.png`` (the S 1.5625 % host's network), and the
quick validation with the demo's settings (:func:`validation_settings`: it reuses the demo's
documents). Everything goes through the store: a second run computes nothing.

NEBs use 3 moving images (the campaign default is 5): a climbing-image NEB converges its
highest image onto the saddle whatever the number of images (Henkelman, Uberuaga, Jonsson,
J. Chem. Phys. 113 (2000) 9901) and the T -> H -> T path has one maximum. Checked with
sevennet on the hop next to the dopant: B 0.6534 eV (3 images) vs 0.6517 eV (5), S 0.2558 vs
0.2556 eV, at 55-65 % of the force calls. ``sianode validate`` on its own uses the campaign
defaults (5 images) and so computes its own NEBs; the demo's validation uses
:func:`validation_settings` and reuses the demo's.

Cost, measured (sevennet 7net-0, one thread per worker): a force call on a 65-atom cell takes
0.55 s of CPU time; a NEB of one hop path takes 21.7 image calls on average, an insertion
18.5 calls, a host cell relaxation 19.5 (means over the demo's first run). The demo makes 77
NEBs, 77 insertions, 13 host relaxations, the lattice and the reference: about 3360 force
calls, 1850 CPU-seconds of calculator work plus 1-2 s of store and FireWorks work per
calculation, about 2100 s on 2 workers: 17-18 min wall on 2 idle cores (the budget is 25).
On this project's shared 2-core machine, loaded 5-13 times over by other jobs, the campaigns
took 61 min without the 36 NEBs of the 2/64 and 4/64 cells and 17 min more for them. A rerun computes nothing and reads the superposition curves from their cache: 34 s
wall (9 s CPU) on the loaded machine. :data:`COST_ESTIMATE_S` holds the per-kind costs and
:func:`estimate_cost_s` repeats the arithmetic for another campaign set (about 1840 s for
this one). The 216-site cell (1/216 = 0.463 %) is left out: a force call on 217 atoms costs
about 8 times one on 65.

Degrades gracefully: a piece of the pipeline that is missing (a package, a campaign key, a
calculation that failed) is named in ``problems`` and the rest goes on.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sianode.calculators.registry import DEFAULT_CALCULATOR

log = logging.getLogger(__name__)

DEMO_DOPANTS = ["B", "P", "S", "Ge"]
_COMMON: dict[str, Any] = {
    "dopants": DEMO_DOPANTS,
    "calculator": {"name": DEFAULT_CALCULATOR},
    "relax": {"fmax": 0.05, "steps": 300},
    "neb": {"n_images": 3, "fmax": 0.05, "steps": 500},
    "reference": {"fmax": 0.01},
    "threads": 1,
}

#: The demo's campaigns (same keys as a campaign YAML file), run in this order.
DEMO_CAMPAIGNS: list[dict[str, Any]] = [
    {**_COMMON, "name": "demo", "counts": [1], "max_supercell": 2, "include_pure": True, "sites": "all",
     "hops": "all"},
    {**_COMMON, "name": "demo-2in64", "counts": [2], "max_supercell": 2, "include_pure": False,
     "sites": "all", "hops": "all", "arrangements": "dispersed"},
    {**_COMMON, "name": "demo-4in64", "counts": [4], "max_supercell": 2, "include_pure": False,
     "sites": "all", "hops": "all", "arrangements": "dispersed"},
]

#: calculator CPU seconds per calculation kind used by :func:`estimate_cost_s` (sevennet 7net-0,
#: one thread: mean force calls of the demo's first run x 0.55 s per 65-atom call; 216-site
#: cells x 8 per call; see the module docstring)
COST_ESTIMATE_S: dict[str, float] = {
    "insertion_64": 10.0, "insertion_216": 80.0, "host_64": 11.0, "host_216": 85.0, "neb_64": 12.0,
}


def validation_settings() -> Any:
    """Validation with the demo's relax and NEB settings, so it reuses the demo's documents."""
    from sianode.recipes.validate import ValidationSettings

    relax, neb = _COMMON["relax"], _COMMON["neb"]
    return ValidationSettings(fmax=relax["fmax"], steps=relax["steps"], neb_fmax=neb["fmax"], neb_steps=neb["steps"],
                              n_images=neb["n_images"], reference_fmax=_COMMON["reference"]["fmax"])


#: the host drawn in network.png
NETWORK_HOST = ("S", 1.5625)
PLOT_FILES = (("insertion", "insertion.png"), ("barriers", "barriers.png"), ("diffusivity", "diffusivity.png"),
              ("critical-size", "critical_size.png"))


@dataclass
class DemoResult:
    """What the demo produced.

    Attributes
    ----------
    campaigns : list of RunSummary
        One per campaign of :data:`DEMO_CAMPAIGNS` that ran.
    trends : Trends or None
        :func:`sianode.analysis.concentration.concentration_trends` of the demo campaigns.
    rows : list of dict
        :func:`sianode.analysis.concentration.trend_rows`.
    plots : dict
        Plot name -> written file.
    checks : list of Check
        The quick validation (when asked for).
    problems : list of str
        Everything that could not be done, each with its reason.
    notes : list of str
        What a reader of the plots should know (e.g. critical sizes that do not depend on D).
    """

    campaigns: list[Any] = field(default_factory=list)
    trends: Any = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    plots: dict[str, Path] = field(default_factory=dict)
    checks: list[Any] = field(default_factory=list)
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    calculator: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def computed(self) -> int:
        return sum(int(getattr(s, "computed", 0)) for s in self.campaigns)

    @property
    def reused(self) -> int:
        return sum(int(getattr(s, "reused", 0)) for s in self.campaigns)

    @property
    def campaign_names(self) -> list[str]:
        return [str(getattr(s, "campaign", "")) for s in self.campaigns]


def demo_specs(calculator: str | None = None, name: str | None = None,
               problems: list[str] | None = None) -> list[Any]:
    """The validated demo campaign specs (:data:`DEMO_CAMPAIGNS`), optionally with another calculator.

    With ``calculator`` (e.g. the cheap ``lj-test`` for tests) the campaigns are named
    ``demo-<calculator>``, ``demo-<calculator>-2in64``, ...; ``name`` replaces the ``demo`` prefix.
    A campaign key this installation does not know yet (e.g. ``arrangements`` before the
    arrangement strategies exist) is dropped and named in ``problems``.
    """
    from sianode.errors import InputError
    from sianode.workflows.spec import campaign_from_dict

    prefix = name or (f"demo-{calculator}" if calculator else "demo")
    specs = []
    for data in DEMO_CAMPAIGNS:
        data = copy.deepcopy(data)
        data["name"] = prefix + data["name"][len("demo"):]
        if calculator:
            data["calculator"] = {"name": calculator}
        try:
            specs.append(campaign_from_dict(data, source=f"demo campaign {data['name']}"))
        except InputError as exc:
            optional = [k for k in ("arrangements",) if k in data and f"{k}: unknown key" in str(exc)]
            if not optional:
                raise
            for key in optional:
                value = data.pop(key)
                if problems is not None:
                    problems.append(f"campaign {data['name']}: key {key}: {value!r} not supported by this "
                                    "installation (arrangement strategies missing); ran arrangement class 0")
            specs.append(campaign_from_dict(data, source=f"demo campaign {data['name']}"))
    return specs


def estimate_cost_s(specs: list[Any], cost: dict[str, float] | None = None) -> dict[str, float]:
    """Calculator seconds per campaign from its plan (:func:`sianode.workflows.plan.plan_campaign`)
    and :data:`COST_ESTIMATE_S` (216-site numbers for n = 3, 64-site for n <= 2)."""
    from sianode.workflows.plan import plan_campaign

    cost = {**COST_ESTIMATE_S, **(cost or {})}
    out = {}
    for spec in specs:
        total = 0.0
        for host in plan_campaign(spec).hosts:
            big = host.supercell >= 3
            total += cost["host_216" if big else "host_64"]
            total += len(host.sites) * cost["insertion_216" if big else "insertion_64"]
            total += len(host.hops) * cost["neb_64"] * (1.0 if not big else cost["insertion_216"] / cost["insertion_64"])
        out[spec.name] = total
    return out


# ------------------------------------------------------------------ tables
def _f(x: Any, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def render_trend_rows(trends: Any, title: str) -> Any:
    """A rich table of :func:`sianode.analysis.concentration.trend_rows`: one row per (dopant, %)."""
    from rich.table import Table

    from sianode.analysis.concentration import percent_text, trend_rows

    table = Table(title=title, caption=(
        f"E_ins: eV per Li vs bcc Li (T sites; near = class nearest the dopant, <> = Boltzmann average at "
        f"{trends.T_K:g} K, weighted over arrangement classes, +- their spread); D/D_pure and E_a,eff at "
        f"{trends.T_K:g} K from the exact hop network where it is complete (net), else from the dilute "
        "superposition of the one-dopant network (sup; sup!: that dopant's superposition is more than 2x off its "
        "explicit network, so its shifts do not add up: not to be trusted); cells: arrangement classes computed "
        "(their share of the random-alloy weight); 'sup.' column: the superposition at that % for comparison"))
    for col in ("dopant", "at.%", "cells", "T sites", "E_ins near", "E_ins min", "<E_ins>", "D/D_pure", "E_a,eff",
                "from", "sup. D/D_pure"):
        table.add_column(col, justify="left" if col in ("dopant", "from") else "right")
    for r in trend_rows(trends):
        cells = f"{r['n_hosts']}" + (f" ({100 * r['covered_weight']:.3g} % wt)" if r["covered_weight"] is not None
                                     and r["covered_weight"] < 0.999 else "")
        avg = _f(r["e_ins_avg_eV"], "+.3f")
        if r["n_hosts"] > 1 and r["e_ins_avg_spread_eV"] is not None:
            avg += f" +-{r['e_ins_avg_spread_eV']:.3f}"
        sup = "-" if r["superposition_ratio"] is None else (
            f"{r['superposition_ratio']:.3g} +-{r['superposition_stderr']:.2g}")
        table.add_row(r["dopant"], percent_text(r["percent"]), cells,
                      f"{r['t_sites']}" + (f" ({r['t_failed']} failed)" if r["t_failed"] else ""),
                      _f(r["e_ins_nearest_eV"], "+.3f"), _f(r["e_ins_min_eV"], "+.3f"), avg,
                      _f(r["ratio_to_pure"], ".3g"), _f(r["Ea_eff_eV"], ".3f"),
                      {"network": "net", "superposition": "sup" if r["superposition_checked"] is not False
                       else "sup!"}.get(r["transport_source"] or "", "-"),
                      sup if r["dopant"] != "pure Si" else "-")
    return table


def render_comparisons(trends: Any) -> Any:
    """Explicit network vs superposition at every % with an explicit complete network (never hidden)."""
    from rich.table import Table

    from sianode.analysis.concentration import percent_text

    table = Table(title="explicit hop network vs dilute superposition (same %, same calculator)",
                  caption="diff: log10(explicit / superposition) of D_eff/D_pure, and E_a,eff explicit - superposition")
    for col in ("dopant", "at.%", "explicit D/D_pure", "superposition D/D_pure", "diff (log10)",
                "E_a,eff explicit", "E_a,eff sup.", "diff (eV)"):
        table.add_column(col, justify="left" if col == "dopant" else "right")
    n = 0
    for dopant, trend in sorted(trends.dopants.items()):
        for c in trend.comparisons:
            n += 1
            table.add_row(dopant, percent_text(c["percent"]), _f(c["explicit_ratio"], ".3g"),
                          f"{c['superposition_ratio']:.3g} +-{c['superposition_stderr']:.2g}",
                          _f(c["log10_difference"], "+.3f"), _f(c["explicit_Ea_eV"], ".3f"),
                          _f(c["superposition_Ea_eV"], ".3f"), _f(c["Ea_difference_eV"], "+.3f"))
        if trend.curve_missing:
            table.add_row(dopant, "-", "-", "not computed", "-", "-", "-", "-")
    if n == 0:
        table.caption = "no concentration has both an explicit complete network and a superposition curve"
    return table


# ------------------------------------------------------------------ the run
def _plots(store: Any, trends: Any, out: Path, result: DemoResult, campaigns: list[str]) -> None:
    from sianode.analysis import plots

    draw = {"insertion": plots.plot_insertion_trend, "barriers": plots.plot_barrier_trend,
            "diffusivity": plots.plot_diffusivity_trend}
    for what, filename in PLOT_FILES:
        try:
            if what == "critical-size":
                from sianode.continuum.plots import plot_critical_sizes

                rows = plots.critical_size_rows(trends)
                if not any(r["dopant"] != "Si" for r in rows):
                    raise RuntimeError("no dopant has a diffusivity ratio (network or superposition)")
                plot_critical_sizes(rows, out / filename)
                capped = [r["label"] for r in rows if r.get("yield_limited")]
                if capped:
                    result.notes.append(
                        f"critical size: {len(capped)} of {len(rows)} bars are yield-limited (the driving stress is "
                        "capped at the Li_xSi yield point), where the critical size does not depend on D: "
                        + ", ".join(capped))
            else:
                fig = draw[what](trends, out / filename)
                _close(fig)
            result.plots[what] = out / filename
        except Exception as exc:  # a plot that cannot be drawn is reported, the rest goes on
            log.warning("plot %s not drawn: %s", what, exc)
            result.problems.append(f"plot {what}: {exc}")
    try:
        from sianode.analysis.network import host_network

        dopant, percent = NETWORK_HOST
        assembly = host_network(store, dopant=dopant, percent=percent, calculator=trends.calculator,
                                campaign=campaigns[0])
        _close(plots.plot_network(assembly, out / "network.png"))
        result.plots["network"] = out / "network.png"
    except Exception as exc:
        log.warning("plot network not drawn: %s", exc)
        result.problems.append(f"plot network: {exc}")


def _close(fig: Any) -> None:
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # noqa: BLE001 - closing is housekeeping only
        pass


def run_demo(
    *,
    db: str | None = None,
    outdir: str | Path = "demo-results",
    workers: int = 2,
    calculator: str | None = None,
    name: str | None = None,
    validate: bool = True,
    progress: Any = None,
    echo: Callable[[Any], None] | None = None,
    campaigns: int | None = None,
) -> DemoResult:
    """Run the demo campaigns, then write the trend table, plots and the quick validation.

    Parameters
    ----------
    db
        MongoDB URI / launchpad file; default: the embedded server.
    outdir
        Folder for ``insertion.png``, ``barriers.png``, ``diffusivity.png``,
        ``critical_size.png`` and ``network.png``.
    workers
        Local worker processes (one thread each).
    calculator
        Another calculator than the default (``lj-test`` makes a fast, not-physics run).
    name
        Prefix of the campaign names instead of ``demo``.
    validate
        Run :func:`sianode.recipes.validate.run_validation` (quick) at the end.
    progress
        A :class:`~sianode.workflows.progress.Progress` (a bar on a terminal, plain lines
        otherwise: Fireworks, calculator calls made / reused, ETA, and a line per stage), or a
        callable ``progress(campaign, state_counts, total)``.
    echo
        Called with each table (rich renderables) as it is ready; None prints nothing.
    campaigns
        Run only the first ``campaigns`` of :data:`DEMO_CAMPAIGNS` (tests).
    """
    from sianode.store import open_store
    from sianode.workflows.run import run_campaign

    t0 = time.perf_counter()
    result = DemoResult()
    specs = demo_specs(calculator, name, result.problems)[:campaigns]
    result.calculator = calc = specs[0].calculator.name
    from sianode.workflows.progress import Progress

    staged = progress if isinstance(progress, Progress) else None
    for i, spec in enumerate(specs, 1):
        if staged is not None:
            staged.message(f"campaign {i}/{len(specs)}: {spec.name}")
            tick: Any = staged
        else:
            tick = (lambda states, total, _n=spec.name: progress(_n, states, total)) if progress else None
        summary = run_campaign(spec, db=db, workers=workers, progress=tick)
        result.campaigns.append(summary)
        # the campaign's own analysis Firework is skipped by design (trends are read here)
        result.problems += [f"{spec.name}: {n}: {r}" for n, r in summary.failed
                            if not (n.endswith(":analysis") and r.startswith("skipped"))]
    store = open_store(db)
    try:
        if staged is not None:
            staged.message("trends over atom %, transport from the hop networks, plots")
        _analyse(store, result, [s.name for s in specs], Path(outdir), echo)
        if validate:
            from sianode.recipes.validate import render_report, run_validation

            result.checks = run_validation(store, calculator=calc, quick=True, settings=validation_settings())
            if echo is not None:
                echo(render_report(result.checks, title=f"validation of {calc} (sianode validate --quick, demo settings)"))
    finally:
        store.db.client.close()
    result.wall_s = time.perf_counter() - t0
    return result


def _analyse(store: Any, result: DemoResult, names: list[str], out: Path, echo: Callable[[Any], None] | None,
             **trend_options: Any) -> None:
    """Trends of the campaigns ``names`` (``trend_options`` to
    :func:`~sianode.analysis.concentration.concentration_trends`), tables, plots."""
    from sianode.analysis.concentration import concentration_trends, trend_rows

    try:
        result.trends = concentration_trends(store, calculator=result.calculator, campaign=names, **trend_options)
    except Exception as exc:  # e.g. nothing completed at all
        log.warning("no concentration trends: %s", exc)
        result.problems.append(f"concentration trends: {exc}")
        return
    result.problems += result.trends.problems
    result.rows = trend_rows(result.trends)
    if echo is not None:
        echo(render_trend_rows(result.trends, f"{names[0]}: Li insertion and transport vs atom % ({result.calculator})"))
        echo(render_comparisons(result.trends))
    out.mkdir(parents=True, exist_ok=True)
    _plots(store, result.trends, out, result, names)
