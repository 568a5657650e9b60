"""Tests of sianode.transport.tst against formulas evaluated here from ase.units.kB."""

from __future__ import annotations

import math

import pytest
from ase.units import kB

from sianode.errors import InputError
from sianode.transport.tst import diamond_tst_diffusivity, tst_rate


@pytest.mark.parametrize("barrier, T, nu", [(0.58, 300.0, 1e13), (0.3, 600.0, 5e12), (-0.1, 450.0, 2e13)])
def test_tst_rate_matches_arrhenius(barrier, T, nu):
    expected = nu * math.exp(-barrier / (kB * T))
    assert tst_rate(barrier, T, nu) == pytest.approx(expected, rel=1e-12)


def test_tst_rate_zero_barrier_is_nu():
    assert tst_rate(0.0, 300.0, 7e12) == pytest.approx(7e12, rel=1e-15)


@pytest.mark.parametrize("a, barrier, T, nu", [(5.43, 0.58, 300.0, 1e13), (5.0, 0.4, 800.0, 3e12)])
def test_diamond_diffusivity_formula(a, barrier, T, nu):
    d_m = math.sqrt(3.0) / 4.0 * a * 1e-10
    expected = (1.0 / 6.0) * 4 * d_m**2 * nu * math.exp(-barrier / (kB * T))
    assert diamond_tst_diffusivity(a, barrier, T, nu) == pytest.approx(expected, rel=1e-12)


def test_diamond_prefactor_quoted_in_docstring():
    # zero barrier: D0 = (2/3) d^2 nu = 3.7e-7 m^2/s for a = 5.43 A, nu = 1e13 Hz
    assert diamond_tst_diffusivity(5.43, 0.0, 300.0, 1e13) == pytest.approx(3.7e-7, rel=0.01)


@pytest.mark.parametrize("kwargs", [dict(T=0.0), dict(T=-5.0), dict(T=float("nan")), dict(T=300.0, nu=0.0)])
def test_tst_rate_rejects_bad_inputs(kwargs):
    with pytest.raises(InputError):
        tst_rate(0.5, **kwargs)


def test_tst_rate_rejects_nonfinite_barrier():
    with pytest.raises(InputError):
        tst_rate(float("inf"), 300.0)


def test_diffusivity_rejects_bad_lattice_constant():
    with pytest.raises(InputError):
        diamond_tst_diffusivity(-5.43, 0.5, 300.0)
