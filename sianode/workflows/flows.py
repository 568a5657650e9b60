"""The FireWorks workflow of a campaign.

DAG (one Firework per calculation stage)::

    reference (bcc Li)
    lattice (pure 8-atom cell, cell relaxed) -> host_i -> insertion_ij
                                                      |        |
                                                      +-----> hop_ik

* ``reference``: mu_Li of the calculator (role ``li_metal``).
* ``lattice``: the calculator's own Si lattice constant; every host is built at it and
  relaxed with its cell (``relax.host_cell``, the default) or at fixed cell (see
  :mod:`sianode.workflows.stages`).
* ``host``: one per (dopant, %, arrangement), plus the pure hosts.
* ``insertion``: one per selected T-site class of the host, in the relaxed host's cell (fixed).
* ``hop``: one per selected unordered hop path (one per H-site class; campaign default:
  all of them): CI-NEB (role ``hop``) between the insertions of its two end T classes,
  mapped onto the path's end sites by a symmetry operation (no end point is relaxed
  again; see :func:`~sianode.workflows.stages.hop_stage`). A hop Firework is a child of
  its host and of the insertion Fireworks of its end classes, so a worker does not wait
  on an insertion another worker is running; an end class outside ``sites: {nearest: k}``
  is computed by the hop itself (and labelled ``insertion``).

No analysis Firework: the workflow computes, analysis reads (layers: workflows below
analysis). Derived values are computed on read by :mod:`sianode.analysis`; the command
that ran the campaign may store them (:func:`sianode.analysis.store_derived`). Fireworks
queued by an earlier release still end with an ``AnalysisTask``, which now does nothing.

Parents pass their result keys to their children (``fw_spec["_sianode_keys"]``, see
:mod:`sianode.workflows.tasks`), so a child reads its inputs once; a Firework without
them (queued earlier, or re-run by hand after its parents' keys were lost) finds its
parents' results through the store by content key. Every Firework's spec carries
``_sianode_campaign`` and ``_sianode_spec_hash``; the workflow's metadata carries
``sianode_campaign``, ``sianode_spec_hash`` and the spec.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sianode.workflows.plan import CampaignPlan, plan_campaign

if TYPE_CHECKING:
    from fireworks import Workflow

    from sianode.workflows.spec import CampaignSpec

log = logging.getLogger(__name__)

#: workflow metadata / Firework spec keys identifying a campaign
META_CAMPAIGN = "sianode_campaign"
META_HASH = "sianode_spec_hash"
SPEC_CAMPAIGN = "_sianode_campaign"
SPEC_HASH = "_sianode_spec_hash"
SPEC_STAGE = "_sianode_stage"


def build_workflow(spec: CampaignSpec, plan: CampaignPlan | None = None) -> Workflow:
    """The FireWorks ``Workflow`` of a campaign.

    Parameters
    ----------
    spec : CampaignSpec
        A validated campaign.
    plan : CampaignPlan, optional
        Its plan (default :func:`~sianode.workflows.plan.plan_campaign`).

    Returns
    -------
    fireworks.Workflow
    """
    from fireworks import Firework, Workflow

    from sianode.workflows.tasks import HopTask, HostTask, InsertionTask, LatticeTask, ReferenceTask

    plan = plan or plan_campaign(spec)
    name = spec.name
    spec_hash = spec.spec_hash()
    calc = spec.calculator_spec().as_dict()
    relax = spec.relax.model_dump()
    neb = spec.neb.model_dump()

    def fw(task: Any, label: str, stage: str, parents: Any = None, priority: int = 0) -> Any:
        fw_spec = {SPEC_CAMPAIGN: name, SPEC_HASH: spec_hash, SPEC_STAGE: stage, "_priority": priority}
        return Firework([task], spec=fw_spec, name=f"{name}:{label}", parents=parents)

    reference = fw(ReferenceTask(calculator=calc, fmax=spec.reference.fmax, campaign=name), "reference",
                   "reference", priority=3)
    lattice = fw(LatticeTask(calculator=calc, relax=relax, campaign=name), "lattice", "lattice", priority=4)
    leaves = [reference]
    hosts = []
    for host in plan.hosts:
        labels = host.labels(name)
        params = host.host_params()
        host_fw = fw(HostTask(calculator=calc, host=params, labels=labels, relax=relax), f"host:{host.name}",
                     "host", [lattice], priority=2)
        hosts.append(host_fw)
        insertions = {
            site.label: fw(InsertionTask(calculator=calc, host=params, labels=labels, site=site.as_dict(),
                                         relax=relax),
                           f"insertion:{host.name}:{site.label}", "insertion", [host_fw], priority=1)
            for site in host.sites
        }
        children = list(insertions.values()) + [
            fw(HopTask(calculator=calc, host=params, labels=labels, hop=hop.as_dict(), relax=relax, neb=neb),
               f"hop:{host.name}:{hop.label}", "hop",
               [host_fw, *[insertions[s] for s in dict.fromkeys((hop.start_site, hop.end_site)) if s in insertions]],
               priority=1)
            for hop in host.hops
        ]
        leaves.extend(children or [host_fw])
    if getattr(plan, "ensembles", None):  # finite-T ensembles choose their Li work after the hosts relax
        from sianode.workflows.ensemble import ensemble_fireworks

        leaves.extend(ensemble_fireworks(spec, plan, {h.name: f for h, f in zip(plan.hosts, hosts)}, fw))
    if not plan.hosts:
        leaves.append(lattice)
    fireworks = [reference, lattice, *hosts, *[f for f in leaves if f is not reference and f not in hosts]]
    # de-duplicate while keeping order (a host without children is its own leaf)
    seen: set[int] = set()
    unique = [f for f in fireworks if not (id(f) in seen or seen.add(id(f)))]
    metadata = {META_CAMPAIGN: name, META_HASH: spec_hash, "sianode_spec": spec.as_dict(),
                "n_hosts": len(plan.hosts), "n_insertions": plan.n_insertions, "n_hops": plan.n_hops}
    return Workflow(unique, name=f"sianode:{name}", metadata=metadata)
