"""What a campaign will compute, counted before it runs (``sianode plan``): nothing is written.

:func:`count_calculations` counts the calculations the workflow makes from a
:class:`~sianode.workflows.plan.CampaignPlan`, per calculator:

==============  ===============================================================
kind            how many
==============  ===============================================================
``reference``   1 (bcc Li, mu_Li)
``lattice``     1 (pure 8-atom cell, cell relaxed)
``host``        1 per host (pure hosts, every arrangement class relaxed)
``insertion``   1 per selected T-site class of each host with Li work
``neb``         1 per selected hop path (its end points are the insertions)
==============  ===============================================================

A finite-temperature ensemble chooses its Li work after its hosts relax; until then the
count takes the ``max`` classes of largest multiplicity as stand-ins (``provisional``).

:func:`store_status` finds which of them the store already has by content key (the same
keys :mod:`sianode.workflows.steps` computes: reference, lattice, hosts at the stored lattice
constant, insertions in the stored relaxed host) and, for NEBs, by labels (``host_key`` and
``hop``); it reads only. :func:`estimate_core_hours` prices the calculations still to run
with the store's own timings of that calculator (median core-seconds per atom of each kind).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sianode.store import COMPLETED, FAILED, schema

if TYPE_CHECKING:
    from sianode.store.protocols import StoreLike
    from sianode.workflows.plan import CampaignPlan, HostPlan
    from sianode.workflows.spec import CampaignSpec

log = logging.getLogger(__name__)

KINDS = ("reference", "lattice", "host", "insertion", "neb")
#: labels.role of each kind in the store
ROLE = {"reference": schema.ROLE_LI_METAL, "lattice": schema.ROLE_LATTICE, "host": schema.ROLE_HOST,
        "insertion": schema.ROLE_INSERTION, "neb": schema.ROLE_HOP}
#: atoms of the fixed-size calculations (bcc Li conventional cell, 8-atom Si cell)
_FIXED_ATOMS = {"reference": 2, "lattice": 8}


@dataclass
class Calculation:
    """One planned calculation: ``kind``, its host (None for reference/lattice), atoms, label."""

    kind: str
    host: Any = None
    n_atoms: int = 0
    label: str = ""
    provisional: bool = False


def planned_calculations(spec: CampaignSpec, plan: CampaignPlan) -> list[Calculation]:
    """Every calculation the campaign's workflow makes (see the module table)."""
    out = [Calculation("reference", n_atoms=_FIXED_ATOMS["reference"]),
           Calculation("lattice", n_atoms=_FIXED_ATOMS["lattice"])]
    for host in plan.hosts:
        n = 8 * host.supercell ** 3
        out.append(Calculation("host", host, n, host.name))
        out += [Calculation("insertion", host, n + 1, s.label) for s in host.sites]
        out += [Calculation("neb", host, n + 1, h.label) for h in host.hops]
    for stand_in in provisional_hosts(spec, plan):
        n = 8 * stand_in.supercell ** 3
        out += [Calculation("insertion", stand_in, n + 1, s.label, True) for s in stand_in.sites]
        out += [Calculation("neb", stand_in, n + 1, h.label, True) for h in stand_in.hops]
    return out


def provisional_hosts(spec: CampaignSpec, plan: CampaignPlan) -> list[HostPlan]:
    """Stand-ins for the Li work of finite-T ensembles: their ``max`` largest-multiplicity classes."""
    from copy import deepcopy

    from sianode.workflows.plan import _sites_and_hops

    out = []
    by_name = {h.name: h for h in plan.hosts}
    for group in getattr(plan, "ensembles", None) or ():
        n_max = spec.arrangement_strategy.count
        hosts = sorted((by_name[n] for n in group.hosts if n in by_name),
                       key=lambda h: (-h.arrangement_multiplicity, h.arrangement))[:n_max]
        for host in hosts:
            stand_in = deepcopy(host)
            _sites_and_hops(spec, stand_in)
            out.append(stand_in)
    return out


def count_calculations(spec: CampaignSpec, plan: CampaignPlan) -> dict[str, int]:
    """``{kind: n}`` for every kind of :data:`KINDS` (provisional ensemble Li work included)."""
    counts = dict.fromkeys(KINDS, 0)
    for calc in planned_calculations(spec, plan):
        counts[calc.kind] += 1
    return counts


# ------------------------------------------------------------------ store (read only)
def open_store_readonly(db: str | None = None, *, timeout_s: float = 3.0) -> tuple[Any, str]:
    """A :class:`~sianode.store.ResultStore` that writes nothing, or ``(None, why not)``.

    The embedded server is never started (a stopped one means "no store"); no index is
    created.
    """
    from sianode.errors import SianodeError
    from sianode.store import ResultStore, connect, database_target

    try:
        target = database_target(db, start=False)
        return ResultStore(connect(target, timeout_s=timeout_s), ensure_indexes=False), target.source
    except SianodeError as exc:
        return None, str(exc)


@dataclass
class StoreStatus:
    """Which planned calculations the store has: ``completed``/``failed`` counts per kind and
    ``done``, the positions (in the list given to :func:`store_status`) of those it has."""

    completed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    failed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    done: set[int] = field(default_factory=set)

    @property
    def in_store(self) -> int:
        return sum(self.completed.values()) + sum(self.failed.values())


def _state(doc: Any) -> str | None:
    status = (doc or {}).get("status")
    return status if status in (COMPLETED, FAILED) else None


def store_status(store: StoreLike, spec: CampaignSpec, calculations: list[Calculation]) -> StoreStatus:
    """Count the planned calculations the store already finished (read only)."""
    from sianode.structures import insert_li, pure_supercell
    from sianode.workflows import steps
    from sianode.workflows.plan import build_host
    from sianode.workflows.stages import host_cell, relax_params

    out = StoreStatus()
    calc = spec.calculator_spec()
    relax = spec.relax.model_dump()

    def mark(i: int, kind: str, doc: Any) -> None:
        state = _state(doc)
        if state is not None:
            (out.completed if state == COMPLETED else out.failed)[kind] += 1
            out.done.add(i)

    ref_key = steps.reference_key(calc, fmax=spec.reference.fmax)
    lattice = store.get(steps.relax_key(pure_supercell(1), calc, params=relax_params(relax, cell=True)))
    a = None
    if _state(lattice) == COMPLETED:
        a = float(steps.relaxed_atoms(store, lattice).cell.lengths().mean())
    host_docs: dict[str, Any] = {}
    relaxed: dict[str, Any] = {}
    for i, c in enumerate(calculations):
        if c.provisional:
            continue
        if c.kind == "reference":
            mark(i, "reference", store.get(ref_key))
        elif c.kind == "lattice":
            mark(i, "lattice", lattice)
        elif c.kind == "host" and a is not None:
            key = steps.relax_key(build_host(c.host.host_params(), a), calc,
                                  params=relax_params(relax, cell=host_cell(relax)))
            host_docs[c.host.name] = store.get(key)
            mark(i, "host", host_docs[c.host.name])
        elif c.kind in ("insertion", "neb"):
            doc = host_docs.get(c.host.name)
            if _state(doc) != COMPLETED:
                continue
            if c.kind == "neb":
                found = store.find({"kind": schema.NEB, "labels.host_key": doc["key"], "labels.hop": c.label,
                                    "status": {"$in": [COMPLETED, FAILED]}}, projection={"status": 1}, limit=1)
                mark(i, "neb", found[0] if found else None)
                continue
            if c.host.name not in relaxed:
                relaxed[c.host.name] = steps.relaxed_atoms(store, doc)
            site = next(s for s in c.host.sites if s.label == c.label)
            mark(i, "insertion", store.get(steps.relax_key(insert_li(relaxed[c.host.name], site.frac), calc,
                                                           params=relax_params(relax, cell=False))))
    return out


# ------------------------------------------------------------------ cost
def store_timings(store: StoreLike, calculator_name: str) -> dict[str, list[float]]:
    """Core-seconds per atom of the store's finished (completed or failed) calculations of one
    calculator, per kind (a failed calculation cost its time too)."""
    rates: dict[str, list[float]] = {k: [] for k in KINDS}
    role_to_kind = {v: k for k, v in ROLE.items()}
    query = {"calculator.calculator": calculator_name, "status": {"$in": [COMPLETED, FAILED]},
             "timings.wall_s": {"$gt": 0}}
    fields = {"timings.wall_s": 1, "calculator.threads": 1, "labels.role": 1, "input.structure.symbols": 1,
              "input.structures.symbols": 1, "kind": 1}
    for doc in store.find(query, projection=fields):
        kind = role_to_kind.get((doc.get("labels") or {}).get("role"))
        if kind is None:
            continue
        inp = doc.get("input") or {}
        structure = inp.get("structure") or ((inp.get("structures") or [None])[0])
        n_atoms = len((structure or {}).get("symbols") or ()) or _FIXED_ATOMS.get(kind, 0)
        if n_atoms:
            threads = int((doc.get("calculator") or {}).get("threads") or 1)
            rates[kind].append(float(doc["timings"]["wall_s"]) * threads / n_atoms)
    return rates


@dataclass
class CostEstimate:
    """Core hours of the calculations still to run; ``None`` when a kind with work left has no timing."""

    core_hours: float | None
    by_kind_core_hours: dict[str, float | None]
    basis: dict[str, str]


def estimate_core_hours(rates: dict[str, list[float]], remaining: list[Calculation]) -> CostEstimate:
    """Price ``remaining`` with the median core-seconds per atom of each kind.

    A relaxation kind without timings borrows from another relaxation kind (host <->
    insertion, then any relaxation for lattice and reference); an NEB has no stand-in.
    """
    import statistics

    relax_kinds = ("host", "insertion", "lattice", "reference")
    median = {k: statistics.median(v) for k, v in rates.items() if v}
    basis: dict[str, str] = {}
    per_kind: dict[str, float | None] = {}
    total: float | None = 0.0
    for kind in KINDS:
        todo = [c for c in remaining if c.kind == kind]
        source = kind if kind in median else None
        if source is None and kind != "neb":
            source = next((k for k in relax_kinds if k in median), None)
        if not todo:
            per_kind[kind] = 0.0
            continue
        if source is None:
            per_kind[kind] = None
            basis[kind] = "no timings in the store"
            total = None
            continue
        basis[kind] = f"{len(rates[source])} stored {source} timings"
        per_kind[kind] = sum(median[source] * c.n_atoms for c in todo) / 3600.0
        if total is not None:
            total += per_kind[kind]
    if not median:
        total = None
    return CostEstimate(total, per_kind, basis)


# ------------------------------------------------------------------ the dry run
@dataclass
class CampaignEstimate:
    """``sianode plan``'s answer; :meth:`as_json` is the scripts' contract."""

    hosts: list[dict[str, Any]]
    calculations: dict[str, int]
    in_store: int | None
    estimated_core_hours: float | None
    failed_in_store: int | None = None
    store: str | None = None
    cost_basis: dict[str, str] = field(default_factory=dict)
    by_kind_core_hours: dict[str, float | None] = field(default_factory=dict)
    host_details: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """``{"hosts": [...], "calculations": {kind: n}, "in_store": n, "estimated_core_hours": x}``."""
        return {"hosts": self.hosts, "calculations": dict(self.calculations), "in_store": self.in_store,
                "estimated_core_hours": self.estimated_core_hours}


def _host_row(host: Any) -> dict[str, Any]:
    return {"dopant": host.dopant, "percent": host.percent, "supercell": [host.supercell] * 3,
            "n_sites": 8 * host.supercell ** 3,
            "arrangement": {"id": host.arrangement, "multiplicity": host.arrangement_multiplicity,
                            "weight": host.arrangement_weight, "dopant_indices": list(host.dopant_indices)},
            "n_t_sites": len(host.sites), "n_hops": len(host.hops)}


def estimate_campaign(spec: CampaignSpec, *, db: str | None = None, use_store: bool = True) -> CampaignEstimate:
    """Plan ``spec`` and count, look up and price its calculations; writes nothing anywhere.

    Parameters
    ----------
    spec : CampaignSpec
    db : str, optional
        As ``--db``; default the configured database, or the embedded server only if it runs.
    use_store : bool
        False: no database at all (``in_store`` and the cost are None).
    """
    from sianode.workflows.plan import plan_campaign

    plan = plan_campaign(spec)
    calcs = planned_calculations(spec, plan)
    counts = dict.fromkeys(KINDS, 0)
    for c in calcs:
        counts[c.kind] += 1
    notes = []
    if plan.ensembles:
        notes.append(f"{len(plan.ensembles)} finite-temperature ensemble(s): their Li work is chosen after the hosts "
                     f"relax; counted here for the {spec.arrangement_strategy.count} largest-multiplicity classes")
    est = CampaignEstimate([_host_row(h) for h in plan.hosts], counts, None, None, notes=notes,
                           host_details=[{"name": h.name, "weight_source": h.weight_source,
                                          "carries_li": h.carries_li, "requested_percent": h.requested_percent,
                                          "sites": [s.label for s in h.sites], "hops": [p.label for p in h.hops]}
                                         for h in plan.hosts])
    if not use_store:
        est.store = "not asked (--no-store)"
        return est
    store, source = open_store_readonly(db)
    est.store = source
    if store is None:
        return est
    try:
        status = store_status(store, spec, calcs)
        est.in_store = status.in_store
        est.failed_in_store = sum(status.failed.values())
        left = [c for i, c in enumerate(calcs) if i not in status.done]
        cost = estimate_core_hours(store_timings(store, spec.calculator.name), left)
        est.estimated_core_hours = None if cost.core_hours is None else round(cost.core_hours, 4)
        est.cost_basis, est.by_kind_core_hours = cost.basis, cost.by_kind_core_hours
    finally:
        store.db.client.close()
    return est


__all__ = ["CampaignEstimate", "Calculation", "CostEstimate", "StoreStatus", "count_calculations",
           "estimate_campaign", "estimate_core_hours", "open_store_readonly", "planned_calculations",
           "store_status", "store_timings"]
