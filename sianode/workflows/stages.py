"""The stages of a campaign as plain functions over the store (no FireWorks).

Each stage rebuilds what it depends on from the store instead of trusting values passed
along the workflow: the lattice relaxation, then the host, are asked for again through
:mod:`sianode.workflows.steps` with the same content key, and the store returns their
finished documents at once (nothing is recomputed). A stage whose parent calculation
failed records nothing new and returns ``skipped`` with a reason naming that parent.

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
flag is part of its relaxation's content key (``relax_parameters``), so the two kinds of
host never share a document.

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
from typing import Any, Mapping

from sianode.store import COMPLETED, schema
from sianode.workflows import steps

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
    """

    status: str
    key: str | None = None
    reason: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    stats: steps.StepStats = field(default_factory=steps.StepStats)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "key": self.key, "reason": self.reason, "keys": dict(self.keys),
                "computed": self.stats.computed, "reused": self.stats.reused,
                "calc_wall_s": self.stats.wall_s}


def _outcome(doc: Mapping[str, Any], stats: steps.StepStats, **keys: str) -> StageOutcome:
    ok = doc.get("status") == COMPLETED
    return StageOutcome(COMPLETED_ if ok else FAILED_, doc["key"], None if ok else doc.get("reason"),
                        {**keys, "main": doc["key"]}, stats)


def _skip(what: str, doc: Mapping[str, Any], stats: steps.StepStats) -> StageOutcome:
    reason = f"skipped: {what} {str(doc.get('key'))[:12]} failed: {doc.get('reason')}"
    return StageOutcome(SKIPPED, None, reason, {what: str(doc.get("key"))}, stats)


def calculator_from(data: Mapping[str, Any]) -> Any:
    """A :class:`~sianode.calculators.CalculatorSpec` from its ``as_dict()`` form."""
    from sianode.calculators import CalculatorSpec

    return CalculatorSpec.from_dict(dict(data))


# ------------------------------------------------------------------ stages
def reference_stage(store: Any, calculator: Any, *, fmax: float, campaign: str) -> StageOutcome:
    """bcc-Li reference of the calculator (role ``li_metal``)."""
    stats = steps.StepStats()
    doc = steps.reference_step(store, calculator, fmax=fmax, labels={"campaign": campaign}, stats=stats)
    return _outcome(doc, stats)


def lattice_stage(store: Any, calculator: Any, *, relax: Mapping[str, Any], campaign: str,
                  stats: steps.StepStats | None = None) -> tuple[StageOutcome, float | None]:
    """Relax the pure 8-atom Si cell with its cell; returns the outcome and ``a`` (Angstrom)."""
    from sianode.structures import pure_supercell

    stats = stats if stats is not None else steps.StepStats()
    doc = steps.relax_step(store, pure_supercell(1), calculator, fmax=relax["fmax"], steps=relax["steps"],
                           cell=True, labels={"campaign": campaign, "role": ROLE_LATTICE,
                                              "dopant": schema.PURE, "percent": 0.0, "supercell": [1, 1, 1]},
                           stats=stats)
    outcome = _outcome(doc, stats, lattice=doc["key"])
    if outcome.status != COMPLETED_:
        return outcome, None
    cell = steps.relaxed_atoms(store, doc).cell
    return outcome, float(cell.lengths().mean())


def host_cell(relax: Mapping[str, Any]) -> bool:
    """Whether hosts are relaxed with their cell: ``relax["host_cell"]``, False when absent."""
    return bool(relax.get("host_cell", False))


def host_stage(store: Any, calculator: Any, *, host: Mapping[str, Any], labels: Mapping[str, Any],
               relax: Mapping[str, Any], stats: steps.StepStats | None = None) -> StageOutcome:
    """Relax one host built at the calculator's lattice constant.

    Positions and cell (FrechetCellFilter) when :func:`host_cell` of ``relax`` is true,
    positions only (fixed cell) otherwise; ``labels.host_cell`` records which.
    """
    from sianode.workflows.plan import build_host

    stats = stats if stats is not None else steps.StepStats()
    lattice, a = lattice_stage(store, calculator, relax=relax, campaign=labels["campaign"], stats=stats)
    if a is None:
        return _skip("lattice", store.get(lattice.key), stats)
    cell = host_cell(relax)
    doc = steps.relax_step(store, build_host(host, a), calculator, fmax=relax["fmax"], steps=relax["steps"],
                           cell=cell, labels={**labels, "lattice_key": lattice.key, "lattice_constant_A": a,
                                              **({"host_cell": True} if cell else {})},
                           stats=stats)
    return _outcome(doc, stats, lattice=lattice.key, host=doc["key"])


def _relaxed_host(store: Any, calculator: Any, host: Mapping[str, Any], labels: Mapping[str, Any],
                  relax: Mapping[str, Any], stats: steps.StepStats) -> tuple[StageOutcome | None, Any, str]:
    parent = host_stage(store, calculator, host=host, labels=labels, relax=relax, stats=stats)
    if parent.status == SKIPPED:
        return parent, None, ""
    if parent.status != COMPLETED_:
        return _skip("host", store.get(parent.key), stats), None, ""
    return None, steps.relaxed_atoms(store, store.get(parent.key)), str(parent.key)


def _insertion_labels(labels: Mapping[str, Any], site: Mapping[str, Any], host_key: str) -> dict[str, Any]:
    return {**labels, "role": schema.ROLE_INSERTION, "site": site["label"], "site_kind": site.get("kind", "T"),
            "site_multiplicity": site["multiplicity"], "distance_to_dopant_A": site["distance_to_dopant_A"],
            "host_key": host_key}


def _insertion(store: Any, calculator: Any, relaxed: Any, host_key: str, labels: Mapping[str, Any],
               site: Mapping[str, Any], relax: Mapping[str, Any], stats: steps.StepStats) -> dict[str, Any]:
    """The insertion document of ``site`` in the relaxed host (computed once per content key)."""
    from sianode.structures import insert_li

    return steps.relax_step(store, insert_li(relaxed, site["frac"]), calculator, fmax=relax["fmax"],
                            steps=relax["steps"], cell=False, labels=_insertion_labels(labels, site, host_key),
                            stats=stats)


def insertion_stage(store: Any, calculator: Any, *, host: Mapping[str, Any], labels: Mapping[str, Any],
                    site: Mapping[str, Any], relax: Mapping[str, Any]) -> StageOutcome:
    """Relax host + Li at one site class (role ``insertion``), in the relaxed host's cell, fixed.

    ``site`` is :meth:`~sianode.workflows.plan.SitePlan.as_dict` (a T class); an optional
    ``site["kind"]`` (``"T"`` or ``"H"``) labels another kind of site.
    """
    stats = steps.StepStats()
    skipped, relaxed, host_key = _relaxed_host(store, calculator, host, labels, relax, stats)
    if skipped is not None:
        return skipped
    doc = _insertion(store, calculator, relaxed, host_key, labels, site, relax, stats)
    return _outcome(doc, stats, host=host_key)


def _ideal_t_sites(host: Mapping[str, Any]) -> tuple[Any, dict[str, dict]]:
    """The ideal host (a = 5.431 A, as the plan builds it) and its T classes as SitePlan dicts by label."""
    return _ideal_t_sites_cached(json.dumps(dict(host), sort_keys=True))


@functools.lru_cache(maxsize=32)
def _ideal_t_sites_cached(host_json: str) -> tuple[Any, dict[str, dict]]:
    from sianode.structures import li_sites
    from sianode.structures.supercell import A_SI
    from sianode.workflows.plan import build_host

    host = json.loads(host_json)
    ideal = build_host(host, A_SI)
    sites = {c.label: {"label": c.label, "frac": [float(x) for x in c.frac], "multiplicity": int(c.multiplicity),
                       "distance_to_dopant_A": None if c.distance_to_dopant is None else float(c.distance_to_dopant)}
             for c in li_sites(ideal, [int(i) for i in host["dopant_indices"]]).T}
    return ideal, sites


def _end_point(store: Any, doc: Mapping[str, Any], ideal: Any, dopants: list[int], site: Mapping[str, Any],
               target: Any, relaxed_host: Any) -> Any:
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


def hop_stage(store: Any, calculator: Any, *, host: Mapping[str, Any], labels: Mapping[str, Any],
              hop: Mapping[str, Any], relax: Mapping[str, Any], neb: Mapping[str, Any]) -> StageOutcome:
    """CI-NEB of one unordered hop path (role ``hop``) between two relaxed insertions.

    ``hop`` is :meth:`~sianode.workflows.plan.HopPlan.as_dict`. Each end point is the
    insertion of its T class (``hop["start_site"]``, ``hop["end_site"]``) in the same
    relaxed host, asked for with the content key of :func:`insertion_stage` (so it is
    computed once, whoever asks first, and labelled ``insertion``), then mapped onto the
    hop's site by a symmetry operation of the doped cell (:func:`_end_point`): no
    relaxation of an equivalent structure. The NEB's content key holds both end
    structures; its labels name the path (``hop``, ``h_site``, ``hop_multiplicity``,
    ``start_site``, ``end_site``, ``start_key``/``end_key``: the insertion documents,
    ``unordered: true``). A failed host or insertion skips the NEB with a reason.

    A ``hop`` without ``start_site`` (a Firework written before hop paths existed) relaxes
    both end points itself, as then (role ``hop_end``).
    """
    if "start_site" not in hop:
        return _ordered_hop_stage(store, calculator, host=host, labels=labels, hop=hop, relax=relax, neb=neb)
    stats = steps.StepStats()
    skipped, relaxed, host_key = _relaxed_host(store, calculator, host, labels, relax, stats)
    if skipped is not None:
        return skipped
    dopants = [int(i) for i in host["dopant_indices"]]
    ideal, t_sites = _ideal_t_sites(host)
    docs: dict[str, Any] = {}
    ends: dict[str, Any] = {}
    for end in ("start", "end"):
        site = t_sites[hop[f"{end}_site"]]
        doc = _insertion(store, calculator, relaxed, host_key, labels, site, relax, stats)
        if doc.get("status") != COMPLETED:
            return _skip(f"{end} insertion {site['label']}", doc, stats)
        docs[end] = doc
        ends[end] = _end_point(store, doc, ideal, dopants, site, hop[end], relaxed)
    neb_labels = {**labels, "role": schema.ROLE_HOP, "hop": hop["label"], "h_site": hop["h_label"],
                  "hop_multiplicity": hop["multiplicity"], "start_site": hop["start_site"],
                  "end_site": hop["end_site"], "distance_to_dopant_A": hop["distance_to_dopant_A"],
                  "selection": hop["selection"], "host_key": host_key, "start_key": docs["start"]["key"],
                  "end_key": docs["end"]["key"], "unordered": True}
    doc = steps.neb_step(store, ends["start"], ends["end"], calculator, n_images=neb["n_images"], fmax=neb["fmax"],
                         steps=neb["steps"], climb=neb.get("climb", True), labels=neb_labels, stats=stats)
    return _outcome(doc, stats, host=host_key, start=docs["start"]["key"], end=docs["end"]["key"])


def _ordered_hop_stage(store: Any, calculator: Any, *, host: Mapping[str, Any], labels: Mapping[str, Any],
                       hop: Mapping[str, Any], relax: Mapping[str, Any], neb: Mapping[str, Any]) -> StageOutcome:
    """An ordered hop of a Firework written before hop paths: relax both ends (``hop_end``), then CI-NEB."""
    from sianode.structures import insert_li

    stats = steps.StepStats()
    skipped, relaxed, host_key = _relaxed_host(store, calculator, host, labels, relax, stats)
    if skipped is not None:
        return skipped
    hop_labels = {**labels, "hop": hop["label"], "host_key": host_key}
    ends: dict[str, Any] = {}
    for end in ("start", "end"):
        doc = steps.relax_step(store, insert_li(relaxed, hop[end]), calculator, fmax=relax["fmax"],
                               steps=relax["steps"], cell=False,
                               labels={**hop_labels, "role": schema.ROLE_HOP_END, "end": end}, stats=stats)
        if doc.get("status") != COMPLETED:
            return _skip(f"hop {end}", doc, stats)
        ends[end] = doc
    neb_labels = {**hop_labels, "role": schema.ROLE_HOP, "hop_multiplicity": hop["multiplicity"],
                  "distance_to_dopant_A": hop["distance_to_dopant_A"], "selection": hop["selection"],
                  "start_key": ends["start"]["key"], "end_key": ends["end"]["key"]}
    doc = steps.neb_step(store, steps.relaxed_atoms(store, ends["start"]), steps.relaxed_atoms(store, ends["end"]),
                         calculator, n_images=neb["n_images"], fmax=neb["fmax"], steps=neb["steps"],
                         climb=neb.get("climb", True), labels=neb_labels, stats=stats)
    return _outcome(doc, stats, host=host_key, start=ends["start"]["key"], end=ends["end"]["key"])


def analysis_stage(store: Any, *, campaign: str) -> StageOutcome:
    """Derived values of the campaign (``sianode.analysis`` ``store_derived``), if installed."""
    try:
        from sianode.analysis.derive import store_derived
    except ImportError:
        try:
            from sianode.analysis import store_derived
        except ImportError as exc:
            log.warning("analysis of campaign %s not run: store_derived is not available (%s)", campaign, exc)
            return StageOutcome(SKIPPED, reason=f"skipped: analysis not available ({exc})")
    derived = store_derived(store, campaign=campaign)
    n = len(derived) if hasattr(derived, "__len__") else 0
    return StageOutcome(COMPLETED_, reason=f"{n} derived documents")
