"""Li interstitial sites (T and H) of a diamond-Si host, found from the structure.

Void analysis (PHYSICS.md section 2)
------------------------------------
The vertices of the Voronoi tessellation of the periodic host are the centres of its
empty spheres (each touches >= 4 atoms, none inside). In diamond Si two kinds appear:

* T (tetrahedral) sites: touch 4 atoms at ``sqrt(3)/4 a`` (2.35 A); the next atoms are
  ``a/2`` away, so ``d5/d4 = 2/sqrt(3) = 1.15``. A vertex with ``d5/d4 > T_GAP`` (1.08)
  is a T site; 8 per conventional cell.
* H (hexagonal) sites: the midpoint of two neighbouring T sites (the T-T distance is
  again ``sqrt(3)/4 a``, 4 neighbours per T), the centre of a 6-Si ring at
  ``sqrt(11)/8 a`` (2.25 A); 2 per T site. H is the saddle of the T -> H -> T hop
  (Wan et al., J. Phys.: Condens. Matter 22 (2010) 415501).

Nothing here lists fractional coordinates: any cell size, shape or lattice constant works.

Symmetry classes
----------------
Sites are grouped into orbits of the doped cell's space group (spglib on the structure
with the dopants marked as their own species; operations as site permutations, see
:mod:`sianode.structures.symmetry`). Each class carries its multiplicity, the
minimum-image distance from its sites to the nearest dopant, and a label ``T1, T2, ...``
(``H1, ...``) in order of increasing distance; ties by multiplicity (largest first), then
by the representative's fractional coordinates. The representative is the member with
the lexicographically smallest wrapped fractional coordinates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from sianode.errors import InputError
from sianode.structures.symmetry import (
    generating_operations,
    map_points,
    mic_lengths,
    orbit_labels,
    spglib_operations,
    wrap_frac,
)

log = logging.getLogger(__name__)

#: a Voronoi vertex is a T site when (5th neighbour distance) / (4th) exceeds this
T_GAP = 1.08
#: vertices closer than this (Angstrom) are one site (degenerate Voronoi vertices)
MERGE_DISTANCE = 0.3


@dataclass
class SiteClass:
    """One symmetry class of interstitial sites.

    Attributes
    ----------
    label : str
        ``T1``, ``T2``, ... or ``H1``, ... by increasing distance to the nearest dopant.
    kind : str
        ``"T"`` or ``"H"``.
    multiplicity : int
        Number of sites in the class.
    frac : numpy.ndarray
        (3,) fractional coordinates of the representative, in ``[0, 1)``.
    cart : numpy.ndarray
        (3,) Cartesian coordinates of the representative, Angstrom.
    distance_to_dopant : float or None
        Minimum-image distance to the nearest dopant, Angstrom (``None``: pure host).
    members : numpy.ndarray
        (multiplicity, 3) fractional coordinates of every site of the class.
    """

    label: str
    kind: str
    multiplicity: int
    frac: np.ndarray
    cart: np.ndarray
    distance_to_dopant: float | None
    members: np.ndarray = field(repr=False)

    def as_dict(self, members: bool = False) -> dict[str, Any]:
        out = {
            "label": self.label,
            "kind": self.kind,
            "multiplicity": self.multiplicity,
            "frac": [round(float(x), 10) for x in self.frac],
            "cart": [round(float(x), 10) for x in self.cart],
            "distance_to_dopant": self.distance_to_dopant,
        }
        if members:
            out["members"] = np.asarray(self.members, dtype=float).tolist()
        return out


@dataclass
class SiteSet:
    """T and H site classes of one structure (each list in label order)."""

    T: list[SiteClass]
    H: list[SiteClass]

    def as_dict(self, members: bool = False) -> dict[str, Any]:
        return {"T": [c.as_dict(members) for c in self.T], "H": [c.as_dict(members) for c in self.H]}

    def by_label(self, label: str) -> SiteClass:
        for c in self.T + self.H:
            if c.label == label:
                return c
        raise InputError(f"no site class {label!r}: have {[c.label for c in self.T + self.H]}")


@dataclass
class SiteAnalysis:
    """Everything :func:`li_sites` and :mod:`~sianode.structures.hops` share (internal)."""

    atoms: Any
    dopant_indices: tuple[int, ...]
    t_frac: np.ndarray  # (nT, 3) wrapped
    h_frac: np.ndarray  # (nH, 3) wrapped
    h_pairs: np.ndarray  # (nH, 2) T indices (start, end) of the H's T-T pair
    h_vec: np.ndarray  # (nH, 3) fractional vector from T start to T end through H
    t_perm: np.ndarray  # (nG, nT) generators of the doped cell's group on T sites
    h_perm: np.ndarray  # (nG, nH)
    t_dist: np.ndarray | None  # (nT,) Angstrom, None for a pure host
    h_dist: np.ndarray | None


def find_t_sites(atoms: Any) -> np.ndarray:
    """Fractional coordinates (nT, 3) of the T sites, by Voronoi void analysis.

    See the module docstring. Raises InputError when the host has no T-like voids.
    """
    from scipy.spatial import Voronoi, cKDTree

    cell = atoms.cell[:]
    frac = wrap_frac(atoms.get_scaled_positions())
    # periodic padding: images within a skin of ~ 1.5 bond lengths of the cell
    lengths = atoms.cell.lengths()
    pad = np.minimum(1.0, 6.0 / lengths)
    shifts = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1], indexing="ij")).reshape(3, -1).T
    img = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    img = img[np.all((img > -pad) & (img < 1 + pad), axis=1)]
    pts = img @ cell
    vor = Voronoi(pts)
    vfrac = np.linalg.solve(cell.T, vor.vertices.T).T
    inside = np.all((vfrac >= -1e-6) & (vfrac < 1 - 1e-6), axis=1)
    verts = vor.vertices[inside]
    d, _ = cKDTree(pts).query(verts, k=5)
    is_t = d[:, 4] / d[:, 3] > T_GAP
    t_frac = _merge(wrap_frac(vfrac[inside][is_t]), cell)
    if len(t_frac) == 0:
        raise InputError("no tetrahedral voids found: the host must be diamond-like Si")
    log.debug("void analysis: %d Voronoi vertices, %d T sites", len(verts), len(t_frac))
    return t_frac


def _merge(frac: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Merge points closer than MERGE_DISTANCE (minimum image); sorted, wrapped."""
    keep: list[np.ndarray] = []
    order = np.lexsort(np.round(frac, 6).T[::-1])
    for p in frac[order]:
        if keep:
            dist = mic_lengths((np.asarray(keep) - p) @ cell, cell)
            if dist.min() < MERGE_DISTANCE:
                continue
        keep.append(p)
    return np.asarray(keep).reshape(-1, 3)


def t_neighbour_pairs(atoms: Any, t_frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neighbouring T-T pairs: ``(pairs (nH, 2), frac vectors (nH, 3))``, one per H site.

    Neighbours are the T sites within 1.3 x the nearest T-T distance (``sqrt(3)/4 a`` in
    diamond, 4 per T site). Each unordered pair (with its lattice image) appears once.
    """
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    tatoms = Atoms("H" * len(t_frac), scaled_positions=t_frac, cell=atoms.cell, pbc=True)
    cell = atoms.cell[:]
    if len(t_frac) < 2:
        raise InputError("fewer than 2 T sites: use a larger supercell")
    nearest = float(mic_lengths((t_frac[1:] - t_frac[0]) @ cell, cell).min())
    cutoff = 1.3 * nearest
    i, j, shift = neighbor_list("ijS", tatoms, cutoff)
    fvec = t_frac[j] + shift - t_frac[i]
    first = (i < j) | ((i == j) & _positive(shift))
    pairs = np.stack([i[first], j[first]], axis=1)
    counts = np.bincount(i, minlength=len(t_frac))
    if np.any(counts != 4):
        log.warning("T sites with %s T neighbours (diamond has 4)", sorted(set(counts.tolist())))
    return pairs, fvec[first]


def _positive(shift: np.ndarray) -> np.ndarray:
    """Lexicographically positive integer shifts (one of each +/- pair)."""
    s = np.asarray(shift)
    first_nz = np.argmax(s != 0, axis=1)
    return s[np.arange(len(s)), first_nz] > 0


def prepare_host(atoms: Any, dopant_indices: Sequence[int] | None = None) -> tuple[Any, np.ndarray]:
    """ASE ``Atoms`` of a host (``Atoms``, ``Structure`` or ``DopedCell``) and its dopant indices.

    ``dopant_indices`` None: the DopedCell's dopants, else every atom that is not Si.
    Raises InputError for an invalid structure or indices out of range.
    """
    from sianode.structures.serialize import as_ase
    from sianode.structures.supercell import DopedCell, check_structure

    if isinstance(atoms, DopedCell):
        dopant_indices = atoms.dopant_indices if dopant_indices is None else dopant_indices
        atoms = atoms.atoms
    atoms = as_ase(atoms)
    check_structure(atoms)
    symbols = np.array(atoms.get_chemical_symbols())
    if dopant_indices is None:
        dopants = np.flatnonzero(symbols != "Si")
    else:
        dopants = np.unique(np.asarray(list(dopant_indices), dtype=np.int64))
        if dopants.size and (dopants.min() < 0 or dopants.max() >= len(atoms)):
            raise InputError(f"dopant indices {list(dopant_indices)} out of range: allowed 0..{len(atoms) - 1}")
    return atoms, dopants


def doped_operations(atoms: Any, dopants: np.ndarray, symprec: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """spglib operations ``(R (G, 3, 3) int, t (G, 3))`` of the doped cell (fractional).

    The dopant sites are marked as their own species, so the group is that of the doped
    cell, not of the pure host.
    """
    numbers = atoms.get_atomic_numbers().copy()
    numbers[np.asarray(dopants, dtype=np.int64)] += 1000  # dopant sites are their own species
    return spglib_operations(atoms.cell[:], atoms.get_scaled_positions(), numbers, symprec)


def analyse_sites(atoms: Any, dopant_indices: Sequence[int] | None = None, symprec: float = 1e-3) -> SiteAnalysis:
    """Find T and H sites and the doped cell's symmetry acting on them (internal)."""
    atoms, dopants = prepare_host(atoms, dopant_indices)
    t_frac = find_t_sites(atoms)
    pairs, fvec = t_neighbour_pairs(atoms, t_frac)
    h_frac = wrap_frac(t_frac[pairs[:, 0]] + 0.5 * fvec)
    rot, trans = doped_operations(atoms, dopants, symprec)
    pure_t, reps = generating_operations(rot, trans)
    gens = np.concatenate([pure_t, reps])
    t_perm = map_points(rot[gens], trans[gens], t_frac)
    h_perm = map_points(rot[gens], trans[gens], h_frac)
    cell = atoms.cell[:]
    if dopants.size:
        dpos = atoms.get_scaled_positions()[dopants]

        def nearest(fr: np.ndarray) -> np.ndarray:
            vec = ((dpos[None, :, :] - fr[:, None, :]).reshape(-1, 3)) @ cell
            return mic_lengths(vec, cell).reshape(len(fr), -1).min(axis=1)

        t_dist, h_dist = nearest(t_frac), nearest(h_frac)
    else:
        t_dist = h_dist = None
    return SiteAnalysis(
        atoms=atoms,
        dopant_indices=tuple(int(x) for x in dopants),
        t_frac=t_frac,
        h_frac=h_frac,
        h_pairs=pairs,
        h_vec=fvec,
        t_perm=t_perm,
        h_perm=h_perm,
        t_dist=t_dist,
        h_dist=h_dist,
    )


def _classes(
    kind: str, frac: np.ndarray, perm: np.ndarray, dist: np.ndarray | None, cell: np.ndarray
) -> tuple[list[SiteClass], np.ndarray]:
    """Site classes in label order and the class index of every site."""
    labels = orbit_labels(perm)
    groups = []
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        order = np.lexsort(np.round(frac[idx], 6).T[::-1])
        idx = idx[order]
        d = None if dist is None else float(np.round(dist[idx].max(), 6))
        groups.append((idx, d))
    groups.sort(key=lambda g: (0.0 if g[1] is None else g[1], -len(g[0]), tuple(np.round(frac[g[0][0]], 6))))
    out = []
    class_of = np.empty(len(frac), dtype=np.int64)
    for n, (idx, d) in enumerate(groups):
        class_of[idx] = n
        rep = frac[idx[0]]
        out.append(
            SiteClass(
                label=f"{kind}{n + 1}",
                kind=kind,
                multiplicity=int(len(idx)),
                frac=rep.copy(),
                cart=rep @ cell,
                distance_to_dopant=d,
                members=frac[idx].copy(),
            )
        )
    return out, class_of


def li_sites(atoms: Any, dopant_indices: Sequence[int] | None = None, symprec: float = 1e-3) -> SiteSet:
    """Symmetry classes of the T and H Li sites of a (doped) host.

    Parameters
    ----------
    atoms
        ASE ``Atoms``, pymatgen ``Structure`` or a :class:`DopedCell` (unrelaxed: the
        classes use the ideal symmetry).
    dopant_indices
        Atom indices of the dopants; default: every atom that is not Si.
    symprec
        spglib tolerance, Angstrom.

    Returns
    -------
    SiteSet
        ``T`` and ``H`` class lists, labelled by increasing distance to the nearest dopant.
    """
    ana = analyse_sites(atoms, dopant_indices, symprec)
    cell = ana.atoms.cell[:]
    t_cls, _ = _classes("T", ana.t_frac, ana.t_perm, ana.t_dist, cell)
    h_cls, _ = _classes("H", ana.h_frac, ana.h_perm, ana.h_dist, cell)
    return SiteSet(T=t_cls, H=h_cls)
