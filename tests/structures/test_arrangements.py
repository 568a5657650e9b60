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


# ------------------------------------------------------------------ strategies
def _brute_min_distances(atoms, k):
    """Independent: every symmetry class of k sites by brute force, with its minimum-image
    minimum dopant distance (ASE's own get_distance(mic=True)) and orbit size."""
    import itertools

    perms = brute_perms(atoms)
    sets = np.array(list(itertools.combinations(range(len(atoms)), k)))
    images = np.sort(perms[:, sets], axis=2)
    codes = images @ (len(atoms) ** np.arange(k - 1, -1, -1))
    canon = codes.min(axis=0)
    out = {}
    for s, c in zip(sets, canon):
        if c not in out:
            d = min(atoms.get_distance(int(i), int(j), mic=True) for i, j in itertools.combinations(s, 2))
            out[c] = [d, 0]
        out[c][1] += 1
    return list(out.values())  # [(min distance, multiplicity)]


def test_dispersed_two_dopants_in_64_sites_is_the_farthest_class(si64):
    from sianode.structures import min_dopant_distance, select_arrangements

    (cls,) = select_arrangements(si64, 2, "dispersed")
    d = si64.get_distance(*cls.dopant_indices, mic=True)
    nn = np.sqrt(3) / 4 * 5.431
    assert d > nn + 0.1  # not the nearest-neighbour pair
    brute = _brute_min_distances(si64, 2)
    assert len(brute) == 9
    d_max = max(b[0] for b in brute)
    assert d == pytest.approx(d_max) == pytest.approx(min_dopant_distance(si64, cls.dopant_indices))
    # ties at the largest distance are broken by the largest multiplicity
    assert cls.multiplicity == max(m for dist, m in brute if abs(dist - d_max) < 1e-4)
    # its share of the ideal random alloy: g / C(64, 2)
    assert cls.weight == pytest.approx(cls.multiplicity / 2016) and cls.weight_source == "multiplicity"


def test_dispersed_four_dopants_maximises_the_minimum_distance(si64):
    from sianode.structures import min_dopant_distance, select_arrangements

    classes = enumerate_arrangements(si64, 4)
    (cls,) = select_arrangements(si64, 4, "dispersed", arrangements=classes)
    # independent of min_dopant_distance: every pair through ASE
    dmin = [min(si64.get_distance(i, j, mic=True) for i, j in itertools_pairs(c.dopant_indices)) for c in classes]
    assert min_dopant_distance(si64, cls.dopant_indices) == pytest.approx(max(dmin))
    assert cls.id != 0


def itertools_pairs(idx):
    import itertools

    return itertools.combinations([int(i) for i in idx], 2)


def test_compact_and_named_classes(si64):
    from sianode.structures import select_arrangements

    classes = enumerate_arrangements(si64, 2)
    (compact,) = select_arrangements(si64, 2, "compact", arrangements=classes)
    assert compact.id == 0 and si64.get_distance(*compact.dopant_indices, mic=True) == pytest.approx(
        np.sqrt(3) / 4 * 5.431)
    two = select_arrangements(si64, 2, {"classes": [3, 1]}, arrangements=classes)
    assert [c.id for c in two] == [3, 1]
    g = np.array([classes[3].multiplicity, classes[1].multiplicity])
    np.testing.assert_allclose([c.weight for c in two], g / math.comb(64, 2))
    assert [c.id for c in select_arrangements(si64, 2, {"compact": 3}, arrangements=classes)] == [0, 1, 2]


def test_ensemble_weights_at_infinite_temperature_are_multiplicity_over_binomial(si64):
    from sianode.structures import ensemble_weights

    for k in (2, 3):
        g = [c.multiplicity for c in enumerate_arrangements(si64, k)]
        w = ensemble_weights(g)
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(w, np.array(g) / math.comb(64, k), rtol=1e-12)
        energies = np.linspace(0.0, 1.0, len(g))
        np.testing.assert_allclose(ensemble_weights(g, energies, math.inf), w, rtol=1e-12)
        np.testing.assert_allclose(ensemble_weights(g, energies, "inf"), w, rtol=1e-12)


def test_ensemble_weights_boltzmann():
    from sianode.structures import ensemble_weights

    k_b = 8.617333262e-5  # eV/K, CODATA 2018 (independent of ase.units)
    g = np.array([128, 384, 96])
    e = np.array([-10.0, -9.95, -9.90])
    for t in (300.0, 1200.0):
        ref = g * np.exp(-(e - e.min()) / (k_b * t))
        np.testing.assert_allclose(ensemble_weights(g, e, t), ref / ref.sum(), rtol=1e-5)  # ASE's kB: CODATA 2014
    assert ensemble_weights(g, e, 1200.0).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ensemble_weights(g, e, 0.0), [1.0, 0.0, 0.0])  # ground state only
    np.testing.assert_allclose(ensemble_weights(g, e, 1e12), g / g.sum(), rtol=1e-6)  # T -> inf limit
    np.testing.assert_allclose(ensemble_weights(g, e + 1e4, 300.0), ensemble_weights(g, e, 300.0))  # no overflow


def test_ensemble_selection_keeps_the_heaviest_classes(si64):
    from sianode.structures import select_arrangements

    classes = enumerate_arrangements(si64, 2)
    chosen = select_arrangements(si64, 2, {"ensemble": {"max": 3, "temperature_K": "inf"}}, arrangements=classes)
    assert len(chosen) == 3
    heaviest = sorted((c.multiplicity for c in classes), reverse=True)[:3]
    assert [c.multiplicity for c in chosen] == heaviest
    assert all(c.weight == pytest.approx(c.multiplicity / 2016) for c in chosen)
    # a finite temperature with energies: the low-energy class wins even with a smaller multiplicity
    energies = {c.id: (0.0 if c.id == 8 else 1.0) for c in classes}
    (best,) = select_arrangements(si64, 2, {"ensemble": {"max": 1, "temperature_K": 300}}, energies_eV=energies,
                                  arrangements=classes)
    assert best.id == 8 and best.weight_source == "boltzmann T=300 K"


BAD_STRATEGIES = [
    ("nonsense", ["'nonsense'", "does not exist", "allowed: dispersed, compact"]),
    ({"ensemble": {"max": 0}}, ["ensemble.max = 0", "integer >= 1"]),
    ({"ensemble": {"max": 2, "temperature_K": -5}}, ["ensemble.temperature_K = -5", ">= 0 (K) or inf"]),
    ({"ensemble": {"max": 2, "temp": 5}}, ["ensemble.temp", "max, temperature_K"]),
    ({"dispersed": 0}, ["dispersed = 0", ">= 1"]),
    ({"classes": [-1]}, ["classes = [-1]", "class ids"]),
]


@pytest.mark.parametrize("value, needles", BAD_STRATEGIES, ids=[str(b[0]) for b in BAD_STRATEGIES])
def test_bad_strategy_one_line(si64, value, needles):
    from sianode.structures import select_arrangements

    with pytest.raises(InputError) as err:
        select_arrangements(si64, 2, value)
    msg = str(err.value)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, msg


def test_class_id_that_does_not_exist(si64):
    from sianode.structures import select_arrangements

    with pytest.raises(InputError, match=r"class id 9 does not exist for 2 dopants in 64 sites: allowed class ids 0-8"):
        select_arrangements(si64, 2, {"classes": [2, 9]})


def test_finite_temperature_needs_energies(si64):
    from sianode.structures import ensemble_weights, select_arrangements

    with pytest.raises(InputError, match="temperature_K = 300 needs"):
        ensemble_weights([1, 2], temperature_K=300)
    with pytest.raises(InputError, match="needs the relaxed host energy"):
        select_arrangements(si64, 2, {"ensemble": {"max": 1, "temperature_K": 300}})


def test_strategy_round_trip():
    from sianode.structures import parse_strategy

    for value in ("dispersed", "compact", {"compact": 3}, {"classes": [4, 1]}, "sqs",
                  {"ensemble": {"max": 4, "temperature_K": "inf"}}, {"ensemble": {"max": 2, "temperature_K": 900.0}}):
        s = parse_strategy(value)
        assert parse_strategy(s.as_dict()) == s
    assert parse_strategy({"ensemble": {"max": 2, "temperature_K": float("inf")}}).as_dict() == {
        "ensemble": {"max": 2, "temperature_K": "inf"}}


def test_sqs_in_the_64_site_cell():
    pytest.importorskip("icet")
    from sianode.structures import min_dopant_distance, select_arrangements

    host = pure_supercell(2)
    (a,) = select_arrangements(host, 4, {"sqs": {"steps": 300, "seed": 1}})
    (b,) = select_arrangements(host, 4, {"sqs": {"steps": 300, "seed": 1}})
    assert a == b and a.id == -1 and a.weight_source == "sqs" and len(set(a.dopant_indices)) == 4
    # independent: dopant pairs in the first three diamond shells (z = 4, 12, 12) against the random
    # alloy's expectation N z / 2 x k (k - 1) / (N (N - 1)); the SQS is closer to it than the
    # compact and the dispersed classes
    shells = np.array([np.sqrt(3) / 4, np.sqrt(2) / 2, np.sqrt(11) / 4]) * 5.431
    expected = [64 * z / 2 * 4 * 3 / (64 * 63) for z in (4, 12, 12)]

    def deviation(idx):
        d = [host.get_distance(i, j, mic=True) for i, j in itertools_pairs(idx)]
        return sum(abs(sum(abs(x - r) < 0.05 for x in d) - e) for r, e in zip(shells, expected))

    others = [select_arrangements(host, 4, s)[0].dopant_indices for s in ("compact", "dispersed")]
    assert all(deviation(a.dopant_indices) < deviation(o) for o in others)
    assert min_dopant_distance(host, a.dopant_indices) > 2.0
    perms = brute_perms(host)
    images = {tuple(sorted(p[list(a.dopant_indices)])) for p in perms}
    assert a.multiplicity == len(images)
