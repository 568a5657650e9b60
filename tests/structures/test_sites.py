from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase.geometry import get_distances

from sianode.structures import SiteSet, doped_supercell, li_sites, pure_supercell

from .structures_reference import A, diamond

FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


def expected_t_sites(n):
    """T sites from the textbook: fcc + (1/2,1/2,1/2) and fcc + (3/4,3/4,3/4), per cell."""
    base = np.concatenate([FCC + 0.5, FCC + 0.75]) % 1.0
    cells = np.array(list(itertools.product(range(n), repeat=3)))
    return ((base[None, :, :] + cells[:, None, :]).reshape(-1, 3) / n) % 1.0


def same_points(a, b):
    d = a[:, None, :] - b[None, :, :]
    d -= np.round(d)
    match = np.all(np.abs(d) < 1e-6, axis=2)
    return np.all(match.sum(axis=1) == 1) and np.all(match.sum(axis=0) == 1)


def all_members(classes):
    return np.concatenate([c.members for c in classes])


def test_pure_64_cell(si64):
    sites = li_sites(si64)
    assert isinstance(sites, SiteSet)
    assert [(c.label, c.multiplicity, c.distance_to_dopant) for c in sites.T] == [("T1", 64, None)]
    assert [(c.label, c.multiplicity, c.distance_to_dopant) for c in sites.H] == [("H1", 128, None)]
    assert same_points(all_members(sites.T), expected_t_sites(2))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_eight_t_sites_per_conventional_cell(n):
    sites = li_sites(diamond((n, n, n)))
    assert sum(c.multiplicity for c in sites.T) == 8 * n**3
    assert sum(c.multiplicity for c in sites.H) == 16 * n**3


def test_t_neighbours_and_h_rings(si64):
    sites = li_sites(si64)
    cell = si64.cell
    t_cart = all_members(sites.T) @ cell[:]
    _, d = get_distances(t_cart, t_cart, cell=cell, pbc=True)
    d_tt = np.sqrt(3) / 4 * A
    assert d_tt == pytest.approx(2.3517, abs=1e-4)
    assert np.all(np.sum(np.abs(d - d_tt) < 1e-6, axis=1) == 4)  # z = 4
    h_cart = all_members(sites.H) @ cell[:]
    _, dh = get_distances(h_cart, si64.positions, cell=cell, pbc=True)
    ring = np.sqrt(11) / 8 * A  # centre of the 6-Si ring
    assert np.all(np.sum(np.abs(dh - ring) < 1e-6, axis=1) == 6)
    assert np.all(dh.min(axis=1) > ring - 1e-6)
    _, dht = get_distances(h_cart, t_cart, cell=cell, pbc=True)
    assert np.all(np.sum(np.abs(dht - d_tt / 2) < 1e-6, axis=1) == 2)  # midpoint of a T-T pair


def test_one_dopant_64_cell_classes():
    cell = doped_supercell("B", count=1, supercell=2)
    sites = li_sites(cell.atoms, cell.dopant_indices)
    assert len(sites.T) == 9
    assert sorted(c.multiplicity for c in sites.T) == sorted([4, 6, 4, 12, 4, 12, 12, 4, 6])
    assert len(sites.H) == 10
    assert sum(c.multiplicity for c in sites.H) == 128
    assert [c.label for c in sites.T] == [f"T{i}" for i in range(1, 10)]
    dist = [c.distance_to_dopant for c in sites.T]
    assert dist == sorted(dist)
    assert dist[0] == pytest.approx(np.sqrt(3) / 4 * A)  # T next to the dopant
    # distances checked independently from the members
    dpos = cell.atoms.positions[list(cell.dopant_indices)]
    for c in sites.T + sites.H:
        _, d = get_distances(c.members @ cell.atoms.cell[:], dpos, cell=cell.atoms.cell, pbc=True)
        assert np.allclose(d.min(axis=1), c.distance_to_dopant, atol=1e-5)
        assert np.allclose(c.cart, c.frac @ cell.atoms.cell[:])
    assert same_points(all_members(sites.T), expected_t_sites(2))


def test_dopant_indices_on_pure_cell_equal_doped(si64):
    a = li_sites(si64, dopant_indices=[0])
    b = li_sites(doped_supercell("P", count=1, supercell=2, arrangement=[0]))
    def key(s):
        return [(c.multiplicity, c.distance_to_dopant) for c in s.T + s.H]

    assert key(a) == key(b)


def test_other_lattice_constant_and_shape():
    sites = li_sites(pure_supercell((2, 1, 1), a=5.6))
    assert sum(c.multiplicity for c in sites.T) == 16
    assert sum(c.multiplicity for c in sites.H) == 32


def test_as_dict_is_json(si64):
    import json

    json.dumps(li_sites(si64, [0]).as_dict(members=True))


def test_overlapping_atoms_rejected(si64):
    from sianode.errors import InputError

    si64.positions[5] = si64.positions[4] + 0.1
    with pytest.raises(InputError, match="apart"):
        li_sites(si64)
