"""Fracture criteria for a lithiating Si particle and the critical particle size.

Two named criteria; both run the diffusion-stress solver (:func:`run_stress`) for one
galvanostatic charge at the given C-rate and find the radius at which the criterion is
just met with :func:`scipy.optimize.brentq` (on ln R).

``energy_release_rate`` (default)
    Energy release rate of a surface crack against the fracture energy (Zhao, Pharr,
    Vlassak, Suo, J. Appl. Phys. 108 (2010) 073517; for inelastic Si hosts Zhao, Pharr,
    Vlassak, Suo, J. Appl. Phys. 109 (2011) 016110)::

        G = Z sigma^2 R / E  >=  Gamma.

    Assumptions, stated plainly:

    * sigma is the lithiation stress magnitude: the largest |sigma_t| over the particle
      and the charge from the elastic solution, capped at the yield point of Li_xSi,
      sigma_Y. Crystalline Si lithiates through a Li_xSi shell that flows plastically;
      as the front moves in, the surface hoop stress reverses from compression to
      tension of order sigma_Y (Liu et al., ACS Nano 6 (2012) 1522; Huang et al.,
      J. Mech. Phys. Solids 61 (2013) 1043). The elastic solution only tells whether
      the particle reaches yield; once it does (the default pure-Si case) sigma =
      sigma_Y and R_c = Gamma E / (Z sigma_Y^2), independent of D.
    * Z is taken from a surface (edge) crack of depth b in plane strain,
      K = F sigma sqrt(pi b), G = K^2 (1 - nu^2) / E, F = 1.1215 (Tada, Paris, Irwin,
      The Stress Analysis of Cracks Handbook, 3rd ed., 2000), with b = f_b R:
      Z = pi F^2 (1 - nu^2) f_b. f_b = 1 (the largest flaw a particle can hold, a crack
      comparable to the particle, as in Zhao 2011) is an assumption, not a fit; it is
      printed with the result. A uniform-tension half-plane formula for a crack as deep
      as the radius is an order-of-magnitude estimate.
    * E, nu, sigma_Y and Gamma are those of Li_xSi (the cracking shell).

    With the defaults (E = 35 GPa, nu = 0.24, sigma_Y = 1 GPa, Gamma = 8.5 J/m^2):
    Z = 3.72 and R_c = 80 nm, a critical diameter of 160 nm, next to the ~150 nm
    observed by Liu et al. 2012.

``hoop_strength``
    Largest tensile hoop stress of the elastic diffusion solution, computed with the
    c-Si moduli (185 GPa, 0.22), against the c-Si yield point / strength (7 GPa,
    review Table 1). Purely elastic, single-phase (Cheng, Verbrugge, J. Power Sources
    190 (2009) 453); it ignores the two-phase front and plastic flow and so is a
    diffusion-limited bound that depends strongly on D and the C-rate.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from scipy.optimize import brentq

from sianode.continuum.parameters import ContinuumParameters, Parameter
from sianode.continuum.stress import run_stress
from sianode.errors import CalculationFailed, InputError

logger = logging.getLogger(__name__)

CITATIONS = {
    "energy_release_rate": (
        "Zhao, Pharr, Vlassak, Suo, J. Appl. Phys. 108 (2010) 073517 and J. Appl. Phys. 109 "
        "(2011) 016110: G = Z sigma^2 R / E >= Gamma; stress capped at yield (Liu et al., "
        "ACS Nano 6 (2012) 1522); Z from an edge crack (Tada, Paris, Irwin 2000)"
    ),
    "hoop_strength": (
        "Cheng, Verbrugge, J. Power Sources 190 (2009) 453: elastic max tensile hoop stress "
        ">= strength of c-Si (review Table 1, ref 21)"
    ),
}
CRITERIA = tuple(CITATIONS)


@dataclass
class CriticalSizeResult:
    """Critical particle size for one criterion.

    Attributes
    ----------
    critical_radius_m, critical_diameter_m : float
        Largest radius / diameter that does not fracture, m.
    criterion : str
        Criterion name (one of :data:`CRITERIA`).
    citation : str
        Where the criterion comes from.
    criterion_parameters : dict
        Name -> ``{"value", "unit", "source"}`` of every number the criterion used,
        including derived ones (Z, stress at R_c).
    yield_limited : bool
        True when the driving stress at R_c was capped at the yield point.
    c_rate : float
        C-rate of the charge.
    parameters : ContinuumParameters
        The full parameter set.
    """

    critical_radius_m: float
    critical_diameter_m: float
    criterion: str
    citation: str
    criterion_parameters: dict[str, dict[str, Any]]
    yield_limited: bool
    c_rate: float
    parameters: ContinuumParameters = field(default_factory=ContinuumParameters)

    def as_dict(self) -> dict[str, Any]:
        return {
            "critical_radius_m": self.critical_radius_m,
            "critical_diameter_m": self.critical_diameter_m,
            "criterion": self.criterion,
            "citation": self.citation,
            "criterion_parameters": self.criterion_parameters,
            "yield_limited": self.yield_limited,
            "c_rate": self.c_rate,
            "dopant": self.parameters.dopant,
            "percent": self.parameters.percent,
            "parameters": self.parameters.as_dict(),
        }


def geometry_factor_z(params: ContinuumParameters) -> float:
    """Z = pi F^2 (1 - nu^2) f_b for an edge crack of depth f_b R in plane strain."""
    f = params.edge_crack_factor.value
    return math.pi * f**2 * (1.0 - params.poisson_lisi.value ** 2) * params.flaw_depth_fraction.value


def driving_stress_pa(
    params: ContinuumParameters, radius_m: float, c_rate: float = 1.0, n_nodes: int = 101, n_steps: int = 200
) -> tuple[float, bool]:
    """Lithiation stress for the energy-release-rate criterion, Pa, and whether it hit yield."""
    elastic = run_stress(params, radius_m, c_rate=c_rate, n_nodes=n_nodes, n_steps=n_steps, n_out=21).max_abs_hoop_pa
    cap = params.yield_lisi_pa.value
    return min(elastic, cap), elastic >= cap


def energy_release_rate_j_m2(
    params: ContinuumParameters, radius_m: float, c_rate: float = 1.0, n_nodes: int = 101, n_steps: int = 200
) -> float:
    """G = Z sigma^2 R / E of the assumed surface flaw, J/m^2 (see module docstring)."""
    sigma, _ = driving_stress_pa(params, radius_m, c_rate, n_nodes, n_steps)
    return geometry_factor_z(params) * sigma**2 * radius_m / params.youngs_lisi_pa.value


def max_tensile_hoop_csi_pa(
    params: ContinuumParameters, radius_m: float, c_rate: float = 1.0, n_nodes: int = 101, n_steps: int = 200
) -> float:
    """Largest tensile hoop stress with the c-Si moduli over one charge, Pa."""
    res = run_stress(
        params,
        radius_m,
        c_rate=c_rate,
        n_nodes=n_nodes,
        n_steps=n_steps,
        n_out=21,
        youngs_pa=params.youngs_csi_pa.value,
        poisson=params.poisson_csi.value,
    )
    return res.max_tensile_hoop_pa


def critical_radius(
    params: ContinuumParameters,
    criterion: str = "energy_release_rate",
    *,
    c_rate: float = 1.0,
    r_min_m: float = 1e-9,
    r_max_m: float = 1e-4,
    n_nodes: int = 101,
    n_steps: int = 200,
    rtol: float = 1e-6,
) -> CriticalSizeResult:
    """Radius above which a particle charged at ``c_rate`` fractures, by brentq on ln R.

    Parameters
    ----------
    params : ContinuumParameters
    criterion : {"energy_release_rate", "hoop_strength"}
    c_rate : float
        Galvanostatic C-rate (> 0).
    r_min_m, r_max_m : float
        Search bracket, m.
    n_nodes, n_steps : int
        Solver resolution for each trial radius.
    rtol : float
        Relative tolerance on R.

    Returns
    -------
    CriticalSizeResult

    Raises
    ------
    InputError
        Unknown criterion, bad C-rate or bracket.
    CalculationFailed
        The criterion is not crossed inside the bracket.
    """
    if criterion not in CITATIONS:
        raise InputError(f"criterion {criterion!r} is not allowed; choose one of {', '.join(CRITERIA)}")
    if not (math.isfinite(c_rate) and c_rate > 0):
        raise InputError(f"C-rate = {c_rate!r} is not allowed; it must be > 0 (1 = full charge in 1 h)")
    if not (0 < r_min_m < r_max_m):
        raise InputError(f"search bracket [{r_min_m!r}, {r_max_m!r}] m is not allowed; need 0 < r_min < r_max")
    kw = {"c_rate": c_rate, "n_nodes": n_nodes, "n_steps": n_steps}
    if criterion == "energy_release_rate":
        gamma = params.fracture_energy_j_m2.value

        def excess(log_r: float) -> float:
            return energy_release_rate_j_m2(params, math.exp(log_r), **kw) / gamma - 1.0

    else:
        strength = params.yield_csi_pa.value

        def excess(log_r: float) -> float:
            return max_tensile_hoop_csi_pa(params, math.exp(log_r), **kw) / strength - 1.0

    radius = _bracketed_root(excess, math.log(r_min_m), math.log(r_max_m), rtol, criterion, c_rate)
    used: dict[str, Parameter]
    if criterion == "energy_release_rate":
        sigma, capped = driving_stress_pa(params, radius, **kw)
        used = {
            "fracture_energy_j_m2": params.fracture_energy_j_m2,
            "youngs_lisi_pa": params.youngs_lisi_pa,
            "poisson_lisi": params.poisson_lisi,
            "yield_lisi_pa": params.yield_lisi_pa,
            "flaw_depth_fraction": params.flaw_depth_fraction,
            "edge_crack_factor": params.edge_crack_factor,
            "z": Parameter(geometry_factor_z(params), "1", "pi F^2 (1 - nu^2) f_b (derived)"),
            "stress_at_critical_pa": Parameter(
                sigma, "Pa", "min(max |sigma_t| of the elastic solution, yield of Li_xSi) at R_c"
            ),
        }
    else:
        sigma = max_tensile_hoop_csi_pa(params, radius, **kw)
        capped = False
        used = {
            "yield_csi_pa": params.yield_csi_pa,
            "youngs_csi_pa": params.youngs_csi_pa,
            "poisson_csi": params.poisson_csi,
            "stress_at_critical_pa": Parameter(sigma, "Pa", "max tensile hoop stress at R_c"),
        }
    for name in ("diffusivity_m2_s", "omega_m3_mol", "c_max_mol_m3"):
        used[name] = getattr(params, name)
    used["c_rate"] = Parameter(c_rate, "1/h", "galvanostatic charge, J = c_max R C / (3 * 3600 s)")
    logger.info("critical radius (%s): %.4g m", criterion, radius)
    return CriticalSizeResult(
        critical_radius_m=radius,
        critical_diameter_m=2.0 * radius,
        criterion=criterion,
        citation=CITATIONS[criterion],
        criterion_parameters={k: v.as_dict() for k, v in used.items()},
        yield_limited=capped,
        c_rate=c_rate,
        parameters=params,
    )


def _bracketed_root(
    excess: Callable[[float], float], lo: float, hi: float, rtol: float, criterion: str, c_rate: float
) -> float:
    f_lo, f_hi = excess(lo), excess(hi)
    if f_lo >= 0:
        raise CalculationFailed(
            f"criterion {criterion} is already met at R = {math.exp(lo):.3g} m (C-rate {c_rate}); "
            "lower r_min_m"
        )
    if f_hi < 0:
        raise CalculationFailed(
            f"criterion {criterion} is never met up to R = {math.exp(hi):.3g} m at C-rate {c_rate}; "
            "no critical size in the search range (raise r_max_m or the C-rate)"
        )
    log_r = brentq(excess, lo, hi, xtol=rtol, rtol=rtol)
    return math.exp(log_r)


__all__ = [
    "CRITERIA",
    "CriticalSizeResult",
    "critical_radius",
    "driving_stress_pa",
    "energy_release_rate_j_m2",
    "geometry_factor_z",
    "max_tensile_hoop_csi_pa",
]
