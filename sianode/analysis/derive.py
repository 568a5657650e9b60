"""Derived quantities from stored calculation documents.

Plain functions over the documents of :mod:`sianode.store.schema`: the insertion
energy of each Li site class, its Boltzmann average, the barrier and energy profile of
each NEB hop, and the lattice constant and volume change of each relaxed host. A
diffusivity never follows from one barrier: it is the hop network's
(:mod:`sianode.analysis.network`; formulas in :mod:`sianode.transport`). Every derived
value names the documents it came from (``sources``: their keys), never mixes calculators
(:class:`~sianode.errors.InputError` naming both), and a failed or missing input gives a
value of ``None`` with a ``reason``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from sianode.analysis.docs import (
    DocFilter,
    calculator_identity,
    calculator_name,
    campaign_filter,
    cell_volume_A3,
    doc_filter,
    doc_order,
    energy_eV,
    final_structure,
    identity_token,
    labels,
    n_atoms,
    require_same_calculator,
    why_unusable,
)
from sianode.analysis.hops import (  # re-exported: derive is the one place to look
    Barrier,
    barrier,
    barrier_from_profile,
    barriers,
    near_hop,
    neb_profile,
    profile_energies,
    reaction_coordinate_A,
)
from sianode.constants import K_B_EV_K
from sianode.errors import InputError
from sianode.store import COMPLETED, schema

if TYPE_CHECKING:
    from sianode.store.protocols import StoreLike

logger = logging.getLogger(__name__)

__all__ = [
    "Barrier", "DocFilter", "InsertionEnergy", "barrier", "barrier_from_profile", "barriers",
    "boltzmann_average", "campaign_filter", "cell_relaxed", "check_references",
    "host_lattices", "identity_token", "insertion_energies", "insertion_energy", "lattice_constant_A",
    "li_references", "mu_li_eV", "near_hop", "neb_profile", "profile_energies", "reaction_coordinate_A",
    "site_averages",
]

@dataclass
class InsertionEnergy:
    """Insertion energy of Li in one site class, E_ins = E(host+Li) - E(host) - mu_Li.

    Attributes
    ----------
    key : str
        Key of the ``relax``/``insertion`` document (host + Li).
    e_ins_eV : float or None
        Insertion energy, eV; None when an input failed or is missing (see ``reason``).
    reason : str or None
        Why ``e_ins_eV`` is None.
    sources : list of str
        Keys of the documents used: host + Li, host, bcc-Li reference (those found).
    dopant, percent, site, site_kind, multiplicity, distance_to_dopant_A, campaign
        Labels of the insertion document (percent in atom %, distance in Angstrom).
    arrangement_multiplicity : int
        Multiplicity of the host's dopant arrangement (1 when not labelled).
    energy_eV : float or None
        Total energy of host + Li, eV.
    calculator : str or None
        Calculator name.
    """

    key: str
    e_ins_eV: float | None
    reason: str | None
    sources: list[str]
    dopant: str | None = None
    percent: float | None = None
    site: str | None = None
    site_kind: str | None = None
    multiplicity: int | None = None
    distance_to_dopant_A: float | None = None
    campaign: str | None = None
    arrangement_multiplicity: int = 1
    energy_eV: float | None = None
    calculator: str | None = None
    calculator_identity: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------- references
def mu_li_eV(reference: Mapping[str, Any]) -> float | None:
    """Chemical potential of Li, eV/atom: ``output.mu_Li_eV`` of a completed bcc-Li ``reference``
    document (:class:`~sianode.store.documents.ReferenceOutput`; a database of sianode 0.1 is
    brought to this spelling by ``sianode db migrate``). None when failed, absent or not finite."""
    if reference.get("status") != COMPLETED:
        return None
    value = (reference.get("output") or {}).get("mu_Li_eV")
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def li_references(store: StoreLike) -> dict[str, dict[str, Any]]:
    """The bcc-Li reference document of each calculator identity (completed preferred).

    Returns
    -------
    dict
        :func:`~sianode.analysis.docs.identity_token` -> reference document.
    """
    best: dict[str, dict[str, Any]] = {}
    docs = store.find({"kind": schema.REFERENCE, "labels.role": schema.ROLE_LI_METAL})
    for doc in sorted(docs, key=lambda d: str(d.get("key"))):
        token = identity_token(doc)
        if token not in best or (best[token].get("status") != COMPLETED and doc.get("status") == COMPLETED):
            best[token] = doc
    return best


def check_references(inserted: Iterable[Mapping[str, Any]], references: Mapping[str, Any]) -> None:
    """Raise :class:`InputError` naming each calculator of ``inserted`` without a bcc-Li reference.

    ``references`` is :func:`li_references` of the store.
    """
    lacking = sorted({str(calculator_name(d)) for d in inserted if identity_token(d) not in references})
    if lacking:
        raise InputError(
            f"no bcc-Li reference (kind 'reference', role 'li_metal') for calculator {', '.join(lacking)}: "
            "E_ins needs mu_Li from the same calculator; run the campaign's reference step "
            f"(`sianode validate --calculator {lacking[0]}` computes it too)"
        )


# --------------------------------------------------------- insertion energy
def insertion_energy(
    inserted: Mapping[str, Any],
    host: Mapping[str, Any] | None,
    reference: Mapping[str, Any] | None,
) -> InsertionEnergy:
    """E_ins = E(host + Li) - E(host) - mu_Li of one site class.

    Long, Chan, Greeley, Gewirth, J. Phys. Chem. C 115 (2011) 18916; all three energies
    from the same calculator (PHYSICS.md section 3). Negative: Li prefers the site to
    Li metal.

    Parameters
    ----------
    inserted
        ``relax`` document of host + Li (``labels.role == "insertion"``).
    host
        ``relax`` document of the host (``labels.role == "host"``), None if missing.
    reference
        bcc-Li ``reference`` document of the same calculator, None if missing.

    Raises
    ------
    InputError
        The documents come from different calculators.
    """
    lab = labels(inserted)
    require_same_calculator([inserted, host, reference])
    sources = [d["key"] for d in (inserted, host, reference) if d is not None]
    reason = (
        why_unusable(inserted, "host + Li relax")
        or why_unusable(host, "host relax", lab.get("host_key"))
        or (
            f"no bcc-Li reference for calculator {calculator_name(inserted)!r}"
            if reference is None
            else why_unusable(reference, "bcc-Li reference")
        )
    )
    e_total = energy_eV(inserted)
    value = None
    if reason is None:
        e_host, mu = energy_eV(host), mu_li_eV(reference)  # type: ignore[arg-type]
        if e_total is None or e_host is None or mu is None:
            reason = "an input document has no finite energy in its output"
        else:
            value = e_total - e_host - mu
    return InsertionEnergy(
        key=inserted["key"],
        e_ins_eV=value,
        reason=reason,
        sources=sources,
        dopant=lab.get("dopant"),
        percent=None if lab.get("percent") is None else float(lab["percent"]),
        site=lab.get("site"),
        site_kind=lab.get("site_kind"),
        multiplicity=None if lab.get("site_multiplicity") is None else int(lab["site_multiplicity"]),
        distance_to_dopant_A=None if lab.get("distance_to_dopant_A") is None else float(lab["distance_to_dopant_A"]),
        campaign=lab.get("campaign"),
        arrangement_multiplicity=int(lab.get("arrangement_multiplicity") or 1),
        energy_eV=e_total,
        calculator=calculator_name(inserted),
        calculator_identity=calculator_identity(inserted),
    )


def insertion_energies(
    store: StoreLike,
    where: DocFilter | None = None,
    *,
    dopant: str | None = None,
    percent: float | None = None,
    campaign: str | None = None,
    calculator: str | None = None,
    require_reference: bool = True,
) -> list[InsertionEnergy]:
    """Insertion energies of every stored ``insertion`` relax matching the filters.

    Parameters
    ----------
    store : ResultStore
    where : DocFilter, optional
        Which documents (its ``kind`` is set to ``insertion``).
    dopant, percent, campaign, calculator
        Filters (percent within 1e-3 atom %) replacing those of ``where``.
    require_reference : bool
        Raise when a calculator has no bcc-Li reference document at all; with False the
        rows say so in ``reason`` instead.

    Raises
    ------
    InputError
        A calculator lacks the bcc-Li reference (``require_reference``), or a host was
        computed with another calculator than its host + Li.
    """
    where = doc_filter(where, "insertion", dopant=dopant, percent=percent, campaign=campaign, calculator=calculator)
    inserted = sorted(where.find(store), key=doc_order)
    host_keys = sorted({labels(d).get("host_key") for d in inserted if labels(d).get("host_key")})
    hosts = {d["key"]: d for d in store.find({"_id": {"$in": host_keys}})} if host_keys else {}
    references = li_references(store)
    if require_reference:
        check_references(inserted, references)
    return [
        insertion_energy(d, hosts.get(labels(d).get("host_key")), references.get(identity_token(d)))
        for d in inserted
    ]


def boltzmann_average(energies_eV: Sequence[float], multiplicities: Sequence[float], T_K: float = 300.0) -> float:
    """Multiplicity-weighted Boltzmann average of site energies, eV.

    E_avg = sum_i g_i E_i exp(-E_i/kT) / sum_i g_i exp(-E_i/kT) (PHYSICS.md section 3),
    evaluated with energies shifted by their minimum (same value, no overflow).

    Parameters
    ----------
    energies_eV : sequence of float, shape (n,)
        Site-class energies, eV.
    multiplicities : sequence of float, shape (n,)
        Degeneracies g_i (> 0).
    T_K : float
        Temperature, K (> 0).
    """
    e = np.asarray(energies_eV, dtype=float)
    g = np.asarray(multiplicities, dtype=float)
    if e.size == 0 or e.shape != g.shape:
        raise InputError(f"need as many multiplicities as energies (> 0), got {g.size} and {e.size}")
    if not (T_K > 0 and math.isfinite(T_K)):
        raise InputError(f"T_K = {T_K!r} is not allowed; it must be a positive temperature in K")
    if np.any(g <= 0) or not np.all(np.isfinite(e)):
        raise InputError("multiplicities must be > 0 and energies finite")
    w = g * np.exp(-(e - e.min()) / (K_B_EV_K * T_K))
    return float(np.sum(w * e) / np.sum(w))


def site_averages(
    values: Iterable[InsertionEnergy], T_K: float = 300.0, site_kind: str | None = "T"
) -> list[dict[str, Any]]:
    """Min, max and Boltzmann average of E_ins per (calculator, dopant, percent).

    Only site classes of ``site_kind`` enter (default ``"T"``: the H site is the saddle of
    the T -> H -> T hop, not a place Li stays; rows without ``site_kind`` always enter).
    Weight of a class: ``multiplicity x arrangement_multiplicity``. Failed rows are skipped.

    Returns
    -------
    list of dict
        Keys ``calculator, dopant, percent, n_classes, e_min_eV, e_max_eV, e_avg_eV, T_K,
        sources`` (insertion document keys).
    """
    groups: dict[tuple[Any, ...], list[InsertionEnergy]] = {}
    for v in values:
        if v.e_ins_eV is None or (site_kind is not None and v.site_kind not in (None, site_kind)):
            continue
        groups.setdefault((v.calculator, v.dopant, round(float(v.percent or 0.0), 6)), []).append(v)
    rows = []
    for (calc, dop, pct), vs in sorted(groups.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        e = [v.e_ins_eV for v in vs]
        g = [(v.multiplicity or 1) * v.arrangement_multiplicity for v in vs]
        rows.append({
            "calculator": calc, "dopant": dop, "percent": pct, "n_classes": len(vs),
            "e_min_eV": float(min(e)), "e_max_eV": float(max(e)),  # type: ignore[type-var]
            "e_avg_eV": boltzmann_average(e, g, T_K), "T_K": float(T_K),  # type: ignore[arg-type]
            "sources": [v.key for v in vs],
        })
    return rows


# ------------------------------------------------------------------ lattice
def lattice_constant_A(doc: Mapping[str, Any]) -> float | None:
    """Effective cubic lattice constant of a relaxed diamond host, Angstrom.

    a = (8 V / N)^(1/3): the cube whose volume holds 8 atoms at the cell's volume per
    atom (V: cell volume, N: atoms). For a substitutional host N = 8 n_cells, so this is
    (V / n_cells)^(1/3) with n_cells conventional cells. None when the document failed or
    has no structure.
    """
    structure = final_structure(doc) if doc.get("status") == COMPLETED else None
    if structure is None or not n_atoms(structure):
        return None
    return float((8.0 * cell_volume_A3(structure) / n_atoms(structure)) ** (1.0 / 3.0))


def cell_relaxed(doc: Mapping[str, Any]) -> bool:
    """Whether a relaxation relaxed its cell (``output.cell_relaxed`` or ``input.parameters.cell``)."""
    out = doc.get("output") or {}
    if "cell_relaxed" in out:
        return bool(out["cell_relaxed"])
    return bool(((doc.get("input") or {}).get("parameters") or {}).get("cell", False))


def _relax_settings(doc: Mapping[str, Any]) -> tuple[Any, Any]:
    params = (doc.get("input") or {}).get("parameters") or {}
    return params.get("fmax"), params.get("steps")


def _pure_reference(doc: Mapping[str, Any], pure: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The pure-Si document a host's volume is compared with (same calculator identity).

    Preference: a pure host (not ``doc`` itself) relaxed with its cell, same supercell,
    same relax settings; then the calculator's lattice document (pure 8-atom cell relaxed
    with its cell) with the same settings; then any of them; the smallest key breaks ties.
    For a pure host the lattice document comes first, so its row says how far the
    64-site cell relaxation moved from the lattice stage's cell.
    """
    token, settings = identity_token(doc), _relax_settings(doc)
    lab = labels(doc)
    is_pure = lab.get("dopant") == schema.PURE
    candidates = [p for p in pure if identity_token(p) == token and p["key"] != doc["key"]]
    if not candidates:
        return doc if is_pure and cell_relaxed(doc) else None

    def rank(p: Mapping[str, Any]) -> tuple[Any, ...]:
        lattice = labels(p).get("role") == schema.ROLE_LATTICE
        return (
            _relax_settings(p) != settings,
            (not lattice) if is_pure else lattice,
            not cell_relaxed(p),
            labels(p).get("supercell") != lab.get("supercell"),
            str(p["key"]),
        )

    return min(candidates, key=rank)


def host_lattices(
    store: StoreLike,
    where: DocFilter | None = None,
    *,
    dopant: str | None = None,
    percent: float | None = None,
    campaign: str | None = None,
    calculator: str | None = None,
) -> list[dict[str, Any]]:
    """Lattice constant of every relaxed host and its volume change against pure Si.

    Hosts relaxed with their cell (campaign key ``relax.host_cell``, the default) have the
    lattice constant of the doped crystal at that concentration; the pure-Si reference is
    chosen by :func:`_pure_reference` (same calculator identity). With a = (V / n_cells)^(1/3)
    (:func:`lattice_constant_A`) and V_ref = n_cells a_ref^3 the pure cell of the same size:

    * volume change, % = 100 (a / a_ref)^3 - 100 (Vegard-like: > 0 for Ge, < 0 for B),
    * volume change of the cell, A^3 = V - V_ref, and per dopant atom = (V - V_ref) / n_dopants.

    A host relaxed at fixed cell has the lattice it was built with: no volume change, its
    ``reason`` says so.

    Returns
    -------
    list of dict
        ``key, dopant, percent, supercell, n_dopants, cell_relaxed, lattice_constant_A,
        reference_lattice_constant_A, volume_change_percent, volume_change_A3,
        volume_change_per_dopant_A3, reason, sources`` (host key, then the reference's),
        ``calculator``.
    """
    where = doc_filter(where, "host", dopant=dopant, percent=percent, campaign=campaign, calculator=calculator)
    docs = sorted(where.find(store), key=doc_order)
    pure = sorted(store.find({"kind": schema.RELAX, "labels.role": {"$in": [schema.ROLE_HOST, schema.ROLE_LATTICE]},
                              "labels.dopant": schema.PURE, "status": COMPLETED}), key=lambda d: d["key"])
    rows = []
    for d in docs:
        lab = labels(d)
        a = lattice_constant_A(d)
        relaxed = cell_relaxed(d)
        ref = _pure_reference(d, pure) if relaxed else None
        a_ref = lattice_constant_A(ref) if ref is not None else None
        reason = why_unusable(d, "host relax") or (None if a is not None else "host relax has no final structure")
        change = change_a3 = per_dopant = None
        if reason is None and not relaxed:
            reason = "host relaxed at fixed cell: its volume is the pure lattice's, no volume change to report"
        elif a is not None and a_ref is not None:
            change = 100.0 * ((a / a_ref) ** 3 - 1.0)
            structure = final_structure(d)
            n_cells = n_atoms(structure) / 8.0  # type: ignore[arg-type]
            change_a3 = cell_volume_A3(structure) - n_cells * a_ref ** 3  # type: ignore[arg-type]
            n_dop = int(lab.get("n_dopants") or 0)
            per_dopant = change_a3 / n_dop if n_dop else None
        elif reason is None:
            reason = f"no relaxed pure-Si host for calculator {calculator_name(d)!r} to compare with"
        rows.append({
            "key": d["key"], "dopant": lab.get("dopant"), "percent": lab.get("percent"),
            "supercell": lab.get("supercell"), "n_dopants": lab.get("n_dopants"), "cell_relaxed": relaxed,
            "lattice_constant_A": a, "reference_lattice_constant_A": a_ref if change is not None else None,
            "volume_change_percent": change, "volume_change_A3": change_a3,
            "volume_change_per_dopant_A3": per_dopant, "reason": reason,
            "sources": [d["key"]] + ([ref["key"]] if ref is not None and change is not None and ref["key"] != d["key"]
                                     else []),
            "calculator": calculator_name(d),
        })
    return rows

