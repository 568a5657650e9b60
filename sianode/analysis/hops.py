"""Migration barriers from stored NEB documents: barrier, energy profile, path coordinate.

A barrier is max(E) - E(start) of the climbing-image NEB path (Henkelman, Uberuaga,
Jonsson, J. Chem. Phys. 113 (2000) 9901); a failed NEB gives None with a reason. Re-exported
by :mod:`sianode.analysis.derive`.
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
    doc_filter,
    doc_order,
    labels,
    short,
    why_unusable,
)
from sianode.errors import InputError

if TYPE_CHECKING:
    from sianode.store.protocols import StoreLike

logger = logging.getLogger(__name__)


@dataclass
class Barrier:
    """Migration barrier of one NEB hop (saddle minus start, eV) and its energy profile.

    Attributes
    ----------
    key : str
        Key of the ``neb`` document.
    barrier_eV : float or None
        Forward barrier max(E) - E(start), eV; None when the NEB failed (see ``reason``).
    reverse_barrier_eV : float or None
        max(E) - E(end), eV.
    reason : str or None
        Why ``barrier_eV`` is None.
    sources : list of str
        The NEB document's key.
    energies_eV : list of float
        Image energies relative to the start image, eV (empty when failed).
    dopant, percent, hop, multiplicity, distance_to_dopant_A, selection, campaign
        Labels of the NEB document.
    h_site, start_site, end_site : str or None
        H class label of the saddle and T class labels of the two ends (unordered hop
        classes; None for the ordered hops of older campaigns).
    """

    key: str
    barrier_eV: float | None
    reason: str | None
    sources: list[str]
    reverse_barrier_eV: float | None = None
    energies_eV: list[float] = field(default_factory=list)
    dopant: str | None = None
    percent: float | None = None
    hop: str | None = None
    multiplicity: int | None = None
    distance_to_dopant_A: float | None = None
    selection: str | None = None
    campaign: str | None = None
    calculator: str | None = None
    calculator_identity: dict[str, Any] = field(default_factory=dict)
    h_site: str | None = None
    start_site: str | None = None
    end_site: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def profile_energies(doc: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None = None) -> np.ndarray | None:
    """Absolute image energies of an NEB document along the path, eV: ``output.energies_eV``,
    else the GridFS array ``energies_eV`` of ``arrays`` (None if absent)."""
    out = doc.get("output") or {}
    if out.get("energies_eV") is not None:
        return np.asarray(out["energies_eV"], dtype=float)
    if arrays and "energies_eV" in arrays:
        return np.asarray(arrays["energies_eV"], dtype=float)
    return None


def barrier_from_profile(energies_eV: Sequence[float]) -> tuple[float, float]:
    """Forward and reverse barriers of a path, eV: max(E) - E[0] and max(E) - E[-1].

    Parameters
    ----------
    energies_eV : sequence of float, shape (n_images + 2,)
        Image energies including both end points, eV.
    """
    e = np.asarray(energies_eV, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)):
        raise InputError(f"an energy profile needs >= 2 finite energies, got {e.tolist()!r}")
    return float(e.max() - e[0]), float(e.max() - e[-1])


def barrier(doc: Mapping[str, Any]) -> Barrier:
    """The :class:`Barrier` of one ``neb`` document (value None with a reason when failed)."""
    lab = labels(doc)
    reason = why_unusable(doc, "NEB")
    energies = None if reason else profile_energies(doc)
    fwd = rev = None
    rel: list[float] = []
    if reason is None:
        if energies is None or energies.size < 2 or not np.all(np.isfinite(energies)):
            reason = f"NEB {short(doc.get('key'))} has no finite energy profile in its output"
        else:
            fwd, rev = barrier_from_profile(energies)
            rel = (energies - energies[0]).tolist()
    mult = lab.get("hop_multiplicity")
    return Barrier(
        key=doc["key"], barrier_eV=fwd, reason=reason, sources=[doc["key"]], reverse_barrier_eV=rev,
        energies_eV=rel, dopant=lab.get("dopant"),
        percent=None if lab.get("percent") is None else float(lab["percent"]),
        hop=lab.get("hop"), multiplicity=None if mult is None else int(mult),
        distance_to_dopant_A=None if lab.get("distance_to_dopant_A") is None else float(lab["distance_to_dopant_A"]),
        selection=lab.get("selection"), campaign=lab.get("campaign"),
        calculator=calculator_name(doc), calculator_identity=calculator_identity(doc),
        h_site=lab.get("h_site"), start_site=lab.get("start_site"), end_site=lab.get("end_site"),
    )


def barriers(
    store: StoreLike,
    where: DocFilter | None = None,
    *,
    dopant: str | None = None,
    percent: float | None = None,
    campaign: str | None = None,
    calculator: str | None = None,
) -> list[Barrier]:
    """Barriers of every stored NEB hop (``kind == "neb"``, role ``hop``) matching ``where``
    (its ``kind`` set to ``barrier``) with the keyword filters replacing its fields."""
    where = doc_filter(where, "barrier", dopant=dopant, percent=percent, campaign=campaign, calculator=calculator)
    docs = sorted(where.find(store), key=doc_order)
    return [barrier(d) for d in docs]


def near_hop(values: Iterable[Barrier]) -> Barrier | None:
    """The hop a barrier plot marks for a dopant concentration: the completed ``near`` hop.

    For display only: a diffusivity comes from the whole hop network
    (:mod:`sianode.analysis.network`), never from one hop. Choice: among completed hops, those labelled ``selection == "near"`` (the hop next to the dopant, the one a
    dopant changes most; Zhu et al., Sci. Adv. 5 (2019) eaax0651 compare this hop), else
    all; of these the one closest to the dopant (``distance_to_dopant_A``), then the lowest
    barrier, then the smallest key. In pure Si every T -> H -> T hop is equivalent by
    symmetry, so this is simply the lowest of the computed ones. None when no hop completed.
    """
    done = [b for b in values if b.barrier_eV is not None]
    near = [b for b in done if b.selection == "near"] or done
    if not near:
        return None
    return min(near, key=lambda b: (b.distance_to_dopant_A if b.distance_to_dopant_A is not None else math.inf,
                                    b.barrier_eV, b.key))


def reaction_coordinate_A(positions_A: np.ndarray, cell_A: np.ndarray | None = None) -> np.ndarray:
    """Cumulative path length along the images, Angstrom.

    s_k = sum_{j<k} |R_{j+1} - R_j| over the whole configuration (3N-dimensional),
    displacements taken with the minimum-image convention when a cell is given.

    Parameters
    ----------
    positions_A : ndarray, shape (n_images, n_atoms, 3)
    cell_A : ndarray, shape (3, 3), optional
    """
    pos = np.asarray(positions_A, dtype=float)
    steps = np.diff(pos, axis=0)
    if cell_A is not None:
        cell = np.asarray(cell_A, dtype=float).reshape(3, 3)
        frac = steps @ np.linalg.inv(cell)
        steps = (frac - np.round(frac)) @ cell
    lengths = np.sqrt((steps**2).sum(axis=(1, 2)))
    return np.concatenate([[0.0], np.cumsum(lengths)])


def neb_profile(store: StoreLike, doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """Energy profile of a completed NEB: relative energies and the path coordinate.

    Returns
    -------
    dict or None
        ``key, dopant, percent, hop, selection, calculator, image_index (list of int),
        reaction_coordinate_A (list, or None when the image positions are not stored),
        energy_eV (relative to the start image), barrier_eV``; None when the NEB failed.
    """
    b = barrier(doc)
    if b.barrier_eV is None:
        return None
    coord = None
    files = doc.get("files") or {}
    if "positions_A" in files:
        pos = store.get_array(files["positions_A"])
        cell = (((doc.get("output") or {}).get("start_structure")) or {}).get("cell")
        if pos.ndim == 3 and pos.shape[0] == len(b.energies_eV):
            coord = reaction_coordinate_A(pos, None if cell is None else np.asarray(cell)).tolist()
    return {
        "key": b.key, "dopant": b.dopant, "percent": b.percent, "hop": b.hop, "selection": b.selection,
        "calculator": b.calculator, "image_index": list(range(len(b.energies_eV))),
        "reaction_coordinate_A": coord, "energy_eV": b.energies_eV, "barrier_eV": b.barrier_eV,
    }
