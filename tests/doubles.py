"""Shared test doubles (import with ``from tests.doubles import FailingCalculator``).

:class:`FailingCalculator` is an ASE calculator that fails the way a real one can, and has
the ``identity()`` / ``provenance()`` / ``check_elements()`` of a
:class:`~sianode.calculators.CalculatorSpec`, so the store-backed steps accept it in place
of a registry calculator. Before it fails (``after`` calls) it answers with a flat
potential: energy 0, forces 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from sianode.errors import CalculationFailed

#: how a :class:`FailingCalculator` fails
MODES = ("nan", "inf", "raise", "crash")


class FailingCalculator(Calculator):
    """A calculator that fails after ``after`` successful evaluations.

    Parameters
    ----------
    mode : str
        ``"nan"``: NaN energy and forces; ``"inf"``: infinite energy; ``"raise"``: raises
        :class:`~sianode.errors.CalculationFailed` (a failure the store records);
        ``"crash"``: raises ``RuntimeError`` (a bug: recorded, then re-raised).
    after : int
        Successful (flat-potential) evaluations before the first failure.
    name : str
        Registry-like name in ``identity()`` and ``provenance()``.

    Attributes
    ----------
    n_calls : int
        Evaluations so far (failed ones included).
    """

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, mode: str = "nan", after: int = 0, name: str = "test-failing", **kwargs: Any) -> None:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {MODES}")
        super().__init__(**kwargs)
        self.mode, self.after, self.calc_name = mode, int(after), name
        self.n_calls = 0

    def calculate(self, atoms: Any = None, properties: Any = None, system_changes: Any = all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        self.n_calls += 1
        n = len(self.atoms)
        if self.n_calls <= self.after:
            self.results = {"energy": 0.0, "free_energy": 0.0, "forces": np.zeros((n, 3))}
            return
        if self.mode == "raise":
            raise CalculationFailed(f"{self.calc_name} failed on call {self.n_calls} (as asked)")
        if self.mode == "crash":
            raise RuntimeError(f"{self.calc_name} crashed on call {self.n_calls} (as asked)")
        bad = float("nan") if self.mode == "nan" else float("inf")
        self.results = {"energy": bad, "free_energy": bad, "forces": np.full((n, 3), bad)}

    # ------------------------------------------------- CalculatorSpec protocol
    def identity(self) -> dict[str, Any]:
        return {"name": self.calc_name, "model": self.calc_name, "weights_sha256": None,
                "parameters": {"mode": self.mode, "after": self.after}}

    def provenance(self) -> dict[str, Any]:
        return {"calculator": self.calc_name, "model": self.calc_name, "weights_sha256": None,
                "parameters": {"mode": self.mode, "after": self.after}, "device": "cpu", "threads": 1,
                "not_physics": True}

    def check_elements(self, atoms: Any) -> None:
        return None

    def make(self) -> "FailingCalculator":
        return self
