"""Tests of sianode/transport/vineyard.py on an analytic potential energy surface."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.units import _amu, _e

from sianode.errors import InputError
from sianode.transport import vineyard_attempt_frequency

H_EV, B_A, KY_EV_A2, C_EV_A4, KZ_EV_A2 = 0.3, 1.2, 2.0, 0.8, 3.0


class DoubleWell(Calculator):
    """E = h (x^2/b^2 - 1)^2 + (ky + c x^2) y^2 / 2 + kz z^2 / 2 for atom ``index``; others do not count.

    Minima at x = +-b, saddle at x = 0. Hessians: at the minimum diag(8h/b^2, ky + c b^2, kz),
    at the saddle diag(-4h/b^2, ky, kz).
    """

    implemented_properties = ["energy", "forces"]

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        x, y, z = self.atoms.positions[self.index]
        u = x * x / B_A**2 - 1.0
        e = H_EV * u * u + 0.5 * (KY_EV_A2 + C_EV_A4 * x * x) * y * y + 0.5 * KZ_EV_A2 * z * z
        f = np.zeros((len(self.atoms), 3))
        f[self.index] = -np.array([
            4 * H_EV * u * x / B_A**2 + C_EV_A4 * x * y * y,
            (KY_EV_A2 + C_EV_A4 * x * x) * y,
            KZ_EV_A2 * z,
        ])
        self.results = {"energy": e, "forces": f}


def _structures():
    host = [[5.0, 5.0, 5.0], [7.0, 5.0, 5.0]]
    minimum = Atoms("SiLiSi", positions=[host[0], [B_A, 0.0, 0.0], host[1]], cell=[20, 20, 20])
    saddle = minimum.copy()
    saddle.positions[1] = [0.0, 0.0, 0.0]
    return minimum, saddle


def test_vineyard_equals_analytic_frequency_ratio():
    minimum, saddle = _structures()
    m = minimum.get_masses()[1] * _amu
    to_si = _e / 1e-20  # eV/A^2 -> J/m^2

    def nu(k_ev_a2):
        return np.sqrt(k_ev_a2 * to_si / m) / (2 * np.pi)

    expected = nu(8 * H_EV / B_A**2) * nu(KY_EV_A2 + C_EV_A4 * B_A**2) * nu(KZ_EV_A2) / (nu(KY_EV_A2) * nu(KZ_EV_A2))
    before = minimum.positions.copy()
    got = vineyard_attempt_frequency(minimum, saddle, 1, DoubleWell(1), delta_A=0.01)
    assert got == pytest.approx(expected, rel=1e-4)
    assert 1e12 < got < 1e14  # a light atom in a stiff well: THz
    np.testing.assert_array_equal(minimum.positions, before)  # inputs untouched


def test_vineyard_rejects_swapped_structures():
    minimum, saddle = _structures()
    with pytest.raises(InputError, match="not a minimum"):
        vineyard_attempt_frequency(saddle, minimum, 1, DoubleWell(1))
    with pytest.raises(InputError, match="not a first-order saddle"):
        vineyard_attempt_frequency(minimum, minimum, 1, DoubleWell(1))
    with pytest.raises(InputError, match="index"):
        vineyard_attempt_frequency(minimum, saddle, 9, DoubleWell(1))
