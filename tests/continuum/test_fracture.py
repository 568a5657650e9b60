"""Tests of sianode/continuum/fracture.py."""

from __future__ import annotations

import math

import pytest

from sianode.continuum.fracture import critical_radius, geometry_factor_z
from sianode.continuum.parameters import parameters_for
from sianode.errors import CalculationFailed, InputError


def test_pure_si_critical_diameter_near_liu_2012():
    """Pure c-Si, literature defaults, 1C: critical diameter within a factor 2 of 150 nm.

    Parameters (all cited defaults, nothing fitted): E(Li_xSi) = 35 GPa (Hertzberg 2011),
    nu = 0.24 (Shenoy 2010), sigma_Y(Li_xSi) = 1 GPa (Sethuraman 2010), Gamma = 8.5 J/m^2
    (Pharr 2013), edge-crack factor 1.1215 (Tada), flaw depth = R (assumption),
    D = 1.9e-18 m^2/s (Pell 1960 at 300 K), Omega = 9.0e-6 m^3/mol, c_max = 3.11e5 mol/m^3.
    The elastic stress exceeds yield, so R_c = Gamma E / (Z sigma_Y^2) with
    Z = pi 1.1215^2 (1 - 0.24^2) = 3.72: R_c = 80 nm, diameter 160 nm (Liu et al.,
    ACS Nano 6 (2012) 1522 observe ~150 nm).
    """
    p = parameters_for(None, None)
    res = critical_radius(p, "energy_release_rate", c_rate=1.0)
    assert 75e-9 <= res.critical_diameter_m <= 300e-9
    assert res.yield_limited
    analytic = p.fracture_energy_j_m2.value * p.youngs_lisi_pa.value / (geometry_factor_z(p) * p.yield_lisi_pa.value**2)
    assert math.isclose(res.critical_radius_m, analytic, rel_tol=1e-4)
    d = res.as_dict()
    for key in ("critical_radius_m", "critical_diameter_m", "criterion", "citation", "criterion_parameters", "parameters"):
        assert key in d
    assert d["criterion_parameters"]["flaw_depth_fraction"]["value"] == 1.0
    assert "Zhao" in d["citation"]


def test_faster_diffusion_raises_critical_size():
    """Below yield the size effect comes from the solver: higher D -> lower stress -> larger R_c."""
    slow = critical_radius(parameters_for(None, None, overrides={"diffusivity": 1e-17}))
    fast = critical_radius(parameters_for(None, None, overrides={"diffusivity": 1e-15}))
    assert fast.critical_radius_m > slow.critical_radius_m
    assert not fast.yield_limited


def test_hoop_strength_criterion_runs():
    res = critical_radius(parameters_for(None, None), "hoop_strength")
    stress = res.criterion_parameters["stress_at_critical_pa"]["value"]
    assert math.isclose(stress, 7e9, rel_tol=1e-3)


def test_bad_criterion_and_no_root():
    p = parameters_for(None, None)
    with pytest.raises(InputError, match="'griffith'"):
        critical_radius(p, "griffith")
    with pytest.raises(InputError, match="C-rate = 0"):
        critical_radius(p, c_rate=0.0)
    with pytest.raises(CalculationFailed, match="never met"):
        critical_radius(p, r_max_m=2e-8)
