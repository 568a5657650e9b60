"""The FireWorks workflows of a campaign.

DAG (one Firework per calculation stage; one workflow per host, see :func:`build_workflows`)::

    reference (bcc Li)
    lattice (pure 8-atom cell, cell relaxed) ..> host_i -> insertion_ij
                                                      |        |
                                                      +-----> hop_ik

(``..>``: through the store, not a FireWorks link; each host's Fireworks are a workflow of
their own.) With ``fireworks: host`` (``auto`` from :data:`AUTO_HOST_FIREWORKS` hosts on) a
host, its insertions and its hops are ONE Firework (:class:`~sianode.workflows.tasks.HostWorkTask`)
that runs the same stages in that order: the same calculations and content keys, far fewer
FireWorks updates.

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
#: workflow metadata key: which part of the campaign a workflow holds (see :func:`build_workflows`)
META_PART = "sianode_part"


#: workflow layouts: one workflow per campaign, or one per host (the default: see :func:`build_workflows`)
LAYOUTS = ("per-host", "one")
#: ``fireworks: auto`` gives each host one Firework (``host``) from this many hosts on
AUTO_HOST_FIREWORKS = 64


def firework_granularity(spec: CampaignSpec, plan: CampaignPlan) -> str:
    """``calculation`` (one Firework per calculation) or ``host`` (one per host, its insertions
    and hops run in turn: :class:`~sianode.workflows.tasks.HostWorkTask`): the spec's
    ``fireworks``, or for ``auto`` ``host`` when the plan has at least
    :data:`AUTO_HOST_FIREWORKS` hosts (enough Fireworks to keep that many workers busy, and a
    FireWorks update per host instead of per calculation: ``benchmarks/scale.py``)."""
    chosen = getattr(spec, "fireworks", "auto")
    if chosen != "auto":
        return chosen
    return "host" if len(plan.hosts) >= AUTO_HOST_FIREWORKS else "calculation"


def build_workflow(spec: CampaignSpec, plan: CampaignPlan | None = None) -> Workflow:
    """The campaign as ONE FireWorks ``Workflow`` (layout ``one``; see :func:`build_workflows`).

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
    return build_workflows(spec, plan, layout="one")[0]


def build_workflows(spec: CampaignSpec, plan: CampaignPlan | None = None, *,
                    layout: str = "per-host") -> list[Workflow]:
    """The campaign's FireWorks workflows.

    ``per-host`` (what ``sianode run`` and ``sianode submit`` add): one workflow for the
    reference, one for the lattice, and one per host with its insertions and hops (a
    finite-T ensemble's hosts share one, with their ensemble Firework). FireWorks rewrites a
    Firework's whole workflow document under one lock at every state change, so in one
    workflow of N Fireworks each change costs O(N) and every worker queues on that lock
    (measured in ``benchmarks/scale.py``). A host does not wait for the lattice Firework
    here: its stage reads the lattice through the store by content key, computing it when
    no one has (the store's claim makes every other worker wait for that one result), so
    nothing is computed twice and the lattice Firework only starts it early.

    ``one``: the same Fireworks in one workflow, hosts children of the lattice (the layout
    of campaigns added before 2026-12, which resume as they are).

    Parameters
    ----------
    spec : CampaignSpec
    plan : CampaignPlan, optional
    layout : {"per-host", "one"}

    Returns
    -------
    list of fireworks.Workflow
        Every workflow carries the campaign's metadata (``sianode_campaign``,
        ``sianode_spec_hash``, the spec) and ``sianode_part`` (``reference``, ``lattice``
        or the host's name).
    """
    from fireworks import Firework, Workflow

    from sianode.workflows.tasks import HopTask, HostTask, HostWorkTask, InsertionTask, LatticeTask, ReferenceTask

    if layout not in LAYOUTS:
        from sianode.errors import InputError

        raise InputError(f"workflow layout = {layout!r} not allowed; allowed: {', '.join(LAYOUTS)}")
    one = layout == "one"
    plan = plan or plan_campaign(spec)
    per_host = firework_granularity(spec, plan) == "host"
    name = spec.name
    spec_hash = spec.spec_hash()
    calc = spec.calculator_spec().as_dict()
    relax = spec.relax.model_dump()
    neb = spec.neb.model_dump()

    def fw(task: Any, label: str, stage: str, parents: Any = None, priority: int = 0) -> Any:
        fw_spec = {SPEC_CAMPAIGN: name, SPEC_HASH: spec_hash, SPEC_STAGE: stage, "_priority": priority}
        return Firework([task], spec=fw_spec, name=f"{name}:{label}", parents=parents or None)

    reference = fw(ReferenceTask(calculator=calc, fmax=spec.reference.fmax, campaign=name), "reference",
                   "reference", priority=3)
    lattice = fw(LatticeTask(calculator=calc, relax=relax, campaign=name), "lattice", "lattice", priority=4)
    parts: list[tuple[str, list[Any]]] = [("reference", [reference]), ("lattice", [lattice])]
    host_fws = {}
    for host in plan.hosts:
        labels = host.labels(name)
        params = host.host_params()
        if per_host:  # the host and its Li work in one Firework
            host_fw = fw(HostWorkTask(calculator=calc, host=params, labels=labels,
                                      sites=[site.as_dict() for site in host.sites],
                                      hops=[hop.as_dict() for hop in host.hops], relax=relax, neb=neb),
                         f"host:{host.name}", "host_work", [lattice] if one else None, priority=2)
            host_fws[host.name] = host_fw
            parts.append((host.name, [host_fw]))
            continue
        host_fw = fw(HostTask(calculator=calc, host=params, labels=labels, relax=relax), f"host:{host.name}",
                     "host", [lattice] if one else None, priority=2)
        host_fws[host.name] = host_fw
        insertions = {
            site.label: fw(InsertionTask(calculator=calc, host=params, labels=labels, site=site.as_dict(),
                                         relax=relax),
                           f"insertion:{host.name}:{site.label}", "insertion", [host_fw], priority=1)
            for site in host.sites
        }
        hops = [
            fw(HopTask(calculator=calc, host=params, labels=labels, hop=hop.as_dict(), relax=relax, neb=neb),
               f"hop:{host.name}:{hop.label}", "hop",
               [host_fw, *[insertions[s] for s in dict.fromkeys((hop.start_site, hop.end_site)) if s in insertions]],
               priority=1)
            for hop in host.hops
        ]
        parts.append((host.name, [host_fw, *insertions.values(), *hops]))
    if getattr(plan, "ensembles", None):  # finite-T ensembles choose their Li work after the hosts relax
        from sianode.workflows.ensemble import ensemble_fireworks

        parts.extend(("ensemble", [f]) for f in ensemble_fireworks(spec, plan, host_fws, fw))
    metadata = {META_CAMPAIGN: name, META_HASH: spec_hash, "sianode_spec": spec.as_dict(),
                "fireworks": "host" if per_host else "calculation",
                "n_hosts": len(plan.hosts), "n_insertions": plan.n_insertions, "n_hops": plan.n_hops}
    if one:
        return [Workflow([f for _, fws in parts for f in fws], name=f"sianode:{name}",
                         metadata={**metadata, META_PART: "all"})]
    return [Workflow(fws, name=f"sianode:{name}:{part}", metadata={**metadata, META_PART: part})
            for part, fws in _connected(parts)]


def _connected(parts: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    """Merge the parts that Firework parents link (an ensemble Firework joins its hosts' parts);
    a merged part is named after its first member."""
    owner = {id(f): i for i, (_, fws) in enumerate(parts) for f in fws}
    root = list(range(len(parts)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i, (_, fws) in enumerate(parts):
        for f in fws:
            for parent in f.parents:
                a, b = find(i), find(owner[id(parent)])
                if a != b:
                    root[max(a, b)] = min(a, b)
    merged: dict[int, tuple[str, list[Any]]] = {}
    for i, (part, fws) in enumerate(parts):
        merged.setdefault(find(i), (part, []))[1].extend(fws)
    return list(merged.values())
