"""Tests of sianode.structures.symmetry against brute-force references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms

from sianode.errors import InputError
from sianode.structures.symmetry import (
    PermutationGroup,
    map_points,
    mic_lengths,
    mic_vectors,
    orbit_labels,
    wrap_frac,
)

from .structures_reference import brute_perms, diamond


def _brute_mic_lengths(vec, cell, reach=10):
    shifts = np.array(list(itertools.product(range(-reach, reach + 1), repeat=3))) @ cell
    return np.linalg.norm(vec[:, None, :] + shifts[None, :, :], axis=-1).min(axis=1)


def test_wrap_frac_range_and_equivalence():
    x = np.array([[-0.25, 1.0, 2.5], [1.0 - 1e-14, -1e-13, 0.3], [3.75, -2.0, 0.999]])
    w = wrap_frac(x)
    assert np.all(w >= 0) and np.all(w < 1)
    d = w - x
    assert np.allclose(d, np.round(d), atol=1e-9)  # differ by whole lattice vectors
    assert w[0, 1] == 0.0 and w[1, 0] == 0.0


@pytest.mark.parametrize("cell", [
    np.diag([5.0, 6.0, 7.0]),
    np.array([[5.0, 0, 0], [2.0, 5.5, 0], [1.0, 1.5, 6.0]]),
    np.array([[0.0, 2.7, 2.7], [2.7, 0.0, 2.7], [2.7, 2.7, 0.0]]),  # fcc primitive
])
def test_mic_lengths_vs_brute_force(cell):
    rng = np.random.default_rng(4)
    vec = rng.uniform(-15, 15, size=(200, 3))
    assert np.allclose(mic_lengths(vec, cell), _brute_mic_lengths(vec, cell), atol=1e-9)
    # the returned vectors differ from the input by lattice vectors
    frac_diff = np.linalg.solve(cell.T, (mic_vectors(vec, cell) - vec).T).T
    assert np.allclose(frac_diff, np.round(frac_diff), atol=1e-9)


def test_pure_8_atom_cell_is_one_orbit_of_8():
    atoms = diamond((1, 1, 1))
    group = PermutationGroup.from_atoms(atoms)
    labels = group.orbits()
    assert len(atoms) == 8
    assert np.array_equal(np.bincount(labels), [8])
    assert group.order == len(brute_perms(atoms)) == 192  # Fd-3m: 48 rotations x 4 fcc translations


def test_full_table_equals_brute_force_permutations():
    atoms = diamond((1, 1, 1))
    table = PermutationGroup.from_atoms(atoms).full_table()
    mine = {tuple(p) for p in table}
    ref = {tuple(p) for p in brute_perms(atoms)}
    assert len(mine) == len(table)
    assert mine == ref


def test_dopant_splits_orbits_and_stabilizer_fixes_site():
    atoms = diamond((1, 1, 1))
    numbers = atoms.numbers.copy()
    numbers[0] = 3
    group = PermutationGroup.from_atoms(atoms, numbers=numbers)
    labels = group.orbits()
    assert labels[0] == 0 and np.sum(labels == 0) == 1
    # brute force: the stabiliser of site 0 in the pure group is the subgroup fixing 0
    pure = brute_perms(atoms)
    pure_group = PermutationGroup.from_atoms(atoms)
    stab = pure_group.stabilizer(0)
    assert len(stab) == int(np.sum(pure[:, 0] == 0)) == 24
    assert np.all(stab[:, 0] == 0)


def test_elements_to_reaches_targets():
    atoms = diamond((1, 1, 1))
    group = PermutationGroup.from_atoms(atoms)
    targets = np.roll(np.arange(8), 3)
    t, r = group.elements_to(targets)
    assert np.array_equal(group.apply(t, r, np.arange(8)), targets)


def test_orbit_labels_of_explicit_permutations():
    perms = np.array([[1, 0, 2, 4, 3, 5], [0, 1, 2, 3, 5, 4]])
    assert orbit_labels(perms).tolist() == [0, 0, 1, 2, 2, 2]


def test_map_points_raises_for_asymmetric_set():
    rot = np.array([-np.eye(3, dtype=int)])
    with pytest.raises(InputError):
        map_points(rot, np.zeros((1, 3)), np.array([[0.1, 0.2, 0.3]]))


def test_atoms_type_sanity():
    assert isinstance(diamond((1, 1, 1)), Atoms)
