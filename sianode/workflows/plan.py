"""What a campaign computes, decided before anything runs: hosts, Li sites, hops.

:func:`plan_campaign` turns a :class:`~sianode.workflows.spec.CampaignSpec` into a
:class:`CampaignPlan`: one :class:`HostPlan` per (dopant, %, arrangement) plus the pure
hosts, each with its selected T-site classes and hop paths. Sites and hops are found
on the ideal host (a = 5.431 A) by symmetry; their fractional coordinates are then used
in the relaxed host's cell, so the plan does not depend on the calculator.

Hops are UNORDERED paths, one per H-site class (:func:`~sianode.structures.li_hop_paths`):
one NEB each; its end points are the insertions of the two end T classes (see
:func:`~sianode.workflows.stages.hop_stage`).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sianode.store import schema

if TYPE_CHECKING:
    from ase import Atoms

    from sianode.workflows.spec import CampaignSpec

log = logging.getLogger(__name__)


@dataclass
class SitePlan:
    """One T-site class: ``label`` (T1, ...), ``frac`` (3,), ``multiplicity``, ``distance_to_dopant_A``."""

    label: str
    frac: list[float]
    multiplicity: int
    distance_to_dopant_A: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "frac": list(self.frac), "multiplicity": self.multiplicity,
                "distance_to_dopant_A": self.distance_to_dopant_A}


@dataclass
class HopPlan:
    """One unordered hop path class (:class:`~sianode.structures.HopPath`).

    ``start``/``end``: fractional (3,) Li positions (start: the representative site of the
    ``start_site`` T class; end possibly unwrapped); ``h_label``: the saddle's H class;
    ``start_site``/``end_site``: T class labels of the ends; ``multiplicity``: paths in the
    class; ``selection``: the campaign selections that chose it (``near+within:4``).
    """

    label: str
    start: list[float]
    end: list[float]
    multiplicity: int
    distance_to_dopant_A: float | None
    selection: str
    h_label: str
    start_site: str
    end_site: str

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "start": list(self.start), "end": list(self.end),
                "multiplicity": self.multiplicity, "distance_to_dopant_A": self.distance_to_dopant_A,
                "selection": self.selection, "h_label": self.h_label, "start_site": self.start_site,
                "end_site": self.end_site}


@dataclass
class HostPlan:
    """One host: ``dopant`` (``"Si"`` for pure), ``supercell`` n, ``dopant_indices``, labels.

    ``arrangement_weight`` / ``weight_source``: the class's weight in its (dopant, %) and where
    it comes from (``multiplicity``, ``boltzmann T=... K``, ``sqs``; None until a
    finite-temperature ensemble has its host energies); ``carries_li``: False for an
    ensemble host that is relaxed only (see :mod:`sianode.workflows.ensemble`).
    """

    dopant: str
    supercell: int
    dopant_indices: list[int]
    percent: float
    requested_percent: float | None
    arrangement: int
    arrangement_multiplicity: int
    sites: list[SitePlan] = field(default_factory=list)
    hops: list[HopPlan] = field(default_factory=list)
    arrangement_weight: float | None = 1.0
    weight_source: str | None = "multiplicity"
    carries_li: bool = True

    @property
    def name(self) -> str:
        tag = f"a{self.arrangement}" if self.arrangement >= 0 else "sqs"
        return f"{self.dopant}-{self.percent:.4g}%-n{self.supercell}-{tag}"

    def labels(self, campaign: str) -> dict[str, Any]:
        """The host's labels (:mod:`sianode.store.schema`)."""
        return {
            "campaign": campaign, "role": schema.ROLE_HOST, "dopant": self.dopant, "percent": self.percent,
            "requested_percent": self.requested_percent, "supercell": [self.supercell] * 3,
            "n_dopants": len(self.dopant_indices), "arrangement": self.arrangement,
            "arrangement_multiplicity": self.arrangement_multiplicity,
            "arrangement_weight": self.arrangement_weight, "arrangement_weight_source": self.weight_source,
        }

    def host_params(self) -> dict[str, Any]:
        """What the host FireTasks need to rebuild the host (JSON-safe)."""
        return {"dopant": self.dopant, "supercell": self.supercell, "dopant_indices": list(self.dopant_indices)}


@dataclass
class CampaignPlan:
    """Every host of a campaign, pure hosts first."""

    name: str
    hosts: list[HostPlan]
    #: finite-T ensembles, whose Li work is chosen after their hosts relax (:mod:`sianode.workflows.ensemble`)
    ensembles: list["EnsembleGroup"] = field(default_factory=list)

    @property
    def n_insertions(self) -> int:
        return sum(len(h.sites) for h in self.hosts)

    @property
    def n_hops(self) -> int:
        return sum(len(h.hops) for h in self.hosts)


@dataclass
class EnsembleGroup:
    """The hosts of one finite-temperature ensemble (:mod:`sianode.workflows.ensemble`): dopant,
    supercell n, dopant count, requested %, the strategy (``as_dict``) and the host names."""

    dopant: str
    supercell: int
    count: int
    requested_percent: float | None
    strategy: Any
    hosts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"dopant": self.dopant, "supercell": self.supercell, "count": self.count,
                "requested_percent": self.requested_percent, "strategy": self.strategy, "hosts": list(self.hosts)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EnsembleGroup":
        return cls(d["dopant"], int(d["supercell"]), int(d["count"]), d.get("requested_percent"), d["strategy"],
                   list(d.get("hosts") or []))


def build_host(host: dict[str, Any], a_A: float) -> Atoms:
    """The unrelaxed host of :meth:`HostPlan.host_params` at lattice constant ``a_A`` (Angstrom)."""
    from sianode.structures import doped_supercell, pure_supercell

    if host["dopant"] == schema.PURE or not host["dopant_indices"]:
        return pure_supercell(int(host["supercell"]), a=float(a_A))
    cell = doped_supercell(host["dopant"], count=len(host["dopant_indices"]), supercell=int(host["supercell"]),
                           a=float(a_A), arrangement=tuple(host["dopant_indices"]))
    return cell.atoms


def _sites_and_hops(spec: CampaignSpec, host: HostPlan, cache: dict[Any, Any] | None = None) -> None:
    # sites and hops depend on the geometry only (cell, dopant sites), not on the dopant species
    key = (host.supercell, tuple(host.dopant_indices), spec.nearest_sites, spec.hop_selections)
    if cache is not None and key in cache:
        host.sites, host.hops = copy.deepcopy(cache[key])
        return
    _fill_sites_and_hops(host, spec.nearest_sites, spec.hop_selections)
    if cache is not None:
        cache[key] = copy.deepcopy((host.sites, host.hops))


def _fill_sites_and_hops(host: HostPlan, k: int | None, selections: tuple[str, ...]) -> None:
    from sianode.structures import hop_selection_name, li_hop_paths, li_sites, select_hop_paths
    from sianode.structures.supercell import A_SI

    atoms = build_host(host.host_params(), A_SI)
    sites = li_sites(atoms, host.dopant_indices).T
    if k is not None:
        sites = sites[:k]
    host.sites = [SitePlan(s.label, [float(x) for x in s.frac], int(s.multiplicity),
                           None if s.distance_to_dopant is None else float(s.distance_to_dopant)) for s in sites]
    if not selections:
        return
    hops = li_hop_paths(atoms, host.dopant_indices)
    chosen: dict[str, list[str]] = {}
    for sel in selections:
        for hop in select_hop_paths(hops, sel):
            chosen.setdefault(hop.label, []).append(hop_selection_name(sel) if host.dopant_indices else "all")
    host.hops = [
        HopPlan(hop.label, [float(x) for x in hop.start], [float(x) for x in hop.end], int(hop.multiplicity),
                None if hop.distance_to_dopant is None else float(hop.distance_to_dopant),
                "+".join(dict.fromkeys(chosen[hop.label])), hop.h_label, hop.start_site_label, hop.end_site_label)
        for hop in hops if hop.label in chosen
    ]


def plan_host(
    dopant: str,
    count: int,
    supercell: int = 2,
    *,
    nearest_sites: int | None = None,
    hops: tuple[str, ...] = ("all",),
    requested_percent: float | None = None,
    arrangements: Any = "dispersed",
) -> HostPlan:
    """The plan of one host exactly as :func:`plan_campaign` makes it (same sites, hops, keys).

    Parameters
    ----------
    dopant : str
        Dopant symbol, or ``"Si"`` (with ``count`` 0) for pure Si.
    count : int
        Dopants in the cell; the arrangement is the first class the strategy
        ``arrangements`` chooses (default ``dispersed``, as a campaign's default).
    supercell : int
        n of the n x n x n supercell (8 n^3 sites).
    nearest_sites, hops
        As the campaign keys ``sites: {nearest: k}`` (None: all) and ``hops`` (selection
        names as :attr:`~sianode.workflows.spec.CampaignSpec.hop_selections` gives them:
        ``near``, ``far``, ``all``, ``within:R``; default every hop path).
    """
    from sianode.structures import pure_supercell
    from sianode.structures.strategies import strategy_hosts

    if dopant == schema.PURE or count == 0:
        host = HostPlan(schema.PURE, supercell, [], 0.0, 0.0, 0, 1)
    else:
        cls = next(c for c, li in strategy_hosts(pure_supercell(supercell), count, arrangements) if li)
        host = HostPlan(dopant, supercell, [int(i) for i in cls.dopant_indices], 100.0 * count / (8 * supercell ** 3),
                        requested_percent, int(cls.id), int(cls.multiplicity), arrangement_weight=cls.weight,
                        weight_source=cls.weight_source)
    _fill_sites_and_hops(host, nearest_sites, tuple(h for h in hops if h != "none"))
    return host


def plan_campaign(spec: CampaignSpec) -> CampaignPlan:
    """Hosts, sites and hops of a campaign (no calculation, no database).

    Parameters
    ----------
    spec : CampaignSpec
        A validated campaign.

    Returns
    -------
    CampaignPlan
        Pure hosts (one per supercell used, when ``include_pure``) first, then each
        (dopant, %, arrangement) in spec order.
    """
    from sianode.structures import choose_cell, pure_supercell
    from sianode.structures.strategies import strategy_hosts

    cells = tuple(range(1, spec.max_supercell + 1))
    wanted: list[tuple[int, int, float | None]] = []  # (supercell, count, requested %)
    if spec.percents is not None:
        for p in spec.percents:
            sc, k, _ = choose_cell(p, cells)
            wanted.append((int(sc if isinstance(sc, int) else sc[0]), int(k), float(p)))
    else:
        wanted = [(spec.max_supercell, int(c), None) for c in spec.counts]
    hosts: list[HostPlan] = []
    if spec.include_pure:
        for sc in sorted({w[0] for w in wanted}):
            hosts.append(HostPlan(schema.PURE, sc, [], 0.0, 0.0, 0, 1))
    strategy = spec.arrangement_strategy
    arrangement_cache: dict[tuple[int, int], Any] = {}
    ensembles: list[EnsembleGroup] = []
    for dopant in spec.dopants:
        for sc, k, requested in wanted:
            if (sc, k) not in arrangement_cache:
                arrangement_cache[(sc, k)] = strategy_hosts(pure_supercell(sc), k, strategy)
            n_sites = 8 * sc ** 3
            group = []
            for cls, li in arrangement_cache[(sc, k)]:
                hosts.append(HostPlan(dopant, sc, [int(i) for i in cls.dopant_indices], 100.0 * k / n_sites,
                                      requested, int(cls.id), int(cls.multiplicity), arrangement_weight=cls.weight,
                                      weight_source=cls.weight_source, carries_li=li))
                group.append(hosts[-1].name)
            if strategy.finite_temperature:
                ensembles.append(EnsembleGroup(dopant, sc, k, requested, strategy.as_dict(), group))
    geometry_cache: dict[Any, Any] = {}
    for host in hosts:
        if host.carries_li:
            _sites_and_hops(spec, host, geometry_cache)
    plan = CampaignPlan(spec.name, hosts, ensembles)
    log.info("campaign %s: %d hosts, %d insertions, %d hops", spec.name, len(hosts), plan.n_insertions, plan.n_hops)
    return plan
