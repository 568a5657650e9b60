"""Guards around every calculator call: too-close atoms, NaN/inf results, call counting.

:class:`GuardedCalculator` wraps any ASE calculator. Each real evaluation is counted
(``n_calls``), refused with :class:`~sianode.errors.CalculationFailed` when two atoms are
closer than :data:`MIN_DISTANCE_A`, and checked for non-finite energy, forces and stress.
Each wrapper has its own result cache, so one wrapper per NEB image can share one model.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from sianode.errors import CalculationFailed, InputError

logger = logging.getLogger(__name__)

#: atoms closer than this (Angstrom) are refused before computing.
MIN_DISTANCE_A = 0.5

#: the properties computed on every call (so a later stress request is not a second call).
_WANTED = ("energy", "forces", "stress")


def min_distance(atoms: Any) -> float:
    """Shortest interatomic distance in Angstrom (minimum image; inf for a single atom)."""
    from ase.neighborlist import neighbor_list

    if len(atoms) < 2 and not atoms.pbc.any():
        return float("inf")
    d = neighbor_list("d", atoms, MIN_DISTANCE_A)
    if len(d):
        return float(d.min())
    return float("inf")


def check_geometry(atoms: Any, label: str = "structure") -> None:
    """Raise :class:`CalculationFailed` if two atoms are closer than :data:`MIN_DISTANCE_A`."""
    from ase.neighborlist import neighbor_list

    if len(atoms) == 0:
        raise CalculationFailed(f"{label} has no atoms")
    if not np.all(np.isfinite(atoms.get_positions())):
        raise CalculationFailed(f"{label} has non-finite positions")
    i, j, d = neighbor_list("ijd", atoms, MIN_DISTANCE_A)
    if len(d):
        k = int(np.argmin(d))
        raise CalculationFailed(
            f"atoms {int(i[k])} ({atoms[int(i[k])].symbol}) and {int(j[k])} ({atoms[int(j[k])].symbol}) "
            f"of the {label} are {d[k]:.3f} A apart, closer than the allowed {MIN_DISTANCE_A} A")


def check_finite(results: dict[str, Any], label: str = "calculator") -> None:
    """Raise :class:`CalculationFailed` if energy, forces or stress contain NaN or inf."""
    for key in ("energy", "forces", "stress"):
        value = results.get(key)
        if value is None:
            continue
        arr = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(arr)):
            raise CalculationFailed(f"{label} returned a non-finite {key} ({'NaN' if np.isnan(arr).any() else 'inf'})")


class GuardedCalculator(Calculator):
    """Count, guard and cache the calls of an inner ASE calculator.

    Parameters
    ----------
    inner : ase.calculators.calculator.Calculator
        The real calculator; may be shared by several wrappers (its own cache is bypassed).
    label : str
        Name used in error messages.
    """

    def __init__(self, inner: Any, label: str | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.label = label or type(inner).__name__
        self.n_calls = 0
        props = list(getattr(inner, "implemented_properties", ["energy", "forces"]))
        if "free_energy" not in props and "energy" in props:
            props.append("free_energy")
        self.implemented_properties = props

    def calculate(self, atoms=None, properties=None, system_changes=all_changes) -> None:
        Calculator.calculate(self, atoms, properties, system_changes)
        check_geometry(self.atoms, f"structure given to {self.label}")
        wanted = [p for p in _WANTED if p in self.implemented_properties]
        if "stress" in wanted and self.atoms.cell.rank < 3:
            wanted.remove("stress")
        for p in properties or ():
            if p not in wanted:
                wanted.append(p)
        self.n_calls += 1
        atoms_in = self.atoms.copy()
        try:
            self.inner.calculate(atoms_in, wanted, all_changes)
        except (CalculationFailed, InputError):
            raise
        except Exception as exc:
            raise CalculationFailed(f"{self.label} failed: {type(exc).__name__}: {exc}") from exc
        results = {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
                   for k, v in self.inner.results.items()}
        if "energy" in results:
            results["energy"] = float(np.asarray(results["energy"]).reshape(-1)[0])
            results.setdefault("free_energy", results["energy"])
        check_finite(results, self.label)
        self.results = results
