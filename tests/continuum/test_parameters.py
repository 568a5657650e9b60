"""Tests of sianode/continuum/parameters.py."""

from __future__ import annotations

import math

import pytest

from sianode.continuum.parameters import (
    ContinuumParameters,
    Parameter,
    diffusivity_from_barrier,
    parameters_for,
    parameters_from_store,
)
from sianode.errors import InputError


def test_tst_prefactor():
    """D0 = (1/6) 4 (sqrt(3)/4 a)^2 nu = 3.7e-3 cm^2/s for a = 5.43 A, nu = 1e13 Hz."""
    d0_cm2_s = diffusivity_from_barrier(0.0, a_A=5.43, nu_Hz=1e13) * 1e4
    assert round(d0_cm2_s, 4) == 3.7e-3


def test_barrier_arrhenius():
    kT = 8.617333262e-5 * 300
    ratio = diffusivity_from_barrier(0.46) / diffusivity_from_barrier(0.58)
    assert math.isclose(ratio, math.exp(0.12 / kT), rel_tol=1e-12)


def test_defaults_pure_si_with_sources():
    p = parameters_for(None, None)
    assert p.youngs_csi_pa.value == 185e9 and "Wortman" in p.youngs_csi_pa.source
    assert p.yield_csi_pa.value == 7e9 and "Kovacs" in p.yield_csi_pa.source
    assert p.youngs_lisi_pa.value == 35e9 and "Hertzberg" in p.youngs_lisi_pa.source
    assert p.yield_lisi_pa.value == 1e9 and "Sethuraman" in p.yield_lisi_pa.source
    assert math.isclose(p.omega_m3_mol.value, 9.0e-6, rel_tol=0.01)
    assert math.isclose(p.c_max_mol_m3.value * p.omega_m3_mol.value, 2.8)
    assert "Pell" in p.diffusivity_m2_s.source
    for name, param in p.parameters().items():
        assert param.source, name
    assert parameters_for("Si", None) == p == parameters_for("pure", None)


def test_atomistic_and_overrides():
    atom = {"barrier_eV": {"value": 0.46, "source": "doc:abc"}, "omega_m3_mol": {"value": 8e-6, "source": "doc:def"}}
    p = parameters_for("b", 3.125, atomistic=atom)
    assert p.dopant == "B" and p.percent == 3.125
    assert math.isclose(p.diffusivity_m2_s.value, diffusivity_from_barrier(0.46))
    assert "doc:abc" in p.diffusivity_m2_s.source
    assert p.omega_m3_mol == Parameter(8e-6, "m^3/mol", "doc:def")
    q = parameters_for("P", 1.5625, overrides={"diffusivity": 1e-16, "youngs_lisi_pa": 40e9})
    assert q.diffusivity_m2_s.value == 1e-16 and q.diffusivity_m2_s.source == "user override"
    assert q.youngs_pa == 40e9
    assert ContinuumParameters.from_dict(q.as_dict()) == q


def test_dopant_without_data(sianode_home):
    with pytest.raises(InputError, match="no atomistic data for dopant Ge and no default"):
        parameters_for("Ge", 6.25)
    with pytest.raises(InputError, match="no atomistic data for dopant S"):
        parameters_from_store(None, "S", 1.5625, {})


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"diffusivity": 0.0}, "diffusivity_m2_s = 0.0"),
        ({"diffusivity": -1e-15}, "diffusivity_m2_s = -1e-15"),
        ({"poisson": 0.6}, "poisson_lisi = 0.6"),
        ({"bogus": 1.0}, "'bogus'"),
    ],
)
def test_bad_overrides(overrides, needle):
    with pytest.raises(InputError, match=needle):
        parameters_for(None, None, overrides=overrides)


def test_bad_dopant():
    with pytest.raises(InputError, match="'Xx'"):
        parameters_for("Xx", 1.0)


def test_table_renders():
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(parameters_for(None, None).table())
    text = console.export_text()
    assert "youngs_csi_pa" in text and "Hertzberg" in text


def test_shift_model_keeps_pell_for_pure_and_scales_by_the_barrier_change():
    """D_X = D_Pell(T) exp(-(E_a,X - E_a,pure)/kT): pure Si gets Pell's measured D exactly,
    a dopant lowering the barrier by 0.1 eV gets exp(0.1 / (k_B 300 K)) = 47.7 times more."""
    import math

    from sianode.continuum.parameters import parameters_for, pell_diffusivity

    kT = 8.617333262e-5 * 300.0
    pure = parameters_for(None, None, atomistic={"barrier_eV": {"value": 0.47, "source": "k1"},
                                                 "reference_barrier_eV": {"value": 0.47, "source": "k1"}})
    assert pure.diffusivity_m2_s.value == pytest.approx(pell_diffusivity(300.0), rel=1e-12)
    dop = parameters_for("B", 1.5625, atomistic={"barrier_eV": {"value": 0.37, "source": "k2"},
                                                 "reference_barrier_eV": {"value": 0.47, "source": "k1"}})
    assert dop.diffusivity_m2_s.value / pure.diffusivity_m2_s.value == pytest.approx(math.exp(0.1 / kT), rel=1e-9)
    assert "k1" in dop.diffusivity_m2_s.source and "k2" in dop.diffusivity_m2_s.source
    absolute = parameters_for("B", 1.5625, diffusivity_model="absolute",
                              atomistic={"barrier_eV": {"value": 0.37, "source": "k2"},
                                         "reference_barrier_eV": {"value": 0.47, "source": "k1"}})
    assert "harmonic TST" in absolute.diffusivity_m2_s.source
