"""A cheap Lennard-Jones pair potential for *any* element. NOT PHYSICS.

Used by sianode's own workflow tests and reliability drills, where what matters is that a
calculation runs fast and deterministically for Si, B, P, S, Ge and Li, not what the numbers
mean. Do not read lattice constants, insertion energies or barriers from it.

Pair parameters: sigma_ij = (r_i + r_j) / 2**(1/6), with r the covalent radii of ASE
(``ase.data.covalent_radii``, Cordero et al., Dalton Trans. (2008) 2832), so the pair
minimum sits at the sum of covalent radii; one well depth ``epsilon_eV`` for all pairs.
The Lennard-Jones form is shifted-force at ``cutoff_A`` so energy and forces are continuous
(Allen & Tildesley, Computer Simulation of Liquids, 2nd ed. (2017), sec. 1.4.3).
"""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

#: elements with a tabulated covalent radius (Z = 1..86).
MAX_Z = 86


def supported_symbols() -> frozenset[str]:
    """Chemical symbols the test pair potential accepts."""
    from ase.data import chemical_symbols

    return frozenset(chemical_symbols[1:MAX_Z + 1])


def accumulate_pair_gradients(natoms: int, i: np.ndarray, j: np.ndarray, D: np.ndarray,
                              g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forces (natoms, 3) and virial (3, 3) from dE/dD for bond vectors D = r_j - r_i.

    ``g[n] = dE/dD[n]`` (eV/A); force on j is -g, on i is +g; virial = sum_n g_n (x) D_n.
    """
    forces = np.zeros((natoms, 3))
    for axis in range(3):
        forces[:, axis] += np.bincount(i, weights=g[:, axis], minlength=natoms)
        forces[:, axis] -= np.bincount(j, weights=g[:, axis], minlength=natoms)
    virial = g.T @ D
    return forces, virial


def finish_results(atoms, energy: float, forces: np.ndarray, virial: np.ndarray) -> dict:
    """ASE results dict: energy, free_energy, forces, stress (Voigt, eV/A^3; only for 3D cells)."""
    from ase.stress import full_3x3_to_voigt_6_stress

    results = {"energy": float(energy), "free_energy": float(energy), "forces": forces}
    if atoms.cell.rank == 3:
        virial = 0.5 * (virial + virial.T)
        results["stress"] = full_3x3_to_voigt_6_stress(virial / atoms.get_volume())
    return results


class TestPairPotential(Calculator):
    """Shifted-force Lennard-Jones for any element (Z <= 86). NOT PHYSICS: tests only.

    Parameters
    ----------
    epsilon_eV : float
        Well depth of every pair (eV).
    cutoff_A : float
        Cutoff radius (Angstrom).
    """

    __test__ = False  # not a pytest class
    implemented_properties = ["energy", "free_energy", "forces", "stress"]
    default_parameters = {"epsilon_eV": 0.5, "cutoff_A": 5.0}

    def calculate(self, atoms=None, properties=None, system_changes=all_changes) -> None:
        from ase.data import covalent_radii
        from ase.neighborlist import neighbor_list

        Calculator.calculate(self, atoms, properties, system_changes)
        atoms = self.atoms
        eps = float(self.parameters["epsilon_eV"])
        rc = float(self.parameters["cutoff_A"])
        z = atoms.get_atomic_numbers()
        if z.max(initial=1) > MAX_Z:
            raise ValueError(f"TestPairPotential supports Z <= {MAX_Z}")
        i, j, d, D = neighbor_list("ijdD", atoms, rc)
        sigma = (covalent_radii[z[i]] + covalent_radii[z[j]]) / 2 ** (1 / 6)

        def phi(r):
            s6 = (sigma / r) ** 6
            return 4 * eps * (s6 * s6 - s6), 4 * eps * (-12 * s6 * s6 + 6 * s6) / r

        e, de = phi(d)
        e_c, de_c = phi(np.full_like(d, rc))
        e_sf = e - e_c - (d - rc) * de_c
        de_sf = de - de_c
        energy = 0.5 * e_sf.sum()  # full neighbour list: each pair twice
        g = (0.5 * de_sf / d)[:, None] * D
        forces, virial = accumulate_pair_gradients(len(atoms), i, j, D, g)
        self.results = finish_results(atoms, energy, forces, virial)
