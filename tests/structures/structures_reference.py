"""Independent reference helpers for the structures tests (no sianode code here)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
from ase.build import bulk

A = 5.431


def diamond(reps=(2, 2, 2), a: float = A):
    """Pure diamond Si built directly with ASE (independent of sianode)."""
    return bulk("Si", "diamond", a=a, cubic=True).repeat(reps)


def brute_perms(atoms) -> np.ndarray:
    """All symmetry operations of ``atoms`` as atom permutations, by direct matching."""
    import spglib

    frac = atoms.get_scaled_positions()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sym = spglib.get_symmetry((atoms.cell[:], frac, atoms.numbers), symprec=1e-4)
    perms = []
    for r, t in zip(sym["rotations"], sym["translations"]):
        img = frac @ r.T + t
        diff = img[:, None, :] - frac[None, :, :]
        diff -= np.round(diff)
        match = np.all(np.abs(diff) < 1e-5, axis=2)
        assert np.all(match.sum(axis=1) == 1)
        perms.append(np.argmax(match, axis=1))
    return np.array(perms)


def brute_orbits(perms: np.ndarray, n_sites: int, k: int) -> list[int]:
    """Sorted orbit sizes of all k-subsets under the permutations (apply every op to every set)."""
    sets = np.array(list(itertools.combinations(range(n_sites), k)))
    images = np.sort(perms[:, sets], axis=2)  # (G, M, k)
    weights = n_sites ** np.arange(k - 1, -1, -1)
    codes = images @ weights  # (G, M)
    canon = codes.min(axis=0)
    _, counts = np.unique(canon, return_counts=True)
    return sorted(counts.tolist())


