"""Tests of sianode.calculators.guards against brute-force distances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from sianode.calculators.guards import MIN_DISTANCE_A, check_finite, check_geometry, min_distance
from sianode.errors import CalculationFailed


def _brute_min_distance(atoms):
    pos = atoms.get_positions()
    cell = atoms.cell.array
    best = np.inf
    for s in itertools.product((-1, 0, 1), repeat=3):
        shift = np.array(s) @ cell
        d = np.linalg.norm(pos[:, None, :] - pos[None, :, :] + shift, axis=-1)
        if s == (0, 0, 0):
            np.fill_diagonal(d, np.inf)
        best = min(best, d.min())
    return best


def test_min_distance_close_pair_matches_brute_force():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.append("Li")
    atoms.positions[-1] = atoms.positions[3] + [0.2, 0.1, -0.15]
    expected = _brute_min_distance(atoms)
    assert expected < MIN_DISTANCE_A
    assert min_distance(atoms) == pytest.approx(expected, abs=1e-10)


def test_min_distance_across_periodic_boundary():
    atoms = Atoms("H2", positions=[[0.1, 0, 0], [9.8, 0, 0]], cell=[10, 10, 10], pbc=True)
    assert min_distance(atoms) == pytest.approx(_brute_min_distance(atoms))
    assert min_distance(atoms) == pytest.approx(0.3)


def test_min_distance_far_atoms_is_inf():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    assert _brute_min_distance(atoms) > MIN_DISTANCE_A
    assert min_distance(atoms) == float("inf")


def test_check_geometry_raises_for_close_atoms():
    atoms = Atoms("SiLi", positions=[[0, 0, 0], [0.3, 0, 0]], cell=[8, 8, 8], pbc=True)
    with pytest.raises(CalculationFailed, match="0.300"):
        check_geometry(atoms)


def test_check_geometry_passes_at_the_limit_plus_margin():
    atoms = Atoms("SiLi", positions=[[0, 0, 0], [MIN_DISTANCE_A + 0.01, 0, 0]], cell=[8, 8, 8], pbc=True)
    check_geometry(atoms)


def test_check_geometry_raises_for_empty_and_nan():
    with pytest.raises(CalculationFailed):
        check_geometry(Atoms(cell=[3, 3, 3], pbc=True))
    atoms = Atoms("H2", positions=[[0, 0, 0], [np.nan, 1, 1]], cell=[5, 5, 5], pbc=True)
    with pytest.raises(CalculationFailed):
        check_geometry(atoms)


@pytest.mark.parametrize("results", [
    {"energy": float("nan")},
    {"energy": 1.0, "forces": np.array([[0.0, np.inf, 0.0]])},
    {"energy": 1.0, "stress": np.array([0, 0, 0, np.nan, 0, 0])},
])
def test_check_finite_raises(results):
    with pytest.raises(CalculationFailed):
        check_finite(results)


def test_check_finite_accepts_finite_and_missing():
    check_finite({"energy": -3.2, "forces": np.zeros((2, 3)), "stress": None})
