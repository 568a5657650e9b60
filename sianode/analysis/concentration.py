"""Trends against dopant concentration: explicit cells from the store, and the superposition curve.

For each dopant of one calculator, at every actual atom % the store has hosts for:

* **explicit cells**: every stored host of that dopant and % (one per arrangement class),
  each giving its T-site insertion energies (nearest class, minimum, multiplicity-weighted
  Boltzmann average, PHYSICS.md section 3), its CI-NEB barriers (near hop, lowest, highest),
  and, where its hop network is complete, D_eff / D_pure and E_a,eff
  (:func:`sianode.analysis.network.transport_summary`: exact cell-problem solution and
  Arrhenius fit, PHYSICS.md section 6). Several hosts (arrangement classes) are combined with
  their weights, PHYSICS.md section 7: ``labels.arrangement_weight`` when the campaign
  stored one (an ensemble, weights g_c exp(-(E_c - E_min)/kT) normalised over all classes),
  else the multiplicity g_c with the ideal-random-alloy total C(N, k). Each quantity is a
  :class:`Stat`: weighted mean, weighted standard deviation (the ensemble spread), range,
  and the fraction of the total weight its hosts cover.
* **superposition**: D_eff(x) / D_pure and E_a,eff(x) at any x from the one-dopant kernel
  (:func:`sianode.analysis.network.dopant_kernel`) superposed on random L x L x L cells
  (:func:`sianode.transport.concentration_curve`: mean and standard error over seeds).
* **the difference** between the two at every concentration with an explicit complete
  network, reported, never hidden: log10(ratio_explicit / ratio_superposition) and
  E_a,eff(explicit) - E_a,eff(superposition).

This module reads the store and runs transport formulas on numbers; it runs no calculation.
Its records (:class:`Stat`, :class:`ExplicitPoint`, :class:`DopantTrend`, ...) live in
:mod:`sianode.analysis.trend_records` and are re-exported here.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from sianode.analysis import derive
from sianode.analysis.docs import calculator_name, identity_token, labels, short
from sianode.analysis.trend_records import (  # re-exported: the trends' records
    ADDITIVITY_FACTOR,
    CurvePoint,
    DopantTrend,
    ExplicitPoint,
    HostValues,
    Stat,
    Trends,
    nearest_curve_point,
    percent_text,
    weighted_stat,
)
from sianode.errors import InputError
from sianode.store import COMPLETED, schema

logger = logging.getLogger(__name__)

__all__ = [
    "ADDITIVITY_FACTOR", "CurvePoint", "DopantTrend", "ExplicitPoint", "HostValues", "Stat", "Trends",
    "compare", "concentration_trends", "default_curve_percents", "host_values", "percent_text",
    "superposition_curve", "trend_rows", "weighted_stat",
]

#: superposition cell: L x L x L conventional cells (L = 6: 1728 Si sites; 1/64, 2/64 and 4/64 are
#: met exactly by 27, 54 and 108 dopants) and seeds averaged over
DEFAULT_L = 6
DEFAULT_SEEDS = 4


# ------------------------------------------------------------------ hosts
def _supercell_n(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return int(value[0]) if value else None
    return int(value)


def _weight(lab: Mapping[str, Any]) -> tuple[float, str]:
    if lab.get("arrangement_weight") is not None:
        return float(lab["arrangement_weight"]), "ensemble"
    return float(lab.get("arrangement_multiplicity") or 1), "multiplicity"


def _total_weight(hosts: Sequence[HostValues]) -> float | None:
    """Total weight of every arrangement class of a concentration, in the hosts' normalisation:
    1 for ensemble weights (normalised over all classes), C(N, k) for multiplicities
    (N = 8 n^3 sites, k dopants: the classes' multiplicities sum to it)."""
    kinds = {h.weight_kind for h in hosts}
    if kinds == {"ensemble"}:
        return 1.0
    if kinds == {"multiplicity"} and hosts[0].supercell:
        return float(math.comb(8 * hosts[0].supercell ** 3, hosts[0].n_dopants)) if hosts[0].n_dopants else 1.0
    return None


def _hosts(store: Any, calculator: str, campaign: str | Sequence[str] | None,
           dopants: Sequence[str] | None) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"kind": schema.RELAX, "labels.role": schema.ROLE_HOST, "status": COMPLETED}
    docs = store.find(query)
    if campaign is not None:
        names = [campaign] if isinstance(campaign, str) else list(campaign)
        docs = [d for d in docs if labels(d).get("campaign") in names
                or set(labels(d).get("campaigns") or []) & set(names)]
    docs = [d for d in docs if calculator_name(d) == calculator]
    if dopants is not None:
        wanted = {str(x).lower() for x in dopants} | {schema.PURE.lower()}
        docs = [d for d in docs if str(labels(d).get("dopant")).lower() in wanted]
    return sorted(docs, key=lambda d: (str(labels(d).get("dopant")), float(labels(d).get("percent") or 0.0),
                                       str(labels(d).get("arrangement")), str(d["key"])))


def host_values(store: Any, host: Mapping[str, Any], reference: Mapping[str, Any] | None, *,
                T_K: float = 300.0, transport: bool = True) -> HostValues:
    """Insertion energies, barriers and (when its network is complete) transport of one stored host.

    Parameters
    ----------
    store : ResultStore
    host : dict
        Completed host ``relax`` document.
    reference : dict or None
        The bcc-Li reference of the host's calculator.
    T_K : float
        Temperature of the Boltzmann average and of D_eff, K.
    transport : bool
        Also assemble the hop network (skipped when the host has no NEB at all).
    """
    lab = labels(host)
    weight, kind = _weight(lab)
    hv = HostValues(host_key=str(host["key"]), dopant=str(lab.get("dopant")), percent=float(lab.get("percent") or 0.0),
                    supercell=_supercell_n(lab.get("supercell")), n_dopants=int(lab.get("n_dopants") or 0),
                    arrangement=lab.get("arrangement"), weight=weight, weight_kind=kind, sources=[str(host["key"])])
    inserted = store.find({"kind": schema.RELAX, "labels.role": schema.ROLE_INSERTION, "labels.host_key": host["key"]})
    values = [derive.insertion_energy(d, host, reference) for d in sorted(inserted, key=lambda d: str(d["key"]))
              if labels(d).get("site_kind") in (None, "T")]
    done = [v for v in values if v.e_ins_eV is not None]
    hv.n_t_done, hv.n_t_failed = len(done), len(values) - len(done)
    if done:
        near = min(done, key=lambda v: (v.distance_to_dopant_A if v.distance_to_dopant_A is not None else 0.0,
                                        v.site or "", v.key))
        hv.e_ins_nearest_eV = float(near.e_ins_eV)  # type: ignore[arg-type]
        e = [float(v.e_ins_eV) for v in done]  # type: ignore[arg-type]
        hv.e_ins_min_eV = min(e)
        hv.e_ins_avg_eV = derive.boltzmann_average(e, [v.multiplicity or 1 for v in done], T_K)
        hv.sources += [v.key for v in done]
        if reference is not None:
            hv.sources.append(str(reference["key"]))
    nebs = store.find({"kind": schema.NEB, "labels.role": schema.ROLE_HOP, "labels.host_key": host["key"]})
    hops = [derive.barrier(d) for d in sorted(nebs, key=lambda d: str(d["key"]))]
    finished = [b for b in hops if b.barrier_eV is not None]
    hv.n_hops_done = len(finished)
    if finished:
        both = [x for b in finished for x in (b.barrier_eV, b.reverse_barrier_eV) if x is not None]
        hv.barrier_min_eV, hv.barrier_max_eV = float(min(both)), float(max(both))
        near = derive.near_hop(finished)
        hv.barrier_near_eV = None if near is None else near.barrier_eV
        hv.sources += [b.key for b in finished]
    if not transport:
        return hv
    if not hops:
        hv.network_missing = ["no hop (NEB) computed for this host"]
        return hv
    from sianode.analysis.network import transport_summary

    summary = transport_summary(store, dopant=hv.dopant, percent=hv.percent, calculator=calculator_name(host),
                                temperature_K=T_K, arrangement=lab.get("arrangement"))
    if summary.get("host_key") not in (None, host["key"]):  # another host of the same arrangement label
        hv.network_missing = [f"network assembled for host {short(summary.get('host_key'))}, not this one"]
        return hv
    hv.network_missing = list(summary.get("missing") or [])
    hv.ratio_to_pure = summary.get("ratio_to_pure")
    hv.Ea_eff_eV = summary.get("Ea_eff_eV")
    hv.D_eff_m2_s = summary.get("D_eff_m2_s")
    hv.sources += [k for k in summary.get("sources") or [] if k not in hv.sources]
    return hv


def _point(hosts: list[HostValues]) -> ExplicitPoint:
    first = hosts[0]
    point = ExplicitPoint(first.dopant, first.percent, first.supercell, first.n_dopants, hosts)
    w = [h.weight for h in hosts]
    total = _total_weight(hosts)
    for name in ("e_ins_nearest", "e_ins_min", "e_ins_avg", "barrier_near", "barrier_min", "barrier_max"):
        setattr(point, name, weighted_stat([getattr(h, f"{name}_eV") for h in hosts], w, total))
    point.ratio_to_pure = weighted_stat([h.ratio_to_pure for h in hosts], w, total)
    point.Ea_eff = weighted_stat([h.Ea_eff_eV for h in hosts], w, total)
    return point


# ------------------------------------------------------------------ superposition
def default_curve_percents(explicit: Iterable[float], top: float | None = None, n_grid: int = 5) -> list[float]:
    """Concentrations of the superposition curve: 0 (pure Si), every explicit % and ``n_grid``
    evenly spaced points from top/8 to ``top`` (default 1.25 x the largest explicit %, at least 2 %)."""
    explicit = sorted({round(float(p), 6) for p in explicit if p > 0})
    top = float(top) if top is not None else max(2.0, 1.25 * (explicit[-1] if explicit else 0.0))
    grid = [round(float(x), 4) for x in np.linspace(top / 8.0, top, n_grid)]
    return sorted({0.0, *explicit, *grid})


#: bump when the meaning of a cached curve changes (the key also holds the package version)
_CURVE_CACHE_VERSION = 1


def _curve_cache_path(kernel: Any, percents: Sequence[float], L: int, seeds: int, T_K: float) -> Any:
    """File of a cached superposition curve: ``$SIANODE_HOME/cache/superposition/<sha256>.json``.

    The key is the content: every number of the kernel (its shifts, pure energies, lattice
    constant, attempt frequency and the keys of the documents it came from), the
    concentrations, L, seeds, T, the sianode version and :data:`_CURVE_CACHE_VERSION`; the
    seeds of :func:`sianode.transport.concentration_curve` are fixed, so a cached curve is the
    one a recomputation gives."""
    import hashlib

    import sianode
    from sianode.store.hashing import canonical_json
    from sianode.store.uri import sianode_home

    content = {"kernel": kernel.as_dict(), "nu": getattr(kernel, "attempt_frequency_Hz", None),
               "percents": [float(p) for p in percents], "L": L, "seeds": seeds, "T_K": float(T_K),
               "sianode": getattr(sianode, "__version__", None), "version": _CURVE_CACHE_VERSION}
    key = hashlib.sha256(canonical_json(content).encode()).hexdigest()
    return sianode_home() / "cache" / "superposition" / f"{key}.json"


def _cached_curve(kernel: Any, percents: Sequence[float], L: int, seeds: int, T_K: float) -> list[dict[str, Any]]:
    """:func:`sianode.transport.concentration_curve`, read from / written to the curve cache
    (a cache that cannot be read or written is skipped: the curve is computed)."""
    import json

    from sianode.transport import concentration_curve

    path = None
    try:
        path = _curve_cache_path(kernel, percents, L, seeds, T_K)
        if path.is_file():
            return list(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        logger.debug("superposition cache not read: %s", exc)
    rows = concentration_curve(kernel, [float(p) for p in percents], L=L, seeds=seeds, temperature_K=T_K)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{id(rows)}.tmp")
            tmp.write_text(json.dumps(rows))
            tmp.replace(path)
        except (OSError, TypeError, ValueError) as exc:
            logger.debug("superposition cache not written: %s", exc)
    return rows


def superposition_curve(store: Any, dopant: str, calculator: str, percents: Sequence[float], *,
                        T_K: float = 300.0, L: int = DEFAULT_L, seeds: int = DEFAULT_SEEDS
                        ) -> tuple[list[CurvePoint], dict[str, Any]]:
    """The superposition curve of one dopant: (points, kernel source).

    :func:`sianode.analysis.network.dopant_kernel` (the one-dopant host's site and saddle
    shifts against pure Si) and :func:`sianode.transport.concentration_curve` (random L^3
    cells, ``seeds`` seeds, mean and standard error of D; E_a,eff from an Arrhenius fit).
    Curves are cached by content under ``$SIANODE_HOME/cache/superposition`` (a rerun of the
    same data reads them back instead of solving again).

    Raises
    ------
    InputError
        No complete one-dopant network (the message says what is missing).
    """
    from sianode.analysis.network import dopant_kernel

    kernel = dopant_kernel(store, dopant, calculator)
    rows = _cached_curve(kernel, percents, L, seeds, T_K)
    points = []
    for r in rows:
        ratio = float(r["ratio_to_pure"])
        d = float(r["D_m2_s"])
        err = float(r.get("stderr_m2_s") or 0.0)
        points.append(CurvePoint(percent=float(r["percent"]), n_dopants=int(r["n_dopants"]), ratio_to_pure=ratio,
                                 ratio_stderr=ratio * err / d if d > 0 else 0.0,
                                 Ea_eff_eV=None if r.get("Ea_eff_eV") is None else float(r["Ea_eff_eV"]),
                                 D_m2_s=d, stderr_m2_s=err))
    source = dict(getattr(kernel, "source", {}) or {})
    source.update({"L": L, "seeds": seeds, "T_K": T_K})
    return points, source


def compare(trend: DopantTrend) -> list[dict[str, Any]]:
    """Explicit vs superposition at every explicit % whose hosts all have a complete network."""
    rows = []
    for p in trend.points:
        if p.ratio_to_pure is None:
            continue
        c = nearest_curve_point(trend.curve, p.percent)
        if c is None:
            continue
        ea_x = p.Ea_eff.mean if p.Ea_eff is not None else None
        rows.append({
            "percent": p.percent, "explicit_ratio": p.ratio_to_pure.mean, "explicit_spread": p.ratio_to_pure.spread,
            "explicit_complete": p.network_complete, "explicit_covered_weight": p.ratio_to_pure.covered_weight,
            "superposition_percent": c.percent, "superposition_ratio": c.ratio_to_pure,
            "superposition_stderr": c.ratio_stderr,
            "log10_difference": (math.log10(p.ratio_to_pure.mean / c.ratio_to_pure)
                                 if p.ratio_to_pure.mean > 0 and c.ratio_to_pure > 0 else None),
            "explicit_Ea_eV": ea_x, "superposition_Ea_eV": c.Ea_eff_eV,
            "Ea_difference_eV": ea_x - c.Ea_eff_eV if ea_x is not None and c.Ea_eff_eV is not None else None,
        })
    return rows


# ------------------------------------------------------------------ entry point
def _choose_calculator(store: Any, calculator: str | None) -> str:
    from sianode.analysis.docs import pick_calculator

    names = sorted({str(calculator_name(d)) for d in store.find(
        {"kind": schema.RELAX, "labels.role": schema.ROLE_HOST, "status": COMPLETED}, projection={"calculator": 1})})
    return pick_calculator(
        names, calculator,
        unknown=lambda: (f"no completed host of calculator {calculator!r} in the database; calculators with "
                         f"hosts: {', '.join(names) or 'none'}"),
        empty=lambda: "no completed host in the database: run a campaign first (`sianode run campaign.yaml`)",
        several=lambda: (f"the database holds hosts of several calculators ({', '.join(names)}); choose one "
                         "with --calculator"))


def concentration_trends(
    store: Any,
    *,
    calculator: str | None = None,
    campaign: str | Sequence[str] | None = None,
    dopants: Sequence[str] | None = None,
    T_K: float = 300.0,
    transport: bool = True,
    superposition: bool = True,
    curve_percents: Sequence[float] | None = None,
    L: int = DEFAULT_L,
    seeds: int = DEFAULT_SEEDS,
) -> Trends:
    """Per dopant: explicit points at every stored %, the superposition curve, their difference.

    Parameters
    ----------
    store : ResultStore
    calculator : str, optional
        Default: the only calculator with hosts (several: :class:`InputError`).
    campaign : str or list of str, optional
        Only hosts used by these campaigns.
    dopants : list of str, optional
        Only these dopants (pure Si always).
    T_K : float
        Temperature of the Boltzmann averages and of D_eff, K.
    transport : bool
        Assemble each host's hop network (D_eff / D_pure, E_a,eff).
    superposition : bool
        Compute the superposition curve of each dopant (needs its complete one-dopant network).
    curve_percents : list of float, optional
        Concentrations of the curve; default :func:`default_curve_percents`.
    L, seeds : int
        Superposition cell size (conventional cells per edge) and seeds.

    Returns
    -------
    Trends
        ``problems`` says what could not be computed (a missing package, an incomplete
        kernel); nothing is left out silently.
    """
    if not (isinstance(T_K, (int, float)) and math.isfinite(T_K) and T_K > 0):
        raise InputError(f"temperature {T_K!r} K is not allowed; it must be a positive number of K")
    calc = _choose_calculator(store, calculator)
    trends = Trends(calculator=calc, T_K=float(T_K))
    references = derive.li_references(store)
    groups: dict[tuple[str, float], list[HostValues]] = {}
    transport_ok = transport
    for host in _hosts(store, calc, campaign, dopants):
        try:
            hv = host_values(store, host, references.get(identity_token(host)), T_K=T_K, transport=transport_ok)
        except ImportError as exc:  # the transport layer is not there: say so, keep the energies
            trends.problems.append(f"hop networks not assembled: {exc}")
            transport_ok = False
            hv = host_values(store, host, references.get(identity_token(host)), T_K=T_K, transport=False)
        groups.setdefault((hv.dopant, round(hv.percent, 6)), []).append(hv)
    for (dopant, _), hosts in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        point = _point(hosts)
        if dopant == schema.PURE:
            trends.pure.append(point)
        else:
            trends.dopants.setdefault(dopant, DopantTrend(dopant)).points.append(point)
    if not superposition:
        return trends
    for dopant, trend in trends.dopants.items():
        percents = list(curve_percents) if curve_percents is not None else default_curve_percents(
            p.percent for p in trend.points)
        try:
            trend.curve, trend.curve_source = superposition_curve(store, dopant, calc, percents, T_K=T_K, L=L,
                                                                  seeds=seeds)
        except ImportError as exc:
            trend.curve_missing = f"superposition unavailable: {exc}"
        except InputError as exc:
            trend.curve_missing = str(exc)
        if trend.curve_missing:
            trends.problems.append(f"{dopant}: no superposition curve: {trend.curve_missing}")
            continue
        trend.comparisons = compare(trend)
    return trends


# ------------------------------------------------------------------ flat table
def trend_rows(trends: Trends) -> list[dict[str, Any]]:
    """One row per (dopant, %): pure Si first, then each dopant's explicit points.

    D_eff / D_pure and E_a,eff come from the explicit network where every host's network is
    complete (``transport_source`` "network"), else from the superposition curve at that %
    ("superposition"; ``superposition_checked``: whether the dopant's superposition matched its
    explicit networks within :data:`ADDITIVITY_FACTOR`, None when unchecked), else None, with
    the keys of the documents they came from
    (``transport_sources``: the hosts' networks, or the one-dopant and pure networks of the
    kernel); the other estimate and their difference are in the row too.
    """
    rows = []
    for point in trends.pure:
        rows.append(_row(point, None, "pure Si"))
    for dopant, trend in sorted(trends.dopants.items()):
        for point in trend.points:
            rows.append(_row(point, trend, dopant))
    return rows


def _mean(stat: Stat | None) -> float | None:
    return None if stat is None else stat.mean


def _row(point: ExplicitPoint, trend: DopantTrend | None, name: str) -> dict[str, Any]:
    curve = nearest_curve_point(trend.curve, point.percent) if trend is not None else None
    ratio = ea = None
    source = None
    transport_sources: list[str] = []
    if point.network_complete and point.ratio_to_pure is not None:
        ratio, ea, source = point.ratio_to_pure.mean, _mean(point.Ea_eff), "network"
        transport_sources = point.sources
    elif curve is not None:
        ratio, ea, source = curve.ratio_to_pure, curve.Ea_eff_eV, "superposition"
        transport_sources = list((trend.curve_source if trend else {}).get("sources") or [])
    comparison = next((c for c in (trend.comparisons if trend else []) if abs(c["percent"] - point.percent) <= 1e-3),
                      None)
    e_avg = point.e_ins_avg
    return {
        "dopant": name, "percent": point.percent, "supercell": point.supercell, "n_dopants": point.n_dopants,
        "n_hosts": point.n_hosts,
        "covered_weight": None if e_avg is None else e_avg.covered_weight,
        "t_sites": sum(h.n_t_done for h in point.hosts), "t_failed": sum(h.n_t_failed for h in point.hosts),
        "hops": sum(h.n_hops_done for h in point.hosts),
        "e_ins_nearest_eV": _mean(point.e_ins_nearest), "e_ins_min_eV": _mean(point.e_ins_min),
        "e_ins_avg_eV": _mean(point.e_ins_avg), "e_ins_avg_spread_eV": None if e_avg is None else e_avg.spread,
        "barrier_near_eV": _mean(point.barrier_near),
        "ratio_to_pure": ratio, "Ea_eff_eV": ea, "transport_source": source, "transport_sources": transport_sources,
        "superposition_checked": None if trend is None else trend.additivity_ok,
        "superposition_ratio": None if curve is None else curve.ratio_to_pure,
        "superposition_stderr": None if curve is None else curve.ratio_stderr,
        "log10_difference": None if comparison is None else comparison["log10_difference"],
        "network_missing": point.network_missing,
        "sources": point.sources,
    }
