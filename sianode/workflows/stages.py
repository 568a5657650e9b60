"""The stages of a campaign as plain functions over the store (no FireWorks).

One way down: a stage reads its inputs once and runs its one step. The keys of its parents'
results come down the workflow (:class:`ParentKeys`: the FireTasks of
:mod:`sianode.workflows.tasks` pass them to their children through FireWorks' ``mod_spec``),
so an insertion reads the relaxed host document by its key and relaxes host + Li; nothing
re-walks lattice -> host. Without the keys (a Firework queued before they were passed, a stage
called from Python, a Firework re-run by hand whose parents' keys are gone) the stage asks
for its parents again through :mod:`sianode.workflows.steps` with the same content keys, and
the store returns their finished documents at once (nothing is recomputed). A stage whose
parent calculation failed records nothing new and returns ``skipped`` with a reason naming
that parent.

The parameters of every calculation are one object of :mod:`sianode.workflows.params`,
built from the campaign's ``relax`` / ``neb`` / ``reference`` settings
(:func:`relax_params`, :func:`neb_params`): hashed into the content key and unpacked into
the call. The workflow never calls analysis: derived values are computed by
:mod:`sianode.analysis` when read (and stored, if wanted, by the command that ran the
campaign: :func:`sianode.analysis.store_derived`).

Host cells start from the calculator's own lattice constant: the pure conventional 8-atom
Si cell is relaxed with its cell (``cell=True``, FrechetCellFilter) once per calculator and
relax settings (role ``lattice``); every host of the campaign is then built at that ``a``
(PHYSICS.md section 1: never mix a lattice of one calculator with energies of another) and
relaxed

* with ``relax["host_cell"]`` true (the campaign default): positions and cell together
  (``cell=True``: all six cell degrees of freedom, the cell is not held cubic), so a doped
  host at a finite concentration gets its own volume; a pure host keeps the lattice
  stage's cell within the force criterion;
* with it false, or absent from ``relax`` (Fireworks written before the key existed):
  positions only, at the pure ``a`` (content keys as before).

Li insertions and NEBs always use the relaxed host's cell, fixed: one Li in the 64-site
cell is the dilute-Li limit of the host at that dopant concentration. The host's ``cell``
flag is part of its relaxation's content key (:class:`~sianode.workflows.params.RelaxParams`),
so the two kinds of host never share a document.

One NEB per unordered hop path (PHYSICS.md section 6): its end points are not relaxed
again. The hop stage asks for the insertion of each end's T class with the insertion
stage's content key (the store returns it when the insertion stage or another hop already
computed it) and maps the relaxed structure onto the hop's end site with a symmetry
operation of the doped cell. A one-dopant host in 64 sites with every hop path thus needs
10 NEBs and no relaxation beyond its 9 T-class insertions.

Every stage returns a :class:`StageOutcome`.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from sianode.errors import InputError
from sianode.store import COMPLETED, schema
from sianode.workflows import steps
from sianode.workflows.params import NEBParams, ReferenceParams, RelaxParams

if TYPE_CHECKING:
    from ase import Atoms

    from sianode.store.protocols import CalculatorLike, StoreLike

log = logging.getLogger(__name__)

#: labels.role of the pure 8-atom cell relaxed with its cell (the calculator's lattice constant)
ROLE_LATTICE = schema.ROLE_LATTICE
COMPLETED_, FAILED_, SKIPPED = "completed", "failed", "skipped"


@dataclass
class StageOutcome:
    """What a stage did.

    Attributes
    ----------
    status : str
        ``completed``, ``failed`` (its own calculation failed) or ``skipped`` (a parent failed).
    key : str or None
        Content key of the stage's main document (None when skipped).
    reason : str or None
        Why it failed or was skipped.
    keys : dict
        Content keys of every document the stage produced or used, by role.
    stats : StepStats
        Calculations run here vs reused.
    lattice_constant_A : float or None
        The lattice stage's ``a`` (Angstrom; None for other stages).
    """

    status: str
    key: str | None = None
    reason: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    stats: steps.StepStats = field(default_factory=steps.StepStats)
    lattice_constant_A: float | None = None
    #: (what, status, reason) of each failed or skipped part of a stage that runs several
    #: (:func:`host_work_stage`)
    problems: list[tuple[str, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {"status": self.status, "key": self.key, "reason": self.reason, "keys": dict(self.keys),
               "computed": self.stats.computed, "reused": self.stats.reused,
               "calc_wall_s": self.stats.wall_s}
        if self.problems:
            out["problems"] = [list(p) for p in self.problems]
        return out


@dataclass(frozen=True)
class ParentKeys:
    """Keys of a stage's parents' results, passed down the workflow (FireWorks' ``mod_spec``).

    Attributes
    ----------
    lattice : str or None
        The lattice relaxation (a host's parent).
    host : str or None
        The relaxed host (an insertion's or hop's parent).
    insertions : dict
        T class label -> key of its insertion (a hop's parents).
    """

    lattice: str | None = None
    host: str | None = None
    insertions: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "ParentKeys":
        """From ``fw_spec[SPEC_KEYS]`` (absent or partial: the missing keys are None)."""
        data = data or {}
        return cls(lattice=data.get("lattice"), host=data.get("host"),
                   insertions={str(k): str(v) for k, v in (data.get("insertions") or {}).items()})


def _outcome(doc: Mapping[str, Any], stats: steps.StepStats, **keys: str) -> StageOutcome:
    ok = doc.get("status") == COMPLETED
    return StageOutcome(COMPLETED_ if ok else FAILED_, doc["key"], None if ok else doc.get("reason"),
                        {**keys, "main": doc["key"]}, stats)


def _skip(what: str, doc: Mapping[str, Any], stats: steps.StepStats) -> StageOutcome:
    reason = f"skipped: {what} {str(doc.get('key'))[:12]} failed: {doc.get('reason')}"
    return StageOutcome(SKIPPED, None, reason, {what: str(doc.get("key"))}, stats)


def calculator_from(data: Mapping[str, Any], device: str | None = None) -> CalculatorLike:
    """A :class:`~sianode.calculators.CalculatorSpec` from its ``as_dict()`` form.

    ``device`` (the worker's, e.g. ``cuda`` on a GPU node) replaces the calculator's
    ``device: auto`` when the calculator takes one; a device the campaign set explicitly is
    kept. The device is not part of a content key, so the same calculations are found.
    """
    from sianode.calculators import CalculatorSpec

    spec = CalculatorSpec.from_dict(dict(data))
    if device and "device" in spec.backend.runtime_parameters and spec.parameters.get("device", "auto") == "auto":
        spec = CalculatorSpec(spec.name, {**spec.parameters, "device": device}, threads=spec.threads)
    return spec


def relax_params(relax: Mapping[str, Any], *, cell: bool) -> RelaxParams:
    """The :class:`~sianode.workflows.params.RelaxParams` of a campaign's ``relax`` settings
    (``fmax``, ``steps``; the optimizer is the call's default)."""
    return RelaxParams(fmax=relax["fmax"], steps=relax["steps"], cell=cell)


def neb_params(neb: Mapping[str, Any]) -> NEBParams:
    """The :class:`~sianode.workflows.params.NEBParams` of a campaign's ``neb`` settings
    (``n_images``, ``fmax``, ``steps``, ``climb``; every other parameter the call's default)."""
    return NEBParams(n_images=neb["n_images"], fmax=neb["fmax"], steps=neb["steps"], climb=neb.get("climb", True))


# ------------------------------------------------------------------ stages
def reference_stage(store: StoreLike, calculator: CalculatorLike, *, fmax: float, campaign: str) -> StageOutcome:
    """bcc-Li reference of the calculator (role ``li_metal``)."""
    stats = steps.StepStats()
    doc = steps.reference_step(store, calculator, params=ReferenceParams(fmax=fmax), labels={"campaign": campaign},
                               stats=stats)
    return _outcome(doc, stats)


def lattice_stage(store: StoreLike, calculator: CalculatorLike, *, relax: Mapping[str, Any], campaign: str,
                  stats: steps.StepStats | None = None) -> tuple[StageOutcome, float | None]:
    """Relax the pure 8-atom Si cell with its cell; returns the outcome and ``a`` (Angstrom)."""
    from sianode.structures import pure_supercell

    stats = stats if stats is not None else steps.StepStats()
    doc = steps.relax_step(store, pure_supercell(1), calculator, params=relax_params(relax, cell=True),
                           labels={"campaign": campaign, "role": ROLE_LATTICE, "dopant": schema.PURE,
                                   "percent": 0.0, "supercell": [1, 1, 1]},
                           stats=stats)
    outcome = _outcome(doc, stats, lattice=doc["key"])
    if outcome.status != COMPLETED_:
        return outcome, None
    outcome.lattice_constant_A = _lattice_constant(store, doc)
    return outcome, outcome.lattice_constant_A


def _lattice_constant(store: StoreLike, doc: Mapping[str, Any]) -> float:
    """``a`` of a completed lattice document: the mean length of its relaxed cell, Angstrom."""
    return float(steps.relaxed_atoms(store, doc).cell.lengths().mean())


def host_cell(relax: Mapping[str, Any]) -> bool:
    """Whether hosts are relaxed with their cell: ``relax["host_cell"]``, False when absent."""
    return bool(relax.get("host_cell", False))


def _lattice(store: StoreLike, calculator: CalculatorLike, relax: Mapping[str, Any], campaign: str,
             stats: steps.StepStats, key: str | None) -> tuple[StageOutcome, float | None]:
    """The lattice outcome and ``a``: read by its passed ``key``, else asked for again (store lookup)."""
    doc = store.get(key) if key else None
    if doc is None:
        return lattice_stage(store, calculator, relax=relax, campaign=campaign, stats=stats)
    outcome = _outcome(doc, stats, lattice=doc["key"])
    if outcome.status != COMPLETED_:
        return outcome, None
    outcome.lattice_constant_A = _lattice_constant(store, doc)
    return outcome, outcome.lattice_constant_A


def host_stage(store: StoreLike, calculator: CalculatorLike, *, host: Mapping[str, Any], labels: Mapping[str, Any],
               relax: Mapping[str, Any], stats: steps.StepStats | None = None,
               parents: ParentKeys | None = None) -> StageOutcome:
    """Relax one host built at the calculator's lattice constant.

    Positions and cell (FrechetCellFilter) when :func:`host_cell` of ``relax`` is true,
    positions only (fixed cell) otherwise; ``labels.host_cell`` records which. The lattice
    document is read by ``parents.lattice`` when given.
    """
    from sianode.workflows.plan import build_host

    stats = stats if stats is not None else steps.StepStats()
    lattice, a = _lattice(store, calculator, relax, labels["campaign"], stats, (parents or ParentKeys()).lattice)
    if a is None:
        return _skip("lattice", store.get(lattice.key) or {"key": lattice.key, "reason": lattice.reason}, stats)
    cell = host_cell(relax)
    doc = steps.relax_step(store, build_host(host, a), calculator, params=relax_params(relax, cell=cell),
                           labels={**labels, "lattice_key": lattice.key, "lattice_constant_A": a,
                                   **({"host_cell": True} if cell else {})},
                           stats=stats)
    return _outcome(doc, stats, lattice=lattice.key, host=doc["key"])


def _relaxed_host(store: StoreLike, calculator: CalculatorLike, host: Mapping[str, Any], labels: Mapping[str, Any],
                  relax: Mapping[str, Any], stats: steps.StepStats,
                  parents: ParentKeys | None) -> tuple[StageOutcome | None, Atoms | None, str]:
    """``(skipped outcome or None, relaxed host atoms, host key)``: the host read once by its
    passed key, else asked for again through :func:`host_stage` (store lookups, nothing recomputed)."""
    doc = store.get(parents.host) if parents is not None and parents.host else None
    if doc is None:
        parent = host_stage(store, calculator, host=host, labels=labels, relax=relax, stats=stats, parents=parents)
        if parent.status == SKIPPED:
            return parent, None, ""
        doc = store.get(parent.key)  # type: ignore[arg-type]
    if doc is None or doc.get("status") != COMPLETED:
        return _skip("host", doc or {"key": None, "reason": "not in the store"}, stats), None, ""
    return None, steps.relaxed_atoms(store, doc), str(doc["key"])


def _insertion_labels(labels: Mapping[str, Any], site: Mapping[str, Any], host_key: str) -> dict[str, Any]:
    return {**labels, "role": schema.ROLE_INSERTION, "site": site["label"], "site_kind": site.get("kind", "T"),
            "site_multiplicity": site["multiplicity"], "distance_to_dopant_A": site["distance_to_dopant_A"],
            "host_key": host_key}


def _insertion(store: StoreLike, calculator: CalculatorLike, relaxed: Atoms, host_key: str,
               labels: Mapping[str, Any], site: Mapping[str, Any], relax: Mapping[str, Any],
               stats: steps.StepStats) -> dict[str, Any]:
    """The insertion document of ``site`` in the relaxed host (computed once per content key)."""
    from sianode.structures import insert_li

    return steps.relax_step(store, insert_li(relaxed, site["frac"]), calculator, params=relax_params(relax, cell=False),
                            labels=_insertion_labels(labels, site, host_key), stats=stats)


def insertion_stage(store: StoreLike, calculator: CalculatorLike, *, host: Mapping[str, Any],
                    labels: Mapping[str, Any], site: Mapping[str, Any], relax: Mapping[str, Any],
                    parents: ParentKeys | None = None) -> StageOutcome:
    """Relax host + Li at one site class (role ``insertion``), in the relaxed host's cell, fixed.

    ``site`` is :meth:`~sianode.workflows.plan.SitePlan.as_dict` (a T class); an optional
    ``site["kind"]`` (``"T"`` or ``"H"``) labels another kind of site. With ``parents.host``
    the relaxed host is read by that key (one read, one step).
    """
    stats = steps.StepStats()
    skipped, relaxed, host_key = _relaxed_host(store, calculator, host, labels, relax, stats, parents)
    if skipped is not None:
        return skipped
    doc = _insertion(store, calculator, relaxed, host_key, labels, site, relax, stats)  # type: ignore[arg-type]
    return _outcome(doc, stats, host=host_key)


def _ideal_t_sites(host: Mapping[str, Any]) -> tuple[Atoms, dict[str, dict]]:
    """The ideal host (a = 5.431 A, as the plan builds it) and its T classes as SitePlan dicts by label."""
    return _ideal_t_sites_cached(json.dumps(dict(host), sort_keys=True))


@functools.lru_cache(maxsize=32)
def _ideal_t_sites_cached(host_json: str) -> tuple[Atoms, dict[str, dict]]:
    from sianode.structures import li_sites
    from sianode.structures.supercell import A_SI
    from sianode.workflows.plan import build_host

    host = json.loads(host_json)
    ideal = build_host(host, A_SI)
    sites = {c.label: {"label": c.label, "frac": [float(x) for x in c.frac], "multiplicity": int(c.multiplicity),
                       "distance_to_dopant_A": None if c.distance_to_dopant is None else float(c.distance_to_dopant)}
             for c in li_sites(ideal, [int(i) for i in host["dopant_indices"]]).T}
    return ideal, sites


def _end_point(store: StoreLike, doc: Mapping[str, Any], ideal: Atoms, dopants: list[int], site: Mapping[str, Any],
               target: Any, relaxed_host: Atoms) -> Atoms:
    """The relaxed insertion ``doc`` (Li at ``site``'s representative) moved onto ``target``.

    A symmetry operation of the doped cell maps the representative onto ``target``; applied
    to the relaxed structure it gives the relaxed structure with Li at ``target`` (same
    energy, nothing relaxed again), its host atoms in the relaxed host's order. When the
    representative is ``target`` (up to a lattice vector) the insertion is used as it is.
    """
    import numpy as np

    from sianode.structures import symmetry_operation, transform_structure

    atoms = steps.relaxed_atoms(store, doc)
    R, t = symmetry_operation(ideal, dopants, site["frac"], target)
    if np.array_equal(R, np.eye(3, dtype=int)) and np.allclose(t, np.round(t), atol=1e-6):
        return atoms
    return transform_structure(atoms, R, t, reference=relaxed_host)


def _end_insertion(store: StoreLike, calculator: CalculatorLike, relaxed: Atoms, host_key: str,
                   labels: Mapping[str, Any], site: Mapping[str, Any], relax: Mapping[str, Any],
                   stats: steps.StepStats, key: str | None) -> dict[str, Any]:
    """The insertion of a hop's end class: read by its passed ``key`` (the insertion Firework is a
    parent), else asked for with the insertion stage's content key (computed here when no one has)."""
    doc = store.get(key) if key else None
    if doc is not None and (doc.get("labels") or {}).get("host_key") in (host_key, None):
        return doc
    return _insertion(store, calculator, relaxed, host_key, labels, site, relax, stats)


def hop_stage(store: StoreLike, calculator: CalculatorLike, *, host: Mapping[str, Any], labels: Mapping[str, Any],
              hop: Mapping[str, Any], relax: Mapping[str, Any], neb: Mapping[str, Any],
              parents: ParentKeys | None = None) -> StageOutcome:
    """CI-NEB of one unordered hop path (role ``hop``) between two relaxed insertions.

    ``hop`` is :meth:`~sianode.workflows.plan.HopPlan.as_dict`. Each end point is the
    insertion of its T class (``hop["start_site"]``, ``hop["end_site"]``) in the same
    relaxed host: read by ``parents.insertions[label]`` when the insertion Firework passed
    its key, else asked for with the content key of :func:`insertion_stage` (so it is
    computed once, whoever asks first, and labelled ``insertion``), then mapped onto the
    hop's site by a symmetry operation of the doped cell (:func:`_end_point`): no
    relaxation of an equivalent structure. The NEB's content key holds both end
    structures; its labels name the path (``hop``, ``h_site``, ``hop_multiplicity``,
    ``start_site``, ``end_site``, ``start_key``/``end_key``: the insertion documents,
    ``unordered: true``). A failed host or insertion skips the NEB with a reason. When the
    relaxed host has lost a symmetry of the ideal doped cell (the operation no longer maps it
    onto itself within 0.3 A, e.g. a dopant relaxed off its site), Li at that end is relaxed
    where the hop puts it (role ``hop_end``, label ``symmetry_broken``) and its key is the
    end's key.

    A ``hop`` without ``start_site`` (a Firework written before hop paths existed) relaxes
    both end points itself, as then (role ``hop_end``).
    """
    from sianode.structures import insert_li

    if "start_site" not in hop:
        return _ordered_hop_stage(store, calculator, host=host, labels=labels, hop=hop, relax=relax, neb=neb,
                                  parents=parents)
    stats = steps.StepStats()
    skipped, relaxed, host_key = _relaxed_host(store, calculator, host, labels, relax, stats, parents)
    if skipped is not None:
        return skipped
    passed = (parents or ParentKeys()).insertions
    dopants = [int(i) for i in host["dopant_indices"]]
    ideal, t_sites = _ideal_t_sites(host)
    docs: dict[str, Any] = {}
    ends: dict[str, Any] = {}
    for end in ("start", "end"):
        site = t_sites[hop[f"{end}_site"]]
        doc = _end_insertion(store, calculator, relaxed, host_key, labels, site, relax,  # type: ignore[arg-type]
                             stats, passed.get(site["label"]))
        if doc.get("status") != COMPLETED:
            return _skip(f"{end} insertion {site['label']}", doc, stats)
        try:
            ends[end] = _end_point(store, doc, ideal, dopants, site, hop[end], relaxed)  # type: ignore[arg-type]
        except InputError as exc:  # the relaxed host lost a symmetry of the ideal doped cell
            log.warning("hop %s: %s; relaxing Li at its %s site instead of mapping the %s insertion",
                        hop["label"], exc, end, site["label"])
            doc = steps.relax_step(store, insert_li(relaxed, hop[end]), calculator,  # type: ignore[arg-type]
                                   params=relax_params(relax, cell=False),
                                   labels={**labels, "host_key": host_key, "hop": hop["label"],
                                           "role": schema.ROLE_HOP_END, "end": end, "site": site["label"],
                                           "symmetry_broken": True}, stats=stats)
            if doc.get("status") != COMPLETED:
                return _skip(f"hop {end}", doc, stats)
            ends[end] = steps.relaxed_atoms(store, doc)
        docs[end] = doc
    neb_labels = {**labels, "role": schema.ROLE_HOP, "hop": hop["label"], "h_site": hop["h_label"],
                  "hop_multiplicity": hop["multiplicity"], "start_site": hop["start_site"],
                  "end_site": hop["end_site"], "distance_to_dopant_A": hop["distance_to_dopant_A"],
                  "selection": hop["selection"], "host_key": host_key, "start_key": docs["start"]["key"],
                  "end_key": docs["end"]["key"], "unordered": True}
    doc = steps.neb_step(store, ends["start"], ends["end"], calculator, params=neb_params(neb), labels=neb_labels,
                         stats=stats)
    return _outcome(doc, stats, host=host_key, start=docs["start"]["key"], end=docs["end"]["key"])


def _ordered_hop_stage(store: StoreLike, calculator: CalculatorLike, *, host: Mapping[str, Any],
                       labels: Mapping[str, Any], hop: Mapping[str, Any], relax: Mapping[str, Any],
                       neb: Mapping[str, Any], parents: ParentKeys | None = None) -> StageOutcome:
    """An ordered hop of a Firework written before hop paths: relax both ends (``hop_end``), then CI-NEB."""
    from sianode.structures import insert_li

    stats = steps.StepStats()
    skipped, relaxed, host_key = _relaxed_host(store, calculator, host, labels, relax, stats, parents)
    if skipped is not None:
        return skipped
    hop_labels = {**labels, "hop": hop["label"], "host_key": host_key}
    ends: dict[str, Any] = {}
    for end in ("start", "end"):
        doc = steps.relax_step(store, insert_li(relaxed, hop[end]), calculator,  # type: ignore[arg-type]
                               params=relax_params(relax, cell=False),
                               labels={**hop_labels, "role": schema.ROLE_HOP_END, "end": end}, stats=stats)
        if doc.get("status") != COMPLETED:
            return _skip(f"hop {end}", doc, stats)
        ends[end] = doc
    neb_labels = {**hop_labels, "role": schema.ROLE_HOP, "hop_multiplicity": hop["multiplicity"],
                  "distance_to_dopant_A": hop["distance_to_dopant_A"], "selection": hop["selection"],
                  "start_key": ends["start"]["key"], "end_key": ends["end"]["key"], "unordered": False}
    doc = steps.neb_step(store, steps.relaxed_atoms(store, ends["start"]), steps.relaxed_atoms(store, ends["end"]),
                         calculator, params=neb_params(neb), labels=neb_labels, stats=stats)
    return _outcome(doc, stats, host=host_key, start=ends["start"]["key"], end=ends["end"]["key"])


def host_work_stage(store: StoreLike, calculator: CalculatorLike, *, host: Mapping[str, Any],
                    labels: Mapping[str, Any], sites: list[Mapping[str, Any]], hops: list[Mapping[str, Any]],
                    relax: Mapping[str, Any], neb: Mapping[str, Any],
                    parents: ParentKeys | None = None) -> StageOutcome:
    """A host and all its Li work in one call: the Firework of a ``fireworks: host`` campaign.

    Runs :func:`host_stage`, then :func:`insertion_stage` for each of ``sites`` and
    :func:`hop_stage` for each of ``hops``, in that order, passing each its parents' keys as
    the workflow would: the same calculations with the same content keys as one Firework per
    calculation, each through the store, so a Firework rerun after a crash finds every
    calculation that finished. A failed or skipped insertion or hop is listed in
    ``problems`` (with its reason) and the rest goes on; the outcome is ``completed`` only
    when every part is.
    """
    stats = steps.StepStats()

    def add(out: StageOutcome, what: str) -> StageOutcome:
        for name in ("computed", "reused", "failed", "wall_s"):
            setattr(stats, name, getattr(stats, name) + getattr(out.stats, name))
        stats.keys.extend(out.stats.keys)
        if out.status != COMPLETED_:
            problems.append((what, out.status, str(out.reason)))
        return out

    problems: list[tuple[str, str, str]] = []
    parent = add(host_stage(store, calculator, host=host, labels=labels, relax=relax, parents=parents), "host")
    if parent.status != COMPLETED_:
        return StageOutcome(parent.status, parent.key, parent.reason, dict(parent.keys), stats, problems=problems)
    keys = {"lattice": parent.keys.get("lattice"), "host": parent.key}
    passed = ParentKeys(lattice=keys["lattice"], host=parent.key)
    insertions: dict[str, str] = {}
    for site in sites:
        out = add(insertion_stage(store, calculator, host=host, labels=labels, site=site, relax=relax,
                                  parents=passed), f"insertion:{site['label']}")
        if out.key is not None:
            insertions[str(site["label"])] = out.key
            keys[f"insertion:{site['label']}"] = out.key
    with_insertions = ParentKeys(lattice=passed.lattice, host=parent.key, insertions=insertions)
    for hop in hops:
        out = add(hop_stage(store, calculator, host=host, labels=labels, hop=hop, relax=relax, neb=neb,
                            parents=with_insertions), f"hop:{hop['label']}")
        if out.key is not None:
            keys[f"hop:{hop['label']}"] = out.key
    n = 1 + len(sites) + len(hops)
    if problems:
        return StageOutcome(FAILED_, parent.key, f"{len(problems)} of {n} parts failed or were skipped: "
                            + "; ".join(f"{w}: {r}" for w, _, r in problems)[:2000], keys, stats, problems=problems)
    return StageOutcome(COMPLETED_, parent.key, None, keys, stats)
