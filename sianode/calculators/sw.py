"""Stillinger-Weber potential for silicon, vectorised numpy (energy, forces, stress).

F. H. Stillinger and T. A. Weber, Phys. Rev. B 31, 5262 (1985):

    E = sum_{i<j} phi2(r_ij) + sum_i sum_{j<k} h(r_ij, r_ik, theta_jik)
    phi2(r) = eps A (B (r/sigma)^-p - (r/sigma)^-q) exp(1 / (r/sigma - a)),   r < a sigma
    h       = eps lambda exp(gamma / (r_ij/sigma - a) + gamma / (r_ik/sigma - a)) (cos theta_jik + 1/3)^2

with eps = 2.1683 eV, sigma = 2.0951 A, A = 7.049556277, B = 0.6022245584, p = 4, q = 0,
a = 1.80, lambda = 21.0, gamma = 1.20 (Si; diamond a0 = 5.431 A, cohesive energy 2 eps = 4.3366 eV).
ASE has no Stillinger-Weber calculator, hence this one.
"""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from sianode.calculators.pair import accumulate_pair_gradients, finish_results

#: Stillinger & Weber (1985) parameters for Si.
SW_SI = {"epsilon": 2.1683, "sigma": 2.0951, "A": 7.049556277, "B": 0.6022245584, "p": 4.0, "q": 0.0,
         "a": 1.80, "lambda": 21.0, "gamma": 1.20}


class StillingerWeber(Calculator):
    """Stillinger-Weber (1985) Si potential as an ASE calculator (Si only)."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]
    default_parameters = dict(SW_SI)

    def calculate(self, atoms=None, properties=None, system_changes=all_changes) -> None:
        from ase.neighborlist import neighbor_list

        Calculator.calculate(self, atoms, properties, system_changes)
        atoms = self.atoms
        symbols = set(atoms.get_chemical_symbols())
        if symbols - {"Si"}:
            raise ValueError(f"Stillinger-Weber Si supports Si only, got {sorted(symbols)}")
        p = self.parameters
        eps, sig, a, gam = p["epsilon"], p["sigma"], p["a"], p["gamma"]
        i, j, d, D = neighbor_list("ijdD", atoms, a * sig - 1e-9)
        n = len(atoms)
        x = d / sig
        inv = 1.0 / (x - a)
        # two body, full list -> factor 1/2
        u = p["B"] * x ** -p["p"] - x ** -p["q"]
        du = -p["p"] * p["B"] * x ** (-p["p"] - 1) + p["q"] * x ** (-p["q"] - 1)
        ex = np.exp(inv)
        e2 = eps * p["A"] * u * ex
        de2 = eps * p["A"] * (du - u * inv ** 2) * ex / sig
        energy = 0.5 * e2.sum()
        g = (0.5 * de2 / d)[:, None] * D
        # three body: pairs (A, B) of bonds of the same centre i, A < B
        counts = np.bincount(i, minlength=n)
        starts = np.cumsum(counts) - counts
        per = counts[i]
        A = np.repeat(np.arange(len(i)), per)
        offset = np.arange(len(A)) - np.repeat(np.cumsum(per) - per, per)
        B = starts[i[A]] + offset
        keep = A < B
        A, B = A[keep], B[keep]
        f = np.exp(gam * inv)  # radial factor per bond
        df = -f * gam * inv ** 2 / sig
        rA, rB, DA, DB = d[A], d[B], D[A], D[B]
        cos = np.einsum("ij,ij->i", DA, DB) / (rA * rB)
        s = cos + 1.0 / 3.0
        lam = eps * p["lambda"]
        energy += lam * np.sum(f[A] * f[B] * s * s)
        dcos_dA = DB / (rA * rB)[:, None] - (cos / rA ** 2)[:, None] * DA
        dcos_dB = DA / (rA * rB)[:, None] - (cos / rB ** 2)[:, None] * DB
        gA = lam * ((df[A] * f[B] * s * s / rA)[:, None] * DA + (2 * f[A] * f[B] * s)[:, None] * dcos_dA)
        gB = lam * ((f[A] * df[B] * s * s / rB)[:, None] * DB + (2 * f[A] * f[B] * s)[:, None] * dcos_dB)
        forces, virial = accumulate_pair_gradients(
            n, np.concatenate([i, i[A], i[B]]), np.concatenate([j, j[A], j[B]]),
            np.concatenate([D, DA, DB]), np.concatenate([g, gA, gB]))
        self.results = finish_results(atoms, energy, forces, virial)
