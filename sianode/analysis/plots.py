"""Paper figures remade from the results database alone.

matplotlib is imported inside the functions (Agg backend); the file format follows the
extension (``.png`` at 300 dpi, ``.pdf``, ``.svg``). Each ``plot_*`` function returns the
matplotlib ``Figure`` (tests check its axes, labels and legend), saving it when a path
is given. Colours per dopant come from :data:`sianode.plotting.DOPANT_COLORS`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sianode.analysis import derive
from sianode.analysis.docs import calculator_name, labels
from sianode.errors import InputError, SianodeError
from sianode.plotting import DOPANT_COLORS, dopant_color, use_agg
from sianode.store import schema

logger = logging.getLogger(__name__)

FORMATS = (".png", ".pdf", ".svg")
#: what ``sianode plot`` can draw
PLOTS = ("insertion", "neb", "barriers", "critical-size")
#: literature barriers of Li T -> H -> T in pure c-Si, eV (PHYSICS.md section 4)
REFERENCE_BARRIERS = (
    (0.58, "Wan et al. 2010 (DFT), 0.58 eV", ":"),
    (0.66, "Pell 1960 (expt.), 0.66 eV", "-."),
)
PERCENT_LABEL = "dopant concentration (atom %)"


def _check_path(path: str | Path | None) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise InputError(f"plot file {str(p)!r} is not allowed; use an extension of {', '.join(FORMATS)}")
    return p


def _save(fig: Any, path: Path | None) -> Any:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=300 if path.suffix.lower() == ".png" else None)
        logger.info("wrote %s", path)
    return fig


def _is_pure(dopant: str | None) -> bool:
    return dopant is None or dopant == schema.PURE


def _legend_name(dopant: str | None) -> str:
    return "pure Si" if _is_pure(dopant) else str(dopant)


def _percent_axis(ax: Any, percents: Sequence[float]) -> None:
    """x from 0 to a little beyond the largest concentration."""
    top = max([float(p) for p in percents] + [0.0])
    ax.set_xlim(0.0, top * 1.12 if top > 0 else 1.0)


def plot_insertion_energies(averages: Sequence[dict[str, Any]], path: str | Path | None = None) -> Any:
    """Li insertion energy vs dopant atom %, one colour per dopant.

    Bars span the lowest to the highest site class, the marker is the Boltzmann average
    (:func:`sianode.analysis.derive.site_averages`); pure Si is a dashed reference line.

    Parameters
    ----------
    averages : sequence of dict
        Rows of :func:`~sianode.analysis.derive.site_averages` (one calculator).
    path : str or Path, optional
        Output file (.png / .pdf).
    """
    out = _check_path(path)
    if not averages:
        raise InputError("no insertion energies to plot: the database has no completed insertion relaxations")
    plt = use_agg()
    fig, ax = plt.subplots(figsize=(5.0, 3.8), constrained_layout=True)
    T = averages[0].get("T_K", 300.0)
    for dopant in sorted({r["dopant"] for r in averages}, key=str):
        rows = sorted((r for r in averages if r["dopant"] == dopant), key=lambda r: r["percent"])
        colour = dopant_color(dopant)
        if _is_pure(dopant):
            ax.axhline(rows[0]["e_avg_eV"], color=colour, ls="--", lw=1.2,
                       label=f"pure Si ({rows[0]['e_avg_eV']:.2f} eV)")
            continue
        x = [r["percent"] for r in rows]
        y = [r["e_avg_eV"] for r in rows]
        yerr = [[r["e_avg_eV"] - r["e_min_eV"] for r in rows], [r["e_max_eV"] - r["e_avg_eV"] for r in rows]]
        ax.errorbar(x, y, yerr=yerr, fmt="o-", color=colour, capsize=4, ms=6, lw=1.2, label=dopant)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel(PERCENT_LABEL)
    ax.set_ylabel(r"Li insertion energy $E_\mathrm{ins}$ (eV)")
    _percent_axis(ax, [r["percent"] for r in averages])
    ax.set_title(f"marker: Boltzmann average at {T:g} K; bars: min-max over site classes", fontsize="small")
    ax.legend(fontsize="small", frameon=False)
    return _save(fig, out)


def plot_neb_profiles(profiles: Sequence[dict[str, Any]], path: str | Path | None = None) -> Any:
    """NEB energy profiles, energy relative to the start image, one colour per dopant.

    The x axis is the path length in Angstrom when every profile has its image positions
    stored, else the image index.

    Parameters
    ----------
    profiles : sequence of dict
        Outputs of :func:`~sianode.analysis.derive.neb_profile`.
    path : str or Path, optional
    """
    out = _check_path(path)
    profiles = [p for p in profiles if p is not None]
    if not profiles:
        raise InputError("no NEB profiles to plot: the database has no completed NEB hops")
    by_coord = all(p.get("reaction_coordinate_A") is not None for p in profiles)
    plt = use_agg()
    fig, ax = plt.subplots(figsize=(5.0, 3.8), constrained_layout=True)
    styles = ("-", "--", ":", "-.")
    count: dict[str, int] = {}
    for p in sorted(profiles, key=lambda p: (str(p["dopant"]), p["percent"] or 0.0, str(p["hop"]))):
        n = count.get(str(p["dopant"]), 0)
        count[str(p["dopant"])] = n + 1
        x = p["reaction_coordinate_A"] if by_coord else p["image_index"]
        name = "pure Si" if _is_pure(p["dopant"]) else f"{p['dopant']} {p['percent']:g} %"
        hop = f" {p['hop']}" + (f" ({p['selection']})" if p.get("selection") else "")
        ax.plot(x, p["energy_eV"], marker="o", ms=4, ls=styles[n % len(styles)], color=dopant_color(p["dopant"]),
                label=f"{name}{hop}: {p['barrier_eV']:.2f} eV")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("reaction coordinate (Å)" if by_coord else "image index")
    ax.set_ylabel(r"$E - E_\mathrm{start}$ (eV)")
    ax.legend(fontsize="x-small", frameon=False)
    return _save(fig, out)


def plot_barriers(values: Iterable[derive.Barrier], path: str | Path | None = None) -> Any:
    """Migration barrier vs dopant atom %: near hop (marker) and the spread over hops (bars).

    Pure Si is a dashed line; the literature values for pure Si (Wan 2010 DFT, Pell 1960
    experiment) are dotted grey lines.
    """
    out = _check_path(path)
    done = [b for b in values if b.barrier_eV is not None]
    if not done:
        raise InputError("no barriers to plot: the database has no completed NEB hops")
    plt = use_agg()
    fig, ax = plt.subplots(figsize=(5.0, 3.8), constrained_layout=True)
    groups: dict[tuple[str, float], list[derive.Barrier]] = {}
    for b in done:
        groups.setdefault((str(b.dopant), round(float(b.percent or 0.0), 6)), []).append(b)
    for dopant in sorted({d for d, _ in groups}):
        keys = sorted(k for k in groups if k[0] == dopant)
        reps = [derive.near_hop(groups[k]) for k in keys]
        lows = [min(b.barrier_eV for b in groups[k]) for k in keys]  # type: ignore[type-var]
        highs = [max(b.barrier_eV for b in groups[k]) for k in keys]  # type: ignore[type-var]
        y = [r.barrier_eV for r in reps]  # type: ignore[union-attr]
        colour = dopant_color(dopant)
        if _is_pure(dopant):
            ax.axhline(y[0], color=colour, ls="--", lw=1.2, label=f"pure Si ({y[0]:.2f} eV)")
            continue
        x = [k[1] for k in keys]
        yerr = [[yi - lo for yi, lo in zip(y, lows)], [hi - yi for yi, hi in zip(y, highs)]]
        ax.errorbar(x, y, yerr=yerr, fmt="s-", color=colour, capsize=4, ms=6, lw=1.2, label=f"{dopant} (near hop)")
    for value, text, style in REFERENCE_BARRIERS:
        ax.axhline(value, color=DOPANT_COLORS["Si"], ls=style, lw=1.0, label=text)
    ax.set_xlabel(PERCENT_LABEL)
    ax.set_ylabel(r"Li migration barrier $E_a$ (eV)")
    _percent_axis(ax, [b.percent or 0.0 for b in done])
    ax.legend(fontsize="x-small", frameon=False)
    return _save(fig, out)


def choose_calculator(store: Any, calculator: str | None, kind_filter: dict[str, Any]) -> str:
    """The one calculator a figure is drawn for: ``calculator`` or the only one in the database.

    Raises
    ------
    InputError
        Several calculators and none chosen, or the chosen one has no such results.
    """
    names = sorted({str(calculator_name(d)) for d in store.find(kind_filter, projection={"calculator": 1})})
    if calculator is not None:
        if calculator not in names:
            raise InputError(f"no results of calculator {calculator!r} to plot; calculators in the database: "
                             f"{', '.join(names) or 'none'}")
        return calculator
    if not names:
        from sianode.analysis.docs import store_description

        raise InputError(f"no results in the database at {store_description(store)}; "
                         "run `sianode run campaign.yaml` first")
    if len(names) > 1:
        raise InputError(f"the database holds results of several calculators ({', '.join(names)}); "
                         "choose one with --calculator")
    return names[0]


def critical_size_rows(
    store: Any, calculator: str, *, c_rate: float = 1.0, campaign: str | None = None, **solver: Any
) -> list[dict[str, Any]]:
    """Critical diameter of every dopant/percent with a completed hop in the database.

    For each: :func:`sianode.analysis.atomistic_inputs` (near-hop barrier, lattice constant)
    -> :func:`sianode.continuum.parameters.parameters_for` -> :func:`sianode.continuum.
    fracture.critical_radius`. ``solver`` goes to ``critical_radius`` (``n_nodes``, ``n_steps``).
    """
    try:
        from sianode.continuum.fracture import critical_radius
        from sianode.continuum.parameters import parameters_for
    except ImportError as exc:  # the continuum layer is optional at this stage
        raise SianodeError(f"the critical-size plot is unavailable: sianode.continuum cannot be imported ({exc})") from None
    from sianode.analysis.persist import atomistic_inputs

    pairs = sorted({(b.dopant, round(float(b.percent or 0.0), 6))
                    for b in derive.barriers(store, calculator=calculator, campaign=campaign) if b.barrier_eV is not None},
                   key=lambda p: (not _is_pure(p[0]), str(p[0]), p[1]))
    rows = []
    for dopant, percent in pairs:
        atomistic = atomistic_inputs(store, str(dopant), percent, calculator=calculator)
        params = parameters_for(None if _is_pure(dopant) else dopant, percent, atomistic=atomistic)
        result = critical_radius(params, c_rate=c_rate, **solver)
        rows.append({"label": "pure Si" if _is_pure(dopant) else f"{dopant} {percent:g} %", "dopant": dopant,
                     "percent": percent, "critical_diameter_m": result.critical_diameter_m,
                     "criterion": result.criterion, "barrier_source": atomistic.get("barrier_eV", {}).get("source")})
    return rows


def plot_from_store(store: Any, what: str, path: str | Path, **options: Any) -> Any:
    """Draw one of :data:`PLOTS` from the database and save it to ``path``.

    Options: ``calculator``, ``campaign`` (all), ``T_K`` (insertion), ``dopant`` (neb),
    ``c_rate``, ``n_nodes``, ``n_steps`` (critical-size).

    Returns
    -------
    matplotlib.figure.Figure, or the written Path for ``critical-size`` (drawn by
    :func:`sianode.continuum.plots.plot_critical_sizes`).
    """
    if what not in PLOTS:
        raise InputError(f"plot {what!r} is not allowed; choose one of {', '.join(PLOTS)}")
    out = _check_path(path)
    campaign = options.get("campaign")
    if what == "insertion":
        calc = choose_calculator(store, options.get("calculator"),
                                 {"kind": schema.RELAX, "labels.role": schema.ROLE_INSERTION})
        values = derive.insertion_energies(store, calculator=calc, campaign=campaign)
        return plot_insertion_energies(derive.site_averages(values, T_K=options.get("T_K") or 300.0), out)
    calc = choose_calculator(store, options.get("calculator"), {"kind": schema.NEB})
    if what == "barriers":
        return plot_barriers(derive.barriers(store, calculator=calc, campaign=campaign), out)
    if what == "neb":
        dopant = options.get("dopant")
        docs = [d for d in store.find({"kind": schema.NEB, "labels.role": schema.ROLE_HOP, "status": "completed"})
                if calculator_name(d) == calc
                and (dopant is None or labels(d).get("dopant") in (dopant, schema.PURE))
                and (campaign is None or campaign in [labels(d).get("campaign"), *(labels(d).get("campaigns") or [])])]
        return plot_neb_profiles([derive.neb_profile(store, d) for d in docs], out)
    from sianode.continuum.plots import plot_critical_sizes

    solver = {k: options[k] for k in ("n_nodes", "n_steps") if options.get(k) is not None}
    rows = critical_size_rows(store, calc, c_rate=options.get("c_rate") or 1.0, campaign=campaign, **solver)
    if not rows:
        raise InputError("no completed NEB hops in the database: the critical size needs a barrier per dopant")
    return plot_critical_sizes(rows, out)
