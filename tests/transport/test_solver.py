"""Tests of sianode/transport/solver.py against independent numbers (PHYSICS.md section 6)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.units import kB

from sianode.transport import (
    HopNetwork,
    NetworkError,
    diamond_t_network,
    diamond_tst_diffusivity,
    diffusion_tensor,
    diffusivity,
    solve_cell_problem,
)

from .transport_reference import A_SI, chain_network, random_diamond_network


@pytest.mark.parametrize("n_cells", [1, 2, 3, (1, 2, 3)])
def test_perfect_diamond_equals_random_walk_formula(n_cells):
    """(1/6) z d^2 nu exp(-Ea/kT), z = 4, d = sqrt(3)/4 a, written out here independently."""
    ea, t, nu = 0.58, 300.0, 1e13
    net = diamond_t_network(n_cells, A_SI, site_energy_eV=-0.2, saddle_energy_eV=ea - 0.2, attempt_frequency_Hz=nu)
    d_m = np.sqrt(3) / 4 * A_SI * 1e-10
    expected = 4 * d_m**2 * nu * np.exp(-ea / (kB * t)) / 6
    tensor = diffusion_tensor(net, t)
    np.testing.assert_allclose(tensor, expected * np.eye(3), rtol=1e-12, atol=1e-12 * expected)
    assert diamond_tst_diffusivity(A_SI, ea, t, nu) == pytest.approx(expected, rel=1e-14)
    # the corrector vanishes by symmetry (every site's hop vectors sum to zero)
    assert np.abs(solve_cell_problem(net, t).chi_A).max() < 1e-9


def test_cubic_symmetric_doped_cell_is_isotropic():
    """A 'dopant' on a Si site with radial site/saddle shifts keeps T_d symmetry: D isotropic, not pure."""
    net = diamond_t_network(2, A_SI, saddle_energy_eV=0.5)
    dopant = np.array([0.125, 0.125, 0.125])  # Si at (1/4,1/4,1/4) a

    def dist(frac):
        f = frac - dopant
        f -= np.round(f)
        return np.linalg.norm(f @ net.cell_A, axis=1)

    energies = -0.25 * np.exp(-dist(net.frac) / 2.0)
    saddle = 0.5 + 0.15 * np.exp(-dist(net.hop_midpoints_frac()) / 2.0)
    doped = HopNetwork(net.cell_A, net.frac, energies, net.i, net.j, net.image, saddle)
    sol = solve_cell_problem(doped, 300.0)
    tensor = sol.tensor_m2_s
    d = np.trace(tensor) / 3
    np.testing.assert_allclose(tensor, d * np.eye(3), rtol=0, atol=1e-10 * d)
    assert np.abs(sol.chi_A).max() > 1e-3  # a non-trivial corrector
    assert d < 0.5 * diffusivity(net, 300.0)  # the traps slow Li down


def test_random_network_tensor_rotates_with_the_network():
    """Relabelling x <-> y of a random network swaps D_xx and D_yy (and keeps D_xy)."""
    net = random_diamond_network(2, seed=11)
    swap = np.array([1, 0, 2])
    swapped = HopNetwork(net.cell_A[np.ix_(swap, swap)], net.frac[:, swap], net.energies_eV, net.i, net.j,
                         net.image[:, swap], net.saddle_eV)
    a, b = diffusion_tensor(net, 500.0), diffusion_tensor(swapped, 500.0)
    np.testing.assert_allclose(b, a[np.ix_(swap, swap)], rtol=1e-10)


def test_chain_of_alternating_barriers_gives_harmonic_mean():
    """1D chain, equal site energies: D = a^2 / <1/k> (Haus, Kehr, Phys. Rep. 150 (1987) 263)."""
    a, t, nu = 2.0, 400.0, 1e13
    saddles = np.array([0.3, 0.5] * 3)
    chain = chain_network(np.zeros(6), saddles, a_A=a)
    k = nu * np.exp(-saddles / (kB * t))
    expected = (a * 1e-10) ** 2 / np.mean(1.0 / k)
    tensor = diffusion_tensor(chain, t, check_percolation=False)
    assert tensor[0, 0] == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(tensor[1:, :], 0.0, atol=1e-12 * expected)
    # much slower than the arithmetic mean: the slow hop limits
    assert tensor[0, 0] < 0.1 * (a * 1e-10) ** 2 * k.mean()
    with pytest.raises(NetworkError, match="does not percolate in 3D"):
        diffusion_tensor(chain, t)


def test_chain_with_random_sites_and_saddles():
    """1D chain: D = a^2 nu / (<exp(-E/kT)> <exp(E^s/kT)>) (series conductances, derived in the solver tests)."""
    rng = np.random.default_rng(5)
    a, t, nu = 1.7, 350.0, 2e12
    e = rng.uniform(-0.1, 0.1, 9)
    s = np.maximum(e, np.roll(e, -1)) + rng.uniform(0.1, 0.4, 9)
    beta = 1 / (kB * t)
    expected = (a * 1e-10) ** 2 * nu / (np.mean(np.exp(-beta * e)) * np.mean(np.exp(beta * s)))
    chain = chain_network(e, s, a_A=a)
    chain.attempt_frequency_Hz = nu
    assert diffusion_tensor(chain, t, check_percolation=False)[0, 0] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("n_traps, binding", [(1, 0.1), (5, 0.2), (12, 0.3)])
def test_traps_with_unchanged_saddles_follow_oriani(n_traps, binding):
    """Trap sites E_0 - E_b, all saddles unchanged: D = D_0 / (1 + c_t (exp(E_b/kT) - 1)).

    Oriani, Acta Metall. 18 (1970) 147; Haus, Kehr 1987. With equal saddles every hop's
    equilibrium flux nu exp(-E^s/kT)/Z is the same, the corrector is that of the pure lattice
    (zero), and only Z = sum_i exp(-E_i/kT) changes: the form is exact for any trap positions.
    """
    t = 300.0
    net = diamond_t_network(3, A_SI, saddle_energy_eV=0.58)
    d0 = diffusivity(net, t)
    rng = np.random.default_rng(n_traps)
    traps = rng.choice(net.n_sites, n_traps, replace=False)
    energies = net.energies_eV.copy()
    energies[traps] -= binding
    trapped = HopNetwork(net.cell_A, net.frac, energies, net.i, net.j, net.image, net.saddle_eV)
    c_t = n_traps / net.n_sites
    expected = d0 / (1 + c_t * (np.exp(binding / (kB * t)) - 1))
    tensor = diffusion_tensor(trapped, t)
    np.testing.assert_allclose(tensor, expected * np.eye(3), rtol=1e-9, atol=1e-9 * expected)


def test_iterative_solver_matches_direct():
    """The multigrid path (sublattice elimination + AMG-CG) agrees with sparse LU."""
    net = random_diamond_network(5, seed=2, barrier=(0.3, 0.6))  # 1000 sites, rates over 5 decades
    direct = diffusion_tensor(net, 300.0, method="direct")
    iterative = diffusion_tensor(net, 300.0, method="iterative")
    np.testing.assert_allclose(iterative, direct, rtol=1e-8, atol=1e-8 * np.abs(direct).max())


def test_non_bipartite_iterative_matches_direct():
    """A network with odd rings (a hop added inside each T(A) pair) skips the elimination."""
    base = random_diamond_network(3, seed=8)
    rng = np.random.default_rng(0)
    a_sites = np.flatnonzero(np.tile(np.arange(8) < 4, 27))
    extra_i, extra_j = a_sites[0::4], a_sites[1::4]
    e = base.energies_eV
    net = HopNetwork(
        base.cell_A, base.frac, e,
        np.concatenate([base.i, extra_i]), np.concatenate([base.j, extra_j]),
        np.concatenate([base.image, np.zeros((extra_i.size, 3), dtype=int)]),
        np.concatenate([base.saddle_eV, np.maximum(e[extra_i], e[extra_j]) + rng.uniform(0.2, 0.3, extra_i.size)]),
    )
    np.testing.assert_allclose(diffusion_tensor(net, 400.0, method="iterative"),
                               diffusion_tensor(net, 400.0, method="direct"), rtol=1e-8)


def test_temperature_and_method_errors():
    net = diamond_t_network(1, A_SI, saddle_energy_eV=0.5)
    for bad in (0.0, -5.0, float("nan"), "warm"):
        with pytest.raises(NetworkError, match="temperature_K"):
            diffusivity(net, bad)
    with pytest.raises(NetworkError, match="allowed: auto, direct, iterative"):
        diffusion_tensor(net, 300.0, method="magic")


def test_auto_method_choice():
    small = solve_cell_problem(diamond_t_network(1, A_SI, saddle_energy_eV=0.5), 300.0)
    assert small.method == "direct" and small.iterations == 0
    forced = solve_cell_problem(random_diamond_network(2, seed=1), 300.0, method="iterative")
    assert forced.method == "iterative" and 0 < forced.iterations < 100
