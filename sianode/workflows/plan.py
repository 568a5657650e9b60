"""What a campaign computes, decided before anything runs: hosts, Li sites, hops.

:func:`plan_campaign` turns a :class:`~sianode.workflows.spec.CampaignSpec` into a
:class:`CampaignPlan`: one :class:`HostPlan` per (dopant, %, arrangement) plus the pure
hosts, each with its selected T-site classes and hop classes. Sites and hops are found
on the ideal host (a = 5.431 A) by symmetry; their fractional coordinates are then used
in the relaxed host's cell, so the plan does not depend on the calculator.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sianode.store import schema

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
    """One hop class: ``start``/``end`` fractional (3,) Li positions, ``selection`` near/far/all."""

    label: str
    start: list[float]
    end: list[float]
    multiplicity: int
    distance_to_dopant_A: float | None
    selection: str

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "start": list(self.start), "end": list(self.end),
                "multiplicity": self.multiplicity, "distance_to_dopant_A": self.distance_to_dopant_A,
                "selection": self.selection}


@dataclass
class HostPlan:
    """One host: ``dopant`` (``"Si"`` for pure), ``supercell`` n, ``dopant_indices``, labels."""

    dopant: str
    supercell: int
    dopant_indices: list[int]
    percent: float
    requested_percent: float | None
    arrangement: int
    arrangement_multiplicity: int
    sites: list[SitePlan] = field(default_factory=list)
    hops: list[HopPlan] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.dopant}-{self.percent:.4g}%-n{self.supercell}-a{self.arrangement}"

    def labels(self, campaign: str) -> dict[str, Any]:
        """The host's labels (:mod:`sianode.store.schema`)."""
        return {
            "campaign": campaign, "role": schema.ROLE_HOST, "dopant": self.dopant, "percent": self.percent,
            "requested_percent": self.requested_percent, "supercell": [self.supercell] * 3,
            "n_dopants": len(self.dopant_indices), "arrangement": self.arrangement,
            "arrangement_multiplicity": self.arrangement_multiplicity,
        }

    def host_params(self) -> dict[str, Any]:
        """What the host FireTasks need to rebuild the host (JSON-safe)."""
        return {"dopant": self.dopant, "supercell": self.supercell, "dopant_indices": list(self.dopant_indices)}


@dataclass
class CampaignPlan:
    """Every host of a campaign, pure hosts first."""

    name: str
    hosts: list[HostPlan]

    @property
    def n_insertions(self) -> int:
        return sum(len(h.sites) for h in self.hosts)

    @property
    def n_hops(self) -> int:
        return sum(len(h.hops) for h in self.hosts)


def build_host(host: dict[str, Any], a_A: float) -> Any:
    """The unrelaxed host of :meth:`HostPlan.host_params` at lattice constant ``a_A`` (Angstrom)."""
    from sianode.structures import doped_supercell, pure_supercell

    if host["dopant"] == schema.PURE or not host["dopant_indices"]:
        return pure_supercell(int(host["supercell"]), a=float(a_A))
    cell = doped_supercell(host["dopant"], count=len(host["dopant_indices"]), supercell=int(host["supercell"]),
                           a=float(a_A), arrangement=tuple(host["dopant_indices"]))
    return cell.atoms


def _sites_and_hops(spec: Any, host: HostPlan) -> None:
    _fill_sites_and_hops(host, spec.nearest_sites, spec.hop_selections)


def _fill_sites_and_hops(host: HostPlan, k: int | None, selections: tuple[str, ...]) -> None:
    from sianode.structures import li_hops, li_sites, select_hops
    from sianode.structures.supercell import A_SI

    atoms = build_host(host.host_params(), A_SI)
    sites = li_sites(atoms, host.dopant_indices).T
    if k is not None:
        sites = sites[:k]
    host.sites = [SitePlan(s.label, [float(x) for x in s.frac], int(s.multiplicity),
                           None if s.distance_to_dopant is None else float(s.distance_to_dopant)) for s in sites]
    if not selections:
        return
    hops = li_hops(atoms, host.dopant_indices)
    chosen: dict[str, tuple[Any, list[str]]] = {}
    for sel in selections:
        for hop in select_hops(hops, sel):
            chosen.setdefault(hop.label, (hop, []))[1].append(sel if host.dopant_indices else "all")
    host.hops = [
        HopPlan(hop.label, [float(x) for x in hop.start], [float(x) for x in hop.end], int(hop.multiplicity),
                None if hop.distance_to_dopant is None else float(hop.distance_to_dopant),
                "+".join(dict.fromkeys(sels)))
        for hop, sels in chosen.values()
    ]


def plan_host(
    dopant: str,
    count: int,
    supercell: int = 2,
    *,
    nearest_sites: int | None = None,
    hops: tuple[str, ...] = ("near",),
    requested_percent: float | None = None,
) -> HostPlan:
    """The plan of one host exactly as :func:`plan_campaign` makes it (same sites, hops, keys).

    Parameters
    ----------
    dopant : str
        Dopant symbol, or ``"Si"`` (with ``count`` 0) for pure Si.
    count : int
        Dopants in the cell; the arrangement is class 0 of ``enumerate_arrangements`` (the
        default of a campaign with ``max_arrangements: 1``).
    supercell : int
        n of the n x n x n supercell (8 n^3 sites).
    nearest_sites, hops
        As the campaign keys ``sites: {nearest: k}`` (None: all) and ``hops``.
    """
    from sianode.structures import enumerate_arrangements, pure_supercell

    if dopant == schema.PURE or count == 0:
        host = HostPlan(schema.PURE, supercell, [], 0.0, 0.0, 0, 1)
    else:
        cls = list(enumerate_arrangements(pure_supercell(supercell), count))[0]
        host = HostPlan(dopant, supercell, [int(i) for i in cls.dopant_indices], 100.0 * count / (8 * supercell ** 3),
                        requested_percent, int(cls.id), int(cls.multiplicity))
    _fill_sites_and_hops(host, nearest_sites, tuple(h for h in hops if h != "none"))
    return host


def plan_campaign(spec: Any) -> CampaignPlan:
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
    from sianode.structures import choose_cell, enumerate_arrangements, pure_supercell

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
    arrangement_cache: dict[tuple[int, int], Any] = {}
    for dopant in spec.dopants:
        for sc, k, requested in wanted:
            if (sc, k) not in arrangement_cache:
                arrangement_cache[(sc, k)] = enumerate_arrangements(pure_supercell(sc), k)
            n_sites = 8 * sc ** 3
            for cls in list(arrangement_cache[(sc, k)])[: spec.max_arrangements]:
                hosts.append(HostPlan(dopant, sc, [int(i) for i in cls.dopant_indices], 100.0 * k / n_sites,
                                      requested, int(cls.id), int(cls.multiplicity)))
    for host in hosts:
        _sites_and_hops(spec, host)
    plan = CampaignPlan(spec.name, hosts)
    log.info("campaign %s: %d hosts, %d insertions, %d hops", spec.name, len(hosts), plan.n_insertions, plan.n_hops)
    return plan
