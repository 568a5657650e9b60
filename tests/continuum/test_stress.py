"""Tests of sianode/continuum/stress.py."""

from __future__ import annotations

import numpy as np

from sianode.continuum.diffusion import solve_diffusion
from sianode.continuum.parameters import parameters_for
from sianode.continuum.stress import cumulative_moment, elastic_stresses, run_stress

OMEGA, E, NU = 9e-6, 35e9, 0.24


def test_uniform_concentration_is_stress_free():
    """Uniform c: I(r) = c r^3 / 3, so both brackets vanish; zero to round-off."""
    r = np.linspace(0, 1e-7, 57)
    c = np.full((3, r.size), 2.5e5)
    sr, st = elastic_stresses(r, c, OMEGA, E, NU)
    scale = OMEGA * E * 2.5e5
    assert np.max(np.abs(sr)) < 1e-12 * scale
    assert np.max(np.abs(st)) < 1e-12 * scale


def test_moment_exact_for_quadratic_profile_converges():
    """I(r) for c = r^2: r^5/5; the piecewise-linear rule converges at second order."""
    errs = []
    for n in (21, 41):
        r = np.linspace(0, 1.0, n)
        errs.append(abs(cumulative_moment(r, r**2)[-1] - 0.2))
    assert errs[1] < errs[0] / 3.5


def test_long_time_galvanostatic_surface_hoop_stress():
    """Quasi-steady galvanostatic charge against the analytic surface hoop stress.

    Derivation: with inward flux J (D dc/dr = J at r = R), after t >> R^2/D the profile is
    c = c_avg(t) + J/(2 D R) (r^2 - 3R^2/5) (it satisfies dc/dt = 3J/R everywhere, the
    flux condition, and has mean c_avg). The hoop stress at r = R is, with I(R)/R^3 =
    c_avg/3, sigma_t(R) = Omega E/(3(1-nu)) (c_avg - c(R)) and c(R) - c_avg =
    J/(2DR) (2R^2/5) = J R/(5 D), so sigma_t(R) = -Omega E J R / (15 (1 - nu) D):
    compressive at the surface for Li entering. At the centre sigma_t(0) = sigma_r(0) =
    2 Omega E/(9(1-nu)) (c_avg - c(0)) = +Omega E J R/(15(1-nu) D).
    Checked within 1 % at t = 2 R^2/D (transients decay as exp(-20 D t/R^2)).
    """
    R, D, J = 1e-6, 1e-14, 1e-3
    res = solve_diffusion(R, D, 2 * R**2 / D, flux_mol_m2_s=J, n_nodes=101, n_steps=400)
    sr, st = elastic_stresses(res.r_m, res.c_mol_m3, OMEGA, E, NU)
    analytic = -OMEGA * E * J * R / (15 * (1 - NU) * D)
    assert abs(st[-1, -1] / analytic - 1) < 0.01
    assert abs(st[-1, 0] / -analytic - 1) < 0.01
    assert abs(sr[-1, 0] / -analytic - 1) < 0.01
    assert np.all(np.abs(sr[:, -1]) == 0.0)


def test_run_stress_result_and_as_dict():
    params = parameters_for(None, None)
    res = run_stress(params, 75e-9, c_rate=1.0, n_nodes=21, n_steps=50, n_out=4)
    d = res.as_dict()
    for key in ("r_m", "times_s", "c_mol_m3", "sigma_r_pa", "sigma_t_pa", "parameters", "boundary", "radius_m"):
        assert key in d
    assert np.array(d["c_mol_m3"]).shape == (4, 21)
    assert d["boundary"]["type"] == "galvanostatic"
    assert d["parameters"]["youngs_lisi_pa"]["value"] == 35e9
    pot = run_stress(params, 75e-9, potentiostatic=True, time_s=100.0, n_nodes=21, n_steps=20, n_out=3)
    assert pot.boundary["type"] == "potentiostatic"
    assert pot.c_mol_m3[-1, -1] == params.c_max_mol_m3.value
