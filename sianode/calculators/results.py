"""Result dataclasses of the calculator operations, and how a ``calculator`` argument is read.

Every result has ``as_dict()``: a JSON/BSON-safe plain dict (floats, lists, structures through
:func:`~sianode.structures.serialize.atoms_to_dict`), units in the key names
(``energy_eV``, ``forces_eV_A``, ``stress_eV_A3``, ``wall_s``). Big arrays (trajectories,
NEB paths) stay out of it, in ``arrays`` (name -> ``numpy.ndarray``), for GridFS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sianode.calculators.guards import GuardedCalculator
from sianode.calculators.registry import CalculatorSpec, get_calculator
from sianode.errors import InputError
from sianode.structures.serialize import atoms_to_dict


def resolve_calculator(calculator: Any, atoms: Any = None) -> tuple[Any, dict[str, Any]]:
    """Read a ``calculator`` argument: a :class:`CalculatorSpec`, a registry name, or an ASE calculator.

    Returns the ASE calculator and its provenance dict. With ``atoms`` given, the elements are
    checked against the calculator (:class:`InputError` naming element and calculator).
    """
    from ase.calculators.calculator import BaseCalculator

    if isinstance(calculator, str):
        calculator = get_calculator(calculator)
    if isinstance(calculator, CalculatorSpec):
        if atoms is not None:
            calculator.check_elements(atoms)
        return calculator.make(), calculator.provenance()
    if isinstance(calculator, BaseCalculator):
        return calculator, {"calculator": type(calculator).__name__, "package": type(calculator).__module__,
                            "parameters": {}, "note": "ASE calculator passed directly; no registry provenance"}
    raise InputError(f"calculator must be a registry name, a CalculatorSpec or an ASE calculator, "
                     f"got {type(calculator).__name__}")


def guarded(inner: Any, provenance: dict[str, Any]) -> GuardedCalculator:
    """A fresh counting, guarding wrapper around ``inner``."""
    return GuardedCalculator(inner, label=f"calculator {provenance.get('calculator')!r}")


def _floats(value: Any) -> Any:
    return None if value is None else np.asarray(value, dtype=float).tolist()


@dataclass
class SinglePointResult:
    """Energy (eV), forces (eV/A, shape (n, 3)) and stress (Voigt, eV/A^3, or None) of one structure."""

    structure: Any
    energy_eV: float
    forces_eV_A: np.ndarray
    stress_eV_A3: np.ndarray | None
    n_force_calls: int
    wall_s: float
    calculator: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Keys: structure, energy_eV, forces_eV_A, stress_eV_A3, fmax_eV_A, n_force_calls, wall_s, calculator."""
        return {
            "structure": atoms_to_dict(self.structure),
            "energy_eV": float(self.energy_eV),
            "forces_eV_A": _floats(self.forces_eV_A),
            "stress_eV_A3": _floats(self.stress_eV_A3),
            "fmax_eV_A": float(np.linalg.norm(self.forces_eV_A, axis=1).max()) if len(self.forces_eV_A) else 0.0,
            "n_force_calls": int(self.n_force_calls),
            "wall_s": float(self.wall_s),
            "calculator": dict(self.calculator),
        }


@dataclass
class RelaxResult:
    """A relaxation: final structure, energy, forces, stress, and the trajectory in ``arrays``.

    ``arrays``: ``positions_A`` (steps+1, n, 3), ``energies_eV`` (steps+1,), ``cells_A`` (steps+1, 3, 3).
    ``converged`` is False when ``steps`` ran out before ``fmax`` was reached.
    """

    structure: Any
    energy_eV: float
    forces_eV_A: np.ndarray
    stress_eV_A3: np.ndarray | None
    converged: bool
    steps: int
    n_force_calls: int
    fmax_eV_A: float
    fmax_target_eV_A: float
    cell_relaxed: bool
    optimizer: str
    wall_s: float
    calculator: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Keys: structure, energy_eV, forces_eV_A, stress_eV_A3, converged, steps, n_force_calls,
        fmax_eV_A, fmax_target_eV_A, cell_relaxed, optimizer, wall_s, calculator."""
        return {
            "structure": atoms_to_dict(self.structure),
            "energy_eV": float(self.energy_eV),
            "forces_eV_A": _floats(self.forces_eV_A),
            "stress_eV_A3": _floats(self.stress_eV_A3),
            "converged": bool(self.converged),
            "steps": int(self.steps),
            "n_force_calls": int(self.n_force_calls),
            "fmax_eV_A": float(self.fmax_eV_A),
            "fmax_target_eV_A": float(self.fmax_target_eV_A),
            "cell_relaxed": bool(self.cell_relaxed),
            "optimizer": self.optimizer,
            "wall_s": float(self.wall_s),
            "calculator": dict(self.calculator),
        }


@dataclass
class NEBResult:
    """A climbing-image NEB path.

    ``status`` is ``'ok'``, ``'not_converged'`` or ``'maximum_at_endpoint'``; ``barrier_eV`` (saddle
    minus start, eV) is set only when ``status == 'ok'``. ``fmax_eV_A`` is the largest NEB force
    (eV/A) on any moving image, ``fmax_saddle_eV_A`` that on the highest image (None when the highest
    image is an end point). ``arrays``: ``positions_A`` (n_images+2, n, 3) and ``energies_eV``
    (n_images+2,).
    """

    status: str
    barrier_eV: float | None
    energies_eV: list[float]
    saddle_index: int
    saddle_structure: Any
    start_structure: Any
    end_structure: Any
    converged: bool
    steps: int
    n_force_calls: int
    n_images: int
    fmax_eV_A: float
    fmax_target_eV_A: float
    reaction_energy_eV: float
    wall_s: float
    calculator: dict[str, Any]
    settings: dict[str, Any]
    fmax_saddle_eV_A: float | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Keys: status, barrier_eV, energies_eV, saddle_index, saddle_structure, start_structure,
        end_structure, converged, steps, n_force_calls, n_images, fmax_eV_A, fmax_saddle_eV_A,
        fmax_target_eV_A, reaction_energy_eV, wall_s, calculator, settings."""
        return {
            "status": self.status,
            "barrier_eV": None if self.barrier_eV is None else float(self.barrier_eV),
            "energies_eV": [float(e) for e in self.energies_eV],
            "saddle_index": int(self.saddle_index),
            "saddle_structure": atoms_to_dict(self.saddle_structure),
            "start_structure": atoms_to_dict(self.start_structure),
            "end_structure": atoms_to_dict(self.end_structure),
            "converged": bool(self.converged),
            "steps": int(self.steps),
            "n_force_calls": int(self.n_force_calls),
            "n_images": int(self.n_images),
            "fmax_eV_A": float(self.fmax_eV_A),
            "fmax_saddle_eV_A": None if self.fmax_saddle_eV_A is None else float(self.fmax_saddle_eV_A),
            "fmax_target_eV_A": float(self.fmax_target_eV_A),
            "reaction_energy_eV": float(self.reaction_energy_eV),
            "wall_s": float(self.wall_s),
            "calculator": dict(self.calculator),
            "settings": dict(self.settings),
        }


@dataclass
class ReferenceResult:
    """Relaxed bcc Li: chemical potential ``mu_Li_eV`` (eV/atom) and lattice constant ``a_A`` (A)."""

    mu_Li_eV: float
    a_A: float
    structure: Any
    energy_eV: float
    converged: bool
    steps: int
    n_force_calls: int
    wall_s: float
    calculator: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Keys: mu_Li_eV, a_A, structure, energy_eV, n_atoms, converged, steps, n_force_calls, wall_s,
        calculator."""
        return {
            "mu_Li_eV": float(self.mu_Li_eV),
            "a_A": float(self.a_A),
            "structure": atoms_to_dict(self.structure),
            "energy_eV": float(self.energy_eV),
            "n_atoms": len(self.structure),
            "converged": bool(self.converged),
            "steps": int(self.steps),
            "n_force_calls": int(self.n_force_calls),
            "wall_s": float(self.wall_s),
            "calculator": dict(self.calculator),
        }
