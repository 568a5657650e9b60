"""Tests of the diamond T-site network: site counts and hop lengths checked by brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sianode.transport.diamond import (
    SI_BASIS_Q,
    T_BASIS_Q,
    cells_tuple,
    diamond_t_network,
    lattice_points_q,
    site_lookup,
)
from sianode.transport.network import NetworkError

A = 5.43


@pytest.mark.parametrize("cells", [1, (2, 1, 3), (2, 2, 2)])
def test_counts_of_sites_and_hops(cells):
    net = diamond_t_network(cells, A, saddle_energy_eV=0.58)
    n_cells = int(np.prod(cells_tuple(cells)))
    assert len(net.frac) == 8 * n_cells
    assert len(net.i) == 16 * n_cells  # z = 4 per site, each hop counted once


@pytest.mark.parametrize("cells", [(1, 1, 1), (2, 1, 3)])
def test_hop_lengths_are_sqrt3_over_4_a(cells):
    net = diamond_t_network(cells, A, saddle_energy_eV=0.58)
    cell = np.asarray(net.cell_A)
    vec = (net.frac[net.j] + net.image - net.frac[net.i]) @ cell
    assert np.allclose(np.linalg.norm(vec, axis=1), math.sqrt(3) / 4 * A)


def test_each_site_has_four_neighbours():
    net = diamond_t_network(2, A, saddle_energy_eV=0.58)
    deg = np.bincount(np.concatenate([net.i, net.j]), minlength=len(net.frac))
    assert np.all(deg == 4)


def test_brute_force_nearest_t_distance():
    # All T sites of a 2x2x2 cell, minimum-image distances by brute force over images.
    cells = (2, 2, 2)
    q = lattice_points_q(cells, T_BASIS_Q) * (A / 4)
    L = 2 * A
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3))) * L
    d = np.linalg.norm(q[:, None, None, :] - q[None, :, None, :] + shifts[None, None], axis=-1).min(axis=2)
    np.fill_diagonal(d, np.inf)
    assert d.min() == pytest.approx(math.sqrt(3) / 4 * A)
    # each T site has exactly 4 T sites at that distance
    assert np.all((np.abs(d - math.sqrt(3) / 4 * A) < 1e-9).sum(axis=1) == 4)


def test_si_and_t_sites_are_distinct_and_unique():
    cells = (1, 2, 1)
    t = lattice_points_q(cells, T_BASIS_Q)
    si = lattice_points_q(cells, SI_BASIS_Q)
    assert len({tuple(x) for x in t}) == 8 * 2
    assert len({tuple(x) for x in si}) == 8 * 2
    assert not ({tuple(x) for x in t} & {tuple(x) for x in si})


def test_site_lookup_inverts_positions():
    cells = (2, 1, 1)
    q = lattice_points_q(cells, T_BASIS_Q)
    grid = site_lookup(q, cells)
    assert np.array_equal(grid[q[:, 0] % 8, q[:, 1] % 4, q[:, 2] % 4], np.arange(len(q)))
    assert (grid >= 0).sum() == len(q)


@pytest.mark.parametrize("bad", [0, (1, 2), (1, -1, 1), True])
def test_cells_tuple_rejects(bad):
    with pytest.raises(NetworkError):
        cells_tuple((bad, 1, 1) if bad is True else bad)


def test_rejects_bad_lattice_constant():
    with pytest.raises(NetworkError):
        diamond_t_network(1, -1.0, saddle_energy_eV=0.5)
