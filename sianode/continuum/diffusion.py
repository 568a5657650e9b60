"""Li diffusion in a spherical particle: finite volumes in r, implicit time stepping.

Solves Fick's second law in a sphere of radius R (Crank, The Mathematics of Diffusion,
2nd ed. (1975), ch. 6)::

    dc/dt = (1/r^2) d/dr (r^2 D(c) dc/dr),   dc/dr = 0 at r = 0,

with either a galvanostatic surface flux ``D dc/dr = J`` at r = R (J > 0: Li entering) or
a potentiostatic surface concentration ``c(R) = c_s``.

Discretisation: vertex-centred finite volumes on a uniform grid r_i = i h, i = 0..N-1,
h = R / (N-1). Node i owns the shell between the faces r_{i-1/2} and r_{i+1/2} (clipped
to [0, R]), of volume V_i = (r_{i+1/2}^3 - r_{i-1/2}^3) / 3 per steradian; the flux
through a face is r_f^2 D_f (c_{i+1} - c_i) / h with D_f the mean of the two nodes. Every
face flux leaves one volume and enters the next, so sum_i 4 pi V_i c_i changes only by
what crosses r = R: mass is conserved to round-off. Time stepping is the theta method
(Crank-Nicolson, theta = 1/2, after two backward-Euler start-up steps that damp the
oscillation a sudden surface step excites (Rannacher, Numer. Math. 43 (1984) 309); or
backward Euler, theta = 1); each step is one tridiagonal solve
(:func:`scipy.linalg.solve_banded`). A concentration-dependent D is evaluated at the
start of each step (linearised, first order in the change of D over one step).

Galvanostatic C-rate: filling the particle to c_max in 1/C hours means
(4/3) pi R^3 c_max = 4 pi R^2 J t_charge, t_charge = 3600 s / C, so::

    J = c_max R / (3 t_charge) = c_max R C / (3 * 3600 s)   [mol m^-2 s^-1].
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
from scipy.linalg import solve_banded

from sianode.errors import InputError

logger = logging.getLogger(__name__)

#: D may be a number, an array over the nodes, or a callable D(c) -> array, in m^2/s.
Diffusivity = Union[float, np.ndarray, Callable[[np.ndarray], np.ndarray]]

SCHEMES = ("crank-nicolson", "backward-euler")


def c_rate_to_flux(c_rate: float, radius_m: float, c_max_mol_m3: float) -> float:
    """Surface flux that fills a sphere to ``c_max`` in 1/C-rate hours, mol m^-2 s^-1.

    ``J = c_max R / (3 * 3600 s / C-rate)`` (volume 4/3 pi R^3 over area 4 pi R^2).
    """
    if not (math.isfinite(c_rate) and c_rate > 0):
        raise InputError(f"C-rate = {c_rate!r} is not allowed; it must be > 0 (1 = full charge in 1 h)")
    check_radius(radius_m)
    return c_max_mol_m3 * radius_m / (3.0 * 3600.0 / c_rate)


def check_radius(radius_m: float) -> None:
    """Raise :class:`InputError` unless ``radius_m`` is a positive finite length in m."""
    if not (isinstance(radius_m, (int, float)) and math.isfinite(radius_m) and radius_m > 0):
        raise InputError(f"radius = {radius_m!r} m is not allowed; it must be a positive length")


def radial_grid(radius_m: float, n_nodes: int) -> np.ndarray:
    """Uniform node positions r_i = i R / (N-1), m, shape (N,)."""
    check_radius(radius_m)
    if int(n_nodes) != n_nodes or n_nodes < 3:
        raise InputError(f"nodes = {n_nodes!r} is not allowed; use an integer >= 3")
    return np.linspace(0.0, radius_m, int(n_nodes))


def control_volumes(r_m: np.ndarray) -> np.ndarray:
    """Finite-volume shell volumes per steradian, m^3, shape (N,); 4 pi sum = sphere volume."""
    faces = np.concatenate(([0.0], 0.5 * (r_m[1:] + r_m[:-1]), [r_m[-1]]))
    return (faces[1:] ** 3 - faces[:-1] ** 3) / 3.0


def particle_li_mol(r_m: np.ndarray, c_mol_m3: np.ndarray) -> np.ndarray:
    """Li in the particle, mol: 4 pi sum_i V_i c_i (the conserved quantity), shape c[..., 0]."""
    return 4.0 * math.pi * np.asarray(c_mol_m3) @ control_volumes(r_m)


@dataclass
class DiffusionResult:
    """Concentration history of a particle.

    Attributes
    ----------
    r_m : ndarray, shape (n_r,)
        Node radii, m.
    times_s : ndarray, shape (n_t,)
        Output times, s.
    c_mol_m3 : ndarray, shape (n_t, n_r)
        Li concentration, mol/m^3 (per reference volume).
    li_mol : ndarray, shape (n_t,)
        Li in the particle (finite-volume sum), mol.
    li_in_mol : ndarray, shape (n_t,)
        Li that crossed the surface since t = 0 plus the initial content, mol.
    boundary : dict
        ``{"type": "galvanostatic", "flux_mol_m2_s": J}`` or
        ``{"type": "potentiostatic", "surface_conc_mol_m3": c_s}``.
    """

    r_m: np.ndarray
    times_s: np.ndarray
    c_mol_m3: np.ndarray
    li_mol: np.ndarray
    li_in_mol: np.ndarray
    boundary: dict[str, Any] = field(default_factory=dict)


def _face_diffusivity(diffusivity: Diffusivity, c: np.ndarray) -> np.ndarray:
    if callable(diffusivity):
        d_nodes = np.broadcast_to(np.asarray(diffusivity(c), dtype=float), c.shape)
    else:
        d_nodes = np.broadcast_to(np.asarray(diffusivity, dtype=float), c.shape)
    if not np.all(np.isfinite(d_nodes)) or np.any(d_nodes <= 0):
        bad = d_nodes[~(np.isfinite(d_nodes) & (d_nodes > 0))].ravel()[0]
        raise InputError(f"diffusivity = {bad!r} m^2/s is not allowed; it must be > 0")
    return 0.5 * (d_nodes[1:] + d_nodes[:-1])


def solve_diffusion(
    radius_m: float,
    diffusivity_m2_s: Diffusivity,
    t_end_s: float,
    *,
    flux_mol_m2_s: float | None = None,
    surface_conc_mol_m3: float | None = None,
    c_initial_mol_m3: float = 0.0,
    n_nodes: int = 101,
    n_steps: int = 400,
    n_out: int = 11,
    scheme: str = "crank-nicolson",
) -> DiffusionResult:
    """Integrate Li diffusion in a sphere from a uniform start to ``t_end_s``.

    Give exactly one of ``flux_mol_m2_s`` (galvanostatic, J > 0 into the particle) or
    ``surface_conc_mol_m3`` (potentiostatic).

    Parameters
    ----------
    radius_m : float
        Particle radius R, m.
    diffusivity_m2_s : float, ndarray (n_nodes,) or callable c -> D
        Li diffusivity, m^2/s.
    t_end_s : float
        End time, s.
    flux_mol_m2_s, surface_conc_mol_m3 : float, optional
        Boundary condition at r = R.
    c_initial_mol_m3 : float
        Uniform initial concentration, mol/m^3.
    n_nodes : int
        Radial nodes (>= 3), including r = 0 and r = R.
    n_steps : int
        Uniform time steps.
    n_out : int
        Output times, evenly spaced from 0 to ``t_end_s`` (snapped to steps).
    scheme : {"crank-nicolson", "backward-euler"}

    Returns
    -------
    DiffusionResult
    """
    r = radial_grid(radius_m, n_nodes)
    if not (math.isfinite(t_end_s) and t_end_s > 0):
        raise InputError(f"time = {t_end_s!r} s is not allowed; it must be > 0")
    if int(n_steps) != n_steps or n_steps < 1:
        raise InputError(f"n_steps = {n_steps!r} is not allowed; use an integer >= 1")
    if int(n_out) != n_out or n_out < 2:
        raise InputError(f"n_out = {n_out!r} is not allowed; use an integer >= 2")
    if scheme not in SCHEMES:
        raise InputError(f"scheme = {scheme!r} is not allowed; choose one of {', '.join(SCHEMES)}")
    if (flux_mol_m2_s is None) == (surface_conc_mol_m3 is None):
        raise InputError("give exactly one of flux_mol_m2_s (galvanostatic) or surface_conc_mol_m3 (potentiostatic)")
    potentiostatic = surface_conc_mol_m3 is not None
    n = r.size
    n_steps = int(n_steps)
    h = r[1] - r[0]
    volumes = control_volumes(r)
    faces = 0.5 * (r[1:] + r[:-1])
    area_over_h = faces**2 / h
    dt = t_end_s / n_steps
    source = np.zeros(n)
    if not potentiostatic:
        source[-1] = radius_m**2 * float(flux_mol_m2_s)  # mol/s per steradian

    c = np.full(n, float(c_initial_mol_m3))
    if potentiostatic:
        c[-1] = float(surface_conc_mol_m3)
    li0 = float(particle_li_mol(r, np.full(n, float(c_initial_mol_m3))))
    out_steps = np.unique(np.round(np.linspace(0, n_steps, int(n_out))).astype(int))
    c_out = np.empty((out_steps.size, n))
    li_in = np.empty(out_steps.size)
    k_out = 0
    if out_steps[0] == 0:
        c_out[0] = c
        li_in[0] = float(particle_li_mol(r, c)) if potentiostatic else li0
        k_out = 1
    crossed = 0.0  # mol per steradian through r = R (potentiostatic bookkeeping)
    constant_d = not callable(diffusivity_m2_s)
    g = area_over_h * _face_diffusivity(diffusivity_m2_s, c)
    ab = np.zeros((3, n))
    for step in range(1, n_steps + 1):
        if not constant_d:
            g = area_over_h * _face_diffusivity(diffusivity_m2_s, c)
        theta = 1.0 if (scheme == "backward-euler" or step <= 2) else 0.5
        # L c: (L c)_i = g_{i+1/2}(c_{i+1}-c_i) - g_{i-1/2}(c_i-c_{i-1})
        flow = g * (c[1:] - c[:-1])
        lc = np.zeros(n)
        lc[:-1] += flow
        lc[1:] -= flow
        rhs = volumes / dt * c + (1.0 - theta) * lc + source
        diag = volumes / dt
        ab[1] = diag
        ab[1, :-1] += theta * g
        ab[1, 1:] += theta * g
        ab[0, 1:] = -theta * g
        ab[2, :-1] = -theta * g
        if potentiostatic:
            # flux into the surface volume from outside = what keeps c(R) = c_s
            ab[1, -1], ab[2, -2] = 1.0, 0.0
            rhs[-1] = float(surface_conc_mol_m3)
        c_new = solve_banded((1, 1), ab, rhs, overwrite_ab=False, overwrite_b=True, check_finite=False)
        if potentiostatic:
            # surface-volume balance gives the flux that crossed r = R this step
            inner = theta * g[-1] * (c_new[-1] - c_new[-2]) + (1 - theta) * g[-1] * (c[-1] - c[-2])
            crossed += volumes[-1] * (c_new[-1] - c[-1]) + dt * inner
        c = c_new
        if k_out < out_steps.size and step == out_steps[k_out]:
            c_out[k_out] = c
            if potentiostatic:
                li_in[k_out] = float(particle_li_mol(r, c_out[0])) + 4.0 * math.pi * crossed
            else:
                li_in[k_out] = li0 + 4.0 * math.pi * source[-1] * step * dt
            k_out += 1
    times = out_steps * dt
    boundary: dict[str, Any] = (
        {"type": "potentiostatic", "surface_conc_mol_m3": float(surface_conc_mol_m3)}
        if potentiostatic
        else {"type": "galvanostatic", "flux_mol_m2_s": float(flux_mol_m2_s)}
    )
    logger.debug("diffusion: R=%g m, %d nodes, %d steps, %s", radius_m, n, n_steps, boundary)
    return DiffusionResult(r, times, c_out, particle_li_mol(r, c_out), li_in, boundary)


__all__ = [
    "DiffusionResult",
    "c_rate_to_flux",
    "check_radius",
    "control_volumes",
    "particle_li_mol",
    "radial_grid",
    "solve_diffusion",
]
