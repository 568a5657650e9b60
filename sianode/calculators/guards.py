"""Guards around every calculator call: too-close atoms, NaN/inf results, call counting.

:class:`GuardedCalculator` wraps any ASE calculator. Each real evaluation is counted
(``n_calls``), refused with :class:`~sianode.errors.CalculationFailed` when two atoms are
closer than :data:`MIN_DISTANCE_A`, and checked for non-finite energy, forces and stress.
Each wrapper has its own result cache, so one wrapper per NEB image can share one model.
:func:`evaluate_together` computes several wrappers' structures in one batched model call and
hands each wrapper its results (:meth:`GuardedCalculator.accept`), counted and checked the same way.
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

    def needs(self, atoms: Any) -> bool:
        """Whether energy and forces of ``atoms`` are not cached yet (a call would compute)."""
        return bool(self.calculation_required(atoms, ["energy", "forces"]))

    def accept(self, atoms: Any, results: dict[str, Any]) -> None:
        """Take results computed elsewhere (a batched call) as this wrapper's call for ``atoms``.

        Counted in ``n_calls`` and checked for non-finite values like :meth:`calculate`; the
        geometry must have been checked before computing (:func:`evaluate_together` does).
        """
        self.n_calls += 1
        results = dict(results)
        results["energy"] = float(np.asarray(results["energy"]).reshape(-1)[0])
        results.setdefault("free_energy", results["energy"])
        if atoms.cell.rank < 3:
            results.pop("stress", None)
        check_finite(results, self.label)
        self.atoms = atoms.copy()
        self.results = results


def evaluate_together(pairs: list[tuple[Any, GuardedCalculator]], batch: Any) -> int:
    """Compute every (atoms, wrapper) pair whose results are not cached, in one ``batch`` call.

    Parameters
    ----------
    pairs : list of (ase.Atoms, GuardedCalculator)
        Structures with their wrappers (one wrapper per structure).
    batch : callable or None
        ``batch(list_of_atoms) -> list_of_result_dicts`` (see
        :func:`sianode.calculators.batch.batch_evaluator`); None, or a single pending structure,
        leaves the work to the wrappers' own calls.

    Returns
    -------
    int
        Number of structures computed in the batched call (0 when none was made).
    """
    pending = [(atoms, wrapper) for atoms, wrapper in pairs if wrapper.needs(atoms)]
    if batch is None or len(pending) < 2:
        return 0
    for atoms, wrapper in pending:
        check_geometry(atoms, f"structure given to {wrapper.label}")
    copies = [atoms.copy() for atoms, _ in pending]
    try:
        results = batch(copies)
    except (CalculationFailed, InputError):
        raise
    except Exception as exc:
        raise CalculationFailed(f"{pending[0][1].label} failed in a batched call: {type(exc).__name__}: {exc}") from exc
    for (atoms, wrapper), result in zip(pending, results):
        wrapper.accept(atoms, result)
    return len(pending)
