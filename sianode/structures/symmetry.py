"""Space-group operations of a periodic structure as permutation tables.

spglib (Togo, Shinohara, Tanaka, Sci. Technol. Adv. Mater. Meth. 4 (2024) 2384822)
returns the operations ``x' = R x + t`` (fractional coordinates) of a cell. Here they
are turned into permutations of a set of points (atoms, interstitial sites):
``perm[g, i]`` is the index of the point that point ``i`` is sent to by operation ``g``,
so ``(h o g)(i) = perm[h, perm[g, i]]``.

A supercell group ``G`` is the product ``T . R`` of its pure lattice translations ``T``
(a normal subgroup) and one coset representative per distinct rotation ``R``. Only
``|T| + |R|`` permutations are built (for the 512-site diamond cell 256 + 48 instead
of 12288); any element, a stabiliser or an orbit is derived from them.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from sianode.errors import InputError

log = logging.getLogger(__name__)

#: fractional tolerance used to match a transformed point to a listed one
MATCH_TOL = 1e-3


def wrap_frac(frac: np.ndarray) -> np.ndarray:
    """Wrap fractional coordinates into ``[0, 1)`` (no value equal to 1.0 survives)."""
    out = np.mod(np.asarray(frac, dtype=float), 1.0)
    out[out >= 1.0 - 1e-12] = 0.0
    return out


def mic_vectors(vec: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Minimum-image versions of Cartesian vectors ``vec`` (M, 3) in a periodic ``cell`` (3, 3).

    Fractional parts are wrapped to ``[-1/2, 1/2)`` and the shortest of the 27 neighbouring
    images is kept (exact for any reasonably reduced cell).
    """
    vec = np.asarray(vec, dtype=float).reshape(-1, 3)
    cell = np.asarray(cell, dtype=float)
    frac = np.linalg.solve(cell.T, vec.T).T
    frac -= np.round(frac)
    if np.allclose(cell, np.diag(np.diag(cell))):  # orthorhombic: wrapping is exact
        return frac @ cell
    shifts = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1], indexing="ij")).reshape(3, -1).T
    cand = (frac[:, None, :] + shifts[None, :, :]) @ cell  # (M, 27, 3)
    best = np.argmin(np.einsum("mij,mij->mi", cand, cand), axis=1)
    return cand[np.arange(len(vec)), best]


def mic_lengths(vec: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Lengths (M,) of the minimum-image vectors, Angstrom."""
    return np.linalg.norm(mic_vectors(vec, cell), axis=1)


def spglib_operations(
    cell: np.ndarray, frac: np.ndarray, numbers: np.ndarray, symprec: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(rotations (G, 3, 3) int, translations (G, 3) float)`` from spglib.

    Raises
    ------
    InputError
        When spglib finds no symmetry (the cell is not a valid crystal).
    """
    import spglib

    with warnings.catch_warnings():  # spglib 2.x warns about its legacy error handling
        warnings.simplefilter("ignore", DeprecationWarning)
        sym = spglib.get_symmetry((np.asarray(cell), np.asarray(frac), np.asarray(numbers)), symprec=symprec)
    if sym is None:
        raise InputError(f"spglib found no symmetry for this structure at symprec={symprec}; try a larger symprec")
    return np.asarray(sym["rotations"], dtype=int), np.asarray(sym["translations"], dtype=float)


def generating_operations(rotations: np.ndarray, translations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split operations into pure translations and one representative per rotation.

    Returns
    -------
    (pure_t, reps)
        ``pure_t``: indices of the operations with ``R = 1`` (includes the identity);
        ``reps``: for each distinct rotation, the index of its first operation.
        Together they generate the whole group (``G = T . R``).
    """
    ident = np.all(rotations.reshape(len(rotations), 9) == np.eye(3, dtype=int).ravel(), axis=1)
    pure_t = np.flatnonzero(ident)
    _, first = np.unique(rotations.reshape(len(rotations), 9), axis=0, return_index=True)
    return pure_t, np.sort(first)


def map_points(
    rotations: np.ndarray, translations: np.ndarray, frac: np.ndarray, tol: float = MATCH_TOL
) -> np.ndarray:
    """Permutation table of the points ``frac`` (P, 3) under the operations.

    Returns
    -------
    numpy.ndarray
        ``(G, P)`` int array; ``out[g, i]`` is the index of ``R_g frac_i + t_g``.

    Raises
    ------
    InputError
        When an image matches no point (the set is not symmetric within ``tol``).
    """
    from scipy.spatial import cKDTree

    frac = wrap_frac(frac)
    tree = cKDTree(frac, boxsize=1.0)
    images = np.einsum("gij,pj->gpi", rotations, frac) + translations[:, None, :]
    images = wrap_frac(images.reshape(-1, 3))
    dist, idx = tree.query(images, distance_upper_bound=tol)
    if np.any(~np.isfinite(dist)):
        raise InputError(
            f"{int(np.sum(~np.isfinite(dist)))} symmetry images match no site within {tol} (fractional); "
            "the structure is not symmetric at this tolerance: try a larger symprec"
        )
    return idx.reshape(len(rotations), len(frac)).astype(np.int64)


def orbit_labels(perms: np.ndarray) -> np.ndarray:
    """Orbit index (0, 1, ... in order of first appearance) of each point.

    Orbits are the connected components of the graph ``i -- perm[g, i]`` over the given
    permutations, i.e. orbits of the group they generate.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = perms.shape[1]
    rows = np.tile(np.arange(n), len(perms))
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, perms.ravel())), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # relabel by first appearance so labels are reproducible
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    remap = np.empty_like(order)
    remap[order] = np.arange(order.size)
    return remap[labels]


@dataclass
class PermutationGroup:
    """A space group acting on ``n`` points, stored as ``T . R``.

    Attributes
    ----------
    translations : numpy.ndarray
        ``(nT, n)`` permutations of the pure lattice translations (identity first).
    cosets : numpy.ndarray
        ``(nR, n)`` permutations, one per distinct rotation.
    """

    translations: np.ndarray
    cosets: np.ndarray

    @property
    def order(self) -> int:
        """Number of group elements ``|T| x |R|``."""
        return int(len(self.translations) * len(self.cosets))

    @property
    def n_points(self) -> int:
        return int(self.translations.shape[1])

    @classmethod
    def from_atoms(cls, atoms: Any, numbers: np.ndarray | None = None, symprec: float = 1e-3) -> PermutationGroup:
        """Build the group of ``atoms`` (ASE) acting on its atoms.

        ``numbers`` overrides the species spglib sees (e.g. to mark dopant sites).
        """
        numbers = atoms.get_atomic_numbers() if numbers is None else np.asarray(numbers)
        rot, trans = spglib_operations(atoms.cell[:], atoms.get_scaled_positions(), numbers, symprec)
        return cls.from_operations(rot, trans, atoms.get_scaled_positions())

    @classmethod
    def from_operations(cls, rotations: np.ndarray, translations: np.ndarray, frac: np.ndarray) -> PermutationGroup:
        """Build the group acting on the points ``frac`` (P, 3) from spglib operations."""
        pure_t, reps = generating_operations(rotations, translations)
        tperm = map_points(rotations[pure_t], translations[pure_t], frac)
        rperm = map_points(rotations[reps], translations[reps], frac)
        ident = np.flatnonzero(np.all(tperm == np.arange(tperm.shape[1]), axis=1))
        order = np.concatenate([ident[:1], np.setdiff1d(np.arange(len(tperm)), ident[:1])])
        group = cls(translations=tperm[order], cosets=rperm)
        if group.order != len(rotations):
            log.warning("group order %d != %d spglib operations", group.order, len(rotations))
        return group

    def full_table(self) -> np.ndarray:
        """All ``|G|`` permutations, ``(|G|, n)`` (memory ``|G| n`` ints; build only when small)."""
        # element (t, r): i -> T_t[R_r[i]]
        return self.translations[:, self.cosets].reshape(-1, self.n_points)

    def orbits(self) -> np.ndarray:
        """Orbit label of each point (see :func:`orbit_labels`)."""
        return orbit_labels(np.concatenate([self.translations, self.cosets]))

    def stabilizer(self, site: int) -> np.ndarray:
        """Permutations ``(|Stab|, n)`` of every element that fixes ``site``.

        ``g = T_t R_r`` fixes ``site`` iff ``T_t`` sends ``R_r(site)`` back to ``site``;
        a pure translation acts freely, so at most one ``t`` works per ``r``.
        """
        to_site = self._translation_to(site)
        out = []
        for r in range(len(self.cosets)):
            t = to_site[self.cosets[r, site]]
            if t >= 0:
                out.append(self.translations[t][self.cosets[r]])
        return np.asarray(out, dtype=np.int64)

    def _translation_to(self, site: int) -> np.ndarray:
        """For each point ``x``, the translation index sending ``x`` to ``site`` (or -1)."""
        out = np.full(self.n_points, -1, dtype=np.int64)
        t_idx, x = np.nonzero(self.translations == site)
        out[x] = t_idx
        return out

    def elements_to(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each point ``x``, one element ``(t, r)`` with ``T_t R_r x = targets[x]``.

        ``targets[x]`` must lie in the orbit of ``x``. Returns index arrays ``(t, r)``
        of shape ``(n,)``.
        """
        n = self.n_points
        t_out = np.full(n, -1, dtype=np.int64)
        r_out = np.full(n, -1, dtype=np.int64)
        # lookup: which translation maps point a to point b
        trans_of = np.full((n, n), -1, dtype=np.int64) if n <= 2048 else None
        if trans_of is not None:
            t_grid = np.broadcast_to(np.arange(len(self.translations))[:, None], self.translations.shape)
            trans_of[np.broadcast_to(np.arange(n), self.translations.shape), self.translations] = t_grid
        for r in range(len(self.cosets)):
            todo = np.flatnonzero(t_out < 0)
            if todo.size == 0:
                break
            moved = self.cosets[r, todo]
            if trans_of is not None:
                t = trans_of[moved, targets[todo]]
            else:  # pragma: no cover - very large cells
                t = np.array([self._translation_to(targets[x])[m] for x, m in zip(todo, moved)])
            ok = t >= 0
            t_out[todo[ok]] = t[ok]
            r_out[todo[ok]] = r
        if np.any(t_out < 0):
            raise ValueError("some target is not in the orbit of its point")
        return t_out, r_out

    def apply(self, t: np.ndarray, r: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Apply element ``(t, r)`` (broadcast) to ``points``: ``T_t[R_r[points]]``."""
        return self.translations[t, self.cosets[r, points]]
