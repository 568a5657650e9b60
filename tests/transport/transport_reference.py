"""Builders of the transport tests: small networks with known answers."""

from __future__ import annotations

import numpy as np

from sianode.transport import HopNetwork, diamond_t_network

A_SI = 5.431  # Angstrom, experimental c-Si (PHYSICS.md section 1)


def random_diamond_network(n_cells: int, seed: int, *, site_spread: float = 0.1, barrier=(0.2, 0.35)) -> HopNetwork:
    """Diamond T network with random site energies and saddles above both ends."""
    net = diamond_t_network(n_cells, A_SI, saddle_energy_eV=0.5)
    rng = np.random.default_rng(seed)
    energies = rng.uniform(0.0, site_spread, net.n_sites)
    saddle = np.maximum(energies[net.i], energies[net.j]) + rng.uniform(*barrier, net.n_hops)
    return HopNetwork(net.cell_A, net.frac, energies, net.i, net.j, net.image, saddle)


def chain_network(energies, saddles, a_A: float = 2.0) -> HopNetwork:
    """Periodic 1D chain along x embedded in 3D: site k at x = k a, hop k -> k+1 (the last wraps)."""
    n = len(energies)
    cell = np.diag([n * a_A, 10.0, 10.0])
    frac = np.column_stack([np.arange(n) / n, np.zeros(n), np.zeros(n)])
    i = np.arange(n)
    j = (i + 1) % n
    image = np.zeros((n, 3), dtype=int)
    image[-1, 0] = 1
    return HopNetwork(cell, frac, energies, i, j, image, saddles)
