"""Content keys: invariances and sensitivity."""

from __future__ import annotations

import numpy as np
from ase.build import bulk

from sianode.store.hashing import canonical_structure, content_key

CALC = {"name": "test", "model": "m", "weights_sha256": "0" * 64, "parameters": {}}


def _si64():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=1)
    return atoms


def test_lattice_translation_and_permutation_keep_the_key():
    atoms = _si64()
    key = content_key("relax", atoms, CALC, {"fmax": 0.05})
    moved = atoms.copy()
    moved.positions += atoms.cell[0] - 2 * atoms.cell[2]  # a lattice vector
    perm = np.random.default_rng(3).permutation(len(atoms))
    shuffled = moved[perm]
    assert content_key("relax", shuffled, CALC, {"fmax": 0.05}) == key


def test_small_change_changes_the_key():
    atoms = _si64()
    key = content_key("relax", atoms, CALC, {"fmax": 0.05})
    nudged = atoms.copy()
    nudged.positions[5, 1] += 1e-3
    assert content_key("relax", nudged, CALC, {"fmax": 0.05}) != key


def test_parameters_calculator_and_kind_are_part_of_the_key():
    atoms = _si64()
    key = content_key("relax", atoms, CALC, {"fmax": 0.05})
    assert content_key("relax", atoms, CALC, {"fmax": 0.01}) != key
    assert content_key("relax", atoms, {**CALC, "model": "other"}, {"fmax": 0.05}) != key
    assert content_key("single_point", atoms, CALC, {"fmax": 0.05}) != key
    # parameter order does not matter
    assert content_key("relax", atoms, CALC, {"a": 1, "b": 2}) == content_key("relax", atoms, CALC, {"b": 2, "a": 1})


def test_canonical_form_wraps_and_sorts():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    atoms.symbols[3] = "B"
    canon = canonical_structure(atoms)
    assert canon["symbols"] == sorted(canon["symbols"])
    frac = np.linalg.solve(np.array(canon["cell"]).T, np.array(canon["positions"]).T).T
    assert frac.min() >= 0 and frac.max() < 1
