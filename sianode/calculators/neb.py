"""Climbing-image NEB with the improved tangent and an IDPP start path (ASE ``ase.mep.NEB``).

Method: Henkelman, Uberuaga, Jonsson, J. Chem. Phys. 113 (2000) 9901 (climbing image);
Henkelman, Jonsson, J. Chem. Phys. 113 (2000) 9978 (improved tangent); Smidstrup et al.,
J. Chem. Phys. 140 (2014) 214106 (IDPP interpolation). The band is first relaxed without the
climbing image to ``preconverge_fmax``, then the highest image climbs until ``fmax``.

A path that did not converge, or whose highest image is an end point, is reported by its
``status`` with ``barrier_eV = None``: never as a barrier number.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from sianode.calculators.guards import check_geometry
from sianode.calculators.registry import DEFAULT_CALCULATOR
from sianode.calculators.relax import optimizer_class
from sianode.calculators.results import NEBResult, guarded, resolve_calculator
from sianode.errors import CalculationFailed, InputError
from sianode.structures.serialize import as_ase

logger = logging.getLogger(__name__)

STATUSES = ("ok", "not_converged", "maximum_at_endpoint")


def _check_endpoints(start: Any, end: Any) -> None:
    if len(start) != len(end) or start.get_chemical_symbols() != end.get_chemical_symbols():
        raise InputError(f"NEB end points must have the same atoms in the same order; got "
                         f"{start.get_chemical_formula()} ({len(start)} atoms) and "
                         f"{end.get_chemical_formula()} ({len(end)} atoms)")
    if not np.allclose(start.get_cell(), end.get_cell(), atol=1e-6):
        raise InputError("NEB end points must have the same cell (variable-cell NEB is not supported)")


def neb(
    start: Any,
    end: Any,
    calculator: Any = DEFAULT_CALCULATOR,
    n_images: int = 5,
    fmax: float = 0.05,
    climb: bool = True,
    steps: int = 500,
    preconverge_fmax: float = 0.5,
    optimizer: str = "FIRE",
    interpolation: str = "idpp",
    method: str = "improvedtangent",
    k: float = 0.1,
) -> NEBResult:
    """Minimum-energy path and barrier between two relaxed end points.

    Parameters
    ----------
    start, end : ase.Atoms
        Relaxed end points, same atoms in the same order, same cell (not modified).
    calculator : CalculatorSpec | str | ase Calculator
        Registry name, spec or ready calculator; one model is shared, each image has its own
        counting wrapper and result cache.
    n_images : int
        Number of intermediate (moving) images.
    fmax : float
        Final force criterion on the band, eV/A.
    climb : bool
        Switch the climbing image on after the pre-converge phase.
    steps : int
        Total optimizer steps over both phases.
    preconverge_fmax : float
        Force criterion (eV/A) of the phase without climbing image (skipped if <= fmax).
    optimizer : str
        ``"FIRE"``, ``"BFGS"`` or ``"LBFGS"``.
    interpolation : str
        ``"idpp"`` (default) or ``"linear"``.
    method : str
        ASE NEB tangent method, default ``"improvedtangent"``.
    k : float
        Spring constant, eV/A^2.

    Returns
    -------
    NEBResult
        ``status`` 'ok' | 'not_converged' | 'maximum_at_endpoint'; ``barrier_eV`` only when 'ok'.
        'maximum_at_endpoint' (the highest image is an end point, converged or not) takes
        precedence over 'not_converged'.
    """
    from ase.mep import NEB

    if not (isinstance(n_images, int) and n_images >= 1):
        raise InputError(f"n_images must be a positive integer, got {n_images!r}")
    if not (isinstance(fmax, (int, float)) and fmax > 0):
        raise InputError(f"fmax must be a positive number in eV/A, got {fmax!r}")
    if not (isinstance(steps, int) and steps >= 0):
        raise InputError(f"steps must be a non-negative integer, got {steps!r}")
    if interpolation not in ("idpp", "linear"):
        raise InputError(f"interpolation must be 'idpp' or 'linear', got {interpolation!r}")
    opt_cls = optimizer_class(optimizer)
    start, end = as_ase(start).copy(), as_ase(end).copy()
    _check_endpoints(start, end)
    inner, provenance = resolve_calculator(calculator, start)
    check_geometry(start, "NEB start")
    check_geometry(end, "NEB end")

    images = [start] + [start.copy() for _ in range(n_images)] + [end]
    wrappers = [guarded(inner, provenance) for _ in images]
    for image, wrapper in zip(images, wrappers):
        image.calc = wrapper
    band = NEB(images, k=k, climb=False, method=method)
    band.interpolate(method=interpolation, mic=bool(start.pbc.any()), apply_constraint=False)
    for n, image in enumerate(images[1:-1], start=1):
        check_geometry(image, f"interpolated NEB image {n}")

    t0 = time.perf_counter()
    converged = False
    used = 0
    try:
        if preconverge_fmax > fmax and climb:
            opt = opt_cls(band, logfile=None)
            opt.run(fmax=preconverge_fmax, steps=steps)
            used = opt.nsteps
        # no climbing towards an end point: a downhill band would never converge
        top = int(np.argmax([image.get_potential_energy() for image in images]))
        band.climb = bool(climb) and 0 < top < len(images) - 1
        opt = opt_cls(band, logfile=None)
        converged = bool(opt.run(fmax=fmax, steps=max(steps - used, 0)))
        used += opt.nsteps
    except (FloatingPointError, np.linalg.LinAlgError) as exc:
        raise CalculationFailed(f"NEB failed numerically: {exc}") from exc
    wall = time.perf_counter() - t0

    energies = np.array([image.get_potential_energy() for image in images])
    positions = np.array([image.get_positions() for image in images])
    fmax_now = float(np.sqrt((band.get_forces() ** 2).sum(axis=1).max()))
    imax = int(np.argmax(energies))
    if imax in (0, len(images) - 1):
        status = "maximum_at_endpoint"
    elif not converged:
        status = "not_converged"
    else:
        status = "ok"
    barrier = float(energies[imax] - energies[0]) if status == "ok" else None
    n_calls = sum(w.n_calls for w in wrappers)
    logger.info("NEB %s: status=%s barrier=%s steps=%d calls=%d", start.get_chemical_formula(), status,
                barrier, used, n_calls)
    saddle = images[imax].copy()
    saddle.calc = None
    return NEBResult(
        status=status, barrier_eV=barrier, energies_eV=[float(e) for e in energies], saddle_index=imax,
        saddle_structure=saddle, start_structure=_bare(start), end_structure=_bare(end),
        converged=converged, steps=used, n_force_calls=n_calls, n_images=n_images, fmax_eV_A=fmax_now,
        fmax_target_eV_A=float(fmax), reaction_energy_eV=float(energies[-1] - energies[0]), wall_s=wall,
        calculator=provenance,
        settings={"climb": bool(climb), "climbed": bool(band.climb), "preconverge_fmax_eV_A": float(preconverge_fmax), "optimizer": optimizer,
                  "interpolation": interpolation, "method": method, "k_eV_A2": float(k), "max_steps": steps},
        arrays={"positions_A": positions, "energies_eV": energies},
    )


def _bare(atoms: Any) -> Any:
    copy = atoms.copy()
    copy.calc = None
    return copy
