"""Round trip of atoms_to_dict / atoms_from_dict / as_ase."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from sianode.structures.serialize import as_ase, atoms_from_dict, atoms_to_dict


def _sample():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.append("Li")
    atoms.positions[-1] = [1.3575, 1.3575, 4.0725]
    atoms.positions += np.random.default_rng(0).normal(scale=0.01, size=atoms.positions.shape)
    atoms.pbc = [True, True, False]
    return atoms


def test_round_trip_is_exact_through_json():
    atoms = _sample()
    data = json.loads(json.dumps(atoms_to_dict(atoms)))
    back = atoms_from_dict(data)
    assert back.get_chemical_symbols() == atoms.get_chemical_symbols()
    assert np.array_equal(back.get_positions(), atoms.get_positions())
    assert np.array_equal(back.cell.array, atoms.cell.array)
    assert list(back.pbc) == [True, True, False]


def test_dict_is_plain_python():
    data = atoms_to_dict(_sample())
    assert set(data) == {"symbols", "positions", "cell", "pbc"}
    assert all(type(x) is float for row in data["positions"] for x in row)
    assert all(type(p) is bool for p in data["pbc"])
    assert len(data["symbols"]) == 9


def test_as_ase_accepts_atoms_and_dict():
    atoms = _sample()
    assert as_ase(atoms) is atoms
    assert np.array_equal(as_ase(atoms_to_dict(atoms)).positions, atoms.positions)


def test_as_ase_rejects_other_types():
    with pytest.raises(TypeError):
        as_ase([1, 2, 3])


def test_missing_pbc_defaults_to_periodic():
    data = atoms_to_dict(Atoms("H", positions=[[0, 0, 0]], cell=[2, 2, 2]))
    del data["pbc"]
    assert list(atoms_from_dict(data).pbc) == [True, True, True]
