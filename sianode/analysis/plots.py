"""Figures remade from the results database alone: trends against dopant concentration.

``sianode plot insertion|barriers|diffusivity|neb|critical-size|network -o FILE``. The
concentration plots draw one line per dopant over the ACTUAL atom % of the stored cells
(the x ticks are those percentages, the x label ``atom %``), pure Si as the reference line,
the spread over arrangement classes (ensemble) as a band, and offset each dopant's points
sideways by a fixed amount so that no marker hides another (the ticks stay at the true
percentages). Numbers come from :func:`sianode.analysis.concentration.concentration_trends`.

matplotlib is imported inside the functions (Agg backend); the file format follows the
extension (``.png`` at 300 dpi, ``.pdf``, ``.svg``). Each ``plot_*`` function returns the
matplotlib ``Figure`` (tests read its artists back), saving it when a path is given.
Colours per dopant come from :data:`sianode.plotting.DOPANT_COLORS`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sianode.analysis import derive
from sianode.analysis.concentration import Trends, concentration_trends, percent_text, trend_rows
from sianode.analysis.docs import calculator_name, labels
from sianode.errors import InputError
from sianode.plotting import DOPANT_COLORS, dopant_color, use_agg
from sianode.store import schema

logger = logging.getLogger(__name__)

FORMATS = (".png", ".pdf", ".svg")
#: what ``sianode plot`` can draw
PLOTS = ("insertion", "barriers", "diffusivity", "neb", "critical-size", "network")
#: literature values for Li in pure c-Si, eV (PHYSICS.md section 4): the DFT single-hop barrier
#: and the measured (effective) activation energy
REFERENCE_BARRIERS = (
    (0.58, "Wan et al. 2010 (DFT hop), 0.58 eV", ":"),
    (0.66, "Pell 1960 (expt. D(T)), 0.66 eV", "-."),
)
PERCENT_LABEL = "atom %"
#: sideways offset between neighbouring dopants' markers, as a fraction of the largest atom %
OFFSET_FRACTION = 0.025


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


# ------------------------------------------------------------------ concentration axes
def offsets(dopants: Sequence[str], span: float) -> dict[str, float]:
    """Sideways offset (atom %) of each dopant's markers: distinct, symmetric about 0, in order.

    ``span`` is the largest atom % on the axis; neighbours are ``OFFSET_FRACTION x span``
    apart, so offsets never exceed half the distance between 1/216 and 1/64 for four dopants.
    """
    step = OFFSET_FRACTION * (span if span > 0 else 1.0)
    n = len(dopants)
    return {d: (k - (n - 1) / 2.0) * step for k, d in enumerate(dopants)}


def _percent_axis(ax: Any, percents: Sequence[float], top: float | None = None) -> None:
    """x from 0 to a little beyond the largest atom %; ticks at 0 and the actual percentages."""
    ticks = sorted({0.0, *(round(float(p), 6) for p in percents)})
    right = max([*ticks, float(top or 0.0)])
    ax.set_xlim(-0.06 * (right or 1.0), right * 1.1 if right > 0 else 1.0)
    ax.set_xticks(ticks, [percent_text(t) for t in ticks])
    ax.set_xlabel(PERCENT_LABEL)
    if len(ticks) > 5:
        for text in ax.get_xticklabels():
            text.set_rotation(45)


def _require(trends: Trends, what: str, have: bool) -> None:
    if not have:
        raise InputError(f"no {what} to plot for calculator {trends.calculator!r}: "
                         "run a campaign that computes them first (`sianode run campaign.yaml`)")


def _span(trends: Trends, curve: bool = False) -> float:
    xs = [p.percent for t in trends.dopants.values() for p in t.points]
    if curve:
        xs += [c.percent for t in trends.dopants.values() for c in t.curve]
    return max(xs + [0.0])


def _stat_series(points: Sequence[Any], name: str, off: float) -> tuple[list[float], list[Any]]:
    chosen = [(p.percent + off, getattr(p, name)) for p in points if getattr(p, name) is not None]
    return [c[0] for c in chosen], [c[1] for c in chosen]


def _band(ax: Any, x: Sequence[float], stats: Sequence[Any], colour: str, *, log: bool = False) -> Any:
    """Ensemble spread (weighted standard deviation over arrangement classes) as a band."""
    if not stats or not any(s.spread > 0 for s in stats):
        return None
    lo = [s.mean - s.spread for s in stats]
    if log:
        lo = [max(v, s.lo, 1e-300) for v, s in zip(lo, stats)]
    hi = [s.mean + s.spread for s in stats]
    return ax.fill_between(x, lo, hi, color=colour, alpha=0.18, lw=0, label="_band")


def _curve_style(trend: Any) -> str:
    """Solid where the superposition matched the explicit networks (or nothing to check), dotted
    where it did not (``DopantTrend.additivity_ok`` False): the shifts do not add up there."""
    return ":" if trend.additivity_ok is False else "-"


def _legend(ax: Any, names: Sequence[str], styles: Sequence[tuple[dict[str, Any], str]],
            extra: Sequence[Any] = ()) -> None:
    """A compact legend: the reference lines (``extra``), one colour patch per dopant, then one
    grey proxy per marker/line style (``styles``: Line2D keyword arguments and label)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = list(extra)
    handles += [Patch(color=dopant_color(n), label=n) for n in names]
    handles += [Line2D([], [], color="0.35", label=label, **kw) for kw, label in styles]
    ax.legend(handles=handles, fontsize="x-small", frameon=False, ncol=2)


def plot_insertion_trend(trends: Trends, path: str | Path | None = None) -> Any:
    """Li insertion energy vs atom %: one line per dopant (Boltzmann site average, filled
    markers; lowest site class, open markers), the ensemble spread as a band, pure Si dashed.

    Parameters
    ----------
    trends : Trends
        :func:`~sianode.analysis.concentration.concentration_trends`.
    path : str or Path, optional
        Output file (.png / .pdf / .svg).
    """
    out = _check_path(path)
    have = any(p.e_ins_avg is not None for t in trends.dopants.values() for p in t.points)
    pure = trends.pure_reference()
    _require(trends, "insertion energies", have or (pure is not None and pure.e_ins_avg is not None))
    plt = use_agg()
    fig, ax = plt.subplots(figsize=(5.6, 4.0), constrained_layout=True)
    names = sorted(trends.dopants)
    span = _span(trends)
    off = offsets(names, span)
    if pure is not None and pure.e_ins_avg is not None:
        ax.axhline(pure.e_ins_avg.mean, color=DOPANT_COLORS["Si"], ls="--", lw=1.2,
                   label=f"pure Si ({pure.e_ins_avg.mean:+.3f} eV)")
    for name in names:
        colour = dopant_color(name)
        points = trends.dopants[name].points
        x, stats = _stat_series(points, "e_ins_avg", off[name])
        if x:
            ax.plot(x, [s.mean for s in stats], "o-", color=colour, ms=6, lw=1.3, label=name)
            _band(ax, x, stats, colour)
        xm, mins = _stat_series(points, "e_ins_min", off[name])
        if xm:
            ax.plot(xm, [s.mean for s in mins], "o", mfc="none", color=colour, ms=6, label="_min")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_ylabel(r"Li insertion energy $E_\mathrm{ins}$ (eV vs bcc Li)")
    _percent_axis(ax, trends.percents)
    ax.set_title(f"{trends.calculator}: filled = Boltzmann average at {trends.T_K:g} K, open = lowest T site;\n"
                 "band = spread over arrangement classes", fontsize="small")
    ax.legend(fontsize="small", frameon=False)
    return _save(fig, out)


def plot_barrier_trend(trends: Trends, path: str | Path | None = None) -> Any:
    """Activation energies vs atom %: E_a,eff of the hop network (explicit cells: filled
    squares with the ensemble band; superposition: solid line) and the CI-NEB barrier of the
    hop nearest the dopant (open diamonds, bars from the lowest to the highest barrier of the
    computed hops); pure Si's E_a,eff dashed; literature values for pure Si dotted.
    """
    out = _check_path(path)
    have_hops = any(p.barrier_near is not None or p.Ea_eff is not None
                    for t in trends.dopants.values() for p in t.points)
    have_curve = any(c.Ea_eff_eV is not None for t in trends.dopants.values() for c in t.curve)
    _require(trends, "barriers", have_hops or have_curve)
    plt = use_agg()
    fig, ax = plt.subplots(figsize=(5.6, 4.0), constrained_layout=True)
    names = sorted(trends.dopants)
    off = offsets(names, _span(trends))
    pure = trends.pure_reference()
    refs = []
    if pure is not None and (pure.Ea_eff is not None or pure.barrier_near is not None):
        value = pure.Ea_eff.mean if pure.Ea_eff is not None else pure.barrier_near.mean  # type: ignore[union-attr]
        refs.append(ax.axhline(value, color=DOPANT_COLORS["Si"], ls="--", lw=1.2, label=f"pure Si ({value:.3f} eV)"))
    for value, text, style in REFERENCE_BARRIERS:
        refs.append(ax.axhline(value, color=DOPANT_COLORS["Si"], ls=style, lw=0.9, label=text))
    failed = False
    for name in names:
        colour = dopant_color(name)
        trend = trends.dopants[name]
        curve = [c for c in trend.curve if c.Ea_eff_eV is not None]
        if curve:
            failed |= trend.additivity_ok is False
            ax.plot([c.percent for c in curve], [c.Ea_eff_eV for c in curve], _curve_style(trend), color=colour,
                    lw=1.3, label=f"{name} $E_{{a,\\mathrm{{eff}}}}$ (superposition)")
        x, stats = _stat_series(trend.points, "Ea_eff", off[name])
        if x:
            ax.plot(x, [s.mean for s in stats], "s", color=colour, ms=6, label=f"{name} $E_{{a,\\mathrm{{eff}}}}$ "
                    "(network)")
            _band(ax, x, stats, colour)
        near = [p for p in trend.points if p.barrier_near is not None]
        if near:
            xs = [p.percent + off[name] for p in near]
            y = [p.barrier_near.mean for p in near]  # type: ignore[union-attr]
            lo = [max(0.0, yi - p.barrier_min.mean) if p.barrier_min else 0.0 for yi, p in zip(y, near)]
            hi = [max(0.0, p.barrier_max.mean - yi) if p.barrier_max else 0.0 for yi, p in zip(y, near)]
            ax.errorbar(xs, y, yerr=[lo, hi], fmt="D", mfc="none", color=colour, ms=5, lw=0.8, capsize=3,
                        label=f"{name} near hop (bars: all hops)")
    styles = [({"ls": "-"}, "$E_{a,\\mathrm{eff}}$, superposition"),
              ({"ls": "none", "marker": "s"}, "$E_{a,\\mathrm{eff}}$, explicit network"),
              ({"ls": "none", "marker": "D", "mfc": "none"}, "NEB barrier, near hop (bars: all hops)")]
    if failed:
        styles.insert(1, ({"ls": ":"}, "superposition off the explicit network > 2x"))
    _legend(ax, names, styles, refs)
    ax.set_ylabel(r"activation energy (eV)")
    _percent_axis(ax, trends.percents, top=_span(trends, curve=True))
    ax.set_title(f"{trends.calculator}, E_a,eff: Arrhenius slope of D_eff, 250-400 K", fontsize="small")
    return _save(fig, out)


def plot_diffusivity_trend(trends: Trends, path: str | Path | None = None) -> Any:
    """D_eff / D_pure (log scale) vs atom %: explicit complete networks (markers, ensemble band)
    and the superposition curve with its standard-error band; pure Si = 1 dashed."""
    out = _check_path(path)
    have = any(p.ratio_to_pure is not None for t in trends.dopants.values() for p in t.points)
    have_curve = any(t.curve for t in trends.dopants.values())
    _require(trends, "diffusivities (complete hop networks or superposition curves)", have or have_curve)
    plt = use_agg()
    fig, ax = plt.subplots(figsize=(5.6, 4.0), constrained_layout=True)
    names = sorted(trends.dopants)
    off = offsets(names, _span(trends))
    refs = [ax.axhline(1.0, color=DOPANT_COLORS["Si"], ls="--", lw=1.2, label="pure Si (= 1)")]
    failed = False
    for name in names:
        colour = dopant_color(name)
        trend = trends.dopants[name]
        if trend.curve:
            failed |= trend.additivity_ok is False
            xc = [c.percent for c in trend.curve]
            yc = [c.ratio_to_pure for c in trend.curve]
            ax.plot(xc, yc, _curve_style(trend), color=colour, lw=1.3, label=f"{name} superposition")
            lo = [max(c.ratio_to_pure - c.ratio_stderr, 1e-300) for c in trend.curve]
            hi = [c.ratio_to_pure + c.ratio_stderr for c in trend.curve]
            ax.fill_between(xc, lo, hi, color=colour, alpha=0.25, lw=0, label="_stderr")
        x, stats = _stat_series(trend.points, "ratio_to_pure", off[name])
        if x:
            ax.plot(x, [s.mean for s in stats], "o", color=colour, ms=6, mec="k", mew=0.5,
                    label=f"{name} explicit network")
            _band(ax, x, stats, colour, log=True)
    styles = [({"ls": "-"}, "superposition (band: standard error)"),
              ({"ls": "none", "marker": "o", "mec": "k"}, "explicit network")]
    if failed:
        styles.insert(1, ({"ls": ":"}, "superposition off the explicit network > 2x"))
    _legend(ax, names, styles, refs)
    ax.set_yscale("log")
    ax.set_ylabel(r"$D_\mathrm{eff} / D_\mathrm{pure}$ (same calculator, %g K)" % trends.T_K)
    _percent_axis(ax, trends.percents, top=_span(trends, curve=True))
    ax.set_title(f"{trends.calculator}: exact hop-network D_eff relative to pure Si", fontsize="small")
    return _save(fig, out)


# ------------------------------------------------------------------ NEB profiles
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
        name = "pure Si" if _is_pure(p["dopant"]) else f"{p['dopant']} {percent_text(p['percent'])} %"
        hop = f" {p['hop']}" + (f" ({p['selection']})" if p.get("selection") else "")
        ax.plot(x, p["energy_eV"], marker="o", ms=4, ls=styles[n % len(styles)], color=dopant_color(p["dopant"]),
                label=f"{name}{hop}: {p['barrier_eV']:.2f} eV")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("reaction coordinate (Å)" if by_coord else "image index")
    ax.set_ylabel(r"$E - E_\mathrm{start}$ (eV)")
    ax.legend(fontsize="x-small", frameon=False)
    return _save(fig, out)


# ------------------------------------------------------------------ hop network picture
def plot_network(assembly: Any, path: str | Path | None = None, *, title: str | None = None) -> Any:
    """One host's hop network in 3D: T sites coloured by E_ins, hops coloured by barrier.

    A hop's colour is its barrier from the lower-energy end, s_ij - min(E_i, E_j) (the slower
    direction); each hop is drawn from site i to site j + image (it may leave the cell). Dopant
    atoms are large black-edged markers.

    Parameters
    ----------
    assembly : NetworkAssembly
        :func:`sianode.analysis.network.host_network` with a complete network.
    """
    out = _check_path(path)
    net = getattr(assembly, "network", None)
    if net is None:
        missing = "; ".join(getattr(assembly, "missing", []) or []) or "no network"
        raise InputError(f"no hop network to draw: {missing}")
    plt = use_agg()
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    cell = np.asarray(net.cell_A, dtype=float)
    frac = np.asarray(net.frac, dtype=float)
    xyz = frac @ cell
    e = np.asarray(net.energies_eV, dtype=float)
    i, j = np.asarray(net.i, dtype=int), np.asarray(net.j, dtype=int)
    image = np.asarray(net.image, dtype=float).reshape(-1, 3)
    start = xyz[i]
    end = (frac[j] + image) @ cell
    barrier = np.asarray(net.saddle_eV, dtype=float) - np.minimum(e[i], e[j])
    fig = plt.figure(figsize=(6.4, 5.2), constrained_layout=True)
    ax = fig.add_subplot(projection="3d")
    segments = Line3DCollection(np.stack([start, end], axis=1), cmap="plasma", linewidths=1.6)
    segments.set_array(barrier)
    ax.add_collection3d(segments)
    sites = ax.scatter(xyz[:, 0], xyz[:, 1], xyz[:, 2], c=e, cmap="viridis", s=36, edgecolors="k", linewidths=0.3,
                       depthshade=False)
    dopants = np.asarray(getattr(assembly, "dopant_frac", np.zeros((0, 3))), dtype=float).reshape(-1, 3)
    if len(dopants):
        d = dopants @ cell
        ax.scatter(d[:, 0], d[:, 1], d[:, 2], s=160, color=dopant_color(getattr(assembly, "dopant", None)),
                   edgecolors="k", linewidths=1.0, depthshade=False, label=f"{getattr(assembly, 'dopant', '')} atom")
        ax.legend(loc="upper left", fontsize="small", frameon=False)
    fig.colorbar(sites, ax=ax, shrink=0.55, pad=0.02, label=r"T site $E_\mathrm{ins}$ (eV)")
    fig.colorbar(segments, ax=ax, shrink=0.55, pad=0.08, label="hop barrier from the lower end (eV)")
    for k, name in enumerate(("x", "y", "z")):
        getattr(ax, f"set_{name}label")(f"{name} (Å)")
        getattr(ax, f"set_{name}lim")(float(min(start[:, k].min(), end[:, k].min())),
                                      float(max(start[:, k].max(), end[:, k].max())))
    if title is None:
        dop = getattr(assembly, "dopant", "")
        pct = getattr(assembly, "percent", 0.0)
        title = "pure Si" if _is_pure(dop) else f"{dop} {percent_text(pct)} %"
        title += f": {net.n_sites} T sites, {net.n_hops} hops ({getattr(assembly, 'calculator', '')})"
    ax.set_title(title, fontsize="small")
    return _save(fig, out)


# ------------------------------------------------------------------ critical size
def critical_size_rows(trends: Trends, *, c_rate: float = 1.0, **solver: Any) -> list[dict[str, Any]]:
    """Critical diameter of pure Si and of every (dopant, %) with a diffusivity ratio.

    The dopant's D is Pell's measured pure-Si D times D_eff / D_pure of the complete hop
    network (explicit cells) or, where that is incomplete, of the superposition curve at that
    % (:func:`~sianode.analysis.concentration.trend_rows`, ``transport_source`` says which),
    handed to :func:`sianode.continuum.parameters.parameters_for` as ``diffusivity_ratio``
    with its document keys, then :func:`sianode.continuum.fracture.critical_radius`.
    ``solver`` goes to ``critical_radius`` (``n_nodes``, ``n_steps``). Rows without a ratio
    are left out (logged). ``yield_limited``: the driving stress was capped at the Li_xSi
    yield point, where the critical size no longer depends on D.
    """
    from sianode.continuum.fracture import critical_radius
    from sianode.continuum.parameters import parameters_for

    rows = []
    table = [r for r in trend_rows(trends) if r["dopant"] != "pure Si"]
    if trends.pure_reference() is not None:  # Pell's D itself: one pure-Si row
        table.insert(0, {"dopant": "pure Si", "percent": 0.0, "ratio_to_pure": 1.0, "transport_source": None,
                         "transport_sources": [], "network_missing": []})
    for r in table:
        pure = r["dopant"] == "pure Si"
        if not pure and r["ratio_to_pure"] is None:
            logger.warning("critical size of %s %s %% not computed: no D_eff / D_pure (%s)", r["dopant"],
                           percent_text(r["percent"]), "; ".join(r["network_missing"][:3]) or "no network")
            continue
        atomistic = None
        if not pure:
            how = ("hop network" if r["transport_source"] == "network"
                   else "dilute superposition of the one-dopant network")
            atomistic = {"diffusivity_ratio": {
                "value": r["ratio_to_pure"], "unit": "1", "temperature_K": trends.T_K, "sources": r["transport_sources"],
                "source": f"D_eff/D_pure = {r['ratio_to_pure']:.3g} ({how}, {trends.calculator})"}}
        params = parameters_for(None if pure else r["dopant"], None if pure else r["percent"], atomistic=atomistic,
                                overrides={"temperature_k": trends.T_K} if trends.T_K != 300.0 else None)
        result = critical_radius(params, c_rate=c_rate, **solver)
        label = "pure Si" if pure else f"{r['dopant']} {percent_text(r['percent'])} %"
        if r["transport_source"] == "superposition":
            label += " (sup.)"
        rows.append({"label": label, "dopant": schema.PURE if pure else r["dopant"], "percent": r["percent"],
                     "critical_diameter_m": result.critical_diameter_m, "criterion": result.criterion,
                     "yield_limited": bool(getattr(result, "yield_limited", False)),
                     "ratio_to_pure": 1.0 if pure else r["ratio_to_pure"], "transport_source": r["transport_source"],
                     "diffusivity_source": params.diffusivity_m2_s.source,
                     "diffusivity_sources": list(getattr(params.diffusivity_m2_s, "sources", ()) or ())})
    return rows


# ------------------------------------------------------------------ from the store
def choose_calculator(store: Any, calculator: str | None, kind_filter: dict[str, Any]) -> str:
    """The one calculator a figure is drawn for: ``calculator`` or the only one in the database.

    Raises
    ------
    InputError
        Several calculators and none chosen, or the chosen one has no such results.
    """
    from sianode.analysis.docs import pick_calculator, store_description

    names = sorted({str(calculator_name(d)) for d in store.find(kind_filter, projection={"calculator": 1})})
    return pick_calculator(
        names, calculator,
        unknown=lambda: (f"no results of calculator {calculator!r} to plot; calculators in the database: "
                         f"{', '.join(names) or 'none'}"),
        empty=lambda: (f"no results in the database at {store_description(store)}; "
                       "run `sianode run campaign.yaml` first"),
        several=lambda: (f"the database holds results of several calculators ({', '.join(names)}); "
                         "choose one with --calculator"))


def _trends(store: Any, what: str, options: dict[str, Any]) -> Trends:
    calc = choose_calculator(store, options.get("calculator"), {"kind": schema.RELAX, "labels.role": schema.ROLE_HOST})
    return concentration_trends(
        store, calculator=calc, campaign=options.get("campaign"), T_K=options.get("T_K") or 300.0,
        transport=what != "insertion", superposition=what in ("barriers", "diffusivity", "critical-size"),
        **{k: options[k] for k in ("L", "seeds", "curve_percents") if options.get(k) is not None})


def plot_from_store(store: Any, what: str, path: str | Path, **options: Any) -> Any:
    """Draw one of :data:`PLOTS` from the database and save it to ``path``.

    Options: ``calculator``, ``campaign`` (all), ``T_K`` (insertion, barriers, diffusivity,
    critical-size), ``L``, ``seeds``, ``curve_percents`` (superposition), ``dopant`` (neb,
    network), ``percent`` (network), ``c_rate``, ``n_nodes``, ``n_steps`` (critical-size).

    Returns
    -------
    matplotlib.figure.Figure, or the written Path for ``critical-size`` (drawn by
    :func:`sianode.continuum.plots.plot_critical_sizes`).
    """
    if what not in PLOTS:
        raise InputError(f"plot {what!r} is not allowed; choose one of {', '.join(PLOTS)}")
    out = _check_path(path)
    if what in ("insertion", "barriers", "diffusivity"):
        trends = _trends(store, what, options)
        draw = {"insertion": plot_insertion_trend, "barriers": plot_barrier_trend,
                "diffusivity": plot_diffusivity_trend}[what]
        return draw(trends, out)
    if what == "neb":
        calc = choose_calculator(store, options.get("calculator"), {"kind": schema.NEB})
        dopant, campaign = options.get("dopant"), options.get("campaign")
        docs = [d for d in store.find({"kind": schema.NEB, "labels.role": schema.ROLE_HOP, "status": "completed"})
                if calculator_name(d) == calc
                and (dopant is None or labels(d).get("dopant") in (dopant, schema.PURE))
                and (campaign is None or campaign in [labels(d).get("campaign"), *(labels(d).get("campaigns") or [])])]
        return plot_neb_profiles([derive.neb_profile(store, d) for d in docs], out)
    if what == "network":
        from sianode.analysis.network import host_network

        if options.get("dopant") is None:
            raise InputError("the network plot needs --dopant (and --percent when several are stored)")
        assembly = host_network(store, dopant=options["dopant"], percent=options.get("percent"),
                                calculator=options.get("calculator"), campaign=options.get("campaign"))
        return plot_network(assembly, out)
    from sianode.continuum.plots import plot_critical_sizes

    solver = {k: options[k] for k in ("n_nodes", "n_steps") if options.get(k) is not None}
    trends = _trends(store, what, options)
    rows = critical_size_rows(trends, c_rate=options.get("c_rate") or 1.0, **solver)
    if not any(r["dopant"] != schema.PURE for r in rows):
        raise InputError("no dopant with a diffusivity ratio in the database: the critical size needs a complete "
                         "hop network (or a one-dopant kernel) per dopant")
    return plot_critical_sizes(rows, out)


__all__ = [
    "FORMATS", "PERCENT_LABEL", "PLOTS", "choose_calculator", "critical_size_rows", "offsets", "plot_barrier_trend",
    "plot_diffusivity_trend", "plot_from_store", "plot_insertion_trend", "plot_neb_profiles", "plot_network",
]
