"""Tests of sianode/transport/arrhenius.py and tst.py."""

from __future__ import annotations

import numpy as np
import pytest
from ase.units import kB

from sianode.errors import InputError
from sianode.transport import arrhenius_fit, diamond_t_network, diamond_tst_diffusivity, tst_rate
from sianode.transport.arrhenius import parse_t_range

from .transport_reference import A_SI, random_diamond_network


def test_fit_recovers_barrier_and_prefactor_on_pure_lattice():
    """Pure lattice: Ea = E^s - E_T and D0 = (1/6) z d^2 nu = a^2 nu / 8 exactly."""
    nu = 2.5e13
    net = diamond_t_network(2, A_SI, site_energy_eV=0.1, saddle_energy_eV=0.72, attempt_frequency_Hz=nu)
    fit = arrhenius_fit(net, (250.0, 400.0), n_points=5)
    assert fit.Ea_eV == pytest.approx(0.62, abs=1e-10)
    assert fit.D0_m2_s == pytest.approx((A_SI * 1e-10) ** 2 * nu / 8, rel=1e-9)
    assert fit.t_range_K == (250.0, 400.0)
    assert fit.diffusivity_m2_s(300.0) == pytest.approx(diamond_tst_diffusivity(A_SI, 0.62, 300.0, nu), rel=1e-9)


def test_fit_on_disordered_network_is_between_its_barriers():
    fit = arrhenius_fit(random_diamond_network(2, seed=3), "300:500")
    assert 0.2 < fit.Ea_eV < 0.45
    assert fit.as_dict()["t_range_K"] == [300.0, 500.0]


@pytest.mark.parametrize("bad", ["400:250", "250", "a:b", "0:300", (300.0,), "250:400:500"])
def test_bad_range(bad):
    with pytest.raises(InputError, match="250:400"):
        parse_t_range(bad)


def test_bad_n_points():
    with pytest.raises(InputError, match="n_points"):
        arrhenius_fit(diamond_t_network(1, A_SI, saddle_energy_eV=0.5), (250, 400), n_points=1)


def test_tst_numbers():
    """PHYSICS.md section 4: a = 5.43 A, nu = 1e13 Hz give a prefactor of 3.7e-3 cm^2/s."""
    assert diamond_tst_diffusivity(5.43, 0.0, 300.0) * 1e4 == pytest.approx(3.7e-3, rel=0.01)
    assert tst_rate(0.58, 300.0) == pytest.approx(1e13 * np.exp(-0.58 / (kB * 300.0)), rel=1e-14)
    assert tst_rate(0.0, 300.0, nu=3e12) == 3e12
    for args in ((0.5, 0.0), (0.5, 300.0, -1.0), (float("nan"), 300.0)):
        with pytest.raises(InputError):
            tst_rate(*args)
    with pytest.raises(InputError, match="a_A"):
        diamond_tst_diffusivity(-5.43, 0.5, 300.0)
