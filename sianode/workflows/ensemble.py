"""Arrangement ensembles in a campaign: which hosts are relaxed, which carry the Li work.

A campaign's ``arrangements`` strategy (:mod:`sianode.structures.strategies`) decides,
for each (dopant, %), the hosts:

* ``dispersed`` / ``compact`` / ``classes`` / ``sqs``: the chosen classes, each with Li
  insertions and hops; weight = the class's share of the ideal random alloy, g_c / C(N, k)
  (an SQS: 1, it stands for the random alloy).
* ``{ensemble: {max: N, temperature_K: inf}}``: the host of EVERY class is relaxed (exact
  enumeration, or its seeded sample when too large); the weights ``g_c / sum g`` are known
  before anything runs, so the N classes holding most weight get Li work in the plan.
* ``{ensemble: {max: N, temperature_K: T}}`` (T finite): the weights
  ``g_c exp(-(E_c - E_min)/kT)`` need the relaxed host energies, so the plan holds an
  :class:`~sianode.workflows.plan.EnsembleGroup`; its Firework (:class:`EnsembleTask`,
  parents: every host of the group) runs :func:`select_ensemble` and adds the chosen hosts'
  insertion and hop Fireworks as a detour (``FWAction(detours=...)``). The detour's Fireworks
  carry the ensemble Firework's own ``_sianode_*`` spec keys (campaign, spec hash), so the
  campaign's workers pick them up, and the key of their relaxed host (read once, not re-walked).

Every host document's labels carry ``arrangement`` (class id), ``arrangement_multiplicity``,
``arrangement_weight`` (None until known) and ``arrangement_weight_source``
(``"multiplicity"``, ``"boltzmann T=... K"``, ``"sqs"``); :func:`select_ensemble` writes the
Boltzmann weights onto the host documents (labels only; results are never touched).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from fireworks import FiretaskBase, FWAction, explicit_serialize

from sianode.store import COMPLETED
from sianode.workflows.plan import CampaignPlan, EnsembleGroup, HostPlan, _sites_and_hops

if TYPE_CHECKING:
    from fireworks import Firework, Workflow

    from sianode.store.protocols import CalculatorLike, StoreLike
    from sianode.workflows.spec import CampaignSpec

log = logging.getLogger(__name__)

#: labels written on host documents
WEIGHT_LABEL = "arrangement_weight"
SOURCE_LABEL = "arrangement_weight_source"


@dataclass
class EnsembleSelection:
    """What :func:`select_ensemble` decided.

    Attributes
    ----------
    chosen : list of int
        Class ids that carry Li work (most weight first).
    weights : dict
        Class id -> weight over the classes with a relaxed host (sum 1).
    covered_weight : float
        Sum of the chosen classes' weights.
    missing : list of str
        Hosts without a completed relaxation (left out of the weights), with the reason.
    host_keys : dict
        Class id -> key of its relaxed host document (passed down to the Li work's Fireworks).
    """

    chosen: list[int]
    weights: dict[int, float]
    covered_weight: float
    missing: list[str] = field(default_factory=list)
    host_keys: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"chosen": list(self.chosen), "weights": {str(k): v for k, v in self.weights.items()},
                "covered_weight": self.covered_weight, "missing": list(self.missing)}


def select_ensemble(store: StoreLike, calculator: CalculatorLike, *, hosts: list[HostPlan], strategy: Any,
                    campaign: str, relax: Mapping[str, Any]) -> EnsembleSelection:
    """Boltzmann-weight the relaxed hosts of one ensemble and choose the classes with Li work.

    Parameters
    ----------
    store : ResultStore
    calculator : CalculatorSpec
    hosts : list of HostPlan
        Every class host of the group (as planned).
    strategy
        The campaign's ensemble strategy.
    campaign : str
    relax : dict
        The campaign's relax settings (the hosts' content keys depend on them).

    Returns
    -------
    EnsembleSelection
        Weights ``g_c exp(-(E_c - E_min)/kT) / Z`` over the hosts that relaxed
        (:func:`~sianode.structures.ensemble_weights`); the host documents get the weight labels.
    """
    from sianode.structures import pure_supercell
    from sianode.structures.arrangements import ArrangementClass
    from sianode.structures.strategies import parse_strategy, select_arrangements
    from sianode.workflows import stages

    s = parse_strategy(strategy)
    energies: dict[int, float] = {}
    keys: dict[int, str] = {}
    missing: list[str] = []
    for host in hosts:
        # the hosts are this Firework's parents: their documents are found, nothing is recomputed
        out = stages.host_stage(store, calculator, host=host.host_params(), labels=host.labels(campaign), relax=relax)
        doc = store.get(out.key) if out.key else None
        energy = ((doc or {}).get("output") or {}).get("energy_eV")
        if doc is None or doc.get("status") != COMPLETED or energy is None or not math.isfinite(float(energy)):
            missing.append(f"{host.name}: {out.reason or (doc or {}).get('reason') or 'no energy'}")
            continue
        energies[host.arrangement] = float(energy)
        keys[host.arrangement] = str(doc["key"])
    if not energies:
        return EnsembleSelection([], {}, 0.0, missing, keys)
    classes = [ArrangementClass(h.arrangement, h.arrangement_multiplicity, tuple(h.dopant_indices)) for h in hosts]
    atoms = pure_supercell(hosts[0].supercell)
    weighted = select_arrangements(atoms, len(hosts[0].dopant_indices),
                                   {"ensemble": {"max": len(classes), "temperature_K": s.temperature_K}},
                                   energies_eV=energies, arrangements=_as_set(classes, atoms))
    weights = {c.id: float(c.weight or 0.0) for c in weighted}
    for cid, key in keys.items():
        _label_weight(store, key, weights.get(cid, 0.0), s.weight_source)
    chosen = [c.id for c in weighted if (c.weight or 0.0) > 0][: s.count]
    covered = float(sum(weights[c] for c in chosen))
    log.info("ensemble %s: classes %s carry %.3f of the weight (%s)", hosts[0].name, chosen, covered, s.weight_source)
    return EnsembleSelection(chosen, weights, covered, missing, keys)


def _as_set(classes: list[Any], atoms: Any) -> Any:
    from sianode.structures.arrangements import ArrangementSet

    return ArrangementSet(n_sites=len(atoms), n_dopants=len(classes[0].dopant_indices), exact=False, classes=classes)


def _label_weight(store: StoreLike, key: str, weight: float, source: str) -> None:
    doc = store.get(key)
    labels = dict((doc or {}).get("labels") or {})
    if labels.get(WEIGHT_LABEL) == weight and labels.get(SOURCE_LABEL) == source:
        return
    labels.pop("also", None)
    store.relabel(key, {**labels, WEIGHT_LABEL: weight, SOURCE_LABEL: source})


def ensemble_fireworks(spec: CampaignSpec, plan: CampaignPlan, host_fws: Mapping[str, Firework],
                       make_fw: Any) -> list[Firework]:
    """One :class:`EnsembleTask` Firework per finite-temperature group of ``plan.ensembles``.

    ``host_fws`` maps host names to their Fireworks (the parents); ``make_fw(task, label,
    stage, parents, priority)`` is :func:`~sianode.workflows.flows.build_workflow`'s helper.
    """
    out = []
    for group in getattr(plan, "ensembles", None) or ():
        parents = [host_fws[name] for name in group.hosts if name in host_fws]
        task = EnsembleTask(spec=spec.as_dict(), group=group.as_dict())
        label = f"ensemble:{group.dopant}-{group.count}in{8 * group.supercell ** 3}"
        out.append(make_fw(task, label, "ensemble", parents, 2))
    return out


def run_ensemble_selection(store: StoreLike, spec: CampaignSpec, group: EnsembleGroup) -> tuple[EnsembleSelection, CampaignPlan]:
    """Select the group's classes and plan their Li work: ``(selection, CampaignPlan of the chosen hosts)``."""
    hosts = ensemble_host_plans(spec, group)
    selection = select_ensemble(store, spec.calculator_spec(), hosts=hosts, strategy=spec.arrangement_strategy,
                                campaign=spec.name, relax=spec.relax.model_dump())
    chosen = []
    for host in hosts:
        if host.arrangement in selection.chosen:
            host.arrangement_weight = selection.weights[host.arrangement]
            host.carries_li = True
            _sites_and_hops(spec, host)
            chosen.append(host)
    return selection, CampaignPlan(spec.name, chosen)


def ensemble_host_plans(spec: CampaignSpec, group: EnsembleGroup) -> list[HostPlan]:
    """The group's host plans, rebuilt exactly as :func:`~sianode.workflows.plan.plan_campaign` made them."""
    from sianode.structures import pure_supercell
    from sianode.structures.strategies import strategy_hosts

    n_sites = 8 * group.supercell ** 3
    out = []
    for cls, _ in strategy_hosts(pure_supercell(group.supercell), group.count, group.strategy):
        host = HostPlan(group.dopant, group.supercell, [int(i) for i in cls.dopant_indices],
                        100.0 * group.count / n_sites, group.requested_percent, int(cls.id), int(cls.multiplicity),
                        arrangement_weight=cls.weight, weight_source=cls.weight_source, carries_li=False)
        if host.name in group.hosts:
            out.append(host)
    return out


def li_work_workflow(spec: CampaignSpec, plan: CampaignPlan, fw_spec: Mapping[str, Any],
                     host_keys: Mapping[int, str] | None = None) -> Workflow:
    """The insertion and hop Fireworks of ``plan``'s hosts, as :func:`~sianode.workflows.flows.build_workflow`
    lays them out (a hop after the insertions of its end T classes), with the ``_sianode_*``
    spec keys of ``fw_spec`` (the ensemble Firework's own) and, as their parents' keys, the
    key of their host (``host_keys``: class id -> key; the ensemble Firework's own passed keys
    are not copied: it has several host parents)."""
    from fireworks import Firework, Workflow

    from sianode.workflows.tasks import SPEC_KEYS, HopTask, InsertionTask

    calc = spec.calculator_spec().as_dict()
    relax, neb = spec.relax.model_dump(), spec.neb.model_dump()
    keys = {k: v for k, v in fw_spec.items() if str(k).startswith("_sianode") and k != SPEC_KEYS}
    host_keys = dict(host_keys or {})

    def fw(task: Any, stage: str, label: str, parents: Any = None, host_key: str | None = None) -> Any:
        passed = {SPEC_KEYS: {"host": host_key}} if host_key else {}
        return Firework([task], spec={**keys, **passed, "_sianode_stage": stage, "_priority": 1},
                        name=f"{spec.name}:{stage}:{label}", parents=parents or None)

    fws: list[Any] = []
    for host in plan.hosts:
        labels, params = host.labels(spec.name), host.host_params()
        key = host_keys.get(host.arrangement)
        ins = {site.label: fw(InsertionTask(calculator=calc, host=params, labels=labels, site=site.as_dict(),
                                            relax=relax), "insertion", f"{host.name}:{site.label}", host_key=key)
               for site in host.sites}
        hops = [fw(HopTask(calculator=calc, host=params, labels=labels, hop=hop.as_dict(), relax=relax, neb=neb),
                   "hop", f"{host.name}:{hop.label}",
                   [ins[s] for s in dict.fromkeys((hop.start_site, hop.end_site)) if s in ins], host_key=key)
                for hop in host.hops]
        fws += [*ins.values(), *hops]
    return Workflow(fws, name=f"sianode:{spec.name}:ensemble")


@explicit_serialize
class EnsembleTask(FiretaskBase):
    """Weight a finite-temperature ensemble's relaxed hosts, then add the chosen hosts' Li work.

    ``spec``: the campaign (``CampaignSpec.as_dict()``); ``group``: :meth:`EnsembleGroup.as_dict`.
    The insertion and hop Fireworks of the chosen classes come back as a detour.
    """

    required_params = ["spec", "group"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        from sianode.workflows.spec import campaign_from_dict
        from sianode.workflows.tasks import task_store

        spec = campaign_from_dict(dict(self["spec"]))
        selection, plan = run_ensemble_selection(task_store(fw_spec), spec, EnsembleGroup.from_dict(self["group"]))
        stored = {"status": "completed" if selection.chosen else "skipped", **selection.as_dict()}
        fws = li_work_workflow(spec, plan, fw_spec, selection.host_keys) if plan.hosts else None
        if fws is None or not fws.fws:
            log.warning("ensemble %s: no Li work added (%s)", self["group"]["hosts"][:1],
                        "; ".join(selection.missing) or "no T site or hop selected")
            return FWAction(stored_data=stored)
        return FWAction(stored_data=stored, detours=[fws])


__all__ = ["EnsembleGroup", "EnsembleSelection", "EnsembleTask", "ensemble_fireworks", "ensemble_host_plans",
           "li_work_workflow", "run_ensemble_selection", "select_ensemble"]
