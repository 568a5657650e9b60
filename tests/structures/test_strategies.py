"""Tests of the pure functions of sianode.structures.strategies against independent numbers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from ase.units import kB

from sianode.errors import InputError
from sianode.structures.strategies import (
    ArrangementStrategy,
    StrategyError,
    ensemble_weights,
    min_dopant_distance,
    parse_strategy,
)

from .structures_reference import A, diamond


def _brute_min_pair_distance(atoms, idx, reach=1):
    pos = atoms.get_positions()[list(idx)]
    shifts = np.array(list(itertools.product(range(-reach, reach + 1), repeat=3))) @ atoms.cell.array
    best = math.inf
    for a, b in itertools.combinations(range(len(idx)), 2):
        best = min(best, np.linalg.norm(pos[b] - pos[a] + shifts, axis=1).min())
    return best


def test_min_dopant_distance_vs_brute_force(si64):
    rng = np.random.default_rng(5)
    for _ in range(10):
        idx = rng.choice(len(si64), size=4, replace=False)
        assert min_dopant_distance(si64, idx) == pytest.approx(_brute_min_pair_distance(si64, idx), abs=1e-9)


def test_min_dopant_distance_nearest_neighbours_and_few_dopants():
    atoms = diamond((1, 1, 1))
    frac = atoms.get_scaled_positions()
    i = int(np.flatnonzero(np.all(np.abs(frac) < 1e-6, axis=1))[0])
    j = int(np.flatnonzero(np.all(np.abs(frac - 0.25) < 1e-6, axis=1))[0])
    # Si at (0,0,0) and (1/4,1/4,1/4): nearest neighbours, sqrt(3)/4 a apart
    assert min_dopant_distance(atoms, [i, j]) == pytest.approx(math.sqrt(3) / 4 * A)
    assert min_dopant_distance(atoms, [3]) == math.inf
    assert min_dopant_distance(atoms, []) == math.inf


def test_weights_at_infinite_temperature_are_multiplicity_fractions():
    g = [3, 12, 1, 8]
    w = ensemble_weights(g)
    assert w.sum() == pytest.approx(1.0)
    assert np.allclose(w, np.array(g) / 24)


def test_boltzmann_weights_match_formula():
    g = np.array([2.0, 6.0, 4.0])
    e = np.array([-10.00, -9.95, -10.02])
    T = 500.0
    raw = g * np.exp(-e / (kB * T))  # unshifted Boltzmann factors, normalised independently
    w = ensemble_weights(g, e, T)
    assert w.sum() == pytest.approx(1.0)
    assert np.allclose(w, raw / raw.sum(), rtol=1e-12)


def test_zero_temperature_keeps_ground_state_classes():
    w = ensemble_weights([2, 6, 4], [-1.0, -1.0, -0.5], 0.0)
    assert np.allclose(w, [0.25, 0.75, 0.0])


def test_huge_energy_spread_does_not_overflow():
    w = ensemble_weights([1, 1], [0.0, -100.0], 1.0)
    assert np.all(np.isfinite(w)) and w[1] == pytest.approx(1.0)


@pytest.mark.parametrize("args", [
    ([],),
    ([1, 0],),
    ([1, 2], None, 300.0),
    ([1, 2], [0.0], 300.0),
    ([1, 2], [0.0, float("nan")], 300.0),
])
def test_ensemble_weights_rejects(args):
    with pytest.raises(InputError):
        ensemble_weights(*args)


@pytest.mark.parametrize("value", [
    "dispersed", "compact", "sqs", {"compact": 3}, {"classes": [2, 0]},
    {"ensemble": {"max": 4, "temperature_K": "inf"}},
    {"ensemble": {"max": 2, "temperature_K": 600.0, "seed": 7, "samples": 50}},
    {"sqs": {"steps": 100, "seed": 3}},
])
def test_parse_strategy_round_trips_as_dict(value):
    s = parse_strategy(value)
    assert parse_strategy(s.as_dict()) == s


def test_parse_strategy_details():
    assert parse_strategy(None) == ArrangementStrategy()
    assert parse_strategy({"classes": [3, 1, 3]}).classes == (3, 1)
    s = parse_strategy({"ensemble": {"max": 2, "temperature_K": 300}})
    assert s.finite_temperature and s.weight_source == "boltzmann T=300 K"
    assert parse_strategy({"ensemble": {"max": 2}}).weight_source == "multiplicity"


@pytest.mark.parametrize("value", [
    "random", {"compact": 0}, {"compact": True}, {"classes": []}, {"classes": [-1]},
    {"ensemble": {"temperature_K": 300}}, {"ensemble": {"max": 1, "temperature_K": -1}},
    {"ensemble": {"max": 1, "bogus": 1}}, {"a": 1, "b": 2}, {"sqs": {"seed": -1}},
])
def test_parse_strategy_rejects(value):
    with pytest.raises(StrategyError):
        parse_strategy(value)
