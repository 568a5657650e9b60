"""Tests of sianode/transport/superposition.py (issue 12, item 2)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.units import kB

from sianode.errors import InputError
from sianode.transport import (
    DopantKernel,
    HopNetwork,
    concentration_curve,
    diamond_t_network,
    diamond_tst_diffusivity,
    diffusion_tensor,
    diffusivity,
    kernel_from_network,
    superposed_network,
)

from .transport_reference import A_SI

E_T, E_S = -0.3, 0.28  # pure-Si T-site and saddle energies, eV


def _doped_cell(dopant_frac, n_cells=2):
    """A one-dopant cell with direction-dependent (not only radial) shifts: a sharp test of the mapping."""
    base = diamond_t_network(n_cells, A_SI, site_energy_eV=E_T, saddle_energy_eV=E_S)
    dop = np.asarray(dopant_frac, dtype=float)

    def offsets(frac):
        f = frac - dop
        f -= np.round(f)
        return f @ base.cell_A

    r_t = offsets(base.frac)
    d_t = np.linalg.norm(r_t, axis=1)
    energies = E_T - 0.3 * np.exp(-d_t / 2.0) * (1.0 + 0.2 * np.sin(np.arange(base.n_sites)))
    d_h = np.linalg.norm(offsets(base.hop_midpoints_frac()), axis=1)
    saddle = E_S + 0.2 * np.exp(-d_h / 2.0) * (1.0 + 0.1 * np.cos(np.arange(base.n_hops)))
    saddle = np.maximum(saddle, np.maximum(energies[base.i], energies[base.j]))
    return HopNetwork(base.cell_A, base.frac, energies, base.i, base.j, base.image, saddle, attempt_frequency_Hz=2e13)


@pytest.mark.parametrize("dopant_frac", [[0.0, 0.0, 0.0], [0.125, 0.125, 0.125], [0.375, 0.125, 0.375]])
def test_one_dopant_reproduces_its_own_cell(dopant_frac):
    """Issue 12 acceptance: superposition with one dopant in the source's cell size gives that cell's D."""
    doped = _doped_cell(dopant_frac)
    kernel = kernel_from_network(doped, dopant_frac, site_energy_pure_eV=E_T, saddle_energy_pure_eV=E_S, a_A=A_SI)
    reference = diffusion_tensor(doped, 300.0)
    for seed in range(6):  # dopants on both Si sublattices
        net = superposed_network(kernel, 2, 1, seed=seed)
        np.testing.assert_allclose(diffusion_tensor(net, 300.0), reference, rtol=1e-9, atol=1e-9 * np.abs(reference).max())
        np.testing.assert_allclose(np.sort(net.energies_eV), np.sort(doped.energies_eV), atol=1e-12)
        np.testing.assert_allclose(np.sort(net.saddle_eV), np.sort(doped.saddle_eV), atol=1e-12)
        assert net.attempt_frequency_Hz == 2e13


def test_kernel_round_trip_and_orientation():
    kernel = kernel_from_network(_doped_cell([0.125, 0.125, 0.125]), [0.125, 0.125, 0.125],
                                 site_energy_pure_eV=E_T, saddle_energy_pure_eV=E_S, a_A=A_SI)
    assert kernel.source["dopant_sublattice"] == "B"
    # as seen from an A-site (fcc + 0) Si: its 4 nearest T sites lie at (s1,s2,s3) a/4 with s1 s2 s3 = -1
    d = np.linalg.norm(kernel.t_offsets, axis=1)
    nearest = kernel.t_offsets[d < d.min() + 0.01]
    assert len(nearest) == 4
    np.testing.assert_allclose(np.prod(nearest / (A_SI / 4), axis=1), -1.0)
    # minimum-image ties are split: shifts still add up to those of the cell
    assert kernel.t_shift_eV.sum() == pytest.approx((_doped_cell([0.125] * 3).energies_eV - E_T).sum(), abs=1e-12)
    back = DopantKernel.from_dict(kernel.as_dict())
    np.testing.assert_array_equal(back.t_offsets, kernel.t_offsets)
    np.testing.assert_array_equal(back.h_shift_eV, kernel.h_shift_eV)
    assert back.source == kernel.source
    with pytest.raises(InputError, match="missing key"):
        DopantKernel.from_dict({"a_A": 5.4})


def test_superposed_site_traps_follow_oriani():
    """A kernel that only deepens the 4 nearest T sites (saddles unchanged) on a large cell:
    D = D_0 N / sum_i exp(-(E_i - E_T)/kT), the exact unchanged-saddle form (Oriani 1970)."""
    kernel = DopantKernel(
        a_A=A_SI,
        t_offsets=np.array([[-1, -1, -1], [1, 1, -1], [1, -1, 1], [-1, 1, 1]]) * A_SI / 4,
        t_shift_eV=[-0.15] * 4,
        h_offsets=np.zeros((0, 3)),
        h_shift_eV=[],
        site_energy_pure_eV=E_T,
        saddle_energy_pure_eV=E_S,
    )
    t = 300.0
    net = superposed_network(kernel, 4, 10, seed=1)
    shifts = net.energies_eV - E_T
    assert np.count_nonzero(shifts) >= 30 and shifts.min() <= -0.15 + 1e-12
    d0 = diamond_tst_diffusivity(A_SI, E_S - E_T, t)
    expected = d0 / np.mean(np.exp(-shifts / (kB * t)))
    assert diffusivity(net, t) == pytest.approx(expected, rel=1e-9)


def test_concentration_curve():
    kernel = kernel_from_network(_doped_cell([0.0, 0.0, 0.0]), [0.0, 0.0, 0.0],
                                 site_energy_pure_eV=E_T, saddle_energy_pure_eV=E_S, a_A=A_SI)
    rows = concentration_curve(kernel, [0.0, 1.5625, 3.0], L=3, seeds=2, temperature_K=300.0)
    assert [r["n_dopants"] for r in rows] == [0, 3, 6]  # of 216 Si sites
    assert rows[0]["ratio_to_pure"] == pytest.approx(1.0, rel=1e-9)
    assert rows[0]["Ea_eff_eV"] == pytest.approx(E_S - E_T, abs=1e-9)
    assert rows[1]["percent"] == pytest.approx(100 * 3 / 216)
    assert rows[2]["ratio_to_pure"] < rows[1]["ratio_to_pure"] < 1.0  # traps: slower with more dopants
    assert rows[1]["stderr_m2_s"] > 0
    with pytest.raises(InputError, match="percent"):
        concentration_curve(kernel, [150.0], L=2, seeds=1)
    with pytest.raises(InputError, match="n_dopants"):
        superposed_network(kernel, 1, 9, seed=0)
