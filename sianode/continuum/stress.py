"""Elastic diffusion-induced stresses in a sphere, and the charge-and-stress driver.

Linear elasticity with an isotropic lithiation strain Omega c / 3, traction-free surface
(Cheng, Verbrugge, J. Power Sources 190 (2009) 453; Zhang, Shyy, Sastry,
J. Electrochem. Soc. 154 (2007) A910; the thermal-stress analogue is Timoshenko, Goodier,
Theory of Elasticity, 3rd ed., sec. 151)::

    sigma_r(r) = 2 Omega E / (3 (1 - nu)) [ I(R)/R^3 - I(r)/r^3 ]
    sigma_t(r) =   Omega E / (3 (1 - nu)) [ 2 I(R)/R^3 + I(r)/r^3 - c(r) ]
    I(r) = int_0^r c(s) s^2 ds.

I(r) is integrated exactly for the piecewise-linear interpolant of c between nodes (a
cumulative trapezoid rule with the r^2 weight done analytically), so a uniform c gives
I(r)/r^3 = c/3 exactly and zero stress to round-off. At r = 0, I(r)/r^3 -> c(0)/3.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sianode.continuum.diffusion import c_rate_to_flux, check_radius, solve_diffusion
from sianode.continuum.parameters import ContinuumParameters
from sianode.errors import InputError

logger = logging.getLogger(__name__)


def cumulative_moment(r_m: np.ndarray, c: np.ndarray) -> np.ndarray:
    """I(r_i) = int_0^{r_i} c s^2 ds for piecewise-linear c, shape like ``c`` ([..., n_r]).

    Exact for c linear between nodes: on [a, b] with end values c_a, c_b,
    int c s^2 ds = c_a (b^3 - a^3)/3 + (c_b - c_a)/(b - a) [ (b^4 - a^4)/4 - a (b^3 - a^3)/3 ].
    """
    a, b = r_m[:-1], r_m[1:]
    cube = (b**3 - a**3) / 3.0
    lin = ((b**4 - a**4) / 4.0 - a * cube) / (b - a)
    ca, cb = c[..., :-1], c[..., 1:]
    pieces = ca * cube + (cb - ca) * lin
    out = np.zeros_like(np.asarray(c, dtype=float))
    out[..., 1:] = np.cumsum(pieces, axis=-1)
    return out


def elastic_stresses(
    r_m: np.ndarray,
    c_mol_m3: np.ndarray,
    omega_m3_mol: float,
    youngs_pa: float,
    poisson: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Radial and hoop stress for concentration profiles (Cheng & Verbrugge 2009).

    Parameters
    ----------
    r_m : ndarray, shape (n_r,)
        Node radii from 0 to R, m (r_m[0] must be 0).
    c_mol_m3 : ndarray, shape (..., n_r)
        Concentration(s), mol/m^3.
    omega_m3_mol, youngs_pa, poisson : float
        Partial molar volume of Li (m^3/mol), Young's modulus (Pa), Poisson ratio.

    Returns
    -------
    sigma_r_pa, sigma_t_pa : ndarray, shape (..., n_r)
        Radial and hoop (tangential) stress, Pa; tension positive.
    """
    r = np.asarray(r_m, dtype=float)
    c = np.asarray(c_mol_m3, dtype=float)
    if r.ndim != 1 or r.size < 3 or r[0] != 0.0:
        raise InputError("r_m must be a 1-D grid of >= 3 radii starting at r = 0")
    moment = cumulative_moment(r, c)
    mean_term = moment[..., -1:] / r[-1] ** 3  # I(R)/R^3 = c_avg / 3
    local = np.empty_like(moment)
    local[..., 1:] = moment[..., 1:] / r[1:] ** 3
    local[..., 0] = c[..., 0] / 3.0  # limit r -> 0
    k = omega_m3_mol * youngs_pa / (3.0 * (1.0 - poisson))
    sigma_r = 2.0 * k * (mean_term - local)
    sigma_r[..., -1] = 0.0  # traction-free surface (exact; removes round-off)
    sigma_t = k * (2.0 * mean_term + local - c)
    return sigma_r, sigma_t


@dataclass
class StressResult:
    """Concentration and stress history of a lithiating particle.

    Attributes
    ----------
    radius_m : float
        Particle radius, m.
    r_m : ndarray, shape (n_r,)
        Radial grid, m.
    times_s : ndarray, shape (n_t,)
        Output times, s.
    c_mol_m3 : ndarray, shape (n_t, n_r)
        Li concentration per reference volume, mol/m^3.
    sigma_r_pa, sigma_t_pa : ndarray, shape (n_t, n_r)
        Radial and hoop stress, Pa (tension positive).
    boundary : dict
        Boundary condition (type, flux or surface concentration, C-rate).
    parameters : ContinuumParameters
        The parameters used, with sources.
    """

    radius_m: float
    r_m: np.ndarray
    times_s: np.ndarray
    c_mol_m3: np.ndarray
    sigma_r_pa: np.ndarray
    sigma_t_pa: np.ndarray
    boundary: dict[str, Any] = field(default_factory=dict)
    parameters: ContinuumParameters = field(default_factory=ContinuumParameters)

    @property
    def max_tensile_hoop_pa(self) -> float:
        """Largest tensile hoop stress over all radii and times, Pa (0 if none)."""
        return float(max(self.sigma_t_pa.max(), 0.0))

    @property
    def max_abs_hoop_pa(self) -> float:
        """Largest hoop-stress magnitude over all radii and times, Pa."""
        return float(np.abs(self.sigma_t_pa).max())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict: grid, times, c, sigma_r, sigma_t ([n_t][n_r]) and parameters."""
        return {
            "radius_m": self.radius_m,
            "r_m": self.r_m.tolist(),
            "times_s": self.times_s.tolist(),
            "c_mol_m3": self.c_mol_m3.tolist(),
            "sigma_r_pa": self.sigma_r_pa.tolist(),
            "sigma_t_pa": self.sigma_t_pa.tolist(),
            "boundary": dict(self.boundary),
            "parameters": self.parameters.as_dict(),
        }


def run_stress(
    params: ContinuumParameters,
    radius_m: float,
    *,
    c_rate: float | None = 1.0,
    flux_mol_m2_s: float | None = None,
    potentiostatic: bool = False,
    time_s: float | None = None,
    n_nodes: int = 101,
    n_steps: int = 400,
    n_out: int = 11,
    youngs_pa: float | None = None,
    poisson: float | None = None,
) -> StressResult:
    """Lithiate a particle and compute its stresses.

    Galvanostatic by default: flux from ``flux_mol_m2_s`` if given, else from ``c_rate``
    (J = c_max R C / (3 * 3600 s)), run for one full charge, 3600 s / C, unless
    ``time_s``. Potentiostatic: surface held at ``c_max`` from t = 0, run for ``time_s``
    (default 3600 s / C). Stresses use the Li_xSi moduli unless ``youngs_pa``/``poisson``.

    Returns
    -------
    StressResult
    """
    check_radius(radius_m)
    c_rate_value = 1.0 if c_rate is None else float(c_rate)
    if not (math.isfinite(c_rate_value) and c_rate_value > 0):
        raise InputError(f"C-rate = {c_rate!r} is not allowed; it must be > 0 (1 = full charge in 1 h)")
    t_end = float(time_s) if time_s is not None else 3600.0 / c_rate_value
    c_max = params.c_max_mol_m3.value
    d = params.diffusivity_m2_s.value
    if potentiostatic:
        boundary_kw: dict[str, float] = {"surface_conc_mol_m3": c_max}
        info: dict[str, Any] = {}
    else:
        if flux_mol_m2_s is not None:
            if not math.isfinite(flux_mol_m2_s):
                raise InputError(f"flux = {flux_mol_m2_s!r} mol m^-2 s^-1 is not allowed; it must be finite")
            flux = float(flux_mol_m2_s)
            info = {}
        else:
            flux = c_rate_to_flux(c_rate_value, radius_m, c_max)
            info = {"c_rate": c_rate_value}
        boundary_kw = {"flux_mol_m2_s": flux}
    diff = solve_diffusion(
        radius_m, d, t_end, n_nodes=n_nodes, n_steps=n_steps, n_out=n_out, **boundary_kw
    )
    e = params.youngs_pa if youngs_pa is None else youngs_pa
    nu = params.poisson if poisson is None else poisson
    sigma_r, sigma_t = elastic_stresses(diff.r_m, diff.c_mol_m3, params.omega_m3_mol.value, e, nu)
    boundary = {**diff.boundary, **info, "time_s": t_end}
    return StressResult(radius_m, diff.r_m, diff.times_s, diff.c_mol_m3, sigma_r, sigma_t, boundary, params)


__all__ = ["StressResult", "cumulative_moment", "elastic_stresses", "run_stress"]
