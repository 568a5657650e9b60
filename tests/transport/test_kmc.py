"""Tests of sianode/transport/kmc.py: kinetic Monte Carlo against the exact solver."""

from __future__ import annotations

import numpy as np
import pytest

from sianode.errors import InputError
from sianode.transport import diamond_t_network, diffusion_tensor, diffusivity, kmc_diffusivity

from .transport_reference import A_SI, chain_network, random_diamond_network


def test_kmc_agrees_with_exact_on_random_network():
    """Exact cell-problem D and BKL kinetic Monte Carlo agree within 3 standard errors."""
    net = random_diamond_network(2, seed=7)
    t = 600.0
    exact = diffusivity(net, t)
    res = kmc_diffusivity(net, t, n_walkers=1500, n_hops=1500, seed=1)
    assert abs(res.D_m2_s - exact) < 3 * res.stderr_m2_s
    assert res.stderr_m2_s < 0.05 * exact  # the test has teeth
    np.testing.assert_allclose(np.trace(res.tensor_m2_s) / 3, res.D_m2_s, rtol=1e-12)
    assert res.hops_per_walker == pytest.approx(1500, rel=0.02)


def test_kmc_chain_tensor_is_one_dimensional():
    """A trap-and-barrier chain: D_xx agrees with the exact value, D_yy = D_zz = 0."""
    e = np.array([0.0, -0.1, 0.0, 0.05])
    s = np.array([0.3, 0.25, 0.35, 0.3])
    chain = chain_network(e, s)
    exact = diffusion_tensor(chain, 500.0, check_percolation=False)[0, 0]
    res = kmc_diffusivity(chain, 500.0, n_walkers=1000, n_hops=1000, seed=2, check_percolation=False)
    assert abs(3 * res.D_m2_s - exact) < 3 * 3 * res.stderr_m2_s
    assert res.tensor_m2_s[1, 1] == 0.0 and res.tensor_m2_s[2, 2] == 0.0


def test_kmc_is_reproducible_and_checks_input():
    net = diamond_t_network(1, A_SI, saddle_energy_eV=0.3)
    a = kmc_diffusivity(net, 400.0, n_walkers=50, n_hops=20, seed=3)
    b = kmc_diffusivity(net, 400.0, n_walkers=50, n_hops=20, seed=3)
    assert a.D_m2_s == b.D_m2_s and np.array_equal(a.tensor_m2_s, b.tensor_m2_s)
    with pytest.raises(InputError, match="n_walkers"):
        kmc_diffusivity(net, 400.0, n_walkers=1, n_hops=10, seed=0)
    with pytest.raises(InputError, match="n_hops"):
        kmc_diffusivity(net, 400.0, n_walkers=10, n_hops=0, seed=0)
