"""Single points and relaxations (ASE optimizers; cell through ``FrechetCellFilter``)."""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np

from sianode.calculators.guards import check_geometry
from sianode.calculators.registry import DEFAULT_CALCULATOR
from sianode.calculators.results import RelaxResult, SinglePointResult, guarded, resolve_calculator
from sianode.errors import CalculationFailed, InputError
from sianode.structures.serialize import as_ase

logger = logging.getLogger(__name__)

OPTIMIZERS = ("FIRE", "BFGS", "LBFGS")


def optimizer_class(name: str) -> Any:
    """The ASE optimizer class for ``name`` (one of :data:`OPTIMIZERS`)."""
    from ase import optimize

    if name not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    return getattr(optimize, name)


def _stress_or_none(atoms: Any) -> np.ndarray | None:
    """The stress in Voigt order (6,), eV/A^3; None without a 3D cell or a stress result.

    Some calculators (CHGNet) leave the full 3x3 tensor in ``results``: it is converted as
    ASE's ``get_stress(voigt=True)`` does."""
    if atoms.cell.rank < 3 or "stress" not in atoms.calc.results:
        return None
    stress = np.array(atoms.calc.results["stress"], dtype=float)
    if stress.shape == (3, 3):
        from ase.stress import full_3x3_to_voigt_6_stress

        stress = full_3x3_to_voigt_6_stress(stress)
    return stress.reshape(6)


def single_point(atoms: Any, calculator: Any = DEFAULT_CALCULATOR) -> SinglePointResult:
    """Energy, forces and (for 3D cells) stress of one structure.

    Parameters
    ----------
    atoms : ase.Atoms
        The structure (not modified).
    calculator : CalculatorSpec | str | ase Calculator
        Registry name, spec or ready calculator.

    Raises
    ------
    InputError
        An element the calculator does not support.
    CalculationFailed
        Atoms closer than 0.5 A, or a NaN/inf result.
    """
    atoms = as_ase(atoms).copy()
    inner, provenance = resolve_calculator(calculator, atoms)
    check_geometry(atoms)
    calc = guarded(inner, provenance)
    atoms.calc = calc
    t0 = time.perf_counter()
    forces = atoms.get_forces()
    energy = atoms.get_potential_energy()
    stress = _stress_or_none(atoms)
    return SinglePointResult(structure=atoms, energy_eV=float(energy), forces_eV_A=np.array(forces),
                             stress_eV_A3=stress, n_force_calls=calc.n_calls,
                             wall_s=time.perf_counter() - t0, calculator=provenance)


def relax(
    atoms: Any,
    calculator: Any = DEFAULT_CALCULATOR,
    fmax: float = 0.05,
    cell: bool = False,
    steps: int = 300,
    optimizer: str = "FIRE",
) -> RelaxResult:
    """Relax positions (and the cell with ``cell=True``) to ``fmax``.

    Parameters
    ----------
    atoms : ase.Atoms
        Start structure (not modified).
    calculator : CalculatorSpec | str | ase Calculator
        Registry name, spec or ready calculator.
    fmax : float
        Force criterion, eV/A (for ``cell=True`` it also bounds the stress components times
        volume, as in ASE's ``FrechetCellFilter``).
    cell : bool
        Relax the cell too (``ase.filters.FrechetCellFilter``).
    steps : int
        Maximum optimizer steps; when they run out ``converged`` is False.
    optimizer : str
        ``"FIRE"``, ``"BFGS"`` or ``"LBFGS"`` (ASE optimizers).

    Returns
    -------
    RelaxResult
        With the trajectory in ``arrays`` (``positions_A``, ``energies_eV``, ``cells_A``).
    """
    if not (isinstance(fmax, (int, float)) and fmax > 0):
        raise InputError(f"fmax must be a positive number in eV/A, got {fmax!r}")
    if not (isinstance(steps, int) and steps >= 0):
        raise InputError(f"steps must be a non-negative integer, got {steps!r}")
    opt_cls = optimizer_class(optimizer)
    atoms = as_ase(atoms).copy()
    inner, provenance = resolve_calculator(calculator, atoms)
    check_geometry(atoms)
    calc = guarded(inner, provenance)
    atoms.calc = calc
    target = atoms
    if cell:
        from ase.filters import FrechetCellFilter

        if atoms.cell.rank < 3 or not atoms.pbc.all():
            raise InputError("cell=True needs a periodic structure with a 3D cell")
        target = FrechetCellFilter(atoms)
    positions, energies, cells = [], [], []

    def record() -> None:
        positions.append(atoms.get_positions())
        energies.append(atoms.get_potential_energy())
        cells.append(np.array(atoms.get_cell()))

    t0 = time.perf_counter()
    opt = opt_cls(target, logfile=None)
    opt.attach(record, interval=1)
    try:
        with warnings.catch_warnings():
            # FrechetCellFilter's matrix logarithm of a near-identity deformation: scipy warns
            # at ~1e-12 relative error, far below anything that matters here
            warnings.filterwarnings("ignore", message="logm result may be inaccurate", category=RuntimeWarning)
            converged = bool(opt.run(fmax=fmax, steps=steps))
    except (FloatingPointError, np.linalg.LinAlgError) as exc:
        raise CalculationFailed(f"relaxation failed numerically: {exc}") from exc
    wall = time.perf_counter() - t0
    forces = atoms.get_forces()
    energy = atoms.get_potential_energy()
    fmax_now = float(np.sqrt((target.get_forces() ** 2).sum(axis=1).max()))
    logger.info("relax %s: %d steps, %d calls, converged=%s, E=%.6f eV",
                atoms.get_chemical_formula(), opt.nsteps, calc.n_calls, converged, energy)
    final = atoms.copy()
    final.calc = None
    return RelaxResult(
        structure=final, energy_eV=float(energy), forces_eV_A=np.array(forces),
        stress_eV_A3=_stress_or_none(atoms), converged=converged, steps=int(opt.nsteps),
        n_force_calls=calc.n_calls, fmax_eV_A=fmax_now, fmax_target_eV_A=float(fmax), cell_relaxed=bool(cell),
        optimizer=optimizer, wall_s=wall, calculator=provenance,
        arrays={"positions_A": np.array(positions), "energies_eV": np.array(energies), "cells_A": np.array(cells)},
    )
