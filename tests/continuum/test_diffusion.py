"""Tests of sianode/continuum/diffusion.py against analytic solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sianode.continuum.diffusion import c_rate_to_flux, solve_diffusion
from sianode.errors import InputError

R, D = 1e-6, 1e-14  # m, m^2/s: diffusion time R^2/D = 100 s


def crank_sphere(r: np.ndarray, t: float, n_terms: int = 400) -> np.ndarray:
    """Crank, The Mathematics of Diffusion, 2nd ed., eq. 6.18, c0 = 0, c1 = 1, r > 0."""
    n = np.arange(1, n_terms + 1)[:, None]
    series = np.sum((-1.0) ** n / n * np.sin(n * np.pi * r / R) * np.exp(-D * n**2 * np.pi**2 * t / R**2), axis=0)
    return 1.0 + 2.0 * R / (np.pi * r) * series


def test_potentiostatic_matches_crank_series():
    """Surface held at c1 = 1 from t = 0 in a sphere at c0 = 0.

    Crank eq. 6.18: (c - c0)/(c1 - c0) = 1 + (2R/(pi r)) sum_n (-1)^n/n sin(n pi r/R)
    exp(-D n^2 pi^2 t / R^2). Checked at D t / R^2 = 0.025 .. 0.1 on interior nodes,
    error relative to c1 - c0 below 1 %.
    """
    res = solve_diffusion(R, D, 0.1 * R**2 / D, surface_conc_mol_m3=1.0, n_nodes=101, n_steps=400, n_out=5)
    for t, c in zip(res.times_s[1:], res.c_mol_m3[1:]):
        exact = crank_sphere(res.r_m[1:-1], t)
        assert np.max(np.abs(c[1:-1] - exact)) < 0.01
    # centre (limit r -> 0 of the series: 1 + 2 sum (-1)^n exp(...))
    n = np.arange(1, 400)
    centre = 1 + 2 * np.sum((-1.0) ** n * np.exp(-(n**2) * np.pi**2 * 0.1))
    assert abs(res.c_mol_m3[-1, 0] - centre) < 0.01


@pytest.mark.parametrize("scheme", ["crank-nicolson", "backward-euler"])
def test_galvanostatic_mass_conservation(scheme):
    """Li in through the surface, 4 pi R^2 J t, equals sum 4 pi V_i c_i to 1e-6 relative."""
    J = 1e-3
    res = solve_diffusion(R, D, 50.0, flux_mol_m2_s=J, n_nodes=51, n_steps=100, scheme=scheme)
    expected = 4 * math.pi * R**2 * J * res.times_s
    assert np.allclose(res.li_mol, expected, rtol=1e-6, atol=1e-12 * expected[-1])
    assert np.allclose(res.li_in_mol, expected, rtol=1e-12)


def test_concentration_dependent_diffusivity_conserves_mass():
    """A callable D(c) runs and still conserves Li (finite volumes)."""
    J = 1e-3
    res = solve_diffusion(R, lambda c: D * (1 + c / 1e3), 50.0, flux_mol_m2_s=J, n_nodes=41, n_steps=100)
    assert abs(res.li_mol[-1] / res.li_in_mol[-1] - 1) < 1e-6
    arr = solve_diffusion(R, np.full(41, D), 50.0, flux_mol_m2_s=J, n_nodes=41, n_steps=100)
    const = solve_diffusion(R, D, 50.0, flux_mol_m2_s=J, n_nodes=41, n_steps=100)
    assert np.allclose(arr.c_mol_m3, const.c_mol_m3)


def test_potentiostatic_mass_balance():
    """Potentiostatic: Li counted through the surface equals the particle content."""
    res = solve_diffusion(R, D, 20.0, surface_conc_mol_m3=1e4, n_nodes=51, n_steps=200)
    assert np.allclose(res.li_mol, res.li_in_mol, rtol=1e-9)


def test_c_rate_flux_fills_particle_in_one_hour():
    """J = c_max R / (3 * 3600 s / C): 4 pi R^2 J (3600/C) = (4/3) pi R^3 c_max."""
    c_max, c_rate = 3.11e5, 2.0
    J = c_rate_to_flux(c_rate, R, c_max)
    assert math.isclose(4 * math.pi * R**2 * J * 3600 / c_rate, 4 / 3 * math.pi * R**3 * c_max)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"radius_m": -1e-7}, "-1e-07"),
        ({"radius_m": 0.0}, "0.0"),
        ({"diffusivity_m2_s": 0.0}, "0.0"),
        ({"diffusivity_m2_s": -1e-15}, "-1e-15"),
        ({"n_nodes": 2}, "nodes = 2"),
        ({"t_end_s": 0.0}, "0.0"),
    ],
)
def test_bad_inputs(kwargs, needle):
    args = {"radius_m": R, "diffusivity_m2_s": D, "t_end_s": 1.0, "flux_mol_m2_s": 1e-3}
    args.update(kwargs)
    with pytest.raises(InputError, match=re_escape(needle)):
        solve_diffusion(args.pop("radius_m"), args.pop("diffusivity_m2_s"), args.pop("t_end_s"), **args)


def test_bad_c_rate():
    with pytest.raises(InputError, match="C-rate = 0"):
        c_rate_to_flux(0, R, 1.0)
    with pytest.raises(InputError, match="C-rate = -1"):
        c_rate_to_flux(-1, R, 1.0)


def re_escape(text: str) -> str:
    import re

    return re.escape(text)
