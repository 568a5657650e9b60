from __future__ import annotations

import math

import numpy as np
import pytest

from sianode.errors import InputError
from sianode.structures import ArrangementSet, enumerate_arrangements, pure_supercell

from .structures_reference import brute_orbits, brute_perms, diamond


@pytest.mark.parametrize(
    "reps,k",
    [
        ((1, 1, 1), 2),
        ((1, 1, 1), 3),
        ((1, 1, 1), 4),
        ((2, 1, 1), 2),
        ((2, 1, 1), 3),
        ((2, 1, 1), 4),
        ((2, 1, 1), 5),
        ((2, 2, 1), 3),
    ],
)
def test_fast_path_matches_brute_force(reps, k):
    atoms = diamond(reps)
    expected = brute_orbits(brute_perms(atoms), len(atoms), k)
    got = enumerate_arrangements(atoms, k)
    assert got.exact
    assert sorted(c.multiplicity for c in got) == expected
    assert got.total_multiplicity == math.comb(len(atoms), k)


def test_two_dopants_in_64_site_cell(si64):
    got = enumerate_arrangements(si64, 2)
    assert isinstance(got, ArrangementSet)
    assert len(got) == 9
    assert got.total_multiplicity == 2016 == math.comb(64, 2)
    assert sorted(c.multiplicity for c in got) == brute_orbits(brute_perms(si64), 64, 2)


def test_representatives_have_their_multiplicity(si64):
    perms = brute_perms(si64)
    for cls in enumerate_arrangements(si64, 2):
        images = {tuple(sorted(p[list(cls.dopant_indices)])) for p in perms}
        assert len(images) == cls.multiplicity


def test_order_most_compact_first(si64):
    got = enumerate_arrangements(si64, 2)
    d = [si64.get_distance(*c.dopant_indices, mic=True) for c in got]
    assert d == sorted(d)
    assert d[0] == pytest.approx(np.sqrt(3) / 4 * 5.431)
    assert [c.id for c in got] == list(range(len(got)))


def test_large_enumeration_is_a_reproducible_sample():
    a = enumerate_arrangements(4, 6, n_samples=60, seed=3)
    b = enumerate_arrangements(4, 6, n_samples=60, seed=3)
    assert not a.exact and a.seed == 3
    assert a.as_dict() == b.as_dict()
    assert all(c.multiplicity <= 12288 for c in a)


def test_one_dopant_one_class():
    got = enumerate_arrangements(pure_supercell(3), 1)
    assert len(got) == 1 and got[0].multiplicity == 216


@pytest.mark.parametrize("k", [0, 65])
def test_bad_count(si64, k):
    with pytest.raises(InputError, match=f"n_dopants={k}"):
        enumerate_arrangements(si64, k)


def test_non_si_sites_rejected(si64):
    si64[7].symbol = "Ge"
    with pytest.raises(InputError, match=r"\[7\]"):
        enumerate_arrangements(si64, 2, sites=[3, 7])
    # default candidates skip the Ge atom
    got = enumerate_arrangements(si64, 1)
    assert got.n_sites == 63 and got.total_multiplicity == 63
