"""Fixtures and tiny analytic calculators for the calculator tests."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes

from tests.doubles import FailingCalculator


class CurvedDoubleWell(Calculator):
    """One atom in V(x, y, z) = E0 (1 - x^2/a^2)^2 + k/2 (y - c (x^2 - a^2))^2 + k/2 z^2.

    Minima at (+-a, 0, 0); the minimum-energy path follows the parabola y = c (x^2 - a^2)
    and its saddle is (0, -c a^2, 0) with energy exactly E0 above the minima.
    """

    implemented_properties = ["energy", "free_energy", "forces"]
    default_parameters = {"E0": 0.7, "a": 1.5, "c": 0.4, "k": 4.0}

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        Calculator.calculate(self, atoms, properties, system_changes)
        p = self.parameters
        x, y, z = self.atoms.positions[0]
        u = 1 - x * x / p["a"] ** 2
        w = y - p["c"] * (x * x - p["a"] ** 2)
        e = p["E0"] * u * u + 0.5 * p["k"] * (w * w + z * z)
        dx = p["E0"] * 2 * u * (-2 * x / p["a"] ** 2) + p["k"] * w * (-2 * p["c"] * x)
        forces = np.zeros((len(self.atoms), 3))
        forces[0] = [-dx, -p["k"] * w, -p["k"] * z]
        self.results = {"energy": e, "free_energy": e, "forces": forces}


class Downhill(Calculator):
    """V = -x for atom 0: no barrier between any two points."""

    implemented_properties = ["energy", "free_energy", "forces"]

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        Calculator.calculate(self, atoms, properties, system_changes)
        e = -float(self.atoms.positions[0, 0]) + 0.5 * float((self.atoms.positions[0, 1:] ** 2).sum())
        forces = np.zeros((len(self.atoms), 3))
        forces[0] = [1.0, -self.atoms.positions[0, 1], -self.atoms.positions[0, 2]]
        self.results = {"energy": e, "free_energy": e, "forces": forces}


def NaNCalculator() -> FailingCalculator:  # noqa: N802 - stands for the class it replaced
    """NaN energy and forces from the first call (the shared test double)."""
    return FailingCalculator("nan")


@pytest.fixture
def si8_rattled():
    from ase.build import bulk

    atoms = bulk("Si", "diamond", a=5.35, cubic=True)
    atoms.rattle(0.05, seed=7)
    return atoms


@pytest.fixture
def no_network(monkeypatch):
    """Forbid sockets; returns the list of attempted connections (must stay empty)."""
    import socket

    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network forbidden in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def analytic():
    """The analytic test calculators, as a namespace."""
    from types import SimpleNamespace

    return SimpleNamespace(CurvedDoubleWell=CurvedDoubleWell, Downhill=Downhill, NaNCalculator=NaNCalculator)
