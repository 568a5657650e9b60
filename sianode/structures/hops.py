"""Li T -> H -> T hops and their NEB end points.

A hop is an ORDERED pair of neighbouring T sites sharing an H site (the saddle;
PHYSICS.md section 2: hop length ``d = sqrt(3)/4 a`` = 2.35 A, ``z = 4`` per T site).
Hops are grouped into orbits of the doped cell's space group acting on ordered pairs
(the same permutations as :func:`~sianode.structures.sites.li_sites`), so ``A -> B``
and ``B -> A`` are distinct unless a symmetry reverses the hop.

Order and labels: by the distance from the saddle (H) to the nearest dopant, then by
start-site label, end-site label, multiplicity (largest first) and the representative's
coordinates; labelled ``hop1, hop2, ...``. The representative hop starts at the
lexicographically smallest wrapped T position of its class; ``saddle`` and ``end`` are
``start + v/2`` and ``start + v`` with ``v`` the fractional T -> T vector through the H
site, so they may lie outside ``[0, 1)`` and the straight line start -> end passes
through the saddle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from sianode.errors import InputError
from sianode.structures.sites import _classes, analyse_sites
from sianode.structures.symmetry import orbit_labels

log = logging.getLogger(__name__)


@dataclass
class HopClass:
    """One symmetry class of T -> H -> T hops.

    Attributes
    ----------
    label : str
        ``hop1``, ``hop2``, ... (see module docstring for the order).
    multiplicity : int
        Number of ordered hops in the class.
    start, saddle, end : numpy.ndarray
        (3,) fractional coordinates of the representative (start in ``[0, 1)``; saddle and
        end unwrapped, on the straight line from start).
    distance_to_dopant : float or None
        Minimum-image distance from the saddle (H) to the nearest dopant, Angstrom.
    start_site_label, end_site_label : str
        T-site class labels (as in :func:`~sianode.structures.sites.li_sites`).
    saddle_site_label : str
        H-site class label of the saddle.
    """

    label: str
    multiplicity: int
    start: np.ndarray
    saddle: np.ndarray
    end: np.ndarray
    distance_to_dopant: float | None
    start_site_label: str
    end_site_label: str
    saddle_site_label: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "multiplicity": self.multiplicity,
            "start": [round(float(x), 10) for x in self.start],
            "saddle": [round(float(x), 10) for x in self.saddle],
            "end": [round(float(x), 10) for x in self.end],
            "distance_to_dopant": self.distance_to_dopant,
            "start_site_label": self.start_site_label,
            "end_site_label": self.end_site_label,
            "saddle_site_label": self.saddle_site_label,
        }


def li_hops(atoms: Any, dopant_indices: Sequence[int] | None = None, symprec: float = 1e-3) -> list[HopClass]:
    """Symmetry-distinct T -> H -> T hops of a (doped) host.

    Parameters
    ----------
    atoms
        ASE ``Atoms``, pymatgen ``Structure`` or :class:`DopedCell` (unrelaxed).
    dopant_indices
        Atom indices of the dopants; default every atom that is not Si.

    Returns
    -------
    list of HopClass
        In the order of the module docstring; multiplicities add up to ``2 x n_H``.
    """
    ana = analyse_sites(atoms, dopant_indices, symprec)
    cell = ana.atoms.cell[:]
    t_cls, t_class_of = _classes("T", ana.t_frac, ana.t_perm, ana.t_dist, cell)
    h_cls, h_class_of = _classes("H", ana.h_frac, ana.h_perm, ana.h_dist, cell)
    n_h = len(ana.h_frac)
    # ordered hop 2h + 0: pair[h,0] -> pair[h,1]; 2h + 1: reverse
    a, b = ana.h_pairs[:, 0], ana.h_pairs[:, 1]
    img_h = ana.h_perm  # (nG, nH)
    img_a = ana.t_perm[:, a]  # where the start of forward hop h goes
    same_dir = img_a == a[img_h]
    if not np.all(same_dir | (img_a == b[img_h])):
        raise InputError("symmetry does not map T-H-T hops onto hops: try a different symprec")
    fwd = 2 * img_h + np.where(same_dir, 0, 1)
    rev = 2 * img_h + np.where(same_dir, 1, 0)
    hop_perm = np.empty((len(img_h), 2 * n_h), dtype=np.int64)
    hop_perm[:, 0::2] = fwd
    hop_perm[:, 1::2] = rev
    labels = orbit_labels(hop_perm)
    hop_h = np.repeat(np.arange(n_h), 2)
    start_t = np.where(np.arange(2 * n_h) % 2 == 0, a[hop_h], b[hop_h])
    end_t = np.where(np.arange(2 * n_h) % 2 == 0, b[hop_h], a[hop_h])
    vec = np.where((np.arange(2 * n_h) % 2 == 0)[:, None], ana.h_vec[hop_h], -ana.h_vec[hop_h])
    entries = []
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        keys = np.round(np.concatenate([ana.t_frac[start_t[idx]], ana.t_frac[start_t[idx]] + vec[idx]], axis=1), 6)
        rep = idx[np.lexsort(keys.T[::-1])[0]]
        h = hop_h[rep]
        d = None if ana.h_dist is None else float(np.round(ana.h_dist[h], 6))
        entries.append(
            (
                0.0 if d is None else d,
                t_class_of[start_t[rep]],
                t_class_of[end_t[rep]],
                -len(idx),
                tuple(keys[np.flatnonzero(idx == rep)[0]]),
                rep,
                d,
            )
        )
    entries.sort(key=lambda e: e[:5])
    hops = []
    for n, (_, s_cls, e_cls, negm, _, rep, d) in enumerate(entries):
        start = ana.t_frac[start_t[rep]].copy()
        hops.append(
            HopClass(
                label=f"hop{n + 1}",
                multiplicity=-negm,
                start=start,
                saddle=start + 0.5 * vec[rep],
                end=start + vec[rep],
                distance_to_dopant=d,
                start_site_label=t_cls[s_cls].label,
                end_site_label=t_cls[e_cls].label,
                saddle_site_label=h_cls[h_class_of[hop_h[rep]]].label,
            )
        )
    return hops


def select_hops(hops: Sequence[HopClass], which: str = "all") -> list[HopClass]:
    """Pick hops: ``"near"`` (smallest distance to the dopant), ``"far"`` (largest), ``"all"``.

    All classes that share the extreme distance (within 1e-6 A) are returned; in a pure
    host (distance ``None``) every selection returns all hops.
    """
    if which not in ("near", "far", "all"):
        raise InputError(f"hop selection {which!r} not allowed: use near, far or all")
    hops = list(hops)
    dists = [h.distance_to_dopant for h in hops]
    if which == "all" or not hops or any(d is None for d in dists):
        return hops
    target = min(dists) if which == "near" else max(dists)
    return [h for h in hops if abs(h.distance_to_dopant - target) < 1e-6]  # type: ignore[operator]


def insert_li(host_atoms: Any, frac: Sequence[float]) -> Any:
    """Copy of the host with one Li appended as the LAST atom at fractional ``frac``.

    ``frac`` is taken in the given host's cell, so a relaxed host works too. A pymatgen
    ``Structure`` in gives a ``Structure`` out; ``frac`` is not wrapped.
    """
    from ase import Atom

    from sianode.structures.serialize import as_ase

    atoms = as_ase(host_atoms).copy()
    frac = np.asarray(frac, dtype=float).reshape(3)
    atoms.append(Atom("Li", position=frac @ atoms.cell[:]))
    if not _is_ase(host_atoms) and not isinstance(host_atoms, dict):
        from pymatgen.io.ase import AseAtomsAdaptor

        return AseAtomsAdaptor.get_structure(atoms)
    return atoms


def hop_endpoints(host_atoms: Any, hop: HopClass) -> tuple[Any, Any]:
    """NEB end points ``(start, end)`` of a hop: host + Li (last atom), same ordering.

    The end Li is at ``hop.end`` unwrapped, so the straight line start -> end passes
    through the saddle (minimum-image consistent for ASE's NEB interpolation).
    """
    return insert_li(host_atoms, hop.start), insert_li(host_atoms, hop.end)


def _is_ase(obj: Any) -> bool:
    from ase import Atoms

    return isinstance(obj, Atoms)
