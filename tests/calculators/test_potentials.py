"""Stillinger-Weber and the test pair potential: forces and stress are derivatives of the energy;
SW and Tersoff reproduce their papers' diamond-Si numbers."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress

from sianode.calculators import get_calculator


def _distorted(symbols=None):
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    if symbols:
        for index, symbol in symbols.items():
            atoms[index].symbol = symbol
    atoms.rattle(0.1, seed=3)
    atoms.set_cell(atoms.cell @ np.array([[1.01, 0.0, 0.0], [0.02, 1.0, 0.0], [0.0, 0.0, 0.99]]), scale_atoms=True)
    return atoms


@pytest.mark.parametrize("name,symbols", [("sw", None), ("lj-test", {0: "Li", 1: "B", 2: "P", 3: "S", 4: "Ge"})])
def test_forces_and_stress_are_derivatives(name, symbols):
    atoms = _distorted(symbols)
    atoms.calc = get_calculator(name).make()
    forces, stress = atoms.get_forces(), atoms.get_stress()
    assert np.abs(forces - calculate_numerical_forces(atoms, eps=1e-5)).max() < 1e-6
    assert np.abs(stress - calculate_numerical_stress(atoms, eps=1e-6)).max() < 1e-7


@pytest.mark.parametrize("name,params,energy", [
    ("sw", {}, -4.3366),                          # 2 eps, Stillinger & Weber (1985)
    ("tersoff", {"variant": "Si(B)"}, -4.63),     # Tersoff, PRB 37, 6991 (1988)
    ("tersoff", {"variant": "Si(C)"}, -4.63),     # Tersoff, PRB 38, 9902 (1988)
])
def test_cohesive_energy_of_diamond_si(name, params, energy):
    atoms = bulk("Si", "diamond", a=5.431)
    atoms.calc = get_calculator(name, **params).make()
    assert atoms.get_potential_energy() / len(atoms) == pytest.approx(energy, abs=2e-3)
